"""The Ray backend against the local pool: a two-node local Ray cluster (two 1-CPU nodes,
ray.cluster_utils) parses the seeds and a generated 200-document corpus, and every table
of the published warehouse is the same as after a run with the local pool. Needs the
`cluster` dependency group (`make test-cluster`); skipped without it."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline import parse_backends as backends
from pipeline import warehouse
from pipeline.nlp.staging import BatchWriter
from tests.cluster.corpus import write_corpus
from tests.conftest import SEEDS, materialization_metadata, read_rows, run_pipeline
from tests.conftest import environment as shared_environment

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.slow

GENERATED_DOCUMENTS = 200
SETTINGS = ("SALVO_NLP_BACKEND", "SALVO_RAY_ADDRESS", "SALVO_RAY_ACTORS", "SALVO_LAKE")


def environment(**values: str):
    """The backend settings given, the others unset, for the duration of a block."""
    return shared_environment(values, cleared=SETTINGS)


@pytest.fixture(scope="module")
def cluster() -> Iterator[dict[str, str]]:
    """Two 1-CPU Ray nodes on this machine (loopback address), with a Ray Client server:
    the addresses to connect to directly and through Ray Client."""
    from ray.cluster_utils import Cluster

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        client_port = probe.getsockname()[1]
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "ray_client_server_port": client_port},
    )
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    try:
        yield {"direct": cluster.address, "client": f"ray://127.0.0.1:{client_port}"}
    finally:
        cluster.shutdown()


@pytest.fixture(scope="module")
def cluster_address(cluster: dict[str, str]) -> str:
    return cluster["direct"]


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("corpora")
    shutil.copytree(SEEDS, root / "seeds")
    return {
        "seeds": root / "seeds",
        "generated": write_corpus(root / "generated", GENERATED_DOCUMENTS),
    }


_local: dict[str, dict[str, tuple[int, str]]] = {}


def local_checksums(corpus: str, folder: Path, root: Path) -> dict[str, tuple[int, str]]:
    """Every table after a run with the local pool (once per corpus)."""
    if corpus not in _local:
        published = root / f"local-{corpus}" / "salvo.duckdb"
        with environment():
            assert run_pipeline(folder, published).success
        _local[corpus] = checksums(published)
    return _local[corpus]


def checksums(published: Path) -> dict[str, tuple[int, str]]:
    con = warehouse.connect(published, read_only=True)
    try:
        return warehouse.table_checksums(con)
    finally:
        con.close()


@pytest.mark.parametrize(
    ("corpus", "lake", "connection"),
    [
        # The seeds through a lake given as a URI (the object-store code path: files are
        # read back through pyarrow's filesystem), the corpus through a plain folder.
        ("seeds", "uri", "direct"),
        ("generated", "folder", "direct"),
        # Through Ray Client (ray://), as a Dagster run pod outside the cluster connects.
        ("seeds", "folder", "client"),
    ],
)
def test_ray_backend_publishes_the_same_tables_as_the_local_pool(
    corpus, lake, connection, corpora, cluster, tmp_path
):
    folder = corpora[corpus]
    expected = local_checksums(corpus, folder, tmp_path.parent)
    lake_path = tmp_path / "lake"
    lake_setting = lake_path.as_uri() if lake == "uri" else str(lake_path)
    published = tmp_path / "ray" / "salvo.duckdb"
    with environment(
        SALVO_NLP_BACKEND="ray",
        SALVO_RAY_ADDRESS=cluster[connection],
        SALVO_LAKE=lake_setting,
    ):
        result = run_pipeline(folder, published)
    assert result.success
    metadata = materialization_metadata(result, "sentences")
    assert metadata["parse_backend"] == "ray"
    documents = len(list(folder.glob("*.txt")))
    assert metadata["documents_parsed"] == documents
    if corpus == "generated":
        # Both nodes parsed: the input was cut so that every actor got files.
        assert metadata["worker_processes"] == 2
        assert metadata["parse_nodes"] == 2
    got = checksums(published)
    assert got == expected
    assert got["claims"][0] > 0 and got["nlp_runs"][0] == documents
    working = warehouse.working_path_for(published)
    assert list(backends.iter_lake(lake_setting, str(working))) == []


def test_a_failed_ray_stage_leaves_no_rows_and_no_files(
    corpora, cluster_address, tmp_path, monkeypatch
):
    folder = corpora["seeds"]
    published = tmp_path / "ray" / "salvo.duckdb"
    working = warehouse.working_path_for(published)
    lake = str(tmp_path / "lake")
    seen: list[Path] = []

    def fail(self, doc_ids, tokens, files, **counts):
        seen.extend(files.values())
        raise RuntimeError("the stage failed while the actors' files were being loaded")

    env = {"SALVO_NLP_BACKEND": "ray", "SALVO_RAY_ADDRESS": cluster_address, "SALVO_LAKE": lake}
    with environment(**env):
        with monkeypatch.context() as patch:
            patch.setattr(BatchWriter, "add_staged", fail)
            result = run_pipeline(folder, published)
        assert not result.success
        # The actors had written their files; none is left, and no row was written.
        assert seen and not any(path.exists() for path in seen)
        assert list(backends.iter_lake(lake, str(working))) == []
        for table in ("sentences", "entities", "claims", "nlp_runs"):
            assert read_rows(working, f"SELECT count(*) FROM {table}") == [(0,)], table
        # A run after it parses everything and publishes what the local pool does.
        assert run_pipeline(folder, published).success
    assert checksums(published) == local_checksums("seeds", folder, tmp_path.parent)
