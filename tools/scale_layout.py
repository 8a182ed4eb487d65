"""Candidate (b) of the storage design, measured on a simulated warehouse: the large
append-mostly tables as immutable Parquet files, registered as views in a small DuckDB
file that also holds every other table and the marts.

`convert` writes that layout from a published warehouse (each large table split into
segments by document, as runs would have written them) and reports what it costs: its
disk, the bytes a publish would copy (the small file only), and the README's examples
run through the views from another working directory. It changes nothing in the
pipeline: it is the evidence for docs/architecture.md's choice.
"""

from __future__ import annotations

import os
import shutil
import statistics
import time
from pathlib import Path

import duckdb

from pipeline.settings import PROJECT_ROOT
from tools.docs_examples import find_examples

# The tables that grow with every document and are written once per run.
SEGMENTED = ("raw_documents", "documents", "sentences", "entities", "claims", "passage_bands")
# Not a README example: a query that reads two large tables whole.
JOIN_QUERY = (
    "SELECT count(*) FROM claims c JOIN documents d USING (doc_id) "
    "WHERE d.published_date >= DATE '2024-01-01'"
)
# Documents per segment: one file per this many documents (a compacted run's size).
SEGMENT_DOCUMENTS = 50_000


def convert(published: Path, target: Path) -> dict[str, float]:
    """Write the layout under `target` (`salvo.duckdb` and `segments/`); return figures."""
    shutil.rmtree(target, ignore_errors=True)
    segments = target / "segments"
    segments.mkdir(parents=True)
    catalog = target / "salvo.duckdb"
    start = time.perf_counter()
    con = duckdb.connect(str(catalog), config={"memory_limit": "512MB"})
    try:
        con.execute(f"ATTACH '{published}' AS src (READ_ONLY)")
        documents = con.execute("SELECT count(*) FROM src.documents").fetchone()
        parts = max(1, (documents[0] if documents else 0) // SEGMENT_DOCUMENTS)
        # The pipeline's own segmented tables are views over its segment files already:
        # read through them, and leave out the rows they keep for the next publish.
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'src' "
            "AND schema_name <> 'salvo_rows' UNION ALL SELECT schema_name, view_name "
            "FROM duckdb_views() WHERE database_name = 'src' AND schema_name = 'main' "
            "AND NOT internal"
        ).fetchall()
        for schema, table in tables:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            if schema == "main" and table in SEGMENTED:
                files = []
                for part in range(parts):
                    path = (segments / f"{table}-{part:04d}.parquet").resolve()
                    con.execute(
                        f"COPY (FROM src.{table} WHERE hash(doc_id) % {parts} = {part}) "
                        f"TO '{path}' (FORMAT parquet, COMPRESSION zstd)"
                    )
                    files.append(f"'{path}'")
                con.execute(f"CREATE VIEW {table} AS FROM read_parquet([{', '.join(files)}])")
            else:
                con.execute(f"CREATE TABLE {schema}.{table} AS FROM src.{schema}.{table}")
        con.execute("DETACH src")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    written = time.perf_counter() - start
    copy_start = time.perf_counter()
    shutil.copyfile(catalog, target / ".publish-copy")  # what a publish would copy
    os.unlink(target / ".publish-copy")
    return {
        "convert_seconds": written,
        "segments_bytes": sum(p.stat().st_blocks * 512 for p in segments.iterdir()),
        "catalog_bytes": catalog.stat().st_blocks * 512,
        "catalog_copy_seconds": time.perf_counter() - copy_start,
        "segments": len(list(segments.iterdir())),
        **{f"query {k}": v for k, v in readme_queries(catalog.resolve()).items()},
    }


def readme_queries(database: Path, repeats: int = 3) -> dict[str, float]:
    """Median seconds of each README example and of a join of two large tables, each
    time connecting read-only, running and fetching every row, from another working
    directory (`/`): a user does not open the warehouse from its folder."""
    examples, _ = find_examples(PROJECT_ROOT / "README.md")
    queries = {f"README.md:{example.line}": example.sql for example in examples}
    queries["claims joined with documents"] = JOIN_QUERY
    here = os.getcwd()
    os.chdir("/")
    times = {}
    try:
        for name, sql in queries.items():
            samples = []
            for _ in range(repeats):
                start = time.perf_counter()
                con = duckdb.connect(str(database), read_only=True)
                try:
                    con.execute(sql).fetchall()
                finally:
                    con.close()
                samples.append(time.perf_counter() - start)
            times[name] = statistics.median(samples)
    finally:
        os.chdir(here)
    return times
