"""The segmented tables a mart or check reads, copied into temporary tables for the
duration of its statements (`warehouse.segmented_copies`), so that DuckDB plans its joins
over real statistics instead of the views' (docs/architecture.md)."""

from __future__ import annotations

from contextlib import AbstractContextManager

import duckdb

from pipeline import segments, warehouse
from pipeline.marts.digests import Query, columns_read
from pipeline.marts.models import DOCUMENT_KEY
from pipeline.schema import columns_of


def segmented_inputs(
    con: duckdb.DuckDBPyConnection, query: Query, where: str | None = None
) -> AbstractContextManager[None]:
    """The columns the query's SQL can read of each segmented table it reads (the rows
    matching `where`, a condition on doc_id, when given) as temporary tables of the
    tables' names, inside the block."""
    columns: dict[str, list[str]] = {}
    for table, names in columns_read(con, query).items():
        if not segments.is_segmented(table):
            continue
        names = list(names or columns_of(table))
        if where is not None and DOCUMENT_KEY not in names:
            names.append(DOCUMENT_KEY)
        columns[table] = names
    return warehouse.segmented_copies(con, columns, where)
