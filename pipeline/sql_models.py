"""Find the SQL models in `sql/models/` and the tables each one reads.

A model is one SELECT per file; the file stem is the table it becomes. Dependencies are
read from the SQL itself (every table it selects from, less its own CTEs), so they are
never declared twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import sqlglot
from sqlglot import exp

from pipeline.settings import PROJECT_ROOT

MODELS_DIR = PROJECT_ROOT / "sql" / "models"
NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


# How a model's table is brought up to date when its inputs changed: rebuilt whole (the
# default: rows in the model's ORDER BY), or by diff (`-- @update: diff` in its header:
# rows that are no longer produced leave, new ones are appended, the rest stay; a run that
# adds one document writes that document's rows, not the whole table).
UPDATES = ("rebuild", "diff")
DIRECTIVE = re.compile(r"^--\s*@(?P<key>\w+):\s*(?P<value>\S+)\s*$")


@dataclass(frozen=True)
class SqlModel:
    name: str
    sql: str
    reads: tuple[str, ...]
    description: str
    update: str = "rebuild"


def _header(sql: str) -> tuple[str, dict[str, str]]:
    """The description (leading comment lines) and the `-- @key: value` directives."""
    comments, directives = [], {}
    for line in sql.splitlines():
        if match := DIRECTIVE.match(line.strip()):
            directives[match["key"]] = match["value"]
        elif line.startswith("--"):
            comments.append(line[2:].strip())
        elif line.strip():
            break
    return " ".join(comments), directives


def load_models(directory: Path = MODELS_DIR) -> list[SqlModel]:
    models = []
    for path in sorted(directory.glob("*.sql")):
        if not NAME.match(path.stem):
            raise ValueError(f"{path.name}: a model's file name must be a snake_case table name")
        sql = path.read_text(encoding="utf-8").strip().rstrip(";")
        tree = sqlglot.parse_one(sql, read="duckdb")
        if not isinstance(tree, exp.Query):
            raise ValueError(f"{path.name}: a model must be a single SELECT")
        ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
        reads = sorted({t.name for t in tree.find_all(exp.Table)} - ctes)
        description, directives = _header(sql)
        update = directives.pop("update", "rebuild")
        if update not in UPDATES or directives:
            raise ValueError(
                f"{path.name}: unknown directive {directives or update!r} "
                f"(known: -- @update: {' | '.join(UPDATES)})"
            )
        models.append(SqlModel(path.stem, sql, tuple(reads), description, update))
    return models
