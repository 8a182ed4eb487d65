"""Turn one seed file's decoded text into article records, whatever its format.

A record is the text one document is made of, with the metadata the file itself states
for it (title, publication date, outlet, url). Supported formats, chosen by the file's
extension (a file with another extension is sniffed, else read as plain text):

- ``.txt``: the whole text is one record, with no metadata (the documents stage reads
  headline, dateline and outlet from the text itself);
- ``.md``: one record; YAML (``---``) or TOML (``+++``) front matter gives metadata, the
  first level-1 heading the title; Markdown markup (emphasis, links, images, list and
  quote markers, code fences) is removed so that sentences index plain prose;
- ``.html``: one record; trafilatura removes the page chrome (menus, cookie banners,
  related links, comments) and reads title, site name, canonical url and the publication
  date stated in the page's markup. Offline: nothing is ever fetched;
- ``.json`` (an array of records, one record, or an object holding a list of records
  under a key such as ``articles`` or ``items``) and ``.jsonl`` (one record per line):
  each object with a text field is one record. Field names are matched without regard to
  case, ``_`` or ``-`` (``publishedAt``, ``published_at``); see ``FIELDS``.

Problems are reasons, never exceptions: a record without a text field gets ``no_text``,
an unparsable JSON line ``bad_json``; a file none of whose records has text carries a
file-level reason. No Dagster and no file-system access here.
"""

from __future__ import annotations

import datetime
import json
import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "FIELDS",
    "FORMATS",
    "ParsedFile",
    "Record",
    "detect_format",
    "html_to_record",
    "markdown_to_record",
    "parse_file",
]

# File extension -> format. Anything else is sniffed (HTML or JSON), else plain text.
FORMATS: dict[str, str] = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".mdown": "md",
    ".mkd": "md",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".jsonlines": "jsonl",
}

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
# trafilatura builds an lxml tree about ten times the page's size; a page larger than this
# is not an article (a saved forum thread, a data dump) and would cost gigabytes to parse.
MAX_HTML_CHARS = 20_000_000
# Deeply nested JSON ("[[[[...]]]]") would exhaust the parser's recursion; real crawl
# records nest a few levels.
MAX_JSON_DEPTH = 64
_BLOCK_TAGS = ("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote")
# Epoch timestamps as dates: seconds or milliseconds between 1990 and 2100.
_EPOCH_SECONDS = (631_152_000, 4_102_444_800)

_FIELD_KEY = re.compile(r"[_\-\s@]")
_SPACES = re.compile(r"\s+")
_HTML_TAG = re.compile(r"</?(?:p|div|br|span|a|h[1-6]|li|ul|ol|strong|em|b|i|article|section)\b",
                       re.IGNORECASE)  # fmt: skip
_HTML_START = re.compile(r"\s*(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html|<\?xml[^>]*>\s*<html)",
                         re.IGNORECASE | re.DOTALL)  # fmt: skip


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


def detect_format(name: str, text: str) -> str:
    """The format of a file from its extension, else from its first characters."""
    lower = name.lower()
    dot = lower.rfind(".")
    slash = lower.rfind("/")
    if dot > slash + 1:
        known = FORMATS.get(lower[dot:])
        if known:
            return known
    head = text[:4096]
    if _HTML_START.match(head):
        return "html"
    stripped = head.lstrip()
    if stripped[:1] in ("{", "["):
        first_line = stripped.split("\n", 1)[0].strip()
        if first_line.startswith("{") and first_line.endswith("}") and "\n" in stripped:
            return "jsonl"
        return "json"
    return "txt"


def parse_file(name: str, text: str) -> ParsedFile:
    """Records of a file, given its name (for the format) and its decoded text."""
    source_format = detect_format(name, text)
    if source_format == "md":
        return _single(source_format, markdown_to_record(text))
    if source_format == "html":
        return _single(source_format, html_to_record(text))
    if source_format in ("json", "jsonl"):
        return _parse_json_file(source_format, text)
    return _single(
        source_format, Record(0, text) if text.strip() else Record(0, None, reason="empty")
    )


def _single(source_format: str, record: Record) -> ParsedFile:
    return ParsedFile(source_format, (record,), record.reason)


def _finish(source_format: str, records: list[Record], default_reason: str) -> ParsedFile:
    if any(r.reason is None for r in records):
        return ParsedFile(source_format, tuple(records))
    reasons = Counter(r.reason for r in records)
    # The commonest record problem speaks for the file (ties: alphabetical, for stability).
    reason = min(reasons, key=lambda r: (-reasons[r], r)) if reasons else default_reason
    return ParsedFile(source_format, tuple(records), reason)


# --- metadata values ---------------------------------------------------------------------


def _one_line(value: str | None) -> str | None:
    if value is None:
        return None
    value = _SPACES.sub(" ", value).strip()
    return value or None


def _scalar(value: Any) -> str | None:
    """A metadata value as one line of text: strings as written, numbers as digits, an
    object by its name (``{"name": "Reuters"}``), a list by its first usable item."""
    if isinstance(value, str):
        return _one_line(value)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        for key in ("name", "title", "rendered", "value", "@value", "url", "id"):
            if key in value and (found := _scalar(value[key])):
                return found
        return None
    if isinstance(value, list):
        for item in value:
            if found := _scalar(item):
                return found
    return None


def _date_value(value: Any) -> str | None:
    """Dates as written; epoch numbers (seconds or milliseconds) as an ISO day."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
        if seconds > _EPOCH_SECONDS[1]:
            seconds /= 1000
        if _EPOCH_SECONDS[0] <= seconds <= _EPOCH_SECONDS[1]:
            return datetime.datetime.fromtimestamp(seconds, datetime.UTC).date().isoformat()
        return None
    return _scalar(value)


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url if "//" in url else f"//{url}").hostname
    except ValueError:
        return None
    if not host or "." not in host:
        return None
    return host.removeprefix("www.")


def _field_key(key: str) -> str:
    return _FIELD_KEY.sub("", key).lower()


def _fields(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object's values by meaning (see FIELDS): the first non-empty field wins."""
    by_key: dict[str, Any] = {}
    for key, value in obj.items():
        if isinstance(key, str):
            by_key.setdefault(_field_key(key), value)
    found: dict[str, Any] = {}
    for meaning, names in FIELDS.items():
        for name in names:
            value = by_key.get(name)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            found[meaning] = value
            break
    return found


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


# --- JSON and JSON Lines -----------------------------------------------------------------


def _record_from_object(index: int, obj: Any) -> Record:
    if not isinstance(obj, Mapping):
        return Record(index, None, reason="no_text")
    fields = _fields(obj)
    text = _text_value(fields.get("text"))
    html_record: Record | None = None
    if text is not None and _HTML_TAG.search(text) and len(_HTML_TAG.findall(text)) >= 2:
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
            isinstance(v, str) and _field_key(str(k)) in FIELDS["text"] for k, v in obj.items()
        )
        return Record(index, None, reason="empty" if blank else "no_text")
    if not text.strip():
        return Record(index, None, reason="empty")
    url = _scalar(fields.get("url")) or (html_record.url if html_record else None)
    outlet = _scalar(fields.get("outlet"))
    if outlet and outlet.lower().startswith(("http://", "https://")):
        outlet = _host(outlet)
    return Record(
        record_index=index,
        text=text,
        title=_scalar(fields.get("title")) or (html_record.title if html_record else None),
        published=_date_value(fields.get("published"))
        or (html_record.published if html_record else None),
        date_precision=_scalar(fields.get("date_precision")),
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
    if "text" in _fields(value) or "html" in _fields(value):
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


def _parse_json_file(source_format: str, text: str) -> ParsedFile:
    if not text.strip():
        return ParsedFile(source_format, (), "empty")
    parsed, ok = (None, False) if _too_deep(text) else _loads(text)
    records: list[Record] = []
    if ok:
        items = _record_list(parsed)
        if items is None:
            return ParsedFile(source_format, (), "no_text")
        records = [_record_from_object(i, item) for i, item in enumerate(items)]
        return _finish(source_format, records, "no_text")
    # Not one JSON document: JSON Lines (also accepted under a .json name).
    for index, (value, line_ok) in enumerate(_json_lines(text)):
        if line_ok:
            records.append(_record_from_object(index, value))
        else:
            records.append(Record(index, None, reason="bad_json"))
    return _finish(source_format, records, "bad_json")


# --- HTML --------------------------------------------------------------------------------


def _strip_tags(fragment: str) -> str:
    """The text of an HTML fragment, one line per block element."""
    import lxml.html

    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except Exception:  # lxml raises several unrelated types on hostile markup
        return ""
    for bad in root.xpath("//script|//style"):
        bad.drop_tree()
    for tag in root.iter(*_BLOCK_TAGS):
        tag.tail = "\n" + (tag.tail or "")
    lines = (_SPACES.sub(" ", line).strip() for line in root.text_content().split("\n"))
    return "\n".join(line for line in lines if line)


def html_to_record(html: str, fragment: bool = False, record_index: int = 0) -> Record:
    """The article in an HTML page (or fragment), with the page's own metadata.

    trafilatura drops menus, banners, related links and reader comments. Its date search
    is limited to the page's markup (meta tags, ``<time>``, JSON-LD): the default
    "extensive" search also guesses from URLs and copyright lines, which is a guess
    presented as fact. Nothing is fetched.
    """
    if len(html) > MAX_HTML_CHARS:
        return Record(record_index, None, reason="too_large")
    if fragment:
        # A body stored by a crawler is the article already: no chrome to find, and
        # trafilatura would cut inline tags into lines of their own.
        text = _strip_tags(html)
        return (
            Record(record_index, text)
            if text.strip()
            else Record(record_index, None, reason="no_content")
        )
    # Imported here: it costs a third of a second, which runs without HTML need not pay.
    import trafilatura

    try:
        extracted = trafilatura.bare_extraction(
            html,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except Exception:  # a third-party parser on arbitrary input: a reason, never a crash
        extracted = None
    body = getattr(extracted, "text", None) if extracted is not None else None
    if not isinstance(body, str) or not body.strip():
        return Record(record_index, None, reason="no_content")
    url = _one_line(getattr(extracted, "url", None))
    return Record(
        record_index=record_index,
        text=body,
        title=_one_line(getattr(extracted, "title", None)),
        published=_one_line(getattr(extracted, "date", None)),
        outlet=_one_line(getattr(extracted, "sitename", None)) or _host(url),
        url=url,
    )


# --- Markdown ----------------------------------------------------------------------------

_FRONT_MATTER_YAML = re.compile(r"\A\ufeff?---[ \t]*\n(?P<body>.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)",
                                re.DOTALL)  # fmt: skip
_FRONT_MATTER_TOML = re.compile(r"\A\ufeff?\+\+\+[ \t]*\n(?P<body>.*?)\n\+\+\+[ \t]*(?:\n|\Z)",
                                re.DOTALL)  # fmt: skip
_YAML_PAIR = re.compile(r"(?P<key>[A-Za-z_][\w\- ]*?)\s*:\s*(?P<value>.*)")
_FENCE = re.compile(r"\s{0,3}(?P<fence>`{3,}|~{3,})")
_RULE = re.compile(r"\s{0,3}(?:(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,}|(?:=\s*){3,})")
_ATX = re.compile(r"\s{0,3}(?P<level>#{1,6})(?:[ \t]+(?P<text>.*?))?(?:[ \t]+#+)?[ \t]*")
_QUOTE = re.compile(r"\s{0,3}(?:>[ \t]?)+")
_LIST = re.compile(r"\s*(?:[-*+]|\d{1,9}[.)])[ \t]+")
_TABLE_RULE = re.compile(r"\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*")
_LINK_DEFINITION = re.compile(r"\s{0,3}\[[^\]]+\]:\s*\S+.*")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~<])")
_IMAGE = re.compile(r"!\[[^\]\n]*\]\([^)\n]*\)|!\[[^\]\n]*\]\[[^\]\n]*\]")
_LINK = re.compile(r"\[(?P<text>[^\]\n]+)\](?:\([^)\n]*\)|\[[^\]\n]*\])")
_AUTOLINK = re.compile(r"<(?P<url>(?:https?|mailto):[^>\s]+)>")
_CODE = re.compile(r"`+(?P<code>[^`\n]+?)`+")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(?P<text>.+?)(?<=\S)\1")
_EMPHASIS_STAR = re.compile(r"(?<![\w*])\*(?=\S)(?P<text>[^*\n]+?)(?<=\S)\*(?![\w*])")
_EMPHASIS_UNDERSCORE = re.compile(r"(?<![\w_])_(?=\S)(?P<text>[^_\n]+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"~~(?=\S)(?P<text>.+?)(?<=\S)~~")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_INLINE_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>\n]*)?/?>")
# Escaped characters are parked in the Private Use Area while markup is removed, so that
# "\*" survives as a literal asterisk.
_PARK = 0xF0000


def _front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Metadata and the rest of the text; a malformed block is left in the text."""
    match = _FRONT_MATTER_YAML.match(text)
    if match:
        values: dict[str, Any] = {}
        for line in match.group("body").splitlines():
            if line[:1].isspace():
                continue  # nested YAML: not a field we use
            pair = _YAML_PAIR.fullmatch(line.strip())
            if pair:
                value = pair.group("value").strip()
                if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                    value = value[1:-1]
                values[pair.group("key").strip()] = value
        return values, text[match.end() :]
    match = _FRONT_MATTER_TOML.match(text)
    if match:
        try:
            return tomllib.loads(match.group("body")), text[match.end() :]
        except tomllib.TOMLDecodeError:
            return {}, text
    return {}, text


def _inline(line: str) -> str:
    line = _ESCAPE.sub(lambda m: chr(_PARK + ord(m.group(1))), line)
    line = _IMAGE.sub("", line)
    line = _LINK.sub(lambda m: m.group("text"), line)
    line = _AUTOLINK.sub(lambda m: m.group("url"), line)
    line = _CODE.sub(lambda m: m.group("code"), line)
    line = _STRONG.sub(lambda m: m.group("text"), line)
    line = _EMPHASIS_STAR.sub(lambda m: m.group("text"), line)
    line = _EMPHASIS_UNDERSCORE.sub(lambda m: m.group("text"), line)
    line = _STRIKE.sub(lambda m: m.group("text"), line)
    line = _INLINE_TAG.sub("", line)
    return "".join(
        chr(ord(ch) - _PARK) if _PARK <= ord(ch) < _PARK + 0x80 else ch for ch in line
    ).rstrip()


def markdown_to_record(markdown: str, record_index: int = 0) -> Record:
    """Plain prose from Markdown, with front-matter metadata and the first H1 as title.

    Headings stay in the text as their own lines (a headline is a sentence); code blocks,
    images, horizontal rules and link definitions go; links keep their words.
    """
    meta, body = _front_matter(markdown)
    body = _HTML_COMMENT.sub("", body)
    lines: list[str] = []
    heading_title: str | None = None
    fence: str | None = None
    for raw in body.splitlines():
        opened = _FENCE.match(raw)
        if fence is not None:
            if (
                opened
                and opened.group("fence")[0] == fence[0]
                and len(opened.group("fence")) >= len(fence)
            ):
                fence = None
            continue
        if opened:
            fence = opened.group("fence")
            continue
        if _RULE.fullmatch(raw) or (_TABLE_RULE.fullmatch(raw) and "-" in raw):
            if raw.strip().startswith("=") and lines and heading_title is None:
                heading_title = lines[-1].strip() or None  # setext level-1 heading
            continue
        if _LINK_DEFINITION.fullmatch(raw):
            continue
        line = _QUOTE.sub("", raw, count=1) if _QUOTE.match(raw) else raw
        heading = _ATX.fullmatch(line)
        if heading:
            line = heading.group("text") or ""
            if heading.group("level") == "#" and heading_title is None:
                heading_title = _one_line(_inline(line))
        else:
            line = _LIST.sub("", line, count=1) if _LIST.match(line) else line
        line = _inline(line)
        if line.strip() or (lines and lines[-1].strip()):
            # Removed blocks (code, images, rules) leave one paragraph break, not several.
            lines.append(line)
    text = "\n".join(lines).strip("\n")
    if not text.strip():
        return Record(record_index, None, reason="empty")
    fields = _fields({str(k): v for k, v in meta.items()})
    url = _scalar(fields.get("url"))
    return Record(
        record_index=record_index,
        text=text,
        title=_scalar(fields.get("title")) or heading_title,
        published=_date_value(fields.get("published")),
        date_precision=_scalar(fields.get("date_precision")),
        outlet=_scalar(fields.get("outlet")),
        url=url,
    )
