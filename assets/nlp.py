"""NLP: one spaCy pass per document writes `sentences`, `entities` and `claims`; the work is
done by `pipeline.nlp.pool`, parsing on the backend SALVO_NLP_BACKEND names (this machine's
processes or a Ray cluster: `pipeline.parse_backends`)."""

from typing import Any

import dagster as dg

from assets.metadata import table_metadata
from assets.resources import SalvoSettings, WorkingDuckDB
from pipeline import parse_backends as backends
from pipeline.nlp.pool import parse_pending


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "sentences",
            deps=["documents"],
            description=(
                "One row per sentence of documents.clean_text (key: sentence_id = doc_id + "
                "position), with character offsets into clean_text. A line break always ends "
                "a sentence, so headlines stand alone."
            ),
            group_name="nlp",
            kinds={"duckdb", "spacy"},
        ),
        dg.AssetSpec(
            "entities",
            deps=["documents"],
            description=(
                "One row per entity mention (key: mention_id): the lexicon's ACTOR (with "
                "actor_code) and WEAPON (with weapon_class) mentions, and the statistical NER "
                "labels (PERSON, ORG, GPE, DATE, ...) of the documents the model parsed (with "
                "SALVO_PARSE=selective, those that name a weapon), with offsets into clean_text."
            ),
            group_name="nlp",
            kinds={"duckdb", "spacy"},
        ),
        dg.AssetSpec(
            "claims",
            deps=["documents"],
            description=(
                "One row per claim found in a sentence (key: claim_id): relation (supply, "
                "purchase, use, produce), supplier and recipient actor codes, weapon class and "
                "words, quantity, who it is attributed to, and whether it is hedged or negated."
            ),
            group_name="nlp",
            kinds={"duckdb", "spacy"},
        ),
    ],
    pool="duckdb",
)
def sentences_entities_claims(
    context: dg.AssetExecutionContext, salvo: SalvoSettings, duckdb: WorkingDuckDB
):
    """Parse new or re-extractable documents once and write the three NLP tables."""
    run = parse_pending(
        duckdb.get_connection,
        salvo.spacy_model,
        context.run.run_id,
        context.log.info,
        backend=backends.from_settings(salvo.working_path),
    )
    with duckdb.get_connection() as con:
        sent_meta = table_metadata(
            con,
            "sentences",
            order_by="sentence_id",
            preview_columns=["sentence_id", "start_char", "end_char", "text"],
        )
        ent_meta = table_metadata(
            con,
            "entities",
            order_by="mention_id",
            preview_columns=["doc_id", "text", "label", "actor_code", "weapon_class"],
        )
        claim_meta = table_metadata(
            con,
            "claims",
            order_by="claim_id",
            preview_columns=[
                "relation",
                "supplier",
                "recipient",
                "weapon_class",
                "quantity",
                "attributed_to",
                "hedged",
                "negated",
            ],
        )
        by_relation = dict(
            con.execute("SELECT relation, count(*) FROM claims GROUP BY 1 ORDER BY 1").fetchall()
        )
        by_label = dict(
            con.execute(
                "SELECT label, count(*) FROM entities GROUP BY 1 ORDER BY 2 DESC"
            ).fetchall()
        )
    common: dict[str, Any] = {
        "documents_parsed": run.documents,
        "tokens_parsed": run.tokens,
        # SALVO_PARSE=selective runs the full model only on documents that name a weapon.
        "sentences_split": run.sentences,
        "sentences_fully_parsed": run.parsed_sentences,
        "parse_seconds": round(run.seconds, 2),
        "worker_processes": run.workers,
        "parse_backend": run.backend,
        "parse_nodes": run.nodes,
        # Above parse_seconds when the workers overlap; below it on a busy machine.
        "parse_cpu_seconds": round(run.cpu_seconds, 2),
        "rows_written": sum(run.written.values()),
        "write_seconds": round(run.write_seconds, 3),
        "extractor_version": run.version,
    }
    yield dg.MaterializeResult(
        asset_key="sentences",
        metadata={**sent_meta, **common, "written": run.written["sentences"]},
    )
    yield dg.MaterializeResult(
        asset_key="entities",
        metadata={
            **ent_meta,
            **common,
            "written": run.written["entities"],
            "mentions_by_label": dg.MetadataValue.json(by_label),
        },
    )
    yield dg.MaterializeResult(
        asset_key="claims",
        metadata={
            **claim_meta,
            **common,
            "written": run.written["claims"],
            "claims_by_relation": dg.MetadataValue.json(by_relation),
        },
    )
