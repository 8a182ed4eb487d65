"""NLP: one spaCy pass per document writes `sentences`, `entities` and `claims`."""

import datetime as dt
import time
from typing import Any

import dagster as dg
import polars as pl

from assets.metadata import table_metadata
from pipeline import warehouse
from pipeline.defs.resources import SalvoSettings, WorkingDuckDB
from pipeline.nlp.language import build_nlp, extractor_version
from pipeline.nlp.rows import RowBuilder, segments

# Documents fetched, parsed and written together: bounds memory whatever the corpus size.
BATCH_DOCUMENTS = 256
# Below this many segments, starting worker processes costs more than it saves.
PARALLEL_FROM_SEGMENTS = 48
PROCESSES = 2

NLP_TABLES = ("sentences", "entities", "claims", "nlp_runs")


def _frame(table: str, rows: list[dict]) -> pl.DataFrame:
    columns = warehouse.columns_of(table)
    if not rows:
        return pl.DataFrame(schema={c: SCHEMAS[table].get(c, pl.String) for c in columns})
    return pl.DataFrame(rows, schema={c: SCHEMAS[table].get(c, pl.String) for c in columns})


SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "sentences": {"position": pl.Int32(), "start_char": pl.Int32(), "end_char": pl.Int32()},
    "entities": {"start_char": pl.Int32(), "end_char": pl.Int32()},
    "claims": {"quantity": pl.Float64(), "hedged": pl.Boolean(), "negated": pl.Boolean()},
    "nlp_runs": {"processed_at": pl.Datetime("us")},
}


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
                "One row per entity mention (key: mention_id): the statistical NER labels "
                "(PERSON, ORG, GPE, DATE, ...) and the lexicon's ACTOR (with actor_code) and "
                "WEAPON (with weapon_class) mentions, with offsets into clean_text."
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
    version = extractor_version(salvo.spacy_model)
    with duckdb.get_connection() as con:
        con.execute("BEGIN TRANSACTION")
        for table in NLP_TABLES:
            con.execute(f"DELETE FROM {table} WHERE doc_id NOT IN (SELECT doc_id FROM documents)")
        con.execute("COMMIT")
        todo = [
            r[0]
            for r in con.execute(
                "SELECT doc_id FROM documents WHERE doc_id NOT IN "
                "(SELECT doc_id FROM nlp_runs WHERE extractor_version = ?) ORDER BY doc_id",
                [version],
            ).fetchall()
        ]
    context.log.info(f"{len(todo)} documents to parse with {version}")
    started = time.perf_counter()
    tokens = 0
    written = {"sentences": 0, "entities": 0, "claims": 0}
    for first in range(0, len(todo), BATCH_DOCUMENTS):
        batch = todo[first : first + BATCH_DOCUMENTS]
        with duckdb.get_connection() as con:
            texts = con.execute(
                "SELECT doc_id, clean_text FROM documents WHERE doc_id IN (SELECT unnest(?))",
                [batch],
            ).fetchall()
        parts = [s for doc_id, text in texts for s in segments(doc_id, text)]
        nlp = build_nlp(salvo.spacy_model)
        n_process = PROCESSES if len(parts) >= PARALLEL_FROM_SEGMENTS else 1
        builders: dict[str, RowBuilder] = {d: RowBuilder(d, version) for d, _ in texts}
        for doc, part in nlp.pipe(
            ((p.text, p) for p in parts), as_tuples=True, n_process=n_process, batch_size=16
        ):
            builders[part.doc_id].add(doc, part.offset)
            tokens += len(doc)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        frames = {
            table: _frame(table, [row for b in builders.values() for row in getattr(b.rows, table)])
            for table in ("sentences", "entities", "claims")
        }
        frames["nlp_runs"] = _frame(
            "nlp_runs",
            [
                {
                    "doc_id": d,
                    "extractor_version": version,
                    "model": salvo.spacy_model,
                    "processed_at": now,
                }
                for d in builders
            ],
        )
        doc_ids = list(builders)
        with duckdb.get_connection() as con:
            con.execute("BEGIN TRANSACTION")
            for table, frame in frames.items():
                inserted = warehouse.replace_rows(con, table, frame, "doc_id", keys=doc_ids)
                if table in written:
                    written[table] += inserted
            con.execute("COMMIT")
        elapsed = time.perf_counter() - started
        done = min(first + BATCH_DOCUMENTS, len(todo))
        context.log.info(
            f"Parsed {done}/{len(todo)} documents, {tokens} tokens "
            f"({tokens / max(elapsed, 1e-9):,.0f} tokens/s, {n_process} process(es))"
        )
    elapsed = time.perf_counter() - started
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
        "documents_parsed": len(todo),
        "tokens_parsed": tokens,
        "parse_seconds": round(elapsed, 2),
        "extractor_version": version,
    }
    yield dg.MaterializeResult(
        asset_key="sentences", metadata={**sent_meta, **common, "written": written["sentences"]}
    )
    yield dg.MaterializeResult(
        asset_key="entities",
        metadata={
            **ent_meta,
            **common,
            "written": written["entities"],
            "mentions_by_label": dg.MetadataValue.json(by_label),
        },
    )
    yield dg.MaterializeResult(
        asset_key="claims",
        metadata={
            **claim_meta,
            **common,
            "written": written["claims"],
            "claims_by_relation": dg.MetadataValue.json(by_relation),
        },
    )
