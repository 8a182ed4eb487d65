"""The parse pool: one spaCy pass per document writes `sentences`, `entities` and `claims`.

The model is loaded once, only when there is something to parse. A large batch is parsed by
worker processes forked after the load (they share the loaded model), each taking a task of
whole documents and sending back plain rows; the parent only reads texts and writes rows, so
every core parses. Memory is bounded by the batches in flight, not by the corpus.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import resource
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pipeline import settings, warehouse
from pipeline.ledger import Connect
from pipeline.lifetime import long_lived
from pipeline.nlp import dating
from pipeline.nlp.staging import (
    BATCH_DOCUMENTS,
    NLP_TABLES,
    ROW_TABLES,
    BatchWriter,
    ParsedRows,
    trim_heap,
)
from pipeline.nlp.version import extractor_version, parse_mode_of

if TYPE_CHECKING:
    from pipeline.parse_backends import ParseBackend

Log = Callable[[str], None]

# Characters of text per worker task (a couple of seconds of parsing): small enough that
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
# is also spaCy's cache, and a young worker is slower (docs/performance.md).
TASKS_PER_WORKER = 200
# Docs spaCy's models process together inside one task.
SPACY_BATCH = 64


def parse_documents(model: str, version: str, documents: list[tuple[str, str]]) -> ParsedRows:
    """Parse (doc_id, clean_text) pairs and return their rows, in the parse mode of
    `version` (SALVO_PARSE: the full model on every document, or only on those that name
    a weapon, selective.py). Runs in a worker process (or in this one for a small batch);
    spaCy and plain Python only, nothing that starts threads of its own, since workers are
    forked."""
    # spaCy is imported only when there is something to parse (about a second).
    from pipeline.nlp.language import build_nlp
    from pipeline.nlp.rows import RowBuilder, segments
    from pipeline.nlp.selective import parse_selective

    nlp = build_nlp(model)  # a forked worker finds the parent's pipeline in the cache
    builders = {doc_id: RowBuilder(doc_id, version) for doc_id, _ in documents}
    parts = ((p.text, p) for doc_id, text in documents for p in segments(doc_id, text))
    parsed = ParsedRows(doc_ids=list(builders))
    docs: Iterator[tuple[Any, Any, bool]]
    if parse_mode_of(version) == "full":
        docs = ((d, p, True) for d, p in nlp.pipe(parts, as_tuples=True, batch_size=SPACY_BATCH))
    else:
        docs = parse_selective(nlp, parts, SPACY_BATCH)
    for doc, part, full in docs:
        builder = builders[part.doc_id]
        before = len(builder.rows.sentences)
        builder.add(doc, part.offset)
        parsed.tokens += len(doc)
        parsed.sentences += len(builder.rows.sentences) - before
        parsed.parsed_sentences += (len(builder.rows.sentences) - before) if full else 0
    for builder in builders.values():
        for table in ROW_TABLES:
            columns = parsed.columns[table]
            for row in getattr(builder.rows, table):
                for name, values in columns.items():
                    # Columns filled where the rows are staged (event times) are absent.
                    values.append(row.get(name))
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
    cores = settings.cpu_count()
    tasks = -(-total_characters // TASK_CHARACTERS)
    workers = min(cores, MAX_PROCESSES, tasks, documents)
    return workers if workers > 1 else 0


def read_texts(connect: Connect, doc_ids: list[str]) -> Iterator[list[tuple[str, str]]]:
    """(doc_id, clean_text) per batch; the connection is closed before the batch is parsed."""
    for first in range(0, len(doc_ids), BATCH_DOCUMENTS):
        with connect() as con:
            texts = con.execute(
                "SELECT doc_id, clean_text FROM documents WHERE doc_id IN (SELECT unnest(?)) "
                "ORDER BY doc_id",
                [doc_ids[first : first + BATCH_DOCUMENTS]],
            ).fetchall()
        yield texts


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


def parse_with_workers(
    connect: Connect,
    todo: list[tuple[str, int]],
    model: str,
    version: str,
    writer: BatchWriter,
) -> None:
    writer.workers = _workers(len(todo), sum(characters for _, characters in todo))
    if writer.workers:
        # The earlier stages' garbage goes first: frozen with the model on its first load,
        # it would never be freed, and every worker would start with it.
        gc.collect()
    _load_model(model)  # here, before any fork: workers inherit it, nobody loads it twice
    tasks = (task for texts in read_texts(connect, [d for d, _ in todo]) for task in _tasks(texts))
    if not writer.workers:
        for task in tasks:
            writer.add(parse_documents(model, version, task))
        writer.flush()
        return
    _shrink_before_fork()
    writer.log(
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


def _shrink_before_fork() -> None:
    """Forked workers start as big as this process: the earlier stages' garbage is freed
    and handed back to the OS first, and what is left is frozen, so the collector never
    touches, hence never copies, the shared pages."""
    gc.collect()
    trim_heap()
    gc.freeze()


def _worker_signals() -> None:
    """Workers inherit Dagster's handlers, which turn SIGTERM into an interrupt error with
    a traceback; a worker is stopped by its parent, and Ctrl-C is the parent's to handle."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@dataclass(frozen=True)
class ParseRun:
    """What one parse of the pending documents did."""

    version: str
    backend: str
    documents: int
    tokens: int
    sentences: int
    parsed_sentences: int  # of `sentences`, those the full model parsed
    workers: int
    nodes: int
    seconds: float
    cpu_seconds: float
    written: dict[str, int]
    write_seconds: float


def parse_pending(
    connect: Connect, model: str, run_id: str, log: Log, backend: ParseBackend | None = None
) -> ParseRun:
    """Drop the rows of documents that are gone, then parse every document this extractor
    version has not parsed and replace its rows.

    Args:
        connect: opens a connection to the working database (a context manager).
        model: the spaCy model package.
        run_id: recorded in nlp_runs, so the run's checks can look at its rows.
        log: receives progress lines.
        backend: where the parse runs (pipeline.parse_backends); default the local pool.
    """
    if backend is None:
        from pipeline.parse_backends import LocalPool

        return parse_pending(connect, model, run_id, log, LocalPool())
    version = extractor_version(model)
    with connect() as con:
        con.execute("BEGIN TRANSACTION")
        warehouse.delete_orphans(con, NLP_TABLES)
        con.execute("COMMIT")
        # New documents, documents another extraction parsed, documents whose text changed
        # under the same id (a cleaner with new rules), and documents whose publication
        # date (what their event times are read against) changed.
        todo: list[tuple[str, int]] = con.execute(
            "SELECT d.doc_id, d.characters FROM documents d LEFT JOIN nlp_runs n USING (doc_id) "
            "WHERE n.doc_id IS NULL OR n.extractor_version <> ? "
            "OR n.text_hash IS DISTINCT FROM d.text_hash OR n.dated_against IS DISTINCT "
            f"FROM ({dating.reference_date_sql('d')}) "
            "ORDER BY d.doc_id",
            [version],
        ).fetchall()
    log(f"{len(todo)} documents to parse with {version}")
    writer = BatchWriter(connect, log, run_id, version, model, len(todo))
    try:
        if todo:
            before = _cpu_seconds()
            try:
                backend.parse(connect, todo, model, version, writer)
            finally:
                # A backend whose parsers are not this process's children adds theirs.
                writer.cpu_seconds += _cpu_seconds() - before
    finally:
        writer.close()
    return ParseRun(
        version=version,
        backend=backend.name,
        documents=len(todo),
        tokens=writer.tokens,
        sentences=writer.sentences,
        parsed_sentences=writer.parsed_sentences,
        workers=writer.workers,
        nodes=writer.nodes,
        seconds=time.perf_counter() - writer.started,
        cpu_seconds=writer.cpu_seconds,
        written=dict(writer.written),
        write_seconds=writer.write_seconds,
    )
