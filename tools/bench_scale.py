"""`make bench-scale`: the warehouse at 10,000 to 1,000,000 documents, by simulation.

A base warehouse of a generated corpus (1,000 documents by default) is built once by the
real pipeline; for each size, its parsed rows are replicated under new ids
(`tools.scale_sim`) with a seeds folder that matches them. Then, each run a child process
running what `make run` runs:

- *settle*: the first run after the replication (nothing to parse; the marts are built at
  the new size and the warehouse published);
- *nothing new*: a run with no new or changed file (median of --repeats);
- *add 1*: one new article (median of --repeats, a new article each time);
- *add 1,000*: a thousand new articles (their parse reported apart);

with the time of each step (each mart and check, the publish), the disk used by every
file of the warehouse folder, the peak RSS summed over the process tree, and each SQL
example of the README against the published warehouse (median of 3, a fresh read-only
connection each). It prints numbers and asserts nothing. Usage:

    python -m tools.bench_scale [--sizes 10000,100000] [--keep DIR] [--base-docs 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg

from pipeline.segments import SEGMENTS_SUFFIX, folder_for
from tools.bench_runs import Deployment, PipelineRun
from tools.corpus import CorpusGenerator
from tools.scale_layout import convert, readme_queries
from tools.scale_sim import replicate

MiB = 1024 * 1024
# New articles come from this index of the generator on: never one of the base corpus.
NEW_ARTICLES = 5_000_000


def step_seconds(home: Path) -> dict[str, float]:
    """Seconds per step of the latest run of a Dagster home."""
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        run = instance.get_runs(limit=1)[0]
        records = instance.get_records_for_run(
            run.run_id,
            of_type={dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS},
            limit=100_000,
        ).records
    finally:
        instance.dispose()
    starts: dict[str, float] = {}
    steps: dict[str, float] = {}
    for record in records:
        entry = record.event_log_entry
        event = entry.dagster_event
        if event is None or not entry.step_key:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            starts[entry.step_key] = entry.timestamp
        else:
            steps[entry.step_key] = entry.timestamp - starts.get(entry.step_key, entry.timestamp)
    return steps


def disk_usage(folder: Path) -> dict[str, int]:
    """Bytes allocated per file of the folder (recursively); a file with several names
    (hard links) counts once, under its first name."""
    seen: set[tuple[int, int]] = set()
    usage: dict[str, int] = {}
    for path in sorted(folder.rglob("*")):
        stat = path.lstat()
        if not path.is_file() or (stat.st_dev, stat.st_ino) in seen:
            continue
        seen.add((stat.st_dev, stat.st_ino))
        usage[str(path.relative_to(folder))] = stat.st_blocks * 512
    return usage


class Measured:
    """One measured run: its wall time, peak RSS, steps and the folder's disk usage."""

    def __init__(self, deployment: Deployment, run: PipelineRun):
        self.wall = run.child.wall_seconds
        self.rss = run.child.tree_rss
        self.stage_rss = run.stage_peak_rss  # bytes, tree sum while each stage ran
        self.steps = step_seconds(deployment.home)
        self.parse = float(run.nlp.get("parse_seconds", 0.0))
        self.parsed = run.documents
        self.disk = disk_usage(deployment.warehouse.parent)

    def as_dict(self) -> dict[str, object]:
        return dict(vars(self))


def median_run(runs: list[Measured]) -> Measured:
    return sorted(runs, key=lambda run: run.wall)[len(runs) // 2]


def build_base(root: Path, documents: int, say) -> Deployment:
    """The base warehouse, built by the real pipeline from a generated corpus (kept)."""
    base = Deployment(root / f"base_{documents}")
    working = base.warehouse.with_name(f".{base.warehouse.stem}.work.duckdb")
    if not working.exists():
        say(f"[base] writing {documents} articles and running the pipeline on them")
        CorpusGenerator().write(base.seeds, 0, documents)
        run = base.run()
        say(f"[base] {run.child.wall_seconds:.1f} s, {run.documents} documents parsed")
    return base


def bench_size(
    size: int, base: Deployment, base_docs: int, root: Path, repeats: int, many: int, say
):
    if size % base_docs:
        raise ValueError(f"--sizes must be multiples of the base corpus ({base_docs})")
    deployment = Deployment(root / f"scale_{size}")
    say(f"[{size}] replicating the base corpus {size // base_docs} times")
    shutil.copytree(base.seeds, deployment.seeds, dirs_exist_ok=True, copy_function=shutil.copy2)
    working = deployment.warehouse.with_name(f".{deployment.warehouse.stem}.work.duckdb")
    working.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(base.warehouse.with_name(working.name), working)
    # The large tables' Parquet files go with the file (its views name them).
    base_segments = folder_for(base.warehouse)
    if base_segments.exists():
        shutil.copytree(base_segments, folder_for(working), dirs_exist_ok=True)
    replication = replicate(working, deployment.seeds, size // base_docs - 1, say)
    result: dict[str, object] = {"size": size, "replication_seconds": replication}
    generator, new = CorpusGenerator(), NEW_ARTICLES + size

    def measure(name: str) -> Measured:
        measured = Measured(deployment, deployment.run())
        say(f"[{size}] {name}: {measured.wall:.1f} s, {measured.parsed} parsed")
        return measured

    result["settle"] = measure("settle").as_dict()
    result["nothing_new"] = median_run([measure("nothing new") for _ in range(repeats)]).as_dict()
    adds = []
    for _ in range(repeats):
        generator.write(deployment.seeds, new, new + 1)
        new += 1
        adds.append(measure("add 1"))
    result["add_1"] = median_run(adds).as_dict()
    generator.write(deployment.seeds, new, new + many)
    result["add_1000"] = measure(f"add {many}").as_dict()
    result["readme_queries"] = readme_queries(deployment.warehouse)
    say(f"[{size}] README queries: {result['readme_queries']}")
    layout = deployment.root / "layout_b"
    result["layout_b"] = convert(deployment.warehouse, layout)
    say(f"[{size}] layout (b): {result['layout_b']}")
    shutil.rmtree(layout)
    return result


def _peak_stage(stage_rss: dict[str, int] | None) -> str:
    return max(stage_rss, key=lambda name: stage_rss[name]) if stage_rss else "?"


def _mib(value: object) -> str:
    return f"{int(value) / MiB:,.0f} MiB"  # type: ignore[call-overload]


def report(results: list[dict]) -> str:
    """One Markdown table: a row per measure, a column per size."""
    rows: list[tuple[str, list[str]]] = []

    def row(label: str, cell) -> None:
        rows.append((label, [cell(r) for r in results]))

    def steps(run: str, keys: tuple[str, ...] | None = None, other: bool = False):
        def cell(r: dict) -> str:
            s = r[run]["steps"]
            chosen = [v for k, v in s.items() if (k in keys) != other] if keys else list(s.values())
            return f"{sum(chosen):.1f} s"

        return cell

    ingest = ("seed_files_and_raw_documents", "ingest_checks", "documents", "documents_checks")
    nlp = ("sentences_entities_claims", "nlp_checks")
    stories = ("story_links_and_document_stories", "stories_sql_checks")
    row("replication (simulation only)", lambda r: f"{r['replication_seconds']:.0f} s")
    row("settle run: marts built at this size", lambda r: f"{r['settle']['wall']:.1f} s")
    for run, label in (
        ("nothing_new", "nothing new"),
        ("add_1", "add 1"),
        ("add_1000", "add 1,000"),
    ):
        row(
            f"{label}: wall time (documents parsed)",
            lambda r, run=run: f"{r[run]['wall']:.1f} s ({r[run]['parsed']})",
        )
        row("&nbsp;&nbsp;ingest (ledger, documents, checks)", steps(run, ingest))
        row("&nbsp;&nbsp;nlp (+ checks)", steps(run, nlp))
        row("&nbsp;&nbsp;stories (+ checks)", steps(run, stories))
        marts = (*ingest, *nlp, *stories, "published_warehouse")
        row("&nbsp;&nbsp;marts and their checks", steps(run, marts, other=True))
        row("&nbsp;&nbsp;publish", steps(run, ("published_warehouse",)))
        row(
            "&nbsp;&nbsp;peak RSS (tree sum; the stage it peaked in)",
            lambda r, run=run: f"{_mib(r[run]['rss'])} ({_peak_stage(r[run].get('stage_rss'))})",
        )
    row("add 1,000: parse", lambda r: f"{r['add_1000']['parse']:.1f} s")
    row(
        "add 1,000: beyond the parse",
        lambda r: f"{r['add_1000']['wall'] - r['add_1000']['parse']:.1f} s",
    )
    row(
        "slowest mart or check step (add 1)",
        lambda r: "{1} ({0:.2f} s)".format(
            *max(
                (v, k) for k, v in r["add_1"]["steps"].items() if k not in (*ingest, *nlp, *stories)
            )
        ),
    )
    grouped = [_grouped_disk(r["add_1000"]["disk"]) for r in results]
    for name in sorted({n for g in grouped for n in g}):
        sizes = [g.get(name) for g in grouped]
        if any(s and s > MiB for s in sizes):
            rows.append((f"disk: {name}", [_mib(s or 0) for s in sizes]))
    row("disk: warehouse folder", lambda r: _mib(sum(r["add_1000"]["disk"].values())))
    for name in results[0]["readme_queries"]:
        row(f"query: {name}", lambda r, name=name: f"{r['readme_queries'][name]:.2f} s")
    if not all("layout_b" in r for r in results):
        return _table(results, rows)
    # Candidate (b): the large tables as Parquet segments under a small DuckDB file.
    row(
        "(b) Parquet segments + small file: disk",
        lambda r: _mib(r["layout_b"]["segments_bytes"] + r["layout_b"]["catalog_bytes"]),
    )
    row(
        "(b) the small file (what a publish copies)",
        lambda r: "{} in {:.1f} s".format(
            _mib(r["layout_b"]["catalog_bytes"]), r["layout_b"]["catalog_copy_seconds"]
        ),
    )
    row(
        "(b) writing the layout from the published file",
        lambda r: "{:.0f} s, {} files".format(
            r["layout_b"]["convert_seconds"], r["layout_b"]["segments"]
        ),
    )
    for name in results[0]["readme_queries"]:
        key = f"query {name}"
        row(f"(b) query: {name}", lambda r, key=key: f"{r['layout_b'][key]:.2f} s")
    return _table(results, rows)


def _grouped_disk(disk: dict[str, int]) -> dict[str, int]:
    """Bytes per file, the segment files (pipeline/segments.py) summed as one row."""
    grouped: dict[str, int] = {}
    for name, size in disk.items():
        folder = name.split("/", 1)[0]
        key = f"{folder}/ (segment files)" if folder.endswith(SEGMENTS_SUFFIX) else name
        grouped[key] = grouped.get(key, 0) + size
    return grouped


def _table(results: list[dict], rows: list[tuple[str, list[str]]]) -> str:
    header = "| measure | " + " | ".join(f"{r['size']:,} documents" for r in results) + " |"
    lines = [header, "|---" * (len(results) + 1) + "|"]
    lines += [f"| {label} | " + " | ".join(cells) + " |" for label, cells in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--base-docs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="keep the base, warehouses and logs here")
    parser.add_argument("--add-many", type=int, default=1000, help="the documents of 'add 1,000'")
    parser.add_argument("--report", type=Path, help="print the table of a saved results file")
    args = parser.parse_args(argv)
    if args.report:
        print(report(json.loads(args.report.read_text(encoding="utf-8"))))
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s]
    root = args.keep or Path(tempfile.mkdtemp(prefix="salvo-scale-"))
    root.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    def say(line: str) -> None:
        print(f"{time.perf_counter() - started:7.0f} s  {line}", file=sys.stderr, flush=True)

    try:
        base = build_base(root, args.base_docs, say)
        results = []
        for size in sizes:
            results.append(
                bench_size(size, base, args.base_docs, root, args.repeats, args.add_many, say)
            )
            (root / "scale_results.json").write_text(json.dumps(results, indent=1))
            if not args.keep:
                shutil.rmtree(root / f"scale_{size}")
        print(report(results))
        print(
            f"\nbench-scale took {time.perf_counter() - started:.0f} s; free disk "
            f"{shutil.disk_usage(root).free / 1e9:.0f} GB",
            flush=True,
        )
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
