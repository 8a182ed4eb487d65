"""Check, or rewrite, the output printed under every SQL example of the docs.

In README.md and docs/*.md every ```sql block is followed by a ```text block holding what
the query prints on the seed warehouse (the articles of seeds/ after `make run`), rendered
the way `make query` renders it. This tool builds that warehouse in a temporary folder,
runs every example read-only, and either reports the examples whose output differs (the
default; exit status 1) or rewrites the text blocks (`--write`, what `make docs` runs).
`tests/test_docs.py` uses the same parsing and rendering, so what is written here is what
the tests expect.

Usage: python -m tools.docs_examples [--write] [--warehouse FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from tools import docs_reference

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# What `make query` passes to DuckDB's renderer: the docs show what a user sees.
MAX_WIDTH = 200
MAX_ROWS = 40

FENCE = re.compile(r"^```(?P<info>[\w-]*)\s*$")


def doc_files(root: Path = PROJECT_ROOT) -> list[Path]:
    """README.md, then every Markdown file under docs/, in name order."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


@dataclass(frozen=True)
class Block:
    """A fenced block: its info string, its content and where the content sits in the file
    (lines `start` to `end`, 0-based, end excluded; `line` is the opening fence)."""

    info: str
    content: str
    line: int
    start: int
    end: int


@dataclass(frozen=True)
class Example:
    path: Path
    line: int  # 1-based line of the ```sql fence
    sql: str
    shown: str  # the content of the ```text block under it
    start: int  # the text block's content lines, 0-based, end excluded
    end: int

    @property
    def name(self) -> str:
        return f"{_relative(self.path)}:{self.line}"


def fenced_blocks(lines: list[str]) -> list[Block]:
    """The fenced code blocks of a Markdown file, in order."""
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        close = index + 1
        while close < len(lines) and lines[close].rstrip() != "```":
            close += 1
        content = "\n".join(lines[index + 1 : close])
        blocks.append(Block(opening["info"], content, index, index + 1, close))
        index = close + 1
    return blocks


def find_examples(path: Path) -> tuple[list[Example], list[str]]:
    """The SQL examples of a file, and a message for each ```sql block that has no ```text
    block right under it (only blank lines may separate them)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks = fenced_blocks(lines)
    examples: list[Example] = []
    problems: list[str] = []
    for index, block in enumerate(blocks):
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        if block.info != "sql":
            continue
        between = lines[block.end + 1 : following.line] if following else []
        if following is None or following.info != "text" or any(s.strip() for s in between):
            problems.append(
                f"{_relative(path)}:{block.line + 1}: a ```sql block must be followed by a "
                "```text block with its output"
            )
            continue
        examples.append(
            Example(
                path=path,
                line=block.line + 1,
                sql=block.content.strip(),
                shown=following.content,
                start=following.start,
                end=following.end,
            )
        )
    return examples, problems


def all_examples(root: Path = PROJECT_ROOT) -> tuple[list[Example], list[str]]:
    examples: list[Example] = []
    problems: list[str] = []
    for path in doc_files(root):
        found, wrong = find_examples(path)
        examples += found
        problems += wrong
    return examples, problems


def render(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """What `make query` prints for this query: DuckDB's table, with trailing spaces and
    blank lines removed. A query that fails raises duckdb.Error."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        con.sql(sql).show(max_width=MAX_WIDTH, max_rows=MAX_ROWS)
    return normalise(buffer.getvalue())


def normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def failure(example: Example, exc: Exception) -> str:
    return f"{example.name}: the query fails on the seed warehouse: {exc}\n{example.sql}"


def difference(example: Example, printed: str) -> str:
    """A readable account of one example whose output is not what the docs show."""
    diff = difflib.unified_diff(
        normalise(example.shown).splitlines(),
        printed.splitlines(),
        fromfile=f"{example.name} (shown in the docs)",
        tofile="printed by the seed warehouse",
        lineterm="",
    )
    return "\n".join(
        [
            f"{example.name}: the output under this query is out of date",
            example.sql,
            *diff,
            "Refresh every output block with `make docs` (tools/docs_examples.py --write).",
        ]
    )


@contextlib.contextmanager
def read_only(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        yield con
    finally:
        con.close()


def check(warehouse: Path, root: Path = PROJECT_ROOT) -> list[str]:
    """One message per example whose output differs, or that is malformed."""
    examples, problems = all_examples(root)
    with read_only(warehouse) as con:
        for example in examples:
            try:
                printed = render(con, example.sql)
            except duckdb.Error as exc:
                problems.append(failure(example, exc))
                continue
            if printed != normalise(example.shown):
                problems.append(difference(example, printed))
        page = root / docs_reference.PAGE
        lines = page.read_text(encoding="utf-8").splitlines()
        regenerated = docs_reference.regenerate(lines, con)
        if regenerated != lines:
            diff = difflib.unified_diff(lines, regenerated, "written", "generated", lineterm="")
            problems.append(
                f"{docs_reference.PAGE}: the table reference differs from what the code "
                "declares (run `make docs`):\n" + "\n".join(list(diff)[:60])
            )
    return problems


def write(warehouse: Path, root: Path = PROJECT_ROOT) -> tuple[list[Path], list[str]]:
    """Rewrite every output block from the warehouse. Returns the files that changed, and
    the problems found (malformed examples, failing queries: their blocks are left alone)."""
    changed: list[Path] = []
    problems: list[str] = []
    with read_only(warehouse) as con:
        for path in doc_files(root):
            examples, malformed = find_examples(path)
            problems += malformed
            original = path.read_text(encoding="utf-8")
            lines = original.splitlines()
            # Bottom up, so the line numbers of the blocks above stay valid.
            for example in reversed(examples):
                try:
                    printed = render(con, example.sql)
                except duckdb.Error as exc:
                    problems.append(failure(example, exc))
                    continue
                lines[example.start : example.end] = printed.splitlines()
            if path.relative_to(root).as_posix() == docs_reference.PAGE:
                lines = docs_reference.regenerate(lines, con)
            updated = "\n".join(lines) + "\n"
            if updated != original:
                path.write_text(updated, encoding="utf-8")
                changed.append(path)
    return changed, problems


def run_command(root: Path = PROJECT_ROOT) -> list[str]:
    """The command of the Makefile's `run` target, with this interpreter: the docs show what
    `make run` builds, wherever the entry point moves."""
    lines = (root / "Makefile").read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines[:-1]):
        if line.startswith("run:"):
            words = lines[index + 1].split()
            if words and words[0] == "$(BIN)/python":
                return [sys.executable, *words[1:]]
    raise SystemExit("The Makefile has no `run:` target whose recipe is `$(BIN)/python ...`.")


def build_seed_warehouse(folder: Path, root: Path = PROJECT_ROOT) -> Path:
    """Run the pipeline as `make run` does on a copy of seeds/, into `folder`; return the
    published file. Nothing outside `folder` is written."""
    seeds = folder / "seeds"
    shutil.copytree(root / "seeds", seeds)
    home = folder / "dagster_home"
    home.mkdir()
    shutil.copy(root / "dagster-instance.yaml", home / "dagster.yaml")
    published = folder / "warehouse" / "salvo.duckdb"
    env = {
        **os.environ,
        "SALVO_SEEDS_DIR": str(seeds),
        "SALVO_WAREHOUSE": str(published),
        "DAGSTER_HOME": str(home),
    }
    command = run_command(root)
    run = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    if run.returncode != 0 or not published.exists():
        sys.stderr.write(run.stdout + run.stderr)
        raise SystemExit(f"The seed run failed ({' '.join(command)}); see its log above.")
    return published


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--write", action="store_true", help="rewrite the output blocks instead of checking"
    )
    parser.add_argument(
        "--warehouse",
        type=Path,
        help="use this seed warehouse instead of building a fresh one",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="salvo-docs-") as scratch:
        warehouse = args.warehouse or build_seed_warehouse(Path(scratch))
        if args.write:
            changed, problems = write(warehouse)
            for path in changed:
                print(f"rewrote the outputs in {_relative(path)}")
            if not changed:
                print("every output block was already up to date")
        else:
            problems = check(warehouse)
    for problem in problems:
        print(problem, file=sys.stderr, end="\n\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
