"""Every table of ours, as `pipeline/tables.toml` declares it once: what one row is, its
columns with their SQL types and meanings.

The DDL and the polars types of the frames written to a table are derived from that file,
so a table's shape is declared once. Schema changes have one mechanism, `ensure_schema`: a
table that does not exist is created, and a column added to a table's declaration goes at
its end, nullable, and is added to existing files with ALTER TABLE. Anything else (a
renamed or retyped column) means rebuilding the warehouse from its seeds.
"""

from __future__ import annotations

import functools
import hashlib
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

TABLES_FILE = Path(__file__).with_name("tables.toml")


@dataclass(frozen=True)
class Table:
    description: str  # what one row is
    columns: list[tuple[str, str, str]]  # (name, SQL type and constraints, meaning)
    primary_key: tuple[str, ...] = ()  # a key over several columns
    contract: tuple[str, ...] = ()  # the columns of the warehouse contract
    segmented: bool = False  # kept as Parquet segments under a view (pipeline.segments)

    def ddl(self) -> str:
        lines = [f"{name} {kind}" for name, kind, _ in self.columns]
        if self.primary_key:
            lines.append(f"PRIMARY KEY ({', '.join(self.primary_key)})")
        return ", ".join(lines)


def _load_tables(path: Path = TABLES_FILE) -> dict[str, Table]:
    declared = tomllib.loads(path.read_text(encoding="utf-8"))
    return {
        name: Table(
            table["description"],
            [(name, kind, meaning) for name, kind, meaning in table["columns"]],
            tuple(table.get("primary_key", ())),
            tuple(table.get("contract", ())),
            bool(table.get("segmented", False)),
        )
        for name, table in declared.items()
    }


TABLES: dict[str, Table] = _load_tables()
# Each table's column list, as CREATE TABLE takes it.
SCHEMA: dict[str, str] = {table: t.ddl() for table, t in TABLES.items()}
# The large append-mostly tables, kept as immutable Parquet segment files named by a view
# of the table's name (pipeline/segments.py); every other table is a base table.
SEGMENTED_TABLES: tuple[str, ...] = tuple(t for t, d in TABLES.items() if d.segmented)


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

# The polars type of each SQL type the tables use.
POLARS_TYPES: dict[str, Any] = {
    "VARCHAR": pl.String,
    "INTEGER": pl.Int32,
    "BIGINT": pl.Int64,
    "SMALLINT": pl.Int16,
    "UBIGINT": pl.UInt64,
    "DOUBLE": pl.Float64,
    "BOOLEAN": pl.Boolean,
    "DATE": pl.Date,
    "TIMESTAMP": pl.Datetime("us"),
}


def columns_of(table: str) -> list[str]:
    """Column names of a table of ours, in declaration order."""
    return [name for name, _, _ in TABLES[table].columns]


def sql_types(table: str) -> dict[str, str]:
    """Column name -> SQL type, in declaration order."""
    return {name: kind.split()[0] for name, kind, _ in TABLES[table].columns}


def column_descriptions(table: str) -> dict[str, str]:
    """Column name -> what it means, in declaration order."""
    return {name: meaning for name, _, meaning in TABLES[table].columns}


def polars_schema(table: str) -> dict[str, Any]:
    """Column name -> polars type, in declaration order."""
    return {name: POLARS_TYPES[kind] for name, kind in sql_types(table).items()}


def frame(table: str, rows: Iterable[Mapping[str, Any]] | Mapping[str, Any] = ()) -> pl.DataFrame:
    """A frame of the table's columns and types, from row dicts or from a dict of columns
    (a missing column is all nulls)."""
    schema = polars_schema(table)
    if isinstance(rows, Mapping):
        height = max((len(values) for values in rows.values()), default=0)
        return pl.DataFrame({c: rows.get(c, [None] * height) for c in schema}, schema=schema)
    return pl.DataFrame(list(rows), schema=schema)


# What SCHEMA declares, as one digest: stored in pipeline_state once a file has been
# brought up to it, so every later connection confirms the schema with one lookup instead
# of listing the catalog.
@functools.cache
def schema_digest() -> str:
    """SCHEMA, the segmented tables and their bookkeeping tables (pipeline.segments, which
    imports this module), as one digest."""
    from pipeline.segments import BOOKKEEPING

    declared = (sorted(SCHEMA.items()), SEGMENTED_TABLES, sorted(BOOKKEEPING.items()))
    return hashlib.sha256(repr(declared).encode()).hexdigest()[:16]


SCHEMA_STATE_KEY = "schema_digest"


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table of ours that does not exist yet and add the columns a newer
    version declares to tables an older version created (idempotent). A file already
    brought up to this SCHEMA (its digest in pipeline_state) is left alone after one
    lookup, unless its folder moved (the views of the segmented tables are made again)."""
    from pipeline import segments

    try:
        # fetchall, not fetchone: no result is left open on the connection, which would
        # stop a caller registering a frame on it.
        [(digest, folder)] = con.execute(
            "SELECT (SELECT value FROM pipeline_state WHERE key = ?), "
            f"(SELECT path FROM {segments.ROWS_SCHEMA}.views_folder)",
            [SCHEMA_STATE_KEY],
        ).fetchall()
        if digest == schema_digest():
            if segments.views_moved(con, folder):
                con.execute("BEGIN TRANSACTION")
                try:
                    segments.rebuild_views(con, check_files=True)
                except FileNotFoundError:
                    con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")
            return
    except duckdb.CatalogException:
        pass  # no pipeline_state (a new file) or no salvo_rows (an older one)
    existing: dict[str, set[str]] = {}
    for table, column in con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_catalog = current_database()"
    ).fetchall():
        existing.setdefault(table, set()).add(column)
    con.execute("BEGIN TRANSACTION")
    for table, body in SCHEMA.items():
        if table in SEGMENTED_TABLES:
            continue  # segments.ensure below
        if table not in existing:
            con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({body})")
            continue
        for name, kind in sql_types(table).items():
            if name not in existing[table]:
                con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {name} {kind}")
    segments.ensure(con, existing)
    con.execute("DELETE FROM pipeline_state WHERE key = ?", [SCHEMA_STATE_KEY])
    con.execute("INSERT INTO pipeline_state VALUES (?, ?)", [SCHEMA_STATE_KEY, schema_digest()])
    con.execute("COMMIT")
