"""`make bench`: the measuring harness and one tiny end-to-end bench run (the corpus
generator is tested in test_corpus.py). Smoke tests only: nothing here asserts a timing."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tools import bench, bench_modes, bench_process, bench_runs


def test_run_child_measures_wall_time_and_memory(tmp_path: Path):
    code = "import time; block = bytearray(64 * 1024 * 1024); block[::4096] = b'x' * 16384; "
    code += "time.sleep(0.5)"
    child = bench_process.run_child(
        [sys.executable, "-c", code], dict(os.environ), tmp_path / "c.log"
    )
    assert child.returncode == 0
    assert child.wall_seconds >= 0.5
    assert child.max_process_rss >= 64 * bench_process.MiB
    assert child.tree_rss >= 64 * bench_process.MiB and child.tree_pss > 0


@pytest.mark.slow
def test_a_tiny_bench_run_prints_every_measure_and_target(tmp_path: Path, capsys):
    assert bench.main(["--sizes", "2", "--rounds", "2", "--keep", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for expected in (
        "speed-up over the baseline",
        "peak RSS, sum over the process tree",
        "no new or changed file",
        "1 document added",
        "sensor tick, no cursor",
        "rows/s",
        "### Targets",
        "### Parse modes",
        "| mixed stream, 2 | selective |",
        "| arms news, 2 | full |",
        "- 2 documents, round 1: selective, full, baseline",
        "- 2 documents, round 2: full, baseline, selective",
        "(median of 2 rounds)",
        "Plain `nlp.pipe` in batches of 16 documents",
    ):
        assert expected in out, expected
    assert "| no-change run, 2 documents: <= 10 s, 0 parsed |" in out
    assert "0 parsed" in out and "1 parsed" in out


def test_worker_processes_write_the_same_rows_as_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The parallel NLP path the bench measures: forked workers, many small tasks."""
    import shutil

    import duckdb

    from pipeline import settings, warehouse
    from pipeline.nlp import pool
    from tests.conftest import SEEDS, materialization_metadata, run_pipeline

    checksums = {}
    for label, task_characters, processes in (("one", 10**9, 1), ("workers", 1_000, 2)):
        monkeypatch.setattr(pool, "TASK_CHARACTERS", task_characters)
        monkeypatch.setattr(pool, "MAX_PROCESSES", processes)
        monkeypatch.setattr(settings, "cpu_count", lambda: 2)
        shutil.copytree(SEEDS, tmp_path / label / "seeds")
        published = tmp_path / label / "salvo.duckdb"
        result = run_pipeline(tmp_path / label / "seeds", published)
        assert result.success
        metadata = materialization_metadata(result, "sentences")
        assert metadata["worker_processes"] == (2 if label == "workers" else 0)
        con = duckdb.connect(str(published), read_only=True)
        try:
            checksums[label] = warehouse.table_checksums(con, ["sentences", "entities", "claims"])
        finally:
            con.close()
    assert checksums["one"] == checksums["workers"]
    assert checksums["one"]["claims"][0] > 0


def _run(wall: float, rss: int = 0) -> bench_process.ChildRun:
    return bench_process.ChildRun(
        wall_seconds=wall,
        started_at=0.0,
        max_process_rss=rss,
        tree_rss=rss,
        tree_pss=rss,
        processes=1,
        returncode=0,
        log=Path("run.log"),
        cpu_seconds=wall,
        other_cores=0.0,
        samples=[],
    )


def test_parse_mode_ratios_are_taken_within_a_round_and_judged_on_their_median():
    # The machine slows down in round 2: both the baseline and the run take longer, so the
    # ratio of round 2 is the same as round 1's; a ratio across rounds would not be.
    result = bench_modes.ModesResult(3, orders=[bench_modes.round_order(i) for i in range(3)])
    baselines = [80.0, 100.0, 84.0]
    walls = [50.0, 62.5, 60.0]
    result.baselines["arms news"] = [
        bench_runs.BaselineRun(_run(b), 1000, 500_000, 1.0, b - 1.0) for b in baselines
    ]
    result.runs[("arms news", "selective")] = [
        bench_runs.PipelineRun(_run(w, rss=int(w) * bench_process.MiB), {"nlp": w}, {}, {})
        for w in walls
    ]
    assert result.ratios("arms news", "selective") == [1.6, 1.6, 1.4]
    assert result.ratio("arms news", "selective") == 1.6
    assert result.median_run("arms news", "selective").child.wall_seconds in (50.0, 62.5)
    assert result.peak_rss("arms news", "selective") == 60 * bench_process.MiB
    # Each kind is first, second and last once in three rounds.
    orders = result.orders
    for kind in bench_modes.KINDS:
        assert sorted(order.index(kind) for order in orders) == [0, 1, 2]
    assert orders[0][0] != "baseline"  # the baseline parses the texts a run has cleaned
