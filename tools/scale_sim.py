"""A warehouse of N documents without parsing them: the parsed rows of a small base
warehouse (built once by the real pipeline from a generated corpus) replicated under new
ids, with a seeds folder that matches them, so that the next real run finds nothing new.

Replica k of a base document gets:

- a text of the same length and letters' frequencies: the base text with its lower-case
  letters permuted (a permutation per replica), so its `doc_id` (a hash of the text), its
  file's hash and DuckDB's compression of the text columns are those of a distinct
  article, while every offset, sentence, entity and claim of the base document still
  points at the same place;
- a file `r<k>_<base name>` in the seeds folder holding exactly that text, with the size,
  modification time and SHA-256 its `seed_files` row records;
- its sentences, entities, claims, `nlp_runs` row, story links, story and passage band
  keys, with ids rebased on the new `doc_id` (band keys re-hashed per replica, so a replica
  is not a near-copy of its base: the share of stories stays that of the base corpus), and
  the texts of its sentences and entities permuted like the document's; a claim's short
  texts (`weapon_text`, `attributed_to`, ...) are copied as they are.

Publication dates are the base corpus's (spread over 2019-2025). The marts are left to
the first real run after the replication, which builds them at size N.
"""

from __future__ import annotations

import os
import random
import string
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from pipeline import schema, segments, warehouse

LETTERS = string.ascii_lowercase
# Replicas inserted per statement: bounds the size of one transaction.
CHUNK = 50
REPLICATION_MEMORY = "4GB"
# Every replicated file's modification time (a day before the simulation).
MTIME_NS = (int(time.time()) - 86_400) * 1_000_000_000


def permutation(k: int) -> str:
    letters = list(LETTERS)
    random.Random(f"replica:{k}").shuffle(letters)
    return "".join(letters)


def _text(column: str) -> str:
    return f"translate({column}, '{LETTERS}', r.perm)"


def _rebased(column: str) -> str:
    """A key that starts with a doc_id (20 characters), moved to the replica's doc_id."""
    return f"m.new || substr(t.{column}, 21)"


def _other(column: str) -> str:
    return f"(SELECT o.new FROM idmap o WHERE o.k = r.k AND o.old = t.{column})"


# Per table: expressions for the columns that change; every other column is copied.
# In scope: t (the base row), r (the replica: k, perm), m (the document's ids: old, new,
# file), b (the base document's raw text), d (its clean text).
OVERRIDES: dict[str, dict[str, str]] = {
    "seed_files": {
        "source_file": "m.file",
        "content_hash": f"sha256({_text('b.raw_text')})",
        "doc_id": "m.new",
        "mtime_ns": str(MTIME_NS),
    },
    "seed_records": {"source_file": "m.file", "doc_id": "m.new"},
    "raw_documents": {
        "doc_id": "m.new",
        "source_file": "m.file",
        "content_hash": f"sha256({_text('t.raw_text')})",
        "raw_text": _text("t.raw_text"),
    },
    "documents": {
        "doc_id": "m.new",
        "source_file": "m.file",
        "clean_text": _text("t.clean_text"),
        "text_hash": f"hash({_text('t.clean_text')})",
    },
    "sentences": {
        "doc_id": "m.new",
        "sentence_id": _rebased("sentence_id"),
        "text": _text("t.text"),
    },
    "entities": {
        "doc_id": "m.new",
        "mention_id": _rebased("mention_id"),
        "sentence_id": _rebased("sentence_id"),
        "text": _text("t.text"),
    },
    "claims": {
        "doc_id": "m.new",
        "claim_id": _rebased("claim_id"),
        "sentence_id": _rebased("sentence_id"),
    },
    "nlp_runs": {"doc_id": "m.new", "text_hash": f"hash({_text('d.clean_text')})"},
    "passage_bands": {
        "doc_id": "m.new",
        "band_key": "(hash(t.band_key, r.k) & 9223372036854775807)::BIGINT",
    },
    # Kept in order (doc_id < other_doc_id): a pair whose new ids are the other way round
    # swaps its two sides.
    "story_links": {
        "doc_id": f"least(m.new, {_other('other_doc_id')})",
        "other_doc_id": f"greatest(m.new, {_other('other_doc_id')})",
        "passages": f"CASE WHEN m.new < {_other('other_doc_id')} THEN t.passages "
        "ELSE t.other_passages END",
        "other_passages": f"CASE WHEN m.new < {_other('other_doc_id')} THEN t.other_passages "
        "ELSE t.passages END",
    },
    "document_stories": {
        "doc_id": "m.new",
        "source_file": "m.file",
        # The smallest doc_id among the story's articles, which is not always the base's.
        "story_id": "(SELECT min(o.new) FROM base_document_stories s JOIN idmap o "
        "ON o.k = r.k AND o.old = s.doc_id WHERE s.story_id = t.story_id)",
        "nearest_doc_id": _other("nearest_doc_id"),
        "text_md5": f"md5({_text('d.clean_text')})",
        "text_hash": f"hash({_text('d.clean_text')})",
    },
}
# The tables the ledger, documents, NLP and stories stages keep; the marts are rebuilt.
REPLICATED = tuple(OVERRIDES)


def _select(table: str) -> str:
    overrides = OVERRIDES[table]
    columns = schema.columns_of(table)
    values = ", ".join(overrides.get(c, f"t.{c}") for c in columns)
    joins = ""
    if table == "seed_files":
        joins = " JOIN base_raw b ON b.doc_id = t.doc_id"
    if table in ("nlp_runs", "document_stories"):
        joins = " JOIN base_docs d ON d.doc_id = t.doc_id"
    return (
        f"INSERT INTO {segments.rows_table(table)} ({', '.join(columns)}) "
        f"SELECT {values} FROM base_{table} t"
        f"{joins} JOIN idmap m ON m.old = t.doc_id JOIN chunk r ON r.k = m.k"
    )


def replicate(
    working: Path, seeds: Path, replicas: int, say: Callable[[str], None] = print
) -> float:
    """Add `replicas` copies of every document of the (closed) working database, and
    their files to `seeds`; return the seconds it took."""
    start = time.perf_counter()
    con = warehouse.connect(working)
    # The replication is not a measured run: its inserts of CHUNK replicas at a time ran
    # out of the pipeline's memory limit past 150,000 documents.
    con.execute(f"SET memory_limit = '{REPLICATION_MEMORY}'")
    try:
        files, ok = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'ingested' AND records = 1) "
            "FROM seed_files"
        ).fetchone() or (0, 0)
        if files != ok:
            raise ValueError("the base corpus must be one ingested record per file")
        for table in REPLICATED:
            con.execute(f"CREATE TEMP TABLE base_{table} AS FROM {table}")
        con.execute("CREATE TEMP TABLE base_raw AS SELECT doc_id, raw_text FROM raw_documents")
        con.execute("CREATE TEMP TABLE base_docs AS SELECT doc_id, clean_text FROM documents")
        con.execute("CREATE TEMP TABLE replicas (k INTEGER, perm VARCHAR)")
        con.executemany(
            "INSERT INTO replicas VALUES (?, ?)",
            [(k, permutation(k)) for k in range(1, replicas + 1)],
        )
        con.execute(
            "CREATE TEMP TABLE idmap AS SELECT r.k, t.doc_id AS old, "
            f"left(sha256({_text('t.raw_text')}), 20) AS new, "
            "'r' || lpad(r.k::VARCHAR, 5, '0') || '_' || t.source_file AS file "
            "FROM base_raw_documents t, replicas r"
        )
        for first in range(1, replicas + 1, CHUNK):
            last = min(first + CHUNK - 1, replicas)
            con.execute(
                "CREATE OR REPLACE TEMP TABLE chunk AS FROM replicas WHERE k BETWEEN ? AND ?",
                [first, last],
            )
            with warehouse.transaction(con):
                for table in REPLICATED:
                    con.execute(_select(table))
            _write_files(con, seeds)
            say(f"  replicas {first}-{last} of {replicas}: {time.perf_counter() - start:.0f} s")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return time.perf_counter() - start


def _write_files(con: duckdb.DuckDBPyConnection, seeds: Path) -> None:
    """The chunk's files: exactly the replicated raw text, stamped as the ledger says."""
    result = con.execute(
        f"SELECT m.file, {_text('t.raw_text')} FROM base_raw t "
        "JOIN idmap m ON m.old = t.doc_id JOIN chunk r ON r.k = m.k"
    )
    stamp = (MTIME_NS, MTIME_NS)
    while rows := result.fetchmany(10_000):
        for name, text in rows:
            path = seeds / name
            with open(path, "wb") as handle:
                handle.write(text.encode("utf-8"))
            os.utime(path, ns=stamp)
