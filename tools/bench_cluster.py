"""`make bench-cluster`: the NLP stage's parse on the local pool and on Ray, on the same
generated corpus, and Ray's fixed start-up cost. Prints a table.

Each backend parses the same documents into a fresh copy of one ingested warehouse (the
documents stage already run), through `parse_pending`, as the asset does:

- local: forked worker processes, one per core;
- ray (local cluster): SALVO_RAY_ADDRESS empty, so the stage starts a local Ray cluster
  and stops it; its time includes that;
- ray (two nodes): a two-node cluster (`ray.cluster_utils.Cluster`, one CPU each) started
  beforehand, which the stage connects to.

The fixed cost is measured on a one-document corpus: the stage's time minus the time that
one document takes the local pool. Needs the `cluster` group (`make bench-cluster`
installs it); `--documents N` sets the corpus size (default 1,000).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

# Every Ray process of the bench on the loopback address (read when Ray is imported).
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import documents, ledger, ray_parse, schema, warehouse  # noqa: E402
from pipeline import parse_backends as backends  # noqa: E402
from pipeline.nlp.pool import parse_pending  # noqa: E402
from pipeline.settings import spacy_model  # noqa: E402
from tests.cluster.corpus import write_corpus  # noqa: E402


def ingest(seeds: Path, working: Path) -> None:
    """seeds -> documents in a working database (the stages before the parse)."""

    @contextmanager
    def connect():
        con = warehouse.connect(working)
        try:
            schema.ensure_schema(con)
            yield con
        finally:
            con.close()

    ledger.reconcile(connect, seeds, False, lambda message: None)
    documents.clean_documents(connect, seeds, False, lambda message: None)


def parse(working: Path, backend: backends.ParseBackend) -> tuple[float, int, int]:
    """(seconds, documents, tokens) of one parse of every pending document."""

    @contextmanager
    def connect():
        con = warehouse.connect(working)
        try:
            yield con
        finally:
            con.close()

    started = time.perf_counter()
    run = parse_pending(connect, spacy_model(), "bench", lambda message: None, backend)
    return time.perf_counter() - started, run.documents, run.tokens


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1000)
    args = parser.parse_args()
    from ray.cluster_utils import Cluster

    root = Path(tempfile.mkdtemp(prefix="salvo-bench-cluster-"))
    rows: list[tuple[str, float, int, int]] = []
    try:
        corpora = {
            "corpus": write_corpus(root / "corpus", args.documents),
            "one": write_corpus(root / "one", 1, seed=7),
        }
        ingested = {}
        for name, folder in corpora.items():
            ingested[name] = root / f"{name}.duckdb"
            ingest(folder, ingested[name])

        def measure(label: str, corpus: str, backend: backends.ParseBackend) -> None:
            working = root / f"{label}-{corpus}.duckdb".replace(" ", "_")
            shutil.copy(ingested[corpus], working)
            seconds, docs, tokens = parse(working, backend)
            rows.append((f"{label} [{corpus}]", seconds, docs, tokens))
            print(f"  {label} [{corpus}]: {seconds:.1f} s", file=sys.stderr, flush=True)

        lake = str(root / "lake")
        for corpus in ("one", "corpus"):
            measure("local pool", corpus, backends.LocalPool())
            measure(
                "ray, local cluster",
                corpus,
                ray_parse.RayCluster(lake=lake, working=str(root / f"rl-{corpus}")),
            )
        started = time.perf_counter()
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        cluster_start = time.perf_counter() - started
        try:
            for corpus in ("one", "corpus"):
                measure(
                    "ray, two 1-CPU nodes",
                    corpus,
                    ray_parse.RayCluster(
                        address=cluster.address, lake=lake, working=str(root / f"rc-{corpus}")
                    ),
                )
        finally:
            cluster.shutdown()
    finally:
        shutil.rmtree(root, ignore_errors=True)

    by_label = {label: (seconds, docs, tokens) for label, seconds, docs, tokens in rows}
    print(f"\nNLP parse of {args.documents} generated documents (2 cores)")
    print(f"{'backend':<34} {'documents':>9} {'tokens':>8} {'seconds':>8} {'tokens/s':>9}")
    for label, seconds, docs, tokens in rows:
        print(f"{label:<34} {docs:>9} {tokens:>8} {seconds:>8.1f} {tokens / seconds:>9,.0f}")
    one_local = by_label["local pool [one]"][0]
    print("\nFixed start-up cost (one document, minus the local pool's time for it):")
    for label in ("ray, local cluster", "ray, two 1-CPU nodes"):
        print(f"  {label:<32} {by_label[f'{label} [one]'][0] - one_local:6.1f} s")
    print(f"  two-node cluster start (before the stage, not included above): {cluster_start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
