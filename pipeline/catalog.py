"""What every table and column of the warehouse means, from where each is declared: the
tables of `pipeline.schema`, and the marts' SQL (a `--` comment beside or above a column;
a column a mart passes through unchanged keeps the meaning it has in the table it reads)."""

from __future__ import annotations

from functools import lru_cache

from pipeline import schema
from pipeline.marts.models import SqlModel, load_models


@lru_cache(maxsize=1)
def _models() -> dict[str, SqlModel]:
    return {model.name: model for model in load_models()}


def table_description(table: str) -> str | None:
    """What one row of the table is."""
    if table in schema.TABLES:
        return schema.TABLES[table].description
    model = _models().get(table)
    return model.description if model else None


def column_description(table: str, column: str, _seen: frozenset[str] = frozenset()) -> str:
    """What a column means ("" when nothing says)."""
    if table in schema.TABLES:
        return schema.column_descriptions(table).get(column, "")
    model = _models().get(table)
    if model is None or table in _seen:
        return ""
    if column in model.column_comments:
        return model.column_comments[column]
    for source in model.reads:
        found = column_description(source, column, _seen | {table})
        if found:
            return found
    return ""
