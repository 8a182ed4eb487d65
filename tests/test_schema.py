"""One schema: every table is declared once, in pipeline/schema.py, and the frames written to
it take their types from that declaration. The library under it imports no Dagster."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import catalog, schema, warehouse
from pipeline.settings import PROJECT_ROOT


@pytest.fixture
def con(tmp_path: Path):
    connection = warehouse.connect(tmp_path / "w.duckdb")
    schema.ensure_schema(connection)
    yield connection
    connection.close()


def test_every_declared_table_is_created_with_its_declared_columns_and_types(con):
    for table, declared in ((t, schema.sql_types(t)) for t in schema.SCHEMA):
        described = {
            name: kind
            for name, kind in con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = ? ORDER BY ordinal_position",
                [table],
            ).fetchall()
        }
        assert list(described) == list(declared), table
        assert described == declared, table


@pytest.mark.parametrize("table", list(schema.SCHEMA))
def test_a_frame_of_the_schema_round_trips_through_its_table(con, table: str):
    # One row of nulls where a column may be null, and a value of its type where not.
    values = {
        "VARCHAR": "x",
        "INTEGER": 1,
        "BIGINT": 2,
        "SMALLINT": 3,
        "UBIGINT": 4,
        "DOUBLE": 0.5,
        "BOOLEAN": True,
        "DATE": __import__("datetime").date(2025, 1, 2),
        "TIMESTAMP": __import__("datetime").datetime(2025, 1, 2, 3, 4, 5),
    }
    row = {name: values[kind] for name, kind in schema.sql_types(table).items()}
    frame = schema.frame(table, [row])
    assert frame.columns == schema.columns_of(table)
    warehouse.clear_table(con, table)
    warehouse.insert_frame(con, table, frame)
    stored = con.execute(f"SELECT * FROM {table}").fetchall()
    assert stored == [tuple(row.values())]


def test_an_unchanged_schema_is_confirmed_with_one_lookup(con):
    assert warehouse.get_state(con, schema.SCHEMA_STATE_KEY) == schema.schema_digest()
    con.execute("DROP TABLE document_stories")
    schema.ensure_schema(con)  # trusts the recorded digest: nothing is recreated
    assert not warehouse.table_exists(con, "document_stories")
    warehouse.set_state(con, schema.SCHEMA_STATE_KEY, "older")
    schema.ensure_schema(con)
    assert warehouse.table_exists(con, "document_stories")


def test_the_library_imports_no_dagster():
    probe = (
        "import importlib, pkgutil, sys\n"
        "import pipeline\n"
        "for module in pkgutil.walk_packages(pipeline.__path__, 'pipeline.'):\n"
        "    importlib.import_module(module.name)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('dagster', 'assets'))\n"
        "print(' '.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_every_column_of_the_warehouse_says_what_it_means(seeded_warehouse):
    """The Dagster UI shows these descriptions on every asset page; a new column without
    one fails here."""
    published, result = seeded_warehouse
    con = warehouse.connect(published, read_only=True)
    try:
        columns = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'main' ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()
    tables = {table for table, _ in columns}
    assert not [t for t in tables if not catalog.table_description(t)]
    assert not [(t, c) for t, c in columns if not catalog.column_description(t, c)]
    # The materialisations carry them, for the UI's column table.
    from tests.conftest import materialization_metadata

    shown = materialization_metadata(result, "claims_enriched")["dagster/column_schema"]
    described = {column.name: column.description for column in shown.columns}
    assert described["supplier"] == catalog.column_description("claims", "supplier")
    assert described["month"].startswith("first day of the publication month")
