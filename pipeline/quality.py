"""Invariants of the warehouse, as queries that count offending rows (zero = pass).

The Dagster asset checks in `assets/checks.py` run these; tests call them too.
Table and column names come only from the constants below.
"""

from __future__ import annotations

import duckdb

from pipeline import warehouse

KEYS: dict[str, str] = {
    "seed_files": "source_file",
    "raw_documents": "doc_id",
    "documents": "doc_id",
    "sentences": "sentence_id",
    "entities": "mention_id",
    "claims": "claim_id",
}
# child table -> (column, parent table, parent key)
PARENTS: dict[str, list[tuple[str, str, str]]] = {
    "documents": [("doc_id", "raw_documents", "doc_id")],
    "sentences": [("doc_id", "documents", "doc_id")],
    "entities": [("doc_id", "documents", "doc_id"), ("sentence_id", "sentences", "sentence_id")],
    "claims": [("doc_id", "documents", "doc_id"), ("sentence_id", "sentences", "sentence_id")],
}
OFFSET_TABLES = ("sentences", "entities")
# Above this share of undated documents, monthly marts say little: warn, do not block.
UNDATED_WARN_SHARE = 0.5


# The tables a run writes only for the documents it parses (nlp_runs.run_id says which):
# their checks can be scoped to those documents' rows.
RUN_SCOPED = ("sentences", "entities", "claims")
RUN_DOCUMENTS = "SELECT doc_id FROM nlp_runs WHERE run_id = $run"
# The digest of what each check read when it last passed: a run that finds the same digest
# has nothing new to check. Run bookkeeping, kept outside the main schema.
PASSES_SCHEMA = "check_passes"
PASSES = f"{PASSES_SCHEMA}.passed"


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> int:
    row = con.execute(sql, params or {}).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _scope(con: duckdb.DuckDBPyConnection, table: str, run_id: str | None) -> tuple[str, dict]:
    """A condition on alias t keeping the rows of the documents the run parsed, and its
    parameters; no condition for a table the run does not write per document, or run_id
    None (every row)."""
    if run_id is None or table not in RUN_SCOPED:
        return "true", {}
    # The run's documents as a list, not a subquery: through a segmented table's view
    # DuckDB cannot estimate a subquery's few rows against the table's and joined them
    # the wrong way round (docs/performance.md).
    docs = [r[0] for r in con.execute(RUN_DOCUMENTS, {"run": run_id}).fetchall()]
    return "t.doc_id IN (SELECT unnest($docs::VARCHAR[]))", {"docs": docs}


def duplicate_keys(con: duckdb.DuckDBPyConnection, table: str, run_id: str | None = None) -> int:
    """Rows whose key is null or shared with another row. Scoped to a run: the keys of its
    rows, each compared with the whole table."""
    key = KEYS[table]
    scope, params = _scope(con, table, run_id)
    if not params:
        return _count(
            con,
            f"SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {table} "
            f"GROUP BY {key} HAVING count(*) > 1 OR {key} IS NULL)",
        )
    # The run's keys first, in a table: through a segmented table's view DuckDB cannot
    # estimate how few they are, and built its hash table on the whole table's keys
    # instead (docs/performance.md).
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE salvo_run_keys AS SELECT t.{key} FROM {table} t "
        f"WHERE {scope}",
        params,
    )
    try:
        [(rows, nulls)] = con.execute(
            f"SELECT count(*), count(*) FILTER ({key} IS NULL) FROM salvo_run_keys"
        ).fetchall()
        if not rows:
            return 0
        return nulls + _count(
            con,
            f"SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {table} WHERE "
            f"{key} IN (SELECT {key} FROM salvo_run_keys) GROUP BY {key} HAVING count(*) > 1)",
        )
    finally:
        con.execute("DROP TABLE IF EXISTS salvo_run_keys")


def orphan_rows(con: duckdb.DuckDBPyConnection, table: str, run_id: str | None = None) -> int:
    """Rows pointing at a parent row that does not exist.

    Args:
        run_id: the parents a run writes per document (sentences) are looked up only for
            the rows of the documents that run parsed: a document's rows in all three NLP
            tables are written and deleted together, by the run that parses it. The other
            parents (documents) are looked up for every row, always: a row left behind by
            a document that went away belongs to no run's documents. None: every row.
    """
    total = 0
    for column, parent, parent_key in PARENTS[table]:
        scope, params = _scope(con, table, run_id) if parent in RUN_SCOPED else ("true", {})
        rows = table
        if params:
            # The column alone, cut first (a subquery of `*` made DuckDB read every
            # column), into a table: through a view DuckDB cannot tell how few they are.
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE salvo_run_rows AS SELECT {column} "
                f"FROM {table} t WHERE {scope}",
                params,
            )
            rows = "salvo_run_rows"
        try:
            total += _count(
                con,
                f"SELECT count(*) FROM {rows} t WHERE NOT EXISTS "
                f"(SELECT 1 FROM {parent} p WHERE p.{parent_key} = t.{column})",
            )
        finally:
            con.execute("DROP TABLE IF EXISTS salvo_run_rows")
    return total


def offset_mismatches(
    con: duckdb.DuckDBPyConnection, table: str, run_id: str | None = None
) -> tuple[int, int]:
    """(rows where clean_text[start_char:end_char] is not the stored text, rows checked).

    Args:
        run_id: check only the rows of the documents that run parsed (nlp_runs.run_id);
            None checks every row.
    """
    assert table in OFFSET_TABLES
    scope, params = _scope(con, table, run_id)
    # Scoped, both sides are cut to the run's documents before the join (joined first,
    # every text was read), into tables: through the segmented tables' views DuckDB cannot
    # tell how few rows they are (2.4-2.8 s for one document at 300,000 documents).
    rows, documents = table, "documents"
    if params:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE salvo_run_rows AS SELECT doc_id, start_char, "
            f"end_char, text FROM {table} t WHERE {scope}",
            params,
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE salvo_run_texts AS SELECT doc_id, clean_text "
            "FROM documents t WHERE " + scope,
            params,
        )
        rows, documents = "salvo_run_rows", "salvo_run_texts"
    try:
        row = con.execute(
            "SELECT count(*) FILTER (WHERE t.start_char < 0 OR t.end_char > "
            "length(d.clean_text) OR substring(d.clean_text, t.start_char + 1, "
            "t.end_char - t.start_char) <> t.text), "
            f"count(*) FROM {rows} t JOIN {documents} d ON d.doc_id = t.doc_id"
        ).fetchone()
    finally:
        con.execute("DROP TABLE IF EXISTS salvo_run_rows")
        con.execute("DROP TABLE IF EXISTS salvo_run_texts")
    return (int(row[0]), int(row[1])) if row else (0, 0)


def missing_documents(con: duckdb.DuckDBPyConnection) -> int:
    """1 when files were ingested but no document exists, else 0."""
    ingested = _count(con, "SELECT count(*) FROM seed_files WHERE status = 'ingested'")
    documents = _count(con, "SELECT count(*) FROM documents")
    return int(ingested > 0 and documents == 0)


def empty_documents(con: duckdb.DuckDBPyConnection, since_passed: bool = False) -> int:
    """Documents whose text is empty or only whitespace. A search for the first character
    that is not whitespace, not a trimmed copy of every text.

    Args:
        since_passed: 0 without reading a text when the documents' rows are what they
            were when this last found none (their digest: of doc_id and text_hash, or of
            whole rows where the writers keep it, warehouse.table_fingerprint).
    """
    digest = None
    if since_passed:
        digest = warehouse.table_fingerprint(con, "documents", columns=["doc_id", "text_hash"])
        if digest is not None and passed_with(con, "empty_documents", digest):
            return 0
    count = _count(
        con, r"SELECT count(*) FROM documents WHERE NOT regexp_matches(clean_text, '\S')"
    )
    if digest is not None:
        record_outcome(con, "empty_documents", digest, count == 0)
    return count


def passed_with(con: duckdb.DuckDBPyConnection, check: str, digest: str) -> bool:
    """Whether the check last passed on inputs of this digest."""
    if not warehouse.table_exists(con, "passed", schema=PASSES_SCHEMA):
        return False
    return bool(
        _count(
            con,
            f"SELECT count(*) FROM {PASSES} WHERE check_name = $check AND inputs_digest = $digest",
            {"check": check, "digest": digest},
        )
    )


def record_outcome(con: duckdb.DuckDBPyConnection, check: str, digest: str, passed: bool) -> None:
    """Remember the inputs of a pass; forget them on a failure."""
    with warehouse.transaction(con):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {PASSES_SCHEMA}")
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {PASSES} "
            "(check_name VARCHAR PRIMARY KEY, inputs_digest VARCHAR NOT NULL)"
        )
        con.execute(f"DELETE FROM {PASSES} WHERE check_name = ?", [check])
        if passed:
            con.execute(f"INSERT INTO {PASSES} VALUES (?, ?)", [check, digest])


def undated_share(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(undated documents, all documents)."""
    row = con.execute(
        "SELECT count(*) FILTER (WHERE published_date IS NULL), count(*) FROM documents"
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def quarantined(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int | None, str | None]]:
    """What the ledger holds back, as (source_file, record_index, reason): each quarantined
    file (record_index None), and each quarantined record of a file that was otherwise
    ingested (a bad line of a JSONL crawl dump, say). By file name, then record."""
    return con.execute(
        "SELECT source_file, NULL::INTEGER AS record_index, reason FROM seed_files "
        "WHERE status = 'quarantined' "
        "UNION ALL SELECT r.source_file, r.record_index, r.reason FROM seed_records r "
        "JOIN seed_files f USING (source_file) "
        "WHERE r.status = 'quarantined' AND f.status <> 'quarantined' "
        "ORDER BY source_file, record_index NULLS FIRST"
    ).fetchall()


def describe_quarantined(rows: list[tuple[str, int | None, str | None]], limit: int = 20) -> str:
    """One line naming what was held back and why: "a.bin (binary), b.jsonl#3 (bad_json)"."""
    names = [
        f"{name}{'' if index is None else f'#{index}'} ({reason or 'no reason'})"
        for name, index, reason in rows[:limit]
    ]
    more = f", and {len(rows) - limit} more" if len(rows) > limit else ""
    return ", ".join(names) + more
