"""Marts: one asset per SQL model in `sql/models/`, brought up to date by
`pipeline.marts.refresh`, and one blocking asset check per query in `sql/checks/` (run
together, one step per mart). The monthly mention marts also draw a chart, shown in the UI
and written next to the published warehouse."""

import base64
import hashlib
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from assets.checks import CHECKS_TAG, FULL, Outcome, Rule, check_groups
from assets.metadata import markdown_table, table_metadata
from assets.resources import SalvoSettings, WorkingDuckDB
from pipeline import warehouse
from pipeline.marts.charts import CHARTS, chart_folder, draw_chart
from pipeline.marts.checks import (
    SqlCheck,
    load_checks,
    offending_rows,
    offending_rows_unless_passed,
)
from pipeline.marts.models import SqlModel, load_models
from pipeline.marts.refresh import refresh_mart


def chart_metadata(title: str, path: Path, png: bytes) -> dict[str, dg.MetadataValue]:
    """The chart shown in the UI, and where its file is."""
    encoded = base64.b64encode(png).decode("ascii")
    return {
        "chart": dg.MetadataValue.md(f"![{title}](data:image/png;base64,{encoded})"),
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
            run = refresh_mart(
                con,
                model,
                context.run.run_id,
                warehouse.database_path(con),
                verify=context.run.tags.get(CHECKS_TAG) == FULL,
            )
            meta = table_metadata(con, model.name)
            meta["rebuilt"] = run.rebuilt
            meta.update(run.changes)
            if chart is not None:
                path, png = draw_chart(con, model.name, chart, chart_folder(salvo.published_path))
                meta.update(chart_metadata(chart.title, path, png))
        context.log.info(
            f"{model.name}: {meta['dagster/row_count']} rows"
            + (
                f" ({', '.join(f'{k}: {v}' for k, v in run.changes.items())})"
                if run.rebuilt
                else " (inputs unchanged since the last build: not rebuilt)"
            )
        )
        return dg.MaterializeResult(metadata=meta, data_version=dg.DataVersion(run.inputs))

    return _model


def sql_rule(check: SqlCheck) -> Rule:
    """A query in sql/checks/ as a blocking rule: zero rows returned pass."""

    def evaluate(con: duckdb.DuckDBPyConnection, scope: str | None) -> Outcome:
        # A run tagged for every row runs every check.
        found = (
            offending_rows(con, check)
            if scope is None
            else offending_rows_unless_passed(con, check, scope)
        )
        if found is None:  # its inputs are those of its last pass
            return Outcome(0, {"run_again": False})
        metadata: dict[str, Any] = {"run_again": True}
        if found.count:
            metadata["sample"] = dg.MetadataValue.md(markdown_table(found.columns, found.sample))
        return Outcome(found.count, metadata)

    return Rule(
        check.asset,
        check.name,
        check.description,
        evaluate,
        # The other tables the query reads must be built before it runs.
        reads=check.reads,
        metadata={"sql": dg.MetadataValue.md(f"```sql\n{check.sql}\n```")},
    )


MODELS = load_models()
MART_KEYS = [model.name for model in MODELS]
mart_assets = [build_model_asset(model) for model in MODELS]
SQL_CHECKS = load_checks()
SQL_RULES = [sql_rule(check) for check in SQL_CHECKS]
# One check step per step that builds assets: the stories stage (its two tables) and each
# mart.
CHECK_STEPS: dict[str, tuple[str, ...]] = {
    "stories": ("document_stories", "story_links"),
    **{model.name: (model.name,) for model in MODELS},
}


sql_checks = check_groups(CHECK_STEPS, SQL_RULES, "sql_checks", "The queries in sql/checks/ on")
