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
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl


@dataclass(frozen=True)
class Table:
    description: str  # what one row is
    columns: list[tuple[str, str, str]]  # (name, SQL type and constraints, meaning)
    primary_key: tuple[str, ...] = ()  # a key over several columns

    def ddl(self) -> str:
        lines = [f"{name} {kind}" for name, kind, _ in self.columns]
        if self.primary_key:
            lines.append(f"PRIMARY KEY ({', '.join(self.primary_key)})")
        return ", ".join(lines)


# Every table of ours: what one row is, then its columns as (name, SQL type and
# constraints, meaning). A column added later goes at the end of its table, nullable.
TABLES: dict[str, Table] = {
    "seed_files": Table(
        "The ledger: one row per file ever seen in the seeds folder.",
        [
            ("source_file", "VARCHAR PRIMARY KEY", "path relative to the seeds folder"),
            ("content_hash", "VARCHAR", "hash of the file's bytes as last read"),
            (
                "status",
                "VARCHAR NOT NULL",
                "ingested, duplicate (every text it holds is held by another file), "
                "quarantined, or deleted (gone from the folder)",
            ),
            ("reason", "VARCHAR", "why a quarantined file was held back (empty, binary, ...)"),
            ("encoding", "VARCHAR", "the encoding its bytes were decoded with"),
            ("documents", "INTEGER NOT NULL", "documents it yielded"),
            ("first_seen", "TIMESTAMP NOT NULL", "when a run first saw the file"),
            ("last_seen", "TIMESTAMP NOT NULL", "when a run last saw it in the folder"),
            ("size_bytes", "BIGINT", "its size when last looked at"),
            ("replacements", "INTEGER", "undecodable bytes replaced by U+FFFD when decoding"),
            ("duplicate_of", "VARCHAR", "for a duplicate: the file holding its text first"),
            ("doc_id", "VARCHAR", "the document of a file holding exactly one record"),
            ("source_format", "VARCHAR", "txt, md, html, json or jsonl"),
            ("records", "INTEGER", "records found in it (a JSONL file holds many)"),
            ("quarantined_records", "INTEGER", "of those, records held back"),
            ("mtime_ns", "BIGINT", "its modification time when last hashed, in nanoseconds"),
        ],
    ),
    "seed_records": Table(
        "One row per record found in a file (a text file has one, a JSONL file one per "
        "line): which document it became, or why it did not.",
        [
            ("source_file", "VARCHAR NOT NULL", "the file"),
            ("record_index", "INTEGER NOT NULL", "0-based position of the record in it"),
            ("status", "VARCHAR NOT NULL", "ingested, duplicate or quarantined"),
            ("reason", "VARCHAR", "why a quarantined record was held back"),
            ("doc_id", "VARCHAR", "the document its text is"),
            ("duplicate_of", "VARCHAR", "for a duplicate: the file holding its text first"),
        ],
        primary_key=("source_file", "record_index"),
    ),
    "raw_documents": Table(
        "One row per distinct decoded text, with the metadata its record states.",
        [
            ("doc_id", "VARCHAR PRIMARY KEY", "stable id: a hash of the text"),
            ("source_file", "VARCHAR NOT NULL", "the file holding it (the first, if several)"),
            ("content_hash", "VARCHAR NOT NULL", "hash of that file's bytes"),
            ("encoding", "VARCHAR NOT NULL", "the encoding it was decoded with"),
            ("raw_text", "VARCHAR NOT NULL", "the text as decoded, before cleaning"),
            ("characters", "INTEGER NOT NULL", "length of raw_text"),
            ("ingested_at", "TIMESTAMP NOT NULL", "when this text first arrived"),
            ("record_index", "INTEGER", "its record in the file"),
            ("source_format", "VARCHAR", "the file's format"),
            ("title", "VARCHAR", "title stated by the record (JSON field, HTML, front matter)"),
            ("outlet", "VARCHAR", "outlet stated by the record"),
            ("published", "VARCHAR", "publication date as the record states it"),
            ("date_precision", "VARCHAR", "precision the record gives for it"),
            ("url", "VARCHAR", "address stated by the record"),
        ],
    ),
    "documents": Table(
        "One row per distinct article: the cleaned text sentences index into, with title, "
        "outlet and publication date.",
        [
            ("doc_id", "VARCHAR PRIMARY KEY", "stable id derived from the content"),
            ("source_file", "VARCHAR NOT NULL", "path relative to the seeds folder"),
            ("title", "VARCHAR", "headline, null where none can be found"),
            ("outlet", "VARCHAR", "publishing outlet where stated or given in metadata"),
            ("published_date", "DATE", "publication date, null when unknown"),
            ("date_precision", "VARCHAR", "day, month or year"),
            ("date_source", "VARCHAR NOT NULL", "metadata, text or unknown"),
            ("clean_text", "VARCHAR NOT NULL", "the cleaned article body"),
            ("ingested_at", "TIMESTAMP NOT NULL", "first time this content was ingested"),
            ("url", "VARCHAR", "address from the manifest or the record"),
            ("characters", "INTEGER NOT NULL", "length of clean_text"),
            ("record_index", "INTEGER", "its record in source_file"),
            (
                "text_hash",
                "UBIGINT",
                "DuckDB's hash of clean_text, taken when it is written (null: not yet)",
            ),
        ],
    ),
    # The three NLP tables carry no PRIMARY KEY: their ids are derived from doc_id and
    # character offsets, a document's rows are replaced as a whole, and the blocking
    # unique_* asset checks verify every run. DuckDB's key index would cost a third of the
    # write speed of the largest tables (docs/performance.md).
    "sentences": Table(
        "One row per sentence of documents.clean_text.",
        [
            ("sentence_id", "VARCHAR NOT NULL", "stable: doc_id plus position"),
            ("doc_id", "VARCHAR NOT NULL", "the document"),
            ("position", "INTEGER NOT NULL", "0-based order in the document"),
            ("start_char", "INTEGER NOT NULL", "offset into documents.clean_text"),
            ("end_char", "INTEGER NOT NULL", "end offset (exclusive)"),
            ("text", "VARCHAR NOT NULL", "the sentence"),
        ],
    ),
    "entities": Table(
        "One row per entity mention: the lexicon's actors and weapons and the statistical "
        "named entities.",
        [
            ("mention_id", "VARCHAR NOT NULL", "stable: doc_id, offsets and label"),
            ("doc_id", "VARCHAR NOT NULL", "the document"),
            ("sentence_id", "VARCHAR NOT NULL", "the sentence it is in"),
            ("start_char", "INTEGER NOT NULL", "offset into documents.clean_text"),
            ("end_char", "INTEGER NOT NULL", "end offset (exclusive)"),
            ("text", "VARCHAR NOT NULL", "the surface form"),
            ("label", "VARCHAR NOT NULL", "ACTOR, WEAPON, PERSON, ORG, GPE, DATE, ..."),
            ("actor_code", "VARCHAR", "canonical actor of an ACTOR mention"),
            ("weapon_class", "VARCHAR", "canonical class of a WEAPON mention"),
            ("source", "VARCHAR NOT NULL", "lexicon or ner: what found it"),
        ],
    ),
    "claims": Table(
        "One row per claim found in a sentence: a transfer, use or production of weapons.",
        [
            ("claim_id", "VARCHAR NOT NULL", "stable: sentence, roles and weapon position"),
            ("doc_id", "VARCHAR NOT NULL", "the document"),
            ("sentence_id", "VARCHAR NOT NULL", "the sentence that is its evidence"),
            ("relation", "VARCHAR NOT NULL", "supply, use, produce or purchase"),
            ("supplier", "VARCHAR", "actor code of the origin or provider (producer)"),
            ("recipient", "VARCHAR", "actor code of the receiver or user"),
            ("weapon_class", "VARCHAR NOT NULL", "canonical weapon class"),
            ("weapon_text", "VARCHAR NOT NULL", "the words of the weapon in the sentence"),
            ("quantity", "DOUBLE", "number of items when stated"),
            ("quantity_text", "VARCHAR", "the words of the quantity"),
            ("attributed_to", "VARCHAR", "who the claim is attributed to; null: the outlet"),
            ("hedged", "BOOLEAN NOT NULL", "reported as possible, alleged or planned"),
            ("negated", "BOOLEAN NOT NULL", "the sentence denies it"),
            ("trigger_text", "VARCHAR", "the word that states the relation"),
            ("calibre_mm", "VARCHAR", "calibres in millimetres named with the weapon"),
            ("extractor_version", "VARCHAR NOT NULL", "the extraction code, lexicon and model"),
        ],
    ),
    "nlp_runs": Table(
        "Which documents went through the NLP pass, and with which extractor: a changed "
        "version re-extracts exactly the documents it affects.",
        [
            ("doc_id", "VARCHAR PRIMARY KEY", "the document"),
            ("extractor_version", "VARCHAR NOT NULL", "the extraction that parsed it"),
            ("model", "VARCHAR NOT NULL", "the spaCy model"),
            ("processed_at", "TIMESTAMP NOT NULL", "when it was parsed"),
            ("run_id", "VARCHAR", "the Dagster run that parsed it (its checks look at it)"),
        ],
    ),
    "pipeline_state": Table(
        "Small facts the stages keep between runs (versions and fingerprints).",
        [
            ("key", "VARCHAR PRIMARY KEY", "what the fact is about"),
            ("value", "VARCHAR", "its value"),
        ],
    ),
    "mart_builds": Table(
        "What each mart was last built from: a mart whose inputs and rows are unchanged is "
        "not rebuilt.",
        [
            ("mart", "VARCHAR PRIMARY KEY", "the mart's table"),
            ("inputs_digest", "VARCHAR NOT NULL", "digest of its SQL and the tables it reads"),
            ("rows_digest", "VARCHAR", "digest of the rows the build left"),
            ("built_at", "TIMESTAMP NOT NULL", "when"),
            (
                "previous_rows_digest",
                "VARCHAR",
                "for a mart updated in place: its rows' digest before that update",
            ),
        ],
    ),
    "passage_bands": Table(
        "The stories stage's index: LSH band keys per passage of each document, kept so "
        "that a new document is compared without re-reading old texts.",
        [
            ("doc_id", "VARCHAR NOT NULL", "the document"),
            ("passage", "INTEGER NOT NULL", "0-based passage number in it"),
            ("band", "SMALLINT NOT NULL", "the LSH band"),
            ("band_key", "BIGINT NOT NULL", "the band's hash of the passage's MinHash"),
        ],
    ),
    "story_links": Table(
        "Pairs of documents that share passages (doc_id is the smaller id).",
        [
            ("doc_id", "VARCHAR NOT NULL", "one document"),
            ("other_doc_id", "VARCHAR NOT NULL", "the other"),
            ("passages", "INTEGER NOT NULL", "passages of doc_id"),
            ("other_passages", "INTEGER NOT NULL", "passages of other_doc_id"),
            ("shared_passages", "INTEGER NOT NULL", "passages with a near-copy in the other"),
            ("overlap", "DOUBLE NOT NULL", "the larger share of either one's passages shared"),
            ("same_story", "BOOLEAN NOT NULL", "one wire copy republished or rewritten"),
        ],
        primary_key=("doc_id", "other_doc_id"),
    ),
    "document_stories": Table(
        "One row per document: the story it belongs to (documents linked as same_story, "
        "directly or through others).",
        [
            ("doc_id", "VARCHAR PRIMARY KEY", "the document"),
            ("source_file", "VARCHAR NOT NULL", "its file"),
            ("story_id", "VARCHAR NOT NULL", "the story: its smallest doc_id"),
            ("story_documents", "INTEGER NOT NULL", "documents in the story"),
            ("nearest_doc_id", "VARCHAR", "the most similar document in the story"),
            ("similarity", "DOUBLE", "overlap with nearest_doc_id"),
            ("shared_passages", "INTEGER", "passages shared with nearest_doc_id"),
            ("passages", "INTEGER NOT NULL", "passages of the document"),
            ("text_md5", "VARCHAR NOT NULL", "md5 of the text it was indexed with"),
            (
                "text_hash",
                "UBIGINT",
                "DuckDB's hash of that text (cheaper to compare; confirmed with text_md5)",
            ),
        ],
    ),
}


# Each table's column list, as CREATE TABLE takes it.
SCHEMA: dict[str, str] = {table: t.ddl() for table, t in TABLES.items()}


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
