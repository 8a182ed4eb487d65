"""The job, the folder sensor and the daily schedule.

The pipeline is incremental by content, so every run is the same job over all assets: a
run with nothing new parses nothing. The sensor only decides *when* to run; the ledger in
DuckDB decides *what* is new.
"""

import hashlib
import json

import dagster as dg

from assets.checks import CHECKS_TAG, FULL
from assets.resources import SalvoSettings
from pipeline import folder_watch

WRITER_TAG = "salvo/writer"

salvo_job = dg.define_asset_job(
    "salvo_job",
    # The evidence report reads the published file: it follows each publish in a run of its
    # own (its automation condition), so a run's time is the pipeline's alone.
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets("evidence_report"),
    description="Materialise everything from the seeds folder to the published warehouse.",
    executor_def=dg.in_process_executor,
    # One writing run at a time (the instance's run queue limits this tag to 1).
    tags={WRITER_TAG: "working-database"},
)


@dg.sensor(
    job=salvo_job,
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Watches the seeds folder and launches salvo_job when files are added, changed or "
        "deleted (run key = hash of the changed contents); waits for files still being written."
    ),
)
def new_seed_files(context: dg.SensorEvaluationContext, salvo: SalvoSettings):
    # A sensor starting fresh compares with what the last run ingested, not with nothing.
    previous: dict[str, list] = (
        json.loads(context.cursor)
        if context.cursor
        else folder_watch.ingested_fingerprints(salvo.published_path, salvo.seeds_path)
    )
    state, settling = folder_watch.folder_fingerprints(salvo.seeds_path, previous)
    changed = sorted(
        (name, entry[2])
        for name, entry in state.items()
        if name not in previous or previous[name][2] != entry[2]
    )
    deleted = sorted(name for name in previous if name not in state and name not in settling)
    context.update_cursor(json.dumps(state, sort_keys=True))
    if not changed and not deleted:
        waiting = f"; waiting for {len(settling)} file(s) still being written" if settling else ""
        return dg.SkipReason(f"No new, changed or deleted files in {salvo.seeds_path}{waiting}")
    digest = hashlib.sha256(json.dumps([changed, deleted]).encode()).hexdigest()[:24]
    context.log.info(f"{len(changed)} new or changed, {len(deleted)} deleted: run {digest}")
    return dg.RunRequest(
        run_key=f"seeds-{digest}",
        tags={"salvo/changed_files": str(len(changed)), "salvo/deleted_files": str(len(deleted))},
    )


daily_reingest = dg.ScheduleDefinition(
    name="daily_reingest",
    job=salvo_job,
    cron_schedule="0 3 * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    # Its runs check every row, not only the rows of the documents they parse.
    tags={CHECKS_TAG: FULL},
    description=(
        "A safety net: every day at 03:00 re-runs salvo_job, which ingests whatever changed "
        "(nothing is parsed again when nothing changed), and audits every row of the "
        "warehouse with the full asset checks."
    ),
)
