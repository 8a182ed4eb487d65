"""`make bench`: what the pipeline costs on this machine, against the targets of the
performance issue.

For each corpus size it generates distinct, realistic articles (sentences of the seed
articles recombined, with actors, weapons, people, numbers and dates substituted), then
measures, each in a fresh child process as a user would run it:

- a cold run of `python -m pipeline.run` (what `make run` executes) from an empty warehouse:
  wall time, documents/s, tokens/s, wall time per stage (from the run's Dagster step
  events) and peak memory;
- the baseline: plain `spacy.load(model)` and `nlp.pipe(texts)` in one process on the same
  cleaned texts the run parsed, start-up included;
- a run with no new or changed file, one document added to that warehouse, and the same
  document added to an empty warehouse;
- one tick of the folder sensor over the corpus, and the DuckDB write rate.

It prints numbers; nothing here is a timed test. Usage:

    python -m tools.bench [--sizes 1000,10000] [--quick] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.settings import PROJECT_ROOT, spacy_model
from tools.corpus import CorpusGenerator

DAGSTER_YAML = PROJECT_ROOT / "dagster.yaml"
# Runs of a few seconds vary by a second or more on a shared machine: each incremental run
# and the write replay are measured this many times and the median is reported.
REPEATS = 3
# The add-one runs, each paired with the same add into an empty warehouse: the target is
# their ratio, so both medians get more runs.
ADD_REPEATS = 5
MiB = 1024 * 1024

# --- measuring a child process -----------------------------------------------------------


def _children_by_parent() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may hold spaces or parentheses: fields start after the last ")".
        parent = int(stat[stat.rfind(")") + 2 :].split()[1])
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def _memory_of(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes; PSS shares each page among the processes mapping it, so the
    sum over a tree of forked workers counts the model once."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss, pss


class TreeMemorySampler(threading.Thread):
    """Samples the summed RSS and PSS of all the descendants of a process."""

    def __init__(self, pid: int, interval: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_rss = self.peak_pss = 0
        self.peak_processes = 0
        self.samples: list[tuple[float, int]] = []  # (time.time(), summed RSS)
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            tree = _children_by_parent()
            # The root is the launcher: only what it started counts.
            pids, pending = [], list(tree.get(self.pid, []))
            while pending:
                pid = pending.pop()
                pids.append(pid)
                pending += tree.get(pid, [])
            sizes = [_memory_of(pid) for pid in pids]
            self.samples.append((time.time(), sum(s[0] for s in sizes)))
            self.peak_rss = max(self.peak_rss, sum(s[0] for s in sizes))
            self.peak_pss = max(self.peak_pss, sum(s[1] for s in sizes))
            self.peak_processes = max(self.peak_processes, len(pids))
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


@dataclass
class ChildRun:
    wall_seconds: float
    started_at: float  # time.time() when the process was started
    max_process_rss: int  # bytes: the largest single process of the tree (getrusage)
    tree_rss: int  # bytes: peak of the sampled sum over the tree
    tree_pss: int
    processes: int
    returncode: int
    log: Path
    cpu_seconds: float  # user + system of the tree (wait4)
    other_cores: float  # CPU used meanwhile by everything else on the machine, in cores
    samples: list[tuple[float, int]]

    def peak_rss_between(self, start: float, end: float) -> int:
        return max((rss for at, rss in self.samples if start <= at <= end), default=0)


def _busy_seconds() -> float:
    """CPU time spent by the whole machine so far (every core, all but idle and iowait)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


# Starts the measured command and reports its own wait4 rusage. The bench process is not
# the direct parent because ru_maxrss keeps the high-water mark of the process before exec,
# and a child forked from the bench (which has loaded Dagster, DuckDB and a corpus) would
# start from the bench's size; this launcher is a few MB.
LAUNCHER = """
import json, os, subprocess, sys, time
started_at, start = time.time(), time.perf_counter()
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
wall = time.perf_counter() - start
with open(sys.argv[1], "w") as report:
    json.dump({"started_at": started_at, "wall_seconds": wall, "maxrss_kib": usage.ru_maxrss,
               "cpu_seconds": usage.ru_utime + usage.ru_stime,
               "returncode": os.waitstatus_to_exitcode(status)}, report)
"""


def run_child(argv: Sequence[str], env: dict[str, str], log: Path) -> ChildRun:
    """Run a command to completion and measure it, workers included: wall time from its
    start to its exit, ru_maxrss of its wait4 rusage (the largest single process among it
    and the descendants it reaped), and the sampled sum over its process tree."""
    report = log.with_suffix(".rusage.json")
    busy_before = _busy_seconds()
    with open(log, "wb") as out:
        launcher = subprocess.Popen(
            [sys.executable, "-S", "-c", LAUNCHER, str(report), *argv],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )
        sampler = TreeMemorySampler(launcher.pid)
        sampler.start()
        launcher.wait()
        sampler.stop()
    busy = _busy_seconds() - busy_before
    measured = json.loads(report.read_text(encoding="utf-8"))
    wall = max(measured["wall_seconds"], 1e-9)
    return ChildRun(
        wall_seconds=measured["wall_seconds"],
        started_at=measured["started_at"],
        max_process_rss=measured["maxrss_kib"] * 1024,
        tree_rss=sampler.peak_rss,
        tree_pss=sampler.peak_pss,
        processes=sampler.peak_processes,
        returncode=measured["returncode"],
        log=log,
        cpu_seconds=measured["cpu_seconds"],
        other_cores=max(0.0, busy - measured["cpu_seconds"]) / wall,
        samples=sampler.samples,
    )


# --- one deployment: seeds folder, warehouse and Dagster home in a temp dir -------------


# Steps by stage; any other step (a mart, its checks) is "marts". A stage's check step
# counts in that stage.
STAGES = {
    "seed_files_and_raw_documents": "ingest",
    "ingest_checks": "ingest",
    "documents": "ingest",
    "documents_checks": "ingest",
    "sentences_entities_claims": "nlp",
    "nlp_checks": "nlp",
    "story_links_and_document_stories": "stories",
    "stories_sql_checks": "stories",
    "published_warehouse": "publish",
}
STAGE_ORDER = ("start-up", "ingest", "nlp", "stories", "marts", "publish", "exit")


@dataclass
class PipelineRun:
    child: ChildRun
    stages: dict[str, float]  # seconds per stage, in STAGE_ORDER
    nlp: dict[str, float]  # metadata of the NLP asset in this run
    stage_peak_rss: dict[str, int]  # bytes, tree sum sampled while the stage ran

    @property
    def documents(self) -> int:
        return int(self.nlp.get("documents_parsed", 0))

    @property
    def tokens(self) -> int:
        return int(self.nlp.get("tokens_parsed", 0))


@dataclass
class Deployment:
    root: Path
    seeds: Path = field(init=False)
    warehouse: Path = field(init=False)
    home: Path = field(init=False)
    runs: int = 0

    def __post_init__(self) -> None:
        self.seeds = self.root / "seeds"
        self.warehouse = self.root / "warehouse" / "salvo.duckdb"
        self.home = self.root / "dagster_home"
        self.seeds.mkdir(parents=True, exist_ok=True)
        self.home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DAGSTER_YAML, self.home / "dagster.yaml")

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "SALVO_SEEDS_DIR": str(self.seeds),
            "SALVO_WAREHOUSE": str(self.warehouse),
            "DAGSTER_HOME": str(self.home),
        }

    def run(self) -> PipelineRun:
        """`make run`'s command, in a child process."""
        self.runs += 1
        child = run_child(
            [sys.executable, "-m", "pipeline.run"], self.env(), self.root / f"run{self.runs}.log"
        )
        if child.returncode != 0:
            tail = child.log.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise RuntimeError(f"pipeline run failed ({child.returncode}); log tail:\n{tail}")
        stages, nlp, peaks = read_run_events(self.home, child)
        return PipelineRun(child, stages, nlp, peaks)


def read_run_events(
    home: Path, child: ChildRun
) -> tuple[dict[str, float], dict[str, float], dict[str, int]]:
    """Wall time per stage from the latest run's step events, the NLP asset's metadata and
    the peak RSS (tree sum) sampled while each stage's steps ran.
    Start-up is process start to the first step; exit is the last step to process exit
    (the summary `make run` prints, interpreter shutdown)."""
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(home))
    try:
        run = instance.get_runs(limit=1)[0]
        records = instance.get_records_for_run(
            run.run_id,
            of_type={
                dg.DagsterEventType.STEP_START,
                dg.DagsterEventType.STEP_SUCCESS,
                dg.DagsterEventType.ASSET_MATERIALIZATION,
            },
            limit=100_000,
        ).records
    finally:
        instance.dispose()
    starts: dict[str, float] = {}
    stages = dict.fromkeys(STAGE_ORDER, 0.0)
    peaks = dict.fromkeys(STAGE_ORDER, 0)
    nlp: dict[str, float] = {}
    first = last = None
    for record in records:
        entry = record.event_log_entry
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START and entry.step_key:
            starts[entry.step_key] = entry.timestamp
            first = entry.timestamp if first is None else min(first, entry.timestamp)
        elif event.event_type == dg.DagsterEventType.STEP_SUCCESS and entry.step_key:
            stage = STAGES.get(entry.step_key, "marts")
            began = starts.get(entry.step_key, entry.timestamp)
            stages[stage] += entry.timestamp - began
            peaks[stage] = max(peaks[stage], child.peak_rss_between(began, entry.timestamp))
            last = entry.timestamp if last is None else max(last, entry.timestamp)
        elif event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.step_materialization_data.materialization
            if materialization.asset_key == dg.AssetKey("sentences"):
                for key, value in materialization.metadata.items():
                    if isinstance(value.value, int | float):
                        nlp[key] = float(value.value)
    if first is not None and last is not None:
        stages["start-up"] = first - child.started_at
        stages["exit"] = child.started_at + child.wall_seconds - last
    return stages, nlp, peaks


# --- the baseline: plain nlp.pipe in one process -----------------------------------------

BASELINE_SCRIPT = """
import json, sys, time
start = time.perf_counter()
import spacy
nlp = spacy.load(sys.argv[2])
loaded = time.perf_counter()
with open(sys.argv[1], encoding="utf-8") as handle:
    texts = [json.loads(line) for line in handle]
tokens = 0
for doc in nlp.pipe(texts):
    tokens += len(doc)
done = time.perf_counter()
print(json.dumps({"documents": len(texts), "tokens": tokens, "load_seconds": loaded - start,
                  "pipe_seconds": done - loaded}))
"""


@dataclass
class BaselineRun:
    child: ChildRun
    documents: int
    tokens: int
    load_seconds: float
    pipe_seconds: float


def export_texts(published: Path, target: Path) -> int:
    """The cleaned texts the run parsed, one JSON string a line."""
    import duckdb

    con = duckdb.connect(str(published), read_only=True)
    try:
        rows = con.execute("SELECT clean_text FROM documents ORDER BY doc_id").fetchall()
    finally:
        con.close()
    with open(target, "w", encoding="utf-8") as handle:
        for (text,) in rows:
            handle.write(json.dumps(text) + "\n")
    return len(rows)


def run_baseline(texts: Path, model: str, log: Path) -> BaselineRun:
    child = run_child(
        [sys.executable, "-c", BASELINE_SCRIPT, str(texts), model], {**os.environ}, log
    )
    output = log.read_text(encoding="utf-8").strip().splitlines()
    if child.returncode != 0 or not output:
        raise RuntimeError(f"baseline failed: {log.read_text(encoding='utf-8')[-2000:]}")
    result = json.loads(output[-1])
    return BaselineRun(
        child, result["documents"], result["tokens"], result["load_seconds"], result["pipe_seconds"]
    )


# --- the sensor and the DuckDB writes ----------------------------------------------------


def sensor_ticks(deployment: Deployment) -> tuple[float, float]:
    """Seconds of one tick with no cursor (every file hashed) and of the next tick (nothing
    changed: one stat per file)."""
    import dagster as dg

    from pipeline.defs.automation import new_seed_files
    from pipeline.defs.resources import SalvoSettings

    salvo = SalvoSettings(
        seeds_dir=str(deployment.seeds), warehouse=str(deployment.warehouse), spacy_model="-"
    )
    timings, cursor = [], None
    for _ in range(2):
        context = dg.build_sensor_context(cursor=cursor, resources={"salvo": salvo})
        start = time.perf_counter()
        new_seed_files(context)
        timings.append(time.perf_counter() - start)
        cursor = context.cursor
    return timings[0], timings[1]


def duckdb_write_rate(
    published: Path, scratch: Path, keyed: bool = False, repeats: int = REPEATS
) -> tuple[int, float]:
    """Rows and seconds to write the run's sentences, entities, claims and nlp_runs into an
    empty working database the way the NLP stage does: each BATCH_DOCUMENTS documents'
    rows staged as Parquet files; per WRITE_DOCUMENTS documents, a connection opened, one
    transaction that looks up which documents were parsed before (and deletes their rows)
    and bulk-inserts the files, and the connection closed (a checkpoint). Staging is timed
    too. The seconds are the median of `repeats` replays, each into a new database: one
    replay of a few seconds moves by a fifth from run to run. Keyed: the same tables with a
    PRIMARY KEY on their id, as earlier versions created them (what DuckDB's key index
    costs)."""
    import duckdb
    import polars as pl

    from assets.nlp import BATCH_DOCUMENTS, NLP_TABLES, WRITE_DOCUMENTS

    source = duckdb.connect(str(published), read_only=True)
    try:
        frames = {
            table: pl.DataFrame(source.sql(f"SELECT * FROM {table}").to_arrow_table())
            for table in NLP_TABLES
        }
    finally:
        source.close()
    doc_ids = sorted(set(frames["nlp_runs"]["doc_id"].to_list()))
    batches = [
        {t: f.filter(pl.col("doc_id").is_in(batch)) for t, f in frames.items()}
        for batch in (
            doc_ids[first : first + BATCH_DOCUMENTS]
            for first in range(0, len(doc_ids), BATCH_DOCUMENTS)
        )
    ]
    del frames
    per_write = max(1, WRITE_DOCUMENTS // BATCH_DOCUMENTS)
    timings = []
    for _ in range(repeats):
        rows, seconds = _replay_writes(batches, per_write, scratch, keyed)
        timings.append(seconds)
    return rows, statistics.median(timings)


def _replay_writes(
    batches: list[dict[str, Any]], per_write: int, scratch: Path, keyed: bool
) -> tuple[int, float]:
    """One replay of duckdb_write_rate into a new database: rows and seconds."""
    from assets.nlp import NLP_TABLES, stage_parquet, write_staged
    from pipeline import quality, warehouse

    target_path = scratch / "write_rate.duckdb"
    staging = scratch / "write_rate_rows"
    staging.mkdir(exist_ok=True)
    target_path.unlink(missing_ok=True)
    target = warehouse.connect(target_path)  # the pipeline's connection settings
    for table in NLP_TABLES:
        body = warehouse.SCHEMA[table]
        if keyed and table in warehouse.UNKEYED_TABLES:
            key = quality.KEYS[table]
            body = body.replace(f"{key} VARCHAR NOT NULL", f"{key} VARCHAR PRIMARY KEY")
        target.execute(f"CREATE TABLE {table} ({body})")
    target.close()
    try:
        rows, start = 0, time.perf_counter()
        for first in range(0, len(batches), per_write):
            staged: dict[str, list[Path]] = {table: [] for table in NLP_TABLES}
            written_ids: list[str] = []
            for number, parts in enumerate(batches[first : first + per_write], start=first):
                for table, path in stage_parquet(parts, staging, number).items():
                    staged[table].append(path)
                rows += sum(part.height for part in parts.values())
                written_ids += parts["nlp_runs"]["doc_id"].to_list()
            con = warehouse.connect(target_path)
            try:
                write_staged(con, written_ids, staged)
            finally:
                con.close()
        seconds = time.perf_counter() - start
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        target_path.unlink(missing_ok=True)
    return rows, seconds


# --- one size, end to end ----------------------------------------------------------------


@dataclass
class SizeResult:
    size: int
    cold: PipelineRun
    baseline: BaselineRun
    unchanged: PipelineRun
    add_one: PipelineRun
    add_one_empty: PipelineRun
    sensor_first: float
    sensor_next: float
    write_rows: int
    write_seconds: float
    keyed_write_seconds: float

    @property
    def speedup(self) -> float:
        return self.baseline.child.wall_seconds / self.cold.child.wall_seconds

    @property
    def wall_without_stories(self) -> float:
        return self.cold.child.wall_seconds - self.cold.stages["stories"]

    @property
    def add_one_ratio(self) -> float:
        return self.add_one.child.wall_seconds / self.add_one_empty.child.wall_seconds

    @property
    def nlp_cores(self) -> float:
        cpu = self.cold.nlp.get("parse_cpu_seconds", 0.0)
        return cpu / max(self.cold.nlp.get("parse_seconds", 0.0), 1e-9)

    @property
    def run_write_rate(self) -> float:
        written = self.cold.nlp.get("rows_written", 0.0)
        return written / max(self.cold.nlp.get("write_seconds", 0.0), 1e-9)

    @property
    def write_rate(self) -> float:
        return self.write_rows / max(self.write_seconds, 1e-9)


def _median(runs: list[PipelineRun]) -> PipelineRun:
    """The run with the median wall time (its stage times are reported with it)."""
    return sorted(runs, key=lambda run: run.child.wall_seconds)[len(runs) // 2]


def bench_size(size: int, generator: CorpusGenerator, root: Path, say) -> SizeResult:
    deployment = Deployment(root / f"corpus_{size}")
    say(f"[{size}] writing {size} articles to {deployment.seeds}")
    generator.write(deployment.seeds, 0, size)
    say(f"[{size}] cold run")
    cold = deployment.run()
    say(f"[{size}]   {cold.child.wall_seconds:.1f} s, {cold.documents} documents parsed")
    texts = deployment.root / "texts.jsonl"
    export_texts(deployment.warehouse, texts)
    say(f"[{size}] baseline: plain nlp.pipe, one process")
    baseline = run_baseline(texts, spacy_model(), deployment.root / "baseline.log")
    say(f"[{size}]   {baseline.child.wall_seconds:.1f} s")
    say(f"[{size}] sensor ticks")
    sensor_first, sensor_next = sensor_ticks(deployment)
    say(f"[{size}] no-change run, {REPEATS} times")
    unchanged = _median([deployment.run() for _ in range(REPEATS)])
    say(f"[{size}]   median {unchanged.child.wall_seconds:.1f} s")
    say(
        f"[{size}] one document added, {ADD_REPEATS} times (a new one each time), each run "
        "paired with the same document into an empty warehouse"
    )
    added: list[PipelineRun] = []
    into_empty: list[PipelineRun] = []
    for extra in range(ADD_REPEATS):
        # Paired: the machine's speed drifts by seconds over a few minutes, and runs of both
        # kinds taken in turn see the same drift (all of one kind first would not). Which
        # goes first alternates, so a slow start does not always fall on the same kind.
        empty = Deployment(root / f"empty_{size}_{extra}")
        for target in (deployment, empty)[:: 1 if extra % 2 == 0 else -1]:
            generator.write(target.seeds, size + extra, size + extra + 1)
            (added if target is deployment else into_empty).append(target.run())
        say(
            f"[{size}]   {added[-1].child.wall_seconds:.1f} s into {size}, "
            f"{into_empty[-1].child.wall_seconds:.1f} s into an empty warehouse"
        )
    add_one, add_one_empty = _median(added), _median(into_empty)
    say(
        f"[{size}]   medians {add_one.child.wall_seconds:.1f} s and "
        f"{add_one_empty.child.wall_seconds:.1f} s"
    )
    say(f"[{size}] DuckDB write rate")
    write_rows, write_seconds = duckdb_write_rate(deployment.warehouse, deployment.root)
    _, keyed_seconds = duckdb_write_rate(deployment.warehouse, deployment.root, keyed=True)
    return SizeResult(
        size,
        cold,
        baseline,
        unchanged,
        add_one,
        add_one_empty,
        sensor_first,
        sensor_next,
        write_rows,
        write_seconds,
        keyed_seconds,
    )


# --- the report --------------------------------------------------------------------------


def _mb(value: float) -> str:
    return f"{value / MiB:,.0f} MiB"


def _verdict(ok: bool | None) -> str:
    return {True: "met", False: "NOT MET", None: "n/a"}[ok]


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    try:
        load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    return (
        f"{os.cpu_count()} cores, {memory:.0f} GB RAM, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; load average before the run {load}"
    )


def _stages(run: PipelineRun) -> str:
    return ", ".join(f"{stage} {run.stages[stage]:.1f}" for stage in STAGE_ORDER)


GiB = 1024**3


def report(results: list[SizeResult]) -> str:
    """The tables `make bench` prints (Markdown)."""
    lines: list[str] = []
    header = "| measure | " + " | ".join(f"{r.size:,} documents" for r in results) + " |"
    rule = "|---|" + "---|" * len(results)

    def table(title: str) -> None:
        lines.extend(["", f"### {title}", "", header, rule])

    def row(label: str, cell) -> None:
        lines.append(f"| {label} | " + " | ".join(cell(r) for r in results) + " |")

    table("Cold run from an empty warehouse (`python -m pipeline.run` in a child process)")
    row("documents / tokens parsed", lambda r: f"{r.cold.documents:,} / {r.cold.tokens:,}")
    row("wall time, process start to exit", lambda r: f"{r.cold.child.wall_seconds:.1f} s")
    for stage in STAGE_ORDER:
        row(f"&nbsp;&nbsp;{stage}", lambda r, stage=stage: f"{r.cold.stages[stage]:.1f} s")
    row("documents/s, end to end", lambda r: f"{r.cold.documents / r.cold.child.wall_seconds:.1f}")
    row("tokens/s, end to end", lambda r: f"{r.cold.tokens / r.cold.child.wall_seconds:,.0f}")
    row(
        "tokens/s in the NLP stage",
        lambda r: (
            f"{r.cold.tokens / max(r.cold.stages['nlp'], 1e-9):,.0f} "
            f"({int(r.cold.nlp.get('worker_processes', 0)) or 1} parsing processes)"
        ),
    )
    row(
        "NLP stage: CPU seconds per wall second (cores used)",
        lambda r: f"{r.nlp_cores:.2f}",
    )
    row(
        "other processes on the machine meanwhile (cores busy)",
        lambda r: (
            f"{r.cold.child.other_cores:.2f} (baseline run: {r.baseline.child.other_cores:.2f})"
        ),
    )
    row(
        "baseline: plain nlp.pipe, one process, wall time",
        lambda r: (
            f"{r.baseline.child.wall_seconds:.1f} s (start-up {r.baseline.load_seconds:.1f} s)"
        ),
    )
    row(
        "baseline tokens/s, end to end",
        lambda r: f"{r.baseline.tokens / r.baseline.child.wall_seconds:,.0f}",
    )
    row("speed-up over the baseline", lambda r: f"{r.speedup:.2f}x")
    row(
        "speed-up without the stories stage (derived)",
        lambda r: f"{r.baseline.child.wall_seconds / r.wall_without_stories:.2f}x",
    )
    row("peak RSS, sum over the process tree", lambda r: _mb(r.cold.child.tree_rss))
    row("peak PSS, sum over the process tree", lambda r: _mb(r.cold.child.tree_pss))
    for stage in ("ingest", "nlp", "stories", "marts"):
        row(
            f"&nbsp;&nbsp;peak RSS (tree sum) during {stage}",
            lambda r, stage=stage: _mb(r.cold.stage_peak_rss[stage]),
        )
    row("peak RSS, largest process (ru_maxrss)", lambda r: _mb(r.cold.child.max_process_rss))
    row("baseline peak RSS (ru_maxrss)", lambda r: _mb(r.baseline.child.max_process_rss))

    table(
        f"Incremental runs (medians: {REPEATS} no-change runs, {ADD_REPEATS} adds of one document "
        "each paired with the same add into an empty warehouse, the two in alternating order; "
        "seconds per stage in brackets)"
    )
    row(
        "no new or changed file",
        lambda r: (
            f"{r.unchanged.child.wall_seconds:.1f} s, {r.unchanged.documents} parsed "
            f"({_stages(r.unchanged)})"
        ),
    )
    row(
        "1 document added",
        lambda r: (
            f"{r.add_one.child.wall_seconds:.1f} s, {r.add_one.documents} parsed "
            f"({_stages(r.add_one)})"
        ),
    )
    row(
        "the same documents, each into an empty warehouse",
        lambda r: f"{r.add_one_empty.child.wall_seconds:.1f} s ({_stages(r.add_one_empty)})",
    )
    row("ratio, 1 document added: full / empty", lambda r: f"{r.add_one_ratio:.2f}")
    row(
        "peak RSS of the 1-document run, tree sum",
        lambda r: _mb(r.add_one.child.tree_rss),
    )

    table("Sensor and DuckDB writes")
    row("sensor tick, no cursor (hashes every file)", lambda r: f"{r.sensor_first:.2f} s")
    row("sensor tick, nothing changed", lambda r: f"{r.sensor_next:.2f} s")
    row(
        "NLP tables, replayed as the stage writes them",
        lambda r: f"{r.write_rows:,} rows, {r.write_rate:,.0f} rows/s",
    )
    row(
        "the same replay with a PRIMARY KEY on each id (the schema before)",
        lambda r: f"{r.write_rows / max(r.keyed_write_seconds, 1e-9):,.0f} rows/s",
    )
    row(
        "NLP tables, inside the cold run",
        lambda r: (
            f"{int(r.cold.nlp.get('rows_written', 0)):,} rows, {r.run_write_rate:,.0f} rows/s"
        ),
    )

    lines.extend(["", "### Targets", "", "| target | measured | verdict |", "|---|---|---|"])

    def target(label: str, measured: str, ok: bool | None) -> None:
        lines.append(f"| {label} | {measured} | {_verdict(ok)} |")

    for r in results:
        target(
            f"cold run, {r.size:,} documents: >= 1.3x plain nlp.pipe",
            f"{r.speedup:.2f}x",
            r.speedup >= 1.3 if r.size >= 1000 else None,
        )
    for r in results:
        target(
            f"no-change run, {r.size:,} documents: <= 10 s, 0 parsed",
            f"{r.unchanged.child.wall_seconds:.1f} s, {r.unchanged.documents} parsed",
            r.unchanged.child.wall_seconds <= 10 and r.unchanged.documents == 0,
        )
    for r in results:
        target(
            f"1 document added to {r.size:,}: <= 15 s and <= 1.2x the empty warehouse",
            f"{r.add_one.child.wall_seconds:.1f} s, {r.add_one_ratio:.2f}x",
            r.add_one.child.wall_seconds <= 15 and r.add_one_ratio <= 1.2,
        )
    for r in results:
        target(
            f"peak RSS (tree sum), {r.size:,} documents: <= 1.5 GB",
            _mb(r.cold.child.tree_rss),
            r.cold.child.tree_rss <= 1.5 * GiB,
        )
    if len(results) > 1:
        small, big = results[0], results[-1]
        growth = big.cold.child.tree_rss / small.cold.child.tree_rss - 1
        target(
            f"peak RSS (tree sum), {big.size:,} within 10% of {small.size:,}",
            f"{growth:+.1%}",
            abs(growth) <= 0.10,
        )
    for r in results:
        target(
            f"DuckDB writes, {r.size:,} documents: >= 500k rows/s",
            f"{r.write_rate:,.0f} rows/s",
            r.write_rate >= 500_000,
        )
    for r in results:
        worst = max(r.sensor_first, r.sensor_next)
        target(f"sensor tick over {r.size:,} files: <= 5 s", f"{worst:.2f} s", worst <= 5)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="corpus sizes, comma-separated")
    parser.add_argument("--quick", action="store_true", help="one small corpus (200 documents)")
    parser.add_argument("--seed", type=int, default=7, help="corpus random seed")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args(argv)
    sizes = [200] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]

    def say(message: str) -> None:
        stamp = dt.datetime.now().strftime("%H:%M:%S")
        print(f"{stamp} {message}", file=sys.stderr, flush=True)

    print(f"Machine: {machine()}")
    print(
        f"Model: {spacy_model()}; command: python -m tools.bench --sizes "
        f"{','.join(map(str, sizes))}"
    )
    generator = CorpusGenerator(seed=args.seed)
    root = args.keep or Path(tempfile.mkdtemp(prefix="salvo-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        results = [bench_size(size, generator, root, say) for size in sizes]
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
