"""Find the SQL checks in `sql/checks/` and run one against a connection.

A check is one SELECT per file returning the offending rows: zero rows pass. The file
name says which asset it guards and what it asserts, `<asset>__<check>.sql` (two
underscores), e.g. `claim_corroboration__claims_match_claims.sql` becomes the check
`claims_match_claims` on the asset `claim_corroboration`. The leading `--` comment lines
are its description. Every other table it reads is found in the SQL (as for the models),
so the check waits for those assets too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

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

    @property
    def file_name(self) -> str:
        return f"{self.asset}__{self.name}.sql"


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
            )
        )
    return checks


@dataclass(frozen=True)
class Offending:
    count: int
    columns: list[str]
    sample: list[tuple]


def offending_rows(con: duckdb.DuckDBPyConnection, check: SqlCheck, limit: int = 10) -> Offending:
    """How many rows the check returns, with the first few of them."""
    [(count,)] = con.execute(f"SELECT count(*) FROM ({check.sql})").fetchall()
    if count == 0:
        return Offending(0, [], [])
    cursor = con.execute(f"SELECT * FROM ({check.sql}) LIMIT {int(limit)}")
    sample = cursor.fetchall()
    return Offending(int(count), [d[0] for d in cursor.description or []], sample)
