"""Ingest: the seeds folder becomes the `seed_files` ledger (with `seed_records`, one row per
record a file holds), `raw_documents` and `documents` (cleaned text with title, outlet and
publication date)."""

import datetime as dt
import multiprocessing
import operator
import os
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import polars as pl

from assets.metadata import table_metadata
from pipeline import seeds, warehouse
from pipeline.defs.checks import CHECKS_TAG, FULL
from pipeline.defs.resources import SalvoSettings, WorkingDuckDB
from pipeline.text.clean import clean_text
from pipeline.text.dates import ResolvedDate, parse_date_value, resolve_date
from pipeline.text.decode import decode_bytes
from pipeline.text.formats import Record, detect_format, parse_file
from pipeline.text.metadata import ManifestRow, extract_title, find_outlet, parse_manifest

# Bump when cleaning or metadata rules change: every document is cleaned again.
CLEANER_VERSION = "clean.v1"
# Documents cleaned and written together: bounds memory whatever the corpus size.
CLEAN_BATCH_DOCUMENTS = 256
# Fewer texts than this are cleaned in this process (a fork costs more than it saves).
PARALLEL_CLEAN_MIN_DOCUMENTS = 500
# Tables a document leaves when its text has no content (its raw text stays: it was read).
CONTENT_TABLES = tuple(t for t in warehouse.DOCUMENT_TABLES if t != "raw_documents")
# A progress line while files are read, at most this often: a run that reads nothing new
# logs none (each line is an event Dagster stores).
PROGRESS_SECONDS = 5.0
# File names listed in a log line at most.
SHOWN_NAMES = 20
# Bump when what the ledger derives from a file's records changes: the next run looks at
# every file again instead of leaving the quiet ones (unchanged since hashed) as they are.
LEDGER_VERSION = "ledger.v1"
LEDGER_STATE = "ledger_version"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def _dicts(
    con: duckdb.DuckDBPyConnection, sql: str, parameters: list | None = None
) -> list[dict[str, Any]]:
    cursor = con.execute(sql, parameters)
    names = [column[0] for column in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _writer_lock(salvo: SalvoSettings) -> None:
    """One writing run at a time: take the lock (held until the run's process ends) or
    stop before reading or writing anything."""
    try:
        warehouse.acquire_writer_lock(salvo.working_path)
        warehouse.probe_writable(salvo.working_path)
    except (warehouse.WriterBusy, RuntimeError) as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from exc


@dataclass
class _RecordRow:
    """One row of seed_records."""

    record_index: int
    doc_id: str | None
    reason: str | None
    status: str = "quarantined"
    duplicate_of: str | None = None


@dataclass
class _File:
    """What this run knows about one file of the folder."""

    name: str
    row: dict[str, Any]  # its seed_files row
    seed: seeds.SeedFile | None = None
    records: list[_RecordRow] = field(default_factory=list)
    # Records read this run, by index; None when the bytes were unchanged and the ledger's
    # record rows were reused without decoding.
    parsed: dict[int, Record] | None = None
    # Still being written: its ledger row is kept, and nothing is read from it this run.
    frozen: bool = False


def _new_row(seed: seeds.SeedFile, previous: dict[str, Any] | None, now: dt.datetime) -> dict:
    first_seen = previous["first_seen"] if previous else now
    return {
        "source_file": seed.name,
        "content_hash": None,
        "status": "quarantined",
        "reason": seed.problem,
        "encoding": None,
        "documents": 0,
        "first_seen": first_seen,
        "last_seen": now,
        "size_bytes": seed.size,
        "replacements": None,
        "duplicate_of": None,
        "doc_id": None,
        "source_format": None,
        "records": 0,
        "quarantined_records": 0,
        "mtime_ns": seed.mtime_ns,
    }


# What _same_file looks at in a ledger row, in this order.
STAMP_COLUMNS = ("size_bytes", "mtime_ns", "content_hash", "status", "source_format")


def _same_file(previous: dict[str, Any] | None, seed: seeds.SeedFile) -> bool:
    """The size and modification time the ledger recorded when it last hashed the file
    (the test make and rsync use): its bytes are taken as unchanged without reading them."""
    return previous is not None and _same_stamp(tuple(previous.get(c) for c in STAMP_COLUMNS), seed)


def _unchanged(previous: dict[str, Any] | None, digest: str) -> bool:
    # Rows written before formats existed have no source_format: read those files again.
    return bool(
        previous
        and previous["content_hash"] == digest
        and previous["status"] != "deleted"
        and previous["source_format"] is not None
    )


def _same_stamp(stamp: tuple | None, seed: seeds.SeedFile) -> bool:
    """_same_file on a ledger row's STAMP_COLUMNS alone. Rows written before formats
    existed have no source_format: those files are read again."""
    if stamp is None:
        return False
    size, mtime_ns, content_hash, status, source_format = stamp
    return (
        mtime_ns == seed.mtime_ns
        and size == seed.size
        and content_hash is not None
        and status != "deleted"
        and source_format is not None
    )


def _ledger_rows(
    con: duckdb.DuckDBPyConnection, names: list[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """The seed_files rows of these files, and their seed_records rows in record order."""
    ledger = {
        r["source_file"]: r
        for r in _dicts(
            con, "SELECT * FROM seed_files WHERE source_file IN (SELECT unnest(?))", [names]
        )
    }
    records: dict[str, list[dict[str, Any]]] = {}
    for r in _dicts(
        con,
        "SELECT * FROM seed_records WHERE source_file IN (SELECT unnest(?)) "
        "ORDER BY source_file, record_index",
        [names],
    ):
        records.setdefault(r["source_file"], []).append(r)
    return ledger, records


def _reuse(file: _File, previous: dict[str, Any], records: list[dict[str, Any]]) -> None:
    """Same bytes as last run: take what the ledger learnt then, without decoding."""
    file.row.update(
        {k: previous[k] for k in ("encoding", "replacements", "source_format", "records")}
    )
    # no_content is the documents stage's verdict, recomputed each run: its records are
    # texts like any other here.
    file.records = [
        _RecordRow(r["record_index"], r["doc_id"], None if r["doc_id"] else r["reason"])
        for r in records
    ]
    if not any(r.doc_id for r in file.records):
        file.row["reason"] = previous["reason"]


def _parse(file: _File, data: bytes) -> None:
    """Decode the bytes and cut them into records."""
    decoded = decode_bytes(data)
    file.row.update(encoding=decoded.encoding, replacements=decoded.replacements)
    if decoded.text is None:
        file.row.update(reason=decoded.reason, source_format=detect_format(file.name, ""))
        return
    parsed = parse_file(file.name, decoded.text)
    file.row.update(source_format=parsed.source_format, records=len(parsed.records))
    file.parsed = {r.record_index: r for r in parsed.records if r.text is not None}
    file.records = [
        _RecordRow(r.record_index, seeds.document_id(r.text) if r.text else None, r.reason)
        for r in parsed.records
    ]
    if parsed.reason:
        file.row["reason"] = parsed.reason


def _read_again(file: _File, folder: Path) -> bool:
    """Parse a file whose records were reused, because one of its texts is now needed.
    False when it changed since it was hashed (it is then left for the next run)."""
    if file.seed is None:
        return False
    try:
        data = seeds.read_seed(file.seed, folder)
    except (seeds.ChangedWhileReading, OSError):
        return False
    if seeds.content_hash(data) != file.row["content_hash"]:
        return False
    _parse(file, data)
    return True


def _assign_owners(files: list[_File], blocked: set[tuple[str, int]]) -> dict[str, tuple[str, int]]:
    """One document per distinct text: the first record holding it, by file name then
    record index, owns it; every other record holding it is a duplicate."""
    owners: dict[str, tuple[str, int]] = {}
    for file in files:
        for record in file.records:
            key = (file.name, record.record_index)
            if record.doc_id is None or key in blocked:
                continue
            if record.doc_id not in owners or key < owners[record.doc_id]:
                owners[record.doc_id] = key
    return owners


def _set_statuses(files: list[_File], owners: dict[str, tuple[str, int]]) -> None:
    for file in files:
        owned = duplicates = 0
        first_original: str | None = None
        for record in file.records:
            if record.doc_id is None or record.doc_id not in owners:
                record.status, record.duplicate_of = "quarantined", None
                record.reason = record.reason or ("still_being_written" if file.frozen else None)
                continue
            owner = owners[record.doc_id]
            record.reason = None
            if owner == (file.name, record.record_index):
                record.status, record.duplicate_of = "ingested", None
                owned += 1
            else:
                record.status, record.duplicate_of = "duplicate", owner[0]
                duplicates += 1
                first_original = first_original or owner[0]
        if file.frozen:
            continue
        quarantined = sum(1 for r in file.records if r.status == "quarantined")
        file.row["quarantined_records"] = quarantined
        single = file.records[0].doc_id if len(file.records) == 1 else None
        file.row.update(documents=owned, doc_id=single, duplicate_of=None)
        if file.row["reason"] is not None:
            file.row["status"] = "quarantined"
        elif owned:
            file.row["status"] = "ingested"
        elif duplicates:
            file.row.update(status="duplicate", duplicate_of=first_original)
        else:
            file.row.update(status="quarantined", reason="no_text")


def _ledger_row_changed(previous: dict[str, Any] | None, row: dict[str, Any]) -> bool:
    """Whether the ledger row must be written again; last_seen alone does not count."""
    return previous is None or any(
        previous.get(column) != value for column, value in row.items() if column != "last_seen"
    )


def _deleted_row(previous: dict[str, Any]) -> dict[str, Any]:
    # last_seen keeps saying when the file was last in the folder.
    return {
        **previous,
        "status": "deleted",
        "reason": None,
        "documents": 0,
        "size_bytes": None,
        "mtime_ns": None,
        "duplicate_of": None,
        "quarantined_records": 0,
    }


def _sharing(
    files: list[_File],
    previous_records: dict[str, list[dict[str, Any]]],
    holders: dict[str, list[str]],
    quiet: set[str],
) -> list[str]:
    """The quiet files holding a text that a file looked at holds now or held last run."""
    texts = {r.doc_id for f in files for r in f.records if r.doc_id}
    texts |= {r["doc_id"] for rs in previous_records.values() for r in rs if r["doc_id"]}
    return sorted({name for d in texts for name in holders.get(d, ()) if name in quiet})


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "seed_files",
            description=(
                "The ledger: one row per file ever seen in the seeds folder (key: source_file). "
                "status is ingested, duplicate (every text it holds is held by another file), "
                "quarantined (with a reason: empty, binary, undecodable, no_content, no_text, "
                "bad_json, too_large, outside_seeds, broken_link, bad_name, unreadable) or "
                "deleted (gone from the folder). documents counts the documents it yielded."
            ),
            group_name="ingest",
            kinds={"duckdb", "python"},
        ),
        dg.AssetSpec(
            "seed_records",
            description=(
                "One row per record found in a file (key: source_file, record_index): a text "
                "file has one, a JSON or JSONL crawl dump one per article. status is ingested "
                "(doc_id is the document), duplicate (duplicate_of names the file holding the "
                "same text first) or quarantined with a reason (no_text, bad_json, empty, "
                "no_content)."
            ),
            group_name="ingest",
            kinds={"duckdb", "python"},
        ),
        dg.AssetSpec(
            "raw_documents",
            description=(
                "One row per distinct decoded text (key: doc_id, a hash of the text), with the "
                "encoding it was read in, the file and record it came from, and the metadata "
                "that record states (title, outlet, published, url)."
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
    """Read every file of the seeds folder: hash, decode, split into records, quarantine,
    deduplicate, and remove what left the folder, in one transaction."""
    _writer_lock(salvo)
    folder = salvo.seeds_path
    ready, settling = seeds.settle(seeds.list_seed_files(folder))
    context.log.info(f"Found {len(ready) + len(settling)} files in {folder}")
    now = _now()
    # A full-check run (the daily schedule's) reads and hashes every file, whatever its
    # size and modification time say, and looks at every ledger row again.
    rehash = context.run.tags.get(CHECKS_TAG) == FULL
    with duckdb.get_connection() as con:
        every_row = rehash or warehouse.get_state(con, LEDGER_STATE) != LEDGER_VERSION
        stamps = {
            row[0]: row[1:]
            for row in con.execute(
                f"SELECT source_file, {', '.join(STAMP_COLUMNS)} FROM seed_files"
            ).fetchall()
        }
        holders: dict[str, list[str]] = {}
        for name, doc_id in con.execute(
            "SELECT source_file, doc_id FROM seed_records WHERE doc_id IS NOT NULL"
        ).fetchall():
            holders.setdefault(doc_id, []).append(name)
        # A text held back (no_content, the documents stage's verdict recomputed each run;
        # a file that could not be read again) is tried again each run: never quiet.
        retried = {
            r[0]
            for r in con.execute(
                "SELECT source_file FROM seed_records WHERE doc_id IS NOT NULL AND status = "
                "'quarantined' UNION SELECT source_file FROM seed_files WHERE reason = "
                "'no_content'"
            ).fetchall()
        }
        # Quiet: same size and modification time as the ledger recorded when it hashed the
        # file. Its rows are what the last run wrote and stay so (last_seen apart), unless
        # it shares a text with a file that is not quiet; only the others are looked at.
        quiet = (
            set()
            if every_row
            else {
                seed.name
                for seed in ready
                if seed.problem is None
                and seed.name not in retried
                and _same_stamp(stamps.get(seed.name), seed)
            }
        )
        loud = sorted((stamps.keys() | {s.name for s in ready}) - quiet)
        ledger, previous_records = _ledger_rows(con, loud)
        known = {
            doc_id: ((source_file, record_index), ingested_at)
            for doc_id, source_file, record_index, ingested_at in con.execute(
                "SELECT doc_id, source_file, record_index, ingested_at FROM raw_documents"
            ).fetchall()
        }

    files: list[_File] = []
    changed = unread = 0
    last_progress = time.monotonic()
    for number, seed in enumerate(ready, start=1):
        if seed.name in quiet:
            continue
        previous = ledger.get(seed.name)
        file = _File(seed.name, _new_row(seed, previous, now), seed=seed)
        if seed.problem is None and previous and not rehash and _same_file(previous, seed):
            file.row["content_hash"] = previous["content_hash"]
            _reuse(file, previous, previous_records.get(seed.name, []))
            unread += 1
        elif seed.problem is None:
            try:
                data = seeds.read_seed(seed, folder)
            except (seeds.ChangedWhileReading, FileNotFoundError):
                # Still being written, or removed since the listing: the next run will know.
                settling.append(seed)
                continue
            except OSError as exc:
                context.log.warning(f"Cannot read {seed.name!r}: {exc}")
                file.row["reason"] = "unreadable"
            else:
                digest = seeds.content_hash(data)
                file.row["content_hash"] = digest
                if previous is not None and _unchanged(previous, digest):
                    _reuse(file, previous, previous_records.get(seed.name, []))
                else:
                    changed += 1
                    _parse(file, data)
                del data
        files.append(file)
        if time.monotonic() - last_progress >= PROGRESS_SECONDS:
            last_progress = time.monotonic()
            context.log.info(f"Looked at {number}/{len(ready)} files ({changed} new or changed)")

    # A file still being written keeps its ledger row and its documents until it settles.
    for seed in settling:
        previous = ledger.get(seed.name)
        if previous is not None and previous["status"] != "deleted":
            file = _File(seed.name, dict(previous), seed=seed, frozen=True)
            file.records = [
                _RecordRow(r["record_index"], r["doc_id"], r["reason"])
                for r in previous_records.get(seed.name, [])
            ]
            files.append(file)
    if settling:
        names = ", ".join(repr(s.name) for s in settling[:SHOWN_NAMES])
        context.log.info(f"Left for the next run, still being written: {names}")

    # A quiet file sharing a text with a file looked at (a copy of a new text, another
    # holder of one that left) is looked at too, and so on through the texts it holds:
    # every holder of a text whose owner may change is below.
    seed_of = {s.name: s for s in ready}
    while pulled := _sharing(files, previous_records, holders, quiet):
        with duckdb.get_connection() as con:
            more_ledger, more_records = _ledger_rows(con, pulled)
        ledger.update(more_ledger)
        previous_records.update(more_records)
        for name in pulled:
            quiet.discard(name)
            seed, previous = seed_of[name], ledger[name]
            file = _File(name, _new_row(seed, previous, now), seed=seed)
            file.row["content_hash"] = previous["content_hash"]
            _reuse(file, previous, previous_records.get(name, []))
            unread += 1
            files.append(file)
    unread += len(quiet)

    # Owners, and the texts that must be (re)written: new documents, and documents whose
    # owning record changed (its metadata may differ). A text only a reused file holds is
    # read again; a file that cannot give its text now is left out of this round.
    by_name = {f.name: f for f in files}
    blocked: set[tuple[str, int]] = set()
    while True:
        owners = _assign_owners(files, blocked)
        needed = {d: o for d, o in owners.items() if d not in known or known[d][0] != o}
        newly_blocked = set()
        for owner in sorted(set(needed.values())):
            file = by_name[owner[0]]
            if file.parsed is None and (file.frozen or not _read_again(file, folder)):
                newly_blocked |= {(file.name, r.record_index) for r in file.records}
        if not newly_blocked:
            break
        blocked |= newly_blocked
    _set_statuses(files, owners)

    present = {f.name for f in files} | quiet
    deleted = [_deleted_row(p) for name, p in ledger.items() if name not in present]
    # A quiet file's texts keep their owners (none of them is held by a file looked at).
    gone = sorted(
        d for d in set(known) - set(owners) if not any(name in quiet for name in holders.get(d, ()))
    )
    raw_rows = []
    for doc_id, (name, index) in sorted(needed.items()):
        file = by_name[name]
        record = (file.parsed or {})[index]
        text = record.text or ""
        raw_rows.append(
            {
                "doc_id": doc_id,
                "source_file": name,
                "content_hash": file.row["content_hash"],
                "encoding": file.row["encoding"] or "",
                "raw_text": text,
                "characters": len(text),
                # ingested_at is when this text first arrived, whichever file holds it now.
                "ingested_at": known[doc_id][1] if doc_id in known else now,
                "record_index": index,
                "source_format": file.row["source_format"],
                "title": record.title,
                "outlet": record.outlet,
                "published": record.published,
                "date_precision": record.date_precision,
                "url": record.url,
            }
        )
    # Only what changed is written: a run that adds one file to 10k rewrites two ledger
    # rows, and moves last_seen of the others with one UPDATE.
    rows = [f.row for f in files] + deleted
    rewritten = [r for r in rows if _ledger_row_changed(ledger.get(r["source_file"]), r)]
    written = {r["source_file"] for r in rewritten}
    seen_again = [
        r["source_file"]
        for r in rows
        if r["source_file"] not in written
        and r["last_seen"] == now
        and ledger[r["source_file"]]["last_seen"] != now
    ] + sorted(quiet)
    # Record rows as tuples in RECORD_COLUMNS order, for the files looked at.
    stored = operator.itemgetter(*RECORD_COLUMNS)
    records_before = {name: [stored(r) for r in rs] for name, rs in previous_records.items()}
    records_now = {
        f.name: [(r.record_index, r.status, r.reason, r.doc_id, r.duplicate_of) for r in f.records]
        for f in files
    }
    records_changed = sorted(
        name
        for name in records_now.keys() | records_before.keys()
        if records_before.get(name, []) != records_now.get(name, [])
    )
    ledger_frame = pl.DataFrame(rewritten, schema=LEDGER_SCHEMA)
    records_frame = pl.DataFrame(
        [(name, *r) for name in records_changed for r in records_now.get(name, [])],
        schema={"source_file": pl.String, **{c: RECORDS_SCHEMA[c] for c in RECORD_COLUMNS}},
        orient="row",
    )
    raw_frame = pl.DataFrame(raw_rows, schema=RAW_SCHEMA)
    del raw_rows, rows, records_now, records_before
    with duckdb.get_connection() as con:
        with warehouse.transaction(con):
            warehouse.delete_documents(con, gone)
            warehouse.replace_rows(con, "seed_files", ledger_frame, "source_file")
            if seen_again:
                con.execute(
                    "UPDATE seed_files SET last_seen = ? WHERE source_file IN (SELECT unnest(?))",
                    [now, seen_again],
                )
            warehouse.replace_rows(
                con, "seed_records", records_frame, "source_file", keys=records_changed
            )
            warehouse.replace_rows(con, "raw_documents", raw_frame, "doc_id")
            warehouse.set_state(con, LEDGER_STATE, LEDGER_VERSION)
        counts = dict(
            con.execute("SELECT status, count(*) FROM seed_files GROUP BY status").fetchall()
        )
        reasons = dict(
            con.execute(
                "SELECT reason, count(*) FROM seed_files WHERE status = 'quarantined' GROUP BY 1"
            ).fetchall()
        )
        ledger_meta = table_metadata(con, "seed_files", order_by="source_file")
        records_meta = table_metadata(con, "seed_records", order_by="source_file")
        raw_meta = table_metadata(
            con,
            "raw_documents",
            order_by="source_file",
            preview_columns=[
                "doc_id",
                "source_file",
                "record_index",
                "source_format",
                "encoding",
                "title",
                "characters",
                "ingested_at",
            ],
        )
    new_documents = sum(1 for d in needed if d not in known)
    context.log.info(
        f"Ledger: {counts}; {new_documents} new documents, {len(gone)} removed, "
        f"{changed} new or changed files, {len(settling)} still being written, {unread} not "
        "read again (same size and modification time as last run)"
    )
    yield dg.MaterializeResult(
        asset_key="seed_files",
        metadata={
            **ledger_meta,
            **{f"files_{status}": n for status, n in sorted(counts.items())},
            "quarantine_reasons": dg.MetadataValue.json(reasons),
            "new_or_changed_files": changed,
            "still_being_written": len(settling),
        },
    )
    yield dg.MaterializeResult(asset_key="seed_records", metadata=records_meta)
    yield dg.MaterializeResult(
        asset_key="raw_documents",
        metadata={
            **raw_meta,
            "new_documents": new_documents,
            "rewritten_documents": len(needed) - new_documents,
            "removed_documents": len(gone),
        },
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
    "source_format": pl.String,
    "records": pl.Int32,
    "quarantined_records": pl.Int32,
    "mtime_ns": pl.Int64,
}
RECORD_COLUMNS = ("record_index", "status", "reason", "doc_id", "duplicate_of")
RECORDS_SCHEMA: dict[str, Any] = {
    "source_file": pl.String,
    "record_index": pl.Int32,
    "status": pl.String,
    "reason": pl.String,
    "doc_id": pl.String,
    "duplicate_of": pl.String,
}
RAW_SCHEMA: dict[str, Any] = {
    "doc_id": pl.String,
    "source_file": pl.String,
    "content_hash": pl.String,
    "encoding": pl.String,
    "raw_text": pl.String,
    "characters": pl.Int32,
    "ingested_at": pl.Datetime("us"),
    "record_index": pl.Int32,
    "source_format": pl.String,
    "title": pl.String,
    "outlet": pl.String,
    "published": pl.String,
    "date_precision": pl.String,
    "url": pl.String,
}


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


# The manifest lookup of the current run, for _prepare_document in forked workers.
_MANIFEST_ROW: Any = None


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


def _clean_batches(duckdb: WorkingDuckDB, todo: list[str], pool: Any) -> tuple[int, list[str]]:
    """Clean and date the given raw texts: one read and one transaction per
    CLEAN_BATCH_DOCUMENTS texts. Returns the documents written and the texts left empty."""
    cleaned_count = 0
    no_content: list[str] = []
    for first in range(0, len(todo), CLEAN_BATCH_DOCUMENTS):
        batch = todo[first : first + CLEAN_BATCH_DOCUMENTS]
        with duckdb.get_connection() as con:
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
        frame = pl.DataFrame(rows, schema=DOCUMENT_SCHEMA)
        del rows
        with duckdb.get_connection() as con:
            with warehouse.transaction(con):
                # A text that is all boilerplate yields no document: its file or record is
                # quarantined as no_content below, and nothing of it stays downstream.
                warehouse.delete_documents(con, empty, tables=CONTENT_TABLES)
                warehouse.replace_rows(con, "documents", frame, "doc_id")
        cleaned_count += frame.height
        no_content += empty
    return cleaned_count, no_content


@dg.asset(
    deps=["raw_documents"],
    group_name="ingest",
    kinds={"duckdb", "python"},
    pool="duckdb",
)
def documents(context: dg.AssetExecutionContext, salvo: SalvoSettings, duckdb: WorkingDuckDB):
    """One row per distinct article (key: doc_id): the cleaned text sentences index into,
    with title, outlet and publication date. Metadata comes from manifest.csv first, then
    from the record (a JSON field, HTML meta tags, Markdown front matter), then from the
    text (headline, dateline, credits); a date never found stays null (date_source =
    unknown), never the day of ingestion."""
    _writer_lock(salvo)
    manifest_text = seeds.read_manifest_text(salvo.seeds_path)
    manifest = {}
    if manifest_text:
        try:
            manifest = parse_manifest(manifest_text)
        except ValueError as exc:
            # A broken manifest must not stop ingestion: dates then come from the text.
            context.log.warning(f"Ignoring {seeds.MANIFEST_NAME}: {exc}")
    manifest_row = _manifest_lookup(manifest)
    fingerprint = f"{CLEANER_VERSION}:{seeds.content_hash((manifest_text or '').encode())}"
    with duckdb.get_connection() as con:
        redo_all = warehouse.get_state(con, "documents_fingerprint") != fingerprint
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
    global _MANIFEST_ROW
    _MANIFEST_ROW = manifest_row
    # Cleaning and dating take about 2 ms per text: a large first run uses every core.
    # The workers are forked here, while no DuckDB connection is open.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    pool = (
        multiprocessing.get_context("fork").Pool(min(cores, 8))
        if cores > 1 and len(todo) >= PARALLEL_CLEAN_MIN_DOCUMENTS
        else None
    )
    try:
        cleaned_count, no_content = _clean_batches(duckdb, todo, pool)
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    with duckdb.get_connection() as con:
        with warehouse.transaction(con):
            _mark_no_content(con)
            warehouse.set_state(con, "documents_fingerprint", fingerprint)
            # The rows written above, and any without one (from before the column, or by
            # hand), get their text_hash; a full-check run also mends any that no longer
            # matches its text.
            rehash = context.run.tags.get(CHECKS_TAG) == FULL
            text_hash = warehouse.TEXT_HASH
            con.execute(
                f"UPDATE documents SET text_hash = {text_hash} WHERE text_hash IS NULL"
                + (f" OR text_hash <> {text_hash}" if rehash else "")
            )
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
                "record_index",
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
        f"Cleaned {cleaned_count} documents ({len(no_content)} had no content); {total} in "
        f"all, {dated} dated ({from_meta} from metadata, {from_text} from the text)"
    )
    return dg.MaterializeResult(
        metadata={
            **meta_out,
            "cleaned_this_run": cleaned_count,
            "no_content": len(no_content),
            "dated_documents": dated,
            "undated_documents": total - dated,
            "dates_from_text": from_text,
            "dates_from_metadata": from_meta,
        }
    )


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
    "record_index": pl.Int32,
    "text_hash": pl.UInt64,  # taken by DuckDB at the end of the stage (warehouse.TEXT_HASH)
}
