"""Monthly charts of the marts, rendered offline to PNG bytes (matplotlib, Agg canvas).

Rows in, PNG bytes out; `draw_chart` writes a mart's chart beside the warehouse.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb

from pipeline.lifetime import long_lived

# Beyond this many series the colours stop being tellable apart: the rest become "other".
TOP_SERIES = 8
UNDATED = "undated"
OTHER = "other"
# matplotlib's "tab10" colours, less its grey, which is kept for "other".
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#17becf",
)
OTHER_COLOUR = "#b0b0b0"
BAR_HALF_WIDTH = 0.35


def month_range(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every first-of-month date from `first`'s month to `last`'s, both included."""
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(dt.date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def monthly_series(
    rows: Iterable[tuple[dt.date | None, str | None, int]], top: int = TOP_SERIES
) -> tuple[list[str], dict[str, list[int]]]:
    """Turn (month, series, value) rows into bar columns.

    Returns:
        The column labels (every month from the first to the last dated one, so gaps show,
        then "undated" when some rows have no month) and, per series, one value per column:
        the `top` series by total in decreasing order, then "other" for the rest. Rows of a
        series named "other" count under "other" (rows folded already, as top_series_sql
        folds them).
    """
    totals: dict[str, int] = {}
    cells: dict[tuple[dt.date | None, str], int] = {}
    for month, series, value in rows:
        name = series or "unknown"
        totals[name] = totals.get(name, 0) + int(value)
        cells[(month, name)] = cells.get((month, name), 0) + int(value)
    dated = sorted({m for m, _ in cells if m is not None})
    columns: list[dt.date | None] = list(month_range(dated[0], dated[-1])) if dated else []
    if any(m is None for m, _ in cells):
        columns.append(None)
    ranked = sorted((name for name in totals if name != OTHER), key=lambda n: (-totals[n], n))
    kept, rest = ranked[:top], ranked[top:] + ([OTHER] if OTHER in totals else [])
    values = {name: [cells.get((month, name), 0) for month in columns] for name in kept}
    if rest:
        values[OTHER] = [sum(cells.get((month, name), 0) for name in rest) for month in columns]
    labels = [month.strftime("%Y-%m") if month else UNDATED for month in columns]
    return labels, values


def top_series_sql(table: str, series: str, value: str, top: int = TOP_SERIES) -> str:
    """SQL for the (month, series, value) rows of monthly_series with the series beyond
    the `top` ones (ranked as monthly_series ranks them) folded into "other" already: a
    few hundred rows instead of one per month and series. Identifiers only, from the
    caller's constants."""
    return f"""
        WITH cells AS (
            SELECT month, coalesce({series}, 'unknown') AS name, sum({value}) AS value
            FROM {table} GROUP BY ALL
        ),
        ranked AS (
            SELECT name, row_number() OVER (ORDER BY sum(value) DESC, name) AS rank
            FROM cells WHERE name <> '{OTHER}' GROUP BY name
        )
        SELECT month, CASE WHEN rank <= {int(top)} THEN name ELSE '{OTHER}' END, sum(value)
        FROM cells LEFT JOIN ranked USING (name) GROUP BY ALL
    """


@lru_cache(maxsize=1)
def _matplotlib() -> tuple[Any, ...]:
    # Imported here: matplotlib takes a second or more to import, and the code location
    # (sensors, the UI) should not pay for it when no chart is drawn.
    with long_lived():
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.collections import PolyCollection
        from matplotlib.figure import Figure
        from matplotlib.patches import Patch
        from matplotlib.ticker import MaxNLocator
    return FigureCanvasAgg, PolyCollection, Figure, Patch, MaxNLocator


def stacked_bars_png(
    labels: list[str], values: dict[str, list[int]], title: str, y_label: str
) -> bytes:
    """A stacked bar chart, one bar per label, one colour per series, as PNG bytes."""
    FigureCanvasAgg, PolyCollection, Figure, Patch, MaxNLocator = _matplotlib()
    width = min(14.0, 5.0 + 0.45 * max(len(labels), 1))
    figure = Figure(figsize=(width, 4.2), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    bottom = [0] * len(labels)
    legend = []
    # One polygon collection per series rather than one patch per bar: matplotlib draws a
    # collection far faster than as many patches.
    for index, (name, heights) in enumerate(values.items()):
        colour = OTHER_COLOUR if name == OTHER else PALETTE[index % len(PALETTE)]
        boxes = [
            [
                (x - BAR_HALF_WIDTH, b),
                (x + BAR_HALF_WIDTH, b),
                (x + BAR_HALF_WIDTH, b + h),
                (x - BAR_HALF_WIDTH, b + h),
            ]
            for x, (b, h) in enumerate(zip(bottom, heights, strict=True))
            if h
        ]
        axes.add_collection(PolyCollection(boxes, facecolors=colour, edgecolors="none"))
        legend.append(Patch(color=colour, label=name))
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    axes.set_xlim(-0.6, max(len(labels), 1) - 0.4)
    axes.set_ylim(0, max(max(bottom, default=0), 1) * 1.05)
    # A long range would crowd the axis: label about a dozen months.
    step = max(1, math.ceil(len(labels) / 12))
    positions = list(range(len(labels)))
    axes.set_xticks(positions[::step], labels[::step], rotation=45, ha="right")
    axes.set_ylabel(y_label)
    axes.set_title(title, loc="left")
    axes.spines[["top", "right"]].set_visible(False)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    if values:
        axes.legend(
            handles=legend, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9
        )
    else:
        axes.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=axes.transAxes)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


@dataclass(frozen=True)
class MonthlyChart:
    """A stacked bar chart of one mart: `value` summed per month and `series`."""

    series: str
    value: str
    title: str


CHARTS: dict[str, MonthlyChart] = {
    "mentions_by_actor_month": MonthlyChart(
        "actor_code", "mentions", "Monthly mentions by actor (top actors; month of publication)"
    ),
    "mentions_by_weapon_month": MonthlyChart(
        "weapon_class", "mentions", "Monthly mentions by weapon class (month of publication)"
    ),
}


def chart_folder(published: Path) -> Path:
    """Charts live beside the published warehouse, where users look for outputs."""
    return published.parent / "charts"


def _write_atomically(path: Path, data: bytes) -> None:
    # A reader (an image viewer, a browser) never sees a half-written PNG.
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.writing")
    staging.write_bytes(data)
    os.replace(staging, path)


def draw_chart(
    con: duckdb.DuckDBPyConnection, table: str, chart: MonthlyChart, folder: Path
) -> tuple[Path, bytes]:
    """Draw the chart of one mart and write it as `<folder>/<table>.png`; return the path
    and the PNG."""
    rows = con.execute(top_series_sql(table, chart.series, chart.value)).fetchall()
    labels, values = monthly_series(rows)
    path = folder / f"{table}.png"
    # Drawing takes about half a second (matplotlib's import a second more): when the
    # numbers are those of the PNG already written, it is shown again as it is.
    # The digest of what was drawn sits beside the PNG, so the two are replaced together.
    inputs = hashlib.sha256(repr((chart, labels, list(values.items()))).encode()).hexdigest()
    drawn = path.with_name(f".{path.name}.sha256")
    if path.is_file() and drawn.is_file() and drawn.read_text() == inputs:
        png = path.read_bytes()
    else:
        png = stacked_bars_png(labels, values, chart.title, chart.value)
        drawn.unlink(missing_ok=True)
        _write_atomically(path, png)
        _write_atomically(drawn, inputs.encode())
    return path, png
