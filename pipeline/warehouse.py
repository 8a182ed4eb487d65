"""DuckDB schema, idempotent bulk writes and the atomic publish of the warehouse.

No Dagster here: assets call these functions with a DuckDB connection they opened late
and close early. Identifiers come only from the constants in this module; data always
travels as bound parameters or as Arrow/polars frames.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb
import polars as pl

# Column lists per table, in order. The contract tables come first; extra columns are ours
# (the contract allows additions, never renames).
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
        doc_id VARCHAR
    """,
    "raw_documents": """
        doc_id VARCHAR PRIMARY KEY,
        source_file VARCHAR NOT NULL,
        content_hash VARCHAR NOT NULL,
        encoding VARCHAR NOT NULL,
        raw_text VARCHAR NOT NULL,
        characters INTEGER NOT NULL,
        ingested_at TIMESTAMP NOT NULL
    """,
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
        characters INTEGER NOT NULL
    """,
    "sentences": """
        sentence_id VARCHAR PRIMARY KEY,
        doc_id VARCHAR NOT NULL,
        position INTEGER NOT NULL,
        start_char INTEGER NOT NULL,
        end_char INTEGER NOT NULL,
        text VARCHAR NOT NULL
    """,
    "entities": """
        mention_id VARCHAR PRIMARY KEY,
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
        claim_id VARCHAR PRIMARY KEY,
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
        extractor_version VARCHAR NOT NULL
    """,
    # Which documents went through the NLP pass, and with which extractor and lexicon:
    # a changed version re-extracts exactly the documents it affects.
    "nlp_runs": """
        doc_id VARCHAR PRIMARY KEY,
        extractor_version VARCHAR NOT NULL,
        model VARCHAR NOT NULL,
        processed_at TIMESTAMP NOT NULL
    """,
    "pipeline_state": """
        key VARCHAR PRIMARY KEY,
        value VARCHAR
    """,
}

# Tables keyed by document, in the order rows must leave them when a document goes away.
DOCUMENT_TABLES: tuple[str, ...] = (
    "claims",
    "entities",
    "sentences",
    "nlp_runs",
    "documents",
    "raw_documents",
)


def columns_of(table: str) -> list[str]:
    """Column names of a table of ours, in declaration order."""
    names = []
    for line in SCHEMA[table].strip().splitlines():
        line = line.strip().rstrip(",")
        if line:
            names.append(line.split()[0])
    return names


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table of ours that does not exist yet (idempotent)."""
    for table, body in SCHEMA.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({body})")


def connect(path: Path | str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file with a clear message when another process holds its lock."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise RuntimeError(
                f"The working database {path} is held by another process (is another Salvo "
                "run or a user session writing to it?). Wait for it to finish, or close that "
                f"session, then run again. DuckDB said: {exc}"
            ) from exc
        raise


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
    con.register("salvo_incoming", frame.select(columns_of(table)).to_arrow())
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM salvo_incoming")
    finally:
        con.unregister("salvo_incoming")


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


def publish(working: Path | str, published: Path | str) -> Path:
    """Copy the closed working database next to the published one, then rename it over
    the published file.

    The rename is atomic on POSIX: a reader that holds the old file open keeps reading a
    consistent old snapshot (its inode), and a new reader sees either the old or the new
    file, never a half-written one. The caller must have closed every connection to the
    working database (closing checkpoints it, so the file alone is complete).
    """
    working, published = Path(working), Path(published)
    published.parent.mkdir(parents=True, exist_ok=True)
    staging = published.with_name(f".{published.name}.publishing")
    shutil.copyfile(working, staging)
    with open(staging, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(staging, published)
    directory = os.open(published.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return published


def working_path_for(published: Path | str) -> Path:
    """The working database that stands behind a published file (same folder, hidden)."""
    published = Path(published)
    return published.with_name(f".{published.stem}.work.duckdb")
