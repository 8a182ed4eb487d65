"""What the report reads beside the warehouse's tables: the chart PNGs the marts draw
next to it, and the actors' display names from the lexicon."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from pipeline.marts.charts import CHARTS, chart_folder
from pipeline.settings import PROJECT_ROOT

ACTOR_CODES = PROJECT_ROOT / "pipeline" / "lexicon" / "actor_codes.csv"


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    png: bytes


def read_actor_names(path: Path = ACTOR_CODES) -> dict[str, str]:
    """actor_code -> display name from the lexicon; {} when it cannot be read."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            lines = (line for line in handle if not line.startswith("#"))
            return {
                row["actor_code"]: row["name"]
                for row in csv.DictReader(lines)
                if row.get("actor_code") and row.get("name")
            }
    except (OSError, KeyError, csv.Error):
        return {}


def read_charts(warehouse: Path) -> list[Chart]:
    """The PNG charts the marts wrote beside the warehouse, by file name."""
    folder = chart_folder(warehouse)
    if not folder.is_dir():
        return []
    charts = []
    for path in sorted(folder.glob("*.png")):
        if path.name.startswith("."):
            continue
        known = CHARTS.get(path.stem)
        title = known.title if known else path.stem.replace("_", " ")
        charts.append(Chart(path.stem, title, path.read_bytes()))
    return charts
