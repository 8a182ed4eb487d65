"""The Ray parse backend: Ray Data actors, each with its own spaCy model, parse Parquet
files of (doc_id, clean_text) staged in the lake and write the rows as Parquet of the
tables' columns; the stage loads them through the same BatchWriter as the local pool. Ray is
imported only here (the `cluster` dependency group). See pipeline/parse_backends.py.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline import settings, warehouse
from pipeline.ledger import Connect
from pipeline.nlp.pool import parse_documents, read_texts
from pipeline.nlp.staging import ROW_TABLES, BatchWriter

if TYPE_CHECKING:
    import pyarrow as pa

from pipeline.parse_backends import _is_local, _warehouse_folder, lake_filesystem

# Characters of text per input file of the Ray backend, which is what one actor call
# parses: a quarter of an actor's share of the corpus, so that every actor gets work and
# the actors finish together, but at least MIN (under a second of parsing; a call also
# writes three files) and at most MAX.
MIN_FILE_CHARACTERS = 16_000
MAX_FILE_CHARACTERS = 4_000_000
FILES_PER_ACTOR = 4


# --- the Ray side ------------------------------------------------------------------------


class RayParser:
    """A Ray Data callable class: one spaCy model per actor, loaded in __init__, reads one
    input file of documents per call, parses them and writes their rows as one Parquet
    file per table in the run's lake folder. Returns one row naming the files, for the
    stage to load."""

    def __init__(self, model: str, version: str, lake: str, folder: str):
        from pipeline.nlp.language import build_nlp
        from pipeline.nlp.version import extractor_version, parse_mode_of

        build_nlp(model)
        # The worker's code, lexicon and model must be the ones the stage versions its rows
        # with: an image built from another commit would write rows under the wrong name.
        # The parse mode is the stage's (parse_documents reads it from the version).
        mine = extractor_version(model, parse=parse_mode_of(version))
        if mine != version:
            raise RuntimeError(
                f"this Ray worker extracts {mine}, the stage expects {version}: the cluster's "
                "image holds another version of Salvo, its lexicon or its model"
            )
        self.model, self.version, self.folder = model, version, folder
        self.filesystem, _ = lake_filesystem(lake)

    def __call__(self, batch: pa.Table) -> pa.Table:
        """Parse the input files `batch` names (one, as the stage cuts its batches)."""
        import pyarrow as pa

        calls = [self._parse_file(path) for path in batch.column("path").to_pylist()]
        return pa.Table.from_pylist(calls)

    def _parse_file(self, path: str) -> dict[str, Any]:
        import pyarrow.parquet as pq
        import ray

        from pipeline import schema

        started = time.process_time()
        documents = pq.read_table(path, filesystem=self.filesystem)
        doc_ids = documents.column("doc_id").to_pylist()
        texts = documents.column("clean_text").to_pylist()
        parsed = parse_documents(self.model, self.version, list(zip(doc_ids, texts, strict=True)))
        # A fresh name per call: a retried call writes new files, and the stage reads only
        # those that a finished call names.
        part = uuid.uuid4().hex
        rows = {}
        for table in ROW_TABLES:
            frame = schema.frame(table, parsed.columns[table])
            rows[table] = frame.height
            with self.filesystem.open_output_stream(f"{self.folder}/{table}/{part}.parquet") as out:
                frame.write_parquet(out, compression="lz4")
        return {
            "part": part,
            "doc_ids": doc_ids,
            "tokens": parsed.tokens,
            "sentences": (parsed.sentences, parsed.parsed_sentences),
            **{f"{table}_rows": rows[table] for table in ROW_TABLES},
            "cpu_seconds": time.process_time() - started,
            "node": ray.get_runtime_context().get_node_id(),
        }


# --- the stage's side --------------------------------------------------------------------


@dataclass(frozen=True)
class RayCluster:
    """The parse on a Ray cluster: a local one started for the stage when `address` is
    empty, otherwise the one at `address` (`auto`, `host:port`, `ray://host:port`)."""

    address: str = ""
    lake: str = ""
    working: str = ""
    actors: int = 0
    name: str = "ray"

    def parse(self, connect, todo, model, version, writer) -> None:
        # One writer at a time per warehouse (re-entrant: the run's ingest step took it):
        # whatever is in this warehouse's lake folder was left by a run that was killed.
        warehouse.acquire_writer_lock(self.working)
        filesystem, base = lake_filesystem(self.lake or settings.lake())
        runs = _warehouse_folder(base, self.working)
        filesystem.delete_dir_contents(runs, missing_dir_ok=True)
        folder = f"{runs}/{uuid.uuid4().hex}"
        try:
            with _ray_session(self.address, writer.log):
                # Connected first: the input is cut by the cluster's size.
                files = self._stage_input(connect, todo, filesystem, folder)
                self._run(files, model, version, writer, filesystem, folder)
        finally:
            if _exists(filesystem, folder):
                filesystem.delete_dir(folder)

    def _stage_input(
        self, connect: Connect, todo: list[tuple[str, int]], filesystem, folder: str
    ) -> list[str]:
        """The documents to parse as Parquet files of (doc_id, clean_text) in the run's
        folder, cut so that every actor gets several."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        characters = sum(size for _, size in todo)
        actors = self.actors or _cluster_cpus_hint()
        target = min(
            max(characters // max(actors * FILES_PER_ACTOR, 1), MIN_FILE_CHARACTERS),
            MAX_FILE_CHARACTERS,
        )
        filesystem.create_dir(f"{folder}/input")
        paths: list[str] = []

        def write(chunk: list[tuple[str, str]]) -> None:
            path = f"{folder}/input/{len(paths):06d}.parquet"
            ids, texts = zip(*chunk, strict=True)
            table = pa.table(
                {"doc_id": pa.array(ids, pa.string()), "clean_text": pa.array(texts, pa.string())}
            )
            pq.write_table(table, path, filesystem=filesystem, compression="lz4")
            paths.append(path)

        chunk: list[tuple[str, str]] = []
        size = 0
        for texts in read_texts(connect, [doc_id for doc_id, _ in todo]):
            for doc_id, text in texts:
                if chunk and size + len(text) > target:
                    write(chunk)
                    chunk, size = [], 0
                chunk.append((doc_id, text))
                size += len(text)
        if chunk:
            write(chunk)
        for table in ROW_TABLES:
            filesystem.create_dir(f"{folder}/{table}")
        return paths

    def _run(
        self,
        files: list[str],
        model: str,
        version: str,
        writer: BatchWriter,
        filesystem,
        folder: str,
    ) -> None:
        import ray

        cpus = int(ray.cluster_resources().get("CPU", 1))
        writer.workers = max(1, min(self.actors or cpus, len(files)))
        writer.parsers = "Ray actor(s)"
        writer.log(
            f"Ray: {len(files)} input files in {folder}, {writer.workers} parsing actors on "
            f"{len(ray.nodes())} node(s) with {cpus} CPUs"
        )
        parser_arguments = {
            "model": model,
            "version": version,
            "lake": self.lake or settings.lake(),
            "folder": folder,
        }
        if self.address.startswith("ray://"):
            calls = _calls_through_client(files, parser_arguments, writer.workers)
        else:
            calls = parsed_calls(files, parser_arguments, writer.workers)
        local = _is_local(filesystem)
        nodes: set[str] = set()
        for call in calls:
            files_of_call = {
                table: f"{folder}/{table}/{call['part']}.parquet" for table in ROW_TABLES
            }
            writer.cpu_seconds += call["cpu_seconds"]
            nodes.add(call["node"])
            writer.add_staged(
                call["doc_ids"],
                call["tokens"],
                {
                    table: Path(path) if local else _download(filesystem, path, writer)
                    for table, path in files_of_call.items()
                },
                sentences=call["sentences"],
            )
        writer.flush()
        writer.nodes = len(nodes)
        writer.log(f"Ray: parsed on {len(nodes)} node(s)")


def parsed_calls(
    files: list[str], parser_arguments: dict[str, str], actors: int
) -> Iterator[dict[str, Any]]:
    """Ray Data over the input files: RayParser on a pool of `actors` actors, one file per
    call; yields each call's row as it finishes. Runs where Ray Data can drive the cluster:
    in the stage's process, or inside the cluster for a Ray Client connection."""
    import pyarrow as pa
    import ray.data

    ray.data.DataContext.get_current().enable_progress_bars = False  # the stage logs
    # The actors read their input files themselves: a read_parquet stage would need a CPU
    # of its own for listing the files, and a cluster whose CPUs all hold actors would wait
    # for it forever.
    items = [{"path": path} for path in files]
    dataset = ray.data.from_items(items, override_num_blocks=len(files)).map_batches(
        RayParser,
        fn_constructor_kwargs=parser_arguments,
        # One input file per call, so that every actor gets files.
        batch_size=None,
        batch_format="pyarrow",
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=1,
    )
    for batch in dataset.iter_batches(batch_size=None, batch_format="pyarrow"):
        assert isinstance(batch, pa.Table)
        yield from batch.to_pylist()


class ClientCoordinator:
    """Ray Data's executor needs a driver that is part of the cluster, which a Ray Client
    (`ray://`) session is not: this actor (no CPU) runs `parsed_calls` inside the cluster in
    a thread, and the stage polls it for the finished calls."""

    def __init__(self, files: list[str], parser_arguments: dict[str, str], actors: int):
        import threading

        self.calls: list[dict[str, Any]] = []
        self.error: str | None = None
        self.done = False
        self.thread = threading.Thread(
            target=self._run, args=(files, parser_arguments, actors), daemon=True
        )
        self.thread.start()

    def _run(self, files, parser_arguments, actors) -> None:
        import traceback

        try:
            for call in parsed_calls(files, parser_arguments, actors):
                self.calls.append(call)
        except BaseException:
            self.error = traceback.format_exc()
        finally:
            self.done = True

    def poll(self) -> tuple[list[dict[str, Any]], bool, str | None]:
        done = self.done  # read before taking the calls: none is left behind
        calls, self.calls = self.calls, []
        return calls, done, self.error


def _calls_through_client(
    files: list[str], parser_arguments: dict[str, str], actors: int
) -> Iterator[dict[str, Any]]:
    import ray

    actor: Any = ray.remote(num_cpus=0)(ClientCoordinator)
    coordinator = actor.remote(files, parser_arguments, actors)
    try:
        while True:
            calls, done, error = ray.get(coordinator.poll.remote())
            yield from calls
            if error:
                raise RuntimeError(f"the parse failed in the Ray cluster:\n{error}")
            if done:
                return
            time.sleep(0.5)
    finally:
        ray.kill(coordinator)


def _download(filesystem, path: str, writer: BatchWriter) -> Path:
    """A lake file copied into the writer's local staging folder (DuckDB reads it there)."""
    target = writer.folder / f"ray-{Path(path).parent.name}-{Path(path).name}"
    with filesystem.open_input_stream(path) as source, open(target, "wb") as out:
        while chunk := source.read(1 << 20):
            out.write(chunk)
    return target


def _exists(filesystem, path: str) -> bool:
    import pyarrow.fs as pafs

    return filesystem.get_file_info(path).type != pafs.FileType.NotFound


def _cluster_cpus_hint() -> int:
    """The CPUs of the cluster Ray is connected to, else this machine's."""
    try:
        import ray

        if ray.is_initialized():
            return int(ray.cluster_resources().get("CPU", 1))
    except ImportError:
        pass
    return settings.cpu_count()


class _ray_session:
    """Ray for the length of a block: connected to `address`, or a local cluster started
    for the block (and stopped after it). A session someone else opened in this process
    (a test, a notebook) is used as it is and left open."""

    def __init__(self, address: str, log):
        self.address, self.log = address, log
        self.owned = False

    def __enter__(self) -> _ray_session:
        if not self.address:
            # A cluster of this machine only: every Ray process on the loopback address
            # (read when Ray is imported), not on the machine's network address.
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        try:
            import ray
        except ImportError as exc:
            raise RuntimeError(
                "SALVO_NLP_BACKEND=ray needs the `cluster` dependency group: "
                "`uv sync --group cluster` (SALVO_NLP_BACKEND=ray make run installs it)"
            ) from exc
        if ray.is_initialized():
            return self
        started = time.perf_counter()
        options: dict[str, Any] = {
            "include_dashboard": False,
            "logging_level": logging.WARNING,
            "log_to_driver": True,
        }
        if self.address:
            # The project's code travels with the run, so that the workers run exactly the
            # stage's version (the image still needs the dependencies and the model).
            options["runtime_env"] = {"py_modules": [str(settings.PROJECT_ROOT / "pipeline")]}
            ray.init(address=self.address, **options)
            what = f"connected to the Ray cluster at {self.address}"
        else:
            # A cluster of this machine's processes: the workers import the project from
            # its folder, as this process does.
            options["runtime_env"] = {"env_vars": {"PYTHONPATH": str(settings.PROJECT_ROOT)}}
            # "local": a new cluster even when one was started on this machine before.
            ray.init(address="local", num_cpus=settings.cpu_count(), **options)
            what = "started a local Ray cluster"
        self.owned = True
        self.log(f"Ray: {what} in {time.perf_counter() - started:.1f} s")
        return self

    def __exit__(self, *exc_info) -> None:
        if self.owned:
            import ray

            ray.shutdown()
