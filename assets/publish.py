"""Publish: replace the warehouse users query, atomically, at the end of a good run."""

import dagster as dg

from assets.marts import MART_KEYS
from assets.resources import SalvoSettings, WorkingDuckDB
from pipeline.publish import publish_run

PUBLISHED_TABLES = (
    "seed_files",
    "raw_documents",
    "documents",
    "sentences",
    "entities",
    "claims",
    "story_links",
    "document_stories",
    *MART_KEYS,
)


@dg.asset(
    deps=list(PUBLISHED_TABLES),
    group_name="publish",
    kinds={"duckdb"},
    pool="duckdb",
)
def published_warehouse(
    context: dg.AssetExecutionContext, salvo: SalvoSettings, duckdb: WorkingDuckDB
) -> dg.MaterializeResult:
    """The file users and the scorer open (SALVO_WAREHOUSE, default warehouse/salvo.duckdb):
    a copy of the small working database, renamed over the old file only after every table
    and blocking check of the run succeeded; the large tables' new rows are written as
    Parquet segment files first (salvo.segments/). A reader holding the old file keeps its
    snapshot."""
    run = publish_run(
        duckdb.get_connection, salvo.working_path, salvo.published_path, PUBLISHED_TABLES
    )
    published, counts = run.published, run.counts
    path, size = published.path, published.path.stat().st_size
    how = "changed blocks of the previous copy" if published.patched else "a full copy"
    context.log.info(
        f"Published {path} ({size / 1e6:.1f} MB; wrote {published.bytes_written / 1e6:.1f} MB, "
        f"{how}): {counts}"
    )
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "size_mb": round(size / 1e6, 2),
            "written_mb": round(published.bytes_written / 1e6, 2),
            "patched": published.patched,
            "segment_files_written": len(run.flushed.files),
            "segment_files_deleted": len(run.deleted),
            **{f"rows_{table}": n for table, n in counts.items()},
        }
    )
