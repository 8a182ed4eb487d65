"""A claim as a reader sees it: badges, who says so, the sentence with its actors and
weapons marked, and where it was read."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Sequence
from typing import Any

from pipeline.report.data import CLAIM_COLUMNS, Claim, Span
from pipeline.report.markup import badge, esc, extras_list, tag, text_of

# Claim columns shown in their own place on a claim (the rest, if any, are listed as
# "more"); ids and offsets are read but not shown.
CLAIM_SHOWN = frozenset(CLAIM_COLUMNS)
EVENT_COLUMNS = ("event_start", "event_end", "event_precision", "event_text")


def chosen_spans(spans: Iterable[Span]) -> list[Span]:
    """Non-overlapping mentions: the earliest first, the longest of those starting together
    (a weapon before an actor on a tie)."""
    chosen: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -(s.end - s.start), s.label != "WEAPON")):
        if not chosen or span.start >= chosen[-1].end:
            chosen.append(span)
    return chosen


def highlight(sentence: str, spans: Iterable[Span], row: dict[str, Any]) -> str:
    """The sentence, escaped, with its weapon and actor mentions marked: the supplier, the
    recipient and the claim's weapon class apart from other actors and weapons."""
    out, at = [], 0
    for span in chosen_spans(spans):
        out.append(html.escape(sentence[at : span.start]))
        if span.label == "WEAPON":
            kind = "weapon" + (" own" if span.code == row.get("weapon_class") else "")
            title = f"weapon: {span.code or '?'}"
        else:
            role = (
                "supplier"
                if span.code == row.get("supplier")
                else "recipient"
                if span.code == row.get("recipient")
                else ""
            )
            kind = f"actor {role}".strip()
            title = f"actor: {span.code or '?'}" + (f" ({role})" if role else "")
        out.append(tag("mark", html.escape(sentence[span.start : span.end]), kind, title=title))
        at = span.end
    out.append(html.escape(sentence[at:]))
    return "".join(out)


def event_time(row: dict[str, Any]) -> str:
    start, end = row.get("event_start"), row.get("event_end")
    if start is None and end is None and not row.get("event_text"):
        return ""
    when = text_of(start) if end in (None, start) else f"{text_of(start)} – {text_of(end)}"
    precision = row.get("event_precision")
    words = row.get("event_text")
    return tag(
        "span",
        "event "
        + esc(when or "?")
        + (f" ({esc(precision)})" if precision else "")
        + (" “" + esc(words) + "”" if words else ""),
        "event",
    )


def published_text(date: Any, precision: Any) -> str:
    """A publication date to the precision it is known: 2024-01-21, 2024-01 or 2024."""
    if not isinstance(date, dt.date):
        return text_of(date) or "undated"
    if precision == "year":
        return f"{date.year}"
    if precision == "month":
        return date.strftime("%Y-%m")
    return date.isoformat()


def render_claim(claim: Claim, extras: Sequence[str]) -> str:
    row = claim.row
    flags = [badge(row.get("relation") or "?", "relation")]
    if row.get("negated"):
        flags.append(badge("denied", "denied", "the sentence denies it (negated)"))
    if row.get("hedged"):
        flags.append(badge("hedged", "hedged", "reported as possible, alleged or unverified"))
    who = row.get("attributed_to")
    says = (
        tag("span", "according to " + tag("b", esc(who)), "says")
        if who
        else tag("span", "unattributed", "says none")
    )
    details = [
        tag("span", esc(row.get("weapon_text")), "words", title="weapon words")
        if row.get("weapon_text")
        else "",
        tag("span", "quantity " + esc(row.get("quantity_text")), "qty")
        if row.get("quantity_text")
        else "",
        tag("span", "trigger “" + esc(row.get("trigger_text")) + "”", "trigger")
        if row.get("trigger_text")
        else "",
        *(
            tag("span", esc(column.replace("_", " ")) + " " + tag("b", esc(row[column])), "system")
            for column in extras
            if column.startswith("weapon_system") and row.get(column) not in (None, [], "")
        ),
        event_time(row),
    ]
    sentence = row.get("sentence")
    quote = (
        tag("blockquote", highlight(sentence, claim.spans, row), "sentence")
        if sentence
        else tag("blockquote", "(sentence not in the warehouse)", "sentence missing")
    )
    published = published_text(row.get("published_date"), row.get("date_precision"))
    title = row.get("title")
    url = row.get("url")
    title_html = esc(title or "(untitled)")
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        title_html = tag("a", title_html, href=url, rel="noreferrer noopener")
    story = text_of(row.get("story_id"))
    source = [
        tag("span", esc(row.get("outlet") or "unknown outlet"), "outlet"),
        tag("time", esc(published), "date"),
        tag("span", "story " + esc(story[:8]), "story", title=f"story_id {story}") if story else "",
        tag("code", esc(row.get("source_file")), "file") if row.get("source_file") else "",
        tag("span", title_html, "title"),
    ]
    more = [
        c
        for c in extras
        if c not in EVENT_COLUMNS and c not in CLAIM_SHOWN and not c.startswith("weapon_system")
    ]
    return tag(
        "li",
        tag("div", " ".join(flags) + " " + says + " " + " ".join(d for d in details if d), "head")
        + quote
        + tag("div", " · ".join(s for s in source if s), "source")
        + extras_list(row, more),
        "claim" + (" is-denied" if row.get("negated") else ""),
        data_claim_id=row.get("claim_id"),
    )


def render_claims(claims: Sequence[Claim], extras: Sequence[str]) -> str:
    if not claims:
        return tag("p", "No claim in claims_enriched matches this row.", "empty")
    return tag("ol", "".join(render_claim(c, extras) for c in claims), "claims")
