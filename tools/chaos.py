"""`make chaos`: kill the real pipeline at random moments and check what survives.

Each trial starts from the same state (a warehouse built from a first version of a seeds
folder), changes the folder (files added, changed, deleted; every format), starts
`python -m pipeline.run` in a subprocess and kills its whole process group with SIGKILL
after a random delay: during start-up, ingestion, the spaCy pass, a write, the marts or
the publish. Then, each time in a fresh process:

1. the published file must open, and hold either the old warehouse or the new one exactly
   (its checksum equals the starting state's or the reference run's, nothing in between);
2. the invariants must hold on it: unique keys, no orphan rows, a ledger that agrees with
   the documents, and every mart equal to its SQL recomputed from the base tables;
3. one more run, left to finish, must converge to the checksums of a reference run that
   was never interrupted.

Every failure is one violation; the last line printed is ``violations: N``.

Checksums leave out the run-timestamp columns listed in
`pipeline.warehouse.RUN_TIMESTAMP_COLUMNS`; everything else must match.
"""

from __future__ import annotations

import argparse
import hashlib
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

import duckdb

from pipeline import quality, warehouse
from pipeline.settings import PROJECT_ROOT
from pipeline.sql_models import load_models

SEEDS = PROJECT_ROOT / "seeds"
# A run that has not finished in this long is stuck: that is a violation too.
RUN_TIMEOUT_SECONDS = 600
# Files of the changed folder are dated this far back, so that the run does not wait for
# them to settle (pipeline.seeds.STABLE_SECONDS) and kill times stay comparable.
OLD_SECONDS = 3600
# Tables whose rows are keyed by a document but may hold documents that have no row in
# `documents`: the ledger and the raw texts (quarantined or duplicate records).
LEDGER_TABLES = ("seed_files", "seed_records", "raw_documents", "documents")
_STEP = re.compile(r" - salvo_job - [0-9a-f-]+ - (?P<step>[a-z_][a-z0-9_]*) - ")


# --- invariants --------------------------------------------------------------------------


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_catalog = current_database()"
    ).fetchall()
    return {r[0] for r in rows}


def invariant_violations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every broken invariant of a warehouse, as one line each (empty: all hold)."""
    problems: list[str] = []
    tables = _tables(con)
    for table in quality.KEYS:
        if table not in tables:
            problems.append(f"missing table {table}")
            continue
        if n := quality.duplicate_keys(con, table):
            problems.append(f"{table}: {n} rows with a null or duplicate key")
    if "seed_records" in tables and (
        n := _count(
            con,
            "SELECT count(*) FROM (SELECT 1 FROM seed_records "
            "GROUP BY source_file, record_index HAVING count(*) > 1)",
        )
    ):
        problems.append(f"seed_records: {n} duplicate keys")
    for table in quality.PARENTS:
        if table in tables and (n := quality.orphan_rows(con, table)):
            problems.append(f"{table}: {n} orphan rows")
    # Any other table keyed by document (NLP bookkeeping, stories, ...) must point at one.
    with_doc_id = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'doc_id' "
            "AND table_schema = 'main' AND table_catalog = current_database()"
        ).fetchall()
    }
    marts = {m.name for m in load_models()}
    for table in sorted(with_doc_id - set(LEDGER_TABLES) - set(quality.PARENTS) - marts):
        quoted = '"' + table.replace('"', '""') + '"'
        n = _count(
            con,
            f"SELECT count(*) FROM {quoted} t WHERE t.doc_id IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM documents d WHERE d.doc_id = t.doc_id)",
        )
        if n:
            problems.append(f"{table}: {n} rows of documents that do not exist")
    if {"seed_files", "seed_records", "raw_documents", "documents"} <= tables:
        checks = {
            "ingested records whose text is missing": (
                "SELECT count(*) FROM seed_records r WHERE r.status = 'ingested' AND NOT EXISTS "
                "(SELECT 1 FROM documents d WHERE d.doc_id = r.doc_id)"
            ),
            "documents whose file is not ingested": (
                "SELECT count(*) FROM documents d WHERE NOT EXISTS (SELECT 1 FROM seed_files f "
                "WHERE f.source_file = d.source_file AND f.status = 'ingested')"
            ),
            "ingested files without documents": (
                "SELECT count(*) FROM seed_files f WHERE f.status = 'ingested' AND NOT EXISTS "
                "(SELECT 1 FROM documents d WHERE d.source_file = f.source_file)"
            ),
            "files whose documents count is wrong": (
                "SELECT count(*) FROM seed_files f WHERE f.documents <> (SELECT count(*) FROM "
                "documents d WHERE d.source_file = f.source_file)"
            ),
        }
        for what, sql in checks.items():
            if n := _count(con, sql):
                problems.append(f"ledger: {n} {what}")
    for model in load_models():
        if model.name not in tables:
            problems.append(f"missing mart {model.name}")
            continue
        stored = warehouse.query_checksum(con, f"SELECT * FROM {model.name}")
        try:
            recomputed = warehouse.query_checksum(con, model.sql)
        except duckdb.Error as exc:
            problems.append(f"{model.name}: its SQL fails on the published tables ({exc})")
            continue
        if stored != recomputed:
            problems.append(
                f"{model.name}: {stored[0]} rows stored differ from the {recomputed[0]} "
                "its SQL gives on the base tables"
            )
    return problems


def digest_of(checksums: dict[str, tuple[int, str]]) -> str:
    text = json.dumps(sorted((t, list(v)) for t, v in checksums.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def inspect(path: Path) -> dict:
    """What a fresh reader sees in a published file: does it open, which invariants
    fail, and the checksums of its tables."""
    if not path.exists():
        return {"opens": False, "error": "no file", "violations": [], "checksums": {}}
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        return {"opens": False, "error": str(exc), "violations": [], "checksums": {}}
    try:
        checksums = warehouse.table_checksums(con)
        return {
            "opens": True,
            "violations": invariant_violations(con),
            "checksums": {t: list(v) for t, v in checksums.items()},
            "digest": digest_of(checksums),
        }
    finally:
        con.close()


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


# --- the seeds: a first version and a changed one ----------------------------------------


def _age(folder: Path) -> None:
    past = time.time() - OLD_SECONDS
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            os.utime(path, (past, past))


def _paragraphs(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def write_seed_versions(source: Path, first: Path, second: Path) -> None:
    """Two versions of a seeds folder made from the seed articles.

    The first holds four seed articles, the manifest, an HTML page, a JSONL dump of two
    records, a Markdown note, a duplicate, a cp1252 file and three files to quarantine.
    The second adds the fifth article back, appends a paragraph to one article, deletes
    another, changes one JSONL record and adds one, and turns the duplicate into a
    different article: ingestion, deletion, the NLP pass and every mart have work.
    """
    articles = sorted(p for p in source.glob("*.txt"))
    assert len(articles) >= 5, f"need the five seed articles in {source}"
    first.mkdir(parents=True)
    for article in articles[:4]:
        shutil.copy2(article, first / article.name)
    manifest = source / "manifest.csv"
    if manifest.exists():
        shutil.copy2(manifest, first / manifest.name)
    a, b = _paragraphs(articles[0]), _paragraphs(articles[1])
    page = "".join(f"<p>{p}</p>" for p in a[1:])
    (first / "page.html").write_text(
        f"<html><head><title>{a[0]}</title><meta property='og:site_name' content='Chaos "
        "Gazette'></head><body><nav>Home | World | Europe</nav><article>"
        f"<h1>{a[0]}</h1>{page}</article><footer>Subscribe to our newsletter</footer>"
        "</body></html>",
        encoding="utf-8",
    )
    records = [
        {"title": b[0], "text": "\n\n".join(b[:6]), "published": "2024-01-21", "site": "Wire"},
        {"title": "Second record", "body": "\n\n".join(b[6:]) or b[0], "date": "2024-02"},
    ]
    (first / "dump.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in records), encoding="utf-8"
    )
    (first / "note.md").write_text(
        "---\ntitle: Chaos note\ndate: 2024-03-01\n---\n# Chaos note\n\n"
        + "\n\n".join(f"**{p}**" for p in a[:4]),
        encoding="utf-8",
    )
    shutil.copy2(articles[2], first / "copy_of_article.txt")
    (first / "accents_cp1252.txt").write_bytes(
        (
            "\u201cOfficials\u201d put the cost at \u20ac3 million, the minist\u00e8re said.\n\n"
        ).encode("cp1252")
        + articles[3].read_text(encoding="utf-8").encode("cp1252", errors="replace")
    )
    (first / "empty.txt").write_bytes(b" \n\t\n")
    (first / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (first / "chrome_only.txt").write_text(
        "Subscribe to our newsletter\nAccept all cookies\n", encoding="utf-8"
    )

    shutil.copytree(first, second)
    shutil.copy2(articles[4], second / articles[4].name)
    (second / articles[0].name).write_text(
        articles[0].read_text(encoding="utf-8")
        + "\n\nIran also sent Shahed drones to Russia, officials said on Friday.\n",
        encoding="utf-8",
    )
    (second / articles[1].name).unlink()
    records[1]["body"] = "Russia received artillery shells from North Korea, Seoul said."
    records.append({"content": "Belarus bought Iskander missiles from Russia, Minsk said."})
    (second / "dump.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in records), encoding="utf-8"
    )
    (second / "copy_of_article.txt").write_text(
        "Ukraine received Patriot air defence systems from Germany, Berlin said.\n",
        encoding="utf-8",
    )
    _age(first)
    _age(second)


# --- runs --------------------------------------------------------------------------------


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
    for name in ("pyproject.toml", "dagster.yaml"):
        if (PROJECT_ROOT / name).exists():
            shutil.copy2(PROJECT_ROOT / name, target / name)
    return target


def start_run(state: State, code: Path = PROJECT_ROOT) -> subprocess.Popen[str]:
    """`python -m pipeline.run` in its own process group (so that a kill takes its spaCy
    workers too), output captured. `python -m` puts `code` first on the import path."""
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.run"],
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

    def pick_delay(self, rng: random.Random) -> float:
        """A kill time: a quarter anywhere in the run, the rest inside one step picked at
        random (ingestion, the spaCy pass, a mart, the publish ...), so that every stage
        is hit although start-up takes most of the wall time."""
        horizon = self.reference_seconds * 1.05
        starts = sorted(self.timeline.values())
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
            delay = baseline.pick_delay(rng)
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
