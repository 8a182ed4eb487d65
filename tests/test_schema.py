"""Upgrading a warehouse an older version wrote: nothing stored is lost."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline import quality, warehouse

# The sentences table as the first versions created it, with a PRIMARY KEY.
OLD_SENTENCES = """
    sentence_id VARCHAR PRIMARY KEY,
    doc_id VARCHAR NOT NULL,
    position INTEGER NOT NULL,
    start_char INTEGER NOT NULL,
    end_char INTEGER NOT NULL,
    text VARCHAR NOT NULL
"""


def _keyed(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_constraints() WHERE table_name = ? "
            "AND constraint_type = 'PRIMARY KEY'",
            [table],
        ).fetchone()[0]
    )


def test_old_keyed_nlp_table_is_rebuilt_without_its_key_and_keeps_every_row(tmp_path: Path):
    path = tmp_path / "old.duckdb"
    con = warehouse.connect(path)
    con.execute(f"CREATE TABLE sentences ({OLD_SENTENCES})")
    con.execute(
        "INSERT INTO sentences SELECT 'd1:s' || i, 'd1', i, i * 10, i * 10 + 9, 'Sentence ' || i "
        "FROM range(1000) t(i)"
    )
    before = con.execute("SELECT * FROM sentences ORDER BY position").fetchall()
    assert _keyed(con, "sentences")

    warehouse.ensure_schema(con)
    assert not _keyed(con, "sentences")
    assert con.execute("SELECT * FROM sentences ORDER BY position").fetchall() == before
    # Every other table now exists, and a second call changes nothing.
    warehouse.ensure_schema(con)
    assert con.execute("SELECT count(*) FROM sentences").fetchone()[0] == 1000
    assert con.execute("SELECT count(*) FROM claims").fetchone()[0] == 0

    # Without the key, the blocking uniqueness check is what catches a duplicated id.
    assert quality.duplicate_keys(con, "sentences") == 0
    con.execute("INSERT INTO sentences SELECT * FROM sentences WHERE position = 7")
    assert quality.duplicate_keys(con, "sentences") == 2  # both rows that share the id
    con.close()
