"""The SQL models and the SQL checks: exact rows on a small warehouse, every check passing
on consistent data and failing when the data is broken on purpose, and the marts of the
seed run."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.checks import CHECKS_TAG, FULL
from assets.marts import (
    CHARTS,
    MART_KEYS,
    MODELS,
    SQL_CHECKS,
    build_model_asset,
    sql_checks,
    sql_rule,
)
from assets.resources import SalvoSettings, WorkingDuckDB
from pipeline import schema, warehouse
from pipeline.marts import updates
from pipeline.marts.checks import SqlCheck, load_checks, offending_rows
from pipeline.marts.digests import input_digests
from pipeline.marts.models import SqlModel, load_models
from pipeline.marts.refresh import refresh_mart
from tests.conftest import materialization_metadata, read_rows

TEXT = "Iran sent 300 drones to Russia."
FILES = {"d1": "a.txt", "d2": "b.txt", "d3": "c.txt"}


def _base_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Three documents: one dated to the day, one undated, one known only to the year.
    d1 and d2 are one story (a wire copy and its rewrite)."""
    schema.ensure_schema(con)
    now = dt.datetime(2025, 2, 1)
    documents = [
        ("d1", FILES["d1"], "Wire A", dt.date(2025, 1, 15), "day", "metadata"),
        ("d2", FILES["d2"], "Paper B", None, None, "unknown"),
        ("d3", FILES["d3"], None, dt.date(2024, 1, 1), "year", "text"),
    ]
    for doc_id, source_file, outlet, published, precision, source in documents:
        con.execute(
            "INSERT INTO salvo_rows.documents (doc_id, source_file, title, outlet, published_date, "
            "date_precision, date_source, clean_text, ingested_at, characters) "
            "VALUES (?, ?, 'Title', ?, ?, ?, ?, ?, ?, ?)",
            [doc_id, source_file, outlet, published, precision, source, TEXT, now, len(TEXT)],
        )
        con.execute(
            "INSERT INTO salvo_rows.sentences "
            "(sentence_id, doc_id, position, start_char, end_char, text) "
            "VALUES (?, ?, 0, 0, ?, ?)",
            [f"{doc_id}:s0", doc_id, len(TEXT), TEXT],
        )
    entities = [
        ("d1", 0, 4, "Iran", "ACTOR", "IRN", None),
        ("d1", 23, 29, "Russia", "ACTOR", "RUS", None),
        ("d1", 14, 20, "drones", "WEAPON", None, "drone"),
        ("d2", 0, 4, "Iran", "ACTOR", "IRN", None),
        ("d2", 14, 20, "drones", "WEAPON", None, "drone"),
        ("d3", 23, 29, "Russia", "ACTOR", "RUS", None),
    ]
    for doc_id, start, end, text, label, actor, weapon in entities:
        con.execute(
            "INSERT INTO salvo_rows.entities "
            "(mention_id, doc_id, sentence_id, start_char, end_char, text, "
            "label, actor_code, weapon_class, source) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'lexicon')",
            [f"{doc_id}:e{start}", doc_id, f"{doc_id}:s0", start, end, text, label, actor, weapon],
        )
    claims = [
        (
            "c1",
            "d1",
            "supply",
            "IRN",
            "RUS",
            "drone",
            300.0,
            "300 drones",
            "officials",
            False,
            False,
        ),
        ("c2", "d2", "supply", "IRN", "RUS", "drone", None, None, None, True, False),
        ("c3", "d2", "supply", "IRN", "RUS", "drone", None, None, "Tehran", False, True),
        ("c4", "d3", "produce", "RUS", None, "glide_bomb", None, None, None, False, False),
        ("c5", "d3", "use", "IRN", "RUS", "drone", 12.0, "a dozen", "the army", False, False),
    ]
    for (
        claim_id,
        doc_id,
        relation,
        supplier,
        recipient,
        weapon,
        qty,
        qty_text,
        by,
        hedged,
        neg,
    ) in claims:
        con.execute(
            "INSERT INTO salvo_rows.claims "
            "(claim_id, doc_id, sentence_id, relation, supplier, recipient, "
            "weapon_class, weapon_text, quantity, quantity_text, attributed_to, hedged, negated, "
            "trigger_text, extractor_version) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'drones', ?, ?, ?, ?, ?, 'sent', 'v')",
            [
                f"{doc_id}:{claim_id}",
                doc_id,
                f"{doc_id}:s0",
                relation,
                supplier,
                recipient,
                weapon,
                qty,
                qty_text,
                by,
                hedged,
                neg,
            ],
        )
    con.execute("INSERT INTO story_links VALUES ('d1', 'd2', 5, 6, 4, 0.8, true)")
    for doc_id, story_id, size, nearest in (
        ("d1", "d1", 2, "d2"),
        ("d2", "d1", 2, "d1"),
        ("d3", "d3", 1, None),
    ):
        con.execute(
            "INSERT INTO document_stories (doc_id, source_file, story_id, story_documents, "
            "nearest_doc_id, similarity, shared_passages, passages, text_md5) "
            "VALUES (?, ?, ?, ?, ?, ?, NULL, 5, 'md5')",
            [doc_id, FILES[doc_id], story_id, size, nearest, 0.8 if nearest else None],
        )


def _build_marts(con: duckdb.DuckDBPyConnection) -> None:
    """Create every model table, each after the models it reads."""
    built: set[str] = set()
    pending = list(MODELS)
    while pending:
        ready = [m for m in pending if not (set(m.reads) & set(MART_KEYS)) - built]
        assert ready, "a cycle between models"
        for model in ready:
            con.execute(f"CREATE OR REPLACE TABLE {model.name} AS {model.sql}")
            built.add(model.name)
            pending.remove(model)


@pytest.fixture
def small_warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "work.duckdb"
    con = warehouse.connect(path)
    _base_tables(con)
    _build_marts(con)
    con.close()
    return path


# --- the models --------------------------------------------------------------------------


def test_undated_and_year_only_documents_fall_under_a_null_month(small_warehouse: Path):
    assert read_rows(
        small_warehouse,
        "SELECT month, actor_code, mentions, documents, independent_stories "
        "FROM mentions_by_actor_month ORDER BY month NULLS LAST, actor_code",
    ) == [
        (dt.date(2025, 1, 1), "IRN", 1, 1, 1),
        (dt.date(2025, 1, 1), "RUS", 1, 1, 1),
        (None, "IRN", 1, 1, 1),
        (None, "RUS", 1, 1, 1),
    ]
    assert read_rows(
        small_warehouse,
        "SELECT month, weapon_class, mentions, documents, independent_stories "
        "FROM mentions_by_weapon_month ORDER BY month NULLS LAST",
    ) == [(dt.date(2025, 1, 1), "drone", 1, 1, 1), (None, "drone", 1, 1, 1)]


def test_claims_enriched_carries_the_evidence_of_every_claim(small_warehouse: Path):
    rows = read_rows(
        small_warehouse,
        "SELECT claim_id, sentence, outlet, published_date, date_precision, month, "
        "source_file, story_id FROM claims_enriched ORDER BY claim_id",
    )
    assert len(rows) == 5
    assert rows[0] == (
        "d1:c1",
        TEXT,
        "Wire A",
        dt.date(2025, 1, 15),
        "day",
        dt.date(2025, 1, 1),
        "a.txt",
        "d1",
    )
    assert rows[1][3:] == (None, None, None, "b.txt", "d1")
    assert rows[4][4:6] == ("year", None)


def test_corroboration_counts_stories_and_never_denials(small_warehouse: Path):
    assert read_rows(
        small_warehouse,
        "SELECT claims, documents, independent_stories, outlets, sources, hedged_claims, "
        "negated_claims, max_quantity FROM claim_corroboration "
        "WHERE relation = 'supply' AND supplier = 'IRN' AND recipient = 'RUS'",
    ) == [(2, 2, 1, 2, ["officials"], 1, 1, 300.0)]


def test_arms_transfers_is_a_register_of_supplier_recipient_weapon(small_warehouse: Path):
    rows = read_rows(
        small_warehouse,
        "SELECT supplier, recipient, weapon_class, first_month, last_month, claims, documents, "
        "independent_stories, outlets, claimants, largest_quantity, largest_quantity_text, "
        "hedged_share, denied, denied_claims, relations FROM arms_transfers",
    )
    # The produce claim (no recipient) is not a transfer.
    assert rows == [
        (
            "IRN",
            "RUS",
            "drone",
            dt.date(2025, 1, 1),
            dt.date(2025, 1, 1),
            3,
            3,
            2,
            2,
            2,
            300.0,
            "300 drones",
            0.333,
            True,
            1,
            ["supply", "use"],
        )
    ]


def test_models_read_their_dependencies_from_the_sql():
    reads = {model.name: set(model.reads) for model in MODELS}
    assert reads["claims_enriched"] == {"claims", "documents", "sentences", "document_stories"}
    assert reads["claim_corroboration"] == {"claims_enriched"}
    assert reads["arms_transfers"] == {"claims_enriched"}
    assert reads["mentions_by_document"] == {"entities", "documents", "document_stories"}
    assert reads["mentions_by_month"] == {"mentions_by_document"}
    assert reads["mentions_by_actor_month"] == {"mentions_by_month"}
    assert reads["mentions_by_weapon_month"] == {"mentions_by_month"}


@pytest.mark.parametrize(
    ("sql", "columns"),
    [
        # Only the columns it names, wherever they are named (USING, ORDER BY, count(*)).
        (
            "SELECT e.label, count(*) FROM entities e JOIN documents USING (doc_id) "
            "GROUP BY ALL ORDER BY e.label",
            {"entities": ["doc_id", "label"], "documents": ["doc_id"]},
        ),
        # Ways of reading whole rows: every column.
        ("SELECT * FROM entities", None),
        ("SELECT e.* FROM entities e", None),
        ("SELECT hash(e) FROM entities e", None),
        ("SELECT label FROM entities NATURAL JOIN documents", None),
        ("SELECT COLUMNS('.*_char') FROM entities", None),
    ],
)
def test_a_model_digests_only_the_columns_its_sql_can_read(
    tmp_path: Path, sql: str, columns: dict[str, list[str]] | None
):
    (tmp_path / "model.sql").write_text(sql, encoding="utf-8")
    [model] = load_models(tmp_path)
    for table in model.reads:
        every = schema.columns_of(table)
        expected = every if columns is None else columns[table]
        assert model.columns_read(every) == expected


# --- the checks ---------------------------------------------------------------------------

# How to break the data each check guards. Mart agreement checks break the mart (as a buggy
# model would); the others break the table they read.
BREAKERS: dict[str, str] = {
    "arms_transfers__claims_match_claims": "UPDATE arms_transfers SET claims = claims + 1",
    "arms_transfers__months_are_first_of_month": (
        "UPDATE arms_transfers SET first_month = first_month + 14"
    ),
    "arms_transfers__one_row_per_transfer": (
        "INSERT INTO arms_transfers SELECT * FROM arms_transfers"
    ),
    "claim_corroboration__claims_match_claims": (
        "DELETE FROM claim_corroboration WHERE relation = 'produce'"
    ),
    "claim_corroboration__one_row_per_claim": (
        "UPDATE claim_corroboration SET independent_stories = documents + 1"
    ),
    "claims_by_month__claims_match_claims": ("DELETE FROM claims_by_month WHERE month IS NOT NULL"),
    "claims_by_month__months_are_first_of_month": (
        "UPDATE claims_by_month SET month = month + 3 WHERE month IS NOT NULL"
    ),
    "claims_enriched__claims_have_documents": (
        "UPDATE claims_enriched SET source_file = NULL WHERE doc_id = 'd2'"
    ),
    "claims_enriched__every_claim_once": (
        "INSERT INTO claims_enriched SELECT * FROM claims_enriched WHERE doc_id = 'd1'"
    ),
    "claims_enriched__months_are_first_of_month": (
        "UPDATE claims_enriched SET month = published_date"
    ),
    "document_stories__every_document_has_a_story": (
        "DELETE FROM document_stories WHERE doc_id = 'd2'"
    ),
    "mentions_by_actor_month__mentions_match_entities": (
        "DELETE FROM mentions_by_actor_month WHERE month IS NULL"
    ),
    "mentions_by_actor_month__months_are_first_of_month": (
        "UPDATE mentions_by_actor_month SET month = month + 1"
    ),
    "mentions_by_actor_weapon_month__claims_match_claims": (
        "DELETE FROM mentions_by_actor_weapon_month WHERE month IS NULL"
    ),
    "mentions_by_actor_weapon_month__months_are_first_of_month": (
        "ALTER TABLE mentions_by_actor_weapon_month ALTER month TYPE TIMESTAMP"
    ),
    "mentions_by_document__months_are_first_of_month": (
        "UPDATE mentions_by_document SET month = month + 14 WHERE month IS NOT NULL"
    ),
    "mentions_by_month__mentions_match_entities": (
        "DELETE FROM mentions_by_month WHERE label = 'WEAPON' AND month IS NULL"
    ),
    "mentions_by_month__months_are_first_of_month": (
        "UPDATE mentions_by_month SET month = month + 14 WHERE month IS NOT NULL"
    ),
    "mentions_by_weapon_month__mentions_match_entities": (
        "UPDATE mentions_by_weapon_month SET mentions = mentions * 2"
    ),
    "mentions_by_weapon_month__months_are_first_of_month": (
        "UPDATE mentions_by_weapon_month SET month = DATE '2025-01-31' WHERE month IS NOT NULL"
    ),
    "story_links__links_join_current_documents": (
        "INSERT INTO story_links VALUES ('d3', 'gone', 5, 5, 2, 0.5, true)"
    ),
}


def _evaluate(check: SqlCheck, path: Path) -> dg.AssetCheckResult:
    """Run the check's rule the way its check step does, on a connection of its own."""
    con = warehouse.connect(path)
    try:
        return sql_rule(check).result(con, None)
    finally:
        con.close()


def test_every_check_file_has_a_breaker_and_a_known_asset():
    assert sorted(BREAKERS) == sorted(c.file_name.removesuffix(".sql") for c in SQL_CHECKS)
    assets = set(MART_KEYS) | {"document_stories", "story_links"}
    assert {c.asset for c in SQL_CHECKS} <= assets
    # Every mart carries at least one check.
    assert set(MART_KEYS) <= {c.asset for c in SQL_CHECKS}


@pytest.mark.parametrize("check", SQL_CHECKS, ids=lambda c: c.file_name.removesuffix(".sql"))
def test_sql_check_passes_then_fails_when_broken(check: SqlCheck, small_warehouse: Path):
    passed = _evaluate(check, small_warehouse)
    assert passed.passed, passed.metadata
    assert passed.metadata["offending_rows"].value == 0

    con = warehouse.connect(small_warehouse)
    con.execute(BREAKERS[check.file_name.removesuffix(".sql")])
    con.close()
    broken = _evaluate(check, small_warehouse)
    assert not broken.passed
    assert broken.severity == dg.AssetCheckSeverity.ERROR
    assert broken.metadata["offending_rows"].value > 0
    assert "|" in broken.metadata["sample"].value


def test_a_check_whose_inputs_did_not_change_since_it_passed_is_not_run_again(
    small_warehouse: Path, tmp_path: Path
):
    checks = [
        g
        for g in sql_checks
        if dg.AssetKey("claims_enriched") in {k.asset_key for k in g.check_keys}
    ]

    def run(**tags: str) -> dict[str, tuple[bool, bool]]:
        """Each check of claims_enriched: (passed, run again)."""
        result = dg.materialize(
            [build_model_asset(next(m for m in MODELS if m.name == "claims_enriched")), *checks],
            resources=_resources(small_warehouse, tmp_path),
            instance=dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
            tags=tags,
            selection=dg.AssetSelection.all_asset_checks(),
        )
        return {
            e.check_name: (e.passed, e.metadata["run_again"].value)
            for e in result.get_asset_check_evaluations()
        }

    assert run()["every_claim_once"] == (True, True)
    assert run()["every_claim_once"] == (True, False)
    # A run tagged for every row runs every check.
    assert run(**{CHECKS_TAG: FULL})["every_claim_once"] == (True, True)
    # A claim that claims_enriched lacks: a table the check reads changed, so it runs, and
    # a failing check runs again in the next run.
    con = warehouse.connect(small_warehouse)
    con.execute(
        "INSERT INTO salvo_rows.claims SELECT * REPLACE ('extra' AS claim_id) FROM claims LIMIT 1"
    )
    con.close()
    assert run()["every_claim_once"] == (False, True)
    assert run()["every_claim_once"] == (False, True)
    con = warehouse.connect(small_warehouse)
    con.execute("DELETE FROM salvo_rows.claims WHERE claim_id = 'extra'")
    con.close()
    assert run()["every_claim_once"] == (True, True)
    assert run()["every_claim_once"] == (True, False)
    # The digest of a segmented table is of whole rows (kept by its writers per
    # document): a column the check does not read runs it again too, once.
    con = warehouse.connect(small_warehouse)
    con.execute("UPDATE salvo_rows.claims SET quantity = -1")
    con.close()
    assert run()["every_claim_once"] == (True, True)
    assert run()["every_claim_once"] == (True, False)


def test_a_check_file_name_must_say_its_asset(tmp_path: Path):
    (tmp_path / "ok__rows_exist.sql").write_text("-- Says why.\nSELECT 1 AS x WHERE false")
    [check] = load_checks(tmp_path)
    assert (check.asset, check.name, check.description) == ("ok", "rows_exist", "Says why.")
    (tmp_path / "no_asset_named.sql").write_text("SELECT 1")
    with pytest.raises(ValueError, match="<asset>__<check>"):
        load_checks(tmp_path)


def test_checks_wait_for_every_table_they_read():
    check = next(c for c in SQL_CHECKS if c.file_name.startswith("claims_enriched__every"))
    spec = sql_rule(check).spec()
    assert spec.asset_key == dg.AssetKey("claims_enriched")
    assert {dep.asset_key for dep in spec.additional_deps} == {dg.AssetKey("claims")}
    assert spec.blocking


def test_a_broken_model_fails_its_blocking_check_in_a_run(small_warehouse: Path, tmp_path: Path):
    """A model that drops undated documents (an inner join on the month, say) disagrees
    with the base tables: the check fails and, being blocking, fails the run."""
    model = next(m for m in MODELS if m.name == "mentions_by_actor_month")
    broken_sql = f"SELECT * FROM ({model.sql}) WHERE month IS NOT NULL"
    broken = build_model_asset(SqlModel(model.name, broken_sql, model.reads, "broken"))
    checks = [
        g for g in sql_checks if dg.AssetKey(model.name) in {k.asset_key for k in g.check_keys}
    ]
    result = dg.materialize(
        [broken, *checks],
        resources=_resources(small_warehouse, tmp_path),
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success
    evaluations = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert evaluations["mentions_match_entities"] is False
    assert evaluations["months_are_first_of_month"] is True


def _resources(path: Path, tmp_path: Path) -> dict:
    return {
        "duckdb": WorkingDuckDB(database=str(path)),
        "salvo": SalvoSettings(
            seeds_dir=str(tmp_path / "seeds"),
            warehouse=str(tmp_path / "published" / "salvo.duckdb"),
            spacy_model="unused",
        ),
    }


def test_a_mart_is_rebuilt_only_when_its_inputs_or_itself_changed(
    small_warehouse: Path, tmp_path: Path
):
    model = next(m for m in MODELS if m.name == "mentions_by_month")
    # It adds up mentions_by_document, which reads the base tables.
    assets = [
        build_model_asset(m) for m in MODELS if m.name in ("mentions_by_document", model.name)
    ]
    resources = _resources(small_warehouse, tmp_path)

    def run() -> tuple[bool, list]:
        result = dg.materialize(
            assets, resources=resources, instance=dg.DagsterInstance.ephemeral()
        )
        rows = read_rows(small_warehouse, f"SELECT * FROM {model.name} ORDER BY ALL")
        return materialization_metadata(result, model.name)["rebuilt"], rows

    rebuilt, first = run()
    assert rebuilt and first
    assert run() == (False, first)  # nothing changed: the table is left as it is
    # A new weapon mention in a table it reads: rebuilt, with the new count.
    con = warehouse.connect(small_warehouse)
    con.execute(
        "INSERT INTO salvo_rows.entities "
        "(mention_id, doc_id, sentence_id, start_char, end_char, text, "
        "label, weapon_class, source) SELECT 'extra', doc_id, sentence_id, start_char, "
        "end_char, text, label, weapon_class, source FROM entities WHERE label = 'WEAPON' LIMIT 1"
    )
    con.close()
    rebuilt, second = run()
    assert rebuilt and second != first
    # A column its SQL does not name (the mention's text, the document's text) cannot
    # change it: not rebuilt (mentions_by_document computes those documents again, to the
    # same rows, as the digests of the segmented tables are of whole rows). One it names
    # can: rebuilt.
    con = warehouse.connect(small_warehouse)
    con.execute("UPDATE salvo_rows.entities SET text = upper(text) WHERE label = 'WEAPON'")
    con.execute("UPDATE salvo_rows.documents SET clean_text = clean_text || ' '")
    con.close()
    assert run() == (False, second)
    con = warehouse.connect(small_warehouse)
    [(mention, weapon_class)] = con.execute(
        "SELECT mention_id, weapon_class FROM entities WHERE label = 'WEAPON' "
        "ORDER BY mention_id LIMIT 1"
    ).fetchall()
    con.execute(
        "UPDATE salvo_rows.entities SET weapon_class = 'renamed' WHERE mention_id = ?", [mention]
    )
    con.close()
    rebuilt, third = run()
    assert rebuilt and any(row[2] == "renamed" for row in third)
    con = warehouse.connect(small_warehouse)
    con.execute(
        "UPDATE salvo_rows.entities SET weapon_class = ? WHERE mention_id = ?",
        [weapon_class, mention],
    )
    con.close()
    rebuilt, back = run()
    assert rebuilt and back == second
    # The mart edited or dropped by hand: rebuilt to what its SQL says.
    for damage in (f"UPDATE {model.name} SET mentions = 0", f"DROP TABLE {model.name}"):
        con = warehouse.connect(small_warehouse)
        con.execute(damage)
        con.close()
        assert run() == (True, second)


def test_claims_enriched_is_updated_by_document_to_what_its_sql_gives(
    small_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    model = next(m for m in MODELS if m.name == "claims_enriched")
    assert model.update == "documents"
    resources = _resources(small_warehouse, tmp_path)

    def run(model: SqlModel = model) -> dict:
        result = dg.materialize(
            [build_model_asset(model)], resources=resources, instance=dg.DagsterInstance.ephemeral()
        )
        expected = read_rows(small_warehouse, f"SELECT * FROM ({model.sql}) ORDER BY ALL")
        assert read_rows(small_warehouse, "SELECT * FROM claims_enriched ORDER BY ALL") == expected
        # The digest recorded (derived from the changed rows by an update by document) is
        # the table's.
        con = duckdb.connect(str(small_warehouse), read_only=True)
        try:
            [(recorded,)] = con.execute(
                "SELECT rows_digest FROM mart_builds WHERE mart = 'claims_enriched'"
            ).fetchall()
            assert recorded == warehouse.table_fingerprint(con, "claims_enriched")
        finally:
            con.close()
        return materialization_metadata(result, model.name)

    def change(*statements: str) -> None:
        con = warehouse.connect(small_warehouse)
        for statement in statements:
            con.execute(statement)
        con.close()

    def rows_of(doc_id: str) -> int:
        return read_rows(small_warehouse, f"SELECT count(*) FROM claims WHERE doc_id = '{doc_id}'")[
            0
        ][0]

    change("DROP TABLE IF EXISTS claims_enriched")
    assert run()["update"] == "rebuild"  # no table yet
    [(doc_id, other)] = read_rows(
        small_warehouse, "SELECT min(doc_id), max(doc_id) FROM claims WHERE quantity IS NULL"
    )
    before = rows_of(doc_id)
    # A new claim: only its document's rows are computed again.
    change(
        "INSERT INTO salvo_rows.claims SELECT * REPLACE ('extra' AS claim_id, 7.0 AS quantity) "
        f"FROM claims WHERE doc_id = '{doc_id}' LIMIT 1"
    )
    meta = run()
    assert (meta["update"], meta["documents_changed"]) == ("documents", 1)
    assert (meta["rows_removed"], meta["rows_added"]) == (before, before + 1)
    # Another document's sentence and story change; a third loses its claims.
    [(third,)] = read_rows(
        small_warehouse,
        f"SELECT min(doc_id) FROM claims WHERE doc_id NOT IN ('{doc_id}', '{other}')",
    )
    change(
        f"UPDATE salvo_rows.sentences SET text = text || ' (edited)' WHERE doc_id = '{other}'",
        f"UPDATE document_stories SET story_id = 'story-x' WHERE doc_id = '{other}'",
        f"DELETE FROM salvo_rows.claims WHERE doc_id = '{third}'",
    )
    meta = run()
    assert (meta["update"], meta["documents_changed"]) == ("documents", 2)
    assert meta["rows_added"] == rows_of(other)
    # A row changed by hand, or the per-document digests dropped: a diff puts it right.
    change("UPDATE claims_enriched SET quantity = -1 WHERE claim_id = 'extra'")
    meta = run()
    assert (meta["update"], meta["rows_removed"], meta["rows_added"]) == ("diff", 1, 1)
    change(
        "UPDATE salvo_rows.claims SET quantity = 8 WHERE claim_id = 'extra'",
        "DROP SCHEMA mart_documents CASCADE",
    )
    assert run()["update"] == "diff"
    change("UPDATE salvo_rows.claims SET quantity = 9 WHERE claim_id = 'extra'")
    assert run()["update"] == "documents"
    # A new SQL: every document is computed again.
    edited = dataclasses.replace(model, sql="-- edited\n" + model.sql)
    documents = read_rows(small_warehouse, "SELECT count(DISTINCT doc_id) FROM documents")[0][0]
    assert run(edited)["documents_changed"] == documents
    # When most documents changed, a diff does it.
    monkeypatch.setattr(updates, "FEW_DOCUMENTS", 0)
    assert run()["update"] == "diff"
    assert run(edited)["update"] == "diff"
    # Columns that are not the SQL's (a table from an older version): rebuilt whole.
    change("ALTER TABLE claims_enriched ADD COLUMN leftover INTEGER")
    assert run()["update"] == "rebuild"


def test_a_large_model_updated_by_document_is_built_in_batches_of_documents(
    small_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # One document per batch stands for a warehouse past the batch size.
    monkeypatch.setattr(updates, "SORTED_BUILD_DOCUMENTS", 0)
    monkeypatch.setattr(updates, "BUILD_BATCH_DOCUMENTS", 1)
    model = next(m for m in MODELS if m.name == "claims_enriched")
    resources = _resources(small_warehouse, tmp_path)

    def run() -> dict:
        result = dg.materialize(
            [build_model_asset(model)], resources=resources, instance=dg.DagsterInstance.ephemeral()
        )
        expected = read_rows(small_warehouse, f"SELECT * FROM ({model.sql}) ORDER BY ALL")
        assert read_rows(small_warehouse, "SELECT * FROM claims_enriched ORDER BY ALL") == expected
        return materialization_metadata(result, model.name)

    def change(statement: str) -> None:
        con = warehouse.connect(small_warehouse)
        con.execute(statement)
        con.close()

    documents = read_rows(small_warehouse, "SELECT count(DISTINCT doc_id) FROM documents")[0][0]
    change("DROP TABLE claims_enriched")
    meta = run()
    assert (meta["update"], meta["batches"]) == ("rebuild", documents)
    # A row edited by hand is put right by a build in batches (a diff holds every row).
    change("UPDATE claims_enriched SET quantity = -1")
    meta = run()
    assert (meta["update"], meta["batches"]) == ("rebuild", documents)
    # The digests it leaves let the next run update by document.
    change(
        "UPDATE salvo_rows.claims "
        "SET quantity = 5 WHERE claim_id = (SELECT min(claim_id) FROM claims)"
    )
    assert run()["update"] == "documents"


def test_a_build_in_batches_sorts_nothing(small_warehouse: Path, monkeypatch: pytest.MonkeyPatch):
    # Through the segmented tables' views, DuckDB's sort of a batch's wide rows did not
    # spill: at 100,000 documents claims_enriched sorted in batches of 50,000 ran out of
    # 512 MB, and unsorted built within 256 MB (docs/architecture.md). Small warehouses
    # under a small limit fail or pass sorted and unsorted alike, so the plan is checked.
    monkeypatch.setattr(updates, "SORTED_BUILD_DOCUMENTS", 0)
    monkeypatch.setattr(updates, "BUILD_BATCH_DOCUMENTS", 1)
    model = next(m for m in MODELS if m.name == "claims_enriched")
    plans: list[str] = []

    class Recording:
        """A connection that explains each statement building the table before running it."""

        def __init__(self, con: duckdb.DuckDBPyConnection):
            self.con = con

        def execute(self, sql: str, *args):
            for start in (
                "CREATE OR REPLACE TABLE claims_enriched AS ",
                "INSERT INTO claims_enriched ",
            ):
                if sql.startswith(start):
                    query = sql.removeprefix(start)
                    plans.append(
                        self.con.execute(f"EXPLAIN (FORMAT JSON) {query}", *args).fetchall()[0][1]
                    )
            return self.con.execute(sql, *args)

    con = warehouse.connect(small_warehouse)
    try:
        digests = input_digests(con, model, "run", str(small_warehouse))
        with warehouse.transaction(con):
            updates.update(Recording(con), model, None, digests)  # type: ignore[arg-type]
        [(documents,)] = con.execute("SELECT count(DISTINCT doc_id) FROM documents").fetchall()
        assert len(plans) == documents + 1  # a batch per document, then no doc_id
        assert not [plan for plan in plans if "ORDER_BY" in plan]
    finally:
        con.close()


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("SELECT c.doc_id, c.claim_id FROM claims c", None),
        (
            "SELECT c.doc_id, s.text FROM claims c JOIN sentences s "
            "ON s.sentence_id = c.sentence_id AND s.doc_id = c.doc_id",
            None,
        ),
        ("SELECT claim_id FROM claims", "no doc_id output"),
        (
            "SELECT c.doc_id, s.text FROM claims c JOIN sentences s "
            "ON s.sentence_id = c.sentence_id",
            "without matching doc_id",
        ),
        (
            "SELECT c.doc_id FROM claims c JOIN documents d ON d.doc_id = c.doc_id OR true",
            "without matching doc_id",
        ),
        # Grouped by document, explicitly or by GROUP BY ALL: no group mixes documents.
        ("SELECT doc_id, count(*) AS n FROM claims GROUP BY ALL", None),
        ("SELECT c.doc_id, relation, count(*) AS n FROM claims c GROUP BY c.doc_id, 2", None),
        ("SELECT relation, count(*) AS n, doc_id FROM claims GROUP BY relation", "aggregate"),
        (
            "SELECT relation, count(*) AS n, any_value(doc_id) AS doc_id FROM claims GROUP BY ALL",
            "aggregate",
        ),
        ("SELECT doc_id, count(*) OVER () AS n FROM claims", "window"),
        ("SELECT doc_id, rank() OVER (ORDER BY claim_id) AS r FROM claims", "window"),
        ("SELECT doc_id FROM claims WHERE quantity > (SELECT 1)", "subquery"),
        ("SELECT doc_id FROM claims UNION ALL SELECT doc_id FROM documents", "plain SELECT"),
    ],
)
def test_update_by_document_is_for_models_that_never_mix_documents(
    tmp_path: Path, sql: str, problem: str | None
):
    (tmp_path / "per_document.sql").write_text(f"-- @update: documents\n{sql}", encoding="utf-8")
    if problem is None:
        assert load_models(tmp_path)[0].update == "documents"
    else:
        with pytest.raises(ValueError, match=problem):
            load_models(tmp_path)


def _materialize_as_sql_says(
    models: list[SqlModel], path: Path, resources: dict
) -> dict[str, dict]:
    """Materialize the models; each table must hold what its SQL gives. Their metadata."""
    result = dg.materialize(
        [build_model_asset(m) for m in models],
        resources=resources,
        instance=dg.DagsterInstance.ephemeral(),
    )
    for model in models:
        expected = read_rows(path, f"SELECT * FROM ({model.sql}) ORDER BY ALL")
        assert read_rows(path, f"SELECT * FROM {model.name} ORDER BY ALL") == expected
    return {m.name: materialization_metadata(result, m.name) for m in models}


GROUPED = [m for m in MODELS if m.update == "groups" and m.reads == ("claims_enriched",)]


def test_aggregates_of_claims_enriched_are_updated_by_group_to_what_their_sql_gives(
    small_warehouse: Path, tmp_path: Path
):
    assert {m.name for m in MODELS if m.update == "groups"} == {
        "arms_transfers",
        "claim_corroboration",
        "mentions_by_actor_weapon_month",
        "mentions_by_month",
    }
    assert {m.name for m in GROUPED} == {
        "arms_transfers",
        "claim_corroboration",
        "mentions_by_actor_weapon_month",
    }
    enriched = next(m for m in MODELS if m.name == "claims_enriched")
    resources = _resources(small_warehouse, tmp_path)

    def run(models: list[SqlModel]) -> dict[str, dict]:
        return _materialize_as_sql_says(models, small_warehouse, resources)

    def change(*statements: str) -> None:
        con = warehouse.connect(small_warehouse)
        for statement in statements:
            con.execute(statement)
        con.close()

    everything = [enriched, *GROUPED]
    assert {meta["update"] for meta in list(run(everything).values())[1:]} == {"rebuild"}
    # A claim with a new supplier (a new group), another claim's quantity changed (a group
    # that changes) and a claim gone: only those groups are computed again.
    change(
        "INSERT INTO salvo_rows.claims SELECT * REPLACE ('extra' AS claim_id, 'PRK' AS supplier) "
        "FROM claims WHERE supplier IS NOT NULL LIMIT 1",
        "UPDATE salvo_rows.claims "
        "SET quantity = 12345 WHERE claim_id = (SELECT min(claim_id) FROM claims)",
        "DELETE FROM salvo_rows.claims WHERE claim_id = (SELECT max(claim_id) FROM claims "
        "WHERE claim_id <> 'extra')",
    )
    metas = run(everything)
    for model in GROUPED:
        meta = metas[model.name]
        assert meta["update"] == "groups" and meta["groups_changed"] > 0, model.name
    # A mart edited by hand is rebuilt, not patched.
    change(
        "UPDATE arms_transfers SET claims = 0",
        "UPDATE salvo_rows.claims SET hedged = NOT hedged WHERE claim_id = 'extra'",
    )
    assert run(everything)["arms_transfers"]["update"] == "rebuild"
    # claims_enriched updated twice while the aggregates were not: its last changes do not
    # bring them up to date, so they are rebuilt.
    for quantity in (1, 2):
        change(f"UPDATE salvo_rows.claims SET quantity = {quantity} WHERE claim_id = 'extra'")
        assert run([enriched])["claims_enriched"]["update"] == "documents"
    assert {meta["update"] for meta in run(GROUPED).values()} == {"rebuild"}
    # The changed rows dropped by hand: rebuilt, not a failed run.
    change("UPDATE salvo_rows.claims SET quantity = 3 WHERE claim_id = 'extra'")
    assert run([enriched])["claims_enriched"]["update"] == "documents"
    change("DROP SCHEMA mart_changes CASCADE")
    assert {meta["update"] for meta in run(GROUPED).values()} == {"rebuild"}
    # Nothing changed: nothing is rebuilt.
    assert not any(meta["rebuilt"] for meta in run(everything).values())


def test_a_mart_stored_as_its_build_left_it_is_not_read_again_until_written_to(
    small_warehouse: Path, monkeypatch: pytest.MonkeyPatch
):
    model = next(m for m in MODELS if m.name == "claims_enriched")
    read: list[str] = []
    fingerprint = warehouse.table_fingerprint

    def recording(con, table, *args, **kwargs):
        read.append(table)
        return fingerprint(con, table, *args, **kwargs)

    monkeypatch.setattr(warehouse, "table_fingerprint", recording)
    con = warehouse.connect(small_warehouse)
    try:

        def refresh(verify: bool = False) -> bool:
            read.clear()
            return refresh_mart(con, model, "run", str(small_warehouse), verify=verify).rebuilt

        refresh()  # its first stamp (the fixture built it before stamps were kept)
        [(stamp,)] = con.execute(
            "SELECT storage_stamp FROM mart_builds WHERE mart = ?", [model.name]
        ).fetchall()
        assert stamp == warehouse.storage_stamp(con, model.name)
        # As the build left it: no digest of its rows.
        assert refresh() is False and model.name not in read
        # The daily full-check run reads it anyway.
        assert refresh(verify=True) is False and model.name in read
        # Written to with the same values: read, found as built, stamped again.
        con.execute(f"UPDATE {model.name} SET quantity = quantity")
        assert refresh() is False and model.name in read
        assert refresh() is False and model.name not in read
        # Edited, or a row deleted: read, and rebuilt to what its SQL says.
        for edit in (
            f"UPDATE {model.name} SET quantity = 0 WHERE claim_id = "
            f"(SELECT min(claim_id) FROM {model.name})",
            f"DELETE FROM {model.name} WHERE claim_id = (SELECT max(claim_id) FROM {model.name})",
        ):
            con.execute(edit)
            con.execute("CHECKPOINT")
            assert refresh() is True and model.name in read
            assert refresh() is False and model.name not in read
        assert (
            con.execute(f"SELECT * FROM {model.name} EXCEPT SELECT * FROM ({model.sql})").fetchall()
            == []
        )
    finally:
        con.close()


def test_mentions_by_month_adds_up_the_changed_documents_group_by_group(
    small_warehouse: Path, tmp_path: Path
):
    models = [m for m in MODELS if m.name in ("mentions_by_document", "mentions_by_month")]
    resources = _resources(small_warehouse, tmp_path)

    def run() -> dict[str, dict]:
        return _materialize_as_sql_says(models, small_warehouse, resources)

    run()
    # One document names a weapon class nobody named (a new group), another loses a
    # mention of an actor: those two documents' rows, and their groups, are computed again.
    con = warehouse.connect(small_warehouse)
    [(first, last)] = con.execute("SELECT min(doc_id), max(doc_id) FROM entities").fetchall()
    con.execute(
        "INSERT INTO salvo_rows.entities SELECT * REPLACE ('extra' AS mention_id, "
        "'WEAPON' AS label, 'new class' AS weapon_class) FROM entities WHERE doc_id = ? LIMIT 1",
        [first],
    )
    con.execute(
        "DELETE FROM salvo_rows.entities WHERE mention_id = (SELECT min(mention_id) "
        "FROM entities WHERE doc_id = ? AND label = 'ACTOR')",
        [last],
    )
    con.close()
    metas = run()
    assert metas["mentions_by_document"]["update"] == "documents"
    assert metas["mentions_by_document"]["documents_changed"] == 2
    assert metas["mentions_by_month"]["update"] == "groups"
    assert metas["mentions_by_month"]["groups_changed"] >= 2
    assert not any(meta["rebuilt"] for meta in run().values())


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("SELECT doc_id, count(*) AS n FROM claims_enriched GROUP BY ALL", None),
        ("SELECT doc_id, count(*) AS n FROM claims GROUP BY ALL", "updated by diff"),
        ("SELECT doc_id FROM claims_enriched", "no GROUP BY"),
        (
            "SELECT c.doc_id, count(*) AS n FROM claims_enriched c JOIN documents d "
            "ON d.doc_id = c.doc_id GROUP BY ALL",
            "reads 2 tables",
        ),
        (
            "SELECT doc_id, count(*) AS n FROM claims_enriched GROUP BY ALL HAVING n > 1",
            "HAVING",
        ),
        (
            "SELECT doc_id, count(*) AS n, rank() OVER (ORDER BY count(*)) AS r "
            "FROM claims_enriched GROUP BY doc_id",
            "window",
        ),
    ],
)
def test_update_by_group_is_for_plain_aggregates_of_a_diff_model(
    tmp_path: Path, sql: str, problem: str | None
):
    (tmp_path / "claims_enriched.sql").write_text(
        "-- @update: diff\nSELECT * FROM claims", encoding="utf-8"
    )
    (tmp_path / "grouped.sql").write_text(f"-- @update: groups\n{sql}", encoding="utf-8")
    if problem is None:
        grouped = next(m for m in load_models(tmp_path) if m.name == "grouped")
        assert grouped.keys == ("doc_id",)
    else:
        with pytest.raises(ValueError, match=problem):
            load_models(tmp_path)


def test_the_monthly_marts_draw_their_chart(small_warehouse: Path, tmp_path: Path):
    models = [m for m in MODELS if m.name in CHARTS]
    result = dg.materialize(
        [build_model_asset(m) for m in models],
        resources=_resources(small_warehouse, tmp_path),
        instance=dg.DagsterInstance.ephemeral(),
    )
    for model in models:
        metadata = materialization_metadata(result, model.name)
        assert "](data:image/png;base64,iVBOR" in metadata["chart"]
        path = Path(metadata["chart_path"])
        assert path == tmp_path / "published" / "charts" / f"{model.name}.png"
        assert path.read_bytes().startswith(b"\x89PNG")


# --- the seed run -------------------------------------------------------------------------


def test_seed_corroboration_of_north_korean_shells(seeded_warehouse):
    path, _ = seeded_warehouse
    [(documents, stories, outlets, negated)] = read_rows(
        path,
        "SELECT documents, independent_stories, outlets, negated_claims "
        "FROM claim_corroboration WHERE relation = 'supply' AND supplier = 'PRK' "
        "AND recipient = 'RUS' AND weapon_class = 'artillery_ammunition'",
    )
    assert documents >= 4
    # 003 and 004 are one story: one fewer independent story than documents.
    assert stories == documents - 1
    assert outlets <= documents and negated == 0
    [(transfers_docs,)] = read_rows(
        path,
        "SELECT documents FROM arms_transfers WHERE supplier = 'PRK' AND recipient = 'RUS' "
        "AND weapon_class = 'artillery_ammunition'",
    )
    assert transfers_docs == documents


def test_seed_marts_agree_with_the_base_tables(seeded_warehouse):
    path, result = seeded_warehouse
    con = duckdb.connect(str(path), read_only=True)
    try:
        for check in SQL_CHECKS:
            assert offending_rows(con, check).count == 0, check.file_name
        assert (
            con.execute("SELECT count(*) FROM claims_enriched").fetchone()
            == con.execute("SELECT count(*) FROM claims").fetchone()
        )
    finally:
        con.close()
    evaluated = {
        (e.asset_key.path[-1], e.check_name): e.passed for e in result.get_asset_check_evaluations()
    }
    for check in SQL_CHECKS:
        assert evaluated[(check.asset, check.name)] is True, check.file_name


def test_seed_marts_show_counts_schemas_previews_and_charts(seeded_warehouse):
    path, result = seeded_warehouse
    for key in [*MART_KEYS, "document_stories", "story_links"]:
        metadata = materialization_metadata(result, key)
        assert metadata["dagster/row_count"] > 0, key
        assert metadata["dagster/column_schema"].columns, key
        assert "|" in metadata["preview"], key
    for key in CHARTS:
        metadata = materialization_metadata(result, key)
        assert metadata["chart"].startswith("![")
        assert Path(metadata["chart_path"]).parent == path.parent / "charts"
        assert Path(metadata["chart_path"]).is_file()


def test_a_digest_follows_the_rows_removed_and_added(tmp_path: Path):
    con = duckdb.connect(str(tmp_path / "digest.duckdb"))
    con.execute("CREATE TABLE t AS SELECT range AS n, range % 7 AS g FROM range(1000)")
    con.execute("CREATE TABLE gone AS SELECT * FROM t WHERE g = 3")
    con.execute("CREATE TABLE new AS SELECT n + 5000 AS n, g FROM t WHERE g = 5")
    before = warehouse.table_fingerprint(con, "t")
    removed, added = (warehouse.table_fingerprint(con, name) for name in ("gone", "new"))
    assert before and removed and added
    con.execute("DELETE FROM t WHERE g = 3")
    con.execute("INSERT INTO t SELECT * FROM new")
    assert warehouse.fingerprint_after(before, removed, added) == warehouse.table_fingerprint(
        con, "t"
    )
    everything = warehouse.table_fingerprint(con, "t")
    assert everything
    con.execute("DELETE FROM t")
    empty = warehouse.table_fingerprint(con, "t")
    assert warehouse.fingerprint_after(everything, everything, empty or "") == empty
    con.close()


def test_claims_are_counted_by_the_month_they_happened_next_to_the_month_reported(
    small_warehouse: Path,
):
    con = warehouse.connect(small_warehouse)
    # d1 (published 15 January 2025) says its drones were sent "since August" 2024.
    con.execute(
        "UPDATE salvo_rows.claims "
        "SET event_start = DATE '2024-08-01', event_end = DATE '2025-01-15', "
        "event_precision = 'month', event_text = 'since August' WHERE claim_id = 'd1:c1'"
    )
    _build_marts(con)
    con.close()
    rows = read_rows(
        small_warehouse,
        "SELECT month, relation, weapon_class, claims_published, claims_happened "
        "FROM claims_by_month ORDER BY month NULLS LAST, relation, weapon_class",
    )
    assert rows == [
        (dt.date(2024, 8, 1), "supply", "drone", 0, 1),
        (dt.date(2025, 1, 1), "supply", "drone", 1, 0),
        # d2 is undated, d3 known to the year only; the other claims state no time.
        (None, "produce", "glide_bomb", 1, 1),
        (None, "supply", "drone", 1, 1),
        (None, "use", "drone", 1, 1),
    ]


def test_a_mart_reads_the_segmented_tables_from_temporary_copies(
    small_warehouse: Path,
):
    # Through the segmented tables' views (a UNION ALL of Parquet files and a table) DuckDB
    # estimated mentions_by_month's join at 300,000 documents 700 times too high and ran
    # out of 512 MB; over tables of the same rows it built (docs/architecture.md). The
    # statement reads copies, dropped when it is done.
    model = next(m for m in MODELS if m.name == "mentions_by_month")
    plans: list[str] = []

    class Recording:
        """A connection that explains each statement reading the model's SQL first."""

        def __init__(self, con: duckdb.DuckDBPyConnection):
            self.con = con

        def execute(self, sql: str, *args):
            start = f"CREATE OR REPLACE TABLE {model.name} AS "
            if sql.startswith(start):
                query = sql.removeprefix(start)
                plans.append(self.con.execute(f"EXPLAIN {query}", *args).fetchall()[0][1])
            return self.con.execute(sql, *args)

    TEMPORARY = "SELECT table_name FROM duckdb_tables() WHERE temporary"

    def temporary(con: duckdb.DuckDBPyConnection) -> list[str]:
        return [r[0] for r in con.execute(TEMPORARY).fetchall()]

    con = warehouse.connect(small_warehouse)
    try:
        assert "salvo_rows" in con.execute("EXPLAIN SELECT * FROM entities").fetchall()[0][1]
        digests = input_digests(con, model, "run", str(small_warehouse))
        with warehouse.transaction(con):
            updates.update(Recording(con), model, None, digests)  # type: ignore[arg-type]
        assert temporary(con) == []
        assert len(plans) == 1
        assert not [plan for plan in plans if "salvo_rows" in plan]
    finally:
        con.close()
