"""The composition root: everything Dagster shows, in one place."""

import dagster as dg

from assets import automation, checks, ingest, marts, nlp, publish, report, resources, stories


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[
            ingest.seeds_folder,
            ingest.seed_files_and_raw_documents,
            ingest.documents,
            nlp.sentences_entities_claims,
            stories.story_links_and_document_stories,
            *marts.mart_assets,
            publish.published_warehouse,
            report.evidence_report,
        ],
        asset_checks=[*checks.CHECKS, *marts.sql_checks],
        jobs=[automation.salvo_job],
        sensors=[automation.new_seed_files],
        schedules=[automation.daily_reingest],
        resources=resources.build_resources(),
        # One process: the stages share the loaded model and the working database, and
        # DuckDB takes one writer anyway.
        executor=dg.in_process_executor,
    )
