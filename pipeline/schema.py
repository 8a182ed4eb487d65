"""Every table of ours: its columns and SQL types, in one place.

The polars types of the frames written to a table are derived from its SQL types, so a
table's shape is declared once. Schema changes have one mechanism, `ensure_schema`: a
table that does not exist is created, and a column added to a table's declaration goes at
its end, nullable, and is added to existing files with ALTER TABLE. Anything else (a
renamed or retyped column) means rebuilding the warehouse from its seeds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import duckdb
import polars as pl

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
    # write speed of the largest tables (docs/performance.md).
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
        extractor_version VARCHAR NOT NULL
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
    # The stories stage's tables. passage_bands is the LSH index: BANDS keys per passage,
    # kept so a new document is compared without re-reading old texts.
    "passage_bands": """
        doc_id VARCHAR NOT NULL,
        passage INTEGER NOT NULL,
        band SMALLINT NOT NULL,
        band_key BIGINT NOT NULL
    """,
    "story_links": """
        doc_id VARCHAR NOT NULL,
        other_doc_id VARCHAR NOT NULL,
        passages INTEGER NOT NULL,
        other_passages INTEGER NOT NULL,
        shared_passages INTEGER NOT NULL,
        overlap DOUBLE NOT NULL,
        same_story BOOLEAN NOT NULL,
        PRIMARY KEY (doc_id, other_doc_id)
    """,
    # text_hash: DuckDB's hash of the text, cheaper to compare than md5 in every run; not
    # stable across DuckDB versions, so a mismatch is confirmed with text_md5.
    "document_stories": """
        doc_id VARCHAR PRIMARY KEY,
        source_file VARCHAR NOT NULL,
        story_id VARCHAR NOT NULL,
        story_documents INTEGER NOT NULL,
        nearest_doc_id VARCHAR,
        similarity DOUBLE,
        shared_passages INTEGER,
        passages INTEGER NOT NULL,
        text_md5 VARCHAR NOT NULL,
        text_hash UBIGINT
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


def _column_lines(table: str) -> list[str]:
    lines = [line.strip().rstrip(",") for line in SCHEMA[table].strip().splitlines()]
    return [line for line in lines if line and not line.upper().startswith("PRIMARY KEY")]


def columns_of(table: str) -> list[str]:
    """Column names of a table of ours, in declaration order."""
    return [line.split()[0] for line in _column_lines(table)]


def sql_types(table: str) -> dict[str, str]:
    """Column name -> SQL type, in declaration order."""
    return {line.split()[0]: line.split()[1] for line in _column_lines(table)}


def polars_schema(table: str) -> dict[str, Any]:
    """Column name -> polars type, in declaration order."""
    return {name: POLARS_TYPES[kind] for name, kind in sql_types(table).items()}


def frame(table: str, rows: Iterable[Mapping[str, Any]] | Mapping[str, Any] = ()) -> pl.DataFrame:
    """A frame of the table's columns and types, from row dicts or from a dict of columns
    (a missing column is all nulls)."""
    schema = polars_schema(table)
    if isinstance(rows, Mapping):
        return pl.DataFrame({c: rows.get(c, []) for c in schema}, schema=schema)
    return pl.DataFrame(list(rows), schema=schema)


# What SCHEMA declares, as one digest: stored in pipeline_state once a file has been
# brought up to it, so every later connection confirms the schema with one lookup instead
# of listing the catalog.
SCHEMA_DIGEST = hashlib.sha256(repr(sorted(SCHEMA.items())).encode()).hexdigest()[:16]
SCHEMA_STATE_KEY = "schema_digest"


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table of ours that does not exist yet and add the columns a newer
    version declares to tables an older version created (idempotent). A file already
    brought up to this SCHEMA (its digest in pipeline_state) is left alone after one
    lookup."""
    try:
        row = con.execute(
            "SELECT value FROM pipeline_state WHERE key = ?", [SCHEMA_STATE_KEY]
        ).fetchone()
        if row and row[0] == SCHEMA_DIGEST:
            return
    except duckdb.CatalogException:
        pass  # no pipeline_state yet: a new file
    existing: dict[str, set[str]] = {}
    for table, column in con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_catalog = current_database()"
    ).fetchall():
        existing.setdefault(table, set()).add(column)
    con.execute("BEGIN TRANSACTION")
    for table, body in SCHEMA.items():
        if table not in existing:
            con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({body})")
            continue
        for name, kind in sql_types(table).items():
            if name not in existing[table]:
                con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {name} {kind}")
    con.execute("DELETE FROM pipeline_state WHERE key = ?", [SCHEMA_STATE_KEY])
    con.execute("INSERT INTO pipeline_state VALUES (?, ?)", [SCHEMA_STATE_KEY, SCHEMA_DIGEST])
    con.execute("COMMIT")
