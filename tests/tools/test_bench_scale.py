"""`make bench-scale`: one tiny end-to-end run of the scale simulation. A smoke test: it
asserts what the table reports and that the replicated warehouse is one a real run
accepts as it is (nothing parsed again, every invariant holds), never a timing."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pipeline import quality
from tools import bench_scale


@pytest.mark.slow
def test_a_tiny_scale_run_replicates_a_warehouse_a_real_run_accepts(tmp_path: Path, capsys):
    argv = ["--sizes", "6", "--base-docs", "3", "--repeats", "1", "--add-many", "2"]
    assert bench_scale.main([*argv, "--keep", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for expected in (
        "| 6 documents |",
        "| nothing new: wall time (documents parsed) |",
        "| add 1: wall time (documents parsed) |",
        "| disk: warehouse folder |",
        "| query: README.md:",
        "| (b) the small file (what a publish copies) |",
    ):
        assert expected in out, expected
    result = json.loads((tmp_path / "scale_results.json").read_text())[0]
    # The settle run and a run with nothing new parse nothing: the replicated ledger,
    # documents and NLP rows are what a real run would have written.
    assert result["settle"]["parsed"] == result["nothing_new"]["parsed"] == 0
    assert result["add_1"]["parsed"] == 1 and result["add_1000"]["parsed"] == 2
    con = duckdb.connect(str(tmp_path / "scale_6" / "warehouse" / "salvo.duckdb"), read_only=True)
    try:
        counts = con.execute(
            "SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM seed_files), "
            "(SELECT count(DISTINCT doc_id) FROM claims_enriched)"
        ).fetchone()
        assert counts is not None and counts[0] == counts[1] == 6 + 1 + 2
        for table in quality.KEYS:
            assert quality.duplicate_keys(con, table) == 0, table
        for table in quality.PARENTS:
            assert quality.orphan_rows(con, table) == 0, table
        for table in quality.OFFSET_TABLES:
            assert quality.offset_mismatches(con, table)[0] == 0, table
    finally:
        con.close()
