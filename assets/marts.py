"""Marts: one asset per SQL model in `sql/models/`, rebuilt from the base tables."""

import hashlib

import dagster as dg

from assets.metadata import table_metadata
from pipeline.defs.resources import WorkingDuckDB
from pipeline.sql_models import SqlModel, load_models


def build_model_asset(model: SqlModel) -> dg.AssetsDefinition:
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
    def _model(context: dg.AssetExecutionContext, duckdb: WorkingDuckDB) -> dg.MaterializeResult:
        with duckdb.get_connection() as con:
            con.execute(f"CREATE OR REPLACE TABLE {model.name} AS {model.sql}")
            meta = table_metadata(con, model.name)
        context.log.info(f"{model.name}: {meta['dagster/row_count']} rows")
        return dg.MaterializeResult(metadata=meta)

    return _model


MODELS = load_models()
MART_KEYS = [model.name for model in MODELS]
mart_assets = [build_model_asset(model) for model in MODELS]
