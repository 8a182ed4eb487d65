"""Monthly charts: the series behind the bars, and PNG bytes out."""

from __future__ import annotations

import datetime as dt

import duckdb

from pipeline.marts import charts

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_month_range_crosses_the_year_and_includes_both_ends():
    months = charts.month_range(dt.date(2023, 11, 1), dt.date(2024, 2, 1))
    assert months == [
        dt.date(2023, 11, 1),
        dt.date(2023, 12, 1),
        dt.date(2024, 1, 1),
        dt.date(2024, 2, 1),
    ]
    assert charts.month_range(dt.date(2024, 3, 1), dt.date(2024, 3, 1)) == [dt.date(2024, 3, 1)]


def test_monthly_series_fills_gaps_puts_undated_last_and_folds_the_tail_into_other():
    rows = [
        (dt.date(2024, 1, 1), "RUS", 5),
        (dt.date(2024, 3, 1), "RUS", 2),
        (dt.date(2024, 3, 1), "PRK", 4),
        (None, "PRK", 1),
        (dt.date(2024, 1, 1), "IRN", 1),
        (None, "CHN", 1),
    ]
    labels, values = charts.monthly_series(rows, top=2)
    assert labels == ["2024-01", "2024-02", "2024-03", "undated"]
    assert list(values) == ["RUS", "PRK", "other"]
    assert values["RUS"] == [5, 0, 2, 0]
    assert values["PRK"] == [0, 0, 4, 1]
    assert values["other"] == [1, 0, 0, 1]
    # Nothing is lost on the way.
    assert sum(map(sum, values.values())) == sum(r[2] for r in rows)


def test_the_tail_folded_in_sql_draws_the_same_columns_as_every_row():
    # Ties on the total (PRK and IRN) and the unknown series (null) included.
    rows = [
        (dt.date(2024, 1, 1), "RUS", 5),
        (dt.date(2024, 3, 1), "RUS", 2),
        (dt.date(2024, 3, 1), "PRK", 3),
        (None, "PRK", 1),
        (dt.date(2024, 1, 1), "IRN", 4),
        (None, None, 2),
        (dt.date(2024, 2, 1), "CHN", 1),
        (dt.date(2024, 2, 1), "CHN", 1),
    ]
    con = duckdb.connect()
    con.execute("CREATE TABLE mart (month DATE, code VARCHAR, mentions BIGINT)")
    con.executemany("INSERT INTO mart VALUES (?, ?, ?)", rows)
    for top in (1, 2, 3, 8):
        folded = con.execute(charts.top_series_sql("mart", "code", "mentions", top)).fetchall()
        assert charts.monthly_series(folded, top) == charts.monthly_series(rows, top)
    assert len(con.execute(charts.top_series_sql("mart", "code", "mentions", 2)).fetchall()) < 7


def test_monthly_series_of_nothing_is_empty():
    assert charts.monthly_series([]) == ([], {})


def test_stacked_bars_are_a_png_even_without_data():
    labels, values = charts.monthly_series([(dt.date(2024, 1, 1), "drone", 3), (None, "tank", 1)])
    png = charts.stacked_bars_png(labels, values, "Monthly mentions", "mentions")
    assert png.startswith(PNG_MAGIC) and len(png) > 5_000
    assert charts.stacked_bars_png([], {}, "Empty", "mentions").startswith(PNG_MAGIC)


def test_a_long_range_renders_with_every_month_as_a_column():
    rows = [(dt.date(2020 + m // 12, m % 12 + 1, 1), "drone", m) for m in range(0, 60, 7)]
    labels, values = charts.monthly_series(rows)
    assert len(labels) == 57 and labels[0] == "2020-01" and labels[-1] == "2024-09"
    assert charts.stacked_bars_png(labels, values, "Long", "mentions").startswith(PNG_MAGIC)
