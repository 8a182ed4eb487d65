"""Choosing the parse backend from the settings, and the lake's filesystem: no Ray needed
(these run in `make test` too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import parse_backends as backends
from pipeline import ray_parse, settings


def test_the_local_pool_is_the_default(monkeypatch):
    monkeypatch.delenv("SALVO_NLP_BACKEND", raising=False)
    assert backends.from_settings("/tmp/w.duckdb") == backends.LocalPool()


def test_ray_is_chosen_with_its_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("SALVO_NLP_BACKEND", "Ray")
    monkeypatch.setenv("SALVO_RAY_ADDRESS", "ray://head:10001")
    monkeypatch.setenv("SALVO_RAY_ACTORS", "6")
    monkeypatch.setenv("SALVO_LAKE", "s3://bucket/salvo")
    backend = backends.from_settings(tmp_path / "w.duckdb")
    assert backend == ray_parse.RayCluster(
        address="ray://head:10001",
        lake="s3://bucket/salvo",
        working=str(tmp_path / "w.duckdb"),
        actors=6,
    )
    assert backend.name == "ray"


def test_an_unknown_backend_is_refused(monkeypatch):
    monkeypatch.setenv("SALVO_NLP_BACKEND", "spark")
    with pytest.raises(ValueError, match="SALVO_NLP_BACKEND"):
        backends.from_settings("/tmp/w.duckdb")


def test_the_default_lake_is_next_to_the_warehouse(monkeypatch, tmp_path):
    monkeypatch.delenv("SALVO_LAKE", raising=False)
    monkeypatch.setenv("SALVO_WAREHOUSE", str(tmp_path / "wh" / "salvo.duckdb"))
    assert settings.lake() == str(tmp_path / "wh" / ".lake")


def test_a_lake_is_a_folder_or_a_uri(tmp_path):
    import pyarrow.fs as pafs

    filesystem, base = backends.lake_filesystem(str(tmp_path))
    assert isinstance(filesystem, pafs.LocalFileSystem) and base == str(tmp_path)
    filesystem, base = backends.lake_filesystem(tmp_path.as_uri() + "/")
    assert isinstance(filesystem, pafs.LocalFileSystem) and Path(base) == tmp_path
    working = str(tmp_path / "w.duckdb")
    assert list(backends.iter_lake(tmp_path.as_uri(), working)) == []
    run = f"{backends._warehouse_folder(base, working)}/run"
    filesystem.create_dir(f"{run}/claims")
    assert list(backends.iter_lake(tmp_path.as_uri(), working)) == []  # folders only
    with filesystem.open_output_stream(f"{run}/claims/part.parquet") as out:
        out.write(b"x")
    assert list(backends.iter_lake(str(tmp_path), working)) == [f"{run}/claims/part.parquet"]
    # Another warehouse's folder is not this one's.
    assert list(backends.iter_lake(str(tmp_path), str(tmp_path / "other.duckdb"))) == []
