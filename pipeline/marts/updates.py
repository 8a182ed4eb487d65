"""How a mart's table is brought up to date when its inputs changed: rebuilt whole, by
diff, by group, or by document (see `pipeline.marts.models` for which model uses which, and
docs/architecture.md for what each buys)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from pipeline import warehouse
from pipeline.marts.digests import DOCUMENT_DIGESTS, DOCUMENTS_SCHEMA, inputs_fingerprint
from pipeline.marts.inputs import segmented_inputs
from pipeline.marts.models import CHANGE_KEEPING, DOCUMENT_KEY, SqlModel

# Beyond this many changed groups, recomputing them one predicate each costs more than
# a rebuild.
MAX_CHANGED_GROUPS = 500
CHANGES_SCHEMA = "mart_changes"
# Past this share of the documents (and FEW_DOCUMENTS), an update by document gives way
# to a diff, which is cheaper when most documents changed.
MAX_CHANGED_DOCUMENTS_SHARE = 0.2
FEW_DOCUMENTS = 100
# A model updated by document is built whole in one statement, in its SQL's order, up to
# SORTED_BUILD_DOCUMENTS documents; past that, one batch of at most BUILD_BATCH_DOCUMENTS
# documents per statement, without its ORDER BY: then DuckDB's memory limit bounds the
# build whatever the warehouse's size. Through the views of the segmented tables, DuckDB
# estimates the joins' rows a thousand times too high and the sort of the wide rows does
# not spill: claims_enriched sorted in batches of 50,000 documents ran out of 512 MB at
# 100,000 documents, and built within 256 MB unsorted (docs/architecture.md).
SORTED_BUILD_DOCUMENTS = 10_000
BUILD_BATCH_DOCUMENTS = 50_000
# The key of an update's result that carries the table's new digest, when the update
# could derive it from the rows it changed.
ROWS_DIGEST = "rows_digest"


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return [tuple(row[:2]) for row in con.execute(f"DESCRIBE {table}").fetchall()]


@dataclass(frozen=True)
class Build:
    """What mart_builds says about a mart, and the digest of its table now."""

    inputs: str
    rows: str | None
    stored: str | None  # the table's digest at the start of this update


def update(
    con: duckdb.DuckDBPyConnection,
    model: SqlModel,
    built: Build | None,
    digests: dict[str, str | None],
) -> dict[str, Any]:
    """Bring the model's table up to date inside the caller's transaction; return what
    changed. On an error the caller's transaction rolls the temporary tables back with
    everything else."""
    changes = None
    if model.update == "groups" and built is not None:
        changes = _update_groups(con, model, built, digests)
    if model.update == "documents" and built is not None:
        changes = _update_documents(con, model, built)
    batches = _document_batches(con) if model.update == "documents" else 0
    if changes is None and model.update in CHANGE_KEEPING and not batches:
        if warehouse.table_exists(con, model.name):
            changes = _update_diff(con, model)
    if changes is None and batches:
        changes = _rebuild_by_documents(con, model, batches)
    if changes is None:
        with segmented_inputs(con, model):
            con.execute(f"CREATE OR REPLACE TABLE {model.name} AS {model.sql}")
        changes = {"update": "rebuild"}
    if model.update == "documents" and changes["update"] != "documents":
        # Every document's digest (taken by input_digests), for the next run's update by
        # document.
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {DOCUMENTS_SCHEMA}")
        con.execute(
            f"CREATE OR REPLACE TABLE {DOCUMENTS_SCHEMA}.{model.name} AS "
            f"SELECT * FROM {DOCUMENT_DIGESTS}"
        )
    return changes


def _document_batches(con: duckdb.DuckDBPyConnection) -> int:
    """How many batches of documents a build of a model updated by document takes, 0 for
    one sorted statement (from this run's per-document digests, taken by input_digests)."""
    [(documents,)] = con.execute(f"SELECT count({DOCUMENT_KEY}) FROM {DOCUMENT_DIGESTS}").fetchall()
    if documents <= SORTED_BUILD_DOCUMENTS:
        return 0
    return -(-documents // BUILD_BATCH_DOCUMENTS)


def _rebuild_by_documents(
    con: duckdb.DuckDBPyConnection, model: SqlModel, batches: int
) -> dict[str, Any]:
    """Build the table whole, one batch of documents (by doc_id) per statement, then the
    rows without a doc_id, each unsorted (the model's SQL without its ORDER BY). Every
    join of the model matches doc_id on both sides, so the rows of one batch's input rows
    are exactly that batch's rows of the whole result."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE salvo_batches AS "
        f"SELECT {DOCUMENT_KEY}, ntile({batches}) OVER (ORDER BY {DOCUMENT_KEY}) AS batch "
        f"FROM {DOCUMENT_DIGESTS} WHERE {DOCUMENT_KEY} IS NOT NULL"
    )
    picks = [
        f"{DOCUMENT_KEY} IN (SELECT {DOCUMENT_KEY} FROM salvo_batches WHERE batch = {batch})"
        for batch in range(1, batches + 1)
    ]
    for number, pick in enumerate([*picks, f"{DOCUMENT_KEY} IS NULL"]):
        # Each input cut to the batch (a CTE of a table's name hides it).
        inputs = ", ".join(
            f"{table} AS (SELECT * FROM main.{table} WHERE {pick})" for table in model.reads
        )
        rows = f"WITH {inputs} SELECT * FROM ({model.unordered_sql}\n)"
        # Not over copies of its inputs (segmented_inputs): at 300,000 documents the
        # copies of claims_enriched's batches, in the transaction with the rows built
        # before them, ran out of 512 MB; through the views unsorted batches build.
        if number == 0:
            con.execute(f"CREATE OR REPLACE TABLE {model.name} AS {rows}")
        else:
            con.execute(f"INSERT INTO {model.name} {rows}")
    con.execute("DROP TABLE salvo_batches")
    return {"update": "rebuild", "batches": batches}


def _update_documents(
    con: duckdb.DuckDBPyConnection, model: SqlModel, built: Build
) -> dict[str, Any] | None:
    """The rows of the documents whose input rows changed since the last build (by their
    digests in mart_documents.<model>) are computed again; the other documents' rows stay.
    The removed and added rows are kept in mart_changes.<model>, as a diff keeps them.
    None (a diff instead) when the table is not what the last build left, the digests
    are missing, or most documents changed. (Every table it reads has a doc_id: the
    loader checks that every join matches it, and input_digests grouped by it.)"""
    state = f"{DOCUMENTS_SCHEMA}.{model.name}"
    if (
        built.stored != built.rows
        or not warehouse.table_exists(con, model.name)
        or not warehouse.table_exists(con, model.name, schema=DOCUMENTS_SCHEMA)
    ):
        return None
    con.execute(
        "CREATE OR REPLACE TEMP TABLE salvo_documents AS "
        f"SELECT {DOCUMENT_KEY} FROM (SELECT * FROM {DOCUMENT_DIGESTS} EXCEPT SELECT * FROM "
        f"{state}) UNION SELECT {DOCUMENT_KEY} FROM (SELECT * FROM {state} EXCEPT SELECT * "
        f"FROM {DOCUMENT_DIGESTS})"
    )
    [(documents, unnamed)] = con.execute(
        f"SELECT count(*), count(*) FILTER ({DOCUMENT_KEY} IS NULL) FROM salvo_documents"
    ).fetchall()
    [(known,)] = con.execute(f"SELECT count(*) FROM {DOCUMENT_DIGESTS}").fetchall()
    if documents > max(FEW_DOCUMENTS, MAX_CHANGED_DOCUMENTS_SHARE * known):
        # Most documents changed (a new column in an input, a new SQL): a diff is cheaper.
        con.execute("DROP TABLE salvo_documents")
        return None
    # A filter on doc_id cannot find rows without one: those need a diff.
    pick = f"{DOCUMENT_KEY} IN (SELECT {DOCUMENT_KEY} FROM salvo_documents)"
    # Each input cut to those documents first (a CTE of a table's name hides it): every
    # join of the model matches doc_id, so these rows make the same result, and a left
    # join no longer reads its whole right side.
    inputs = ", ".join(
        f"{table} AS (SELECT * FROM main.{table} WHERE {pick})" for table in model.reads
    )
    with segmented_inputs(con, model, pick):
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE salvo_fresh AS WITH {inputs} SELECT * FROM "
            f"({model.sql}\n) WHERE {pick} ORDER BY ALL"
        )
    if unnamed or _columns(con, "salvo_fresh") != _columns(con, model.name):
        for table in ("salvo_documents", "salvo_fresh"):
            con.execute(f"DROP TABLE {table}")
        return None
    changed = f"{CHANGES_SCHEMA}.{model.name}"
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {CHANGES_SCHEMA}")
    con.execute(f"CREATE OR REPLACE TABLE {changed} AS SELECT * FROM {model.name} WHERE {pick}")
    removed_rows = warehouse.table_fingerprint(con, model.name, CHANGES_SCHEMA)
    [(removed,)] = con.execute(f"DELETE FROM {model.name} WHERE {pick}").fetchall()
    [(added,)] = con.execute(f"INSERT INTO {model.name} SELECT * FROM salvo_fresh").fetchall()
    con.execute(f"INSERT INTO {changed} SELECT * FROM salvo_fresh")
    # The table's new digest from the old one and the changed rows, without reading the
    # table again; the next run compares it with a digest of the table.
    both = warehouse.table_fingerprint(con, model.name, CHANGES_SCHEMA)
    assert built.stored and removed_rows and both
    added_rows = warehouse.fingerprint_after(both, removed_rows, "0:None:None")
    rows_digest = warehouse.fingerprint_after(built.stored, removed_rows, added_rows)
    con.execute(f"DELETE FROM {state} WHERE {pick}")
    con.execute(f"INSERT INTO {state} SELECT * FROM {DOCUMENT_DIGESTS} WHERE {pick}")
    for table in ("salvo_documents", "salvo_fresh"):
        con.execute(f"DROP TABLE {table}")
    return {
        "update": "documents",
        "documents_changed": documents,
        "rows_removed": removed,
        "rows_added": added,
        ROWS_DIGEST: rows_digest,
    }


def _update_diff(con: duckdb.DuckDBPyConnection, model: SqlModel) -> dict[str, Any] | None:
    """The table loses the rows its SQL no longer produces and gains the new ones (rows
    compared whole, by hash, so its rows must be distinct: claims_enriched has one per
    claim_id, and a check says so). Both kinds are kept in mart_changes.<model> for the
    marts updated by group. None when the table's columns are not the SQL's."""
    with segmented_inputs(con, model):
        con.execute(
            "CREATE OR REPLACE TEMP TABLE salvo_fresh AS "
            f"SELECT *, hash(q) AS salvo_row FROM ({model.sql}\n) q"
        )
    fresh = [c for c in _columns(con, "salvo_fresh") if c[0] != "salvo_row"]
    if fresh != _columns(con, model.name):
        con.execute("DROP TABLE salvo_fresh")
        return None
    con.execute(
        "CREATE OR REPLACE TEMP TABLE salvo_stored AS "
        f"SELECT rowid AS stored, hash(t) AS salvo_row FROM {model.name} t"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE salvo_removed AS "
        "SELECT stored FROM salvo_stored ANTI JOIN salvo_fresh USING (salvo_row)"
    )
    changed = f"{CHANGES_SCHEMA}.{model.name}"
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {CHANGES_SCHEMA}")
    con.execute(
        f"CREATE OR REPLACE TABLE {changed} AS SELECT * FROM {model.name} "
        "WHERE rowid IN (SELECT stored FROM salvo_removed)"
    )
    [(removed,)] = con.execute(
        f"DELETE FROM {model.name} WHERE rowid IN (SELECT stored FROM salvo_removed)"
    ).fetchall()
    con.execute(
        "CREATE OR REPLACE TEMP TABLE salvo_added AS SELECT * EXCLUDE (salvo_row) "
        "FROM salvo_fresh ANTI JOIN salvo_stored USING (salvo_row) ORDER BY ALL"
    )
    [(added,)] = con.execute(f"INSERT INTO {model.name} SELECT * FROM salvo_added").fetchall()
    con.execute(f"INSERT INTO {changed} SELECT * FROM salvo_added")
    for table in ("salvo_stored", "salvo_fresh", "salvo_removed", "salvo_added"):
        con.execute(f"DROP TABLE {table}")
    return {"update": "diff", "rows_removed": removed, "rows_added": added}


def _update_groups(
    con: duckdb.DuckDBPyConnection, model: SqlModel, built: Build, digests: dict[str, str | None]
) -> dict[str, Any] | None:
    """Compute again only the groups that the rows changed by the input's last diff fall
    in: their old rows leave, their new ones are appended. Valid when this table is what
    its last build left, that build read the input as it was before that diff, and the
    diff's rows are still there; None (rebuild) otherwise, or when too many groups changed."""
    [source] = model.reads
    row = con.execute(
        "SELECT rows_digest, previous_rows_digest FROM mart_builds WHERE mart = ?", [source]
    ).fetchone()
    if (
        row is None
        or row[1] is None
        or not warehouse.table_exists(con, source, schema=CHANGES_SCHEMA)
        or built.stored != built.rows
        or row[0] != digests[source]
        or inputs_fingerprint(model, {**digests, source: row[1]}) != built.inputs
    ):
        return None
    keys = ", ".join(model.keys)
    # The model run on the changed rows alone (a CTE of the input's name hides the table)
    # gives the keys of the groups they fall in.
    groups = con.execute(
        f"WITH {source} AS (SELECT * FROM {CHANGES_SCHEMA}.{source}) "
        f"SELECT DISTINCT {keys} FROM ({model.sql}\n)"
    ).fetchall()
    if len(groups) > MAX_CHANGED_GROUPS:
        return None
    if not groups:
        return {"update": "groups", "groups_changed": 0, "rows_removed": 0, "rows_added": 0}
    one = " AND ".join(f"{key} IS NOT DISTINCT FROM ?" for key in model.keys)
    match = " OR ".join(f"({one})" for _ in groups)
    values = [value for group in groups for value in group]
    # A filter on the group keys is pushed below the aggregate: only these groups' input
    # rows are read.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE salvo_fresh AS SELECT * FROM ({model.sql}\n) WHERE {match}",
        values,
    )
    if _columns(con, "salvo_fresh") != _columns(con, model.name):
        con.execute("DROP TABLE salvo_fresh")
        return None
    [(removed,)] = con.execute(f"DELETE FROM {model.name} WHERE {match}", values).fetchall()
    [(added,)] = con.execute(f"INSERT INTO {model.name} SELECT * FROM salvo_fresh").fetchall()
    con.execute("DROP TABLE salvo_fresh")
    return {
        "update": "groups",
        "groups_changed": len(groups),
        "rows_removed": removed,
        "rows_added": added,
    }
