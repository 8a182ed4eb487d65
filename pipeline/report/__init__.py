"""The evidence report: the transfer register of a published warehouse, each row with the
claims behind it (sentence, who says so, hedged or denied, outlet, date, story, file),
and the monthly charts, written as one self-contained HTML file beside the warehouse.

No server and no network: the page has no external resource, the charts are data URIs.
The same warehouse file gives the same bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline.report.data import Limits, ReportData, load
from pipeline.report.render import render

REPORT_NAME = "report.html"
__all__ = ["Limits", "WrittenReport", "build_report", "report_path", "write_report"]


@dataclass(frozen=True)
class WrittenReport:
    path: Path
    size: int
    transfers: int
    claims: int


def report_path(warehouse: Path | str) -> Path:
    """Where the report of a warehouse goes: `report.html` in the warehouse's folder."""
    return Path(warehouse).parent / REPORT_NAME


def read_report_data(warehouse: Path | str, limits: Limits | None = None) -> ReportData:
    """What the report shows, read from the warehouse opened read-only."""
    path = Path(warehouse)
    if not path.is_file():
        raise FileNotFoundError(f"No published warehouse at {path}: run `make run` first.")
    con = duckdb.connect(str(path), read_only=True)
    try:
        return load(con, path, limits)
    finally:
        con.close()


def build_report(warehouse: Path | str, limits: Limits | None = None) -> tuple[str, ReportData]:
    """The report page of a warehouse, and the data it shows."""
    data = read_report_data(warehouse, limits)
    return render(data), data


def write_report(
    warehouse: Path | str, target: Path | str | None = None, limits: Limits | None = None
) -> WrittenReport:
    """Write the report (default: `report.html` beside the warehouse) atomically: a reader
    sees the old page or the new one, never half of one."""
    page, data = build_report(warehouse, limits)
    path = Path(target) if target else report_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.writing")
    staging.write_text(page, encoding="utf-8")
    os.replace(staging, path)
    return WrittenReport(path, path.stat().st_size, data.transfers_total, data.claims)
