"""The Markdown tables `make bench` prints: each measure per corpus size, and the targets
of the performance issue with a verdict each."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass

from tools.bench_process import MiB
from tools.bench_runs import ADD_REPEATS, REPEATS, STAGE_ORDER, BaselineRun, PipelineRun

GiB = 1024**3


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

    table("Cold run from an empty warehouse (`python -m assets.run` in a child process)")
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
