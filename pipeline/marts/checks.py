"""Find the SQL checks in `sql/checks/` and run one against a connection.

A check is one SELECT per file returning the offending rows: zero rows pass. The file
name says which asset it guards and what it asserts, `<asset>__<check>.sql` (two
underscores), e.g. `claim_corroboration__claims_match_claims.sql` becomes the check
`claims_match_claims` on the asset `claim_corroboration`. The leading `--` comment lines
are its description. Every other table it reads is found in the SQL (as for the models),
so the check waits for those assets too. A check whose SQL and the columns it reads of its
tables are what they were when it last passed has nothing new to find: a run may skip it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline import quality, warehouse
from pipeline.marts.digests import RUN_DIGESTS, columns_read, inputs_fingerprint
from pipeline.marts.models import named_columns, names_read
from pipeline.sql_files import SQL_DIR, read_sql_folder

CHECKS_DIR = SQL_DIR / "checks"
FILE_NAME = re.compile(r"^(?P<asset>[a-z][a-z0-9]*(?:_[a-z0-9]+)*)__(?P<check>[a-z][a-z0-9_]*)$")


@dataclass(frozen=True)
class SqlCheck:
    name: str
    asset: str
    sql: str
    reads: tuple[str, ...]
    description: str
    # Every name the SQL spells, or None when it may read whole rows (see SqlModel).
    names: frozenset[str] | None = None

    @property
    def file_name(self) -> str:
        return f"{self.asset}__{self.name}.sql"

    def columns_read(self, columns: list[str]) -> list[str]:
        return named_columns(self.names, columns)


def load_checks(directory: Path = CHECKS_DIR) -> list[SqlCheck]:
    checks = []
    for file in read_sql_folder(directory):
        match = FILE_NAME.match(file.path.stem)
        if not match:
            raise ValueError(
                f"{file.path.name}: a check's file name must be <asset>__<check>.sql in snake_case"
            )
        checks.append(
            SqlCheck(
                name=match["check"],
                asset=match["asset"],
                sql=file.sql,
                reads=file.reads,
                description=file.description or f"sql/checks/{file.path.name}",
                names=names_read(file.tree, list(file.reads)),
            )
        )
    return checks


@dataclass(frozen=True)
class Offending:
    count: int
    columns: list[str]
    sample: list[tuple]


def offending_rows(con: duckdb.DuckDBPyConnection, check: SqlCheck, limit: int = 10) -> Offending:
    """How many rows the check returns, with the first few of them. Through the views of
    the segmented tables, not over copies as the marts (`pipeline.marts.inputs`): at
    300,000 simulated documents every check passed through the views within 512 MB in
    0.1-6.0 s, and the copies of `claims` cost 6.5-7.0 s per check (docs/performance.md)."""
    [(count,)] = con.execute(f"SELECT count(*) FROM ({check.sql})").fetchall()
    if count == 0:
        return Offending(0, [], [])
    cursor = con.execute(f"SELECT * FROM ({check.sql}) LIMIT {int(limit)}")
    sample = cursor.fetchall()
    return Offending(int(count), [d[0] for d in cursor.description or []], sample)


def offending_rows_unless_passed(
    con: duckdb.DuckDBPyConnection, check: SqlCheck, run_id: str
) -> Offending | None:
    """offending_rows, or None without running the check when its inputs (its SQL and
    the columns it reads, digests shared with the marts of the run) are those of its
    last pass."""
    columns = columns_read(con, check)
    database = warehouse.database_path(con)
    digest = inputs_fingerprint(
        check,
        {
            table: RUN_DIGESTS.get(con, run_id, database, table, columns[table])
            for table in check.reads
        },
    )
    if quality.passed_with(con, check.file_name, digest):
        return None
    found = offending_rows(con, check)
    quality.record_outcome(con, check.file_name, digest, found.count == 0)
    return found
