"""Event times of claims: when what a claim reports happened, from the time expressions of
its sentence, or of its paragraph where the sentence states none, resolved against the
document's publication date (pipeline/text/event_time.py).

Done where a batch of parsed rows is staged, with the documents' texts and dates: the
dates are not an input of the parse, and a document whose publication date changes is
parsed again (nlp_runs.dated_against records the date its event times were read against).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import duckdb
import polars as pl

from pipeline.text.event_time import EventTime, event_time, states_time

EVENT_COLUMNS = ("event_start", "event_end", "event_precision", "event_text")


def reference_date_sql(alias: str = "") -> str:
    """SQL over a documents row (aliased `alias`, if given) for that date: the publication
    date when it is known to the day or the month (a year cannot place "in August")."""
    prefix = f"{alias}." if alias else ""
    return f"CASE WHEN {prefix}date_precision IN ('day', 'month') THEN {prefix}published_date END"


@dataclass(frozen=True)
class Reference:
    """What a document's event times are read against."""

    published: dt.date | None
    precision: str  # what `published` is known to
    text: str  # the document's clean_text (for the paragraph of a sentence)
    text_hash: int | None = None  # documents.text_hash of that text


def reference_dates(con: duckdb.DuckDBPyConnection, doc_ids: list[str]) -> dict[str, Reference]:
    """doc_id -> its reference date, that date's precision, and its text."""
    rows = con.execute(
        f"SELECT doc_id, {reference_date_sql()}, coalesce(date_precision, 'day'), clean_text, "
        "text_hash FROM documents WHERE doc_id IN (SELECT unnest(?))",
        [doc_ids],
    ).fetchall()
    return {row[0]: Reference(*row[1:]) for row in rows}


NO_REFERENCE = Reference(None, "day", "")


# A paragraph's words speak for a sentence at most this far from it: text runs that long
# without a blank line (a pasted transcript, a table) are not one paragraph.
PARAGRAPH_REACH = 1_000


def _paragraph(text: str, start: int, end: int) -> str:
    """The rest of the paragraph (text between blank lines) around a sentence, within
    PARAGRAPH_REACH characters of it."""
    low, high = max(0, start - PARAGRAPH_REACH), min(len(text), end + PARAGRAPH_REACH)
    first = text.rfind("\n\n", low, start)
    last = text.find("\n\n", end, high)
    first = low if first < 0 else first + 2
    last = high if last < 0 else last
    return text[first:start] + " " + text[end:last]


def date_claims(
    claims: pl.DataFrame,
    sentences: pl.DataFrame,
    documents: Mapping[str, Reference],
) -> pl.DataFrame:
    """The claims with their event columns filled (null where no time is stated)."""
    if claims.height == 0:
        return claims
    spans = {
        row[0]: (row[1], row[2], row[3])
        for row in sentences.select("sentence_id", "start_char", "end_char", "text").iter_rows()
    }
    found: dict[str, EventTime | None] = {}
    times: list[EventTime | None] = []
    for doc_id, sentence_id in claims.select("doc_id", "sentence_id").iter_rows():
        if sentence_id not in found:
            ref = documents.get(doc_id, NO_REFERENCE)
            start, end, sentence = spans.get(sentence_id, (0, 0, ""))
            # The paragraph speaks for a sentence that states no time at all, not for one
            # whose time cannot be placed.
            text = sentence if states_time(sentence) else _paragraph(ref.text, start, end)
            found[sentence_id] = event_time(text, ref.published, ref.precision)
        times.append(found[sentence_id])
    return claims.with_columns(
        pl.Series("event_start", [t.start if t else None for t in times], dtype=pl.Date),
        pl.Series("event_end", [t.end if t else None for t in times], dtype=pl.Date),
        pl.Series("event_precision", [t.precision if t else None for t in times], pl.String),
        pl.Series("event_text", [t.text if t else None for t in times], dtype=pl.String),
    )
