"""A record: the text one document is made of, with the metadata the file states for it,
and the rules that turn a stated metadata value into a clean one."""

from __future__ import annotations

import datetime
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# Epoch timestamps as dates: seconds or milliseconds between 1990 and 2100.
_EPOCH_SECONDS = (631_152_000, 4_102_444_800)
SPACES = re.compile(r"\s+")
_FIELD_KEY = re.compile(r"[_\-\s@]")

# Record fields, by meaning, in order of preference. Keys are compared after lower-casing
# and removing "_", "-", " " and "@", so "articleBody", "article_body" and "Article-Body"
# are one field. "description" and "summary" are not text: they are teasers.
FIELDS: dict[str, tuple[str, ...]] = {
    "text": (
        "text",
        "body",
        "content",
        "articlebody",
        "articletext",
        "article",
        "fulltext",
        "maintext",
        "story",
        "plaintext",
    ),
    "html": ("html", "rawhtml", "contenthtml", "bodyhtml", "articlehtml"),
    "title": ("title", "headline", "heading"),
    "published": (
        "published",
        "publishedat",
        "publisheddate",
        "publishedtime",
        "datepublished",
        "publicationdate",
        "pubdate",
        "date",
        "datetime",
    ),
    "date_precision": ("dateprecision",),
    "outlet": (
        "outlet",
        "site",
        "sitename",
        "source",
        "sourcename",
        "publisher",
        "publication",
        "domain",
    ),
    "url": ("url", "link", "permalink", "canonicalurl", "uri", "sourceurl", "articleurl"),
}
# A JSON object whose records sit in a list under one of these keys (crawler exports).


@dataclass(frozen=True)
class Record:
    """One article found in a file.

    ``text`` is None exactly when ``reason`` says why the record has no text. Metadata
    values are stripped strings or None; ``published`` is the date as the file states it
    (parsed later, with ``date_precision`` when the file gives one).
    """

    record_index: int
    text: str | None
    title: str | None = None
    published: str | None = None
    date_precision: str | None = None
    outlet: str | None = None
    url: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class ParsedFile:
    """The records of one file; ``reason`` is set when none of them has text."""

    source_format: str
    records: tuple[Record, ...]
    reason: str | None = None

    @property
    def documents(self) -> tuple[Record, ...]:
        return tuple(r for r in self.records if r.reason is None)


# --- metadata values ---------------------------------------------------------------------


def one_line(value: str | None) -> str | None:
    if value is None:
        return None
    value = SPACES.sub(" ", value).strip()
    return value or None


def scalar(value: Any) -> str | None:
    """A metadata value as one line of text: strings as written, numbers as digits, an
    object by its name (``{"name": "Reuters"}``), a list by its first usable item."""
    if isinstance(value, str):
        return one_line(value)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        for key in ("name", "title", "rendered", "value", "@value", "url", "id"):
            if key in value and (found := scalar(value[key])):
                return found
        return None
    if isinstance(value, list):
        for item in value:
            if found := scalar(item):
                return found
    return None


def date_value(value: Any) -> str | None:
    """Dates as written; epoch numbers (seconds or milliseconds) as an ISO day."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
        if seconds > _EPOCH_SECONDS[1]:
            seconds /= 1000
        if _EPOCH_SECONDS[0] <= seconds <= _EPOCH_SECONDS[1]:
            return datetime.datetime.fromtimestamp(seconds, datetime.UTC).date().isoformat()
        return None
    return scalar(value)


def host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url if "//" in url else f"//{url}").hostname
    except ValueError:
        return None
    if not host or "." not in host:
        return None
    return host.removeprefix("www.")


def field_key(key: str) -> str:
    return _FIELD_KEY.sub("", key).lower()


def fields_of(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object's values by meaning (see FIELDS): the first non-empty field wins."""
    by_key: dict[str, Any] = {}
    for key, value in obj.items():
        if isinstance(key, str):
            by_key.setdefault(field_key(key), value)
    found: dict[str, Any] = {}
    for meaning, names in FIELDS.items():
        for name in names:
            value = by_key.get(name)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            found[meaning] = value
            break
    return found


def finish(source_format: str, records: list[Record], default_reason: str) -> ParsedFile:
    if any(r.reason is None for r in records):
        return ParsedFile(source_format, tuple(records))
    reasons = Counter(r.reason for r in records)
    # The commonest record problem speaks for the file (ties: alphabetical, for stability).
    reason = min(reasons, key=lambda r: (-reasons[r], r)) if reasons else default_reason
    return ParsedFile(source_format, tuple(records), reason)
