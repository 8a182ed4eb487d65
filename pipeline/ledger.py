"""The ledger: every file of the seeds folder, reconciled with what the last run recorded.

One call reads the folder (hashing only files whose size or modification time moved),
decodes and splits new or changed files into records, gives each distinct text one owning
record (the others are duplicates), quarantines what cannot be read, and removes the
documents of files that left the folder, all written in one transaction: `seed_files`,
`seed_records` and `raw_documents`. The folder's listing is compared with the ledger in
DuckDB, so the per-file Python work follows the files that are not quiet (new, moved,
removed, held back), not the size of the folder.
"""

from __future__ import annotations

import datetime as dt
import operator
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipeline import schema, seeds, warehouse
from pipeline.ledger_files import (
    QUIET_SQL,
    RECORD_COLUMNS,
    File,
    RecordRow,
    assign_owners,
    deleted_row,
    held_texts,
    holders_of,
    ledger_row_changed,
    ledger_rows,
    new_row,
    parse,
    read_again,
    reuse,
    same_file,
    set_statuses,
    sharing,
    unchanged,
)

# A progress line while files are read, at most this often: a run that reads nothing new
# logs none (each line is an event the orchestrator stores).
PROGRESS_SECONDS = 5.0
# File names listed in a log line at most.
SHOWN_NAMES = 20
# Bump when what the ledger derives from a file's records changes: the next run looks at
# every file again instead of leaving the quiet ones (unchanged since hashed) as they are.
LEDGER_VERSION = "ledger.v1"
LEDGER_STATE = "ledger_version"

Connect = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]


@dataclass(frozen=True)
class LedgerRun:
    """What one reconciliation found and wrote."""

    counts: dict[str, int]  # seed_files rows by status, after the run
    reasons: dict[str, int]  # quarantined files by reason
    new_documents: int
    rewritten_documents: int
    removed_documents: int
    changed_files: int
    still_being_written: int


# raw_documents rows whose text no quiet file holds.
UNHELD_SQL = """
SELECT doc_id FROM raw_documents d WHERE NOT EXISTS (
  SELECT 1 FROM seed_records r JOIN salvo_quiet q ON q.name = r.source_file
  WHERE r.doc_id = d.doc_id
)
"""


def _names_frame(names: list[str]) -> pl.DataFrame:
    return pl.DataFrame({"name": names}, schema={"name": pl.String})


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def reconcile(
    connect: Connect, folder: Path, rehash: bool, log: Callable[[str], None]
) -> LedgerRun:
    """Bring the ledger and raw_documents up to date with the folder.

    Args:
        connect: opens a connection to the working database (a context manager).
        rehash: read and hash every file, whatever its size and modification time say,
            and look at every ledger row again (the daily full-check run).
        log: receives progress lines.
    """
    ready, settling = seeds.settle(seeds.list_seed_files(folder))
    log(f"Found {len(ready) + len(settling)} files in {folder}")
    now_ = now()
    names, _, sizes, mtimes, problems, _ = zip(*ready, strict=True) if ready else ([],) * 6
    listing = pl.DataFrame(
        {
            "name": names,
            "size": sizes,
            "mtime_ns": mtimes,
            "readable": [problem is None for problem in problems],
        },
        schema={"name": pl.String, "size": pl.Int64, "mtime_ns": pl.Int64, "readable": pl.Boolean},
    )
    del names, sizes, mtimes, problems
    with connect() as con:
        # Quiet (QUIET_SQL): a file as the ledger last hashed it. Its rows stay what the
        # last run wrote (last_seen apart) unless it shares a text with a file looked at.
        # The listing meets the ledger in the database: Python sees only the other files.
        con.register("salvo_listing", listing.to_arrow())
        every_row = rehash or warehouse.get_state(con, LEDGER_STATE) != LEDGER_VERSION
        quiet_names = [] if every_row else [r[0] for r in con.execute(QUIET_SQL).fetchall()]
        quiet = set(quiet_names)
        con.register("salvo_quiet", _names_frame(quiet_names).to_arrow())
        loud = sorted(
            r[0]
            for r in con.execute(
                "SELECT source_file FROM seed_files UNION SELECT name FROM salvo_listing "
                "EXCEPT SELECT name FROM salvo_quiet"
            ).fetchall()
        )
        del quiet_names
        ledger, previous_records = ledger_rows(con, loud)

    files: list[File] = []
    changed = unread = 0
    last_progress = time.monotonic()
    for number, seed in enumerate(ready, start=1):
        if seed.name in quiet:
            continue
        previous = ledger.get(seed.name)
        file = File(seed.name, new_row(seed, previous, now_), seed=seed)
        if seed.problem is None and previous and not rehash and same_file(previous, seed):
            file.row["content_hash"] = previous["content_hash"]
            reuse(file, previous, previous_records.get(seed.name, []))
            unread += 1
        elif seed.problem is None:
            try:
                data = seeds.read_seed(seed, folder)
            except (seeds.ChangedWhileReading, FileNotFoundError):
                # Still being written, or removed since the listing: the next run will know.
                settling.append(seed)
                continue
            except OSError as exc:
                log(f"Cannot read {seed.name!r}: {exc}")
                file.row["reason"] = "unreadable"
            else:
                digest = seeds.content_hash(data)
                file.row["content_hash"] = digest
                if previous is not None and unchanged(previous, digest):
                    reuse(file, previous, previous_records.get(seed.name, []))
                else:
                    changed += 1
                    parse(file, data)
                del data
        files.append(file)
        if time.monotonic() - last_progress >= PROGRESS_SECONDS:
            last_progress = time.monotonic()
            log(f"Looked at {number}/{len(ready)} files ({changed} new or changed)")

    # A file still being written keeps its ledger row and its documents until it settles.
    for seed in settling:
        previous = ledger.get(seed.name)
        if previous is not None and previous["status"] != "deleted":
            file = File(seed.name, dict(previous), seed=seed, frozen=True)
            file.records = [
                RecordRow(r["record_index"], r["doc_id"], r["reason"])
                for r in previous_records.get(seed.name, [])
            ]
            files.append(file)
    if settling:
        names = ", ".join(repr(s.name) for s in settling[:SHOWN_NAMES])
        log(f"Left for the next run, still being written: {names}")

    # A quiet file sharing a text with a file looked at (a copy of a new text, another
    # holder of one that left) is looked at too, and so on through the texts it holds:
    # every holder of a text whose owner may change is below.
    holders: dict[str, list[str]] = {}
    asked: set[str] = set()
    seed_of: dict[str, seeds.SeedFile] | None = None
    while True:
        if texts := held_texts(files, previous_records) - asked:
            with connect() as con:
                holders.update(holders_of(con, texts))
            asked |= texts
        pulled = sharing(files, previous_records, holders, quiet)
        if not pulled:
            break
        with connect() as con:
            more_ledger, more_records = ledger_rows(con, pulled)
        ledger.update(more_ledger)
        previous_records.update(more_records)
        seed_of = seed_of or {s.name: s for s in ready}
        for name in pulled:
            quiet.discard(name)
            seed, previous = seed_of[name], ledger[name]
            file = File(name, new_row(seed, previous, now_), seed=seed)
            file.row["content_hash"] = previous["content_hash"]
            reuse(file, previous, previous_records.get(name, []))
            unread += 1
            files.append(file)
    unread += len(quiet)
    quiet_frame = _names_frame(sorted(quiet)).to_arrow()
    with connect() as con:
        con.register("salvo_quiet", quiet_frame)
        known = {
            doc_id: ((source_file, record_index), ingested_at)
            for doc_id, source_file, record_index, ingested_at in con.execute(
                "SELECT doc_id, source_file, record_index, ingested_at FROM raw_documents "
                "WHERE doc_id IN (SELECT unnest(?))",
                [sorted(held_texts(files, {}))],
            ).fetchall()
        }
        # Documents no quiet file holds: the only ones that may have to go.
        unheld = [r[0] for r in con.execute(UNHELD_SQL).fetchall()]

    # Owners, and the texts that must be (re)written: new documents, and documents whose
    # owning record changed (its metadata may differ). A text only a reused file holds is
    # read again; a file that cannot give its text now_ is left out of this round.
    by_name = {f.name: f for f in files}
    blocked: set[tuple[str, int]] = set()
    while True:
        owners = assign_owners(files, blocked)
        needed = {d: o for d, o in owners.items() if d not in known or known[d][0] != o}
        newly_blocked = set()
        for owner in sorted(set(needed.values())):
            file = by_name[owner[0]]
            if file.parsed is None and (file.frozen or not read_again(file, folder)):
                newly_blocked |= {(file.name, r.record_index) for r in file.records}
        if not newly_blocked:
            break
        blocked |= newly_blocked
    set_statuses(files, owners)

    looked_at = {f.name for f in files}
    deleted = [
        deleted_row(p) for name, p in ledger.items() if name not in looked_at and name not in quiet
    ]
    # A quiet file's texts keep their owners (none of them is held by a file looked at).
    gone = sorted(d for d in unheld if d not in owners)
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
                # ingested_at is when this text first arrived, whichever file holds it now_.
                "ingested_at": known[doc_id][1] if doc_id in known else now_,
                "record_index": index,
                "source_format": file.row["source_format"],
                "title": record.title,
                "outlet": record.outlet,
                "published": record.published,
                "date_precision": record.date_precision,
                "url": record.url,
            }
        )
    # Only what changed is written: a run that adds one file rewrites its ledger rows and
    # moves last_seen of the others with one UPDATE.
    rows = [f.row for f in files] + deleted
    rewritten = [r for r in rows if ledger_row_changed(ledger.get(r["source_file"]), r)]
    written = {r["source_file"] for r in rewritten}
    seen_again = [
        r["source_file"]
        for r in rows
        if r["source_file"] not in written
        and r["last_seen"] == now_
        and ledger[r["source_file"]]["last_seen"] != now_
    ]
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
    ledger_frame = schema.frame("seed_files", rewritten)
    records_frame = pl.DataFrame(
        [(name, *r) for name in records_changed for r in records_now.get(name, [])],
        schema=schema.polars_schema("seed_records"),
        orient="row",
    )
    raw_frame = schema.frame("raw_documents", raw_rows)
    new_documents = sum(1 for d in needed if d not in known)
    del raw_rows, records_now, records_before
    with connect() as con:
        con.register("salvo_quiet", quiet_frame)
        with warehouse.transaction(con):
            warehouse.delete_documents(con, gone)
            warehouse.replace_rows(con, "seed_files", ledger_frame, "source_file")
            if seen_again:
                con.execute(
                    "UPDATE seed_files SET last_seen = ? WHERE source_file IN (SELECT unnest(?))",
                    [now_, seen_again],
                )
            if quiet:
                con.execute(
                    "UPDATE seed_files SET last_seen = ? WHERE source_file IN "
                    "(SELECT name FROM salvo_quiet)",
                    [now_],
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
    log(
        f"Ledger: {counts}; {new_documents} new documents, {len(gone)} removed, "
        f"{changed} new or changed files, {len(settling)} still being written, {unread} not "
        "read again (same size and modification time as last run)"
    )
    return LedgerRun(
        counts=counts,
        reasons=reasons,
        new_documents=new_documents,
        rewritten_documents=len(needed) - new_documents,
        removed_documents=len(gone),
        changed_files=changed,
        still_being_written=len(settling),
    )
