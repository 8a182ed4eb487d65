"""The composition root: everything Dagster shows, in one place."""

import dagster as dg

from assets import ingest, marts, nlp, publish, stories
from pipeline.settings import PROJECT_ROOT


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions.merge(
        # pipeline/defs/: resources, checks, the job, the sensor and the schedule.
        dg.load_from_defs_folder(path_within_project=PROJECT_ROOT),
        dg.Definitions(
            assets=[
                ingest.seed_files_and_raw_documents,
                ingest.documents,
                nlp.sentences_entities_claims,
                stories.story_links_and_document_stories,
                *marts.mart_assets,
                publish.published_warehouse,
            ],
            asset_checks=marts.sql_checks,
            # One process: the stages share the loaded model and the working database, and
            # DuckDB takes one writer anyway.
            executor=dg.in_process_executor,
        ),
    )
