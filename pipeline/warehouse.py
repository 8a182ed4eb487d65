"""Connections, transactions, bulk writes, the writer lock and table digests.

Callers open a connection late and close it early. Identifiers come only from module
constants and `pipeline.schema`; data always travels as bound parameters or as
Arrow/polars frames. The table declarations are in `pipeline.schema`; the atomic copy
users read is made by `pipeline.publish`.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import socket
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import duckdb
import polars as pl

from pipeline import segments
from pipeline.schema import DOCUMENT_TABLES, SEGMENTED_TABLES, columns_of

# DuckDB's own default is 80% of the machine's memory, which it fills with cached pages
# on a large warehouse. A fixed cap keeps the pipeline's peak memory independent of the
# warehouse size; joins and sorts larger than this spill to a temporary directory.
MEMORY_LIMIT = "512MB"
# DuckDB checkpoints (folds the write-ahead log into the file) whenever the log passes
# this size; at its default the NLP stage checkpointed after nearly every batch, and each
# checkpoint cost more as the tables grew (docs/performance.md). Closing a connection
# checkpoints anyway.
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
            raise RuntimeError(held_message(path, exc)) from exc
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


@contextmanager
def segmented_copies(
    con: duckdb.DuckDBPyConnection,
    columns: Mapping[str, Sequence[str]],
    where: str | None = None,
) -> Iterator[None]:
    """Inside the block, each segmented table named in `columns` is read from a temporary
    table of the same name holding those columns of its rows (the rows matching `where`
    when given): DuckDB looks a name up in the temporary schema first, `main.<table>`
    included, so a query runs unchanged over them. Through the views (a UNION ALL of
    Parquet files and a table) DuckDB has no statistics to estimate a join from (at
    300,000 documents: 3,172,118,819 rows for mentions_by_month's join against 4,563,515
    over tables) and plans hash tables and sorts that do not spill; over a table it does.
    The temporary tables spill to DuckDB's temporary directory like any other."""
    [(database,)] = con.execute("SELECT current_database()").fetchall()
    made: list[str] = []
    try:
        for table, names in columns.items():
            if not segments.is_segmented(table):
                continue
            made.append(table)
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT "
                f"{', '.join(_quote(name) for name in names)} "
                f"FROM {_quote(database)}.main.{table}" + (f" WHERE {where}" if where else "")
            )
        yield
    finally:
        for table in made:
            try:
                con.execute(f"DROP TABLE IF EXISTS temp.main.{table}")
            except duckdb.TransactionException:
                pass  # a failed statement aborted the transaction: its rollback drops them


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
            raise RuntimeError(held_message(Path(path), exc)) from exc
        return
    except duckdb.Error:
        return
    con.close()


def held_message(path: Path, exc: Exception) -> str:
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
    insert `frame` in one bulk statement. Call inside a transaction. A segmented table
    (pipeline.segments) is replaced by document: `key` must be doc_id.

    Returns:
        The number of rows inserted.
    """
    assert key in columns_of(table)
    key_values = sorted(set(keys if keys is not None else frame.get_column(key).to_list()))
    if key_values and segments.is_segmented(table):
        assert key == "doc_id", f"{table} is segmented: its rows are replaced by document"
        segments.remove_documents(con, table, key_values)
    elif key_values:
        con.execute(f"DELETE FROM {table} WHERE {key} IN (SELECT unnest(?))", [key_values])
    if frame.height == 0:
        return 0
    insert_frame(con, table, frame)
    return frame.height


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """One bulk INSERT of a polars frame (through Arrow), columns in the table's order.
    The rows of a segmented table go to its unpublished rows (pipeline.segments)."""
    columns = ", ".join(columns_of(table))
    con.register("salvo_incoming", frame.select(columns_of(table)).to_arrow())
    try:
        # Columns by name: a table an older version created has its added columns last.
        con.execute(
            f"INSERT INTO {segments.rows_table(table)} ({columns}) "
            f"SELECT {columns} FROM salvo_incoming"
        )
    finally:
        con.unregister("salvo_incoming")


def insert_parquet(con: duckdb.DuckDBPyConnection, table: str, paths: Sequence[Path]) -> None:
    """One bulk INSERT of Parquet files written from frames of `table`'s columns (of a
    segmented table: into its unpublished rows)."""
    columns = ", ".join(columns_of(table))
    con.execute(
        f"INSERT INTO {segments.rows_table(table)} ({columns}) "
        f"SELECT {columns} FROM read_parquet(?)",
        [[str(path) for path in paths]],
    )


def delete_documents(
    con: duckdb.DuckDBPyConnection, doc_ids: Sequence[str], tables: Sequence[str] = DOCUMENT_TABLES
) -> None:
    """Remove every row that belongs to the given documents. Call inside a transaction."""
    if not doc_ids:
        return
    for table in tables:
        if segments.is_segmented(table):
            segments.remove_documents(con, table, doc_ids)
        else:
            con.execute(f"DELETE FROM {table} WHERE doc_id IN (SELECT unnest(?))", [list(doc_ids)])


def update_column(
    con: duckdb.DuckDBPyConnection, table: str, column: str, value_sql: str, where_sql: str
) -> None:
    """`UPDATE table SET column = value_sql WHERE where_sql` (SQL over the table's columns,
    never user input). A segmented table's files never change: every row of a document
    with a matching row is written again with the new value, and its old rows removed.
    Call inside a transaction."""
    assert column in columns_of(table)
    if not segments.is_segmented(table):
        con.execute(f"UPDATE {table} SET {column} = {value_sql} WHERE {where_sql}")
        return
    con.execute(
        "CREATE OR REPLACE TEMP TABLE salvo_updated AS SELECT * REPLACE "
        f"(CASE WHEN {where_sql} THEN {value_sql} ELSE {column} END AS {column}) "
        f"FROM {table} WHERE doc_id IN (SELECT doc_id FROM {table} WHERE {where_sql})"
    )
    try:
        doc_ids = [
            r[0] for r in con.execute("SELECT DISTINCT doc_id FROM salvo_updated").fetchall()
        ]
        if doc_ids:
            segments.remove_documents(con, table, doc_ids)
            columns = ", ".join(columns_of(table))
            con.execute(
                f"INSERT INTO {segments.rows_table(table)} ({columns}) "
                f"SELECT {columns} FROM salvo_updated"
            )
    finally:
        con.execute("DROP TABLE IF EXISTS salvo_updated")


def clear_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Remove every row of a table. Call inside a transaction."""
    if segments.is_segmented(table):
        segments.remove_all(con, table)
    else:
        con.execute(f"DELETE FROM {table}")


def delete_orphans(
    con: duckdb.DuckDBPyConnection, tables: Sequence[str], parent: str = "documents"
) -> None:
    """Remove the rows of documents that have no row in `parent` (gone since). Call inside
    a transaction."""
    for table in tables:
        if segments.is_segmented(table):
            # The documents the table holds, from its file map: not a scan of its rows.
            gone = [
                r[0]
                for r in con.execute(
                    f"SELECT doc_id FROM ({segments.documents_sql(table)}) "
                    f"WHERE doc_id NOT IN (SELECT doc_id FROM {parent})"
                ).fetchall()
            ]
            if gone:
                segments.remove_documents(con, table, gone)
        else:
            con.execute(f"DELETE FROM {table} WHERE doc_id NOT IN (SELECT doc_id FROM {parent})")


def table_counts(con: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> dict[str, int]:
    """Rows per table; a segmented table's from the row counts its writers keep per
    document (segments.row_count), not from a scan through its view."""
    counts = {}
    for table in tables:
        if segments.is_segmented(table):
            counts[table] = segments.row_count(con, table)
            continue
        row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
        counts[table] = int(row[0]) if row else 0
    return counts


def get_state(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    rows = con.execute("SELECT value FROM pipeline_state WHERE key = ?", [key]).fetchall()
    return rows[0][0] if rows else None


def set_state(con: duckdb.DuckDBPyConnection, key: str, value: str | None) -> None:
    con.execute("DELETE FROM pipeline_state WHERE key = ?", [key])
    con.execute("INSERT INTO pipeline_state VALUES (?, ?)", [key, value])


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
    "mart_builds": (
        "inputs_digest",
        "rows_digest",
        "built_at",
        "previous_rows_digest",
        "storage_stamp",
    ),
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
            the marts and any other stage's) and the views of the segmented tables, so a
            new table is covered without a change.
    """
    described = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_catalog = current_database() "
        "AND table_name IN (SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'main' AND (table_type = 'BASE TABLE' "
        "OR table_name IN (SELECT unnest(?)))) "
        "ORDER BY table_name, ordinal_position",
        [list(SEGMENTED_TABLES)],
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


def database_path(con: duckdb.DuckDBPyConnection) -> str:
    """The absolute path of the connection's database file."""
    [(path,)] = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    return str(path)


def table_exists(con: duckdb.DuckDBPyConnection, table: str, schema: str = "main") -> bool:
    """Looked up rather than tried: a failed statement aborts the caller's transaction.
    A view counts (a segmented table is one)."""
    row = con.execute(
        "SELECT count(*) FROM (SELECT table_name AS name, schema_name, database_name "
        "FROM duckdb_tables() UNION ALL SELECT view_name, schema_name, database_name "
        "FROM duckdb_views()) WHERE name = ? AND schema_name = ? "
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
    hashes), None when the table does not exist. With `columns`, of those columns of each
    row only (a reader of a few narrow columns of a wide table reads only them). For telling
    whether a table changed between two runs, not for comparing across DuckDB versions.

    A segmented table's digest is of whole rows, whatever `columns`, and is read from the
    digests its writers keep per document (segments.table_digest): a change to a column
    the caller does not read then counts as a change, and the digest costs the file map
    instead of a scan of every row."""
    if schema == "main" and segments.is_segmented(table):
        return segments.table_digest(con, table)
    if not table_exists(con, table, schema):
        return None
    row = con.execute(
        f"SELECT {multiset_sql(row_hash_sql(columns))} FROM {_quote(schema)}.{_quote(table)} t"
    ).fetchone()
    return ":".join(str(value) for value in row) if row else None


def storage_stamp(con: duckdb.DuckDBPyConnection, table: str) -> str | None:
    """A digest of how DuckDB stores a table of the main schema: each segment's row group,
    column, rows, statistics, block and pending updates (`pragma_storage_info`), and the
    row count (a delete shows only there). A write to the table moves it (an insert, an
    update, a delete, a rewrite of the file); a checkpoint of other tables does not. None
    when the table does not exist. Not a digest of the rows: the same rows written again
    get another stamp."""
    if not table_exists(con, table):
        return None
    [(segments_digest, rows)] = con.execute(
        "SELECT (SELECT md5(string_agg(concat_ws(',', row_group_id, column_id, segment_id, "
        "start, count, stats, has_updates, persistent, block_id, block_offset, "
        "additional_block_ids), ';' ORDER BY row_group_id, column_id, segment_id)) "
        f"FROM pragma_storage_info(?)), (SELECT count(*) FROM main.{_quote(table)})",
        [table],
    ).fetchall()
    return f"{rows}:{segments_digest}"


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
