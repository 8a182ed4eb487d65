"""Read the SQL files of `sql/`: one SELECT per file, its description from the leading
`--` comment lines, `-- @key: value` directives, and the tables it reads (every table it
selects from, less its own CTEs), so that dependencies are never declared twice."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import sqlglot
from sqlglot import exp

from pipeline.settings import PROJECT_ROOT

SQL_DIR = PROJECT_ROOT / "sql"
DIRECTIVE = re.compile(r"^--\s*@(?P<key>\w+):\s*(?P<value>\S+)\s*$")


@dataclass(frozen=True)
class SqlFile:
    path: Path
    sql: str
    tree: exp.Query
    reads: tuple[str, ...]
    description: str
    directives: dict[str, str] = field(default_factory=dict)


def read_sql_file(path: Path) -> SqlFile:
    """Parse one file; a ValueError names the file when it is not a single SELECT."""
    sql = path.read_text(encoding="utf-8").strip().rstrip(";")
    tree = sqlglot.parse_one(sql, read="duckdb")
    if not isinstance(tree, exp.Query):
        raise ValueError(f"{path.name}: must be a single SELECT")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    reads = tuple(sorted({t.name for t in tree.find_all(exp.Table)} - ctes))
    comments, directives = [], {}
    for line in sql.splitlines():
        if match := DIRECTIVE.match(line.strip()):
            directives[match["key"]] = match["value"]
        elif line.startswith("--"):
            comments.append(line[2:].strip())
        elif line.strip():
            break
    return SqlFile(path, sql, tree, reads, " ".join(comments), directives)


def read_sql_folder(directory: Path) -> list[SqlFile]:
    """Every `*.sql` file of a folder, by name."""
    return [read_sql_file(path) for path in sorted(directory.glob("*.sql"))]
