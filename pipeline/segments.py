"""The large tables as immutable Parquet segments under a small DuckDB file.

A table declared `segmented = true` in `pipeline/tables.toml` is, in the DuckDB file, a view
of the same name over:

- its segment files, in a folder next to the warehouse (`salvo.segments/` beside
  `salvo.duckdb`): each written once, by the publish of the run that wrote its rows, and
  never changed; the view names each by its absolute path (a relative path would be
  resolved against the reader's working directory) and lists them exactly (a glob would
  show the files of a run that has not published);
- the rows written since the last publish, in the table of the same name in the
  `salvo_rows` schema of the file, where every writer puts them (`pipeline.warehouse`).

A document's rows leave a segment through `salvo_rows.removed`: the rows of `doc_id` in the
segments numbered up to `upto_seq` are dead, and the view leaves them out. Compaction
rewrites a table's smaller segments (or all of them, when many rows are dead) into one new
file, after which the old ones are named by no new file.

The publish copies only the small file. A segment file is deleted (`collect`) only once
none of the working, published and previous small files names it, so the snapshot a reader
holds keeps its files while it is the published or the previous one, and a crash at any
point leaves the published snapshot whole: a file written by a run that did not publish is
named by no published file and is deleted by a later run.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import duckdb

from pipeline.schema import SEGMENTED_TABLES, TABLES, columns_of, sql_types

ROWS_SCHEMA = "salvo_rows"
SEGMENTS_SUFFIX = ".segments"
# Compaction: a table with more segment files than this has its smaller ones merged
# (down to KEEP_FILES files), and all of its files are merged when the documents whose
# rows are dead in them pass DEAD_SHARE of the documents they hold.
MAX_FILES = 8
KEEP_FILES = 4
DEAD_SHARE = 0.25
# The working file is rewritten (without its free blocks) after a publish's flush leaves
# more than this share of it free and at least REWRITE_MIN_FREE bytes.
REWRITE_FREE_SHARE = 0.5
REWRITE_MIN_FREE = 1 << 20
# A table with a key index is copied by the rewrite this many rows per transaction.
REWRITE_CHUNK_ROWS = 500_000
# A segment file's row groups: the Parquet writer holds a whole row group in memory, so
# they are cut at ROW_GROUP_BYTES as well as at DuckDB's default row count (122,880 rows of
# raw_documents' texts are about 450 MB: the flush of 100,000 documents asked for a
# 100 MiB buffer at 412 of its 488 MiB). The file is written by one thread: with two,
# the rows sorted by doc_id wait in memory for their turn to be written (488 MiB of
# buffered rows against 32 MiB with one, the same flush).
ROW_GROUP_ROWS = 122_880
ROW_GROUP_BYTES = "32MB"
# A file of more documents than this is sorted by doc_id one range of this many documents
# at a time, each range into a Parquet file of its own, which are then read in order into
# the segment file: DuckDB's sort of the whole does not spill enough, nor did a temporary
# table holding the sorted ranges (docs/architecture.md, storage).
SORT_RANGE_DOCUMENTS = 50_000

BOOKKEEPING = {
    "segment_files": (
        "tbl VARCHAR NOT NULL, seq INTEGER NOT NULL, file VARCHAR PRIMARY KEY, "
        "rows BIGINT NOT NULL, documents BIGINT NOT NULL, columns VARCHAR NOT NULL"
    ),
    "removed": (
        "tbl VARCHAR NOT NULL, doc_id VARCHAR NOT NULL, upto_seq INTEGER NOT NULL, "
        "PRIMARY KEY (tbl, doc_id)"
    ),
    # Which file holds each document's live rows: a removal is recorded only for a
    # document that has rows in a file (not for a new one), and compaction knows how many
    # documents a table's files hold. With the digest of those rows (DIGEST_COLUMNS), taken
    # as the flush writes them: a table's digest, and each document's, are read from here
    # instead of from the rows.
    "segment_docs": (
        "tbl VARCHAR NOT NULL, doc_id VARCHAR NOT NULL, seq INTEGER NOT NULL, "
        "rows BIGINT, row_xor UBIGINT, row_sum HUGEINT, "
        "PRIMARY KEY (tbl, doc_id)"
    ),
    # The folder the views name (outside the main schema: the same warehouse in another
    # folder has the same tables and checksums).
    "views_folder": "path VARCHAR NOT NULL",
}


# A digest of rows as a multiset: their count, and the xor and the sum of their hashes (as
# warehouse.multiset_sql takes them), so that it adds up document by document.
DIGEST_COLUMNS = {"rows": "BIGINT", "row_xor": "UBIGINT", "row_sum": "HUGEINT"}


def is_segmented(table: str) -> bool:
    return table in SEGMENTED_TABLES


def rows_table(table: str) -> str:
    """Where writers put a table's rows: the unpublished rows of a segmented table."""
    return f"{ROWS_SCHEMA}.{table}" if is_segmented(table) else table


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def folder_for(database: Path | str) -> Path:
    """The segments folder of a warehouse file: `salvo.segments` for `salvo.duckdb` and for
    its working file `.salvo.work.duckdb`."""
    path = Path(database).absolute()
    name = path.name
    if name.startswith(".") and name.endswith(".work.duckdb"):
        stem = name[1 : -len(".work.duckdb")]
    else:
        stem = path.stem  # as warehouse.working_path_for names the working file
    return path.with_name(stem + SEGMENTS_SUFFIX)


def connection_folder(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The segments folder of the connection's file; None for an in-memory database (its
    rows stay in `salvo_rows`)."""
    rows = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    path = rows[0][0] if rows else None
    return folder_for(path) if path else None


# --- the schema --------------------------------------------------------------------------


def ensure(con: duckdb.DuckDBPyConnection, existing: dict[str, set[str]]) -> None:
    """Create the `salvo_rows` schema, its tables and the views; move the rows of a
    segmented table an older version kept as a base table into `salvo_rows`; add declared
    columns. Call inside ensure_schema's transaction. `existing`: the columns of every
    table of the main schema."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {ROWS_SCHEMA}")
    for name, body in BOOKKEEPING.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS {ROWS_SCHEMA}.{name} ({body})")
    for name, kind in DIGEST_COLUMNS.items():
        con.execute(
            f"ALTER TABLE {ROWS_SCHEMA}.segment_docs ADD COLUMN IF NOT EXISTS {name} {kind}"
        )
    held: dict[str, set[str]] = {}
    for table, column in con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = ? AND table_catalog = current_database()",
        [ROWS_SCHEMA],
    ).fetchall():
        held.setdefault(table, set()).add(column)
    base_tables = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' "
            "AND database_name = current_database()"
        ).fetchall()
    }
    for table in SEGMENTED_TABLES:
        if table not in held:
            con.execute(f"CREATE TABLE {ROWS_SCHEMA}.{table} ({TABLES[table].ddl()})")
        else:
            for name, kind in sql_types(table).items():
                if name not in held[table]:
                    con.execute(f"ALTER TABLE {ROWS_SCHEMA}.{table} ADD COLUMN {name} {kind}")
        if table in base_tables:
            # A file from before the table was segmented: its rows become unpublished rows,
            # written to a segment by the next publish.
            kept = [c for c in columns_of(table) if c in existing.get(table, set())]
            names = ", ".join(kept)
            con.execute(
                f"INSERT INTO {ROWS_SCHEMA}.{table} ({names}) SELECT {names} FROM main.{table}"
            )
            con.execute(f"DROP TABLE main.{table}")
    rebuild_views(con)
    _fill_digests(con)


def _fill_digests(con: duckdb.DuckDBPyConnection) -> None:
    """Take the digests of the documents a file holds that have none (a warehouse from
    before segment_docs kept them), from their live rows: once, when the schema is brought
    up."""
    for table in SEGMENTED_TABLES:
        con.execute(
            f"UPDATE {ROWS_SCHEMA}.segment_docs AS s SET rows = d.rows, row_xor = d.row_xor, "
            f"row_sum = d.row_sum FROM ({_digest_rows_sql(f'main.{table}', table)}) AS d "
            f"WHERE s.tbl = ? AND s.doc_id = d.doc_id AND s.rows IS NULL",
            [table],
        )


def _digest_rows_sql(source: str, table: str) -> str:
    """SQL: the digest (DIGEST_COLUMNS) of each document's rows of `source`, which has the
    columns of the segmented `table`."""
    row_hash = f"hash({', '.join(columns_of(table))})"
    return (
        f"SELECT doc_id, count(*) AS rows, bit_xor(h) AS row_xor, sum(h::HUGEINT) AS row_sum "
        f"FROM (SELECT doc_id, {row_hash} AS h FROM {source}) GROUP BY doc_id"
    )


def _digest_parts_sql(table: str) -> str:
    """SQL: the digests (doc_id and DIGEST_COLUMNS) a segmented table's live rows are made
    of: a row per document its files hold, from segment_docs, and a row per document of
    its unpublished rows. A document can have both (written again without being removed)."""
    return (
        f"SELECT doc_id, rows, row_xor, row_sum FROM {ROWS_SCHEMA}.segment_docs "
        f"WHERE tbl = {_literal(table)} "
        f"UNION ALL {_digest_rows_sql(f'{ROWS_SCHEMA}.{table}', table)}"
    )


def document_digests_sql(table: str) -> str:
    """SQL: one row per document with live rows in the segmented `table`, with the digest
    of those rows (doc_id and DIGEST_COLUMNS). What a flush moves from the rows to a file
    keeps its digest, so a run after a publish sees the tables it did not change
    unchanged."""
    return (
        "SELECT doc_id, sum(rows)::BIGINT AS rows, bit_xor(row_xor) AS row_xor, "
        f"sum(row_sum) AS row_sum FROM ({_digest_parts_sql(table)}) GROUP BY doc_id"
    )


def table_digest(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """The digest of a segmented table's live rows, as warehouse.table_fingerprint formats
    one (count:xor:sum), from the digests kept per document and the unpublished rows: the
    cost of the file map, not of the rows. Not comparable with table_fingerprint's digest
    of the same rows (its row hash is another)."""
    [(rows, xor, total)] = con.execute(
        "SELECT sum(rows)::BIGINT, bit_xor(row_xor), sum(row_sum) "
        f"FROM ({_digest_parts_sql(table)})"
    ).fetchall()
    return f"{rows}:{xor}:{total}" if rows else "0:None:None"


def row_count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """The live rows of a segmented table: the counts kept per document, and the
    unpublished rows."""
    [(rows,)] = con.execute(
        f"SELECT (SELECT coalesce(sum(rows), 0) FROM {ROWS_SCHEMA}.segment_docs WHERE tbl = ?) "
        f"+ (SELECT count(*) FROM {ROWS_SCHEMA}.{table})",
        [table],
    ).fetchall()
    return int(rows)


def rebuild_views(
    con: duckdb.DuckDBPyConnection,
    tables: Iterable[str] = SEGMENTED_TABLES,
    check_files: bool = False,
) -> None:
    """(Re)create the views over the current segment files, with the folder's absolute
    path as it is now (a moved folder gets its views back this way). With `check_files`,
    fail with a plain message when a file is not in the folder (a warehouse file copied
    without its segments folder)."""
    folder = connection_folder(con)
    files: dict[str, list[tuple[int, str, list[str]]]] = {}
    for table, seq, file, columns in con.execute(
        f"SELECT tbl, seq, file, columns FROM {ROWS_SCHEMA}.segment_files ORDER BY tbl, seq"
    ).fetchall():
        files.setdefault(table, []).append((seq, file, json.loads(columns)))
    missing = [
        f for listed in files.values() for _, f, _ in listed if folder and not (folder / f).exists()
    ]
    if check_files and missing:
        raise FileNotFoundError(
            f"{len(missing)} Parquet files of the warehouse's large tables are not in {folder} "
            f"(first: {missing[0]}). A warehouse file holds only the small tables; its "
            f"{SEGMENTS_SUFFIX} folder goes with it: copy or move the two together."
        )
    for table in tables:
        con.execute(f"CREATE OR REPLACE VIEW main.{table} AS {_view_sql(table, folder, files)}")
    con.execute(f"DELETE FROM {ROWS_SCHEMA}.views_folder")
    con.execute(f"INSERT INTO {ROWS_SCHEMA}.views_folder VALUES (?)", [str(folder or "")])


def _view_sql(
    table: str, folder: Path | None, files: dict[str, list[tuple[int, str, list[str]]]]
) -> str:
    types = sql_types(table)
    columns = ", ".join(types)
    parts = []
    for seq, file, held in files.get(table, []):
        assert folder is not None, "segment files in an in-memory database"
        selected = ", ".join(
            name if name in held else f"CAST(NULL AS {kind}) AS {name}"
            for name, kind in types.items()
        )
        parts.append(
            f"SELECT {selected} FROM read_parquet({_literal(str(folder / file))}) "
            f"WHERE doc_id NOT IN (SELECT doc_id FROM {ROWS_SCHEMA}.removed "
            f"WHERE tbl = {_literal(table)} AND upto_seq >= {int(seq)})"
        )
    parts.append(f"SELECT {columns} FROM {ROWS_SCHEMA}.{table}")
    return " UNION ALL ".join(parts)


def views_moved(con: duckdb.DuckDBPyConnection, stored_folder: str | None) -> bool:
    """Whether the views name another folder than the file's own (the folder moved); never
    for a read-only connection, which cannot make them again."""
    rows = con.execute(
        "SELECT path, readonly FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    if not rows or rows[0][1]:
        return False
    folder = folder_for(rows[0][0]) if rows[0][0] else None
    return (stored_folder or "") != str(folder or "")


# --- writing -----------------------------------------------------------------------------


def documents_sql(table: str) -> str:
    """SQL for the distinct documents a segmented table has rows of: those its files hold
    (the file map) and those among its unpublished rows."""
    return (
        f"SELECT doc_id FROM {ROWS_SCHEMA}.segment_docs WHERE tbl = {_literal(table)} "
        f"UNION SELECT doc_id FROM {ROWS_SCHEMA}.{table}"
    )


def remove_documents(con: duckdb.DuckDBPyConnection, table: str, doc_ids: Sequence[str]) -> None:
    """Remove the rows of these documents from a segmented table: from the unpublished
    rows, and from the segments through `removed` (for the documents a file holds). Call
    inside a transaction."""
    ids = list(doc_ids)
    con.execute(f"DELETE FROM {ROWS_SCHEMA}.{table} WHERE doc_id IN (SELECT unnest(?))", [ids])
    held = con.execute(
        f"DELETE FROM {ROWS_SCHEMA}.segment_docs WHERE tbl = ? AND doc_id IN "
        "(SELECT unnest(?)) RETURNING doc_id, seq",
        [table, ids],
    ).fetchall()
    if not held:
        return
    # A document removed before keeps the larger seq: its rows in every file up to it
    # are dead.
    con.execute(
        f"INSERT INTO {ROWS_SCHEMA}.removed SELECT ?, unnest(?), unnest(?) "
        "ON CONFLICT (tbl, doc_id) DO UPDATE SET upto_seq = greatest(upto_seq, EXCLUDED.upto_seq)",
        [table, [h[0] for h in held], [int(h[1]) for h in held]],
    )


def remove_all(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Remove every row of a segmented table: its unpublished rows, and its segment files
    from the view (the files stay until no published file names them). Call inside a
    transaction."""
    con.execute(f"DELETE FROM {ROWS_SCHEMA}.{table}")
    for bookkeeping in ("segment_files", "removed", "segment_docs"):
        con.execute(f"DELETE FROM {ROWS_SCHEMA}.{bookkeeping} WHERE tbl = ?", [table])
    rebuild_views(con, [table])


def pull_back(con: duckdb.DuckDBPyConnection, tables: Iterable[str] = SEGMENTED_TABLES) -> None:
    """Move every row of these segmented tables back into their `salvo_rows` tables, where
    plain SQL can change them (a repair by hand, a test that breaks a table on purpose);
    the next publish writes them to a new segment file."""
    con.execute("BEGIN TRANSACTION")
    for table in tables:
        columns = ", ".join(columns_of(table))
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE salvo_pulled AS SELECT {columns} FROM main.{table}"
        )
        remove_all(con, table)
        con.execute(
            f"INSERT INTO {ROWS_SCHEMA}.{table} ({columns}) SELECT {columns} FROM salvo_pulled"
        )
        con.execute("DROP TABLE salvo_pulled")
    con.execute("COMMIT")


@dataclass(frozen=True)
class Flushed:
    files: dict[str, str]  # table -> the segment file written for its new rows
    compacted: dict[str, int]  # table -> segment files merged into one


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy(con: duckdb.DuckDBPyConnection, sql: str, path: Path) -> None:
    """Write a query's rows to a Parquet file in the segments' format, by one thread."""
    [(threads,)] = con.execute("SELECT current_setting('threads')").fetchall()
    con.execute("SET threads = 1")
    try:
        con.execute(
            f"COPY ({sql}) TO {_literal(str(path))} (FORMAT parquet, COMPRESSION zstd, "
            f"ROW_GROUP_SIZE {ROW_GROUP_ROWS}, ROW_GROUP_SIZE_BYTES '{ROW_GROUP_BYTES}')"
        )
    finally:
        con.execute(f"SET threads = {int(threads)}")


def _write_file(
    con: duckdb.DuckDBPyConnection, folder: Path, table: str, seq: int, sql: str
) -> str:
    """Write a query's rows as a new segment file, complete and synced before it gets its
    name (`.tmp` until then); return its name."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{table}.{seq:06d}.{secrets.token_hex(4)}.parquet"
    partial = folder / f"{name}.tmp"
    _copy(con, sql, partial)
    _fsync(partial)
    os.replace(partial, folder / name)
    _fsync(folder)
    return name


def _write_sorted(
    con: duckdb.DuckDBPyConnection, folder: Path, table: str, seq: int, sql: str
) -> str:
    """_write_file of a query's rows sorted by doc_id: sorted whole when they are of at
    most SORT_RANGE_DOCUMENTS documents, otherwise range by range, each range sorted into
    a Parquet file of its own (`.tmp`, deleted after), and those read in order into the
    segment file (one thread: `_copy`)."""
    doc_ids = [
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT doc_id FROM ({sql}) WHERE doc_id IS NOT NULL ORDER BY doc_id"
        ).fetchall()
    ]
    if len(doc_ids) <= SORT_RANGE_DOCUMENTS:
        return _write_file(con, folder, table, seq, f"{sql} ORDER BY doc_id")
    bounds = [_literal(b) for b in doc_ids[SORT_RANGE_DOCUMENTS::SORT_RANGE_DOCUMENTS]]
    # In ORDER BY doc_id's order: nulls last.
    ranges = [
        f"doc_id < {bounds[0]}",
        *(f"doc_id >= {low} AND doc_id < {high}" for low, high in pairwise(bounds)),
        f"doc_id >= {bounds[-1]}",
        "doc_id IS NULL",
    ]
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(4)
    parts = [folder / f"{table}.{seq:06d}.{token}.part{n:04d}.tmp" for n in range(len(ranges))]
    try:
        for where, part in zip(ranges, parts, strict=True):
            _copy(con, f"SELECT * FROM ({sql}) WHERE {where} ORDER BY doc_id", part)
        listing = ", ".join(_literal(str(part)) for part in parts)
        return _write_file(con, folder, table, seq, f"SELECT * FROM read_parquet([{listing}])")
    finally:
        for part in parts:
            part.unlink(missing_ok=True)


def _next_seq(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(
        f"SELECT coalesce(max(seq), 0) FROM {ROWS_SCHEMA}.segment_files WHERE tbl = ?", [table]
    ).fetchall()[0]
    return int(row[0]) + 1 if row else 1


def _register(
    con: duckdb.DuckDBPyConnection, table: str, seq: int, name: str, folder: Path
) -> None:
    rows, documents = con.execute(
        "SELECT count(*), count(DISTINCT doc_id) FROM read_parquet(?)", [str(folder / name)]
    ).fetchall()[0] or (0, 0)
    con.execute(
        f"INSERT INTO {ROWS_SCHEMA}.segment_files VALUES (?, ?, ?, ?, ?, ?)",
        [table, seq, name, rows, documents, json.dumps(columns_of(table))],
    )


def flush(con: duckdb.DuckDBPyConnection) -> Flushed:
    """Write each segmented table's unpublished rows as a new segment file, then compact
    tables that need it. Each file is written first and named in the database in a
    transaction after; a crash in between leaves a file nothing names (`collect` deletes
    it). Nothing for an in-memory database."""
    folder = connection_folder(con)
    if folder is None:
        return Flushed({}, {})
    written: dict[str, str] = {}
    compacted: dict[str, int] = {}
    for table in SEGMENTED_TABLES:
        columns = ", ".join(columns_of(table))
        row = con.execute(f"SELECT count(*) FROM {ROWS_SCHEMA}.{table}").fetchall()[0]
        if row and row[0]:
            seq = _next_seq(con, table)
            name = _write_sorted(
                con, folder, table, seq, f"SELECT {columns} FROM {ROWS_SCHEMA}.{table}"
            )
            con.execute("BEGIN TRANSACTION")
            _register(con, table, seq, name, folder)
            # A document with rows in an earlier file too (written again without being
            # removed) keeps the digest of both.
            con.execute(
                f"INSERT INTO {ROWS_SCHEMA}.segment_docs (tbl, doc_id, seq, rows, row_xor, "
                f"row_sum) SELECT ?, doc_id, ?, rows, row_xor, row_sum FROM "
                f"({_digest_rows_sql(f'{ROWS_SCHEMA}.{table}', table)}) "
                "ON CONFLICT (tbl, doc_id) DO UPDATE SET seq = EXCLUDED.seq, "
                "rows = rows + EXCLUDED.rows, row_xor = xor(row_xor, EXCLUDED.row_xor), "
                "row_sum = row_sum + EXCLUDED.row_sum",
                [table, seq],
            )
            con.execute(f"DELETE FROM {ROWS_SCHEMA}.{table}")
            rebuild_views(con, [table])
            con.execute("COMMIT")
            written[table] = name
        merged = _compact(con, folder, table)
        if merged:
            compacted[table] = merged
    return Flushed(written, compacted)


def _compact(con: duckdb.DuckDBPyConnection, folder: Path, table: str) -> int:
    """Merge a table's segment files when there are too many or many dead rows; return
    how many were merged (0: none). Call with no unpublished rows in the table."""
    files = con.execute(
        f"SELECT seq, file, rows, documents FROM {ROWS_SCHEMA}.segment_files "
        "WHERE tbl = ? ORDER BY rows, seq",
        [table],
    ).fetchall()
    [(dead, live)] = con.execute(
        f"SELECT (SELECT count(*) FROM {ROWS_SCHEMA}.removed WHERE tbl = ?), "
        f"(SELECT count(*) FROM {ROWS_SCHEMA}.segment_docs WHERE tbl = ?)",
        [table, table],
    ).fetchall()
    if dead and files and dead > DEAD_SHARE * (live + dead):
        chosen = files
    elif len(files) > MAX_FILES:
        chosen = files[: len(files) - KEEP_FILES + 1]
    else:
        return 0
    if len(chosen) == 1 and not dead:
        return 0
    seqs = sorted(f[0] for f in chosen)
    listing = {
        table: [(seq, file, json.loads(cols)) for seq, file, cols in _listing(con, table, seqs)]
    }
    seq = _next_seq(con, table)
    name = _write_sorted(con, folder, table, seq, _view_sql(table, folder, listing))
    con.execute("BEGIN TRANSACTION")
    con.execute(
        f"DELETE FROM {ROWS_SCHEMA}.segment_files WHERE tbl = ? AND seq IN (SELECT unnest(?))",
        [table, seqs],
    )
    _register(con, table, seq, name, folder)
    con.execute(
        f"UPDATE {ROWS_SCHEMA}.segment_docs SET seq = ? WHERE tbl = ? "
        "AND seq IN (SELECT unnest(?))",
        [seq, table, seqs],
    )
    # A removal matters only to files up to its seq: none is left below the oldest file.
    con.execute(
        f"DELETE FROM {ROWS_SCHEMA}.removed WHERE tbl = ? AND upto_seq < (SELECT min(seq) "
        f"FROM {ROWS_SCHEMA}.segment_files WHERE tbl = ?)",
        [table, table],
    )
    rebuild_views(con, [table])
    con.execute("COMMIT")
    return len(chosen)


def _listing(
    con: duckdb.DuckDBPyConnection, table: str, seqs: list[int]
) -> list[tuple[int, str, str]]:
    return [
        (int(seq), str(file), str(columns))
        for seq, file, columns in con.execute(
            f"SELECT seq, file, columns FROM {ROWS_SCHEMA}.segment_files "
            "WHERE tbl = ? AND seq IN (SELECT unnest(?)) ORDER BY seq",
            [table, seqs],
        ).fetchall()
    ]


# --- the working file, the folder ---------------------------------------------------------


def mostly_free(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the file is mostly free blocks (after a flush moved many rows out), so that
    rewriting it makes every copy of it smaller."""
    rows = con.execute(
        "SELECT block_size, total_blocks, free_blocks FROM pragma_database_size() "
        "WHERE database_name = current_database()"
    ).fetchall()
    row = rows[0] if rows else None
    if not row or not row[1]:
        return False
    block, total, free = (int(v) for v in row)
    return free > REWRITE_FREE_SHARE * total and free * block >= REWRITE_MIN_FREE


def rewrite(path: Path | str, config: dict[str, str]) -> None:
    """Rewrite a closed database file without its free blocks: copied into a new file,
    synced, then renamed over it (a crash leaves the old file whole)."""
    path = Path(path)
    fresh = path.with_name(f"{path.name}.rewrite")
    fresh.unlink(missing_ok=True)
    con = duckdb.connect(config=dict(config))
    try:
        con.execute(f"ATTACH {_literal(str(path))} AS salvo_old (READ_ONLY)")
        con.execute(f"ATTACH {_literal(str(fresh))} AS salvo_new")
        con.execute("COPY FROM DATABASE salvo_old TO salvo_new (SCHEMA)")
        tables = con.execute(
            "SELECT schema_name, table_name, index_count > 0 OR has_primary_key "
            "FROM duckdb_tables() WHERE database_name = 'salvo_old' AND NOT temporary"
        ).fetchall()
        for schema, table, indexed in tables:
            name = f"{_identifier(schema)}.{_identifier(table)}"
            copy = f"INSERT INTO salvo_new.{name} SELECT * FROM salvo_old.{name}"
            if not indexed:
                con.execute(copy)
                continue
            # A key index stays in memory until it is checkpointed: copied whole, or in
            # chunks without checkpoints, the keys of a few tables of millions of rows did
            # not fit DuckDB's memory limit together.
            [(end,)] = con.execute(
                f"SELECT coalesce(max(rowid) + 1, 0) FROM salvo_old.{name}"
            ).fetchall()
            for low in range(0, int(end), REWRITE_CHUNK_ROWS):
                con.execute(
                    f"{copy} WHERE rowid >= ? AND rowid < ?", [low, low + REWRITE_CHUNK_ROWS]
                )
                con.execute("CHECKPOINT salvo_new")
        con.execute("DETACH salvo_new")
        con.execute("DETACH salvo_old")
    finally:
        con.close()
    _fsync(fresh)
    os.replace(fresh, path)
    _fsync(path.parent)


def named_files(path: Path | str) -> set[str] | None:
    """The segment files a closed warehouse file names (empty for a file from before
    segments); None when it cannot be read (then nothing may be deleted)."""
    named = named_paths(path)
    return None if named is None else {p.name for p in named}


def named_paths(path: Path | str) -> set[Path] | None:
    """The segment files a closed warehouse file names, where its views look for them
    (empty for a file from before segments); None when it cannot be read."""
    path = Path(path)
    if not path.exists():
        return set()
    try:
        con = duckdb.connect()
    except duckdb.Error:
        return None
    try:
        con.execute(f"ATTACH {_literal(str(path))} AS salvo_named (READ_ONLY)")
        try:
            folder = con.execute(
                f"SELECT path FROM salvo_named.{ROWS_SCHEMA}.views_folder"
            ).fetchall()
            files = con.execute(
                f"SELECT file FROM salvo_named.{ROWS_SCHEMA}.segment_files"
            ).fetchall()
        except duckdb.CatalogException:
            return set()
        where = Path(folder[0][0]) if folder and folder[0][0] else folder_for(path)
        return {where / r[0] for r in files}
    except duckdb.Error:
        return None
    finally:
        con.close()


def current_files(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute(f"SELECT file FROM {ROWS_SCHEMA}.segment_files").fetchall()}


def unnamed_files(folder: Path, named: set[str]) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name not in named)


def previous_path_for(published: Path | str) -> Path:
    """The file the last publish replaced, which the next publish rewrites into its copy."""
    published = Path(published)
    return published.with_name(f".{published.name}.previous")


def named_by_closed(paths: Iterable[Path]) -> set[str] | None:
    """Every segment file the given closed warehouse files name (None: one of them cannot
    be read)."""
    named: set[str] = set()
    for path in paths:
        files = named_files(path)
        if files is None:
            return None
        named |= files
    return named


def collect(con: duckdb.DuckDBPyConnection, published: Path | str) -> list[str]:
    """Delete the segment files that none of the working (`con`), published and previous
    files names: those compaction replaced two publishes ago, and those a crashed run
    wrote and never named. Call after a publish has completed. Returns their names."""
    folder = connection_folder(con)
    if folder is None:
        return []
    published = Path(published)
    closed = named_by_closed([published, previous_path_for(published)])
    if closed is None:
        return []  # unreadable: keep everything
    named = current_files(con) | closed
    removed = []
    for path in unnamed_files(folder, named):
        path.unlink(missing_ok=True)
        removed.append(path.name)
    return removed


def disk_usage(folder: Path | str) -> int:
    """Bytes of every file in a folder and its subfolders."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())
