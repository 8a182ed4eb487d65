"""Asset checks: hard invariants block the run (nothing downstream, no publish); soft ones
warn."""

from collections.abc import Callable

import dagster as dg
import duckdb

from pipeline import quality
from pipeline.defs.resources import WorkingDuckDB


def _blocking_check(
    table: str, name: str, description: str, count: Callable[[duckdb.DuckDBPyConnection], int]
) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=table, name=name, blocking=True, description=description)
    def _check(duckdb: WorkingDuckDB) -> dg.AssetCheckResult:
        with duckdb.get_connection() as con:
            offending = count(con)
        return dg.AssetCheckResult(
            passed=offending == 0,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"offending_rows": offending},
            description=None if offending == 0 else f"{offending} offending rows",
        )

    return _check


def _unique(table: str) -> dg.AssetChecksDefinition:
    key = quality.KEYS[table]
    return _blocking_check(
        table,
        f"unique_{key}",
        f"Every {table} row has a non-null {key} no other row shares.",
        lambda con: quality.duplicate_keys(con, table),
    )


def _no_orphans(table: str) -> dg.AssetChecksDefinition:
    parents = ", ".join(f"{c} -> {p}" for c, p, _ in quality.PARENTS[table])
    return _blocking_check(
        table,
        "no_orphan_rows",
        f"Every {table} row points at an existing parent ({parents}).",
        lambda con: quality.orphan_rows(con, table),
    )


def _offsets(table: str) -> dg.AssetChecksDefinition:
    return _blocking_check(
        table,
        "offsets_round_trip",
        f"documents.clean_text[start_char:end_char] equals {table}.text on every row.",
        lambda con: quality.offset_mismatches(con, table),
    )


documents_exist = _blocking_check(
    "documents",
    "documents_when_files_ingested",
    "Files were ingested, so documents must not be empty, and no document has empty text.",
    lambda con: quality.missing_documents(con) + quality.empty_documents(con),
)


@dg.asset_check(
    asset="documents",
    name="share_of_undated_documents",
    description=(
        f"Warns when more than {quality.UNDATED_WARN_SHARE:.0%} of documents have no "
        "publication date (they fall under a null month in the marts)."
    ),
)
def undated_documents(duckdb: WorkingDuckDB) -> dg.AssetCheckResult:
    with duckdb.get_connection() as con:
        undated, total = quality.undated_share(con)
    share = undated / total if total else 0.0
    return dg.AssetCheckResult(
        passed=share <= quality.UNDATED_WARN_SHARE,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"undated_documents": undated, "documents": total, "share": round(share, 3)},
    )


CHECKS: list[dg.AssetChecksDefinition] = (
    [_unique(t) for t in quality.KEYS]
    + [_no_orphans(t) for t in quality.PARENTS]
    + [_offsets(t) for t in quality.OFFSET_TABLES]
    + [documents_exist, undated_documents]
)


@dg.definitions
def checks() -> dg.Definitions:
    return dg.Definitions(asset_checks=CHECKS)
