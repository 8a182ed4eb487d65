"""Near-duplicate stories: the library on small texts, and the asset's incremental runs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import pytest

from assets import ingest
from assets.checks import CHECKS_TAG, FULL
from assets.resources import WorkingDuckDB, build_resources
from assets.stories import story_links_and_document_stories
from pipeline import schema, stories, warehouse

WIRE = """Iran shipped hundreds of Shahed attack drones to Russia over the summer, two Western \
officials said on Tuesday.

The drones were flown from Tehran to an airbase outside Moscow aboard cargo aircraft, according \
to the officials.

Ukrainian air defence units shot down dozens of the drones over Kyiv and Odesa last week.

Iranian diplomats denied that any weapons had been sent for use in Ukraine.

Analysts expect further deliveries of ballistic missiles before the winter."""

# The same wire copy rewritten by another outlet: sentences reordered inside, words swapped,
# one paragraph dropped and one of its own added.
REWRITE = """Two Western officials said Tuesday that Iran shipped hundreds of Shahed attack drones \
to Russia over the summer.

According to the officials, cargo aircraft flew the drones from Tehran to an airbase outside \
Moscow.

Ukrainian air defence shot down dozens of these drones over Kyiv and Odesa in the past week.

Markets in Moscow fell sharply on the news, traders reported."""

# An independent report that quotes one sentence of the wire: not the same story.
QUOTING = """Kyiv says its soldiers faced fresh waves of drones overnight, with power cuts \
reported across the capital.

Iran shipped hundreds of Shahed attack drones to Russia over the summer, two Western officials \
said on Tuesday.

Engineers worked through the night to restore electricity to hospitals and schools in the city.

The mayor urged residents to stay in shelters until the sirens stopped."""

UNRELATED = """The central bank raised its key interest rate by half a point on Friday.

Economists had expected a smaller move after inflation slowed for a third straight month.

The currency gained against the dollar and the euro in early trading."""


def test_passages_are_sentences_and_lines_with_enough_content_words():
    found = stories.passages("Published\n\non\n\n" + WIRE)
    assert len(found) == 5
    assert {"iran", "shahed", "drones", "russia"} <= found[0]
    assert "the" not in found[0]
    assert stories.passages("Kyiv, 3 May.\nBy our correspondent.") == []


def test_a_rewritten_wire_copy_is_the_same_story():
    score = stories.score_pair(stories.passages(WIRE), stories.passages(REWRITE))
    assert (score.shared, score.other_shared) == (3, 3)
    assert score.overlap == pytest.approx(0.75)
    assert score.same_story


def test_one_shared_quote_does_not_make_one_story():
    score = stories.score_pair(stories.passages(WIRE), stories.passages(QUOTING))
    assert score.shared_passages == 1
    assert not score.same_story
    unrelated = stories.score_pair(stories.passages(WIRE), stories.passages(UNRELATED))
    assert unrelated.shared_passages == 0 and unrelated.overlap == 0.0


def test_pair_scores_count_every_passage_with_a_near_copy():
    texts = [stories.passages(t) for t in (WIRE, REWRITE, QUOTING, UNRELATED)]

    def near(x: frozenset[str], y: frozenset[str]) -> bool:
        return len(x & y) / len(x | y) >= stories.PASSAGE_JACCARD

    for a in texts:
        for b in texts:
            score = stories.score_pair(a, b)
            assert score.shared == sum(any(near(x, y) for y in b) for x in a)
            assert score.other_shared == sum(any(near(x, y) for x in a) for y in b)
    assert stories.score_pair([], texts[0]) == stories.PairScore(0, len(texts[0]), 0, 0)
    # One document against several at once scores each as on its own.
    vocabulary: dict[str, int] = {}
    numbered = [
        stories.numbered([[vocabulary.setdefault(w, len(vocabulary)) for w in p] for p in t])
        for t in [*texts, []]
    ]
    for a, text in zip(numbered, [*texts, []], strict=True):
        alone = [stories.score_pair(text, other) for other in [*texts, []]]
        assert stories.score_against(a, numbered) == alone


def test_band_keys_are_stable_and_collide_for_near_copies():
    wire, rewrite = stories.passages(WIRE), stories.passages(REWRITE)
    keys = stories.band_keys(wire)
    assert len(keys) == len(wire) and all(len(k) == stories.BANDS for k in keys)
    assert keys == stories.band_keys(wire)
    # The first sentence, rewritten (word-set Jaccard 0.75), shares at least one band.
    first_rewritten = stories.band_keys(rewrite)[0]
    assert any(a == b for a, b in zip(keys[0], first_rewritten, strict=True))
    # An unrelated sentence shares none.
    other = stories.band_keys(stories.passages(UNRELATED))[0]
    assert not any(a == b for a, b in zip(keys[0], other, strict=True))
    assert stories.band_keys([]) == []


def test_band_keys_are_those_datasketch_made_for_earlier_runs():
    # Keys stored by earlier runs were made with datasketch's MinHash: a new document must
    # still collide with them, so the keys must be the same numbers.
    from datasketch import MinHash

    passages = stories.passages(WIRE + "\n" + REWRITE + "\n" + QUOTING + "\n" + UNRELATED)
    signatures = MinHash.bulk(
        [[w.encode() for w in words] for words in passages],
        num_perm=stories.NUM_PERM,
        seed=stories.SEED,
    )
    values = np.stack([s.hashvalues for s in signatures]).astype(np.uint64)
    keys = (
        values.reshape(len(passages), stories.BANDS, stories.ROWS) * stories._ROW_MULTIPLIERS
    ).sum(axis=2, dtype=np.uint64)
    for shift, multiplier in ((30, stories._MIX_1), (27, stories._MIX_2)):
        keys ^= keys >> np.uint64(shift)
        keys *= multiplier
    keys ^= keys >> np.uint64(31)
    assert stories.band_key_matrix(passages).tolist() == keys.view(np.int64).tolist()
    # Several documents at once give each its own keys.
    together = stories.band_key_matrices([passages[:3], [], passages[3:]])
    assert [m.shape[0] for m in together] == [3, 0, len(passages) - 3]
    assert np.concatenate(together).tolist() == keys.view(np.int64).tolist()


def test_stories_are_connected_groups_named_by_their_smallest_id():
    grouped = stories.group_stories(["d", "b", "c", "a", "e"], [("d", "b"), ("c", "d")])
    assert grouped == {"a": "a", "b": "b", "c": "b", "d": "b", "e": "e"}
    # A link to a document that is gone is ignored.
    assert stories.group_stories(["a"], [("a", "zz")]) == {"a": "a"}


def test_compare_all_scores_every_pair_once():
    scores = stories.compare_all({"w": WIRE, "r": REWRITE, "q": QUOTING})
    assert sorted(scores) == [("q", "r"), ("q", "w"), ("r", "w")]
    assert [pair for pair, s in scores.items() if s.same_story] == [("r", "w")]


# --- the asset, incremental runs on a temporary working database ---------------------------


def _add_documents(path: Path, texts: dict[str, str]) -> None:
    con = warehouse.connect(path)
    schema.ensure_schema(con)
    now = dt.datetime(2025, 1, 1)
    for doc_id, text in texts.items():
        con.execute(
            "INSERT INTO salvo_rows.documents "
            "(doc_id, source_file, date_source, clean_text, ingested_at, "
            "characters) VALUES (?, ?, 'unknown', ?, ?, ?)",
            [doc_id, f"{doc_id}.txt", text, now, len(text)],
        )
    con.close()


def _run(path: Path) -> dg.ExecuteInProcessResult:
    result = dg.materialize(
        [story_links_and_document_stories],
        resources={"duckdb": WorkingDuckDB(database=str(path))},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    return result


def _stories(path: Path) -> dict[str, tuple[str, int]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            "SELECT doc_id, story_id, story_documents FROM document_stories"
        ).fetchall()
    finally:
        con.close()
    return {doc_id: (story_id, size) for doc_id, story_id, size in rows}


def _metadata(result: dg.ExecuteInProcessResult, key: str) -> dict:
    for event in result.get_asset_materialization_events():
        if event.asset_key == dg.AssetKey(key):
            return {k: v.value for k, v in event.materialization.metadata.items()}
    raise KeyError(key)


def test_asset_groups_new_documents_and_only_indexes_what_changed(tmp_path: Path):
    path = tmp_path / "work.duckdb"
    _add_documents(path, {"b_wire": WIRE, "c_quoting": QUOTING, "d_unrelated": UNRELATED})
    first = _run(path)
    assert _metadata(first, "document_stories")["documents_indexed"] == 3
    assert {story for story, _ in _stories(path).values()} == {"b_wire", "c_quoting", "d_unrelated"}

    # Nothing new: nothing indexed, nothing changes.
    again = _run(path)
    assert _metadata(again, "document_stories")["documents_indexed"] == 0
    assert _metadata(again, "document_stories")["stories"] == 3

    # A rewrite arrives: only it is indexed, and it joins the wire's story under its own
    # smaller id.
    _add_documents(path, {"a_rewrite": REWRITE})
    third = _run(path)
    assert _metadata(third, "document_stories")["documents_indexed"] == 1
    grouped = _stories(path)
    assert grouped["a_rewrite"] == grouped["b_wire"] == ("a_rewrite", 2)
    assert grouped["c_quoting"] == ("c_quoting", 1)
    metadata = _metadata(third, "story_links")
    assert metadata["dagster/row_count"] == 1
    assert "|" in metadata["preview"]

    # The rewrite leaves the folder: its links go, the wire is a story of its own again.
    con = warehouse.connect(path)
    con.execute("DELETE FROM salvo_rows.documents WHERE doc_id = 'a_rewrite'")
    con.close()
    _run(path)
    assert _stories(path)["b_wire"] == ("b_wire", 1)
    con = duckdb.connect(str(path), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM story_links").fetchone() == (0,)
        left = con.execute(
            "SELECT count(*) FROM passage_bands WHERE doc_id = 'a_rewrite'"
        ).fetchone()
        assert left == (0,)
    finally:
        con.close()


def test_changed_text_under_the_same_doc_id_is_indexed_again(tmp_path: Path):
    path = tmp_path / "work.duckdb"
    _add_documents(path, {"a": WIRE, "b": UNRELATED})
    _run(path)
    assert _stories(path)["b"] == ("b", 1)
    # Re-cleaning can change clean_text without changing doc_id (a hash of the raw text).
    con = warehouse.connect(path)
    con.execute("UPDATE salvo_rows.documents SET clean_text = ? WHERE doc_id = 'b'", [REWRITE])
    con.close()
    result = _run(path)
    assert _metadata(result, "document_stories")["documents_indexed"] == 1
    assert _stories(path)["b"] == ("a", 2)


def test_texts_are_compared_by_the_hash_the_documents_stage_took(tmp_path: Path):
    folder, published = tmp_path / "seeds", tmp_path / "published" / "salvo.duckdb"
    folder.mkdir()
    (folder / "a.txt").write_text(WIRE, encoding="utf-8")
    (folder / "b.txt").write_text(UNRELATED, encoding="utf-8")
    working = warehouse.working_path_for(published)

    def run(tags: dict[str, str] | None = None) -> dict:
        result = dg.materialize(
            [
                ingest.seed_files_and_raw_documents,
                ingest.documents,
                story_links_and_document_stories,
            ],
            resources=build_resources(folder, published, "unused"),
            instance=dg.DagsterInstance.ephemeral(),
            tags=tags,
        )
        assert result.success
        return _metadata(result, "document_stories")

    def stories_by_file() -> dict[str, int]:
        con = duckdb.connect(str(working), read_only=True)
        try:
            rows = con.execute(
                "SELECT source_file, story_documents FROM document_stories"
            ).fetchall()
            assert con.execute(
                "SELECT count(*) FROM documents WHERE text_hash IS DISTINCT FROM hash(clean_text)"
            ).fetchone() == (0,)
        finally:
            con.close()
        return dict(rows)

    assert run()["documents_indexed"] == 2
    assert stories_by_file() == {"a.txt": 1, "b.txt": 1}
    # A text edited in the table by hand, its text_hash left as it was: a regular run trusts
    # the hash the documents stage took and indexes nothing; a full-check run takes every
    # hash again, and the edited text is indexed and joins the story it now belongs to.
    con = warehouse.connect(working)
    con.execute(
        "UPDATE salvo_rows.documents SET clean_text = ? WHERE source_file = 'b.txt'", [REWRITE]
    )
    con.close()
    assert run()["documents_indexed"] == 0
    assert run({CHECKS_TAG: FULL})["documents_indexed"] == 1
    assert stories_by_file() == {"a.txt": 2, "b.txt": 2}


def test_text_digests_from_another_duckdb_version_do_not_reindex(tmp_path: Path):
    path = tmp_path / "work.duckdb"
    _add_documents(path, {"a": WIRE, "b": UNRELATED})
    _run(path)
    # text_hash is DuckDB's hash, which another DuckDB version may compute differently, or
    # missing (a table from before the column): text_md5 decides, and the next run writes
    # those rows again with this DuckDB's hash (nothing is indexed again).
    con = warehouse.connect(path)
    con.execute("UPDATE document_stories SET text_hash = NULL WHERE doc_id = 'a'")
    con.execute("UPDATE document_stories SET text_hash = 12345 WHERE doc_id = 'b'")
    con.close()
    assert _metadata(_run(path), "document_stories")["documents_indexed"] == 0
    _add_documents(path, {"c": QUOTING})
    assert _metadata(_run(path), "document_stories")["documents_indexed"] == 1
    con = duckdb.connect(str(path), read_only=True)
    try:
        stale = con.execute(
            "SELECT count(*) FROM document_stories s JOIN documents d USING (doc_id) "
            "WHERE s.text_hash IS DISTINCT FROM hash(d.clean_text)"
        ).fetchone()
    finally:
        con.close()
    assert stale == (0,)


def test_seed_articles_003_and_004_are_one_story_and_the_others_alone(seeded_warehouse):
    path, result = seeded_warehouse
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            "SELECT left(source_file, 3), story_id, story_documents FROM document_stories "
            "ORDER BY source_file"
        ).fetchall()
    finally:
        con.close()
    story = {prefix: story_id for prefix, story_id, _ in rows}
    assert story["003"] == story["004"]
    assert len({story[p] for p in ("000", "001", "002", "003")}) == 4
    assert [size for _, _, size in rows] == [1, 1, 1, 2, 2]


def _table_rows(path: Path, table: str, order: str = "ALL") -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
    finally:
        con.close()


def _index_rows(path: Path) -> list[tuple]:
    return _table_rows(path, "passage_bands")


def test_a_run_that_fails_after_indexing_is_healed_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = tmp_path / "work.duckdb"
    _add_documents(path, {"b_wire": WIRE, "c_quoting": QUOTING, "d_unrelated": UNRELATED})
    _run(path)
    _add_documents(path, {"a_rewrite": REWRITE})

    # The band keys of the new document are committed, then scoring fails.
    def fail(*args, **kwargs):
        raise RuntimeError("scoring failed")

    with monkeypatch.context() as patch:
        patch.setattr("pipeline.story_index._score", fail)
        failed = dg.materialize(
            [story_links_and_document_stories],
            resources={"duckdb": WorkingDuckDB(database=str(path))},
            instance=dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
        )
    assert not failed.success
    assert "a_rewrite" not in _stories(path)
    assert any(row[0] == "a_rewrite" for row in _index_rows(path))

    # The next run indexes it again (its keys are not doubled) and groups it: the same
    # tables as a warehouse that never failed.
    healed = _run(path)
    assert _metadata(healed, "document_stories")["documents_indexed"] == 1
    clean = tmp_path / "clean.duckdb"
    _add_documents(
        clean,
        {"b_wire": WIRE, "c_quoting": QUOTING, "d_unrelated": UNRELATED, "a_rewrite": REWRITE},
    )
    _run(clean)
    assert _stories(path) == _stories(clean)
    assert _stories(path)["a_rewrite"] == ("a_rewrite", 2)
    assert _index_rows(path) == _index_rows(clean)


def test_a_document_stories_table_from_before_text_hash_gains_the_column(tmp_path: Path):
    path = tmp_path / "work.duckdb"
    _add_documents(path, {"a": WIRE, "b": UNRELATED})
    _run(path)
    con = warehouse.connect(path)
    con.execute("ALTER TABLE document_stories DROP COLUMN text_hash")
    # As a file an older version wrote: its recorded schema is not this one.
    warehouse.set_state(con, schema.SCHEMA_STATE_KEY, "older")
    con.close()
    assert _metadata(_run(path), "document_stories")["documents_indexed"] == 0
    _add_documents(path, {"c": REWRITE})
    _run(path)
    assert _stories(path)["c"] == ("a", 2)
    con = duckdb.connect(str(path), read_only=True)
    try:
        assert con.execute(
            "SELECT count(*) FROM document_stories WHERE text_hash IS NULL"
        ).fetchone() == (0,)
    finally:
        con.close()


def _story_table(path: Path) -> list[tuple]:
    return _table_rows(path, "document_stories", "doc_id")


def test_only_the_stories_a_change_reaches_are_regrouped_and_agree_with_a_rebuild(
    tmp_path: Path,
):
    path = tmp_path / "work.duckdb"
    _add_documents(path, {"b_wire": WIRE, "c_quoting": QUOTING, "d_unrelated": UNRELATED})
    _run(path)
    # The rewrite joins the wire's story: those two rows are written again, not the others.
    _add_documents(path, {"a_rewrite": REWRITE})
    added = _run(path)
    assert _metadata(added, "document_stories")["documents_regrouped"] == 2
    # Another file holds the wire's text now: the row names it, the story stays.
    con = warehouse.connect(path)
    con.execute(
        "UPDATE salvo_rows.documents SET source_file = 'z_copy.txt' WHERE doc_id = 'b_wire'"
    )
    con.close()
    moved = _run(path)
    assert _metadata(moved, "document_stories")["documents_regrouped"] == 2
    rows = {r[0]: r for r in _story_table(path)}
    assert rows["b_wire"][1] == "z_copy.txt"
    assert rows["b_wire"][2] == rows["a_rewrite"][2] == "a_rewrite"
    # The rewrite leaves: the wire is a story of its own again.
    con = warehouse.connect(path)
    con.execute("DELETE FROM salvo_rows.documents WHERE doc_id = 'a_rewrite'")
    con.close()
    _run(path)
    incremental = _story_table(path)
    assert {r[0]: (r[2], r[3]) for r in incremental}["b_wire"] == ("b_wire", 1)
    # A rebuild from nothing (a new stories version) writes the same rows.
    con = warehouse.connect(path)
    warehouse.set_state(con, "stories_version", "an older version")
    con.close()
    rebuilt = _run(path)
    assert _metadata(rebuilt, "document_stories")["rebuilt"] is True
    assert _story_table(path) == incremental
