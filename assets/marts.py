"""Marts: one asset per SQL model in `sql/models/`, rebuilt from the base tables when they
changed, and one blocking asset check per query in `sql/checks/` (run together, one step
per mart). The monthly mention marts also draw a chart, shown in the UI and written next
to the published warehouse."""

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from assets.metadata import markdown_table, table_metadata
from pipeline import charts, warehouse
from pipeline.defs.checks import Outcome, Rule, check_groups
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


def inputs_fingerprint(con: duckdb.DuckDBPyConnection, model: SqlModel) -> str:
    """The model's SQL and the rows of every table it reads, as one digest."""
    parts = [model.sql, *(f"{t}={warehouse.table_fingerprint(con, t)}" for t in model.reads)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return [tuple(row[:2]) for row in con.execute(f"DESCRIBE {table}").fetchall()]


def _update(con: duckdb.DuckDBPyConnection, model: SqlModel) -> dict[str, Any]:
    """Bring the model's table up to date inside the caller's transaction; return what
    changed. A diff model whose table exists with the same columns loses the rows its SQL
    no longer produces and gains the new ones (rows compared whole, by hash, so its rows
    must be distinct: claims_enriched has one per claim_id, and a check says so); otherwise
    the table is rebuilt. On an error the caller's transaction rolls the temporary tables
    back with everything else."""
    if model.update == "diff" and warehouse.table_exists(con, model.name):
        con.execute(
            "CREATE OR REPLACE TEMP TABLE salvo_fresh AS "
            f"SELECT *, hash(q) AS salvo_row FROM ({model.sql}) q"
        )
        fresh = [c for c in _columns(con, "salvo_fresh") if c[0] != "salvo_row"]
        changes = None
        if fresh == _columns(con, model.name):
            con.execute(
                "CREATE OR REPLACE TEMP TABLE salvo_stored AS "
                f"SELECT rowid AS stored, hash(t) AS salvo_row FROM {model.name} t"
            )
            [(removed,)] = con.execute(
                f"DELETE FROM {model.name} WHERE rowid IN "
                "(SELECT stored FROM salvo_stored ANTI JOIN salvo_fresh USING (salvo_row))"
            ).fetchall()
            [(added,)] = con.execute(
                f"INSERT INTO {model.name} SELECT * EXCLUDE (salvo_row) FROM salvo_fresh "
                "ANTI JOIN salvo_stored USING (salvo_row) ORDER BY ALL"
            ).fetchall()
            con.execute("DROP TABLE salvo_stored")
            changes = {"update": "diff", "rows_removed": removed, "rows_added": added}
        con.execute("DROP TABLE salvo_fresh")
        if changes is not None:
            return changes
    con.execute(f"CREATE OR REPLACE TABLE {model.name} AS {model.sql}")
    return {"update": "rebuild"}


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
            # Rebuilt only when its SQL or a table it reads changed since the last build,
            # or the table itself is not what that build left: a run with nothing new
            # costs a digest of each input instead of a rebuild.
            inputs = inputs_fingerprint(con, model)
            built = con.execute(
                "SELECT inputs_digest, rows_digest FROM mart_builds WHERE mart = ?", [model.name]
            ).fetchone()
            # The table's own digest only matters when the inputs are the same.
            rebuilt = built is None or built[0] != inputs
            rebuilt = rebuilt or built != (inputs, warehouse.table_fingerprint(con, model.name))
            changes: dict[str, Any] = {}
            if rebuilt:
                with warehouse.transaction(con):
                    changes = _update(con, model)
                    con.execute("DELETE FROM mart_builds WHERE mart = ?", [model.name])
                    con.execute(
                        "INSERT INTO mart_builds VALUES (?, ?, ?, now()::TIMESTAMP)",
                        [model.name, inputs, warehouse.table_fingerprint(con, model.name)],
                    )
            meta = table_metadata(con, model.name)
            meta["rebuilt"] = rebuilt
            meta.update(changes)
            if chart is not None:
                meta.update(render_chart(con, model.name, chart, chart_folder(salvo)))
        context.log.info(
            f"{model.name}: {meta['dagster/row_count']} rows"
            + ("" if rebuilt else " (inputs unchanged since the last build: not rebuilt)")
        )
        return dg.MaterializeResult(metadata=meta, data_version=dg.DataVersion(inputs))

    return _model


def sql_rule(check: SqlCheck) -> Rule:
    """A query in sql/checks/ as a blocking rule: zero rows returned pass."""

    def evaluate(con: duckdb.DuckDBPyConnection, scope: str | None) -> Outcome:
        found = offending_rows(con, check)
        metadata: dict[str, Any] = {}
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
