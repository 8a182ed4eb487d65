"""The ledger's view of one file: its seed_files row, its records, and the rules that say
whether it changed and which record owns each text."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from pipeline import seeds
from pipeline.text.decode import decode_bytes
from pipeline.text.formats import Record, detect_format, parse_file

# What same_file looks at in a ledger row, in this order.
STAMP_COLUMNS = ("size_bytes", "mtime_ns", "content_hash", "status", "source_format")
# A seed_records row as compared between runs: its columns after source_file.
RECORD_COLUMNS = ("record_index", "status", "reason", "doc_id", "duplicate_of")


def dicts(
    con: duckdb.DuckDBPyConnection, sql: str, parameters: list | None = None
) -> list[dict[str, Any]]:
    cursor = con.execute(sql, parameters)
    names = [column[0] for column in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@dataclass
class RecordRow:
    """One row of seed_records."""

    record_index: int
    doc_id: str | None
    reason: str | None
    status: str = "quarantined"
    duplicate_of: str | None = None


@dataclass
class File:
    """What this run knows about one file of the folder."""

    name: str
    row: dict[str, Any]  # its seed_files row
    seed: seeds.SeedFile | None = None
    records: list[RecordRow] = field(default_factory=list)
    # Records read this run, by index; None when the bytes were unchanged and the ledger's
    # record rows were reused without decoding.
    parsed: dict[int, Record] | None = None
    # Still being written: its ledger row is kept, and nothing is read from it this run.
    frozen: bool = False


def new_row(seed: seeds.SeedFile, previous: dict[str, Any] | None, now: dt.datetime) -> dict:
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


def same_file(previous: dict[str, Any] | None, seed: seeds.SeedFile) -> bool:
    """The size and modification time the ledger recorded when it last hashed the file
    (the test make and rsync use): its bytes are taken as unchanged without reading them."""
    return previous is not None and same_stamp(tuple(previous.get(c) for c in STAMP_COLUMNS), seed)


def unchanged(previous: dict[str, Any] | None, digest: str) -> bool:
    # Rows written before formats existed have no source_format: read those files again.
    return bool(
        previous
        and previous["content_hash"] == digest
        and previous["status"] != "deleted"
        and previous["source_format"] is not None
    )


def same_stamp(stamp: tuple | None, seed: seeds.SeedFile) -> bool:
    """same_file on a ledger row's STAMP_COLUMNS alone. Rows written before formats
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


# same_stamp for the whole listing at once (the listing registered as salvo_listing): the
# quiet files, readable, with the size and modification time the ledger recorded when it
# hashed them, and no text held back (no_content, the documents stage's verdict recomputed
# each run; a record that could not be read again): those are tried again each run.
QUIET_SQL = """
SELECT l.name FROM salvo_listing l JOIN seed_files s ON s.source_file = l.name
WHERE l.readable AND s.size_bytes = l.size AND s.mtime_ns = l.mtime_ns
  AND s.content_hash IS NOT NULL AND s.status <> 'deleted' AND s.source_format IS NOT NULL
  AND s.reason IS DISTINCT FROM 'no_content'
  AND NOT EXISTS (
    SELECT 1 FROM seed_records r
    WHERE r.source_file = l.name AND r.doc_id IS NOT NULL AND r.status = 'quarantined'
  )
"""


def ledger_rows(
    con: duckdb.DuckDBPyConnection, names: list[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """The seed_files rows of these files, and their seed_records rows in record order."""
    ledger = {
        r["source_file"]: r
        for r in dicts(
            con, "SELECT * FROM seed_files WHERE source_file IN (SELECT unnest(?))", [names]
        )
    }
    records: dict[str, list[dict[str, Any]]] = {}
    for r in dicts(
        con,
        "SELECT * FROM seed_records WHERE source_file IN (SELECT unnest(?)) "
        "ORDER BY source_file, record_index",
        [names],
    ):
        records.setdefault(r["source_file"], []).append(r)
    return ledger, records


def reuse(file: File, previous: dict[str, Any], records: list[dict[str, Any]]) -> None:
    """Same bytes as last run: take what the ledger learnt then, without decoding."""
    file.row.update(
        {k: previous[k] for k in ("encoding", "replacements", "source_format", "records")}
    )
    # no_content is the documents stage's verdict, recomputed each run: its records are
    # texts like any other here.
    file.records = [
        RecordRow(r["record_index"], r["doc_id"], None if r["doc_id"] else r["reason"])
        for r in records
    ]
    if not any(r.doc_id for r in file.records):
        file.row["reason"] = previous["reason"]


def parse(file: File, data: bytes) -> None:
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
        RecordRow(r.record_index, seeds.document_id(r.text) if r.text else None, r.reason)
        for r in parsed.records
    ]
    if parsed.reason:
        file.row["reason"] = parsed.reason


def read_again(file: File, folder: Path) -> bool:
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
    parse(file, data)
    return True


def assign_owners(files: list[File], blocked: set[tuple[str, int]]) -> dict[str, tuple[str, int]]:
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


def set_statuses(files: list[File], owners: dict[str, tuple[str, int]]) -> None:
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


def ledger_row_changed(previous: dict[str, Any] | None, row: dict[str, Any]) -> bool:
    """Whether the ledger row must be written again; last_seen alone does not count."""
    return previous is None or any(
        previous.get(column) != value for column, value in row.items() if column != "last_seen"
    )


def deleted_row(previous: dict[str, Any]) -> dict[str, Any]:
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


def held_texts(files: list[File], previous_records: dict[str, list[dict[str, Any]]]) -> set[str]:
    """The texts the files looked at hold now or held last run."""
    texts = {r.doc_id for f in files for r in f.records if r.doc_id}
    return texts | {r["doc_id"] for rs in previous_records.values() for r in rs if r["doc_id"]}


def holders_of(con: duckdb.DuckDBPyConnection, texts: set[str]) -> dict[str, list[str]]:
    """The files whose ledger records hold each of these texts."""
    holders: dict[str, list[str]] = {}
    for name, doc_id in con.execute(
        "SELECT source_file, doc_id FROM seed_records WHERE doc_id IN (SELECT unnest(?))",
        [sorted(texts)],
    ).fetchall():
        holders.setdefault(doc_id, []).append(name)
    return holders


def sharing(
    files: list[File],
    previous_records: dict[str, list[dict[str, Any]]],
    holders: dict[str, list[str]],
    quiet: set[str],
) -> list[str]:
    """The quiet files holding a text that a file looked at holds now or held last run."""
    texts = held_texts(files, previous_records)
    return sorted({name for d in texts for name in holders.get(d, ()) if name in quiet})
