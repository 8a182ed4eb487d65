"""HTML pieces: every value escaped on its way into the page."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from typing import Any


def esc(value: Any) -> str:
    return html.escape(text_of(value), quote=True)


def text_of(value: Any) -> str:
    """How a value reads on the page."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.3g}"
    if isinstance(value, list | tuple):
        return ", ".join(text_of(v) for v in value)
    return str(value)


def month_of(value: Any) -> str:
    return value.strftime("%Y-%m") if isinstance(value, dt.date) else text_of(value)


def tag(name: str, body: str, cls: str = "", **attrs: Any) -> str:
    parts = [name]
    if cls:
        parts.append(f'class="{html.escape(cls)}"')
    for key, value in sorted(attrs.items()):
        if value is not None:
            parts.append(f'{key.replace("_", "-")}="{esc(value)}"')
    return f"<{' '.join(parts)}>{body}</{name}>"


def badge(text: str, kind: str, title: str | None = None) -> str:
    return tag("span", esc(text), f"badge {kind}", title=title)


def actor(code: Any, names: dict[str, str]) -> str:
    if code is None:
        return tag("span", "?", "actor unknown", title="not stated")
    name = names.get(str(code))
    return tag("span", esc(code), "actor", title=name) + (
        " " + tag("small", esc(name), "name") if name else ""
    )


def extras_list(row: dict[str, Any], columns: Sequence[str]) -> str:
    items = [
        tag("dt", esc(column)) + tag("dd", esc(row.get(column)))
        for column in columns
        if row.get(column) not in (None, [], "")
    ]
    return tag("dl", "".join(items), "extras") if items else ""
