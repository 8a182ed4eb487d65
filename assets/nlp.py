"""NLP: one spaCy pass per document writes `sentences`, `entities` and `claims`.

The model is loaded once, only when there is something to parse. A large batch is parsed by
worker processes forked after the load (they share the loaded model), each taking a task of
whole documents and sending back plain rows; the parent only reads texts and writes rows, so
every core parses. Memory is bounded by the batches in flight, not by the corpus.
"""

import ctypes
import datetime as dt
import gc
import multiprocessing
import os
import resource
import shutil
import signal
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import polars as pl

from assets.metadata import table_metadata
from pipeline import warehouse
from pipeline.defs.resources import SalvoSettings, WorkingDuckDB
from pipeline.lifetime import long_lived
from pipeline.nlp.version import extractor_version

# Documents whose texts are read together, and whose rows wait in this process before they
# are staged on disk (about 35 MB of Python rows at 256): memory bounded whatever the
# corpus size, and small when a replacement worker is forked from this process.
BATCH_DOCUMENTS = 256
# Documents whose rows are written in one transaction (their rows wait on disk, staged as
# Parquet, not in memory). A write costs a checkpoint whatever its size, and its DuckDB
# buffers (about 100 MiB) add to the parent's memory; written while the workers parse, they
# add to the peak of the stage. So the rows of a corpus of up to 16,384 documents (about
# ten minutes of parsing on two cores) are written once, after the workers have exited: at
# 10k documents one write of 2.0M rows takes about 2.4 s, five writes of 2,048 documents
# 3.8 s and a peak 100-130 MiB higher. A larger corpus is committed in steps of this size,
# so a run that fails loses at most one step of parsing.
WRITE_DOCUMENTS = 16_384
# Characters of text per worker task (about 2 s of parsing on one core): small enough that
# the workers finish together, large enough that spaCy batches well and round trips are few.
# A longer document is a task of its own.
TASK_CHARACTERS = 48_000
# Tasks queued per worker beyond the one it parses: a worker never waits while the parent
# reads or writes a batch.
QUEUED_TASKS_PER_WORKER = 2
# Worker processes at most; fewer on a machine with fewer cores, and none (the parse runs
# in this process) when all the work fits in one task.
MAX_PROCESSES = 8
# A worker is replaced by a fresh fork of this process after this many tasks (about 2,000
# documents): spaCy's vocabulary keeps every new word and number it meets, so a worker
# living through a whole large corpus would grow with it. Not more often: that vocabulary
# is also spaCy's cache, and a young worker is slower (at 40 tasks, about 500 documents,
# the 10k peak fell by 5% and parsing slowed by 13%).
TASKS_PER_WORKER = 200
# Docs spaCy's models process together inside one task.
SPACY_BATCH = 64

NLP_TABLES = ("sentences", "entities", "claims", "nlp_runs")
ROW_TABLES = ("sentences", "entities", "claims")

SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "sentences": {"position": pl.Int32(), "start_char": pl.Int32(), "end_char": pl.Int32()},
    "entities": {"start_char": pl.Int32(), "end_char": pl.Int32()},
    "claims": {"quantity": pl.Float64(), "hedged": pl.Boolean(), "negated": pl.Boolean()},
    "nlp_runs": {"processed_at": pl.Datetime("us")},
}


def _frame(table: str, columns: dict[str, list]) -> pl.DataFrame:
    schema = {c: SCHEMAS[table].get(c, pl.String) for c in warehouse.columns_of(table)}
    return pl.DataFrame({c: columns.get(c, []) for c in schema}, schema=schema)


@dataclass
class ParsedRows:
    """Rows of the three tables for some documents, column by column (compact to send
    between processes)."""

    doc_ids: list[str] = field(default_factory=list)
    columns: dict[str, dict[str, list]] = field(
        default_factory=lambda: {t: {c: [] for c in warehouse.columns_of(t)} for t in ROW_TABLES}
    )
    tokens: int = 0

    def extend(self, other: "ParsedRows") -> None:
        self.doc_ids += other.doc_ids
        self.tokens += other.tokens
        for table, columns in other.columns.items():
            for name, values in columns.items():
                self.columns[table][name] += values

    def rows(self, table: str) -> int:
        return len(self.columns[table]["doc_id"])


def parse_documents(model: str, version: str, documents: list[tuple[str, str]]) -> ParsedRows:
    """Parse (doc_id, clean_text) pairs and return their rows. Runs in a worker process
    (or in this one for a small batch); spaCy and plain Python only, nothing that starts
    threads of its own, since workers are forked."""
    # spaCy is imported only when there is something to parse (about a second).
    from pipeline.nlp.language import build_nlp
    from pipeline.nlp.rows import RowBuilder, segments

    nlp = build_nlp(model)  # a forked worker finds the parent's pipeline in the cache
    builders = {doc_id: RowBuilder(doc_id, version) for doc_id, _ in documents}
    parts = ((p.text, p) for doc_id, text in documents for p in segments(doc_id, text))
    parsed = ParsedRows(doc_ids=list(builders))
    for doc, part in nlp.pipe(parts, as_tuples=True, batch_size=SPACY_BATCH):
        builders[part.doc_id].add(doc, part.offset)
        parsed.tokens += len(doc)
    for builder in builders.values():
        for table in ROW_TABLES:
            columns = parsed.columns[table]
            for row in getattr(builder.rows, table):
                for name, values in columns.items():
                    values.append(row[name])
    return parsed


def _tasks(texts: list[tuple[str, str]]) -> Iterator[list[tuple[str, str]]]:
    """Whole documents grouped up to TASK_CHARACTERS (one longer document alone)."""
    task: list[tuple[str, str]] = []
    size = 0
    for doc_id, text in texts:
        if task and size + len(text) > TASK_CHARACTERS:
            yield task
            task, size = [], 0
        task.append((doc_id, text))
        size += len(text)
    if task:
        yield task


def _workers(documents: int, total_characters: int) -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    tasks = -(-total_characters // TASK_CHARACTERS)
    workers = min(cores, MAX_PROCESSES, tasks, documents)
    return workers if workers > 1 else 0


def stage_parquet(frames: dict[str, pl.DataFrame], folder: Path, number: int) -> dict[str, Path]:
    """Write one batch's frames as `<table>.<number>.parquet` files in `folder`."""
    paths = {}
    for table, frame in frames.items():
        paths[table] = folder / f"{table}.{number:06d}.parquet"
        frame.write_parquet(paths[table], compression="lz4")
    return paths


def write_staged(
    con: duckdb.DuckDBPyConnection, doc_ids: list[str], staged: dict[str, list[Path]]
) -> None:
    """One transaction: replace the NLP rows of the given documents with the staged files,
    then delete the files."""
    with warehouse.transaction(con):
        # Only documents parsed before have rows to replace: nlp_runs gets its row in the
        # transaction that writes a document's rows, and loses it in the one that deletes
        # them. New documents skip the DELETEs, which scan whole tables (the cost that
        # would otherwise grow with the warehouse on a first run).
        parsed_before = [
            row[0]
            for row in con.execute(
                "SELECT doc_id FROM nlp_runs WHERE doc_id IN (SELECT unnest(?))", [doc_ids]
            ).fetchall()
        ]
        warehouse.delete_documents(con, parsed_before, tables=NLP_TABLES)
        for table, paths in staged.items():
            if paths:
                warehouse.insert_parquet(con, table, paths)
    for paths in staged.values():
        for path in paths:
            path.unlink(missing_ok=True)


class _BatchWriter:
    """Collects parsed rows. Every BATCH_DOCUMENTS documents they are staged as Parquet
    files in a temporary folder (and a progress line is logged); every WRITE_DOCUMENTS
    documents, and at the end, the staged files are written in one transaction that
    replaces the rows of documents parsed before and bulk-inserts the rest.

    Staging on disk, not in memory: workers are forked from this process while rows wait,
    and every page it holds would be counted again in each of them."""

    def __init__(self, context, duckdb: WorkingDuckDB, version: str, model: str, total: int):
        self.context, self.duckdb = context, duckdb
        self.version, self.model, self.total = version, model, total
        self.pending = ParsedRows()
        self.folder = Path(tempfile.mkdtemp(prefix="salvo-nlp-rows-"))
        self.staged: dict[str, list[Path]] = {table: [] for table in NLP_TABLES}
        self.staged_ids: list[str] = []
        self.staged_rows = dict.fromkeys(NLP_TABLES, 0)
        self.documents = self.tokens = self.workers = self.batches = 0
        self.written = dict.fromkeys(NLP_TABLES, 0)
        self.write_seconds = self.cpu_seconds = 0.0
        self.started = time.perf_counter()

    def add(self, parsed: ParsedRows) -> None:
        self.pending.extend(parsed)
        if len(self.pending.doc_ids) >= BATCH_DOCUMENTS:
            self._stage()
        if len(self.staged_ids) >= WRITE_DOCUMENTS:
            self._write()

    def flush(self) -> None:
        self._stage()
        self._write()

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def _stage(self) -> None:
        batch, self.pending = self.pending, ParsedRows()
        if not batch.doc_ids:
            return
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        frames = {table: _frame(table, batch.columns[table]) for table in ROW_TABLES}
        frames["nlp_runs"] = _frame(
            "nlp_runs",
            {
                "doc_id": batch.doc_ids,
                "extractor_version": [self.version] * len(batch.doc_ids),
                "model": [self.model] * len(batch.doc_ids),
                "processed_at": [now] * len(batch.doc_ids),
                # The run's checks look at the rows of the documents it parsed.
                "run_id": [self.context.run.run_id] * len(batch.doc_ids),
            },
        )
        del batch.columns
        self.batches += 1
        for table, path in stage_parquet(frames, self.folder, self.batches).items():
            self.staged[table].append(path)
            self.staged_rows[table] += frames[table].height
        self.staged_ids += batch.doc_ids
        self.documents += len(batch.doc_ids)
        self.tokens += batch.tokens
        del frames, batch
        _trim_heap()  # the rows are on disk: a worker forked next starts without them
        elapsed = time.perf_counter() - self.started
        self.context.log.info(
            f"Parsed {self.documents}/{self.total} documents, {self.tokens} tokens "
            f"({self.tokens / max(elapsed, 1e-9):,.0f} tokens/s, "
            f"{self.workers or 1} process(es) parsing)"
        )

    def _write(self) -> None:
        if not self.staged_ids:
            return
        doc_ids, self.staged_ids = self.staged_ids, []
        staged, self.staged = self.staged, {table: [] for table in NLP_TABLES}
        rows, self.staged_rows = self.staged_rows, dict.fromkeys(NLP_TABLES, 0)
        start = time.perf_counter()
        with self.duckdb.get_connection() as con:
            write_staged(con, doc_ids, staged)
        for table, paths in staged.items():
            if paths:
                self.written[table] += rows[table]
        # Hand the freed heap back to the OS: a worker forked later (one is replaced every
        # TASKS_PER_WORKER tasks) would otherwise start with it, and so would its RSS.
        _trim_heap()
        self.write_seconds += time.perf_counter() - start
        self.context.log.info(
            f"Wrote the rows of {len(doc_ids)} documents ({self.documents}/{self.total} so far)"
        )


def _read_texts(duckdb: WorkingDuckDB, doc_ids: list[str]) -> Iterator[list[tuple[str, str]]]:
    """(doc_id, clean_text) per batch; the connection is closed before the batch is parsed."""
    for first in range(0, len(doc_ids), BATCH_DOCUMENTS):
        with duckdb.get_connection() as con:
            texts = con.execute(
                "SELECT doc_id, clean_text FROM documents WHERE doc_id IN (SELECT unnest(?)) "
                "ORDER BY doc_id",
                [doc_ids[first : first + BATCH_DOCUMENTS]],
            ).fetchall()
        yield texts


def _parse_all(
    duckdb: WorkingDuckDB,
    todo: list[tuple[str, int]],
    model: str,
    version: str,
    writer: _BatchWriter,
) -> None:
    before = _cpu_seconds()
    try:
        _parse_with_workers(duckdb, todo, model, version, writer)
    finally:
        writer.cpu_seconds = _cpu_seconds() - before


def _cpu_seconds() -> float:
    """CPU time of this process and of the workers it has reaped."""
    own, workers = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


@lru_cache(maxsize=4)
def _load_model(model: str) -> None:
    """Load the spaCy pipeline once per process, frozen with what it built (see
    pipeline/lifetime.py): a process that parses in several runs freezes it once."""
    with long_lived():
        from pipeline.nlp.language import build_nlp

        build_nlp(model)


def _parse_with_workers(
    duckdb: WorkingDuckDB,
    todo: list[tuple[str, int]],
    model: str,
    version: str,
    writer: _BatchWriter,
) -> None:
    writer.workers = _workers(len(todo), sum(characters for _, characters in todo))
    if writer.workers:
        # The earlier stages' garbage goes first: frozen with the model on its first load,
        # it would never be freed, and every worker would start with it (10k: +24 MiB).
        gc.collect()
    _load_model(model)  # here, before any fork: workers inherit it, nobody loads it twice
    tasks = (task for texts in _read_texts(duckdb, [d for d, _ in todo]) for task in _tasks(texts))
    if not writer.workers:
        for task in tasks:
            writer.add(parse_documents(model, version, task))
        writer.flush()
        return
    _shrink_before_fork()
    writer.context.log.info(
        f"Forking {writer.workers} parsing processes from this one ({_rss_mib():,.0f} MiB "
        "resident, shared with them until written to)"
    )
    pool = multiprocessing.get_context("fork").Pool(
        writer.workers, initializer=_worker_signals, maxtasksperchild=TASKS_PER_WORKER
    )
    try:
        in_flight: deque = deque()
        for task in tasks:
            in_flight.append(pool.apply_async(parse_documents, (model, version, task)))
            while len(in_flight) > writer.workers * (1 + QUEUED_TASKS_PER_WORKER):
                writer.add(in_flight.popleft().get())
        while in_flight:
            writer.add(in_flight.popleft().get())
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()
        gc.unfreeze()
    writer.flush()


def _rss_mib() -> float:
    """This process's resident memory (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def _trim_heap() -> None:
    """Return freed heap pages to the OS (glibc keeps them otherwise)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _shrink_before_fork() -> None:
    """Forked workers start as big as this process: the earlier stages' garbage is freed
    and handed back to the OS first, and what is left is frozen, so the collector never
    touches, hence never copies, the shared pages."""
    gc.collect()
    _trim_heap()
    gc.freeze()


def _worker_signals() -> None:
    """Workers inherit Dagster's handlers, which turn SIGTERM into an interrupt error with
    a traceback; a worker is stopped by its parent, and Ctrl-C is the parent's to handle."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "sentences",
            deps=["documents"],
            description=(
                "One row per sentence of documents.clean_text (key: sentence_id = doc_id + "
                "position), with character offsets into clean_text. A line break always ends "
                "a sentence, so headlines stand alone."
            ),
            group_name="nlp",
            kinds={"duckdb", "spacy"},
        ),
        dg.AssetSpec(
            "entities",
            deps=["documents"],
            description=(
                "One row per entity mention (key: mention_id): the statistical NER labels "
                "(PERSON, ORG, GPE, DATE, ...) and the lexicon's ACTOR (with actor_code) and "
                "WEAPON (with weapon_class) mentions, with offsets into clean_text."
            ),
            group_name="nlp",
            kinds={"duckdb", "spacy"},
        ),
        dg.AssetSpec(
            "claims",
            deps=["documents"],
            description=(
                "One row per claim found in a sentence (key: claim_id): relation (supply, "
                "purchase, use, produce), supplier and recipient actor codes, weapon class and "
                "words, quantity, who it is attributed to, and whether it is hedged or negated."
            ),
            group_name="nlp",
            kinds={"duckdb", "spacy"},
        ),
    ],
    pool="duckdb",
)
def sentences_entities_claims(
    context: dg.AssetExecutionContext, salvo: SalvoSettings, duckdb: WorkingDuckDB
):
    """Parse new or re-extractable documents once and write the three NLP tables."""
    version = extractor_version(salvo.spacy_model)
    with duckdb.get_connection() as con:
        con.execute("BEGIN TRANSACTION")
        for table in NLP_TABLES:
            con.execute(f"DELETE FROM {table} WHERE doc_id NOT IN (SELECT doc_id FROM documents)")
        con.execute("COMMIT")
        todo: list[tuple[str, int]] = con.execute(
            "SELECT doc_id, characters FROM documents WHERE doc_id NOT IN "
            "(SELECT doc_id FROM nlp_runs WHERE extractor_version = ?) ORDER BY doc_id",
            [version],
        ).fetchall()
    context.log.info(f"{len(todo)} documents to parse with {version}")
    writer = _BatchWriter(context, duckdb, version, salvo.spacy_model, len(todo))
    try:
        if todo:
            _parse_all(duckdb, todo, salvo.spacy_model, version, writer)
    finally:
        writer.close()
    elapsed = time.perf_counter() - writer.started
    with duckdb.get_connection() as con:
        sent_meta = table_metadata(
            con,
            "sentences",
            order_by="sentence_id",
            preview_columns=["sentence_id", "start_char", "end_char", "text"],
        )
        ent_meta = table_metadata(
            con,
            "entities",
            order_by="mention_id",
            preview_columns=["doc_id", "text", "label", "actor_code", "weapon_class"],
        )
        claim_meta = table_metadata(
            con,
            "claims",
            order_by="claim_id",
            preview_columns=[
                "relation",
                "supplier",
                "recipient",
                "weapon_class",
                "quantity",
                "attributed_to",
                "hedged",
                "negated",
            ],
        )
        by_relation = dict(
            con.execute("SELECT relation, count(*) FROM claims GROUP BY 1 ORDER BY 1").fetchall()
        )
        by_label = dict(
            con.execute(
                "SELECT label, count(*) FROM entities GROUP BY 1 ORDER BY 2 DESC"
            ).fetchall()
        )
    common: dict[str, Any] = {
        "documents_parsed": len(todo),
        "tokens_parsed": writer.tokens,
        "parse_seconds": round(elapsed, 2),
        "worker_processes": writer.workers,
        # Above parse_seconds when the workers overlap; below it on a busy machine.
        "parse_cpu_seconds": round(writer.cpu_seconds, 2),
        "rows_written": sum(writer.written.values()),
        "write_seconds": round(writer.write_seconds, 3),
        "extractor_version": version,
    }
    yield dg.MaterializeResult(
        asset_key="sentences",
        metadata={**sent_meta, **common, "written": writer.written["sentences"]},
    )
    yield dg.MaterializeResult(
        asset_key="entities",
        metadata={
            **ent_meta,
            **common,
            "written": writer.written["entities"],
            "mentions_by_label": dg.MetadataValue.json(by_label),
        },
    )
    yield dg.MaterializeResult(
        asset_key="claims",
        metadata={
            **claim_meta,
            **common,
            "written": writer.written["claims"],
            "claims_by_relation": dg.MetadataValue.json(by_relation),
        },
    )
