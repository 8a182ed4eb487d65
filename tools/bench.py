"""`make bench`: what the pipeline costs on this machine, against the targets of the
performance issue.

For each corpus size it generates distinct, realistic articles (sentences of the seed
articles recombined, with actors, weapons, people, numbers and dates substituted), then
measures, each in a fresh child process as a user would run it:

- a cold run of `python -m assets.run` (what `make run` executes) from an empty warehouse:
  wall time, documents/s, tokens/s, wall time per stage (from the run's Dagster step
  events) and peak memory;
- the baseline: plain `spacy.load(model)` and `nlp.pipe(texts)` in one process on the same
  cleaned texts the run parsed, start-up included;
- a run with no new or changed file, one document added to that warehouse, and the same
  document added to an empty warehouse;
- one tick of the folder sensor over the corpus, and the DuckDB write rate;
- the parse modes (tools/bench_modes.py): cold runs with SALVO_PARSE=selective and =full
  against the baseline, on this corpus and on a mixed stream of general news, in rounds,
  at the first size.

Before anything is measured, one small run and one baseline warm the machine up (they
read the libraries and the model from disk into the page cache, which the first measured
run would otherwise do alone); they are not reported.

It prints numbers; nothing here is a timed test. Usage:

    python -m tools.bench [--sizes 1000,10000] [--quick] [--rounds 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pipeline.settings import spacy_model
from tools.bench_inprocess import duckdb_write_rate, sensor_ticks
from tools.bench_modes import ROUNDS, bench_modes, modes_report
from tools.bench_report import SizeResult, machine, report
from tools.bench_runs import (
    ADD_REPEATS,
    REPEATS,
    Deployment,
    PipelineRun,
    export_texts,
    run_baseline,
)
from tools.corpus import CorpusGenerator


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
        # Paired: the machine's speed drifts during a bench, and runs of both kinds taken
        # in turn see the same drift (all of one kind first would not). Which goes first
        # alternates, so a slow start does not always fall on the same kind.
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


# Articles of the warm-up run: enough for the parse workers to start and finish.
WARM_UP_ARTICLES = 20


def warm_up(generator: CorpusGenerator, root: Path, say) -> None:
    """One small pipeline run and one baseline, not measured: the first run after a
    while reads Python's libraries and the model from disk, and that read would fall on
    whichever measured run came first."""
    say(f"warm-up: {WARM_UP_ARTICLES} articles, a run and a baseline (not reported)")
    deployment = Deployment(root / "warm_up")
    generator.write(deployment.seeds, 0, WARM_UP_ARTICLES)
    deployment.run()
    texts = deployment.root / "texts.jsonl"
    export_texts(deployment.warehouse, texts)
    run_baseline(texts, spacy_model(), deployment.root / "baseline.log")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="corpus sizes, comma-separated")
    parser.add_argument("--quick", action="store_true", help="one small corpus (200 documents)")
    parser.add_argument("--seed", type=int, default=7, help="corpus random seed")
    parser.add_argument(
        "--rounds", type=int, default=ROUNDS, help="rounds of the parse modes per corpus"
    )
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args(argv)
    sizes = [200] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]

    def say(message: str) -> None:
        stamp = dt.datetime.now().strftime("%H:%M:%S")
        print(f"{stamp} {message}", file=sys.stderr, flush=True)

    print(f"Machine: {machine()}")
    print(
        f"Model: {spacy_model()}; command: python -m tools.bench --sizes "
        f"{','.join(map(str, sizes))} --rounds {args.rounds}"
    )
    generator = CorpusGenerator(seed=args.seed)
    root = args.keep or Path(tempfile.mkdtemp(prefix="salvo-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        warm_up(generator, root, say)
        results = [bench_size(size, generator, root, say) for size in sizes]
        # The parse modes' rounds at the first size only: their ratio does not depend on
        # the corpus size, and three rounds at 10,000 documents would take two hours.
        modes = [bench_modes(sizes[0], args.seed, root, say, args.rounds)]
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print(report(results))
    print(modes_report(modes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
