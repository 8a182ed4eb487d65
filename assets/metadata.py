"""What every materialisation shows in the Dagster UI: row count, column schema, a preview."""

from __future__ import annotations

import re
from typing import Any

import dagster as dg
import duckdb

from pipeline import catalog, warehouse

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
PREVIEW_ROWS = 8
CELL_CHARS = 80


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    text = text.replace("\n", " ").replace("|", "\\|")
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "\u2026"


def markdown_table(columns: list[str], rows: list[tuple]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def table_metadata(
    con: duckdb.DuckDBPyConnection,
    table: str,
    order_by: str | None = None,
    preview_columns: list[str] | None = None,
    limit: int = PREVIEW_ROWS,
) -> dict[str, Any]:
    """Row count, column schema and a markdown preview of one table of ours."""
    assert IDENTIFIER.match(table), table
    described = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = ? AND table_schema = 'main' ORDER BY ordinal_position",
        [table],
    ).fetchall()
    names = [name for name, _ in described]
    shown = [c for c in (preview_columns or names) if c in names]
    assert all(IDENTIFIER.match(c) for c in shown)
    order = f" ORDER BY {order_by}" if order_by and IDENTIFIER.match(order_by) else ""
    count = warehouse.table_counts(con, [table])[table]
    preview = con.execute(
        f"SELECT {', '.join(shown)} FROM {table}{order} LIMIT {int(limit)}"
    ).fetchall()
    return {
        "dagster/row_count": count,
        "dagster/column_schema": dg.TableSchema(
            columns=[
                dg.TableColumn(name, dtype, description=catalog.column_description(table, name))
                for name, dtype in described
            ]
        ),
        "preview": dg.MetadataValue.md(markdown_table(shown, preview)),
    }
