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
from pipeline.sql_models import CHANGE_KEEPING, DOCUMENT_KEY, SqlModel, load_models


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
    rows = con.execute(charts.top_series_sql(table, chart.series, chart.value)).fetchall()
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


class RunDigests:
    """Table digests taken during one run, shared by the marts' steps in this process.

    The marts read the same inputs (entities and documents by three marts, claims_enriched
    by three), and no step writes a table another mart reads once the marts start: the
    base tables are written upstream of every mart, and a mart's table only by its own
    step, which records the digest it leaves. The job runs its steps in one process; a
    step run in another process takes its own digests. Only the current run is remembered."""

    def __init__(self) -> None:
        self._run: tuple[str, str] | None = None
        self._digests: dict[str, str | None] = {}

    def _scope(self, run_id: str, database: str) -> dict[str, str | None]:
        if self._run != (run_id, database):
            self._run, self._digests = (run_id, database), {}
        return self._digests

    def get(
        self,
        con: duckdb.DuckDBPyConnection,
        run_id: str,
        database: str,
        table: str,
        columns: list[str] | None = None,
    ) -> str | None:
        """The digest of `table`, of `columns` only when given (of whole rows otherwise)."""
        digests = self._scope(run_id, database)
        key = f"{table}({','.join(columns)})" if columns else table
        if key not in digests:
            digests[key] = warehouse.table_fingerprint(con, table, columns=columns)
        return digests[key]

    def record(self, run_id: str, database: str, table: str, digest: str | None) -> None:
        """The digest of a table's whole rows, taken by the step that wrote it."""
        self._scope(run_id, database)[table] = digest


RUN_DIGESTS = RunDigests()


def columns_read(con: duckdb.DuckDBPyConnection, model: SqlModel) -> dict[str, list[str] | None]:
    """Per table the model reads, the columns its SQL can read (None: whole rows). A
    model's table is always taken whole: the marts updated by group compare its digest
    with the one its own build recorded."""
    described: dict[str, list[str]] = {}
    for table, column in con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'main' "
        "AND database_name = current_database() AND table_name IN (SELECT unnest(?)) "
        "ORDER BY table_name, column_index",
        [list(model.reads)],
    ).fetchall():
        described.setdefault(table, []).append(column)
    return {
        table: None
        if table in MART_KEYS or table not in described
        else model.columns_read(described[table])
        for table in model.reads
    }


def input_digests(
    con: duckdb.DuckDBPyConnection, model: SqlModel, run_id: str, database: str
) -> dict[str, str | None]:
    """The digest of every table the model reads, of the columns it reads (taken once per
    run): a change to a column no model SQL names (documents.clean_text for the mention
    marts) does not rebuild it, and a wide table costs only its narrow columns."""
    if model.update == "documents":
        # One pass over the inputs: the per-document digests the update by document
        # compares are taken here (kept in a temporary table until the step ends), and
        # the inputs' digest is theirs.
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {DOCUMENT_DIGESTS} AS "
            + _document_digests_sql(con, model),
            [model.sql],
        )
        [digest] = con.execute(
            f"SELECT {warehouse.multiset_sql(f'hash({DOCUMENT_KEY}, digest)')} "
            f"FROM {DOCUMENT_DIGESTS}"
        ).fetchall()
        return {DOCUMENT_DIGESTS: ":".join(map(str, digest))}
    columns = columns_read(con, model)
    return {
        table: RUN_DIGESTS.get(con, run_id, database, table, columns[table])
        for table in model.reads
    }


def inputs_fingerprint(model: SqlModel, digests: dict[str, str | None]) -> str:
    """The model's SQL and the digests of the tables it reads (or of its per-document
    digests), as one digest."""
    parts = [model.sql, *(f"{t}={digests[t]}" for t in sorted(digests))]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


# Beyond this many changed groups, recomputing them one predicate each costs more than
# a rebuild.
MAX_CHANGED_GROUPS = 500
CHANGES_SCHEMA = "mart_changes"
# Per-document digests of the inputs of the models updated by document: those of the
# last build, and (a temporary table) those of this run.
DOCUMENTS_SCHEMA = "mart_documents"
DOCUMENT_DIGESTS = "salvo_document_digests"
# Past this share of the documents (and FEW_DOCUMENTS), an update by document gives way
# to a diff: at 10k documents, all of them changed took 2 s by document, 0.4 s by diff.
MAX_CHANGED_DOCUMENTS_SHARE = 0.2
FEW_DOCUMENTS = 100
# The key of an update's result that carries the table's new digest, when the update
# could derive it from the rows it changed.
ROWS_DIGEST = "rows_digest"


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return [tuple(row[:2]) for row in con.execute(f"DESCRIBE {table}").fetchall()]


@dataclass(frozen=True)
class Build:
    """What mart_builds says about a mart, and the digest of its table now."""

    inputs: str
    rows: str | None
    stored: str | None  # the table's digest at the start of this update


def _update(
    con: duckdb.DuckDBPyConnection,
    model: SqlModel,
    built: Build | None,
    digests: dict[str, str | None],
) -> dict[str, Any]:
    """Bring the model's table up to date inside the caller's transaction; return what
    changed. On an error the caller's transaction rolls the temporary tables back with
    everything else."""
    changes = None
    if model.update == "groups" and built is not None:
        changes = _update_groups(con, model, built, digests)
    if model.update == "documents" and built is not None:
        changes = _update_documents(con, model, built)
    if changes is None and model.update in CHANGE_KEEPING:
        if warehouse.table_exists(con, model.name):
            changes = _update_diff(con, model)
    if changes is None:
        con.execute(f"CREATE OR REPLACE TABLE {model.name} AS {model.sql}")
        changes = {"update": "rebuild"}
    if model.update == "documents" and changes["update"] != "documents":
        # Every document's digest (taken by input_digests), for the next run's update by
        # document.
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {DOCUMENTS_SCHEMA}")
        con.execute(
            f"CREATE OR REPLACE TABLE {DOCUMENTS_SCHEMA}.{model.name} AS "
            f"SELECT * FROM {DOCUMENT_DIGESTS}"
        )
    return changes


def _document_digests_sql(con: duckdb.DuckDBPyConnection, model: SqlModel) -> str:
    """One row per document: a digest of its rows (the columns the model reads) in every
    table the model reads, and of the model's SQL (so a new SQL changes every document).
    Parameter: the model's SQL."""
    columns = columns_read(con, model)
    per_table = " UNION ALL ".join(
        f"SELECT {DOCUMENT_KEY}, "
        f"hash({index}, {warehouse.multiset_sql(warehouse.row_hash_sql(columns[table]))}) AS h "
        f"FROM {table} t GROUP BY {DOCUMENT_KEY}"
        for index, table in enumerate(model.reads)
    )
    return (
        f"SELECT {DOCUMENT_KEY}, hash(bit_xor(h), ?) AS digest FROM ({per_table}) "
        f"GROUP BY {DOCUMENT_KEY}"
    )


def _update_documents(
    con: duckdb.DuckDBPyConnection, model: SqlModel, built: Build
) -> dict[str, Any] | None:
    """The rows of the documents whose input rows changed since the last build (by their
    digests in mart_documents.<model>) are computed again; the other documents' rows stay.
    The removed and added rows are kept in mart_changes.<model>, as a diff keeps them.
    None (a diff instead) when the table is not what the last build left, the digests
    are missing, or most documents changed. (Every table it reads has a doc_id: the
    loader checks that every join matches it, and input_digests grouped by it.)"""
    state = f"{DOCUMENTS_SCHEMA}.{model.name}"
    if (
        built.stored != built.rows
        or not warehouse.table_exists(con, model.name)
        or not warehouse.table_exists(con, model.name, schema=DOCUMENTS_SCHEMA)
    ):
        return None
    con.execute(
        "CREATE OR REPLACE TEMP TABLE salvo_documents AS "
        f"SELECT {DOCUMENT_KEY} FROM (SELECT * FROM {DOCUMENT_DIGESTS} EXCEPT SELECT * FROM "
        f"{state}) UNION SELECT {DOCUMENT_KEY} FROM (SELECT * FROM {state} EXCEPT SELECT * "
        f"FROM {DOCUMENT_DIGESTS})"
    )
    [(documents, unnamed)] = con.execute(
        f"SELECT count(*), count(*) FILTER ({DOCUMENT_KEY} IS NULL) FROM salvo_documents"
    ).fetchall()
    [(known,)] = con.execute(f"SELECT count(*) FROM {DOCUMENT_DIGESTS}").fetchall()
    if documents > max(FEW_DOCUMENTS, MAX_CHANGED_DOCUMENTS_SHARE * known):
        # Most documents changed (a new column in an input, a new SQL): a diff is cheaper.
        con.execute("DROP TABLE salvo_documents")
        return None
    # A filter on doc_id cannot find rows without one: those need a diff.
    pick = f"{DOCUMENT_KEY} IN (SELECT {DOCUMENT_KEY} FROM salvo_documents)"
    # Each input cut to those documents first (a CTE of a table's name hides it): every
    # join of the model matches doc_id, so these rows make the same result, and a left
    # join no longer reads its whole right side (0.07 s for one document at 10k).
    inputs = ", ".join(
        f"{table} AS (SELECT * FROM main.{table} WHERE {pick})" for table in model.reads
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE salvo_fresh AS WITH {inputs} SELECT * FROM ({model.sql}\n) "
        f"WHERE {pick} ORDER BY ALL"
    )
    if unnamed or _columns(con, "salvo_fresh") != _columns(con, model.name):
        for table in ("salvo_documents", "salvo_fresh"):
            con.execute(f"DROP TABLE {table}")
        return None
    changed = f"{CHANGES_SCHEMA}.{model.name}"
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {CHANGES_SCHEMA}")
    con.execute(f"CREATE OR REPLACE TABLE {changed} AS SELECT * FROM {model.name} WHERE {pick}")
    removed_rows = warehouse.table_fingerprint(con, model.name, CHANGES_SCHEMA)
    [(removed,)] = con.execute(f"DELETE FROM {model.name} WHERE {pick}").fetchall()
    [(added,)] = con.execute(f"INSERT INTO {model.name} SELECT * FROM salvo_fresh").fetchall()
    con.execute(f"INSERT INTO {changed} SELECT * FROM salvo_fresh")
    # The table's new digest from the old one and the changed rows (0.05 s less than
    # reading 138k rows again); the next run compares it with a digest of the table.
    both = warehouse.table_fingerprint(con, model.name, CHANGES_SCHEMA)
    assert built.stored and removed_rows and both
    added_rows = warehouse.fingerprint_after(both, removed_rows, "0:None:None")
    rows_digest = warehouse.fingerprint_after(built.stored, removed_rows, added_rows)
    con.execute(f"DELETE FROM {state} WHERE {pick}")
    con.execute(f"INSERT INTO {state} SELECT * FROM {DOCUMENT_DIGESTS} WHERE {pick}")
    for table in ("salvo_documents", "salvo_fresh"):
        con.execute(f"DROP TABLE {table}")
    return {
        "update": "documents",
        "documents_changed": documents,
        "rows_removed": removed,
        "rows_added": added,
        ROWS_DIGEST: rows_digest,
    }


def _update_diff(con: duckdb.DuckDBPyConnection, model: SqlModel) -> dict[str, Any] | None:
    """The table loses the rows its SQL no longer produces and gains the new ones (rows
    compared whole, by hash, so its rows must be distinct: claims_enriched has one per
    claim_id, and a check says so). Both kinds are kept in mart_changes.<model> for the
    marts updated by group. None when the table's columns are not the SQL's."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE salvo_fresh AS "
        f"SELECT *, hash(q) AS salvo_row FROM ({model.sql}\n) q"
    )
    fresh = [c for c in _columns(con, "salvo_fresh") if c[0] != "salvo_row"]
    if fresh != _columns(con, model.name):
        con.execute("DROP TABLE salvo_fresh")
        return None
    con.execute(
        "CREATE OR REPLACE TEMP TABLE salvo_stored AS "
        f"SELECT rowid AS stored, hash(t) AS salvo_row FROM {model.name} t"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE salvo_removed AS "
        "SELECT stored FROM salvo_stored ANTI JOIN salvo_fresh USING (salvo_row)"
    )
    changed = f"{CHANGES_SCHEMA}.{model.name}"
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {CHANGES_SCHEMA}")
    con.execute(
        f"CREATE OR REPLACE TABLE {changed} AS SELECT * FROM {model.name} "
        "WHERE rowid IN (SELECT stored FROM salvo_removed)"
    )
    [(removed,)] = con.execute(
        f"DELETE FROM {model.name} WHERE rowid IN (SELECT stored FROM salvo_removed)"
    ).fetchall()
    con.execute(
        "CREATE OR REPLACE TEMP TABLE salvo_added AS SELECT * EXCLUDE (salvo_row) "
        "FROM salvo_fresh ANTI JOIN salvo_stored USING (salvo_row) ORDER BY ALL"
    )
    [(added,)] = con.execute(f"INSERT INTO {model.name} SELECT * FROM salvo_added").fetchall()
    con.execute(f"INSERT INTO {changed} SELECT * FROM salvo_added")
    for table in ("salvo_stored", "salvo_fresh", "salvo_removed", "salvo_added"):
        con.execute(f"DROP TABLE {table}")
    return {"update": "diff", "rows_removed": removed, "rows_added": added}


def _update_groups(
    con: duckdb.DuckDBPyConnection, model: SqlModel, built: Build, digests: dict[str, str | None]
) -> dict[str, Any] | None:
    """Compute again only the groups that the rows changed by the input's last diff fall
    in: their old rows leave, their new ones are appended. Valid when this table is what
    its last build left, that build read the input as it was before that diff, and the
    diff's rows are still there; None (rebuild) otherwise, or when too many groups changed."""
    [source] = model.reads
    row = con.execute(
        "SELECT rows_digest, previous_rows_digest FROM mart_builds WHERE mart = ?", [source]
    ).fetchone()
    if (
        row is None
        or row[1] is None
        or not warehouse.table_exists(con, source, schema=CHANGES_SCHEMA)
        or built.stored != built.rows
        or row[0] != digests[source]
        or inputs_fingerprint(model, {**digests, source: row[1]}) != built.inputs
    ):
        return None
    keys = ", ".join(model.keys)
    # The model run on the changed rows alone (a CTE of the input's name hides the table)
    # gives the keys of the groups they fall in.
    groups = con.execute(
        f"WITH {source} AS (SELECT * FROM {CHANGES_SCHEMA}.{source}) "
        f"SELECT DISTINCT {keys} FROM ({model.sql}\n)"
    ).fetchall()
    if len(groups) > MAX_CHANGED_GROUPS:
        return None
    if not groups:
        return {"update": "groups", "groups_changed": 0, "rows_removed": 0, "rows_added": 0}
    one = " AND ".join(f"{key} IS NOT DISTINCT FROM ?" for key in model.keys)
    match = " OR ".join(f"({one})" for _ in groups)
    values = [value for group in groups for value in group]
    # A filter on the group keys is pushed below the aggregate: only these groups' input
    # rows are read.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE salvo_fresh AS SELECT * FROM ({model.sql}\n) WHERE {match}",
        values,
    )
    if _columns(con, "salvo_fresh") != _columns(con, model.name):
        con.execute("DROP TABLE salvo_fresh")
        return None
    [(removed,)] = con.execute(f"DELETE FROM {model.name} WHERE {match}", values).fetchall()
    [(added,)] = con.execute(f"INSERT INTO {model.name} SELECT * FROM salvo_fresh").fetchall()
    con.execute("DROP TABLE salvo_fresh")
    return {
        "update": "groups",
        "groups_changed": len(groups),
        "rows_removed": removed,
        "rows_added": added,
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
            # Rebuilt only when its SQL or a table it reads changed since the last build,
            # or the table itself is not what that build left: a run with nothing new
            # costs a digest of each input and of the table instead of a rebuild.
            run_id, database = context.run.run_id, str(salvo.working_path)
            digests = input_digests(con, model, run_id, database)
            inputs = inputs_fingerprint(model, digests)
            row = con.execute(
                "SELECT inputs_digest, rows_digest FROM mart_builds WHERE mart = ?", [model.name]
            ).fetchone()
            built = None
            if row is not None:
                built = Build(row[0], row[1], warehouse.table_fingerprint(con, model.name))
            rebuilt = built is None or (built.inputs, built.rows) != (inputs, built.stored)
            changes: dict[str, Any] = {}
            if rebuilt:
                with warehouse.transaction(con):
                    changes = _update(con, model, built, digests)
                    # A diff keeps the changed rows: the digest of the rows it started from
                    # tells the marts updated by group which state they describe.
                    previous = (
                        built.stored if changes["update"] in CHANGE_KEEPING and built else None
                    )
                    digest = changes.pop(ROWS_DIGEST, None) or warehouse.table_fingerprint(
                        con, model.name
                    )
                    con.execute("DELETE FROM mart_builds WHERE mart = ?", [model.name])
                    con.execute(
                        "INSERT INTO mart_builds (mart, inputs_digest, rows_digest, built_at, "
                        "previous_rows_digest) VALUES (?, ?, ?, now()::TIMESTAMP, ?)",
                        [model.name, inputs, digest, previous],
                    )
            else:
                digest = built.stored if built else None
            # The marts that read this one take its digest from here.
            RUN_DIGESTS.record(run_id, database, model.name, digest)
            meta = table_metadata(con, model.name)
            meta["rebuilt"] = rebuilt
            meta.update(changes)
            if chart is not None:
                meta.update(render_chart(con, model.name, chart, chart_folder(salvo)))
        context.log.info(
            f"{model.name}: {meta['dagster/row_count']} rows"
            + (
                f" ({', '.join(f'{k}: {v}' for k, v in changes.items())})"
                if rebuilt
                else " (inputs unchanged since the last build: not rebuilt)"
            )
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
