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

import re

from pipeline.text.json_records import parse_json_file
from pipeline.text.markup import MAX_HTML_CHARS, html_to_record, markdown_to_record
from pipeline.text.records import FIELDS, ParsedFile, Record

__all__ = [
    "FIELDS",
    "FORMATS",
    "MAX_HTML_CHARS",
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

_HTML_START = re.compile(r"\s*(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html|<\?xml[^>]*>\s*<html)",
                         re.IGNORECASE | re.DOTALL)  # fmt: skip


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
        return parse_json_file(source_format, text)
    return _single(
        source_format, Record(0, text) if text.strip() else Record(0, None, reason="empty")
    )


def _single(source_format: str, record: Record) -> ParsedFile:
    return ParsedFile(source_format, (record,), record.reason)
