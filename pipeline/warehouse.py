"""DuckDB schema, idempotent bulk writes and the atomic publish of the warehouse.

No Dagster here: assets call these functions with a DuckDB connection they opened late
and close early. Identifiers come only from the constants in this module; data always
travels as bound parameters or as Arrow/polars frames.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import os
import shutil
import socket
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import duckdb
import polars as pl

# Column lists per table, in order. The contract tables come first; extra columns are ours
# (the contract allows additions, never renames). A column added later goes at the end of
# its table, nullable: `ensure_schema` adds it to existing files with ALTER TABLE.
SCHEMA: dict[str, str] = {
    "seed_files": """
        source_file VARCHAR PRIMARY KEY,
        content_hash VARCHAR,
        status VARCHAR NOT NULL,
        reason VARCHAR,
        encoding VARCHAR,
        documents INTEGER NOT NULL,
        first_seen TIMESTAMP NOT NULL,
        last_seen TIMESTAMP NOT NULL,
        size_bytes BIGINT,
        replacements INTEGER,
        duplicate_of VARCHAR,
        doc_id VARCHAR,
        source_format VARCHAR,
        records INTEGER,
        quarantined_records INTEGER,
        mtime_ns BIGINT
    """,
    # One row per record found in a file (a .txt file has one, a JSONL file one per line):
    # which document it became, or why it did not.
    "seed_records": """
        source_file VARCHAR NOT NULL,
        record_index INTEGER NOT NULL,
        status VARCHAR NOT NULL,
        reason VARCHAR,
        doc_id VARCHAR,
        duplicate_of VARCHAR,
        PRIMARY KEY (source_file, record_index)
    """,
    "raw_documents": """
        doc_id VARCHAR PRIMARY KEY,
        source_file VARCHAR NOT NULL,
        content_hash VARCHAR NOT NULL,
        encoding VARCHAR NOT NULL,
        raw_text VARCHAR NOT NULL,
        characters INTEGER NOT NULL,
        ingested_at TIMESTAMP NOT NULL,
        record_index INTEGER,
        source_format VARCHAR,
        title VARCHAR,
        outlet VARCHAR,
        published VARCHAR,
        date_precision VARCHAR,
        url VARCHAR
    """,
    # text_hash: TEXT_HASH of clean_text, taken when it is written (null: not taken yet),
    # so that a later stage can tell which texts changed without reading every text.
    "documents": """
        doc_id VARCHAR PRIMARY KEY,
        source_file VARCHAR NOT NULL,
        title VARCHAR,
        outlet VARCHAR,
        published_date DATE,
        date_precision VARCHAR,
        date_source VARCHAR NOT NULL,
        clean_text VARCHAR NOT NULL,
        ingested_at TIMESTAMP NOT NULL,
        url VARCHAR,
        characters INTEGER NOT NULL,
        record_index INTEGER,
        text_hash UBIGINT
    """,
    # The three NLP tables carry no PRIMARY KEY: their ids are derived from doc_id and
    # character offsets, a document's rows are replaced as a whole, and the blocking
    # unique_* asset checks verify every run. DuckDB's key index would cost a third of the
    # write speed of the largest tables (about 340k rows/s with it, 530k without).
    "sentences": """
        sentence_id VARCHAR NOT NULL,
        doc_id VARCHAR NOT NULL,
        position INTEGER NOT NULL,
        start_char INTEGER NOT NULL,
        end_char INTEGER NOT NULL,
        text VARCHAR NOT NULL
    """,
    "entities": """
        mention_id VARCHAR NOT NULL,
        doc_id VARCHAR NOT NULL,
        sentence_id VARCHAR NOT NULL,
        start_char INTEGER NOT NULL,
        end_char INTEGER NOT NULL,
        text VARCHAR NOT NULL,
        label VARCHAR NOT NULL,
        actor_code VARCHAR,
        weapon_class VARCHAR,
        source VARCHAR NOT NULL
    """,
    "claims": """
        claim_id VARCHAR NOT NULL,
        doc_id VARCHAR NOT NULL,
        sentence_id VARCHAR NOT NULL,
        relation VARCHAR NOT NULL,
        supplier VARCHAR,
        recipient VARCHAR,
        weapon_class VARCHAR NOT NULL,
        weapon_text VARCHAR NOT NULL,
        quantity DOUBLE,
        quantity_text VARCHAR,
        attributed_to VARCHAR,
        hedged BOOLEAN NOT NULL,
        negated BOOLEAN NOT NULL,
        trigger_text VARCHAR,
        calibre_mm VARCHAR,
        extractor_version VARCHAR NOT NULL,
        rule VARCHAR
    """,
    # Which documents went through the NLP pass, and with which extractor and lexicon:
    # a changed version re-extracts exactly the documents it affects. run_id: the Dagster
    # run that parsed the document (its checks look at those rows).
    "nlp_runs": """
        doc_id VARCHAR PRIMARY KEY,
        extractor_version VARCHAR NOT NULL,
        model VARCHAR NOT NULL,
        processed_at TIMESTAMP NOT NULL,
        run_id VARCHAR
    """,
    "pipeline_state": """
        key VARCHAR PRIMARY KEY,
        value VARCHAR
    """,
    # What each mart was last built from: a digest of its SQL and input tables, and of the
    # rows the build left. The same inputs and untouched rows: the mart is not rebuilt.
    # For a diff-updated mart, previous_rows_digest is the digest of its rows before that
    # update, whose changed rows are in mart_changes.<mart> (null after a rebuild).
    "mart_builds": """
        mart VARCHAR PRIMARY KEY,
        inputs_digest VARCHAR NOT NULL,
        rows_digest VARCHAR,
        built_at TIMESTAMP NOT NULL,
        previous_rows_digest VARCHAR
    """,
}

# documents.text_hash, as SQL over a documents row.
TEXT_HASH = "hash(clean_text)"

# Tables keyed by document, in the order rows must leave them when a document goes away.
DOCUMENT_TABLES: tuple[str, ...] = (
    "claims",
    "entities",
    "sentences",
    "nlp_runs",
    "documents",
    "raw_documents",
)


def _column_lines(table: str) -> list[str]:
    lines = [line.strip().rstrip(",") for line in SCHEMA[table].strip().splitlines()]
    return [line for line in lines if line and not line.upper().startswith("PRIMARY KEY")]


def columns_of(table: str) -> list[str]:
    """Column names of a table of ours, in declaration order."""
    return [line.split()[0] for line in _column_lines(table)]


# Tables an older version created with a PRIMARY KEY it no longer declares.
UNKEYED_TABLES = ("sentences", "entities", "claims")


def _drop_primary_keys(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild the UNKEYED_TABLES that still have their old PRIMARY KEY, keeping every row
    (DuckDB cannot drop a key in place). One transaction: all or nothing."""
    keyed = [
        row[0]
        for row in con.execute(
            "SELECT DISTINCT table_name FROM duckdb_constraints() WHERE constraint_type = "
            "'PRIMARY KEY' AND schema_name = 'main' AND database_name = current_database() "
            "AND table_name IN (SELECT unnest(?))",
            [list(UNKEYED_TABLES)],
        ).fetchall()
    ]
    if not keyed:
        return
    with transaction(con):
        for table in keyed:
            con.execute(f"CREATE TABLE salvo_rebuilt_{table} ({SCHEMA[table]})")
            con.execute(f"INSERT INTO salvo_rebuilt_{table} BY NAME SELECT * FROM {table}")
            con.execute(f"DROP TABLE {table}")
            con.execute(f"ALTER TABLE salvo_rebuilt_{table} RENAME TO {table}")


# What SCHEMA declares, as one digest: stored in pipeline_state once a file has been
# brought up to it, so every later connection confirms the schema with one lookup
# (listing the catalog and its constraints costs about 40 ms, and a run connects ~90 times).
_DECLARED = repr((sorted(SCHEMA.items()), UNKEYED_TABLES)).encode()
SCHEMA_DIGEST = hashlib.sha256(_DECLARED).hexdigest()[:16]
SCHEMA_STATE_KEY = "schema_digest"


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table of ours that does not exist yet, add the columns a newer
    version declares to tables an older version created, and drop the keys it no longer
    declares (idempotent). A file already brought up to this version's SCHEMA (its
    digest in pipeline_state) is left alone after one lookup."""
    try:
        if get_state(con, SCHEMA_STATE_KEY) == SCHEMA_DIGEST:
            return
    except duckdb.CatalogException:
        pass  # no pipeline_state yet: a new file, or one from before the table existed
    _bring_up_to_date(con)
    with transaction(con):
        set_state(con, SCHEMA_STATE_KEY, SCHEMA_DIGEST)


def _bring_up_to_date(con: duckdb.DuckDBPyConnection) -> None:
    existing: dict[str, set[str]] = {}
    for table, column in con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_catalog = current_database()"
    ).fetchall():
        existing.setdefault(table, set()).add(column)
    for table, body in SCHEMA.items():
        if table not in existing:
            con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({body})")
            continue
        for line in _column_lines(table):
            name, column_type = line.split()[0], line.split()[1]
            if name not in existing[table]:
                con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {name} {column_type}")
    if existing.keys() & set(UNKEYED_TABLES):
        _drop_primary_keys(con)


# DuckDB's own default is 80% of the machine's memory, which it fills with cached pages
# on a large warehouse. A fixed cap keeps the pipeline's peak memory independent of the
# warehouse size; joins and sorts larger than this spill to a temporary directory.
MEMORY_LIMIT = "512MB"
# DuckDB checkpoints (folds the write-ahead log into the file) whenever the log passes
# this size; at its 16 MB default the NLP stage checkpointed after nearly every batch, and
# each checkpoint cost more as the tables grew (1 GB of NLP rows: 290k rows/s; with this,
# 620k). Closing a connection checkpoints anyway.
CHECKPOINT_THRESHOLD = "256MB"
CONNECTION_CONFIG = {"memory_limit": MEMORY_LIMIT, "checkpoint_threshold": CHECKPOINT_THRESHOLD}


def connect(path: Path | str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file with a clear message when another process holds its lock."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(path), read_only=read_only, config=dict(CONNECTION_CONFIG))
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise RuntimeError(_held_message(path, exc)) from exc
        raise


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN ... COMMIT around a block. On any error the transaction is rolled back and the
    connection closed before the error goes on: DuckDBResource.get_connection does not
    close its connection when the block raises, and a connection left open would keep the
    file locked (and its half transaction alive) for the rest of the process."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass  # the failure may have ended the transaction already
        con.close()
        raise
    con.execute("COMMIT")


def probe_writable(path: Path | str) -> None:
    """Fail at once, with a clear message, when another process holds the database file.

    DuckDBResource retries a locked file for about 100 seconds before it gives up; a user
    session left open on the working database deserves a quicker and plainer answer.
    Other errors are left for the real connection to report.
    """
    try:
        con = duckdb.connect(str(path))
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise RuntimeError(_held_message(Path(path), exc)) from exc
        return
    except duckdb.Error:
        return
    con.close()


def _held_message(path: Path, exc: Exception) -> str:
    return (
        f"The working database {path} is held by another process (another Salvo run, or "
        "a session that opened it). Salvo runs one writer at a time: close that session or "
        "wait for the run to finish, then run again. To query while a run is going, open "
        f"the published file {path.name.removeprefix('.').replace('.work', '')} read-only; "
        f"the pipeline never locks it. DuckDB said: {exc}"
    )


def replace_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    frame: pl.DataFrame,
    key: str,
    keys: Iterable[str] | None = None,
) -> int:
    """Delete the rows of `table` whose `key` is in `keys` (default: the frame's), then
    insert `frame` in one bulk statement. Call inside a transaction.

    Returns:
        The number of rows inserted.
    """
    assert table in SCHEMA and key in columns_of(table)
    key_values = sorted(set(keys if keys is not None else frame.get_column(key).to_list()))
    if key_values:
        con.execute(f"DELETE FROM {table} WHERE {key} IN (SELECT unnest(?))", [key_values])
    if frame.height == 0:
        return 0
    insert_frame(con, table, frame)
    return frame.height


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """One bulk INSERT of a polars frame (through Arrow), columns in the table's order."""
    columns = ", ".join(columns_of(table))
    con.register("salvo_incoming", frame.select(columns_of(table)).to_arrow())
    try:
        # Columns by name: a table an older version created has its added columns last.
        con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM salvo_incoming")
    finally:
        con.unregister("salvo_incoming")


def insert_parquet(con: duckdb.DuckDBPyConnection, table: str, paths: Sequence[Path]) -> None:
    """One bulk INSERT of Parquet files written from frames of `table`'s columns."""
    columns = ", ".join(columns_of(table))
    con.execute(
        f"INSERT INTO {table} ({columns}) SELECT {columns} FROM read_parquet(?)",
        [[str(path) for path in paths]],
    )


def delete_documents(
    con: duckdb.DuckDBPyConnection, doc_ids: Sequence[str], tables: Sequence[str] = DOCUMENT_TABLES
) -> None:
    """Remove every row that belongs to the given documents. Call inside a transaction."""
    if not doc_ids:
        return
    for table in tables:
        con.execute(f"DELETE FROM {table} WHERE doc_id IN (SELECT unnest(?))", [list(doc_ids)])


def table_counts(con: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> dict[str, int]:
    counts = {}
    for table in tables:
        row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
        counts[table] = int(row[0]) if row else 0
    return counts


def get_state(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = con.execute("SELECT value FROM pipeline_state WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_state(con: duckdb.DuckDBPyConnection, key: str, value: str | None) -> None:
    con.execute("DELETE FROM pipeline_state WHERE key = ?", [key])
    con.execute("INSERT INTO pipeline_state VALUES (?, ?)", [key, value])


# Publishing rewrites only the blocks that differ from a spare copy: DuckDB's blocks are
# 256 KiB, and a run that adds one document to 10k changes about 6% of a 260 MB file.
PUBLISH_BLOCK = 256 * 1024
PUBLISH_THREADS = 2


def _spare_path(published: Path) -> Path:
    return published.with_name(f".{published.name}.previous")


def _open_here(path: Path) -> bool:
    """Whether this process has the file open (a DuckDB connection of its own to it)."""
    try:
        target = os.stat(path)
    except OSError:
        return False
    for fd in os.listdir("/proc/self/fd"):
        try:
            held = os.stat(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if (held.st_dev, held.st_ino) == (target.st_dev, target.st_ino):
            return True
    return False


def _read_into(fd: int, buffer: bytearray, offset: int) -> int:
    """Fill `buffer` from `offset`; return the bytes read, fewer only at the end of the
    file. Into a buffer kept for the whole copy: a new bytes object per read is fresh
    memory each time, and its page faults cost more than the reading (0.3 s for a 260 MB
    pair of files in 4 MiB reads, 0.05 s this way)."""
    view, got = memoryview(buffer), 0
    while got < len(buffer):
        part = os.preadv(fd, [view[got:]], offset + got)
        if not part:
            break
        got += part
    return got


def _patch_range(source: int, target: int, blocks: range) -> int:
    """Rewrite the blocks of `target` that differ from `source` at these offsets; return
    the bytes written. Block by block into two buffers: bytearrays compare with memcmp (a
    memoryview compares byte by byte, and slicing bytes copies them)."""
    new, old = bytearray(PUBLISH_BLOCK), bytearray(PUBLISH_BLOCK)
    written = 0
    for offset in blocks:
        length, before = _read_into(source, new, offset), _read_into(target, old, offset)
        if length == before == PUBLISH_BLOCK and new == old:
            continue
        if length < PUBLISH_BLOCK and new[:length] == old[:before]:
            continue  # the last, short block, unchanged
        os.pwrite(target, memoryview(new)[:length], offset)
        written += length
    return written


def _patch(source: Path, target: Path) -> int | None:
    """Make `target` a byte copy of `source` by rewriting only the blocks that differ;
    return the bytes written, or None when a reader may hold `target`.

    `target` is an earlier published file. A DuckDB connection in another process holds a
    lock on the file it reads, so the lock taken here fails while one is open; a
    connection of this process is found among its open files. No new reader can open it
    meanwhile: it no longer has the published name."""
    if not os.path.exists("/proc/self/fd") or _open_here(target):
        return None
    with open(source, "rb", buffering=0) as src, open(target, "r+b", buffering=0) as dst:
        try:
            fcntl.lockf(dst.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return None
        size = os.fstat(src.fileno()).st_size
        blocks = range(0, size, PUBLISH_BLOCK)
        # Each thread compares its share of the blocks (a read releases the GIL).
        shares = [blocks[i::PUBLISH_THREADS] for i in range(PUBLISH_THREADS)]
        with ThreadPoolExecutor(PUBLISH_THREADS) as pool:
            written = sum(
                pool.map(lambda share: _patch_range(src.fileno(), dst.fileno(), share), shares)
            )
        os.ftruncate(dst.fileno(), size)
        os.fsync(dst.fileno())
    return written


@dataclass(frozen=True)
class Published:
    path: Path
    bytes_written: int  # what the publish wrote: the changed blocks, or the whole file
    patched: bool  # an earlier copy was rewritten where it differed (else a full copy)


def publish(working: Path | str, published: Path | str) -> Published:
    """Make a copy of the closed working database next to the published one, then rename
    it over the published file.

    The rename is atomic on POSIX: a reader that holds the old file open keeps reading a
    consistent old snapshot (its inode), and a new reader sees either the old or the new
    file, never a half-written one. The caller must have closed every connection to the
    working database (closing checkpoints it, so the file alone is complete).

    The copy is made from the file the last publish replaced, kept under a hidden second
    name (`.<name>.previous`) for this: only its blocks that differ are written. When a
    reader still holds that file (or there is none), the copy is a new file instead.
    """
    working, published = Path(working), Path(published)
    published.parent.mkdir(parents=True, exist_ok=True)
    staging = published.with_name(f".{published.name}.publishing")
    spare = _spare_path(published)
    if spare.exists() and published.exists() and os.path.samefile(spare, published):
        # A killed publish left the second name on the published file itself.
        spare.unlink()
    if spare.exists() and not staging.exists():
        os.replace(spare, staging)
    # A staging file a killed publish left is as good a start as the spare: every block is
    # compared.
    spare.unlink(missing_ok=True)
    written = _patch(working, staging) if staging.exists() else None
    patched = written is not None
    if written is None:
        staging.unlink(missing_ok=True)  # a reader holding it keeps its bytes
        shutil.copyfile(working, staging)
        with open(staging, "rb+") as handle:
            os.fsync(handle.fileno())
        written = staging.stat().st_size
    try:
        os.link(published, spare)  # the next publish's starting point
    except OSError:  # the first publish, or a file system without hard links
        pass
    os.replace(staging, published)
    directory = os.open(published.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return Published(published, written, patched)


def working_path_for(published: Path | str) -> Path:
    """The working database that stands behind a published file (same folder, hidden)."""
    published = Path(published)
    return published.with_name(f".{published.stem}.work.duckdb")


# --- one writer at a time ----------------------------------------------------------------


class WriterBusy(RuntimeError):
    """Another process holds the writer lock of the working database."""


# Locks this process holds, by lock file: every step of a run (one process) shares one.
_HELD_LOCKS: dict[Path, IO[str]] = {}


def writer_lock_path(working: Path | str) -> Path:
    working = Path(working)
    return working.with_name(f"{working.name}.lock")


def acquire_writer_lock(working: Path | str) -> Path:
    """Take the writer lock of a working database for the rest of this process, or raise
    WriterBusy at once (never wait) when another process holds it.

    The lock is a POSIX record lock (fcntl.lockf) on a file next to the database. Unlike
    flock, it belongs to the process, not to the open file: the spaCy worker processes a
    run forks do not inherit it, so a run killed with SIGKILL frees it at once even while
    its orphaned workers linger. It is re-entrant within a process and released when the
    process exits, however it exits.
    """
    path = writer_lock_path(working)
    key = path.resolve()
    if key in _HELD_LOCKS:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="utf-8")  # held until the process ends
    try:
        fcntl.lockf(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise WriterBusy(
            f"Another Salvo run ({holder}) is writing {Path(working)}. This run stops here "
            "without reading or changing any data; the running one will publish the "
            "warehouse. Wait for it to finish (or let the sensor start the next run)."
        ) from exc
    handle.seek(0)
    handle.truncate()
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    handle.write(f"pid {os.getpid()} on {socket.gethostname()}, since {started}")
    handle.flush()
    _HELD_LOCKS[key] = handle
    return path


def release_writer_lock(working: Path | str) -> None:
    """Release the lock early (tests, long-lived processes); exiting releases it too."""
    handle = _HELD_LOCKS.pop(writer_lock_path(working).resolve(), None)
    if handle is not None:
        handle.close()  # closing the last descriptor drops a POSIX record lock


# --- checksums: "the same tables" made testable ------------------------------------------

# Columns that record *when* a run happened (or a file was written: seed_files.mtime_ns)
# rather than what it computed: a re-run, or a run resumed after a crash, legitimately
# gives them new values. Everything else in every table must be identical for the same
# seeds.
RUN_TIMESTAMP_COLUMNS: dict[str, tuple[str, ...]] = {
    "seed_files": ("first_seen", "last_seen", "mtime_ns"),
    "raw_documents": ("ingested_at",),
    "documents": ("ingested_at",),
    "nlp_runs": ("processed_at", "run_id"),
    # Digests of tables that include the columns above.
    "mart_builds": ("inputs_digest", "rows_digest", "built_at", "previous_rows_digest"),
}


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def query_checksum(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[int, str]:
    """(rows, digest) of a query's result as a multiset of rows.

    Each row is rendered as JSON (unambiguous for strings, lists and nulls) and hashed; the
    row hashes are sorted and hashed together, so the digest does not depend on row order
    (the same as ordering by key, and defined for tables without one) and counts
    duplicate rows.
    """
    row = con.execute(
        "SELECT count(*), md5(coalesce(string_agg(h, '' ORDER BY h), '')) FROM "
        f"(SELECT md5(CAST(to_json(q) AS VARCHAR)) AS h FROM ({sql}) AS q)"
    ).fetchone()
    return (int(row[0]), str(row[1])) if row else (0, "")


def table_checksums(
    con: duckdb.DuckDBPyConnection, tables: Iterable[str] | None = None
) -> dict[str, tuple[int, str]]:
    """(rows, digest) per table, leaving out RUN_TIMESTAMP_COLUMNS.

    Args:
        tables: the tables to hash; default every base table of the main schema (ours,
            the marts and any other stage's), so a new table is covered without a change.
    """
    described = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_catalog = current_database() "
        "AND table_name IN (SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_type = 'BASE TABLE') "
        "ORDER BY table_name, ordinal_position"
    ).fetchall()
    columns: dict[str, list[str]] = {}
    for table, column in described:
        if column not in RUN_TIMESTAMP_COLUMNS.get(table, ()):
            columns.setdefault(table, []).append(column)
    wanted = sorted(columns) if tables is None else list(tables)
    return {
        table: query_checksum(
            con,
            f"SELECT {', '.join(map(_quote, columns.get(table, [])))} FROM {_quote(table)}",
        )
        for table in wanted
    }


def table_exists(con: duckdb.DuckDBPyConnection, table: str, schema: str = "main") -> bool:
    """Looked up rather than tried: a failed statement aborts the caller's transaction."""
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = ? "
        "AND database_name = current_database()",
        [table, schema],
    ).fetchone()
    return bool(row and row[0])


def row_hash_sql(columns: Sequence[str] | None = None, alias: str = "t") -> str:
    """SQL for the hash of a row of the table aliased `alias`: of `columns` only when
    given, of the whole row otherwise."""
    return f"hash({', '.join(map(_quote, columns))})" if columns else f"hash({alias})"


def multiset_sql(row_hash: str) -> str:
    """The aggregates a fingerprint is made of, over the rows' hashes (SQL `row_hash`): the
    count, xor and sum, so that a repeated row does not cancel out."""
    return f"count(*), bit_xor({row_hash}), sum({row_hash}::HUGEINT)"


def table_fingerprint(
    con: duckdb.DuckDBPyConnection,
    table: str,
    schema: str = "main",
    columns: Sequence[str] | None = None,
) -> str | None:
    """A cheap digest of a table's rows as a multiset (row count, xor and sum of the row
    hashes: 0.1 s for 1.5M rows), None when the table does not exist. With `columns`, of
    those columns of each row only (a reader of a few narrow columns of a wide table
    reads only them: 0.01 s for 3 of the 10 columns of 1.5M entities). For telling
    whether a table changed between two runs, not for comparing across DuckDB versions."""
    if not table_exists(con, table, schema):
        return None
    row = con.execute(
        f"SELECT {multiset_sql(row_hash_sql(columns))} FROM {_quote(schema)}.{_quote(table)} t"
    ).fetchone()
    return ":".join(str(value) for value in row) if row else None


def fingerprint_after(before: str, removed: str, added: str) -> str:
    """table_fingerprint of a table that had the fingerprint `before`, after it lost the
    rows whose fingerprint is `removed` and gained those of `added` (count, xor and sum
    are each undone and done row by row), without reading the table again."""

    def parts(fingerprint: str) -> tuple[int, int, int]:
        count, xor, total = (0 if v == "None" else int(v) for v in fingerprint.split(":"))
        return count, xor, total

    (c0, x0, s0), (c1, x1, s1), (c2, x2, s2) = parts(before), parts(removed), parts(added)
    count = c0 - c1 + c2
    # An empty table's xor and sum are NULL, as table_fingerprint reports them.
    return f"{count}:{x0 ^ x1 ^ x2}:{s0 - s1 + s2}" if count else "0:None:None"
