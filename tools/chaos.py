"""`make chaos`: kill the real pipeline at random moments and check what survives.

Each trial starts from the same state (a warehouse built from a first version of a seeds
folder), changes the folder (files added, changed, deleted; every format), starts
`python -m assets.run` in a subprocess and kills its whole process group with SIGKILL
after a random delay: during start-up, ingestion, the spaCy pass, a write, the marts or
the publish. Then, each time in a fresh process:

1. the published file must open, and hold either the old warehouse or the new one exactly
   (its checksum equals the starting state's or the reference run's, nothing in between);
2. the invariants must hold on it: unique keys, no orphan rows, a ledger that agrees with
   the documents, and every mart equal to its SQL recomputed from the base tables;
3. one more run, left to finish, must converge to the checksums of a reference run that
   was never interrupted, and leave no segment file (`salvo.segments/`) that none of the
   working, published and previous files names: the files a killed run wrote and never
   published are deleted by the next publish.

Every failure is one violation; the last line printed is ``violations: N``.

The checks are in `chaos_invariants.py`, the seeds folder's two versions in `chaos_seeds.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.settings import PROJECT_ROOT
from tools.chaos_invariants import inspect, unnamed_segment_files
from tools.chaos_seeds import write_seed_versions

SEEDS = PROJECT_ROOT / "seeds"
# A run that has not finished in this long is stuck: that is a violation too.
RUN_TIMEOUT_SECONDS = 600
_STEP = re.compile(r" - salvo_job - [0-9a-f-]+ - (?P<step>[a-z_][a-z0-9_]*) - ")


# --- runs --------------------------------------------------------------------------------


def inspect_in_fresh_process(path: Path, code: Path = PROJECT_ROOT) -> dict:
    """`inspect` in a new Python process, as a user opening the file would."""
    done = subprocess.run(
        [sys.executable, "-m", "tools.chaos", "--inspect", str(path)],
        cwd=code,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
    )
    if done.returncode != 0:
        return {"opens": False, "error": done.stderr[-2000:], "violations": [], "checksums": {}}
    report: dict = json.loads(done.stdout)
    return report


@dataclass
class State:
    """A seeds folder, a warehouse folder and a Dagster home: all one run needs."""

    root: Path

    @property
    def seeds(self) -> Path:
        return self.root / "seeds"

    @property
    def published(self) -> Path:
        return self.root / "warehouse" / "salvo.duckdb"

    @property
    def home(self) -> Path:
        return self.root / "dagster_home"

    def copy(self, target: Path) -> State:
        shutil.copytree(self.root, target, symlinks=True)
        return State(target)

    def environment(self) -> dict[str, str]:
        self.home.mkdir(parents=True, exist_ok=True)
        return {
            **os.environ,
            "SALVO_SEEDS_DIR": str(self.seeds),
            "SALVO_WAREHOUSE": str(self.published),
            "DAGSTER_HOME": str(self.home),
            "PYTHONUNBUFFERED": "1",
        }

    def use_seeds(self, folder: Path) -> None:
        if self.seeds.exists():
            shutil.rmtree(self.seeds)
        shutil.copytree(folder, self.seeds)


def snapshot_code(target: Path) -> Path:
    """Copy the code a run and the inspector import, so that edits made to the project
    while the trials run (other people work in it) cannot change the reference halfway."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("pipeline", "assets", "sql", "tools"):
        shutil.copytree(PROJECT_ROOT / name, target / name, ignore=ignore)
    for name in ("pyproject.toml", "dagster-instance.yaml"):
        if (PROJECT_ROOT / name).exists():
            shutil.copy2(PROJECT_ROOT / name, target / name)
    return target


def start_run(state: State, code: Path = PROJECT_ROOT) -> subprocess.Popen[str]:
    """`python -m assets.run` in its own process group (so that a kill takes its spaCy
    workers too), output captured. `python -m` puts `code` first on the import path."""
    return subprocess.Popen(
        [sys.executable, "-m", "assets.run"],
        cwd=code,
        env=state.environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


@dataclass
class Finished:
    returncode: int
    seconds: float
    output: str
    # Seconds from the start at which each step first logged a line.
    timeline: dict[str, float]


def run_to_completion(state: State, code: Path = PROJECT_ROOT) -> Finished:
    started = time.perf_counter()
    process = start_run(state, code)
    watchdog = threading.Timer(RUN_TIMEOUT_SECONDS, os.killpg, (process.pid, signal.SIGKILL))
    watchdog.start()
    lines: list[str] = []
    timeline: dict[str, float] = {}
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            step = _STEP.search(line)
            if step:
                timeline.setdefault(step.group("step"), time.perf_counter() - started)
        returncode = process.wait()
    finally:
        watchdog.cancel()
    return Finished(returncode, time.perf_counter() - started, "".join(lines), timeline)


def run_and_kill(state: State, delay: float, code: Path = PROJECT_ROOT) -> tuple[str, str]:
    """Start a run, SIGKILL its process group after `delay` seconds.

    Returns:
        (what happened, the last step the run logged before it died).
    """
    process = start_run(state, code)
    try:
        output, _ = process.communicate(timeout=delay)
        outcome = "finished before the kill" if process.returncode == 0 else "failed by itself"
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        outcome = "killed"
    steps = [m.group("step") for m in _STEP.finditer(output)]
    return outcome, (steps[-1] if steps else "start-up")


# --- trials ------------------------------------------------------------------------------


@dataclass
class Baseline:
    code: Path  # the snapshot of the code every run of the trials imports
    base: State  # warehouse built from the first version, seeds switched to the second
    base_digest: str
    reference_digest: str
    reference_checksums: dict[str, list]
    reference_seconds: float
    timeline: dict[str, float]  # when each step started in the reference run

    def pick_delay(self, rng: random.Random, step: str | None = None) -> float:
        """A kill time: a quarter anywhere in the run, the rest inside one step picked at
        random (ingestion, the spaCy pass, a mart, the publish ...), so that every stage
        is hit, the short ones too. With `step`, always inside that step (as the reference
        run timed it)."""
        horizon = self.reference_seconds * 1.05
        starts = sorted(self.timeline.values())
        if step is not None:
            begin = self.timeline[step]
            later = [t for t in starts if t > begin]
            return rng.uniform(begin, later[0] if later else horizon)
        if rng.random() < 0.25 or not starts:
            return rng.uniform(0.2, horizon)
        begin = rng.choice(starts)
        later = [t for t in starts if t > begin]
        return rng.uniform(begin, later[0] if later else horizon)


def prepare(workdir: Path, source: Path = SEEDS) -> Baseline:
    """Build the starting state and the uninterrupted reference run."""
    code = snapshot_code(workdir / "code")
    first, second = workdir / "seeds_v1", workdir / "seeds_v2"
    write_seed_versions(source, first, second)
    base = State(workdir / "base")
    base.use_seeds(first)
    built = run_to_completion(base, code)
    if built.returncode != 0:
        raise RuntimeError(f"the base run failed:\n{built.output[-4000:]}")
    base.use_seeds(second)
    base_report = inspect_in_fresh_process(base.published, code)
    if base_report["violations"]:
        raise RuntimeError(f"the base warehouse breaks invariants: {base_report['violations']}")
    reference = base.copy(workdir / "reference")
    finished = run_to_completion(reference, code)
    if finished.returncode != 0:
        raise RuntimeError(f"the reference run failed:\n{finished.output[-4000:]}")
    report = inspect_in_fresh_process(reference.published, code)
    if report["violations"]:
        raise RuntimeError(f"the reference warehouse breaks invariants: {report['violations']}")
    shutil.rmtree(reference.root, ignore_errors=True)
    return Baseline(
        code,
        base,
        base_report["digest"],
        report["digest"],
        report["checksums"],
        finished.seconds,
        finished.timeline,
    )


def _differences(checksums: dict[str, list], reference: dict[str, list]) -> list[str]:
    names = sorted(set(checksums) | set(reference))
    return [n for n in names if checksums.get(n) != reference.get(n)]


def trial(baseline: Baseline, workdir: Path, delay: float) -> tuple[list[str], str]:
    """One kill, the checks after it, one completed run and the convergence check.

    Returns:
        (violations, a one-line description of the trial).
    """
    state = baseline.base.copy(workdir)
    try:
        outcome, step = run_and_kill(state, delay, baseline.code)
        violations = []
        after_kill = inspect_in_fresh_process(state.published, baseline.code)
        if not after_kill["opens"]:
            violations.append(f"published file does not open after the kill: {after_kill}")
        else:
            violations += [f"after the kill: {v}" for v in after_kill["violations"]]
            if after_kill["digest"] not in (baseline.base_digest, baseline.reference_digest):
                violations.append("after the kill the published file is neither old nor new")
        snapshot = (
            "old"
            if after_kill.get("digest") == baseline.base_digest
            else "new"
            if after_kill.get("digest") == baseline.reference_digest
            else "?"
        )
        finished = run_to_completion(state, baseline.code)
        if finished.returncode != 0:
            violations.append(f"the run after the kill failed:\n{finished.output[-3000:]}")
        final = inspect_in_fresh_process(state.published, baseline.code)
        violations += [f"after the next run: {v}" for v in final["violations"]]
        # Checked in this process: the finishing run has exited, and nothing else runs.
        orphans = unnamed_segment_files(state.published)
        if orphans:
            violations.append(f"segment files nothing names after the next run: {orphans}")
        if final.get("digest") != baseline.reference_digest:
            differing = _differences(final.get("checksums", {}), baseline.reference_checksums)
            violations.append(f"did not converge to the reference: tables {differing}")
        line = (
            f"delay {delay:5.2f}s  {outcome:<25} last step {step:<32} published {snapshot}"
            f"  -> rerun {finished.seconds:4.1f}s"
        )
        return violations, line
    finally:
        shutil.rmtree(state.root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--seed", type=int, default=None, help="random seed for the delays")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--step", help="kill only inside this step (e.g. published_warehouse), as timed"
    )
    parser.add_argument("--inspect", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inspect:
        print(json.dumps(inspect(args.inspect)))
        return 0

    seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    rng = random.Random(seed)
    workdir = Path(tempfile.mkdtemp(prefix="salvo-chaos-"))
    print(f"chaos: {args.trials} trials, random seed {seed}, work folder {workdir}", flush=True)
    try:
        started = time.perf_counter()
        baseline = prepare(workdir)
        print(
            f"reference run: {baseline.reference_seconds:.1f}s; base {baseline.base_digest}, "
            f"reference {baseline.reference_digest}",
            flush=True,
        )
        violations = 0
        for number in range(1, args.trials + 1):
            delay = baseline.pick_delay(rng, args.step)
            problems, line = trial(baseline, workdir / f"trial_{number:03d}", delay)
            violations += len(problems)
            verdict = "ok" if not problems else f"{len(problems)} VIOLATION(S)"
            print(f"trial {number:3d}: {line}  {verdict}", flush=True)
            for problem in problems:
                print(f"    - {problem}", flush=True)
        minutes = (time.perf_counter() - started) / 60
        print(f"{args.trials} trials in {minutes:.1f} min", flush=True)
        print(f"violations: {violations}", flush=True)
        return 0 if violations == 0 else 1
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
