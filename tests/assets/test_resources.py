"""The working-database resource: connections never outlive their block."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from assets.resources import WorkingDuckDB
from pipeline import warehouse


def test_connection_is_closed_when_the_block_raises(tmp_path: Path):
    resource = WorkingDuckDB(
        database=str(tmp_path / "w.duckdb"), connection_config=dict(warehouse.CONNECTION_CONFIG)
    )
    held = []
    with pytest.raises(ValueError):
        with resource.get_connection() as con:
            held.append(con)
            raise ValueError("a step failed half way")
    with pytest.raises(duckdb.ConnectionException):
        held[0].execute("SELECT 1")
    # The schema was created, and the file opens again at once.
    with resource.get_connection() as con:
        assert con.execute("SELECT count(*) FROM claims").fetchone() == (0,)
