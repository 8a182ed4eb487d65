"""Marts: one asset per SQL model in `sql/models/`, rebuilt from the base tables, and one
blocking asset check per query in `sql/checks/`. The monthly mention marts also draw a
chart, shown in the UI and written next to the published warehouse."""

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from assets.metadata import markdown_table, table_metadata
from pipeline import charts
from pipeline.defs.resources import SalvoSettings, WorkingDuckDB
from pipeline.sql_checks import SqlCheck, load_checks, offending_rows
from pipeline.sql_models import SqlModel, load_models


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


def chart_folder(salvo: SalvoSettings) -> Path:
    """Charts live beside the published warehouse, where users look for outputs."""
    return salvo.published_path.parent / "charts"


def _write_atomically(path: Path, data: bytes) -> None:
    # A reader (an image viewer, a browser) never sees a half-written PNG.
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.writing")
    staging.write_bytes(data)
    os.replace(staging, path)


def render_chart(
    con: duckdb.DuckDBPyConnection, table: str, chart: MonthlyChart, folder: Path
) -> dict[str, dg.MetadataValue]:
    """Draw the chart of one mart, write it as `<folder>/<table>.png`, and return the
    metadata that shows it in the UI."""
    rows = con.execute(
        f"SELECT month, {chart.series}, sum({chart.value}) FROM {table} GROUP BY ALL"
    ).fetchall()
    labels, values = charts.monthly_series(rows)
    path = folder / f"{table}.png"
    # Drawing takes about half a second (matplotlib's import a second more): when the
    # numbers are those of the PNG already written, it is shown again as it is.
    # The digest of what was drawn sits beside the PNG, so the two are replaced together.
    inputs = hashlib.sha256(repr((chart, labels, list(values.items()))).encode()).hexdigest()
    drawn = path.with_name(f".{path.name}.sha256")
    if path.is_file() and drawn.is_file() and drawn.read_text() == inputs:
        png = path.read_bytes()
    else:
        png = charts.stacked_bars_png(labels, values, chart.title, chart.value)
        drawn.unlink(missing_ok=True)
        _write_atomically(path, png)
        _write_atomically(drawn, inputs.encode())
    encoded = base64.b64encode(png).decode("ascii")
    return {
        "chart": dg.MetadataValue.md(f"![{chart.title}](data:image/png;base64,{encoded})"),
        "chart_path": dg.MetadataValue.path(str(path)),
    }


def build_model_asset(model: SqlModel) -> dg.AssetsDefinition:
    chart = CHARTS.get(model.name)

    @dg.asset(
        name=model.name,
        deps=list(model.reads),
        description=model.description or f"SQL model sql/models/{model.name}.sql",
        group_name="marts",
        kinds={"duckdb", "sql"},
        pool="duckdb",
        metadata={"sql": dg.MetadataValue.md(f"```sql\n{model.sql}\n```")},
        code_version=hashlib.sha256(model.sql.encode()).hexdigest()[:12],
    )
    def _model(
        context: dg.AssetExecutionContext, salvo: SalvoSettings, duckdb: WorkingDuckDB
    ) -> dg.MaterializeResult:
        with duckdb.get_connection() as con:
            con.execute(f"CREATE OR REPLACE TABLE {model.name} AS {model.sql}")
            meta = table_metadata(con, model.name)
            if chart is not None:
                meta.update(render_chart(con, model.name, chart, chart_folder(salvo)))
        context.log.info(f"{model.name}: {meta['dagster/row_count']} rows")
        return dg.MaterializeResult(metadata=meta)

    return _model


def build_sql_check(check: SqlCheck) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=check.asset,
        name=check.name,
        description=check.description,
        blocking=True,
        # The other tables the query reads must be built before it runs.
        additional_deps=[t for t in check.reads if t != check.asset],
        metadata={"sql": dg.MetadataValue.md(f"```sql\n{check.sql}\n```")},
    )
    def _check(duckdb: WorkingDuckDB) -> dg.AssetCheckResult:
        with duckdb.get_connection() as con:
            found = offending_rows(con, check)
        metadata: dict[str, Any] = {"offending_rows": found.count}
        if found.count:
            metadata["sample"] = dg.MetadataValue.md(markdown_table(found.columns, found.sample))
        return dg.AssetCheckResult(
            passed=found.count == 0,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata=metadata,
            description=None if found.count == 0 else f"{found.count} offending rows",
        )

    return _check


MODELS = load_models()
MART_KEYS = [model.name for model in MODELS]
mart_assets = [build_model_asset(model) for model in MODELS]
SQL_CHECKS = load_checks()
sql_checks = [build_sql_check(check) for check in SQL_CHECKS]
