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
    con: duckdb.DuckDBPyConnection, model: SqlModel, run_id: str, database: str
) -> MartRefresh:
    """Update the model's table if needed and record the build in mart_builds.

    Args:
        run_id, database: scope of the digests shared by the marts of one run.
    """
    digests = input_digests(con, model, run_id, database)
    inputs = inputs_fingerprint(model, digests)
    row = con.execute(
        "SELECT inputs_digest, rows_digest FROM mart_builds WHERE mart = ?", [model.name]
    ).fetchone()
    built = None
    if row is not None:
        built = Build(row[0], row[1], warehouse.table_fingerprint(con, model.name))
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
    # The marts that read this one take its digest from here.
    RUN_DIGESTS.record(run_id, database, model.name, digest)
    return MartRefresh(rebuilt, inputs, changes)
