"""Ingest: the seeds folder becomes the `seed_files` ledger, `raw_documents` and
`documents` (cleaned text with title, outlet and publication date)."""

import datetime as dt
from typing import Any

import dagster as dg
import polars as pl

from assets.metadata import table_metadata
from pipeline import seeds, warehouse
from pipeline.defs.resources import SalvoSettings, WorkingDuckDB
from pipeline.text.clean import clean_text
from pipeline.text.dates import resolve_date
from pipeline.text.decode import decode_bytes
from pipeline.text.metadata import extract_title, find_outlet, parse_manifest

# Bump when cleaning or metadata rules change: every document is cleaned again.
CLEANER_VERSION = "clean.v1"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "seed_files",
            description=(
                "The ledger: one row per file ever seen in the seeds folder (key: source_file). "
                "status is ingested, duplicate (same text as another file), quarantined (with a "
                "reason: empty, binary, undecodable, no_content, too_large, outside_seeds) or "
                "deleted (gone from the folder)."
            ),
            group_name="ingest",
            kinds={"duckdb", "python"},
        ),
        dg.AssetSpec(
            "raw_documents",
            description=(
                "One row per distinct decoded text (key: doc_id, a hash of the text), with the "
                "encoding it was read in and the file it came from."
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
    """Read every file of the seeds folder: hash, decode, quarantine, deduplicate."""
    files = seeds.list_seed_files(salvo.seeds_path)
    context.log.info(f"Found {len(files)} files in {salvo.seeds_path}")
    now = _now()
    with duckdb.get_connection() as con:
        ledger = {
            row[0]: row[1:]
            for row in con.execute(
                "SELECT source_file, content_hash, status, reason, encoding, first_seen, doc_id,"
                " replacements, last_seen FROM seed_files"
            ).fetchall()
        }
        known_docs = {r[0] for r in con.execute("SELECT doc_id FROM raw_documents").fetchall()}

    rows: list[dict] = []
    new_texts: dict[str, tuple[str, str, str]] = {}  # doc_id -> (text, encoding, content_hash)
    candidates: dict[str, list[str]] = {}  # doc_id -> files holding that text
    changed = 0
    for number, seed in enumerate(files, start=1):
        previous = ledger.get(seed.name)
        row = {
            "source_file": seed.name,
            "first_seen": previous[4] if previous else now,
            "last_seen": now,
            "size_bytes": seed.size,
            "content_hash": None,
            "status": "quarantined",
            "reason": seed.problem,
            "encoding": None,
            "documents": 0,
            "replacements": None,
            "duplicate_of": None,
            "doc_id": None,
        }
        rows.append(row)
        if seed.problem:
            continue
        try:
            data = seed.path.read_bytes()
        except OSError as exc:
            context.log.warning(f"Cannot read {seed.name}: {exc}")
            row["reason"] = "unreadable"
            continue
        digest = seeds.content_hash(data)
        row["content_hash"] = digest
        if previous and previous[0] == digest and previous[1] != "deleted":
            # Unchanged bytes: keep what we learnt last time without decoding again.
            _, status, reason, encoding, _, doc_id, replacements, _ = previous
            row.update(encoding=encoding, reason=reason, doc_id=doc_id, replacements=replacements)
            if status == "quarantined":
                continue
            candidates.setdefault(doc_id, []).append(seed.name)
            continue
        changed += 1
        decoded = decode_bytes(data)
        row["encoding"], row["replacements"] = decoded.encoding, decoded.replacements
        if decoded.text is None:
            row["reason"] = decoded.reason
            continue
        doc_id = seeds.document_id(decoded.text)
        row["doc_id"] = doc_id
        if doc_id not in known_docs:
            new_texts.setdefault(doc_id, (decoded.text, decoded.encoding or "", digest))
        candidates.setdefault(doc_id, []).append(seed.name)
        if number % 500 == 0:
            context.log.info(f"Read {number}/{len(files)} files")

    # One document per distinct text; the first file by name owns it, the others are duplicates.
    owner: dict[str, str] = {}
    for doc_id, names in candidates.items():
        owner[doc_id] = sorted(names)[0]
    for row in rows:
        doc_id = row["doc_id"]
        if (
            doc_id is None
            or doc_id not in owner
            or row["status"] != "quarantined"
            or (row["reason"] is not None)
        ):
            continue
        if owner[doc_id] == row["source_file"]:
            row.update(status="ingested", documents=1)
        else:
            row.update(status="duplicate", duplicate_of=owner[doc_id])

    present = {r["source_file"] for r in rows}
    for name, previous in ledger.items():
        if name not in present:
            content, status, _, encoding, first_seen, doc_id, replacements, last_seen = previous
            rows.append(
                {
                    "source_file": name,
                    "content_hash": content,
                    "status": "deleted",
                    "reason": None,
                    "encoding": encoding,
                    "documents": 0,
                    "first_seen": first_seen,
                    # last_seen says when the file was last in the folder.
                    "last_seen": last_seen,
                    "size_bytes": None,
                    "replacements": replacements,
                    "duplicate_of": None,
                    "doc_id": doc_id,
                }
            )

    ledger_frame = pl.DataFrame(rows, schema=LEDGER_SCHEMA)
    gone = sorted(known_docs - set(owner))
    new_raw = pl.DataFrame(
        [
            {
                "doc_id": doc_id,
                "source_file": owner[doc_id],
                "content_hash": digest,
                "encoding": encoding,
                "raw_text": text,
                "characters": len(text),
                "ingested_at": now,
            }
            for doc_id, (text, encoding, digest) in new_texts.items()
            if doc_id in owner
        ],
        schema=RAW_SCHEMA,
    )
    owners = pl.DataFrame(
        {"doc_id": list(owner), "source_file": [owner[d] for d in owner]},
        schema={"doc_id": pl.String, "source_file": pl.String},
    )
    with duckdb.get_connection() as con:
        con.execute("BEGIN TRANSACTION")
        warehouse.delete_documents(con, gone)
        con.execute("DELETE FROM seed_files")
        warehouse.insert_frame(con, "seed_files", ledger_frame)
        warehouse.replace_rows(con, "raw_documents", new_raw, "doc_id")
        # The owner of a text can change when the first file holding it is deleted.
        con.register("salvo_owners", owners.to_arrow())
        for table in ("raw_documents", "documents"):
            con.execute(
                f"UPDATE {table} SET source_file = o.source_file FROM salvo_owners o "
                f"WHERE {table}.doc_id = o.doc_id AND {table}.source_file <> o.source_file"
            )
        con.unregister("salvo_owners")
        con.execute("COMMIT")
        counts = dict(
            con.execute("SELECT status, count(*) FROM seed_files GROUP BY status").fetchall()
        )
        reasons = dict(
            con.execute(
                "SELECT reason, count(*) FROM seed_files WHERE status = 'quarantined' GROUP BY 1"
            ).fetchall()
        )
        ledger_meta = table_metadata(con, "seed_files", order_by="source_file")
        raw_meta = table_metadata(
            con,
            "raw_documents",
            order_by="source_file",
            preview_columns=["doc_id", "source_file", "encoding", "characters", "ingested_at"],
        )
    context.log.info(
        f"Ledger: {counts}; {len(new_raw)} new documents, {len(gone)} removed, "
        f"{changed} new or changed files"
    )
    yield dg.MaterializeResult(
        asset_key="seed_files",
        metadata={
            **ledger_meta,
            **{f"files_{status}": n for status, n in sorted(counts.items())},
            "quarantine_reasons": dg.MetadataValue.json(reasons),
            "new_or_changed_files": changed,
        },
    )
    yield dg.MaterializeResult(
        asset_key="raw_documents",
        metadata={**raw_meta, "new_documents": len(new_raw), "removed_documents": len(gone)},
    )


LEDGER_SCHEMA: dict[str, Any] = {
    "source_file": pl.String,
    "content_hash": pl.String,
    "status": pl.String,
    "reason": pl.String,
    "encoding": pl.String,
    "documents": pl.Int32,
    "first_seen": pl.Datetime("us"),
    "last_seen": pl.Datetime("us"),
    "size_bytes": pl.Int64,
    "replacements": pl.Int32,
    "duplicate_of": pl.String,
    "doc_id": pl.String,
}
RAW_SCHEMA: dict[str, Any] = {
    "doc_id": pl.String,
    "source_file": pl.String,
    "content_hash": pl.String,
    "encoding": pl.String,
    "raw_text": pl.String,
    "characters": pl.Int32,
    "ingested_at": pl.Datetime("us"),
}


@dg.asset(
    deps=["raw_documents"],
    group_name="ingest",
    kinds={"duckdb", "python"},
    pool="duckdb",
)
def documents(context: dg.AssetExecutionContext, salvo: SalvoSettings, duckdb: WorkingDuckDB):
    """One row per distinct article (key: doc_id): the cleaned text sentences index into,
    with title, outlet and publication date. A date comes from manifest.csv first, then from
    a dateline in the text; otherwise it stays null (date_source = unknown), never the day of
    ingestion."""
    manifest_text = seeds.read_manifest_text(salvo.seeds_path)
    manifest = {}
    if manifest_text:
        try:
            manifest = parse_manifest(manifest_text)
        except ValueError as exc:
            # A broken manifest must not stop ingestion: dates then come from the text.
            context.log.warning(f"Ignoring {seeds.MANIFEST_NAME}: {exc}")
    fingerprint = f"{CLEANER_VERSION}:{seeds.content_hash((manifest_text or '').encode())}"
    with duckdb.get_connection() as con:
        redo_all = warehouse.get_state(con, "documents_fingerprint") != fingerprint
        todo = con.execute(
            "SELECT r.doc_id, r.source_file, r.raw_text, r.ingested_at FROM raw_documents r "
            "WHERE ? OR r.doc_id NOT IN (SELECT doc_id FROM documents)",
            [redo_all],
        ).fetchall()
    rows, empty_files = [], []
    for doc_id, source_file, raw_text, ingested_at in todo:
        cleaned = clean_text(raw_text)
        if not cleaned.strip():
            empty_files.append((source_file, doc_id))
            continue
        meta = manifest.get(source_file)
        date = resolve_date(
            raw_text, meta.published if meta else None, meta.date_precision if meta else None
        )
        rows.append(
            {
                "doc_id": doc_id,
                "source_file": source_file,
                "title": (meta.title if meta and meta.title else None) or extract_title(cleaned),
                "outlet": (meta.outlet if meta and meta.outlet else None) or find_outlet(raw_text),
                "published_date": date.published_date,
                "date_precision": date.date_precision,
                "date_source": date.date_source,
                "clean_text": cleaned,
                "ingested_at": ingested_at,
                "url": meta.url if meta else None,
                "characters": len(cleaned),
            }
        )
    frame = pl.DataFrame(rows, schema=DOCUMENT_SCHEMA)
    with duckdb.get_connection() as con:
        con.execute("BEGIN TRANSACTION")
        orphans = [
            r[0]
            for r in con.execute(
                "SELECT doc_id FROM documents "
                "WHERE doc_id NOT IN (SELECT doc_id FROM raw_documents)"
            ).fetchall()
        ]
        warehouse.delete_documents(con, orphans)
        # A file whose text is all boilerplate yields no document: quarantined, not lost.
        for _source_file, doc_id in empty_files:
            con.execute(
                "UPDATE seed_files SET status = 'quarantined', reason = 'no_content', "
                "documents = 0 WHERE doc_id = ?",
                [doc_id],
            )
        warehouse.delete_documents(con, [d for _, d in empty_files])
        changed_ids = frame.get_column("doc_id").to_list()
        if changed_ids:
            warehouse.replace_rows(con, "documents", frame, "doc_id")
        warehouse.set_state(con, "documents_fingerprint", fingerprint)
        con.execute("COMMIT")
        stats = con.execute(
            "SELECT count(*), count(published_date), "
            "count(*) FILTER (WHERE date_source = 'text'), "
            "count(*) FILTER (WHERE date_source = 'metadata') FROM documents"
        ).fetchone()
        meta_out = table_metadata(
            con,
            "documents",
            order_by="source_file",
            preview_columns=[
                "doc_id",
                "source_file",
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
        f"Cleaned {len(frame)} documents ({len(empty_files)} had no content); {total} in all, "
        f"{dated} dated ({from_meta} from metadata, {from_text} from the text)"
    )
    return dg.MaterializeResult(
        metadata={
            **meta_out,
            "cleaned_this_run": len(frame),
            "no_content": len(empty_files),
            "dated_documents": dated,
            "undated_documents": total - dated,
            "dates_from_text": from_text,
            "dates_from_metadata": from_meta,
        }
    )


DOCUMENT_SCHEMA: dict[str, Any] = {
    "doc_id": pl.String,
    "source_file": pl.String,
    "title": pl.String,
    "outlet": pl.String,
    "published_date": pl.Date,
    "date_precision": pl.String,
    "date_source": pl.String,
    "clean_text": pl.String,
    "ingested_at": pl.Datetime("us"),
    "url": pl.String,
    "characters": pl.Int32,
}
