"""`make bench`: the measuring harness and one tiny end-to-end bench run (the corpus
generator is tested in test_corpus.py). Smoke tests only: nothing here asserts a timing."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tools import bench, bench_process


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
    assert bench.main(["--sizes", "2", "--keep", str(tmp_path)]) == 0
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
