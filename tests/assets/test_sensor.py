"""The folder sensor: new or changed files request one run; an unchanged folder none."""

from __future__ import annotations

import os
import time
from pathlib import Path

import dagster as dg

from assets.automation import new_seed_files
from assets.resources import SalvoSettings


def _settings(folder: Path) -> SalvoSettings:
    return SalvoSettings(
        seeds_dir=str(folder), warehouse=str(folder.parent / "w.duckdb"), spacy_model="unused"
    )


def _write(path: Path, text: str, age_seconds: float = 60) -> None:
    path.write_text(text, encoding="utf-8")
    past = time.time() - age_seconds
    os.utime(path, (past, past))


def _tick(folder: Path, cursor: str | None):
    context = dg.build_sensor_context(cursor=cursor, resources={"salvo": _settings(folder)})
    result = new_seed_files(context)
    return result, context.cursor


def test_new_file_requests_one_run_and_unchanged_folder_none(tmp_path: Path):
    folder = tmp_path / "seeds"
    folder.mkdir()
    _write(folder / "a.txt", "Iran sent drones to Russia.")
    first, cursor = _tick(folder, None)
    assert isinstance(first, dg.RunRequest)

    unchanged, cursor = _tick(folder, cursor)
    assert isinstance(unchanged, dg.SkipReason)

    _write(folder / "b.txt", "North Korea shipped shells to Russia.")
    second, cursor = _tick(folder, cursor)
    assert isinstance(second, dg.RunRequest)
    assert second.run_key != first.run_key


def test_touched_but_unchanged_file_requests_nothing(tmp_path: Path):
    folder = tmp_path / "seeds"
    folder.mkdir()
    _write(folder / "a.txt", "Iran sent drones to Russia.")
    _, cursor = _tick(folder, None)
    _write(folder / "a.txt", "Iran sent drones to Russia.", age_seconds=30)  # new mtime only
    result, _ = _tick(folder, cursor)
    assert isinstance(result, dg.SkipReason)


def test_changed_and_deleted_files_request_runs(tmp_path: Path):
    folder = tmp_path / "seeds"
    folder.mkdir()
    _write(folder / "a.txt", "Iran sent drones to Russia.")
    _, cursor = _tick(folder, None)
    _write(folder / "a.txt", "Iran sent missiles to Russia.", age_seconds=30)
    changed, cursor = _tick(folder, cursor)
    assert isinstance(changed, dg.RunRequest)
    (folder / "a.txt").unlink()
    deleted, _ = _tick(folder, cursor)
    assert isinstance(deleted, dg.RunRequest)
    assert deleted.run_key != changed.run_key


def test_file_still_being_written_waits(tmp_path: Path):
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / "growing.txt").write_text("North Korea sent", encoding="utf-8")  # mtime: now
    waiting, cursor = _tick(folder, None)
    assert isinstance(waiting, dg.SkipReason)
    assert "still being written" in (waiting.skip_message or "")
    _write(folder / "growing.txt", "North Korea sent shells to Russia.")
    ready, _ = _tick(folder, cursor)
    assert isinstance(ready, dg.RunRequest)


def test_sensor_and_schedule_run_by_default():
    from assets.automation import daily_reingest

    assert new_seed_files.default_status == dg.DefaultSensorStatus.RUNNING
    assert daily_reingest.default_status == dg.DefaultScheduleStatus.RUNNING


def test_a_fresh_sensor_does_not_run_again_for_what_a_run_ingested(seeds_copy: Path, tmp_path):
    """`make run`, then `make dev`: the sensor's first tick finds the folder as the ledger
    left it and requests nothing; a file added later still requests a run."""
    from tests.conftest import run_pipeline

    published = tmp_path / "warehouse" / "salvo.duckdb"
    past = time.time() - 60
    for path in seeds_copy.iterdir():
        os.utime(path, (past, past))
    assert run_pipeline(seeds_copy, published).success
    settings = SalvoSettings(
        seeds_dir=str(seeds_copy), warehouse=str(published), spacy_model="unused"
    )

    def tick(cursor: str | None):
        context = dg.build_sensor_context(cursor=cursor, resources={"salvo": settings})
        return new_seed_files(context), context.cursor

    first, cursor = tick(None)
    assert isinstance(first, dg.SkipReason), first
    _write(seeds_copy / "new.txt", "Iran sent drones to Russia, officials said.")
    second, _ = tick(cursor)
    assert isinstance(second, dg.RunRequest)
    assert second.tags["salvo/changed_files"] == "1"
