"""Bring one mart up to date: rebuilt (whole or in part) only when its SQL or a table it
reads changed since its last build, or its table is not what that build left; a run with
nothing new costs a digest of each input and of the table instead of a rebuild."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

from pipeline import warehouse
from pipeline.marts.digests import RUN_DIGESTS, input_digests, inputs_fingerprint
from pipeline.marts.models import CHANGE_KEEPING, SqlModel
from pipeline.marts.updates import ROWS_DIGEST, Build, update


@dataclass(frozen=True)
class MartRefresh:
    rebuilt: bool
    inputs: str  # the digest of the model's SQL and inputs: the mart's data version
    changes: dict[str, Any] = field(default_factory=dict)  # how it was updated, row counts


def refresh_mart(
    con: duckdb.DuckDBPyConnection,
    model: SqlModel,
    run_id: str,
    database: str,
    verify: bool = False,
) -> MartRefresh:
    """Update the model's table if needed and record the build in mart_builds.

    Args:
        run_id, database: scope of the digests shared by the marts of one run.
        verify: take the digest of the table's rows even when it is stored as the last
            build left it (the daily full-check run does: a stamp tells writes apart by
            how DuckDB stores the table, which two edits by hand could in principle leave
            as it was).
    """
    digests = input_digests(con, model, run_id, database)
    inputs = inputs_fingerprint(model, digests)
    row = con.execute(
        "SELECT inputs_digest, rows_digest, storage_stamp FROM mart_builds WHERE mart = ?",
        [model.name],
    ).fetchone()
    built = None
    stamp = None
    if row is not None:
        stamp = warehouse.storage_stamp(con, model.name)
        # Stored as the last build left it (the stamp taken then): its rows are that
        # build's, without a digest of every row.
        untouched = not verify and stamp is not None and stamp == row[2]
        rows = row[1] if untouched else warehouse.table_fingerprint(con, model.name)
        built = Build(row[0], row[1], rows)
    rebuilt = built is None or (built.inputs, built.rows) != (inputs, built.stored)
    changes: dict[str, Any] = {}
    if rebuilt:
        with warehouse.transaction(con):
            changes = update(con, model, built, digests)
            # A diff keeps the changed rows: the digest of the rows it started from tells
            # the marts updated by group which state they describe.
            previous = built.stored if changes["update"] in CHANGE_KEEPING and built else None
            digest = changes.pop(ROWS_DIGEST, None) or warehouse.table_fingerprint(con, model.name)
            con.execute("DELETE FROM mart_builds WHERE mart = ?", [model.name])
            con.execute(
                "INSERT INTO mart_builds (mart, inputs_digest, rows_digest, built_at, "
                "previous_rows_digest) VALUES (?, ?, ?, now()::TIMESTAMP, ?)",
                [model.name, inputs, digest, previous],
            )
    else:
        digest = built.stored if built else None
    if rebuilt or (row is not None and stamp != row[2]):
        # The table written to the file, then its stamp: the next run compares that
        # instead of taking a digest of every row (a later checkpoint leaves it as it is).
        con.execute("CHECKPOINT")
        con.execute(
            "UPDATE mart_builds SET storage_stamp = ? WHERE mart = ?",
            [warehouse.storage_stamp(con, model.name), model.name],
        )
    # The marts that read this one take its digest from here.
    RUN_DIGESTS.record(run_id, database, model.name, digest)
    return MartRefresh(rebuilt, inputs, changes)
