"""Event times: the time expressions of a claim's sentence, resolved against the date the
article was published (here 20 November 2024, a Wednesday)."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.text.event_time import event_time

PUBLISHED = dt.date(2024, 11, 20)
D = dt.date


@pytest.mark.parametrize(
    ("sentence", "start", "end", "precision", "words"),
    [
        # absolute
        (
            "The contract was signed on 14 March 2023 in Ankara.",
            D(2023, 3, 14),
            D(2023, 3, 14),
            "day",
            "14 March 2023",
        ),  # noqa: E501
        (
            "Deliveries began on March 14, 2023, officials said.",
            D(2023, 3, 14),
            D(2023, 3, 14),
            "day",
            "March 14, 2023",
        ),  # noqa: E501
        (
            "The first batch left port in June 2024.",
            D(2024, 6, 1),
            D(2024, 6, 30),
            "month",
            "June 2024",
        ),  # noqa: E501
        (
            "In 2023 the plant built 1,500 drones.",
            D(2023, 1, 1),
            D(2023, 12, 31),
            "year",
            "In 2023",
        ),  # noqa: E501
        (
            "The shells arrived in late 2023.",
            D(2023, 9, 1),
            D(2023, 12, 31),
            "year",
            "in late 2023",
        ),  # noqa: E501
        # resolved against the publication date
        (
            "On Oct. 3 the army fired two of the missiles.",
            D(2024, 10, 3),
            D(2024, 10, 3),
            "day",
            "On Oct. 3",
        ),  # noqa: E501
        (
            "The launchers were seen in August near the border.",
            D(2024, 8, 1),
            D(2024, 8, 31),
            "month",
            "in August",
        ),  # noqa: E501
        (
            "The launchers were seen in December near the border.",
            D(2023, 12, 1),
            D(2023, 12, 31),
            "month",
            "in December",
        ),  # noqa: E501
        (
            "Last week the navy received four boats.",
            D(2024, 11, 13),
            D(2024, 11, 20),
            "day",
            "Last week",
        ),  # noqa: E501
        (
            "Yesterday a drone from the batch was shot down.",
            D(2024, 11, 19),
            D(2024, 11, 19),
            "day",
            "Yesterday",
        ),  # noqa: E501
        (
            "On Monday a cargo plane landed with the rockets.",
            D(2024, 11, 18),
            D(2024, 11, 18),
            "day",
            "On Monday",
        ),  # noqa: E501
        (
            "Three months ago the first tanks were unloaded.",
            D(2024, 8, 1),
            D(2024, 8, 31),
            "month",
            "Three months ago",
        ),  # noqa: E501
        (
            "Last year the country bought 40 howitzers.",
            D(2023, 1, 1),
            D(2023, 12, 31),
            "year",
            "Last year",
        ),  # noqa: E501
        # ranges
        (
            "It has shipped about a million rounds since August.",
            D(2024, 8, 1),
            PUBLISHED,
            "month",
            "since August",
        ),  # noqa: E501
        (
            "Since 2022 the two states have traded oil for arms.",
            D(2022, 1, 1),
            PUBLISHED,
            "year",
            "Since 2022",
        ),  # noqa: E501
        (
            "The convoys ran between March and May 2024.",
            D(2024, 3, 1),
            D(2024, 5, 31),
            "month",
            "between March and May 2024",
        ),  # noqa: E501
        (
            "Deliveries ran from December 2023 to February 2024, the report said.",
            D(2023, 12, 1),
            D(2024, 2, 29),
            "month",
            "from December 2023 to February 2024",
        ),  # noqa: E501
    ],
)
def test_time_expressions_resolve_to_a_range_with_their_precision(
    sentence: str, start: dt.date, end: dt.date, precision: str, words: str
):
    found = event_time(sentence, PUBLISHED)
    assert found is not None
    assert (found.start, found.end, found.precision, found.text) == (start, end, precision, words)


@pytest.mark.parametrize(
    "sentence",
    [
        "The country sent 3,000 shells and 120 rockets to its ally.",
        "The drones flew from the coast to the capital.",
        "Officials said 2,738 launchers were built.",
    ],
)
def test_no_time_stated_gives_none(sentence: str):
    assert event_time(sentence, PUBLISHED) is None


def test_relative_expressions_need_the_publication_date():
    assert event_time("The launchers were seen in August.", None) is None
    assert event_time("Last week the navy received four boats.", None) is None
    stated = event_time("The first batch left port in June 2024.", None)
    assert stated is not None and stated.precision == "month"


def test_a_range_never_ends_after_the_article_was_published():
    found = event_time("From 2023 to 2025 the plant will build drones.", PUBLISHED)
    assert found is not None and found.end == PUBLISHED


def test_what_a_month_known_publication_date_can_place():
    """An article dated to the month places "in August" and "last year", not "last week"."""
    march = dt.date(2024, 3, 1)
    found = event_time("In August last year the first train left.", march, "month")
    assert found is not None and (found.start, found.precision) == (D(2023, 8, 1), "month")
    assert event_time("Last week the navy received four boats.", march, "month") is None


def test_since_without_a_publication_date_is_open_ended():
    found = event_time("It has sent drones since 2022.", None)
    assert found is not None and (found.start, found.end) == (D(2022, 1, 1), None)


def test_a_time_that_cannot_be_placed_is_still_a_time():
    from pipeline.text.event_time import states_time

    assert states_time("Last week the navy received four boats.")
    assert event_time("Last week the navy received four boats.", None) is None
    assert not states_time("The navy received four boats.")
