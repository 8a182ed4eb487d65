"""JSON and JSON Lines files: each object with a text field is one record. Field names are
matched without regard to case, ``_`` or ``-`` (``publishedAt``, ``published_at``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from pipeline.text.markup import HTML_TAG, html_to_record
from pipeline.text.records import (
    FIELDS,
    ParsedFile,
    Record,
    date_value,
    field_key,
    fields_of,
    finish,
    host,
    scalar,
)

RECORD_LIST_KEYS = (
    "articles",
    "items",
    "records",
    "documents",
    "docs",
    "data",
    "results",
    "entries",
    "posts",
    "stories",
    "hits",
)
# Deeply nested JSON ("[[[[...]]]]") would exhaust the parser's recursion; real crawl
# records nest a few levels.
MAX_JSON_DEPTH = 64


# --- JSON and JSON Lines -----------------------------------------------------------------


def _record_from_object(index: int, obj: Any) -> Record:
    if not isinstance(obj, Mapping):
        return Record(index, None, reason="no_text")
    fields = fields_of(obj)
    text = _text_value(fields.get("text"))
    html_record: Record | None = None
    if text is not None and HTML_TAG.search(text) and len(HTML_TAG.findall(text)) >= 2:
        # Crawlers often store the article body as an HTML fragment.
        html_record = html_to_record(text, fragment=True)
        text = html_record.text
    elif text is None and isinstance(fields.get("html"), str):
        html_record = html_to_record(fields["html"])
        text = html_record.text
    if text is None:
        if html_record and html_record.reason:
            return Record(index, None, reason=html_record.reason)
        blank = any(
            isinstance(v, str) and field_key(str(k)) in FIELDS["text"] for k, v in obj.items()
        )
        return Record(index, None, reason="empty" if blank else "no_text")
    if not text.strip():
        return Record(index, None, reason="empty")
    url = scalar(fields.get("url")) or (html_record.url if html_record else None)
    outlet = scalar(fields.get("outlet"))
    if outlet and outlet.lower().startswith(("http://", "https://")):
        outlet = host(outlet)
    return Record(
        record_index=index,
        text=text,
        title=scalar(fields.get("title")) or (html_record.title if html_record else None),
        published=date_value(fields.get("published"))
        or (html_record.published if html_record else None),
        date_precision=scalar(fields.get("date_precision")),
        outlet=outlet or (html_record.outlet if html_record else None),
        url=url,
    )


def _too_deep(text: str) -> bool:
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def _loads(text: str) -> tuple[Any, bool]:
    """(value, ok): json.loads that never raises."""
    try:
        return json.loads(text), True
    except (ValueError, RecursionError):
        return None, False


def _record_list(value: Any) -> list[Any] | None:
    """The records a parsed JSON document holds: a list, one record, or a list under a key."""
    if isinstance(value, list):
        return value
    if not isinstance(value, Mapping):
        return None
    if "text" in fields_of(value) or "html" in fields_of(value):
        return [value]
    lists = {k.lower(): v for k, v in value.items() if isinstance(k, str) and isinstance(v, list)}
    for key in RECORD_LIST_KEYS:
        if key in lists:
            return lists[key]
    of_objects = [v for v in lists.values() if v and all(isinstance(i, Mapping) for i in v)]
    if len(of_objects) == 1:
        return of_objects[0]
    return None


def _json_lines(text: str) -> Iterable[tuple[Any, bool]]:
    for line in text.splitlines():
        if line.strip():
            if _too_deep(line):
                yield None, False
            else:
                yield _loads(line)


def parse_json_file(source_format: str, text: str) -> ParsedFile:
    if not text.strip():
        return ParsedFile(source_format, (), "empty")
    parsed, ok = (None, False) if _too_deep(text) else _loads(text)
    records: list[Record] = []
    if ok:
        items = _record_list(parsed)
        if items is None:
            return ParsedFile(source_format, (), "no_text")
        records = [_record_from_object(i, item) for i, item in enumerate(items)]
        return finish(source_format, records, "no_text")
    # Not one JSON document: JSON Lines (also accepted under a .json name).
    for index, (value, line_ok) in enumerate(_json_lines(text)):
        if line_ok:
            records.append(_record_from_object(index, value))
        else:
            records.append(Record(index, None, reason="bad_json"))
    return finish(source_format, records, "bad_json")


def _text_value(value: Any) -> str | None:
    """A text field's value: a string, or a list of paragraph strings."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return "\n\n".join(v.strip() for v in value if v.strip())
    if isinstance(value, Mapping):
        # WordPress and similar APIs: {"content": {"rendered": "<p>...</p>"}}.
        for key in ("rendered", "text", "value", "plain"):
            if isinstance(value.get(key), str):
                return value[key]
    return None
