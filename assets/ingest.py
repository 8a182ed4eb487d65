"""Ingest: the seeds folder becomes the `seed_files` ledger (with `seed_records`, one row per
record a file holds), `raw_documents` and `documents` (cleaned text with title, outlet and
publication date). The work is done by `pipeline.ledger` and `pipeline.documents`."""

import dagster as dg

from assets.checks import CHECKS_TAG, FULL
from assets.metadata import table_metadata
from assets.resources import SalvoSettings, WorkingDuckDB
from pipeline import quality, warehouse
from pipeline.documents import clean_documents
from pipeline.ledger import reconcile


def writer_lock(salvo: SalvoSettings) -> None:
    """One writing run at a time: take the lock (held until the run's process ends) or
    stop before reading or writing anything."""
    try:
        warehouse.acquire_writer_lock(salvo.working_path)
        warehouse.probe_writable(salvo.working_path)
    except (warehouse.WriterBusy, RuntimeError) as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from exc


def full_check(context: dg.AssetExecutionContext) -> bool:
    """A full-check run (the daily schedule's) looks at every file and row again."""
    return context.run.tags.get(CHECKS_TAG) == FULL


seeds_folder = dg.AssetSpec(
    "seeds",
    description=(
        "The folder of articles the pipeline reads (SALVO_SEEDS_DIR, default seeds/): text, "
        "Markdown, HTML, JSON and JSONL files, and an optional manifest.csv. The sensor "
        "new_seed_files watches it; files are never changed by the pipeline."
    ),
    group_name="ingest",
    kinds={"folder"},
)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "seed_files",
            deps=[seeds_folder],
            description=(
                "The ledger: one row per file ever seen in the seeds folder (key: source_file). "
                "status is ingested, duplicate (every text it holds is held by another file), "
                "quarantined (with a reason: empty, binary, undecodable, no_content, no_text, "
                "bad_json, too_large, outside_seeds, broken_link, bad_name, unreadable) or "
                "deleted (gone from the folder). documents counts the documents it yielded."
            ),
            group_name="ingest",
            kinds={"duckdb", "python"},
        ),
        dg.AssetSpec(
            "seed_records",
            deps=["seed_files"],
            description=(
                "One row per record found in a file (key: source_file, record_index): a text "
                "file has one, a JSON or JSONL crawl dump one per article. status is ingested "
                "(doc_id is the document), duplicate (duplicate_of names the file holding the "
                "same text first) or quarantined with a reason (no_text, bad_json, empty, "
                "no_content)."
            ),
            group_name="ingest",
            kinds={"duckdb", "python"},
        ),
        dg.AssetSpec(
            "raw_documents",
            deps=["seed_files"],
            description=(
                "One row per distinct decoded text (key: doc_id, a hash of the text), with the "
                "encoding it was read in, the file and record it came from, and the metadata "
                "that record states (title, outlet, published, url)."
            ),
            group_name="ingest",
            kinds={"duckdb", "python"},
        ),
    ],
    pool="duckdb",
)
def seed_files_and_raw_documents(
    context: dg.AssetExecutionContext, salvo: SalvoSettings, duckdb: WorkingDuckDB
):
    """Read every file of the seeds folder: hash, decode, split into records, quarantine,
    deduplicate, and remove what left the folder, in one transaction."""
    writer_lock(salvo)
    run = reconcile(duckdb.get_connection, salvo.seeds_path, full_check(context), context.log.info)
    with duckdb.get_connection() as con:
        held_back = quality.quarantined(con)
        ledger_meta = table_metadata(con, "seed_files", order_by="source_file")
        records_meta = table_metadata(con, "seed_records", order_by="source_file")
        raw_meta = table_metadata(
            con,
            "raw_documents",
            order_by="source_file",
            preview_columns=[
                "doc_id",
                "source_file",
                "record_index",
                "source_format",
                "encoding",
                "title",
                "characters",
                "ingested_at",
            ],
        )
    if held_back:
        context.log.warning(
            f"Quarantined (see the nothing_quarantined check): "
            f"{quality.describe_quarantined(held_back)}"
        )
    yield dg.MaterializeResult(
        asset_key="seed_files",
        metadata={
            **ledger_meta,
            **{f"files_{status}": n for status, n in sorted(run.counts.items())},
            "quarantine_reasons": dg.MetadataValue.json(run.reasons),
            "new_or_changed_files": run.changed_files,
            "still_being_written": run.still_being_written,
        },
    )
    yield dg.MaterializeResult(asset_key="seed_records", metadata=records_meta)
    yield dg.MaterializeResult(
        asset_key="raw_documents",
        metadata={
            **raw_meta,
            "new_documents": run.new_documents,
            "rewritten_documents": run.rewritten_documents,
            "removed_documents": run.removed_documents,
        },
    )


@dg.asset(
    deps=["raw_documents"],
    group_name="ingest",
    kinds={"duckdb", "python"},
    pool="duckdb",
)
def documents(context: dg.AssetExecutionContext, salvo: SalvoSettings, duckdb: WorkingDuckDB):
    """One row per distinct article (key: doc_id): the cleaned text sentences index into,
    with title, outlet and publication date. Metadata comes from manifest.csv first, then
    from the record (a JSON field, HTML meta tags, Markdown front matter), then from the
    text (headline, dateline, credits); a date never found stays null (date_source =
    unknown), never the day of ingestion."""
    writer_lock(salvo)
    run = clean_documents(
        duckdb.get_connection, salvo.seeds_path, full_check(context), context.log.warning
    )
    with duckdb.get_connection() as con:
        stats = con.execute(
            "SELECT count(*), count(published_date), "
            "count(*) FILTER (WHERE date_source = 'text'), "
            "count(*) FILTER (WHERE date_source = 'metadata') FROM documents"
        ).fetchone()
        meta = table_metadata(
            con,
            "documents",
            order_by="source_file",
            preview_columns=[
                "doc_id",
                "source_file",
                "record_index",
                "title",
                "outlet",
                "published_date",
                "date_precision",
                "date_source",
                "characters",
            ],
        )
    total, dated, from_text, from_meta = stats or (0, 0, 0, 0)
    context.log.info(
        f"Cleaned {run.cleaned} documents ({run.no_content} had no content); {total} in "
        f"all, {dated} dated ({from_meta} from metadata, {from_text} from the text)"
    )
    return dg.MaterializeResult(
        metadata={
            **meta,
            "cleaned_this_run": run.cleaned,
            "no_content": run.no_content,
            "dated_documents": dated,
            "undated_documents": total - dated,
            "dates_from_text": from_text,
            "dates_from_metadata": from_meta,
        }
    )
