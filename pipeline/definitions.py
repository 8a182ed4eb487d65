"""The composition root: everything Dagster shows, in one place."""

import dagster as dg

import pipeline.defs
from assets import ingest, marts, nlp, publish


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions.merge(
        dg.load_defs(pipeline.defs),  # resources, checks, job, sensor, schedule
        dg.Definitions(
            assets=[
                ingest.seed_files_and_raw_documents,
                ingest.documents,
                nlp.sentences_entities_claims,
                *marts.mart_assets,
                publish.published_warehouse,
            ],
            # One process: the stages share the model and the working database, and DuckDB
            # allows one writer anyway.
            executor=dg.in_process_executor,
        ),
    )
