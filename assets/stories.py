"""Stories: near-duplicate documents (one wire copy republished or rewritten) grouped, so
the marts count independent stories beside documents and outlets. The work is done by
`pipeline.story_index` over the algorithms of `pipeline.stories`."""

from typing import Any

import dagster as dg

from assets.metadata import markdown_table, table_metadata
from assets.resources import WorkingDuckDB
from pipeline import stories
from pipeline.story_index import update_stories


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "story_links",
            deps=["documents"],
            description=(
                "Pairs of documents that share passages (key: doc_id, other_doc_id; doc_id is "
                "the smaller). shared_passages counts passages with a near-copy in the other "
                "document, overlap the larger share of either document's passages so shared; "
                f"same_story when at least {stories.SAME_STORY_MIN_PASSAGES} passages and "
                f"{stories.SAME_STORY_OVERLAP:.0%} overlap: a wire copy republished or "
                "rewritten, not two reports quoting the same person."
            ),
            group_name="stories",
            kinds={"duckdb", "python"},
        ),
        dg.AssetSpec(
            "document_stories",
            deps=["documents", "story_links"],
            description=(
                "One row per document (key: doc_id): the story it belongs to. Documents "
                "linked as same_story in story_links, directly or through others, form one "
                "story, named by its smallest doc_id; a document nothing resembles is a story "
                "of its own. similarity is the overlap with its nearest document in the story. "
                "The marts count independent_stories with it."
            ),
            group_name="stories",
            kinds={"duckdb", "python"},
        ),
    ],
    pool="duckdb",
)
def story_links_and_document_stories(context: dg.AssetExecutionContext, duckdb: WorkingDuckDB):
    """Index new or changed documents' passages, score the candidate pairs they form, and
    regroup every document into stories."""
    with duckdb.get_connection() as con:
        run = update_stories(con)
        links_meta = table_metadata(con, "story_links", order_by="doc_id")
        stories_meta = table_metadata(
            con,
            "document_stories",
            order_by="story_id",
            preview_columns=[
                "source_file",
                "story_id",
                "story_documents",
                "nearest_doc_id",
                "similarity",
                "shared_passages",
                "passages",
            ],
        )
        counts = con.execute(
            "SELECT count(DISTINCT story_id), count(DISTINCT story_id) "
            "FILTER (WHERE story_documents > 1), count(*) FILTER (WHERE story_documents > 1) "
            "FROM document_stories"
        ).fetchone()
        grouped = con.execute(
            "SELECT story_id, string_agg(source_file, ', ' ORDER BY source_file) "
            "FROM document_stories WHERE story_documents > 1 GROUP BY 1 ORDER BY 1 LIMIT 10"
        ).fetchall()
    total_stories, shared_stories, documents_in_shared = counts or (0, 0, 0)
    context.log.info(
        f"Indexed {run.indexed} documents ({'full rebuild' if run.rebuilt else 'incremental'}); "
        f"{run.new_links} new links; {total_stories} stories, {shared_stories} told by "
        f"more than one document"
    )
    common: dict[str, Any] = {
        "documents_indexed": run.indexed,
        "rebuilt": run.rebuilt,
        "method": stories.STORIES_VERSION,
    }
    if run.regrouped is not None:
        common["documents_regrouped"] = run.regrouped
    yield dg.MaterializeResult(
        asset_key="story_links",
        metadata={**links_meta, **common, "new_links": run.new_links},
    )
    yield dg.MaterializeResult(
        asset_key="document_stories",
        metadata={
            **stories_meta,
            **common,
            "stories": total_stories,
            "stories_with_copies": shared_stories,
            "documents_in_shared_stories": documents_in_shared,
            "shared_stories": dg.MetadataValue.md(
                markdown_table(["story_id", "documents"], grouped)
            ),
        },
    )
