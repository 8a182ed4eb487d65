"""Asset checks: hard invariants block the run (nothing downstream, no publish); soft ones
warn.

Each rule is one check in the UI, but the rules of the assets one step produces run
together, in one step on one connection: a step costs Dagster events and a connection
whatever the query, and a run spent more on one step per check than on the queries in
them. Any check can still be run alone from the UI (the groups can subset).

Scope: the offsets and unique-key checks of sentences, entities and claims look at the
rows of the documents parsed in this run, the only rows a run writes there (a key is still
compared with every row), so a run with nothing new checks nothing there and adding one
document checks one document. Orphan rows are looked for everywhere. A run tagged
`salvo/checks: full` (the daily schedule's runs are) checks every row; the checks of the
other tables always read them whole, which costs milliseconds.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import duckdb

from assets.metadata import markdown_table
from assets.resources import WorkingDuckDB
from pipeline import quality

CHECKS_TAG = "salvo/checks"
FULL = "full"
SCOPE_NOTE = (
    f", on the rows of the documents parsed in the run (every row when the run is tagged "
    f"{CHECKS_TAG}: {FULL})."
)


@dataclass(frozen=True)
class Outcome:
    """What a rule found: how many rows offend, and what to show about them."""

    offending: int
    metadata: dict[str, Any] = field(default_factory=dict)
    # Set when the rule does not count offending rows (a share over a threshold).
    passed: bool | None = None


# (connection, run id to scope to or None for every row) -> outcome
Evaluate = Callable[[duckdb.DuckDBPyConnection, str | None], Outcome]


@dataclass(frozen=True)
class Rule:
    asset: str
    name: str
    description: str
    evaluate: Evaluate
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR
    # Other tables the rule reads: they are built before it runs.
    reads: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> dg.AssetCheckKey:
        return dg.AssetCheckKey(dg.AssetKey(self.asset), self.name)

    @property
    def blocking(self) -> bool:
        return self.severity == dg.AssetCheckSeverity.ERROR

    def spec(self) -> dg.AssetCheckSpec:
        return dg.AssetCheckSpec(
            self.name,
            asset=self.asset,
            description=self.description,
            blocking=self.blocking,
            additional_deps=[t for t in self.reads if t != self.asset],
            metadata=dict(self.metadata),
        )

    def result(self, con: duckdb.DuckDBPyConnection, scope: str | None) -> dg.AssetCheckResult:
        outcome = self.evaluate(con, scope)
        passed = outcome.offending == 0 if outcome.passed is None else outcome.passed
        metadata = {"offending_rows": outcome.offending, **outcome.metadata}
        return dg.AssetCheckResult(
            asset_key=self.asset,
            check_name=self.name,
            passed=passed,
            severity=self.severity,
            metadata=metadata,
            description=None if passed else f"{outcome.offending} offending rows",
        )


def scope_of(context: dg.AssetCheckExecutionContext) -> str | None:
    """The run to scope the checks to, or None when the run asks for every row."""
    run = context.run
    return None if run.tags.get(CHECKS_TAG) == FULL else run.run_id


def check_group(name: str, rules: Sequence[Rule], description: str) -> dg.AssetChecksDefinition:
    """The rules of the assets one step produces, run in one step on one connection."""
    by_key = {rule.key: rule for rule in rules}

    @dg.multi_asset_check(
        name=name, specs=[r.spec() for r in rules], can_subset=True, description=description
    )
    def _group(
        context: dg.AssetCheckExecutionContext, duckdb: WorkingDuckDB
    ) -> Iterator[dg.AssetCheckResult]:
        scope = scope_of(context)
        selected = context.selected_asset_check_keys
        with duckdb.get_connection() as con:
            for key, rule in by_key.items():
                if key in selected:
                    yield rule.result(con, scope)

    return _group


def _counting(count: Callable[[duckdb.DuckDBPyConnection], int]) -> Evaluate:
    return lambda con, scope: Outcome(count(con))


def _scoped(table: str, count: Callable[[duckdb.DuckDBPyConnection, str | None], int]) -> Evaluate:
    """A count over the run's rows of a table it writes per document (every row of the
    others, or when the run asks for every row), saying which it looked at."""

    def evaluate(con: duckdb.DuckDBPyConnection, scope: str | None) -> Outcome:
        scoped = scope is not None and table in quality.RUN_SCOPED
        return Outcome(
            count(con, scope),
            {"scope": "documents parsed in this run" if scoped else "every row"},
        )

    return evaluate


def _unique(table: str) -> Rule:
    key = quality.KEYS[table]
    return Rule(
        table,
        f"unique_{key}",
        f"Every {table} row has a non-null {key} no other row shares"
        + (SCOPE_NOTE if table in quality.RUN_SCOPED else "."),
        _scoped(table, lambda con, scope: quality.duplicate_keys(con, table, scope)),
    )


def _no_orphans(table: str) -> Rule:
    parents = ", ".join(f"{c} -> {p}" for c, p, _ in quality.PARENTS[table])
    return Rule(
        table,
        "no_orphan_rows",
        # The document of every row, always: a row left behind by a document that went away
        # belongs to no run's documents, and is what this check is for. The sentence only
        # for the run's rows; see orphan_rows.
        f"Every {table} row points at an existing parent ({parents})"
        + (
            f"; sentences are looked up for the rows of the documents parsed in the run "
            f"(for every row when the run is tagged {CHECKS_TAG}: {FULL})."
            if any(p in quality.RUN_SCOPED for _, p, _ in quality.PARENTS[table])
            else "."
        ),
        lambda con, scope: Outcome(quality.orphan_rows(con, table, scope)),
    )


def _offsets(table: str) -> Rule:
    def evaluate(con: duckdb.DuckDBPyConnection, scope: str | None) -> Outcome:
        offending, checked = quality.offset_mismatches(con, table, run_id=scope)
        return Outcome(
            offending,
            {
                "rows_checked": checked,
                "scope": "documents parsed in this run" if scope else "every row",
            },
        )

    return Rule(
        table,
        "offsets_round_trip",
        f"documents.clean_text[start_char:end_char] equals {table}.text" + SCOPE_NOTE,
        evaluate,
    )


def _undated(con: duckdb.DuckDBPyConnection, scope: str | None) -> Outcome:
    undated, total = quality.undated_share(con)
    share = undated / total if total else 0.0
    return Outcome(
        undated,
        {"undated_documents": undated, "documents": total, "share": round(share, 3)},
        passed=share <= quality.UNDATED_WARN_SHARE,
    )


DOCUMENTS_EXIST = Rule(
    "documents",
    "documents_when_files_ingested",
    "Files were ingested, so documents must not be empty, and no document has empty text.",
    # A run not tagged for every row reads the texts only when one changed.
    lambda con, scope: Outcome(
        quality.missing_documents(con) + quality.empty_documents(con, scope is not None)
    ),
)
UNDATED_DOCUMENTS = Rule(
    "documents",
    "share_of_undated_documents",
    f"Warns when more than {quality.UNDATED_WARN_SHARE:.0%} of documents have no publication "
    "date (they fall under a null month in the marts).",
    _undated,
    severity=dg.AssetCheckSeverity.WARN,
)


def _quarantined(con: duckdb.DuckDBPyConnection, scope: str | None) -> Outcome:
    rows = quality.quarantined(con)
    shown = [(name, "" if index is None else index, reason) for name, index, reason in rows]
    metadata = (
        {"quarantined": dg.MetadataValue.md(markdown_table(["file", "record", "reason"], shown))}
        if rows
        else {}
    )
    return Outcome(len(rows), metadata)


QUARANTINED_FILES = Rule(
    "seed_files",
    "nothing_quarantined",
    "Warns when a file, or a record inside a file, was held back: the table in the result "
    "names each one with its quarantine reason (seed_files.reason, seed_records.reason).",
    _quarantined,
    severity=dg.AssetCheckSeverity.WARN,
)

RULES: list[Rule] = (
    [_unique(t) for t in quality.KEYS]
    + [_no_orphans(t) for t in quality.PARENTS]
    + [_offsets(t) for t in quality.OFFSET_TABLES]
    + [DOCUMENTS_EXIST, UNDATED_DOCUMENTS, QUARANTINED_FILES]
)

# The assets each step produces: their rules run together, right after that step.
STEPS: dict[str, tuple[str, ...]] = {
    "ingest": ("seed_files", "raw_documents"),
    "documents": ("documents",),
    "nlp": ("sentences", "entities", "claims"),
}


def check_groups(
    steps: Mapping[str, tuple[str, ...]], rules: Sequence[Rule], suffix: str, what: str
) -> list[dg.AssetChecksDefinition]:
    """One check_group per step (named `<step>_<suffix>`) holding the rules on the assets
    that step produces; a step without rules gets none. Every rule must find a step."""
    groups = []
    for step, assets in steps.items():
        members = [r for r in rules if r.asset in assets]
        if members:
            groups.append(
                check_group(
                    f"{step}_{suffix}", members, f"{what} {', '.join(assets)}, in one step."
                )
            )
    assert sum(len(g.check_keys) for g in groups) == len(rules), "a rule on no step"
    return groups


CHECKS: list[dg.AssetChecksDefinition] = check_groups(STEPS, RULES, "checks", "The checks of")
