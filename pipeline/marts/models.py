"""Find the SQL models in `sql/models/` and the tables each one reads.

A model is one SELECT per file; the file stem is the table it becomes. Dependencies are
read from the SQL itself (every table it selects from, less its own CTEs), so they are
never declared twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from sqlglot import exp

from pipeline.sql_files import SQL_DIR, read_sql_folder

MODELS_DIR = SQL_DIR / "models"
NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


# How a model's table is brought up to date when its inputs changed: rebuilt whole (the
# default: rows in the model's ORDER BY); by diff (`-- @update: diff` in its header: rows
# that are no longer produced leave, new ones are appended, the rest stay; a run that adds
# one document writes that document's rows, not the whole table); or by group (`-- @update:
# groups`, for an aggregate of one diff-updated model: only the groups that the rows the
# diff changed fall in are computed again, see group_keys); or by document (`-- @update:
# documents`, for a model whose rows each belong to one document: only the rows of the
# documents whose input rows changed are computed again, see check_per_document). A model
# updated by diff or by document keeps the rows it changed for the models updated by group.
UPDATES = ("rebuild", "diff", "groups", "documents")
# The models whose changed rows are kept (in the mart_changes schema).
CHANGE_KEEPING = ("diff", "documents")
# The column that names a row's document.
DOCUMENT_KEY = "doc_id"


@dataclass(frozen=True)
class SqlModel:
    name: str
    sql: str
    reads: tuple[str, ...]
    description: str
    update: str = "rebuild"
    # For update "groups": the output columns that are not aggregates (the GROUP BY).
    keys: tuple[str, ...] = ()
    # Every name the SQL spells (columns, aliases, tables): a column of a table it reads
    # that is not among them cannot change its result. None when the SQL may read whole
    # rows (a `*` outside count(*), a table used as a value, NATURAL JOIN, COLUMNS()).
    names: frozenset[str] | None = None
    # Output column -> its meaning, from the `--` comment beside or above it in the SQL.
    column_comments: dict[str, str] = field(default_factory=dict)
    # The SQL without its ORDER BY (the SQL itself when it has none), for a build in
    # batches: appended batch by batch, such a table has no order of the whole anyway.
    unordered_sql: str = ""

    def columns_read(self, columns: list[str]) -> list[str]:
        return named_columns(self.names, columns)


def named_columns(names: frozenset[str] | None, columns: list[str]) -> list[str]:
    """Of a table's columns, in its order, those a query spelling `names` can read (all
    of them when it may read whole rows, or names none)."""
    if names is None:
        return columns
    return [column for column in columns if column.lower() in names] or columns


def load_models(directory: Path = MODELS_DIR) -> list[SqlModel]:
    models = []
    for file in read_sql_folder(directory):
        path, tree, reads = file.path, file.tree, list(file.reads)
        if not NAME.match(path.stem):
            raise ValueError(f"{path.name}: a model's file name must be a snake_case table name")
        directives = dict(file.directives)
        update = directives.pop("update", "rebuild")
        if update not in UPDATES or directives:
            raise ValueError(
                f"{path.name}: unknown directive {directives or update!r} "
                f"(known: -- @update: {' | '.join(UPDATES)})"
            )
        keys = group_keys(path.name, tree, reads) if update == "groups" else ()
        if update == "documents":
            check_per_document(path.name, tree)
        models.append(
            SqlModel(
                path.stem,
                file.sql,
                file.reads,
                file.description,
                update,
                keys,
                names_read(tree, reads),
                column_comments(tree),
                unordered(tree) if tree.args.get("order") else file.sql,
            )
        )
    diffed = {model.name for model in models if model.update in CHANGE_KEEPING}
    for model in models:
        if model.update == "groups" and model.reads[0] not in diffed:
            raise ValueError(
                f"{model.name}.sql: @update: groups needs the table it reads to be a model "
                f"updated by diff or by document; {model.reads[0]} is not"
            )
    return models


def unordered(tree: exp.Query) -> str:
    """The query without its ORDER BY, as SQL."""
    bare = tree.copy()
    bare.set("order", None)
    return bare.sql(dialect="duckdb")


def column_comments(tree: exp.Query) -> dict[str, str]:
    """Each output column's `--` comment (sqlglot attaches one to the column or to a node
    inside it), by column name."""
    found = {}
    for column in tree.expressions:
        comments = [c.strip() for node in column.walk() for c in node.comments or []]
        if comments:
            found[column.alias_or_name] = " ".join(comments)
    return found


def names_read(tree: exp.Query, reads: list[str]) -> frozenset[str] | None:
    """The names a query spells, lower-cased, or None when it may read whole rows: a
    column of an input that is not named can only be read through `*` (other than in
    count(*)), a table or alias used as a value (`hash(t)`), NATURAL JOIN or COLUMNS()."""
    if any(not isinstance(star.parent, exp.Count) for star in tree.find_all(exp.Star)):
        return None
    # NATURAL (or ASOF, POSITIONAL) joins match columns they do not name.
    if any(join.args.get("method") for join in tree.find_all(exp.Join)) or tree.find(exp.Columns):
        return None
    tables = {name.lower() for name in reads}
    tables |= {t.alias_or_name.lower() for t in tree.find_all(exp.Table)}
    tables |= {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    tables |= {q.alias.lower() for q in tree.find_all(exp.Subquery) if q.alias}
    for column in tree.find_all(exp.Column):
        if not column.table and column.name.lower() in tables:
            return None
    return frozenset(i.name.lower() for i in tree.find_all(exp.Identifier))


def check_per_document(file: str, tree: exp.Query) -> None:
    """Refuse `@update: documents` unless a document's rows can only come from that
    document's input rows: one SELECT with doc_id among its output columns, every join
    matching doc_id on both sides, no aggregate unless the SELECT groups by doc_id, and no
    window, subquery, CTE or set operation (any of which could mix documents)."""
    problems = []
    aggregates_allowed = isinstance(tree, exp.Select) and groups_by_document(tree)
    if not isinstance(tree, exp.Select):
        problems.append("is not a plain SELECT")
    elif DOCUMENT_KEY not in {p.alias_or_name for p in tree.expressions}:
        problems.append(f"has no {DOCUMENT_KEY} output column")
    for join in tree.find_all(exp.Join):
        on = join.args.get("on")
        # One of the conditions ANDed together (not one side of an OR).
        terms = list(on.flatten()) if isinstance(on, exp.And) else [on]
        matched = any(
            isinstance(eq, exp.EQ)
            and isinstance(eq.left, exp.Column)
            and isinstance(eq.right, exp.Column)
            and eq.left.name == DOCUMENT_KEY
            and eq.right.name == DOCUMENT_KEY
            and eq.left.table != eq.right.table
            for eq in terms
        )
        if not matched:
            problems.append(f"joins {join.this.sql()} without matching {DOCUMENT_KEY}")
    for node, what in (
        (exp.AggFunc, f"an aggregate not grouped by {DOCUMENT_KEY}"),
        (exp.Window, "a window function"),
        (exp.Subquery, "a subquery"),
        (exp.With, "a CTE"),
        (exp.SetOperation, "a set operation"),
    ):
        if tree.find(node) and not (node is exp.AggFunc and aggregates_allowed):
            problems.append(f"has {what}")
    if problems:
        raise ValueError(f"{file}: @update: documents does not apply: it " + "; ".join(problems))


def groups_by_document(tree: exp.Select) -> bool:
    """Whether the SELECT's GROUP BY has doc_id among its keys (GROUP BY ALL: among the
    output columns outside aggregates), so that no group mixes documents."""
    group = tree.args.get("group")
    if group is None:
        return False
    if group.args.get("all"):
        keys = [p for p in tree.expressions if not p.find(exp.AggFunc)]
        return any(
            isinstance(p.unalias(), exp.Column) and p.unalias().name == DOCUMENT_KEY for p in keys
        )
    return any(
        isinstance(key, exp.Column) and key.name == DOCUMENT_KEY for key in group.expressions
    )


def group_keys(file: str, tree: exp.Query, reads: list[str]) -> tuple[str, ...]:
    """The group keys of an aggregate that can be brought up to date group by group.

    Every input row must fall in one group whatever the other rows are, so that the groups
    of the changed rows are the only ones that can change: one table read, one GROUP BY
    (the outermost), and no join, HAVING, window, subquery or INTERSECT/EXCEPT."""
    problems = []
    if len(reads) != 1:
        problems.append(f"reads {len(reads)} tables")
    if not isinstance(tree, exp.Select) or not tree.args.get("group"):
        problems.append("the outermost SELECT has no GROUP BY")
    for node, what in (
        (exp.Join, "a join"),
        (exp.Having, "a HAVING"),
        (exp.Window, "a window function"),
        (exp.Subquery, "a subquery"),
        (exp.Intersect, "an INTERSECT"),
        (exp.Except, "an EXCEPT"),
    ):
        if tree.find(node):
            problems.append(f"has {what}")
    if len(list(tree.find_all(exp.Group))) > 1:
        problems.append("groups more than once")
    keys = tuple(p.alias_or_name for p in tree.expressions if not p.find(exp.AggFunc))
    if not keys or not all(NAME.match(key) for key in keys):
        problems.append(f"has no plain group key columns ({', '.join(keys)})")
    if problems:
        raise ValueError(f"{file}: @update: groups does not apply: it " + "; ".join(problems))
    return keys


@lru_cache(maxsize=1)
def mart_names() -> frozenset[str]:
    """The tables the models of `sql/models/` build."""
    return frozenset(model.name for model in load_models())
