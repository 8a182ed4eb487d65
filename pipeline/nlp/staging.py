"""Parsed rows on their way to the warehouse: staged as Parquet files on disk, then written
in one transaction per step.

Staging on disk, not in memory: workers are forked from the parsing process while rows
wait, and every page it holds would be counted again in each of them.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from pipeline import schema, warehouse
from pipeline.ledger import Connect
from pipeline.nlp import dating, systems

Log = Callable[[str], None]

# Documents whose rows wait in the parsing process before they are staged on disk: memory
# bounded whatever the corpus size, and small when a replacement worker is forked.
BATCH_DOCUMENTS = 256
# Documents whose rows are written in one transaction (their rows wait on disk, staged as
# Parquet, not in memory). A write costs a checkpoint whatever its size, and its DuckDB
# buffers add to the parent's memory; so the rows of a corpus up to this size are written
# once, after the workers have exited, and a larger corpus is committed in steps of this
# size, so a run that fails loses at most one step of parsing (docs/performance.md).
WRITE_DOCUMENTS = 16_384
NLP_TABLES = ("sentences", "entities", "claims", "nlp_runs")
ROW_TABLES = ("sentences", "entities", "claims")


@dataclass
class ParsedRows:
    """Rows of the three tables for some documents, column by column (compact to send
    between processes)."""

    doc_ids: list[str] = field(default_factory=list)
    columns: dict[str, dict[str, list]] = field(
        default_factory=lambda: {t: {c: [] for c in schema.columns_of(t)} for t in ROW_TABLES}
    )
    tokens: int = 0
    sentences: int = 0
    parsed_sentences: int = 0  # those the full model parsed (SALVO_PARSE)

    def extend(self, other: ParsedRows) -> None:
        self.doc_ids += other.doc_ids
        self.tokens += other.tokens
        self.sentences += other.sentences
        self.parsed_sentences += other.parsed_sentences
        for table, columns in other.columns.items():
            for name, values in columns.items():
                self.columns[table][name] += values

    def rows(self, table: str) -> int:
        return len(self.columns[table]["doc_id"])


def trim_heap() -> None:
    """Return freed heap pages to the OS (glibc keeps them otherwise)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


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


class BatchWriter:
    """Collects parsed rows. Every BATCH_DOCUMENTS documents they are staged as Parquet
    files in a temporary folder (and a progress line is logged); every WRITE_DOCUMENTS
    documents, and at the end, the staged files are written in one transaction that
    replaces the rows of documents parsed before and bulk-inserts the rest.

    Staging on disk, not in memory: workers are forked from this process while rows wait,
    and every page it holds would be counted again in each of them."""

    def __init__(
        self, connect: Connect, log: Log, run_id: str, version: str, model: str, total: int
    ):
        self.connect, self.log, self.run_id = connect, log, run_id
        self.version, self.model, self.total = version, model, total
        self.pending = ParsedRows()
        self.folder = Path(tempfile.mkdtemp(prefix="salvo-nlp-rows-"))
        self.staged: dict[str, list[Path]] = {table: [] for table in NLP_TABLES}
        self.staged_ids: list[str] = []
        self.staged_rows = dict.fromkeys(NLP_TABLES, 0)
        self.documents = self.tokens = self.workers = self.batches = 0
        # Sentences written, and those the full model parsed (SALVO_PARSE=selective parses
        # only documents that name a weapon).
        self.sentences = self.parsed_sentences = 0
        self.written = dict.fromkeys(NLP_TABLES, 0)
        self.write_seconds = self.cpu_seconds = 0.0
        # What parses, in the progress lines: the local pool's processes or a cluster's
        # workers.
        self.parsers = "process(es)"
        self.nodes = 1  # machines they ran on
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

    def add_staged(
        self,
        doc_ids: list[str],
        tokens: int,
        files: dict[str, Path],
        sentences: tuple[int, int] = (0, 0),
    ) -> None:
        """Rows another backend parsed and staged as Parquet files of the tables' columns
        (local files, deleted once written): their nlp_runs rows are staged next to them
        and they are written with the rest. `sentences`: how many the rows hold, and how
        many of them the full model parsed."""
        self.batches += 1
        frames = {table: pl.read_parquet(path) for table, path in files.items()}
        for path in files.values():
            path.unlink(missing_ok=True)
        frames = self._annotated(frames, doc_ids)
        for table, path in stage_parquet(frames, self.folder, self.batches).items():
            self.staged[table].append(path)
            self.staged_rows[table] += frames[table].height
        del frames
        self.sentences += sentences[0]
        self.parsed_sentences += sentences[1]
        self._staged(doc_ids, tokens)
        if len(self.staged_ids) >= WRITE_DOCUMENTS:
            self._write()

    def _annotated(
        self, frames: dict[str, pl.DataFrame], doc_ids: list[str]
    ) -> dict[str, pl.DataFrame]:
        """A batch's rows with what is read once the documents are parsed: the claims'
        event times (against the documents' publication dates) and the weapon systems of
        claims and mentions; and the documents' nlp_runs rows."""
        with self.connect() as con:
            documents = dating.reference_dates(con, doc_ids)
        frames["claims"] = dating.date_claims(frames["claims"], frames["sentences"], documents)
        frames["claims"], frames["entities"] = systems.name_systems(
            frames["claims"], frames["entities"]
        )
        frames["nlp_runs"] = self._runs_frame(doc_ids, documents)
        return frames

    def _runs_frame(
        self, doc_ids: list[str], documents: dict[str, dating.Reference]
    ) -> pl.DataFrame:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        return schema.frame(
            "nlp_runs",
            {
                "doc_id": doc_ids,
                "dated_against": [documents.get(d, dating.NO_REFERENCE).published for d in doc_ids],
                "text_hash": [documents.get(d, dating.NO_REFERENCE).text_hash for d in doc_ids],
                "extractor_version": [self.version] * len(doc_ids),
                "model": [self.model] * len(doc_ids),
                "processed_at": [now] * len(doc_ids),
                # The run's checks look at the rows of the documents it parsed.
                "run_id": [self.run_id] * len(doc_ids),
            },
        )

    def _stage(self) -> None:
        batch, self.pending = self.pending, ParsedRows()
        if not batch.doc_ids:
            return
        frames = {table: schema.frame(table, batch.columns[table]) for table in ROW_TABLES}
        frames = self._annotated(frames, batch.doc_ids)
        del batch.columns
        self.batches += 1
        for table, path in stage_parquet(frames, self.folder, self.batches).items():
            self.staged[table].append(path)
            self.staged_rows[table] += frames[table].height
        del frames
        self.sentences += batch.sentences
        self.parsed_sentences += batch.parsed_sentences
        self._staged(batch.doc_ids, batch.tokens)
        del batch
        trim_heap()  # the rows are on disk: a worker forked next starts without them

    def _staged(self, doc_ids: list[str], tokens: int) -> None:
        self.staged_ids += doc_ids
        self.documents += len(doc_ids)
        self.tokens += tokens
        elapsed = time.perf_counter() - self.started
        self.log(
            f"Parsed {self.documents}/{self.total} documents, {self.tokens} tokens "
            f"({self.tokens / max(elapsed, 1e-9):,.0f} tokens/s, "
            f"{self.workers or 1} {self.parsers} parsing)"
        )

    def _write(self) -> None:
        if not self.staged_ids:
            return
        doc_ids, self.staged_ids = self.staged_ids, []
        staged, self.staged = self.staged, {table: [] for table in NLP_TABLES}
        rows, self.staged_rows = self.staged_rows, dict.fromkeys(NLP_TABLES, 0)
        start = time.perf_counter()
        with self.connect() as con:
            write_staged(con, doc_ids, staged)
        for table, paths in staged.items():
            if paths:
                self.written[table] += rows[table]
        # Hand the freed heap back to the OS: a worker forked later (one is replaced every
        # TASKS_PER_WORKER tasks) would otherwise start with it, and so would its RSS.
        trim_heap()
        self.write_seconds += time.perf_counter() - start
        self.log(
            f"Wrote the rows of {len(doc_ids)} documents ({self.documents}/{self.total} so far)"
        )
