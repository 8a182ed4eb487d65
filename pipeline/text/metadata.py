"""Document metadata: headline, outlet, and the optional seeds manifest."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from pipeline.text.clean import is_boilerplate_line
from pipeline.text.dates import is_date_line

__all__ = ["ManifestRow", "extract_title", "find_outlet", "parse_manifest"]

# Headlines run from a few words to a long sentence; a first line outside this range is a
# label or the first paragraph of an article that has no headline.
MIN_TITLE_WORDS = 3
MAX_TITLE_WORDS = 30
# Outlet names are short ("Reuters", "Today IT", "The Wall Street Journal").
MAX_OUTLET_WORDS = 6
# Where outlets name themselves: datelines open the article, credits close it.
OUTLET_HEADER_LINES = 8
OUTLET_FOOTER_LINES = 8

MANIFEST_COLUMNS = ("file", "published", "date_precision", "outlet", "url", "title")

# Two sentences on one line: ". " followed by a capital (or an opening quote).
_SENTENCE_BREAK = re.compile(r"[.!?][\"'\u201d\u2019]?\s+[\"'\u201c\u2018]?[A-Z]")
_OUTLET_LABEL = re.compile(
    r"(?:source|publisher|publication|outlet|published\s+by)\s*:\s*(?P<outlet>.+)",
    re.IGNORECASE,
)
# "KYIV, Jan 21 (Reuters) - ...", "WASHINGTON (AP) - ...": the wire or outlet in brackets
# before the dash that opens the first paragraph.
_DATELINE = re.compile(
    r"[^()\n]{0,60}\((?P<outlet>[A-Z][\w&.'\- ]{1,40})\)\s*[-\u2013\u2014]\s",
)
_COPYRIGHT = re.compile(
    r"(?:copyright\s*)?(?:\u00a9|\(c\)|copyright)\s*(?:(?:19|20)\d{2}(?:\s*[-\u2013]\s*(?:19|20)"
    r"\d{2})?\s*,?\s*)?(?P<outlet>.+)",
    re.IGNORECASE,
)
_RIGHTS = re.compile(r"[.,;]?\s*(?:all\s+rights\s+reserved|some\s+rights\s+reserved).*$", re.I)
_URL = re.compile(r"(?:https?://)?(?:www\.)?(?P<host>[a-z0-9-]+(?:\.[a-z0-9-]+)+)(?:/\S*)?", re.I)


def extract_title(clean_text: str) -> str | None:
    """The first line of the cleaned text when it looks like a headline, else None.

    A headline has 3 to 30 words, is not a date stamp or chrome, and is a single sentence
    at most. It is returned as written (surrounding whitespace removed).
    """
    first = next((line.strip() for line in clean_text.split("\n") if line.strip()), None)
    if first is None:
        return None
    words = first.split()
    if not MIN_TITLE_WORDS <= len(words) <= MAX_TITLE_WORDS:
        return None
    if is_date_line(first) or is_boilerplate_line(first):
        return None
    if _SENTENCE_BREAK.search(first):
        return None
    return first


def _clean_outlet(candidate: str) -> str | None:
    name = _RIGHTS.sub("", candidate).strip(" .,;:|-\u2013\u2014\"'")
    url = _URL.fullmatch(name)
    if url:
        return url.group("host").lower()
    words = name.split()
    if not words or len(words) > MAX_OUTLET_WORDS:
        return None
    # An outlet is a name: it starts with a capital or a digit, and is not a sentence.
    if not (name[0].isupper() or name[0].isdigit()) or _SENTENCE_BREAK.search(name):
        return None
    if any(ch in name for ch in "!?"):
        return None
    return name


def find_outlet(raw_text: str) -> str | None:
    """The outlet the text names as its publisher, or None when it does not say clearly.

    Looks for a "Source: <Outlet>" (or "Publisher:") line in the header or footer, a
    "(Reuters) -" style dateline at the start of a header line, and a "Copyright <Outlet>"
    or "(c) 2024 <Outlet>" line in the footer, in that order.
    """
    lines = [" ".join(line.split()) for line in raw_text.splitlines()]
    lines = [line for line in lines if line]
    header = lines[:OUTLET_HEADER_LINES]
    footer = lines[-OUTLET_FOOTER_LINES:]

    for line in [*reversed(footer), *header]:
        match = _OUTLET_LABEL.fullmatch(line)
        if match and (outlet := _clean_outlet(match.group("outlet"))):
            return outlet
    for line in header:
        match = _DATELINE.match(line)
        if match and (outlet := _clean_outlet(match.group("outlet"))):
            return outlet
    for line in reversed(footer):
        match = _COPYRIGHT.fullmatch(line)
        if match and (outlet := _clean_outlet(match.group("outlet"))):
            return outlet
    return None


@dataclass(frozen=True)
class ManifestRow:
    """One row of ``seeds/manifest.csv``; empty cells are None."""

    file: str
    published: str | None
    date_precision: str | None
    outlet: str | None
    url: str | None
    title: str | None


def _cell(cells: list[str], index: dict[str, int], name: str) -> str | None:
    position = index.get(name)
    if position is None or position >= len(cells):
        return None
    return cells[position].strip() or None


def parse_manifest(csv_text: str) -> dict[str, ManifestRow]:
    """Parse the seeds manifest into rows keyed by ``file`` as written.

    Any subset of the columns ``file, published, date_precision, outlet, url, title`` may
    appear (header names are matched case-insensitively); other columns are ignored. Rows
    with an empty ``file`` cell are skipped.

    Raises:
        ValueError: when there is no ``file`` column, or when one file is listed twice with
            different values (metadata that contradicts itself must not be guessed between).
    """
    reader = csv.reader(io.StringIO(csv_text.removeprefix("\ufeff")), skipinitialspace=True)
    header = next(reader, None)
    columns = [name.strip().lower() for name in header or []]
    if "file" not in columns:
        found = ", ".join(repr(c) for c in columns if c) or "none"
        raise ValueError(f"manifest has no 'file' column (columns found: {found})")
    index = {name: columns.index(name) for name in MANIFEST_COLUMNS if name in columns}

    rows: dict[str, ManifestRow] = {}
    for cells in reader:
        file = _cell(cells, index, "file")
        if file is None:
            continue
        row = ManifestRow(
            file=file,
            published=_cell(cells, index, "published"),
            date_precision=_cell(cells, index, "date_precision"),
            outlet=_cell(cells, index, "outlet"),
            url=_cell(cells, index, "url"),
            title=_cell(cells, index, "title"),
        )
        if file in rows and rows[file] != row:
            raise ValueError(f"manifest lists {file!r} twice with different values")
        rows[file] = row
    return rows
