"""What `make chaos` checks on a published warehouse: that it opens, its invariants (unique
keys, no orphan rows, a ledger that agrees with the documents, every mart equal to its SQL
recomputed from the base tables, every segment file it names present), and the checksums of
its tables (the segmented tables through their views).

Checksums leave out the run-timestamp columns listed in
`pipeline.warehouse.RUN_TIMESTAMP_COLUMNS`; everything else must match.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb

# The pipeline internals the invariants are written against.
from pipeline import quality, segments, warehouse
from pipeline.marts.models import load_models

# Tables whose rows are keyed by a document but may hold documents that have no row in
# `documents`: the ledger and the raw texts (quarantined or duplicate records).
LEDGER_TABLES = ("seed_files", "seed_records", "raw_documents", "documents")


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_catalog = current_database()"
    ).fetchall()
    return {r[0] for r in rows}


def invariant_violations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every broken invariant of a warehouse, as one line each (empty: all hold)."""
    problems: list[str] = []
    tables = _tables(con)
    for table in quality.KEYS:
        if table not in tables:
            problems.append(f"missing table {table}")
            continue
        if n := quality.duplicate_keys(con, table):
            problems.append(f"{table}: {n} rows with a null or duplicate key")
    if "seed_records" in tables and (
        n := _count(
            con,
            "SELECT count(*) FROM (SELECT 1 FROM seed_records "
            "GROUP BY source_file, record_index HAVING count(*) > 1)",
        )
    ):
        problems.append(f"seed_records: {n} duplicate keys")
    for table in quality.PARENTS:
        if table in tables and (n := quality.orphan_rows(con, table)):
            problems.append(f"{table}: {n} orphan rows")
    # Any other table keyed by document (NLP bookkeeping, stories, ...) must point at one.
    with_doc_id = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'doc_id' "
            "AND table_schema = 'main' AND table_catalog = current_database()"
        ).fetchall()
    }
    marts = {m.name for m in load_models()}
    for table in sorted(with_doc_id - set(LEDGER_TABLES) - set(quality.PARENTS) - marts):
        quoted = '"' + table.replace('"', '""') + '"'
        n = _count(
            con,
            f"SELECT count(*) FROM {quoted} t WHERE t.doc_id IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM documents d WHERE d.doc_id = t.doc_id)",
        )
        if n:
            problems.append(f"{table}: {n} rows of documents that do not exist")
    if {"seed_files", "seed_records", "raw_documents", "documents"} <= tables:
        checks = {
            "ingested records whose text is missing": (
                "SELECT count(*) FROM seed_records r WHERE r.status = 'ingested' AND NOT EXISTS "
                "(SELECT 1 FROM documents d WHERE d.doc_id = r.doc_id)"
            ),
            "documents whose file is not ingested": (
                "SELECT count(*) FROM documents d WHERE NOT EXISTS (SELECT 1 FROM seed_files f "
                "WHERE f.source_file = d.source_file AND f.status = 'ingested')"
            ),
            "ingested files without documents": (
                "SELECT count(*) FROM seed_files f WHERE f.status = 'ingested' AND NOT EXISTS "
                "(SELECT 1 FROM documents d WHERE d.source_file = f.source_file)"
            ),
            "files whose documents count is wrong": (
                "SELECT count(*) FROM seed_files f WHERE f.documents <> (SELECT count(*) FROM "
                "documents d WHERE d.source_file = f.source_file)"
            ),
        }
        for what, sql in checks.items():
            if n := _count(con, sql):
                problems.append(f"ledger: {n} {what}")
    for model in load_models():
        if model.name not in tables:
            problems.append(f"missing mart {model.name}")
            continue
        stored = warehouse.query_checksum(con, f"SELECT * FROM {model.name}")
        try:
            recomputed = warehouse.query_checksum(con, model.sql)
        except duckdb.Error as exc:
            problems.append(f"{model.name}: its SQL fails on the published tables ({exc})")
            continue
        if stored != recomputed:
            problems.append(
                f"{model.name}: {stored[0]} rows stored differ from the {recomputed[0]} "
                "its SQL gives on the base tables"
            )
    return problems


def missing_segment_files(path: Path) -> list[str]:
    """The segment files a warehouse file names that are not where its views look."""
    named = segments.named_paths(path)
    if named is None:
        return ["its segment list cannot be read"]
    return sorted(str(p) for p in named if not p.exists())


def unnamed_segment_files(published: Path) -> list[str]:
    """Segment files in the folder that none of the working, published and previous files
    names: what a finished run's publish must have deleted."""
    named = segments.named_by_closed(
        [published, segments.previous_path_for(published), warehouse.working_path_for(published)]
    )
    if named is None:
        return ["a segment list cannot be read"]
    return [p.name for p in segments.unnamed_files(segments.folder_for(published), named)]


def digest_of(checksums: dict[str, tuple[int, str]]) -> str:
    text = json.dumps(sorted((t, list(v)) for t, v in checksums.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def inspect(path: Path) -> dict:
    """What a fresh reader sees in a published file: does it open, which invariants
    fail, and the checksums of its tables."""
    if not path.exists():
        return {"opens": False, "error": "no file", "violations": [], "checksums": {}}
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        return {"opens": False, "error": str(exc), "violations": [], "checksums": {}}
    try:
        checksums = warehouse.table_checksums(con)
        missing = missing_segment_files(path)
        return {
            "opens": True,
            "violations": invariant_violations(con)
            + [f"names a segment file that is gone: {name}" for name in missing],
            "checksums": {t: list(v) for t, v in checksums.items()},
            "digest": digest_of(checksums),
        }
    finally:
        con.close()
