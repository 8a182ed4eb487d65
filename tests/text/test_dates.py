import datetime

import pytest

from pipeline.text.dates import (
    ResolvedDate,
    find_date_in_text,
    is_date_line,
    parse_date_value,
    resolve_date,
    strip_date_prefix,
)

D = datetime.date


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-11-05", (D(2023, 11, 5), "day")),
        ("2023-11", (D(2023, 11, 1), "month")),
        ("2023", (D(2023, 1, 1), "year")),
        ("  2023-11-05  ", (D(2023, 11, 5), "day")),
        ("2023-11-05T07:30:00Z", (D(2023, 11, 5), "day")),
        ("2023-11-05T23:30:00.250-05:00", (D(2023, 11, 5), "day")),
        ("2023-11-05 07:30", (D(2023, 11, 5), "day")),
        ("November 5, 2023", (D(2023, 11, 5), "day")),
        ("5 November 2023", (D(2023, 11, 5), "day")),
        ("5th of November, 2023", (D(2023, 11, 5), "day")),
        ("Nov 5, 2023", (D(2023, 11, 5), "day")),
        ("Nov. 5, 2023", (D(2023, 11, 5), "day")),
        ("Nov.5 - 2023", (D(2023, 11, 5), "day")),
        ("Sept 30, 2023", (D(2023, 9, 30), "day")),
        ("Sunday, November 5, 2023", (D(2023, 11, 5), "day")),
        ("November 2023", (D(2023, 11, 1), "month")),
        ("05.11.2023", (D(2023, 11, 5), "day")),
        ("25/12/2023", (D(2023, 12, 25), "day")),
        ("12/25/2023", (D(2023, 12, 25), "day")),
    ],
)
def test_parse_date_value(value: str, expected: tuple[datetime.date, str]) -> None:
    assert parse_date_value(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "soon",
        "2023-02-30",
        "2023-13",
        "2023.5",
        "November 5",
        "05/06/2023",
        "12345",
    ],
)
def test_parse_date_value_invalid_gives_none(value: str | None) -> None:
    assert parse_date_value(value) is None


@pytest.mark.parametrize(
    ("value", "precision", "expected"),
    [
        ("2023-11-05", "month", (D(2023, 11, 1), "month")),
        ("2023-11-05", "year", (D(2023, 1, 1), "year")),
        ("November 5, 2023", "Month", (D(2023, 11, 1), "month")),
        ("2023-11-05", "day", (D(2023, 11, 5), "day")),
        # Precision can only coarsen: it never invents a day.
        ("2023-11", "day", (D(2023, 11, 1), "month")),
        ("2023-11-05", "fortnight", (D(2023, 11, 5), "day")),
        ("2023-11-05", None, (D(2023, 11, 5), "day")),
    ],
)
def test_parse_date_value_precision(
    value: str, precision: str | None, expected: tuple[datetime.date, str]
) -> None:
    assert parse_date_value(value, precision) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Headline words here\n\nMar.4 - 2024 10:15 AM EST\n\nBody.", (D(2024, 3, 4), "day")),
        (" date 2023-11 Officials confirmed the transfer.", (D(2023, 11, 1), "month")),
        ("A headline\nPublished: 21 March 2023\nBody.", (D(2023, 3, 21), "day")),
        ("A headline\nPosted on Monday, March 4, 2024 at 9:00\nBody.", (D(2024, 3, 4), "day")),
        ("A headline\n\nMarch 3, 2024\n\nBody.", (D(2024, 3, 3), "day")),
        ("A headline\n2024-03-03\nBody.", (D(2024, 3, 3), "day")),
        ("A headline\n03/03/2024\nBody.", (D(2024, 3, 3), "day")),
        ("A headline\nBy Ana Ruiz | Mar 3, 2024 | 5 min read\nBody.", (D(2024, 3, 3), "day")),
        ("KYIV, March 3, 2024 - Drones struck the port overnight.", (D(2024, 3, 3), "day")),
        ("A headline\nUpdated: November 2023\nBody.", (D(2023, 11, 1), "month")),
    ],
)
def test_find_date_in_text(raw: str, expected: tuple[datetime.date, str]) -> None:
    assert find_date_in_text(raw) == expected


def test_most_precise_header_date_wins() -> None:
    raw = "A headline\nNovember 2023\nPublished: 6 November 2023\nBody."
    assert find_date_in_text(raw) == (D(2023, 11, 6), "day")


def test_publication_stamp_beats_update_stamp() -> None:
    raw = "A headline\nUpdated: 9 November 2023\nPublished: 6 November 2023\nBody."
    assert find_date_in_text(raw) == (D(2023, 11, 6), "day")


@pytest.mark.parametrize(
    "raw",
    [
        # No year: never invent one.
        "A headline\n\nNovember 5\n\nBody text.",
        "A headline\nUpdated Nov. 5 at 10:00\nBody text.",
        # Dates inside sentences are event dates, not publication dates.
        "A headline\n\nThe shells arrived on November 5, 2023, officials said.",
        "January 2024 was the busiest month for deliveries.",
        # Ambiguous day/month order.
        "A headline\n05/06/2023\nBody text.",
        # A bare year with a label but more words after it.
        "A headline\nPublished 2023 figures show a rise.\nBody text.",
        "",
    ],
)
def test_find_date_in_text_gives_nothing(raw: str) -> None:
    assert find_date_in_text(raw) is None


def test_dates_deep_in_the_body_are_ignored() -> None:
    filler = "\n\n".join(f"Paragraph {i} says nothing about dates at all." for i in range(20))
    raw = f"A headline\n\n{filler}\n\nPublished: 6 November 2023"
    assert find_date_in_text(raw) is None


def test_header_zone_spans_many_short_lines() -> None:
    chrome = "\n".join(["Home", "World", "Europe", "Asia", "Defence", "Video", "Menu", "Search"])
    raw = f"{chrome}\nA headline\nPublished: 6 November 2023\nBody."
    assert find_date_in_text(raw) == (D(2023, 11, 6), "day")


def test_resolve_date_prefers_metadata() -> None:
    raw = "A headline\nPublished: 6 November 2023\nBody."
    assert resolve_date(raw, "2023-12-01", "month") == ResolvedDate(
        D(2023, 12, 1), "month", "metadata"
    )


def test_resolve_date_falls_back_to_text_when_metadata_is_missing_or_invalid() -> None:
    raw = "A headline\nPublished: 6 November 2023\nBody."
    expected = ResolvedDate(D(2023, 11, 6), "day", "text")
    assert resolve_date(raw) == expected
    assert resolve_date(raw, "not a date") == expected


def test_resolve_date_unknown() -> None:
    assert resolve_date("A headline\n\nBody without any date.") == ResolvedDate(
        None, None, "unknown"
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Mar.4 - 2024 10:15 AM EST", True),
        ("Published: 21 March 2023", True),
        ("Sunday 5 November 2023", True),
        ("10:15 AM EST", True),
        ("Nov 5", True),
        ("January 2024 was the busiest month.", False),
        ("Drones hit Odesa on 5 November 2023.", False),
        ("The 2023 budget", False),
    ],
)
def test_is_date_line(line: str, expected: bool) -> None:
    assert is_date_line(line) is expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (" date 2023-11 Officials confirmed it.", "Officials confirmed it."),
        ("Published: 5 Nov 2023 | Drones hit the port.", "Drones hit the port."),
        ("5 November 2023 - Drones hit the port.", "Drones hit the port."),
        ("November 2023 was quiet for once.", "November 2023 was quiet for once."),
        ("5 November 2023, drones hit the port.", "5 November 2023, drones hit the port."),
        ("2023-11-05", "2023-11-05"),
    ],
)
def test_strip_date_prefix(line: str, expected: str) -> None:
    assert strip_date_prefix(line) == expected
