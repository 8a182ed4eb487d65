"""The docs stay true: their SQL examples print what they show, every table and column of
the warehouse is documented, and their links lead somewhere.

The examples are run on the session's seed warehouse (`seeded_warehouse`, one run over
the articles of seeds/), rendered by `tools/docs_examples.py`, the tool that writes them:
`make docs` refreshes every output block after a change.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tools import docs_examples

PROJECT_ROOT = docs_examples.PROJECT_ROOT

QUERYING = PROJECT_ROOT / "docs" / "querying.md"
EXAMPLES, MALFORMED = docs_examples.all_examples()
HEADING = re.compile(r"^(?P<level>#{1,6})\s+(?P<text>.*?)\s*#*\s*$")
LINK = re.compile(r"(?<!!)\[[^\]]*\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
INLINE_CODE = re.compile(r"`[^`]*`")


def prose_lines(path: Path) -> list[tuple[int, str]]:
    """(0-based line number, line) for every line outside fenced code blocks."""
    lines = path.read_text(encoding="utf-8").splitlines()
    inside: set[int] = set()
    for block in docs_examples.fenced_blocks(lines):
        inside.update(range(block.line, block.end + 1))
    return [(number, line) for number, line in enumerate(lines) if number not in inside]


@pytest.fixture
def warehouse(seeded_warehouse) -> Iterator[duckdb.DuckDBPyConnection]:
    published, _ = seeded_warehouse
    with docs_examples.read_only(published) as con:
        yield con


# SQL examples


def test_the_docs_have_sql_examples():
    names = {example.path.name for example in EXAMPLES}
    assert {"README.md", "querying.md"} <= names


def test_every_sql_block_is_followed_by_its_output():
    assert not MALFORMED, "\n".join(MALFORMED)


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.name for example in EXAMPLES])
def test_sql_example_prints_the_output_shown_under_it(warehouse, example):
    try:
        printed = docs_examples.render(warehouse, example.sql)
    except duckdb.Error as exc:
        pytest.fail(docs_examples.failure(example, exc), pytrace=False)
    if printed != docs_examples.normalise(example.shown):
        pytest.fail(docs_examples.difference(example, printed), pytrace=False)


def test_a_changed_output_is_reported_with_the_query_and_a_diff(tmp_path, warehouse):
    docs = tmp_path / "docs"
    docs.mkdir()
    (tmp_path / "README.md").write_text("# Salvo\n")
    sql = "SELECT count(*) AS documents FROM documents"
    (docs / "querying.md").write_text(f"```sql\n{sql}\n```\n\n```text\nstale\n```\n")
    examples, malformed = docs_examples.all_examples(tmp_path)
    assert not malformed and [example.sql for example in examples] == [sql]
    message = docs_examples.difference(examples[0], docs_examples.render(warehouse, sql))
    assert sql in message and "-stale" in message and "make docs" in message


def test_write_rewrites_only_the_output_blocks(tmp_path, seeded_warehouse):
    published, _ = seeded_warehouse
    (tmp_path / "docs").mkdir()
    readme = tmp_path / "README.md"
    readme.write_text(
        "Before.\n\n```sql\nSELECT 1 + 1 AS two\n```\n\n```text\nold\nlines\n```\n\nAfter.\n"
    )
    changed, problems = docs_examples.write(published, tmp_path)
    assert changed == [readme] and not problems
    text = readme.read_text()
    assert text.startswith("Before.\n\n```sql\nSELECT 1 + 1 AS two\n```\n\n```text\n┌")
    assert "│     2 │" in text and "old" not in text and text.endswith("```\n\nAfter.\n")
    assert docs_examples.write(published, tmp_path) == ([], [])


def test_the_docs_tool_builds_its_warehouse_with_the_command_of_make_run():
    command = docs_examples.run_command()
    assert command[0] == sys.executable and len(command) > 1


def test_a_sql_block_without_output_is_malformed(tmp_path):
    path = tmp_path / "page.md"
    path.write_text("```sql\nSELECT 1\n```\n\nSome words.\n\n```text\n1\n```\n")
    examples, problems = docs_examples.find_examples(path)
    assert examples == [] and len(problems) == 1 and ":1:" in problems[0]


# Every table and column documented


def sections(path: Path) -> list[tuple[str, str]]:
    """(heading, text up to the next heading of the same or a higher level) per heading."""
    lines = dict(prose_lines(path))
    everything = path.read_text(encoding="utf-8").splitlines()
    headings = [
        (number, len(match["level"]), match["text"])
        for number, line in sorted(lines.items())
        if (match := HEADING.match(line))
    ]
    found = []
    for index, (number, level, text) in enumerate(headings):
        end = next(
            (later for later, deeper, _ in headings[index + 1 :] if deeper <= level),
            len(everything),
        )
        found.append((text, "\n".join(everything[number + 1 : end])))
    return found


def undocumented(columns: dict[str, list[str]], page: Path) -> list[str]:
    """What a table reference leaves out: a table is documented under a heading that names
    it in backticks, and each of its columns backticked in that heading's section."""
    found = sections(page)
    missing = []
    for table, names in columns.items():
        texts = [body for heading, body in found if f"`{table}`" in heading]
        if not texts:
            missing.append(f"table `{table}`: no heading names it")
            continue
        absent = [name for name in names if not any(f"`{name}`" in text for text in texts)]
        if absent:
            missing.append(f"table `{table}`: columns {', '.join(absent)}")
    return missing


def test_every_table_and_column_of_the_warehouse_is_in_the_table_reference(warehouse):
    columns: dict[str, list[str]] = {}
    for table, column in warehouse.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
    ).fetchall():
        columns.setdefault(table, []).append(column)
    missing = undocumented(columns, QUERYING)
    assert not missing, "docs/querying.md does not document:\n" + "\n".join(missing)


def test_a_table_or_column_missing_from_the_reference_is_named(tmp_path):
    page = tmp_path / "querying.md"
    page.write_text(
        "## Tables\n\n### `a`\n\n`x` and `y`.\n\n#### Notes on `a`\n\n`w`\n\n"
        "### `b`\n\n`x`\n\n```sql\n# `c`\n```\n\n## Other\n\n`z`\n"
    )
    columns = {"a": ["x", "y", "w"], "b": ["x", "z"], "c": ["x"]}
    assert undocumented(columns, page) == [
        "table `b`: columns z",
        "table `c`: no heading names it",
    ]


# Links


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = INLINE_CODE.sub(lambda code: code.group(0)[1:-1], heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for _, line in prose_lines(path):
        if match := HEADING.match(line):
            base = slug(match["text"])
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


DOCS = docs_examples.doc_files()


@pytest.mark.parametrize("path", DOCS, ids=[p.name for p in DOCS])
def test_relative_links_lead_to_files_and_headings_that_exist(path):
    broken = []
    for number, line in prose_lines(path):
        for match in LINK.finditer(INLINE_CODE.sub("", line)):
            target = match["target"]
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue  # http:, https:, mailto:
            file_part, _, anchor = target.partition("#")
            linked = (path.parent / file_part).resolve() if file_part else path
            if not linked.exists():
                broken.append(f"line {number + 1}: {target} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                broken.append(f"line {number + 1}: {target} (no such heading)")
    assert not broken, f"broken links in {path.relative_to(PROJECT_ROOT)}:\n" + "\n".join(broken)


def test_the_table_reference_is_what_the_code_declares(warehouse):
    """The column tables of docs/querying.md come from pipeline/tables.toml and the marts'
    SQL comments (`make docs` rewrites them): a meaning changed in one place only fails."""
    from tools import docs_reference

    page = docs_examples.PROJECT_ROOT / docs_reference.PAGE
    lines = page.read_text(encoding="utf-8").splitlines()
    assert docs_reference.regenerate(lines, warehouse) == lines


def test_the_readme_shows_what_make_run_prints(seeded_warehouse):
    """The summary under `make run` in the README is the one the seed run prints."""
    from assets.run import summary

    published, _ = seeded_warehouse
    printed = summary(published).replace(str(published), "<repository>/warehouse/salvo.duckdb")
    readme = (docs_examples.PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert printed.strip() in readme
