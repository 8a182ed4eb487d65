"""Every asset check passes on a consistent warehouse and fails on a broken one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from pipeline import warehouse
from pipeline.defs.checks import CHECKS
from pipeline.defs.resources import WorkingDuckDB

TEXT = "Iran sent drones to Russia.\n\nMoscow denied it."


def _consistent(path: Path) -> None:
    con = warehouse.connect(path)
    warehouse.ensure_schema(con)
    now = dt.datetime(2025, 1, 1)
    # Named columns: tables may gain columns; the contract's columns never change.
    con.execute(
        "INSERT INTO seed_files (source_file, content_hash, status, encoding, documents, "
        "first_seen, last_seen) VALUES ('a.txt', 'h', 'ingested', 'utf-8', 1, ?, ?)",
        [now, now],
    )
    con.execute(
        "INSERT INTO raw_documents (doc_id, source_file, content_hash, encoding, raw_text, "
        "characters, ingested_at) VALUES ('d1', 'a.txt', 'h', 'utf-8', ?, ?, ?)",
        [TEXT, len(TEXT), now],
    )
    con.execute(
        "INSERT INTO documents (doc_id, source_file, title, published_date, date_precision, "
        "date_source, clean_text, ingested_at, characters) VALUES ('d1', 'a.txt', 'T', "
        "DATE '2025-01-01', 'day', 'metadata', ?, ?, ?)",
        [TEXT, now, len(TEXT)],
    )
    con.execute(
        "INSERT INTO sentences (sentence_id, doc_id, position, start_char, end_char, text) "
        "VALUES ('d1:s00000', 'd1', 0, 0, 27, 'Iran sent drones to Russia.'), "
        "('d1:s00001', 'd1', 1, 29, 46, 'Moscow denied it.')"
    )
    con.execute(
        "INSERT INTO entities (mention_id, doc_id, sentence_id, start_char, end_char, text, "
        "label, actor_code, source) VALUES ('d1:e0-4:ACTOR', 'd1', 'd1:s00000', 0, 4, 'Iran', "
        "'ACTOR', 'IRN', 'lexicon')"
    )
    con.execute(
        "INSERT INTO claims (claim_id, doc_id, sentence_id, relation, supplier, recipient, "
        "weapon_class, weapon_text, hedged, negated, extractor_version) VALUES ('d1:c1', 'd1', "
        "'d1:s00000', 'supply', 'IRN', 'RUS', 'drone', 'drones', false, false, 'v')"
    )
    con.close()


# Some tables have a PRIMARY KEY that refuses duplicates, the NLP tables have none (for
# write speed): break every table the same way, by rebuilding it with each row twice.
DUPLICATE = (
    "CREATE OR REPLACE TABLE {table} AS SELECT * FROM {table} UNION ALL SELECT * FROM {table}"
)
BREAKERS = {
    "unique_source_file": DUPLICATE,
    "unique_doc_id": DUPLICATE,
    "unique_sentence_id": DUPLICATE,
    "unique_mention_id": DUPLICATE,
    "unique_claim_id": DUPLICATE,
    "no_orphan_rows": "UPDATE {table} SET doc_id = 'nowhere'",
    "offsets_round_trip": "UPDATE {table} SET start_char = start_char + 1",
    "documents_when_files_ingested": "UPDATE documents SET clean_text = ' '",
    "share_of_undated_documents": "UPDATE documents SET published_date = NULL",
}


def _evaluate(check: dg.AssetChecksDefinition, path: Path) -> dg.AssetCheckResult:
    result = check(duckdb=WorkingDuckDB(database=str(path)))
    assert isinstance(result, dg.AssetCheckResult)
    return result


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: str(next(iter(c.check_keys))))
def test_check_passes_then_fails_when_broken(check: dg.AssetChecksDefinition, tmp_path: Path):
    key = next(iter(check.check_keys))
    table = key.asset_key.path[-1]
    path = tmp_path / "w.duckdb"
    _consistent(path)
    assert _evaluate(check, path).passed

    con = warehouse.connect(path)
    con.execute(BREAKERS[key.name].format(table=table))
    con.close()
    broken = _evaluate(check, path)
    assert not broken.passed
    expected = (
        dg.AssetCheckSeverity.WARN
        if key.name == "share_of_undated_documents"
        else dg.AssetCheckSeverity.ERROR
    )
    assert broken.severity == expected
