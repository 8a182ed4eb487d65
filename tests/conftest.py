"""Shared fixtures: a copy of the seed articles, and a real run of every asset into a
temporary warehouse with an ephemeral Dagster instance."""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.definitions import defs as load_definitions
from pipeline.settings import PROJECT_ROOT

SEEDS = PROJECT_ROOT / "seeds"


@contextmanager
def environment(values: dict[str, str], cleared: tuple[str, ...] = ()):
    """Environment variables set (and `cleared` ones unset) for the duration of a block."""
    saved = {k: os.environ.get(k) for k in (*values, *cleared)}
    for key in cleared:
        os.environ.pop(key, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def salvo_environment(seeds_dir: Path, warehouse_file: Path):
    """The settings a user would export, for the duration of a block."""
    return environment({"SALVO_SEEDS_DIR": str(seeds_dir), "SALVO_WAREHOUSE": str(warehouse_file)})


def run_pipeline(
    seeds_dir: Path, warehouse_file: Path, tags: dict[str, str] | None = None
) -> dg.ExecuteInProcessResult:
    """Run salvo_job (all assets and checks) against the given folder and warehouse, with
    the definitions loaded the way `make run` and `make dev` load them."""
    with salvo_environment(seeds_dir, warehouse_file):
        job = load_definitions().resolve_job_def("salvo_job")
        return job.execute_in_process(
            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, tags=tags
        )


def read_rows(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    """A query's rows from a DuckDB file, opened read-only as a user would."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def materialization_metadata(result: dg.ExecuteInProcessResult, key: str) -> dict:
    for event in result.get_asset_materialization_events():
        if event.asset_key == dg.AssetKey(key):
            return {k: v.value for k, v in event.materialization.metadata.items()}
    raise KeyError(key)


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture(scope="session")
def seeded_warehouse(tmp_path_factory: pytest.TempPathFactory):
    """One full run over a copy of the seed articles, shared by read-only tests."""
    root = tmp_path_factory.mktemp("seeded")
    seeds_dir = root / "seeds"
    shutil.copytree(SEEDS, seeds_dir)
    published = root / "warehouse" / "salvo.duckdb"
    result = run_pipeline(seeds_dir, published)
    assert result.success, "the seed run failed"
    return published, result
