"""Documents: each raw text cleaned, titled and dated, written to `documents`.

Metadata comes from manifest.csv first, then from the record (a JSON field, HTML meta
tags, Markdown front matter), then from the text (headline, dateline, credits); a date
never found stays null, never the day of ingestion.
"""

from __future__ import annotations

import multiprocessing
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipeline import schema, seeds, settings, warehouse
from pipeline.ledger import Connect
from pipeline.text.clean import clean_text, cues_digest
from pipeline.text.dates import ResolvedDate, parse_date_value, resolve_date
from pipeline.text.metadata import ManifestRow, extract_title, find_outlet, parse_manifest

# Bump when cleaning or metadata rules change: every document is cleaned again (an edit of
# the cue file, boilerplate.txt, does so by itself).
CLEANER_VERSION = "clean.v1"
# Documents cleaned and written together: bounds memory whatever the corpus size.
CLEAN_BATCH_DOCUMENTS = 256
# Fewer texts than this are cleaned in this process (a fork costs more than it saves).
PARALLEL_CLEAN_MIN_DOCUMENTS = 500
# Tables a document leaves when its text has no content (its raw text stays: it was read).
CONTENT_TABLES = tuple(t for t in schema.DOCUMENT_TABLES if t != "raw_documents")
FINGERPRINT_STATE = "documents_fingerprint"


@dataclass(frozen=True)
class CleanRun:
    cleaned: int  # documents written this run
    no_content: int  # texts left empty by cleaning


def _manifest_lookup(manifest: dict[str, ManifestRow]):
    """Manifest rows by file name; a name written in another Unicode normal form (macOS
    writes NFD, most editors NFC) still finds its row when no exact match exists."""
    normalised = {unicodedata.normalize("NFC", k): v for k, v in manifest.items()}

    def lookup(source_file: str) -> ManifestRow | None:
        row = manifest.get(source_file)
        if row is None:
            row = normalised.get(unicodedata.normalize("NFC", source_file))
        return row

    return lookup


def _publication_date(
    raw_text: str, meta: ManifestRow | None, published: str | None, precision: str | None
) -> ResolvedDate:
    """The manifest's date, else the record's, else the text header's, else unknown."""
    candidates = [(published, precision)]
    if meta is not None:
        candidates.insert(0, (meta.published, meta.date_precision))
    for value, value_precision in candidates:
        parsed = parse_date_value(value, value_precision)
        if parsed is not None:
            return ResolvedDate(parsed[0], parsed[1], "metadata")
    return resolve_date(raw_text)


# The manifest lookup of the current run, set in each process that prepares documents.
_MANIFEST_ROW: Any = None


def _use_manifest(lookup: Any) -> None:
    global _MANIFEST_ROW
    _MANIFEST_ROW = lookup


def _prepare_document(text_row: tuple) -> tuple[str, dict[str, Any] | None]:
    """The documents row of one raw text, or None when nothing is left after cleaning."""
    doc_id, source_file, index, raw_text, ingested_at = text_row[:5]
    title, outlet, published, precision, url = text_row[5:]
    cleaned = clean_text(raw_text)
    if not cleaned.strip():
        return doc_id, None
    meta = _MANIFEST_ROW(source_file)
    date = _publication_date(raw_text, meta, published, precision)
    return doc_id, {
        "doc_id": doc_id,
        "source_file": source_file,
        "title": (meta.title if meta else None) or title or extract_title(cleaned),
        "outlet": (meta.outlet if meta else None) or outlet or find_outlet(raw_text),
        "published_date": date.published_date,
        "date_precision": date.date_precision,
        "date_source": date.date_source,
        "clean_text": cleaned,
        "ingested_at": ingested_at,
        "url": (meta.url if meta else None) or url,
        "characters": len(cleaned),
        "record_index": index,
    }


def _clean_batches(connect: Connect, todo: list[str], pool: Any) -> tuple[int, list[str]]:
    """Clean and date the given raw texts: one read and one transaction per
    CLEAN_BATCH_DOCUMENTS texts. Returns the documents written and the texts left empty."""
    cleaned_count = 0
    no_content: list[str] = []
    for first in range(0, len(todo), CLEAN_BATCH_DOCUMENTS):
        batch = todo[first : first + CLEAN_BATCH_DOCUMENTS]
        with connect() as con:
            texts = con.execute(
                "SELECT doc_id, source_file, record_index, raw_text, ingested_at, title, "
                "outlet, published, date_precision, url FROM raw_documents "
                "WHERE doc_id IN (SELECT unnest(?))",
                [batch],
            ).fetchall()
        rows, empty = [], []
        prepared = (
            pool.imap(_prepare_document, texts, chunksize=16)
            if pool is not None
            else map(_prepare_document, texts)
        )
        for doc_id, row in prepared:
            if row is None:
                empty.append(doc_id)
            else:
                rows.append(row)
        del texts
        frame = schema.frame("documents", rows)
        del rows
        with connect() as con:
            with warehouse.transaction(con):
                # A text that is all boilerplate yields no document: its file or record is
                # quarantined as no_content below, and nothing of it stays downstream.
                warehouse.delete_documents(con, empty, tables=CONTENT_TABLES)
                warehouse.replace_rows(con, "documents", frame, "doc_id")
        cleaned_count += frame.height
        no_content += empty
    return cleaned_count, no_content


def clean_documents(
    connect: Connect, folder: Path, rehash: bool, log: Callable[[str], None]
) -> CleanRun:
    """Clean and date the raw texts that are new, whose owning file or record changed, or
    all of them when the cleaner or the manifest changed; quarantine texts left empty.

    Args:
        connect: opens a connection to the working database (a context manager).
        folder: the seeds folder (for its manifest).
        rehash: also mend every documents.text_hash that no longer matches its text.
        log: receives warnings and progress lines.
    """
    manifest_text = seeds.read_manifest_text(folder)
    manifest = {}
    if manifest_text:
        try:
            manifest = parse_manifest(manifest_text)
        except ValueError as exc:
            # A broken manifest must not stop ingestion: dates then come from the text.
            log(f"Ignoring {seeds.MANIFEST_NAME}: {exc}")
    manifest_row = _manifest_lookup(manifest)
    manifest_digest = seeds.content_hash((manifest_text or "").encode())
    fingerprint = f"{CLEANER_VERSION}:{cues_digest()}:{manifest_digest}"
    with connect() as con:
        redo_all = warehouse.get_state(con, FINGERPRINT_STATE) != fingerprint
        with warehouse.transaction(con):
            orphans = [
                r[0]
                for r in con.execute(
                    "SELECT doc_id FROM documents "
                    "WHERE doc_id NOT IN (SELECT doc_id FROM raw_documents)"
                ).fetchall()
            ]
            warehouse.delete_documents(con, orphans)
        # New texts, texts whose owning file or record changed, and every text when the
        # cleaner or the manifest changed. Texts with no content come back each run (cheap)
        # so that a better cleaner can rescue them.
        todo = [
            r[0]
            for r in con.execute(
                "SELECT r.doc_id FROM raw_documents r LEFT JOIN documents d USING (doc_id) "
                "WHERE ? OR d.doc_id IS NULL OR d.source_file IS DISTINCT FROM r.source_file "
                "OR d.record_index IS DISTINCT FROM r.record_index ORDER BY r.doc_id",
                [redo_all],
            ).fetchall()
        ]
    _use_manifest(manifest_row)
    # A large first run cleans and dates on every core.
    # The workers are forked here, while no DuckDB connection is open.
    cores = settings.cpu_count()
    pool = (
        multiprocessing.get_context("fork").Pool(
            min(cores, 8), initializer=_use_manifest, initargs=(manifest_row,)
        )
        if cores > 1 and len(todo) >= PARALLEL_CLEAN_MIN_DOCUMENTS
        else None
    )
    try:
        cleaned_count, no_content = _clean_batches(connect, todo, pool)
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    with connect() as con:
        with warehouse.transaction(con):
            _mark_no_content(con)
            warehouse.set_state(con, FINGERPRINT_STATE, fingerprint)
            # The rows written above, and any without one (from before the column, or by
            # hand), get their text_hash; a full-check run also mends any that no longer
            # matches its text.
            text_hash = schema.TEXT_HASH
            warehouse.update_column(
                con,
                "documents",
                "text_hash",
                text_hash,
                "text_hash IS NULL" + (f" OR text_hash <> {text_hash}" if rehash else ""),
            )
    return CleanRun(cleaned_count, len(no_content))


def _mark_no_content(con: duckdb.DuckDBPyConnection) -> None:
    """Records whose text has no document after cleaning are quarantined as no_content; a
    file left with no document is too. Recomputed in full each run, so the ledger never
    depends on which run cleaned what. Call inside a transaction."""
    con.execute(
        "UPDATE seed_records SET status = 'quarantined', reason = 'no_content' "
        "WHERE status = 'ingested' AND doc_id NOT IN (SELECT doc_id FROM documents)"
    )
    con.execute(
        "UPDATE seed_files SET "
        "documents = (SELECT count(*) FROM seed_records r "
        "WHERE r.source_file = seed_files.source_file AND r.status = 'ingested'), "
        "quarantined_records = (SELECT count(*) FROM seed_records r "
        "WHERE r.source_file = seed_files.source_file AND r.status = 'quarantined') "
        "WHERE status = 'ingested'"
    )
    con.execute(
        "UPDATE seed_files SET status = 'quarantined', reason = 'no_content' "
        "WHERE status = 'ingested' AND documents = 0"
    )
