"""When a reported event happened: the time expressions of a sentence, resolved against the
article's publication date.

Analysts code events by when they happened, not when they were reported ("North Korea has
sent about a million shells since August", "in 2023 the factory produced 2,738 drones",
"on Jan. 2 Russia fired ..."). An event time is a range of dates with the precision of the
words that state it: `day`, `month` or `year`. Expressions that need the publication date
to resolve ("last week", "in August", "on Tuesday") resolve only when it is known; nothing
is guessed from the ingestion date.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = ["EventTime", "event_time"]


@dataclass(frozen=True)
class EventTime:
    start: dt.date
    end: dt.date | None  # None: "since X" when the publication date is not known
    precision: str  # day, month or year: the finest unit the words state
    text: str  # the words of the expression


_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "a": 1, "an": 1}

_MONTH = r"(?P<{0}>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?(?![a-z])"  # noqa: E501
_YEAR = r"(?P<{0}>(?:19|20)\d\d)(?!\d)"
_DAY = r"(?P<{0}>[0-3]?\d)(?:st|nd|rd|th)?(?![\d:])"
_PART = r"(?:(?P<part>early|mid|late|the (?:start|beginning|middle|end) of)[\s-]+)?"


def _m(name: str = "month") -> str:
    return _MONTH.format(name)


def _y(name: str = "year") -> str:
    return _YEAR.format(name)


def _d(name: str = "day") -> str:
    return _DAY.format(name)


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _month_range(year: int, month: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, month, 1), _month_end(year, month)


def _year_range(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def _month_number(word: str) -> int:
    return _MONTHS[word.lower().rstrip(".")]


def _recent_year(month: int, published: dt.date, day: int = 1) -> int:
    """The year of the latest such month (and day) not after the publication date."""
    try:
        candidate = dt.date(published.year, month, day)
    except ValueError:
        candidate = dt.date(published.year, month, 1)
    return published.year if candidate <= published else published.year - 1


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    # (match, publication date or None) -> (start, end, precision), or None when the
    # expression does not resolve.
    resolve: Callable[[re.Match[str], dt.date | None], tuple[dt.date, dt.date, str] | None]
    # What the publication date must be known to for the expression to resolve: None (it
    # states its year), "month" ("in August", "last year") or "day" ("last week").
    needs: str | None = None


def _full_date(m: re.Match[str], published: dt.date | None):
    day = _safe_date(int(m["year"]), _month_number(m["month"]), int(m["day"]))
    return (day, day, "day") if day else None


def _month_year(m: re.Match[str], published: dt.date | None):
    return (*_month_range(int(m["year"]), _month_number(m["month"])), "month")


def _day_month(m: re.Match[str], published: dt.date | None):
    if published is None:
        return None
    month, number = _month_number(m["month"]), int(m["day"])
    day = _safe_date(_recent_year(month, published, number), month, number)
    return (day, day, "day") if day else None


def _month_only(m: re.Match[str], published: dt.date | None):
    if published is None:
        return None
    month = _month_number(m["month"])
    return (*_month_range(_recent_year(month, published), month), "month")


def _year_only(m: re.Match[str], published: dt.date | None):
    start, end = _year_range(int(m["year"]))
    part = (m.groupdict().get("part") or "").lower()
    if part in ("early", "the start of", "the beginning of"):
        end = dt.date(start.year, 4, 30)
    elif part in ("mid", "the middle of"):
        start, end = dt.date(start.year, 5, 1), dt.date(start.year, 8, 31)
    elif part in ("late", "the end of"):
        start = dt.date(start.year, 9, 1)
    return start, end, "year"


def _relative(m: re.Match[str], published: dt.date | None):
    if published is None:
        return None
    words = m.group(0).lower()
    if "yesterday" in words:
        day = published - dt.timedelta(days=1)
        return day, day, "day"
    if "today" in words or "this week" in words:
        start = published - dt.timedelta(days=published.weekday()) if "week" in words else published
        return start, published, "day"
    if "last week" in words or "past week" in words:
        return published - dt.timedelta(days=7), published, "day"
    if "this month" in words:
        return published.replace(day=1), published, "month"
    if "last month" in words or "past month" in words:
        first = published.replace(day=1) - dt.timedelta(days=1)
        return (*_month_range(first.year, first.month), "month")
    if "this year" in words:
        return dt.date(published.year, 1, 1), published, "year"
    if "last year" in words or "past year" in words:
        return (*_year_range(published.year - 1), "year")
    return None


def _weekday(m: re.Match[str], published: dt.date | None):
    if published is None:
        return None
    wanted = _WEEKDAYS.index(m["weekday"].lower())
    back = (published.weekday() - wanted) % 7 or 7
    day = published - dt.timedelta(days=back)
    return day, day, "day"


def _ago(m: re.Match[str], published: dt.date | None):
    if published is None:
        return None
    count = m["count"].lower()
    n = _NUMBERS.get(count) or int(count)
    unit = m["unit"].lower().rstrip("s")
    if unit == "day":
        day = published - dt.timedelta(days=n)
        return day, day, "day"
    if unit == "week":
        start = published - dt.timedelta(weeks=n)
        return start, start + dt.timedelta(days=6), "day"
    if unit == "month":
        month = published.month - n
        year = published.year + (month - 1) // 12
        return (*_month_range(year, (month - 1) % 12 + 1), "month")
    return (*_year_range(published.year - n), "year")


_I = re.IGNORECASE
# Characters of a text looked at: a time stated further into one sentence is not the time
# of what the sentence begins with, and a run of text without a sentence break that long
# is not prose.
MAX_CHARS = 2_000
# Single expressions, most specific first: where two overlap, the earlier rule wins. They
# come in three groups, by the word each needs: a month name, a year, or a relative time
# word (_ANY_TIME).
_AFTER = r"(?:on|by|since|from|until)"
_IN = r"(?:in|since|during|by|until|from|of|throughout)"
_WEEKDAY = r"(?P<weekday>monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_COUNT = r"(?P<count>\d{1,2}|one|two|three|four|five|six|a|an)"
_MONTH_RULES: tuple[_Rule, ...] = (
    _Rule(re.compile(rf"\b{_m()}\s+{_d()},?\s+{_y()}", _I), _full_date),
    _Rule(re.compile(rf"\b{_d()}(?:\s+of)?\s+{_m()},?\s+{_y()}", _I), _full_date),
    _Rule(re.compile(rf"\b{_m()},?\s+(?:of\s+)?{_y()}", _I), _month_year),
    _Rule(re.compile(rf"\b{_AFTER}\s+{_m()}\s+{_d()}\b", _I), _day_month, "month"),
    _Rule(
        re.compile(rf"\b{_AFTER}\s+(?:the\s+)?{_d()}(?:\s+of)?\s+{_m()}", _I), _day_month, "month"
    ),
    _Rule(
        re.compile(rf"\b(?:{_IN[3:-1]}|last|early|mid|late)[\s-]+{_m()}(?!\s*\d)", _I),
        _month_only,
        "month",
    ),
)
_YEAR_RULES: tuple[_Rule, ...] = (
    _Rule(re.compile(rf"\b{_IN}\s+{_PART}{_y()}", _I), _year_only),
    _Rule(re.compile(rf"\b{_PART[:-1]}{_y()}", _I), _year_only),  # "early 2024"
)
_WORD_RULES: tuple[_Rule, ...] = (
    _Rule(
        re.compile(r"\b(?:yesterday|today|this week|(?:last|past) week)\b", _I), _relative, "day"
    ),
    _Rule(re.compile(r"\b(?:last|past|this) (?:month|year)\b", _I), _relative, "month"),
    _Rule(re.compile(rf"\b(?:on|last)\s+{_WEEKDAY}\b", _I), _weekday, "day"),
    _Rule(re.compile(rf"\b{_COUNT}\s+(?P<unit>days?|weeks?)\s+ago\b", _I), _ago, "day"),
    _Rule(re.compile(rf"\b{_COUNT}\s+(?P<unit>months?|years?)\s+ago\b", _I), _ago, "month"),
)
# The word each group of rules needs: a month name, a year, or a relative time word ("ago"
# ends every "... ago", and "week", "month" and "year" every other relative rule). A text
# is searched only with the rules whose word it has: most sentences have none of them, or
# only a month's ("may"), and the rules are the costliest step of the row writing after
# the parse.
_ANY_TIME = re.compile(
    rf"\b{_m('month_word')}|(?P<year_number>(?:19|20)\d\d)(?!\d)"
    rf"|\b(?P<time_word>yesterday|today|week|month|year|ago|{_WEEKDAY[12:-1]})\b",
    _I,
)
_RULES_BY_WORD = (
    ("month_word", _MONTH_RULES),
    ("year_number", _YEAR_RULES),
    ("time_word", _WORD_RULES),
)
# "since" opens a range that runs to the publication date.
_SINCE = re.compile(r"\bsince\b", _I)
# "between X and Y", "from X to Y": a range from the start of X to the end of Y.
_RANGE = re.compile(
    r"\b(?:between|from)\s+(?P<a>.{3,30}?)\s+(?:and|to|until|through)\s+(?P<b>.{3,30}?)(?=[\s,.;]|$)",
    _I,
)  # noqa: E501


_KNOWN_TO = {"day": ("day",), "month": ("day", "month")}


def _rules_for(text: str) -> Iterator[_Rule]:
    """The rules that may match `text`, in their order: those whose word it has."""
    words = {match.lastgroup for match in _ANY_TIME.finditer(text)}
    return (rule for word, rules in _RULES_BY_WORD if word in words for rule in rules)


def _find(
    text: str, published: dt.date | None, precision: str = "day"
) -> list[tuple[int, int, dt.date | None, dt.date | None, str]]:
    """Every time expression, as (start offset, end offset, first day, last day, precision),
    earliest first; an expression inside an earlier-ranked one is skipped. One that needs a
    publication date known more finely than it is resolves to no days (None, None)."""
    found: list[tuple[int, int, dt.date | None, dt.date | None, str]] = []
    for rule in _rules_for(text):
        for match in rule.pattern.finditer(text):
            if any(a < match.end() and match.start() < b for a, b, *_ in found):
                continue
            known = rule.needs is None or (
                published is not None and precision in _KNOWN_TO[rule.needs]
            )
            resolved = rule.resolve(match, published) if known else None
            if resolved is not None:
                found.append((match.start(), match.end(), *resolved))
            else:
                found.append((match.start(), match.end(), None, None, ""))
    return sorted(found)


def _phrase(
    words: str, published: dt.date | None, precision: str
) -> tuple[dt.date, dt.date, str, int] | None:
    """A range bound on its own ("March", "May 2024", "2022"), read as if after "in": its
    first and last day, precision, and how many characters of `words` it spans."""
    found = _find(f"in {words}", published, precision)
    if not found or found[0][0] > 3 or found[0][2] is None or found[0][3] is None:
        return None
    return found[0][2], found[0][3], found[0][4], found[0][1] - 3


def _range(text: str, published: dt.date | None, precision: str) -> EventTime | None:
    """`between X and Y` / `from X to Y`: from the start of X to the end of Y; X takes Y's
    year when it states none ("between March and May 2024")."""
    for match in _RANGE.finditer(text):
        # The longest run of up to three words after the connector that reads as a time.
        tail = text[match.start("b") :].split()
        last, words = None, ""
        for size in (3, 2, 1):
            words = " ".join(tail[:size]).rstrip(",.;")
            last = _phrase(words, published, precision)
            if last is not None:
                words = words[: last[3]]
                break
        if last is None:
            continue
        first = None
        if not re.search(r"(?:19|20)\d\d", match["a"]):
            first = _phrase(f"{match['a']} {last[1].year}", published, precision)
        first = first or _phrase(match["a"], published, precision)
        if first is not None and first[0] <= last[1]:
            end = last[1] if published is None else min(last[1], max(published, first[0]))
            said = text[match.start() : match.start("b")] + words
            return EventTime(first[0], end, _coarser(first[2], last[2]), said)
    return None


def states_time(text: str) -> bool:
    """Whether the text has a time expression at all, resolvable or not (what _find would
    find something in)."""
    text = text[:MAX_CHARS]
    return any(rule.pattern.search(text) for rule in _rules_for(text))


def event_time(text: str, published: dt.date | None, precision: str = "day") -> EventTime | None:
    """The event time a sentence states, or None when it states none that resolves.

    Args:
        published: the publication date, None when unknown.
        precision: what `published` is known to (`day`, `month` or `year`): "last week"
            needs the day, "in August" or "last year" the month.

    Of several expressions the first in the sentence is taken; `since X` runs from X to
    the publication date (open-ended when that is unknown); `between X and Y` / `from X to
    Y` from X to Y. A range ending after the publication date ends at it.
    """
    text = text[:MAX_CHARS]
    found = _find(text, published, precision)
    if not found:
        return None
    first = found[0]
    ranged = _range(text, published, precision)
    if ranged is not None and text.find(ranged.text) <= first[0]:
        return ranged
    start, end, unit = first[2], first[3], first[4]
    if start is None or end is None:
        return None  # the time it states cannot be placed without a finer date
    words = text[first[0] : first[1]]
    before = text[max(0, first[0] - 12) : first[1]]
    since: dt.date | None = end
    if _SINCE.search(before):
        words = text[text.lower().rfind("since", 0, first[1]) : first[1]]
        since = published if published is not None and published >= start else None
    elif published is not None and end > published >= start:
        since = published
    return EventTime(start, since, unit, words.strip(" ,.;"))


def _coarser(a: str, b: str) -> str:
    order = ("day", "month", "year")
    return max(a, b, key=order.index)
