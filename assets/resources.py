"""Resources: where the seeds are, where the warehouse is published, and the connection to
the working database every writing asset shares."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from pipeline import schema, settings, warehouse


class SalvoSettings(dg.ConfigurableResource):
    """Paths and model for one deployment (SALVO_SEEDS_DIR, SALVO_WAREHOUSE,
    SALVO_SPACY_MODEL)."""

    seeds_dir: str
    warehouse: str
    spacy_model: str

    @property
    def seeds_path(self) -> Path:
        return Path(self.seeds_dir)

    @property
    def published_path(self) -> Path:
        return Path(self.warehouse)

    @property
    def working_path(self) -> Path:
        return warehouse.working_path_for(self.warehouse)


class WorkingDuckDB(DuckDBResource):
    """The working database: the pipeline writes here; users read the published copy."""

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        try:
            with super().get_connection() as con:
                # DuckDBResource closes its connection only when the block ends normally;
                # left open after an error, it would hold the file for the rest of the
                # process.
                try:
                    schema.ensure_schema(con)
                    yield con
                except BaseException:
                    con.close()
                    raise
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise RuntimeError(warehouse.held_message(Path(self.database), exc)) from exc
            raise


def build_resources(
    seeds_dir: Path | str | None = None,
    warehouse_file: Path | str | None = None,
    spacy_model: str | None = None,
) -> dict[str, object]:
    """The resource set for a deployment; defaults come from the environment."""
    published = Path(warehouse_file) if warehouse_file else settings.warehouse_path()
    salvo = SalvoSettings(
        seeds_dir=str(Path(seeds_dir) if seeds_dir else settings.seeds_dir()),
        warehouse=str(published),
        spacy_model=spacy_model or settings.spacy_model(),
    )
    return {
        "salvo": salvo,
        "duckdb": WorkingDuckDB(
            database=str(warehouse.working_path_for(published)),
            connection_config=dict(warehouse.CONNECTION_CONFIG),
        ),
    }
