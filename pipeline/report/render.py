"""The evidence report as one self-contained HTML page: every text escaped, the charts
inlined as data URIs, no link to anything the page would load."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from pipeline.report.claims import render_claims
from pipeline.report.data import Group, ReportData, relations_of
from pipeline.report.markup import actor, badge, esc, extras_list, month_of, tag, text_of
from pipeline.report.style import CSS, SCRIPT

REGISTER_HEADINGS = (
    ("Supplier → recipient", "c-pair"),
    ("Weapon", "c-weapon"),
    ("Claims", "c-num c-claims"),
    ("Docs", "c-num"),
    ("Stories", "c-num"),
    ("Outlets", "c-num"),
    ("Claimants", "c-num"),
    ("Reported", "c-months"),
    ("Largest quantity", "c-qty"),
    ("Hedged", "c-num"),
    ("", "c-flags"),
)


def corroboration_line(row: dict[str, Any]) -> str:
    seen = [text_of(row.get("first_seen")), text_of(row.get("last_seen"))]
    parts = [
        tag("b", esc(row.get("relation"))),
        f"{esc(row.get('claims'))} claims",
        f"{esc(row.get('documents'))} documents",
        f"{esc(row.get('independent_stories'))} independent stories",
        f"{esc(row.get('outlets'))} outlets",
        "seen " + esc(" – ".join(dict.fromkeys(s for s in seen if s)) or "—"),
    ]
    if row.get("hedged_claims"):
        parts.append(f"{esc(row.get('hedged_claims'))} hedged")
    if row.get("negated_claims"):
        parts.append(f"{esc(row.get('negated_claims'))} denied")
    if row.get("sources"):
        parts.append("sources: " + esc(row.get("sources")))
    return tag("li", " · ".join(parts))


def systems_of(row: dict[str, Any], extras: Sequence[str]) -> str:
    """Named weapon systems, from any weapon_system* column the warehouse has."""
    names = [c for c in extras if c.startswith("weapon_system")]
    values = [text_of(row.get(c)) for c in names if row.get(c) not in (None, [], "")]
    return tag("small", esc("; ".join(values)), "systems") if values else ""


def sql_literal(value: Any) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def claims_query(row: dict[str, Any], relations: Sequence[str]) -> str:
    """The query that lists every claim behind a row."""
    conditions = [
        f"{column} = {sql_literal(row[column])}"
        if row.get(column) is not None
        else f"{column} IS NULL"
        for column in ("supplier", "recipient", "weapon_class")
    ]
    if relations:
        conditions.append(f"relation IN ({', '.join(sql_literal(r) for r in relations)})")
    return (
        "SELECT * FROM claims_enriched WHERE "
        + " AND ".join(conditions)
        + " ORDER BY published_date, claim_id"
    )


def sample_note(group: Group, relations: Sequence[str]) -> str:
    """Says when a row shows a sample of its claims, and how to list them all."""
    if len(group.claims) >= group.total:
        return ""
    return tag(
        "p",
        f"Showing {len(group.claims):,} of {group.total:,} claims: the denied ones first, then "
        "one claim of every story before a second of any. All of them: "
        + tag("code", esc(claims_query(group.row, relations))),
        "sampled",
    )


def rows_note(shown: int, total: int, what: str) -> str:
    if shown >= total:
        return ""
    return tag(
        "p",
        f"Showing the {shown:,} best-supported of {total:,} {what}; "
        + tag("code", "python -m pipeline.report --rows 0")
        + " writes them all.",
        "sampled",
    )


def render_transfer(index: int, group: Group, data: ReportData) -> str:
    row, names = group.row, data.actor_names
    first, last = month_of(row.get("first_month")), month_of(row.get("last_month"))
    months = first if first == last else f"{first} – {last}"
    flags = []
    if row.get("denied"):
        flags.append(badge(f"denied ×{text_of(row.get('denied_claims'))}", "denied"))
    if row.get("hedged_share"):
        flags.append(badge("hedged", "hedged"))
    cells = [
        actor(row.get("supplier"), names) + " → " + actor(row.get("recipient"), names),
        tag("span", esc(row.get("weapon_class")), "wc") + systems_of(row, data.transfer_extras),
        esc(row.get("claims")),
        esc(row.get("documents")),
        esc(row.get("independent_stories")),
        esc(row.get("outlets")),
        esc(row.get("claimants")),
        esc(months or "undated"),
        esc(row.get("largest_quantity_text") or row.get("largest_quantity") or ""),
        esc(f"{row['hedged_share']:.0%}" if row.get("hedged_share") is not None else ""),
        " ".join(flags),
    ]
    summary = "".join(
        tag("span", cell, cls) for cell, (_, cls) in zip(cells, REGISTER_HEADINGS, strict=True)
    )
    body = [
        tag(
            "p",
            f"{group.total} claims behind this row"
            + (f" ({group.denied} denied, not counted as support)" if group.denied else "")
            + " · relations: "
            + esc(row.get("relations") or "—"),
            "count",
        ),
        sample_note(group, relations_of(group)),
        tag("ul", "".join(corroboration_line(r) for r in group.corroboration), "corr")
        if group.corroboration
        else "",
        extras_list(row, [c for c in data.transfer_extras if not c.startswith("weapon_system")]),
        render_claims(group.claims, data.claim_extras),
    ]
    return tag(
        "details",
        tag("summary", summary, "row") + tag("div", "".join(body), "body"),
        "transfer",
        id=f"t{index + 1}",
        data_supplier=row.get("supplier"),
        data_recipient=row.get("recipient"),
        data_weapon=row.get("weapon_class"),
    )


def render_other(index: int, group: Group, data: ReportData) -> str:
    row = group.row
    summary = " ".join(
        [
            badge(row.get("relation") or "?", "relation"),
            actor(row.get("supplier"), data.actor_names),
            "→",
            actor(row.get("recipient"), data.actor_names),
            tag("span", esc(row.get("weapon_class") or "?"), "wc"),
            tag("span", f"{group.total} claims", "n"),
        ]
    )
    corr = tag("ul", corroboration_line(row), "corr") if row.get("claims") is not None else ""
    note = sample_note(group, [row["relation"]] if row.get("relation") else [])
    return tag(
        "details",
        tag("summary", summary, "row other")
        + tag("div", corr + note + render_claims(group.claims, data.claim_extras), "body"),
        "transfer other",
        id=f"o{index + 1}",
    )


def render_chart(chart_name: str, title: str, png: bytes) -> str:
    uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return tag(
        "figure",
        tag("img", "", src=uri, alt=title, data_chart=chart_name).replace("></img>", ">")
        + tag("figcaption", esc(title) + " · " + tag("code", esc(f"charts/{chart_name}.png"))),
        "chart",
    )


def legend() -> str:
    return tag(
        "p",
        "In the sentences: "
        + tag("mark", "supplier", "actor supplier")
        + " "
        + tag("mark", "recipient", "actor recipient")
        + " "
        + tag("mark", "other actor", "actor")
        + " "
        + tag("mark", "the claim's weapon", "weapon own")
        + " "
        + tag("mark", "other weapon", "weapon")
        + " · badges: "
        + badge("hedged", "hedged")
        + " possible, alleged or unverified; "
        + badge("denied", "denied")
        + " the sentence denies it.",
        "legend",
    )


def render(data: ReportData) -> str:
    """The whole page."""
    counts = [
        (data.transfers_total, "transfers"),
        (data.claims, "claims"),
        (data.in_register, "claims in the register"),
        (data.documents, "documents"),
        (data.stories, "independent stories"),
        (data.outlets, "outlets"),
        (len(data.charts), "charts"),
    ]
    header = tag(
        "header",
        tag("h1", "Salvo evidence report")
        + tag(
            "p",
            "Built from "
            + tag("code", esc(data.warehouse))
            + f" ({data.size / 1e6:.1f} MB, published "
            + esc(data.modified.strftime("%Y-%m-%d %H:%M:%S UTC"))
            + ")",
            "src",
        )
        + tag(
            "ul",
            "".join(tag("li", tag("b", f"{n:,}") + " " + esc(what)) for n, what in counts),
            "counts",
        )
        + tag(
            "nav",
            '<a href="#register">Register</a> <a href="#other">Other claims</a> '
            '<a href="#charts">Charts</a>',
        ),
    )
    head_row = "".join(tag("span", esc(h), cls) for h, cls in REGISTER_HEADINGS)
    register = tag(
        "section",
        tag("h2", "Transfer register")
        + tag(
            "p",
            "One row per supplier → recipient → weapon class (arms_transfers), best supported "
            "first; counts leave denied claims out. Open a row for the claims behind it.",
            "intro",
        )
        + rows_note(len(data.transfers), data.transfers_total, "register rows")
        + tag(
            "div",
            '<input id="filter" type="search" placeholder="Filter rows (e.g. PRK, drone)" '
            'aria-label="Filter rows"> <button type="button" id="expand">Expand all</button> '
            '<button type="button" id="collapse">Collapse all</button>',
            "tools",
        )
        + legend()
        + tag("div", head_row, "row heading")
        + (
            "".join(render_transfer(i, g, data) for i, g in enumerate(data.transfers))
            or tag("p", "No transfer in arms_transfers.", "empty")
        ),
        id="register",
    )
    other = tag(
        "section",
        tag("h2", "Claims outside the register")
        + tag(
            "p",
            "Claims arms_transfers does not count (no supplier or recipient, or a relation "
            "such as produce), by claim_corroboration row.",
            "intro",
        )
        + rows_note(len(data.others), data.others_total, "rows")
        + (
            "".join(render_other(i, g, data) for i, g in enumerate(data.others))
            or tag("p", "None.", "empty")
        ),
        id="other",
    )
    charts = tag(
        "section",
        tag("h2", "Monthly charts")
        + (
            "".join(render_chart(c.name, c.title, c.png) for c in data.charts)
            or tag("p", "No chart beside the warehouse.", "empty")
        ),
        id="charts",
    )
    return (
        "<!DOCTYPE html>\n"
        + '<html lang="en"><head><meta charset="utf-8">'
        + '<meta name="viewport" content="width=device-width, initial-scale=1">'
        + tag("title", "Salvo evidence report · " + esc(data.warehouse.name))
        + tag("style", CSS)
        + "</head><body>"
        + header
        + "<main>"
        + register
        + other
        + charts
        + "</main>"
        + tag("footer", "Salvo · pipeline.report · same warehouse, same page.")
        + tag("script", SCRIPT)
        + "</body></html>\n"
    )
