"""The stories stage's storage: an LSH index of passages in DuckDB, candidate pairs found by
joining it, pairs scored exactly, and documents grouped into stories.

Incremental by content: only new documents, or documents whose clean_text changed, are
split into passages and hashed; an SQL join of their band keys against the stored keys of
every other document finds the pairs worth scoring. The algorithms are in
`pipeline.stories`; the tables are declared in `pipeline.schema`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from pipeline import schema, stories, warehouse

# Documents split and hashed together, and whose band keys are committed together: bounds
# memory on a first run over a large folder.
INDEX_BATCH_DOCUMENTS = 500
# Documents whose passages are kept in memory while candidate pairs are scored (about
# 3 kB each).
SPLIT_CACHE_DOCUMENTS = 20_000
VERSION_KEY = "stories_version"

STORY_TABLES = ("passage_bands", "story_links", "document_stories")


def _texts(con: duckdb.DuckDBPyConnection, doc_ids: list[str]) -> dict[str, str]:
    return dict(
        con.execute(
            "SELECT doc_id, clean_text FROM documents WHERE doc_id IN (SELECT unnest(?))",
            [doc_ids],
        ).fetchall()
    )


class _Split:
    """Documents' passages as word-number arrays (stories.NumberedPassages), kept for
    scoring: a document is a candidate partner in many pairs, and a document indexed in
    this run is split once. Bounded by SPLIT_CACHE_DOCUMENTS, so memory does not grow
    with the warehouse."""

    def __init__(self) -> None:
        self.documents: dict[str, stories.NumberedPassages] = {}
        self.vocabulary: dict[str, int] = {}

    def add(self, doc_id: str, document_passages: list[frozenset[str]]) -> None:
        number = self.vocabulary.setdefault
        self.documents[doc_id] = stories.numbered(
            [[number(word, len(self.vocabulary)) for word in words] for words in document_passages]
        )


def _index(con: duckdb.DuckDBPyConnection, todo: list[str], split: _Split) -> dict[str, int]:
    """Write the band keys of the given documents, one transaction per batch; return their
    passage counts. Their passages are kept in `split` while it has room.

    Committed batch by batch: rows appended in an open transaction stay in memory until it
    ends, and the index is large. A run that fails later leaves
    keys for documents without a document_stories row (or with an old text_md5); the next
    run finds them stale, deletes their keys and indexes them again."""
    counts: dict[str, int] = {}
    for first in range(0, len(todo), INDEX_BATCH_DOCUMENTS):
        texts = _texts(con, todo[first : first + INDEX_BATCH_DOCUMENTS])
        if not texts:
            continue
        doc_ids = list(texts)
        split_texts = [stories.passages(text) for text in texts.values()]
        matrices = stories.band_key_matrices(split_texts)
        for doc_id, document_passages in zip(doc_ids, split_texts, strict=True):
            counts[doc_id] = len(document_passages)
            if len(split.documents) < SPLIT_CACHE_DOCUMENTS:
                split.add(doc_id, document_passages)
        sizes = np.array([m.shape[0] for m in matrices])
        bands = stories.BANDS
        # One row per (passage, band): passage numbers restart at 0 in each document.
        passage = np.concatenate([np.repeat(np.arange(n, dtype=np.int32), bands) for n in sizes])
        frame = pl.DataFrame(
            {
                "doc_id": np.repeat(np.array(doc_ids, dtype=object), sizes * bands),
                "passage": passage,
                "band": np.tile(np.arange(bands, dtype=np.int16), int(sizes.sum())),
                "band_key": np.concatenate([m.reshape(-1) for m in matrices]),
            },
            schema=schema.polars_schema("passage_bands"),
        )
        with warehouse.transaction(con):
            warehouse.insert_frame(con, "passage_bands", frame)
    return counts


def _prepare_candidate_search(
    con: duckdb.DuckDBPyConnection, todo: list[str], passage_counts: dict[str, int]
) -> None:
    """Temporary tables for _candidates, built once per run: the index rows whose band key
    is one of `todo`'s and is not boilerplate (found in 2 to MAX_BUCKET_DOCUMENTS
    documents), and the passage count of every document (`passage_counts` for `todo`,
    what document_stories recorded for the others). Documents are numbered for the
    search: the join groups and compares integers, not doc_id strings, in half the time."""
    # The index is read once: the rows sharing a key with `todo`, then those of them whose
    # key is not boilerplate. `todo`'s keys are put in a table first: through the view of
    # passage_bands DuckDB cannot estimate how few they are and built its hash table on
    # the whole index (at 300,000 simulated documents, 273,025,088 rows: 57.3 s for one
    # new document at 512 MB, out of memory at 256 MB; 1.8 s from the table).
    con.execute(
        "CREATE OR REPLACE TEMP TABLE salvo_todo_bands AS SELECT DISTINCT band, band_key "
        "FROM passage_bands WHERE doc_id IN (SELECT unnest($ids))",
        {"ids": todo},
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE salvo_shared_bands AS "
        "SELECT * FROM passage_bands SEMI JOIN salvo_todo_bands USING (band, band_key)"
    )
    con.execute("DROP TABLE salvo_todo_bands")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE salvo_search_documents AS
        SELECT doc_id, (row_number() OVER (ORDER BY doc_id))::INTEGER AS doc_no,
               doc_id IN (SELECT unnest($ids)) AS is_new
        FROM (SELECT DISTINCT doc_id FROM salvo_shared_bands)
        """,
        {"ids": todo},
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE salvo_kept_bands AS
        WITH kept AS (
            SELECT * FROM salvo_shared_bands
            SEMI JOIN (
                SELECT band, band_key FROM salvo_shared_bands GROUP BY ALL
                HAVING count(DISTINCT doc_id) BETWEEN 2 AND $cap
            ) USING (band, band_key)
        )
        SELECT kept.band, kept.band_key, kept.passage, d.doc_no, d.is_new
        FROM kept JOIN salvo_search_documents d USING (doc_id)
        """,
        {"cap": stories.MAX_BUCKET_DOCUMENTS},
    )
    con.execute("DROP TABLE salvo_shared_bands")
    # Not counted again from passage_bands: that reads the whole index for a run that adds
    # one document.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE salvo_passage_counts AS "
        "SELECT d.doc_no, d.doc_id, c.passages FROM salvo_search_documents d JOIN ("
        "SELECT doc_id, passages FROM document_stories WHERE doc_id NOT IN (SELECT unnest($ids)) "
        "UNION ALL SELECT unnest($ids) AS doc_id, unnest($counts) AS passages) c USING (doc_id)",
        {"ids": list(passage_counts), "counts": list(passage_counts.values())},
    )


def _candidates(con: duckdb.DuckDBPyConnection, doc_ids: list[str]) -> set[tuple[str, str]]:
    """Pairs (smaller id first) of a given document and any other whose passages collide
    in some LSH band outside the boilerplate buckets, on at least SAME_STORY_MIN_PASSAGES
    passages of each and at least SAME_STORY_OVERLAP of the passages of one.

    A pair of two documents of this run is joined from its smaller number only: the
    counts are symmetric, and on a first run that halves the join."""
    rows = con.execute(
        """
        WITH n AS (
            SELECT * FROM salvo_kept_bands WHERE doc_no IN (
                SELECT doc_no FROM salvo_search_documents WHERE doc_id IN (SELECT unnest($ids))
            )
        ),
        pairs AS (
            SELECT n.doc_no AS a, o.doc_no AS b, count(DISTINCT n.passage) AS hit_a,
                   count(DISTINCT o.passage) AS hit_b
            FROM n JOIN salvo_kept_bands o
                ON o.band = n.band AND o.band_key = n.band_key
                AND (o.doc_no > n.doc_no OR (NOT o.is_new AND o.doc_no <> n.doc_no))
            GROUP BY ALL HAVING least(hit_a, hit_b) >= $min_passages
        )
        SELECT sa.doc_id, sb.doc_id FROM pairs
        JOIN salvo_passage_counts sa ON sa.doc_no = a
        JOIN salvo_passage_counts sb ON sb.doc_no = b
        WHERE greatest(hit_a / sa.passages, hit_b / sb.passages) >= $overlap
        """,
        {
            "ids": doc_ids,
            "min_passages": stories.SAME_STORY_MIN_PASSAGES,
            "overlap": stories.SAME_STORY_OVERLAP,
        },
    ).fetchall()
    return {(min(a, b), max(a, b)) for a, b in rows}


def _score(
    con: duckdb.DuckDBPyConnection,
    todo: list[str],
    passage_counts: dict[str, int],
    split: _Split,
) -> pl.DataFrame:
    """Score every candidate pair that involves a document of `todo`, exactly."""
    links: dict[str, list] = {name: [] for name in schema.columns_of("story_links")}
    scored: set[tuple[str, str]] = set()
    _prepare_candidate_search(con, todo, passage_counts)
    for first in range(0, len(todo), INDEX_BATCH_DOCUMENTS):
        pairs = _candidates(con, todo[first : first + INDEX_BATCH_DOCUMENTS]) - scored
        scored |= pairs
        needed = sorted({doc_id for pair in pairs for doc_id in pair} - split.documents.keys())
        if len(split.documents) + len(needed) > SPLIT_CACHE_DOCUMENTS:
            split.documents.clear()
            needed = sorted({doc_id for pair in pairs for doc_id in pair})
        for doc_id, text in _texts(con, needed).items():
            split.add(doc_id, stories.passages(text))
        for a, group in itertools.groupby(sorted(pairs), key=lambda pair: pair[0]):
            partners = [b for _, b in group]
            scores = stories.score_against(
                split.documents[a], [split.documents[b] for b in partners]
            )
            for b, score in zip(partners, scores, strict=True):
                if score.shared_passages == 0:
                    continue
                links["doc_id"].append(a)
                links["other_doc_id"].append(b)
                links["passages"].append(score.passages)
                links["other_passages"].append(score.other_passages)
                links["shared_passages"].append(score.shared_passages)
                links["overlap"].append(round(score.overlap, 4))
                links["same_story"].append(score.same_story)
    return schema.frame("story_links", links)


def _regrouped(con: duckdb.DuckDBPyConnection, touched: set[str]) -> list[str]:
    """The documents whose document_stories row may change: the `touched` ones (indexed
    again, gone, given a new link, or held by another file now) that are still here, and
    every document of a story one of them was in. Whole stories, so a story regrouped from
    these alone is the story regrouped from all."""
    return [
        r[0]
        for r in con.execute(
            "WITH old AS (SELECT DISTINCT story_id FROM document_stories "
            "WHERE doc_id IN (SELECT unnest($touched))) "
            "SELECT doc_id FROM documents WHERE doc_id IN (SELECT unnest($touched)) "
            "OR doc_id IN (SELECT doc_id FROM document_stories "
            "WHERE story_id IN (SELECT story_id FROM old)) ORDER BY doc_id",
            {"touched": sorted(touched)},
        ).fetchall()
    ]


def _story_rows(
    con: duckdb.DuckDBPyConnection,
    passage_counts: dict[str, int],
    only: list[str] | None = None,
) -> pl.DataFrame:
    """One row per document (of `only`, whole stories, when given): its story, and its
    nearest document within that story. `passage_counts` has every document indexed in
    this run."""
    # The texts of documents not indexed in this run are those document_stories describes
    # (_forget_stale compared them): their digest is not taken again.
    # A same-story link joins two documents of one story: both are in `only` or neither.
    scope, params = (
        ("true", {}) if only is None else ("doc_id IN (SELECT unnest($only))", {"only": only})
    )
    documents = con.execute(
        "SELECT d.doc_id, d.source_file, CASE WHEN s.doc_id IS NULL OR d.doc_id IN "
        "(SELECT unnest($indexed)) THEN md5(d.clean_text) ELSE s.text_md5 END, s.passages, "
        f"{STORED_TEXT_HASH} "
        f"FROM documents d LEFT JOIN document_stories s USING (doc_id) WHERE {scope} "
        "ORDER BY d.doc_id",
        {"indexed": list(passage_counts), **params},
    ).fetchall()
    links = con.execute(
        "SELECT doc_id, other_doc_id, overlap, shared_passages FROM story_links "
        f"WHERE same_story AND {scope}",
        params,
    ).fetchall()
    story_of = stories.group_stories([d[0] for d in documents], [(a, b) for a, b, _, _ in links])
    size: dict[str, int] = {}
    for story_id in story_of.values():
        size[story_id] = size.get(story_id, 0) + 1
    nearest: dict[str, tuple[float, int, str]] = {}
    for a, b, overlap, shared in links:
        for doc_id, other in ((a, b), (b, a)):
            best = nearest.get(doc_id)
            # Highest overlap wins; a tie goes to the smaller id, so reruns agree.
            if best is None or overlap > best[0] or (overlap == best[0] and other < best[2]):
                nearest[doc_id] = (overlap, shared, other)
    rows = []
    for doc_id, source_file, text_md5, previous_passages, text_hash in documents:
        best = nearest.get(doc_id)
        rows.append(
            {
                "doc_id": doc_id,
                "source_file": source_file,
                "story_id": story_of[doc_id],
                "story_documents": size[story_of[doc_id]],
                "nearest_doc_id": best[2] if best else None,
                "similarity": best[0] if best else None,
                "shared_passages": best[1] if best else None,
                "passages": passage_counts.get(doc_id, previous_passages or 0),
                "text_md5": text_md5,
                "text_hash": text_hash,
            }
        )
    return schema.frame("document_stories", rows)


# The text digest document_stories records: the documents stage's, or this DuckDB's hash
# of the text where the documents row has none.
STORED_TEXT_HASH = f"coalesce(d.text_hash, {schema.TEXT_HASH})"


def _forget_stale(
    con: duckdb.DuckDBPyConnection,
) -> tuple[bool, list[str], list[str], list[str]]:
    """One transaction: everything is dropped when the stories version changed; the band
    keys and links of documents that are new, changed (or left half-done by a failed run)
    or gone are deleted. Returns (rebuild, documents to index, documents deleted, documents
    whose text is unchanged but whose text_hash is not this DuckDB's)."""
    with warehouse.transaction(con):
        rebuild = warehouse.get_state(con, VERSION_KEY) != stories.STORIES_VERSION
        if rebuild:
            for table in STORY_TABLES:
                warehouse.clear_table(con, table)
        # text_hash decides; where it disagrees (another DuckDB version, a table from before
        # the column) text_md5 does, and the row is written again with this DuckDB's hash.
        # documents.text_hash is the one the documents stage took when it wrote the text:
        # the texts themselves are read only where the two disagree (or it is missing), not
        # all of them each run.
        differing = [
            r[0]
            for r in con.execute(
                "SELECT d.doc_id FROM documents d LEFT JOIN document_stories s USING (doc_id) "
                "WHERE s.doc_id IS NULL OR d.text_hash IS NULL "
                "OR s.text_hash IS DISTINCT FROM d.text_hash"
            ).fetchall()
        ]
        todo: list[str] = []
        rehashed: list[str] = []
        for doc_id, changed in con.execute(
            "SELECT d.doc_id, s.doc_id IS NULL OR s.text_md5 <> md5(d.clean_text) "
            "FROM documents d LEFT JOIN document_stories s USING (doc_id) "
            "WHERE d.doc_id IN (SELECT unnest(?)) AND (s.doc_id IS NULL OR "
            f"s.text_hash IS DISTINCT FROM {STORED_TEXT_HASH}) ORDER BY d.doc_id",
            [differing],
        ).fetchall():
            (todo if changed else rehashed).append(doc_id)
        stale = todo + [
            r[0]
            for r in con.execute(
                "SELECT doc_id FROM document_stories "
                "WHERE doc_id NOT IN (SELECT doc_id FROM documents)"
            ).fetchall()
        ]
        if stale:
            warehouse.delete_documents(con, stale, tables=("passage_bands",))
            con.execute(
                "DELETE FROM story_links WHERE doc_id IN (SELECT unnest(?)) "
                "OR other_doc_id IN (SELECT unnest(?))",
                [stale, stale],
            )
    return rebuild, todo, stale, rehashed


@dataclass(frozen=True)
class StoriesRun:
    indexed: int  # documents split and hashed this run
    rebuilt: bool  # everything rebuilt (a new stories version)
    new_links: int
    regrouped: int | None  # documents grouped again (None: none, or all on a rebuild)


def update_stories(con: duckdb.DuckDBPyConnection) -> StoriesRun:
    """Index new or changed documents' passages, score the candidate pairs they form, and
    regroup the stories the changes reach (every story on a rebuild)."""
    # Three steps, each committed. A run that fails between them leaves what the next
    # run redoes: the stories version is recorded last, and a document is done only
    # once document_stories holds its text_md5.
    rebuild, todo, stale, rehashed = _forget_stale(con)
    # Documents whose text another file holds now: their rows name the old file.
    moved = [
        r[0]
        for r in con.execute(
            "SELECT doc_id FROM document_stories s JOIN documents d USING (doc_id) "
            "WHERE s.source_file IS DISTINCT FROM d.source_file"
        ).fetchall()
    ]
    new_links = schema.frame("story_links")
    regrouped: int | None = None
    # Nothing new, changed, gone, moved or hashed otherwise: the stories are what the
    # last run left.
    if rebuild or stale or moved or rehashed:
        split = _Split()
        passage_counts = _index(con, todo, split)
        with warehouse.transaction(con):
            new_links = _score(con, todo, passage_counts, split)
            warehouse.insert_frame(con, "story_links", new_links)
            if rebuild:
                frame = _story_rows(con, passage_counts)
                con.execute("DELETE FROM document_stories")
            else:
                # Only the stories the changes reach are grouped again.
                links = [*new_links["doc_id"], *new_links["other_doc_id"]]
                only = _regrouped(con, {*stale, *moved, *rehashed, *links})
                frame = _story_rows(con, passage_counts, only)
                con.execute(
                    "DELETE FROM document_stories WHERE doc_id IN (SELECT unnest(?))",
                    [sorted(set(only) | set(stale))],
                )
                regrouped = len(only)
            warehouse.insert_frame(con, "document_stories", frame)
            warehouse.set_state(con, VERSION_KEY, stories.STORIES_VERSION)
    return StoriesRun(len(todo), rebuild, len(new_links), regrouped)
