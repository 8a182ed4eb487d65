"""The measures `make bench` takes in its own process by calling the pipeline's code: one
tick of the folder sensor, and the NLP stage's DuckDB writes replayed."""

from __future__ import annotations

import shutil
import statistics
import time
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import polars as pl

# The pipeline internals the bench calls (the rest of the bench runs the pipeline as a
# user does, in child processes).
from assets.automation import new_seed_files
from assets.resources import SalvoSettings
from pipeline import quality, schema, segments, warehouse
from pipeline.nlp.staging import (
    BATCH_DOCUMENTS,
    NLP_TABLES,
    ROW_TABLES,
    WRITE_DOCUMENTS,
    stage_parquet,
    write_staged,
)
from tools.bench_runs import REPEATS, Deployment


def sensor_ticks(deployment: Deployment) -> tuple[float, float]:
    """Seconds of one tick with no cursor (every file hashed) and of the next tick (nothing
    changed: one stat per file)."""
    salvo = SalvoSettings(
        seeds_dir=str(deployment.seeds), warehouse=str(deployment.warehouse), spacy_model="-"
    )
    timings, cursor = [], None
    for _ in range(2):
        context = dg.build_sensor_context(cursor=cursor, resources={"salvo": salvo})
        start = time.perf_counter()
        new_seed_files(context)
        timings.append(time.perf_counter() - start)
        cursor = context.cursor
    return timings[0], timings[1]


def duckdb_write_rate(
    published: Path, scratch: Path, keyed: bool = False, repeats: int = REPEATS
) -> tuple[int, float]:
    """Rows and seconds to write the run's sentences, entities, claims and nlp_runs into an
    empty working database the way the NLP stage does: each BATCH_DOCUMENTS documents'
    rows staged as Parquet files; per WRITE_DOCUMENTS documents, a connection opened, one
    transaction that looks up which documents were parsed before (and deletes their rows)
    and bulk-inserts the files, and the connection closed (a checkpoint). Staging is timed
    too. The seconds are the median of `repeats` replays, each into a new database, as one
    replay is noisy. Keyed: the same tables with a PRIMARY KEY on their id, as earlier
    versions created them (what DuckDB's key index costs)."""
    source = duckdb.connect(str(published), read_only=True)
    try:
        frames = {
            table: pl.DataFrame(source.sql(f"SELECT * FROM {table}").to_arrow_table())
            for table in NLP_TABLES
        }
    finally:
        source.close()
    doc_ids = sorted(set(frames["nlp_runs"]["doc_id"].to_list()))
    batches = [
        {t: f.filter(pl.col("doc_id").is_in(batch)) for t, f in frames.items()}
        for batch in (
            doc_ids[first : first + BATCH_DOCUMENTS]
            for first in range(0, len(doc_ids), BATCH_DOCUMENTS)
        )
    ]
    del frames
    per_write = max(1, WRITE_DOCUMENTS // BATCH_DOCUMENTS)
    timings = []
    for _ in range(repeats):
        rows, seconds = _replay_writes(batches, per_write, scratch, keyed)
        timings.append(seconds)
    return rows, statistics.median(timings)


def _replay_writes(
    batches: list[dict[str, Any]], per_write: int, scratch: Path, keyed: bool
) -> tuple[int, float]:
    """One replay of duckdb_write_rate into a new database: rows and seconds."""
    target_path = scratch / "write_rate.duckdb"
    staging = scratch / "write_rate_rows"
    staging.mkdir(exist_ok=True)
    target_path.unlink(missing_ok=True)
    target = warehouse.connect(target_path)  # the pipeline's connection settings
    # The tables as a run has them (for a segmented table, where its new rows go).
    schema.ensure_schema(target)
    if keyed:
        for table in ROW_TABLES:
            key = quality.KEYS[table]
            body = schema.SCHEMA[table].replace(
                f"{key} VARCHAR NOT NULL", f"{key} VARCHAR PRIMARY KEY"
            )
            target.execute(f"DROP TABLE {segments.rows_table(table)}")
            target.execute(f"CREATE TABLE {segments.rows_table(table)} ({body})")
    target.close()
    try:
        rows, start = 0, time.perf_counter()
        for first in range(0, len(batches), per_write):
            staged: dict[str, list[Path]] = {table: [] for table in NLP_TABLES}
            written_ids: list[str] = []
            for number, parts in enumerate(batches[first : first + per_write], start=first):
                for table, path in stage_parquet(parts, staging, number).items():
                    staged[table].append(path)
                rows += sum(part.height for part in parts.values())
                written_ids += parts["nlp_runs"]["doc_id"].to_list()
            con = warehouse.connect(target_path)
            try:
                write_staged(con, written_ids, staged)
            finally:
                con.close()
        seconds = time.perf_counter() - start
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        target_path.unlink(missing_ok=True)
        shutil.rmtree(segments.folder_for(target_path), ignore_errors=True)
    return rows, seconds
