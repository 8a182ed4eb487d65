"""Every asset check passes on a consistent warehouse and fails on a broken one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from assets.checks import CHECKS, RULES, Rule
from pipeline import schema, segments, warehouse

TEXT = "Iran sent drones to Russia.\n\nMoscow denied it."


def _consistent(path: Path) -> None:
    con = warehouse.connect(path)
    schema.ensure_schema(con)
    now = dt.datetime(2025, 1, 1)
    # Named columns: tables may gain columns; the contract's columns never change.
    con.execute(
        "INSERT INTO seed_files (source_file, content_hash, status, encoding, documents, "
        "first_seen, last_seen) VALUES ('a.txt', 'h', 'ingested', 'utf-8', 1, ?, ?)",
        [now, now],
    )
    con.execute(
        "INSERT INTO salvo_rows.raw_documents "
        "(doc_id, source_file, content_hash, encoding, raw_text, "
        "characters, ingested_at) VALUES ('d1', 'a.txt', 'h', 'utf-8', ?, ?, ?)",
        [TEXT, len(TEXT), now],
    )
    con.execute(
        "INSERT INTO salvo_rows.documents "
        "(doc_id, source_file, title, published_date, date_precision, "
        "date_source, clean_text, ingested_at, characters) VALUES ('d1', 'a.txt', 'T', "
        "DATE '2025-01-01', 'day', 'metadata', ?, ?, ?)",
        [TEXT, now, len(TEXT)],
    )
    con.execute(
        "INSERT INTO salvo_rows.sentences "
        "(sentence_id, doc_id, position, start_char, end_char, text) "
        "VALUES ('d1:s00000', 'd1', 0, 0, 27, 'Iran sent drones to Russia.'), "
        "('d1:s00001', 'd1', 1, 29, 46, 'Moscow denied it.')"
    )
    con.execute(
        "INSERT INTO salvo_rows.entities "
        "(mention_id, doc_id, sentence_id, start_char, end_char, text, "
        "label, actor_code, source) VALUES ('d1:e0-4:ACTOR', 'd1', 'd1:s00000', 0, 4, 'Iran', "
        "'ACTOR', 'IRN', 'lexicon')"
    )
    con.execute(
        "INSERT INTO salvo_rows.claims "
        "(claim_id, doc_id, sentence_id, relation, supplier, recipient, "
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
    "documents_when_files_ingested": "UPDATE salvo_rows.documents SET clean_text = ' '",
    "share_of_undated_documents": "UPDATE salvo_rows.documents SET published_date = NULL",
    "nothing_quarantined": (
        "INSERT INTO seed_files (source_file, status, reason, encoding, documents, first_seen, "
        "last_seen) VALUES ('b.bin', 'quarantined', 'binary', NULL, 0, now(), now())"
    ),
}
WARNINGS = {"share_of_undated_documents", "nothing_quarantined"}


def _evaluate(rule: Rule, path: Path, scope: str | None = None) -> dg.AssetCheckResult:
    con = warehouse.connect(path)
    try:
        return rule.result(con, scope)
    finally:
        con.close()


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.asset}.{r.name}")
def test_check_passes_then_fails_when_broken(rule: Rule, tmp_path: Path):
    path = tmp_path / "w.duckdb"
    _consistent(path)
    assert _evaluate(rule, path).passed

    con = warehouse.connect(path)
    con.execute(BREAKERS[rule.name].format(table=segments.rows_table(rule.asset)))
    con.close()
    broken = _evaluate(rule, path)
    assert not broken.passed
    expected = dg.AssetCheckSeverity.WARN if rule.name in WARNINGS else dg.AssetCheckSeverity.ERROR
    assert broken.severity == expected
    if rule.name == "nothing_quarantined":
        assert "| b.bin |  | binary |" in broken.metadata["quarantined"].value


def _parsed_by_run_1(path: Path, *damage: str) -> None:
    """The consistent warehouse, d1 parsed by run-1, then broken by `damage`."""
    _consistent(path)
    con = warehouse.connect(path)
    con.execute(
        "INSERT INTO nlp_runs (doc_id, extractor_version, model, processed_at, run_id) "
        "VALUES ('d1', 'v', 'm', now(), 'run-1')"
    )
    for statement in damage:
        con.execute(statement)
    con.close()


def test_offsets_look_at_the_documents_the_run_parsed_unless_asked_for_all(tmp_path: Path):
    path = tmp_path / "w.duckdb"
    _parsed_by_run_1(path, "UPDATE salvo_rows.entities SET start_char = start_char + 1")
    rule = next(r for r in RULES if (r.asset, r.name) == ("entities", "offsets_round_trip"))
    # The run that parsed d1 sees the broken offsets, as does a full check ...
    in_run = _evaluate(rule, path, scope="run-1")
    assert not in_run.passed and in_run.metadata["rows_checked"].value == 1
    assert not _evaluate(rule, path, scope=None).passed
    # ... a later run that parsed nothing has no rows of its own to check.
    later = _evaluate(rule, path, scope="run-2")
    assert later.passed and later.metadata["rows_checked"].value == 0


@pytest.mark.parametrize("table", ["entities", "claims"])
def test_a_missing_sentence_is_found_by_its_documents_run_a_missing_document_by_any(
    table: str, tmp_path: Path
):
    path = tmp_path / "w.duckdb"
    _parsed_by_run_1(path, "DELETE FROM salvo_rows.sentences WHERE sentence_id = 'd1:s00000'")
    rule = next(r for r in RULES if (r.asset, r.name) == (table, "no_orphan_rows"))
    # The row's sentence is gone: the run that parsed its document sees it, as does a full
    # check; a run that parsed other documents does not look up d1's sentences.
    assert not _evaluate(rule, path, scope="run-1").passed
    assert not _evaluate(rule, path, scope=None).passed
    assert _evaluate(rule, path, scope="run-2").passed
    # A row whose document went away is found by every run.
    con = warehouse.connect(path)
    con.execute(
        "INSERT INTO salvo_rows.sentences "
        "SELECT * REPLACE ('d1:s00000' AS sentence_id) FROM sentences LIMIT 1"
    )
    con.execute(f"UPDATE {segments.rows_table(table)} SET doc_id = 'gone'")
    con.close()
    assert not _evaluate(rule, path, scope="run-2").passed


@pytest.mark.parametrize("table", ["sentences", "entities", "claims"])
def test_a_key_the_run_wrote_is_compared_with_every_row(table: str, tmp_path: Path):
    path = tmp_path / "w.duckdb"
    _consistent(path)
    con = warehouse.connect(path)
    # d2, parsed by run-2, repeats a key d1 (parsed by run-1) already has.
    con.execute(
        "INSERT INTO nlp_runs (doc_id, extractor_version, model, processed_at, run_id) "
        "VALUES ('d1', 'v', 'm', now(), 'run-1'), ('d2', 'v', 'm', now(), 'run-2')"
    )
    con.execute(
        f"INSERT INTO {segments.rows_table(table)} "
        f"SELECT * REPLACE ('d2' AS doc_id) FROM {table} LIMIT 1"
    )
    con.close()
    rule = next(r for r in RULES if r.asset == table and r.name.startswith("unique_"))
    assert not _evaluate(rule, path, scope="run-2").passed
    assert not _evaluate(rule, path, scope=None).passed
    # A run that wrote neither row has nothing of its own to compare.
    assert _evaluate(rule, path, scope="run-3").passed


def test_the_check_steps_cover_every_rule_and_block():
    keys = [key for group in CHECKS for key in group.check_keys]
    assert sorted(keys, key=str) == sorted((r.key for r in RULES), key=str)
    specs = {spec.key: spec for group in CHECKS for spec in group.check_specs}
    for rule in RULES:
        assert specs[rule.key].blocking == (rule.name not in WARNINGS)


def test_texts_are_read_again_for_empty_ones_only_when_the_documents_changed(tmp_path: Path):
    path = tmp_path / "w.duckdb"
    _consistent(path)
    rule = next(r for r in RULES if r.name == "documents_when_files_ingested")
    text_hash = f"UPDATE salvo_rows.documents SET text_hash = {schema.TEXT_HASH}"
    con = warehouse.connect(path)
    con.execute(text_hash)
    con.close()
    assert _evaluate(rule, path, scope="run-1").passed
    assert _evaluate(rule, path, scope="run-2").passed
    # A text emptied by hand, its text_hash left as it was: the digest of the documents'
    # rows moved, so a run reads the texts again; so does the full check.
    con = warehouse.connect(path)
    con.execute("UPDATE salvo_rows.documents SET clean_text = ' '")
    con.close()
    assert not _evaluate(rule, path, scope="run-2b").passed
    assert not _evaluate(rule, path, scope=None).passed
    # Written as the documents stage writes it, with its hash: any run finds it.
    con = warehouse.connect(path)
    con.execute(text_hash)
    con.close()
    assert not _evaluate(rule, path, scope="run-3").passed
    assert not _evaluate(rule, path, scope="run-4").passed
