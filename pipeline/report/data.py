"""What the evidence report shows, read from a published warehouse (read-only).

Every table is read by the columns it has (DuckDB's catalogue says which): a column the
report knows but the warehouse lacks reads as null, and a column the report does not know
(a future `weapon_system`, event dates) is carried along and shown as it is. Rows are
sorted here, in Python, so the same warehouse always gives the same report whatever order
the marts appended their rows in.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from pipeline.report.files import Chart, read_actor_names, read_charts

# The relations arms_transfers counts (sql/models/arms_transfers.sql), for a warehouse
# whose arms_transfers has no `relations` column to say so row by row.
TRANSFER_RELATIONS = ("supply", "purchase", "use")
# The entity labels highlighted in a claim's sentence (lexicon matches).
HIGHLIGHT_LABELS = ("ACTOR", "WEAPON")

TRANSFER_COLUMNS = (
    "supplier",
    "recipient",
    "weapon_class",
    "first_month",
    "last_month",
    "claims",
    "documents",
    "independent_stories",
    "outlets",
    "claimants",
    "largest_quantity",
    "largest_quantity_text",
    "hedged_share",
    "denied",
    "denied_claims",
    "relations",
)
CORROBORATION_COLUMNS = (
    "relation",
    "supplier",
    "recipient",
    "weapon_class",
    "claims",
    "documents",
    "independent_stories",
    "outlets",
    "first_seen",
    "last_seen",
    "max_quantity",
    "sources",
    "hedged_claims",
    "negated_claims",
)
CLAIM_COLUMNS = (
    "claim_id",
    "relation",
    "supplier",
    "recipient",
    "weapon_class",
    "weapon_text",
    "quantity",
    "quantity_text",
    "attributed_to",
    "hedged",
    "negated",
    "sentence",
    "title",
    "outlet",
    "published_date",
    "date_precision",
    "month",
    "source_file",
    "url",
    "story_id",
    "doc_id",
    "sentence_id",
    "sentence_start_char",
    "sentence_end_char",
    "trigger_text",
    "extractor_version",
)
# Bookkeeping columns of the marts engine, never shown.
HIDDEN_COLUMNS = frozenset({"digest"})


@dataclass(frozen=True)
class Span:
    """A highlighted mention: [start, end) in the sentence's own characters."""

    start: int
    end: int
    label: str  # ACTOR or WEAPON
    code: str | None  # actor_code or weapon_class
    text: str


@dataclass
class Claim:
    row: dict[str, Any]
    spans: list[Span] = field(default_factory=list)


@dataclass
class Group:
    """A register row (arms_transfers) or a claim_corroboration row outside the register,
    with the claims behind it and (for a transfer) its claim_corroboration rows."""

    row: dict[str, Any]
    claims: list[Claim] = field(default_factory=list)
    corroboration: list[dict[str, Any]] = field(default_factory=list)
    # How many claims are behind the row, and how many of them deny it; `claims` may hold
    # a sample of them.
    total: int = 0
    denied: int = 0


@dataclass(frozen=True)
class Limits:
    """How much of a large warehouse one page holds: the `rows` best-supported rows of each
    section and, per row, a sample of `claims` claims (denied ones first, then one claim of
    every story before a second of any). 0 means all. The seed warehouse is far below
    both; a 3,000-article synthetic corpus has 12k transfer rows and 41k claims."""

    rows: int = 500
    claims: int = 50


@dataclass
class ReportData:
    warehouse: Path
    size: int
    modified: dt.datetime
    transfers: list[Group]
    others: list[Group]
    charts: list[Chart]
    limits: Limits
    # Before the limits: the rows of each section, the claims and those the register counts.
    transfers_total: int
    others_total: int
    claims: int
    in_register: int
    documents: int
    stories: int
    outlets: int
    transfer_extras: list[str]
    claim_extras: list[str]
    actor_names: dict[str, str]


def columns_of(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The columns of a table of the main schema, in order; [] when there is no table."""
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = 'main' "
        "AND table_name = ? ORDER BY column_index",
        [table],
    ).fetchall()
    return [name for (name,) in rows]


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def read_table(
    con: duckdb.DuckDBPyConnection, table: str, known: Sequence[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Every row of `table` as a dict holding every `known` column (null when absent) and
    every other column it has; also the names of those other columns."""
    present = columns_of(con, table)
    if not present:
        return [], []
    extras = [c for c in present if c not in known and c not in HIDDEN_COLUMNS]
    select = [quote(c) if c in present else f"NULL AS {quote(c)}" for c in known]
    select += [quote(c) for c in extras]
    cursor = con.execute(f"SELECT {', '.join(select)} FROM {quote(table)}")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()], extras


def nulls_last(value: Any) -> tuple[bool, Any]:
    """A sort key part: nulls after every value (and never compared with one)."""
    if value is None:
        return (True, "")
    if isinstance(value, list | tuple):
        return (False, tuple(str(v) for v in value))
    return (False, value)


def descending(value: Any) -> tuple[bool, float]:
    """A sort key part for counts: larger first, nulls last."""
    return (value is None, -float(value or 0))


def group_key(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row.get("supplier"), row.get("recipient"), row.get("weapon_class"))


def claim_sort_key(claim: Claim) -> tuple[Any, ...]:
    row = claim.row
    return (
        nulls_last(row.get("published_date")),
        nulls_last(row.get("outlet")),
        nulls_last(row.get("source_file")),
        nulls_last(row.get("sentence_start_char")),
        nulls_last(row.get("claim_id")),
        nulls_last(row.get("relation")),
    )


def support_sort_key(row: dict[str, Any]) -> tuple[Any, ...]:
    """Best supported first, as the marts order them, then by name."""
    return (
        descending(row.get("independent_stories")),
        descending(row.get("documents")),
        descending(row.get("claims")),
        nulls_last(row.get("relation")),
        nulls_last(row.get("supplier")),
        nulls_last(row.get("recipient")),
        nulls_last(row.get("weapon_class")),
    )


def read_spans(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Actor and weapon mentions of the sentences that hold a claim, by sentence_id:
    (start_char, end_char, label, code, text) with offsets into the document's text."""
    columns = set(columns_of(con, "entities"))
    needed = {"sentence_id", "start_char", "end_char", "label"}
    if not needed <= columns or "sentence_id" not in columns_of(con, "claims_enriched"):
        return {}
    actor = "actor_code" if "actor_code" in columns else "NULL"
    weapon = "weapon_class" if "weapon_class" in columns else "NULL"
    text = "text" if "text" in columns else "NULL"
    labels = ", ".join(f"'{label}'" for label in HIGHLIGHT_LABELS)
    rows = con.execute(
        f"SELECT sentence_id, start_char, end_char, label, "
        f"CASE WHEN label = 'ACTOR' THEN {actor} ELSE {weapon} END, {text} "
        f"FROM entities WHERE label IN ({labels}) "
        "AND sentence_id IN (SELECT sentence_id FROM claims_enriched) "
        "ORDER BY sentence_id, start_char, end_char, label"
    ).fetchall()
    spans: dict[str, list[tuple]] = {}
    for sentence_id, *span in rows:
        spans.setdefault(sentence_id, []).append(tuple(span))
    return spans


def sentence_spans(row: dict[str, Any], mentions: Iterable[tuple]) -> list[Span]:
    """The mentions of a claim's sentence, moved to offsets within the sentence; a mention
    that does not fall inside it, or whose words are not the sentence's, is left out."""
    sentence, offset = row.get("sentence"), row.get("sentence_start_char")
    if not sentence or offset is None:
        return []
    spans = []
    for start, end, label, code, text in mentions:
        if start is None or end is None:
            continue
        begin, stop = int(start) - int(offset), int(end) - int(offset)
        if not 0 <= begin < stop <= len(sentence):
            continue
        if text is not None and sentence[begin:stop] != text:
            continue
        spans.append(Span(begin, stop, label, code, sentence[begin:stop]))
    return spans


def relations_of(transfer: Group) -> Sequence[str]:
    """The relations of the claims a register row counts."""
    return transfer.row.get("relations") or TRANSFER_RELATIONS


def sample_claims(claims: list[Claim], limit: int) -> list[Claim]:
    """At most `limit` of a row's claims (0: all): the denied ones first, then the claims of
    every story in turn, so the sample spans as many independent stories as it can; in the
    claims' own order."""
    if not limit or len(claims) <= limit:
        return claims
    denied = [c for c in claims if c.row.get("negated")]
    stories: dict[Any, list[Claim]] = {}
    for index, claim in enumerate(claims):
        if not claim.row.get("negated"):
            story = claim.row.get("story_id") or claim.row.get("doc_id") or index
            stories.setdefault(story, []).append(claim)
    turns = [c for turn in itertools.zip_longest(*stories.values()) for c in turn if c]
    kept = {id(c) for c in (denied + turns)[:limit]}
    return [c for c in claims if id(c) in kept]


def limited(groups: list[Group], limits: Limits) -> list[Group]:
    """The first `limits.rows` groups, each with a sample of its claims."""
    kept = groups[: limits.rows] if limits.rows else groups
    for group in kept:
        group.total = len(group.claims)
        group.denied = sum(1 for c in group.claims if c.row.get("negated"))
        group.claims = sample_claims(group.claims, limits.claims)
    return kept


def count_distinct(claims: Iterable[Claim], column: str) -> int:
    return len({c.row.get(column) for c in claims if c.row.get(column) is not None})


def load(
    con: duckdb.DuckDBPyConnection, warehouse: Path, limits: Limits | None = None
) -> ReportData:
    """Everything the report shows, from an open (read-only) connection to `warehouse`."""
    limits = limits or Limits()
    transfer_rows, transfer_extras = read_table(con, "arms_transfers", TRANSFER_COLUMNS)
    corroboration, _ = read_table(con, "claim_corroboration", CORROBORATION_COLUMNS)
    claim_rows, claim_extras = read_table(con, "claims_enriched", CLAIM_COLUMNS)
    claims = sorted((Claim(row) for row in claim_rows), key=claim_sort_key)

    transfers = [Group(row) for row in sorted(transfer_rows, key=support_sort_key)]
    by_key: dict[tuple, Group] = {}
    for transfer in transfers:
        by_key.setdefault(group_key(transfer.row), transfer)
    placed: set[int] = set()
    for index, claim in enumerate(claims):
        owner = by_key.get(group_key(claim.row))
        if owner is not None and claim.row.get("relation") in relations_of(owner):
            owner.claims.append(claim)
            placed.add(index)
    for row in sorted(corroboration, key=support_sort_key):
        owner = by_key.get(group_key(row))
        if owner is not None and row.get("relation") in relations_of(owner):
            owner.corroboration.append(row)

    # Claims outside the register (no recipient, a relation it does not count, ...), under
    # their claim_corroboration row.
    others: dict[tuple, Group] = {}
    for row in sorted(corroboration, key=support_sort_key):
        key = (row.get("relation"), *group_key(row))
        others.setdefault(key, Group(row))
    for index, claim in enumerate(claims):
        if index in placed:
            continue
        key = (claim.row.get("relation"), *group_key(claim.row))
        if key not in others:
            # No claim_corroboration row: a row of the claim's own fields stands in.
            others[key] = Group({c: claim.row.get(c) for c in CORROBORATION_COLUMNS[:4]})
        others[key].claims.append(claim)
    outside = sorted(
        (group for group in others.values() if group.claims),
        key=lambda g: support_sort_key(g.row),
    )

    stat = warehouse.stat()
    documents = (
        con.execute("SELECT count(*) FROM documents").fetchone()
        if columns_of(con, "documents")
        else None
    )
    shown_transfers, shown_others = limited(transfers, limits), limited(outside, limits)
    # Marks only for the claims on the page.
    mentions = read_spans(con)
    for group in (*shown_transfers, *shown_others):
        for claim in group.claims:
            sentence_id = claim.row.get("sentence_id") or ""
            claim.spans = sentence_spans(claim.row, mentions.get(sentence_id, []))
    return ReportData(
        warehouse=warehouse,
        size=stat.st_size,
        modified=dt.datetime.fromtimestamp(int(stat.st_mtime), tz=dt.UTC),
        transfers=shown_transfers,
        others=shown_others,
        charts=read_charts(warehouse),
        limits=limits,
        transfers_total=len(transfers),
        others_total=len(outside),
        claims=len(claims),
        in_register=len(placed),
        documents=int(documents[0]) if documents else count_distinct(claims, "doc_id"),
        stories=count_distinct(claims, "story_id"),
        outlets=count_distinct(claims, "outlet"),
        transfer_extras=transfer_extras,
        claim_extras=claim_extras,
        actor_names=read_actor_names(),
    )
