"""The runs `make bench` measures, each in a child process: `python -m assets.run` in a
deployment of its own (seeds folder, warehouse and Dagster home in a temp dir), with the
wall time of each stage read from the run's Dagster step events; and the baseline, plain
`nlp.pipe` over the same texts in one process."""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb

from pipeline.settings import PROJECT_ROOT
from tools.bench_process import ChildRun, run_child

DAGSTER_YAML = PROJECT_ROOT / "dagster-instance.yaml"
# Runs vary from one to the next on a shared machine: each incremental run and the write
# replay are measured this many times and the median is reported.
REPEATS = 3
# The add-one runs, each paired with the same add into an empty warehouse: the target is
# their ratio, so both medians get more runs.
ADD_REPEATS = 5


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
    parse: str = "selective"  # SALVO_PARSE of its runs

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
            "SALVO_PARSE": self.parse,
        }

    def run(self) -> PipelineRun:
        """`make run`'s command, in a child process."""
        self.runs += 1
        # The corpus was usually written just before: its write-back to disk would compete
        # with the measured run (the first cold run of a bench saw 0.2 cores busy besides).
        os.sync()
        child = run_child(
            [sys.executable, "-m", "assets.run"], self.env(), self.root / f"run{self.runs}.log"
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
batch = {"batch_size": int(sys.argv[3])} if len(sys.argv) > 3 else {}
for doc in nlp.pipe(texts, **batch):
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
    con = duckdb.connect(str(published), read_only=True)
    try:
        rows = con.execute("SELECT clean_text FROM documents ORDER BY doc_id").fetchall()
    finally:
        con.close()
    with open(target, "w", encoding="utf-8") as handle:
        for (text,) in rows:
            handle.write(json.dumps(text) + "\n")
    return len(rows)


def run_baseline(texts: Path, model: str, log: Path, batch_size: int | None = None) -> BaselineRun:
    """Plain `nlp.pipe` over the texts; with the model's own batch size (256 documents for
    the pinned model) unless one is given."""
    extra = [] if batch_size is None else [str(batch_size)]
    child = run_child(
        [sys.executable, "-c", BASELINE_SCRIPT, str(texts), model, *extra], {**os.environ}, log
    )
    output = log.read_text(encoding="utf-8").strip().splitlines()
    if child.returncode != 0 or not output:
        raise RuntimeError(f"baseline failed: {log.read_text(encoding='utf-8')[-2000:]}")
    result = json.loads(output[-1])
    return BaselineRun(
        child, result["documents"], result["tokens"], result["load_seconds"], result["pipe_seconds"]
    )
