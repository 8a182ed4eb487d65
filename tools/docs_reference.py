"""The table reference of docs/querying.md, generated from what the code declares.

Under "## Table reference", each `#### `table`` section holds what one row of the table is
and a table of its columns: the type the warehouse stores, and the meaning
`pipeline.catalog` gives (pipeline/tables.toml for our tables, the `--` comments of
sql/models/ for the marts). The headings, their order and the text between groups are
written by hand; the sections under the headings are rewritten by `make docs`.
"""

from __future__ import annotations

import re
import textwrap

import duckdb

from pipeline import catalog, schema

PAGE = "docs/querying.md"
SECTION = "## Table reference"
HEADING = re.compile(r"^#### `(?P<table>\w+)`\s*$")
WIDTH = 92


def section(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The lines under a table's heading (a blank line before and after)."""
    columns = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    contract = schema.TABLES[table].contract if table in schema.TABLES else ()
    described = catalog.table_description(table) or ""
    lines = ["", *textwrap.wrap(described, WIDTH), "", "| column | type | meaning |"]
    lines.append("|---|---|---|")
    for name, kind in columns:
        marker = "**(contract)** " if name in contract else ""
        meaning = catalog.column_description(table, name).replace("|", "\\|")
        lines.append(f"| `{name}` | {kind} | {marker}{meaning} |")
    return [*lines, ""]


def regenerate(lines: list[str], con: duckdb.DuckDBPyConnection) -> list[str]:
    """The page with every table section under the reference rewritten."""
    out: list[str] = []
    inside = False
    index = 0
    while index < len(lines):
        line = lines[index]
        out.append(line)
        index += 1
        if line.startswith("## "):
            inside = line.strip() == SECTION
        match = HEADING.match(line) if inside else None
        if match:
            while index < len(lines) and not lines[index].startswith("#"):
                index += 1
            out += section(con, match["table"])
    return out
