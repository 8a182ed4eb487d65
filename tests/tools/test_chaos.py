"""The chaos harness: its invariants catch broken warehouses, and (slow) a few real
SIGKILL trials leave the published file intact and converge (`make chaos` runs many)."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import duckdb
import pytest

from pipeline import segments, warehouse
from tools import chaos, chaos_invariants, chaos_seeds


@pytest.fixture
def warehouse_copy(seeded_warehouse, tmp_path: Path) -> Path:
    path, _ = seeded_warehouse
    target = tmp_path / "copy.duckdb"
    shutil.copyfile(path, target)
    return target


def _violations(path: Path) -> list[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return chaos_invariants.invariant_violations(con)
    finally:
        con.close()


def _break(path: Path, sql: str) -> None:
    con = duckdb.connect(str(path))
    try:
        # The rows of the segmented tables back in the file, where SQL can change them.
        segments.pull_back(con)
        con.execute(sql)
    finally:
        con.close()


def test_a_good_warehouse_has_no_violations(warehouse_copy: Path):
    assert _violations(warehouse_copy) == []
    report = chaos_invariants.inspect(warehouse_copy)
    assert report["opens"] and report["violations"] == []
    assert report["digest"] == chaos_invariants.inspect(warehouse_copy)["digest"]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("DELETE FROM salvo_rows.sentences WHERE position = 0", "orphan rows"),
        (
            "CREATE OR REPLACE TABLE salvo_rows.claims AS (SELECT * FROM salvo_rows.claims) "
            "UNION ALL (SELECT * FROM salvo_rows.claims LIMIT 1)",
            "duplicate key",
        ),
        (
            "DELETE FROM salvo_rows.claims WHERE claim_id IN (SELECT min(claim_id) FROM claims)",
            "its SQL",
        ),
        ("UPDATE mentions_by_actor_month SET mentions = mentions + 1", "its SQL"),
        ("DELETE FROM salvo_rows.documents WHERE source_file LIKE '000%'", "ledger"),
        ("UPDATE seed_files SET documents = 2", "documents count"),
        ("DROP TABLE claim_corroboration", "missing mart"),
    ],
)
def test_each_broken_invariant_is_reported(warehouse_copy: Path, sql: str, expected: str):
    _break(warehouse_copy, sql)
    problems = _violations(warehouse_copy)
    assert any(expected in p for p in problems), problems


def test_a_missing_segment_file_and_an_unnamed_one_are_violations(seeded_warehouse, tmp_path: Path):
    published, _ = seeded_warehouse
    folder = tmp_path / "wh"
    shutil.copytree(published.parent, folder)
    copy = folder / published.name
    # The copy's views still name the first folder until a run publishes here.
    assert chaos_invariants.missing_segment_files(copy) == []
    assert chaos_invariants.unnamed_segment_files(copy) == []
    (segments.folder_for(copy) / "claims.000009.feedf00d.parquet").write_bytes(b"PAR1")
    assert chaos_invariants.unnamed_segment_files(copy) == ["claims.000009.feedf00d.parquet"]
    con = duckdb.connect(str(copy))
    try:
        con.execute("UPDATE salvo_rows.views_folder SET path = ?", [str(folder / "nowhere")])
    finally:
        con.close()
    assert chaos_invariants.missing_segment_files(copy)
    assert any(
        "segment file that is gone" in v for v in chaos_invariants.inspect(copy)["violations"]
    )


def test_a_file_that_does_not_open_is_a_violation(tmp_path: Path):
    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(b"not a database" * 100)
    assert chaos_invariants.inspect(broken)["opens"] is False
    assert chaos_invariants.inspect(tmp_path / "absent.duckdb")["opens"] is False


def test_seed_versions_cover_every_format_and_change(tmp_path: Path):
    first, second = tmp_path / "v1", tmp_path / "v2"
    chaos_seeds.write_seed_versions(chaos.SEEDS, first, second)
    names_first = {p.name for p in first.iterdir()}
    names_second = {p.name for p in second.iterdir()}
    assert {"page.html", "dump.jsonl", "note.md", "empty.txt", "image.txt"} <= names_first
    assert names_first - names_second and names_second - names_first  # deleted and added
    changed = [
        n
        for n in names_first & names_second
        if (first / n).read_bytes() != (second / n).read_bytes()
    ]
    assert len(changed) >= 2


def test_kill_times_cover_every_step():
    baseline = chaos.Baseline(
        code=Path("."),
        base=chaos.State(Path(".")),
        base_digest="a",
        reference_digest="b",
        reference_checksums={},
        reference_seconds=10.0,
        timeline={"ingest": 6.0, "nlp": 7.0, "publish": 9.5},
    )
    rng = random.Random(0)
    delays = [baseline.pick_delay(rng) for _ in range(400)]
    assert all(0.2 <= d <= 10.5 for d in delays)
    assert any(6.0 <= d < 7.0 for d in delays)
    assert any(7.0 <= d < 9.5 for d in delays)
    assert any(9.5 <= d for d in delays)
    in_publish = [baseline.pick_delay(rng, "publish") for _ in range(50)]
    assert all(9.5 <= d <= 10.5 for d in in_publish)


@pytest.mark.slow
def test_random_kills_leave_the_published_warehouse_intact_and_runs_converge(tmp_path: Path):
    baseline = chaos.prepare(tmp_path / "work")
    assert baseline.base_digest != baseline.reference_digest
    steps = sorted(baseline.timeline, key=baseline.timeline.__getitem__)
    assert "sentences_entities_claims" in steps and "published_warehouse" in steps
    # One kill inside the spaCy pass, one inside the publish step.
    for number, step in enumerate(["sentences_entities_claims", "published_warehouse"]):
        start = baseline.timeline[step]
        later = [t for t in baseline.timeline.values() if t > start]
        end = min(later) if later else baseline.reference_seconds
        problems, line = chaos.trial(baseline, tmp_path / f"trial{number}", (start + end) / 2)
        assert problems == [], line


def test_checksums_are_what_the_harness_compares(warehouse_copy: Path):
    con = duckdb.connect(str(warehouse_copy), read_only=True)
    try:
        checksums = warehouse.table_checksums(con)
    finally:
        con.close()
    assert {"seed_files", "documents", "claims", "claim_corroboration"} <= set(checksums)
    assert (
        chaos_invariants.digest_of(checksums) == chaos_invariants.inspect(warehouse_copy)["digest"]
    )
