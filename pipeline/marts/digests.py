"""Digests of a mart's inputs: a mart is rebuilt only when its SQL or a table it reads
changed since its last build. Digests cover only the columns a model's SQL names, and are
taken once per run for the tables several marts read."""

from __future__ import annotations

import hashlib
from typing import Protocol

import duckdb

from pipeline import segments, warehouse
from pipeline.marts.models import DOCUMENT_KEY, SqlModel, mart_names

# Per-document digests of the inputs of a model updated by document, for this run (a
# temporary table; those of the last build are in DOCUMENTS_SCHEMA).
DOCUMENT_DIGESTS = "salvo_document_digests"
DOCUMENTS_SCHEMA = "mart_documents"


class RunDigests:
    """Table digests taken during one run, shared by the marts' steps in this process.

    The marts read the same inputs (entities and documents by three marts, claims_enriched
    by three), and no step writes a table another mart reads once the marts start: the
    base tables are written upstream of every mart, and a mart's table only by its own
    step, which records the digest it leaves. The job runs its steps in one process; a
    step run in another process takes its own digests. Only the current run is remembered."""

    def __init__(self) -> None:
        self._run: tuple[str, str] | None = None
        self._digests: dict[str, str | None] = {}

    def _scope(self, run_id: str, database: str) -> dict[str, str | None]:
        if self._run != (run_id, database):
            self._run, self._digests = (run_id, database), {}
        return self._digests

    def get(
        self,
        con: duckdb.DuckDBPyConnection,
        run_id: str,
        database: str,
        table: str,
        columns: list[str] | None = None,
    ) -> str | None:
        """The digest of `table`, of `columns` only when given (of whole rows otherwise)."""
        digests = self._scope(run_id, database)
        key = f"{table}({','.join(columns)})" if columns else table
        if key not in digests:
            digests[key] = warehouse.table_fingerprint(con, table, columns=columns)
        return digests[key]

    def record(self, run_id: str, database: str, table: str, digest: str | None) -> None:
        """The digest of a table's whole rows, taken by the step that wrote it."""
        self._scope(run_id, database)[table] = digest


RUN_DIGESTS = RunDigests()


class Query(Protocol):
    """A model or a check: its SQL, the tables it reads, the columns it can read."""

    @property
    def sql(self) -> str: ...

    @property
    def reads(self) -> tuple[str, ...]: ...

    def columns_read(self, columns: list[str]) -> list[str]: ...


def columns_read(con: duckdb.DuckDBPyConnection, model: Query) -> dict[str, list[str] | None]:
    """Per table the model (or check) reads, the columns its SQL can read (None: whole
    rows). A model's table is always taken whole: the marts updated by group compare its
    digest with the one its own build recorded."""
    described: dict[str, list[str]] = {}
    for table, column in con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'main' "
        "AND database_name = current_database() AND table_name IN (SELECT unnest(?)) "
        "ORDER BY table_name, column_index",
        [list(model.reads)],
    ).fetchall():
        described.setdefault(table, []).append(column)
    return {
        table: None
        if table in mart_names() or table not in described
        else model.columns_read(described[table])
        for table in model.reads
    }


def input_digests(
    con: duckdb.DuckDBPyConnection, model: SqlModel, run_id: str, database: str
) -> dict[str, str | None]:
    """The digest of every table the model reads, of the columns it reads (taken once per
    run): a change to a column no model SQL names (documents.clean_text for the mention
    marts) does not rebuild it, and a wide table costs only its narrow columns."""
    if model.update == "documents":
        # One pass over the inputs: the per-document digests the update by document
        # compares are taken here (kept in a temporary table until the step ends), and
        # the inputs' digest is theirs.
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {DOCUMENT_DIGESTS} AS "
            + document_digests_sql(con, model),
            [model.sql],
        )
        [digest] = con.execute(
            f"SELECT {warehouse.multiset_sql(f'hash({DOCUMENT_KEY}, digest)')} "
            f"FROM {DOCUMENT_DIGESTS}"
        ).fetchall()
        return {DOCUMENT_DIGESTS: ":".join(map(str, digest))}
    columns = columns_read(con, model)
    return {
        table: RUN_DIGESTS.get(con, run_id, database, table, columns[table])
        for table in model.reads
    }


def inputs_fingerprint(model: Query, digests: dict[str, str | None]) -> str:
    """The model's (or check's) SQL and the digests of the tables it reads (or of its
    per-document digests), as one digest."""
    parts = [model.sql, *(f"{t}={digests[t]}" for t in sorted(digests))]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def document_digests_sql(con: duckdb.DuckDBPyConnection, model: SqlModel) -> str:
    """One row per document: a digest of its rows (the columns the model reads) in every
    table the model reads, and of the model's SQL (so a new SQL changes every document).
    Parameter: the model's SQL."""
    columns = columns_read(con, model)
    per_table = " UNION ALL ".join(
        # A segmented table's digests are kept per document by its writers (of whole rows).
        f"SELECT doc_id AS {DOCUMENT_KEY}, hash({index}, rows, row_xor, row_sum) AS h "
        f"FROM ({segments.document_digests_sql(table)})"
        if segments.is_segmented(table)
        else f"SELECT {DOCUMENT_KEY}, "
        f"hash({index}, {warehouse.multiset_sql(warehouse.row_hash_sql(columns[table]))}) AS h "
        f"FROM {table} t GROUP BY {DOCUMENT_KEY}"
        for index, table in enumerate(model.reads)
    )
    return (
        f"SELECT {DOCUMENT_KEY}, hash(bit_xor(h), ?) AS digest FROM ({per_table}) "
        f"GROUP BY {DOCUMENT_KEY}"
    )
