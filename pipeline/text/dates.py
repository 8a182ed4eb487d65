"""Publication dates: parse metadata values and find the date line in an article's header.

A publication date is only ever read from metadata or from the header of the text; it is
never guessed from the events an article reports and never defaults to the ingestion date.
Month-precise dates are stored as the first of the month with precision ``'month'``.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

__all__ = [
    "PRECISIONS",
    "ResolvedDate",
    "find_date_in_text",
    "is_date_line",
    "parse_date_value",
    "resolve_date",
    "strip_date_prefix",
]

# The values of documents.date_precision, finest first.
PRECISIONS = ("day", "month", "year")
_PRECISION_RANK = {"day": 3, "month": 2, "year": 1}

# The header zone: publication dates sit above the body (dateline, byline, "Published:").
# Dates further down are the dates of the events reported, not of the article. Eight lines
# cover a headline, section labels, byline and date line with room to spare; 600 characters
# covers headers made of many short navigation lines.
HEADER_MAX_LINES = 8
HEADER_MAX_CHARS = 600

# Four-digit years of the news era only, so that quantities ("3000 shells") are not years.
_YEAR = r"(?P<year>(?:19|20)\d{2})(?!\d)"
_MONTH_NAME = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?"
    r"|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)(?![a-z])\.?"
)
_DAY = r"(?<!\d)(?P<day>[0-3]?\d)(?:st|nd|rd|th)?(?!\d)"

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip

# Each pattern is one way of writing a date that carries a year. Where several match at the
# same position the longest valid one wins, so "January 21, 2024" is read as a day rather
# than as the month "January ... 2024".
_DATE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        # January 21, 2024 / Jan. 21 2024 / Jan.21 - 2024
        rf"\b{_MONTH_NAME}\s*{_DAY}(?:\s*,\s*|\s*[-\u2013\u2014/]\s*|\s+){_YEAR}",
        # 21 January 2024 / 21st of Jan., 2024 / 21-Jan-2024
        rf"{_DAY}(?:\s+of)?[\s-]+{_MONTH_NAME},?[\s-]+{_YEAR}",
        # January 2024 / Jan. 2024 (month precision)
        rf"\b{_MONTH_NAME},?\s+{_YEAR}",
        # 2024-01-21 / 2024/01/21 / 2024.01.21 / 2024-01 (month precision)
        rf"(?<![\d/.-]){_YEAR}(?P<sep>[-/.])(?P<month>[01]?\d)(?!\d)"
        r"(?:(?P=sep)(?P<day>[0-3]?\d)(?!\d))?(?![/.-]\d)",
        # 21.01.2024 / 01/21/2024 / 21-01-2024 (order resolved in _to_date)
        rf"(?<![\d/.-])(?P<a>[0-3]?\d)(?P<sep>[-/.])(?P<b>[0-3]?\d)(?P=sep){_YEAR}",
    )
)

_YEAR_ONLY = re.compile(rf"(?<!\d){_YEAR}")

# A day and month without a year: never a publication date (we do not invent years), but a
# line holding only this is still a date stamp for the cleaner to drop.
_PARTIAL_DATES = (
    re.compile(rf"\b{_MONTH_NAME}\s*{_DAY}", re.IGNORECASE),
    re.compile(rf"{_DAY}(?:\s+of)?\s+{_MONTH_NAME}", re.IGNORECASE),
)

_WEEKDAY = re.compile(
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    r"|mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)\.?,?\s+",
    re.IGNORECASE,
)

# Words that announce a date stamp ("Published: 21 March 2023", "date 2024-01").
_DATE_LABEL = re.compile(
    r"(?:(?:first\s+|last\s+)?(?:published|posted|updated|modified)(?:\s+(?:on|at))?"
    r"|publication\s+date|release\s+date|dated?)(?![A-Za-z])\s*[:\-\u2013\u2014]?\s*",
    re.IGNORECASE,
)

_UPDATE_LABEL = re.compile(r"(?:last\s+)?(?:updated|modified)(?![A-Za-z])", re.IGNORECASE)

# A clock time with optional am/pm and time zone: "6:45 PM CET", "18:45:00Z", "10.30 GMT".
# Zone abbreviations are matched case-sensitively so that a following capitalised word is not
# swallowed as a zone.
_TIME = re.compile(
    r"(?:\d{1,2}[:.h]\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[ap]\.?\s?m\.?)?|\d{1,2}\s*[ap]\.?m\.?)"
    r"(?:\s*(?-i:Z|[+-]\d{2}:?\d{2}|\(?(?:UTC|GMT|[A-Z]{2,5})(?:\s*[+-]\d{1,2}(?::?\d{2})?)?\)?))?"
    r"(?![A-Za-z\d])",
    re.IGNORECASE,
)
_TIME_JOINER = re.compile(r"\s*(?:,|\bat\b|@|\||[-\u2013\u2014]|T(?=\d)|\u00b7|\u2022)?\s*")
# What may separate a date stamp from the text after it on the same line.
# "(" lets "January 21, 2024 (Reuters) -" count as a stamp.
_SEPARATOR = re.compile(r"\s*[|\u2022\u00b7\u2014\u2013:-]+\s*|\s*$|\s*(?=\()")
_SEGMENT_SPLIT = re.compile(r"\s+[|\u2022\u00b7]\s+")
# "KYIV, January 21, 2024 -": a city dateline in capitals before the date.
_CITY_DATELINE = re.compile(r"[A-Z][A-Z .'\-]{1,30}(?:\([^)]{1,30}\))?,\s*")
# Invisible characters the header may still carry before cleaning.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_ODD_SPACES = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\t]")


@dataclass(frozen=True)
class ResolvedDate:
    """The publication date of one document and where it came from."""

    published_date: datetime.date | None
    date_precision: str | None
    date_source: str


@dataclass(frozen=True)
class _Found:
    date: datetime.date
    precision: str
    start: int
    end: int


def _to_date(match: re.Match[str]) -> tuple[datetime.date, str] | None:
    groups = match.groupdict()
    year = int(groups["year"])
    if groups.get("a") is not None:
        first, second = int(groups["a"]), int(groups["b"])
        if groups["sep"] == ".":
            # Dotted numeric dates are day-first wherever they are written.
            day, month = first, second
        elif first > 12 >= second:
            day, month = first, second
        elif second > 12 >= first:
            day, month = second, first
        elif first == second:
            day = month = first
        else:
            # 03/04/2024 is March or April depending on the country: do not guess.
            return None
    else:
        if groups.get("mon") is not None:
            month = _MONTHS[groups["mon"][:3].lower()]
        elif groups.get("day") is None and len(groups["month"]) < 2:
            # "2024-5" or "2024.5" is more likely a range or a decimal than May 2024.
            return None
        else:
            month = int(groups["month"])
        day = int(groups["day"]) if groups.get("day") is not None else 0
    try:
        if day == 0:
            return datetime.date(year, month, 1), "month"
        return datetime.date(year, month, day), "day"
    except ValueError:
        return None


def _date_at(text: str, pos: int = 0) -> _Found | None:
    """The longest valid date starting exactly at ``pos`` (what _scan would pick there)."""
    best: _Found | None = None
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text, pos)
        if match is None:
            continue
        parsed = _to_date(match)
        if parsed is not None and (best is None or match.end() > best.end):
            best = _Found(parsed[0], parsed[1], match.start(), match.end())
    return best


def _skip_time(text: str, pos: int) -> int:
    """Position after an optional clock time that follows a date at ``pos``."""
    joiner = _TIME_JOINER.match(text, pos)
    start = joiner.end() if joiner else pos
    time = _TIME.match(text, start)
    return time.end() if time else pos


def _normalise_line(line: str) -> str:
    return _ODD_SPACES.sub(" ", line.translate(_INVISIBLE)).strip()


@dataclass(frozen=True)
class _Marker:
    """A date stamp at the start of a line and where the text after it begins."""

    date: datetime.date
    precision: str
    end: int


def _marker(line: str) -> _Marker | None:
    """Find a date stamp at the very start of an (already normalised) line.

    A stamp is an optional label ("Published:", "date"), an optional weekday, a date and an
    optional time. Unlabelled dates only count when the line ends or a separator follows,
    so a sentence that opens with a date ("January 2024 was the deadliest month") is text.
    """
    pos = 0
    label = _DATE_LABEL.match(line)
    labelled = label is not None
    if label is not None:
        pos = label.end()
    weekday = _WEEKDAY.match(line, pos)
    if weekday:
        pos = weekday.end()

    found = _date_at(line, pos)
    if found is not None:
        end = _skip_time(line, found.end)
        timed = end > found.end
        sep = _SEPARATOR.match(line, end)
        if sep and (sep.end() > end or end == len(line)):
            return _Marker(found.date, found.precision, sep.end())
        if labelled or timed:
            return _Marker(found.date, found.precision, end + _leading_space(line, end))
        return None

    # A bare year only counts with a label and on its own ("Published 2024"), never before
    # more words ("Published 2024 figures show ...").
    year = _YEAR_ONLY.match(line, pos)
    if labelled and year and _SEPARATOR.fullmatch(line, year.end()):
        return _Marker(datetime.date(int(year.group("year")), 1, 1), "year", len(line))
    return None


def _leading_space(line: str, pos: int) -> int:
    return len(line[pos:]) - len(line[pos:].lstrip())


def is_date_line(line: str) -> bool:
    """True when ``line`` holds nothing but a date and/or time stamp (metadata, not text)."""
    text = _normalise_line(line)
    if not text:
        return False
    marker = _marker(text)
    if marker is not None and marker.end >= len(text):
        return True
    pos = 0
    label = _DATE_LABEL.match(text)
    if label is not None:
        pos = label.end()
    weekday = _WEEKDAY.match(text, pos)
    if weekday:
        pos = weekday.end()
    partial = next((m for p in _PARTIAL_DATES if (m := p.match(text, pos))), None)
    if partial:
        pos = _skip_time(text, partial.end())
    elif (time := _TIME.match(text, pos)) is not None and pos < len(text):
        pos = time.end()
    else:
        return False
    return bool(_SEPARATOR.fullmatch(text, pos))


_SENTENCE_START = re.compile(r"[\"'\u201c\u2018(]?[A-Z0-9]")


def strip_date_prefix(line: str) -> str:
    """Remove a date stamp that prefixes a sentence on the same line.

    ``" date 2024-01 North Korea is ..."`` gives ``"North Korea is ..."``. A line that does
    not start with a stamp, or whose remainder is not sentence-like (at least three words,
    starting with a capital, digit or quote), is returned unchanged.
    """
    text = _normalise_line(line)
    marker = _marker(text)
    if marker is None or marker.end >= len(text):
        return line
    rest = text[marker.end :].strip()
    if len(rest.split()) >= 3 and _SENTENCE_START.match(rest):
        return rest
    return line


def parse_date_value(
    value: str | None, precision: str | None = None
) -> tuple[datetime.date, str] | None:
    """Parse one metadata date value.

    Args:
        value: "2024-01-21", "2024-01", "2024", ISO timestamps, "January 21, 2024",
            "21 January 2024", "Jan. 21, 2024", "January 2024", ...
        precision: "day", "month" or "year" to truncate to (month gives the first of the
            month). It can only coarsen: a month-precise value stays month-precise even when
            "day" is asked for. Unknown precisions are ignored.

    Returns:
        ``(date, precision)``, or None when the value is missing or not a date.
    """
    if value is None:
        return None
    text = _normalise_line(value)
    weekday = _WEEKDAY.match(text)
    if weekday:
        text = text[weekday.end() :]
    if not text:
        return None

    parsed: tuple[datetime.date, str] | None = None
    found = _date_at(text)
    if found is not None:
        end = _skip_time(text, found.end)
        if not text[end:].strip():
            parsed = (found.date, found.precision)
    elif (year := _YEAR_ONLY.fullmatch(text)) is not None:
        parsed = (datetime.date(int(year.group("year")), 1, 1), "year")
    if parsed is None:
        return None
    return _truncate(parsed, precision)


def _truncate(
    parsed: tuple[datetime.date, str], precision: str | None
) -> tuple[datetime.date, str]:
    date, own = parsed
    wanted = (precision or "").strip().lower()
    if wanted not in _PRECISION_RANK or _PRECISION_RANK[wanted] >= _PRECISION_RANK[own]:
        return parsed
    if wanted == "month":
        return date.replace(day=1), "month"
    return date.replace(month=1, day=1), "year"


def _header_lines(raw_text: str) -> list[str]:
    lines: list[str] = []
    offset = 0
    for raw_line in raw_text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = _normalise_line(raw_line)
        if line and (len(lines) < HEADER_MAX_LINES or offset < HEADER_MAX_CHARS):
            lines.append(line)
        offset += len(raw_line) + 1
        if offset >= HEADER_MAX_CHARS and len(lines) >= HEADER_MAX_LINES:
            break
    return lines


def _line_date(line: str) -> tuple[datetime.date, str] | None:
    marker = _marker(line)
    if marker is None:
        # "KYIV, January 21, 2024 - ..." (a dateline after the city).
        city = _CITY_DATELINE.match(line)
        if city:
            marker = _marker(line[city.end() :])
    if marker is None:
        # "By Jane Doe | Jan 21, 2024 | 6:45 PM": a stamp between separators.
        for segment in _SEGMENT_SPLIT.split(line)[1:]:
            candidate = _marker(segment)
            if candidate is not None and candidate.end >= len(segment):
                marker = candidate
                break
    return (marker.date, marker.precision) if marker else None


def find_date_in_text(raw_text: str) -> tuple[datetime.date, str] | None:
    """Find the publication date stamped in the header of a raw (uncleaned) article.

    Only date-like lines in the header zone count: a line that is a date stamp, a labelled
    stamp before the first sentence, a "CITY, <date>" dateline, or a stamp between "|"
    separators. Dates without a year give nothing. When several lines qualify the most
    precise wins, then a publication stamp over an "Updated" one, then the first.
    """
    best: tuple[datetime.date, str] | None = None
    best_rank = (0, False)
    for line in _header_lines(raw_text):
        found = _line_date(line)
        if found is None:
            continue
        # At equal precision an original publication stamp beats an "Updated" one.
        rank = (_PRECISION_RANK[found[1]], not _UPDATE_LABEL.match(line))
        if rank > best_rank:
            best, best_rank = found, rank
    return best


def resolve_date(
    raw_text: str, meta_value: str | None = None, meta_precision: str | None = None
) -> ResolvedDate:
    """Publication date from metadata first, then from the text header, else unknown."""
    from_meta = parse_date_value(meta_value, meta_precision)
    if from_meta is not None:
        return ResolvedDate(from_meta[0], from_meta[1], "metadata")
    from_text = find_date_in_text(raw_text)
    if from_text is not None:
        return ResolvedDate(from_text[0], from_text[1], "text")
    return ResolvedDate(None, None, "unknown")
