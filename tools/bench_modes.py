"""The parse modes in `make bench`: cold runs with SALVO_PARSE=selective and =full, each
against plain single-process `nlp.pipe` over the same texts, on two corpora: arms news (the
bench's corpus) and a mixed stream of a general news feed, 85% of whose articles name no
weapon (tools/corpus/general.py). The selective run of the arms corpus and its baseline are
the bench's own cold run and baseline; the other runs are made here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.settings import spacy_model
from tools.bench_process import MiB
from tools.bench_report import SizeResult
from tools.bench_runs import BaselineRun, Deployment, PipelineRun, export_texts, run_baseline
from tools.corpus import CorpusGenerator
from tools.corpus.general import ARMS_POSITIONS, STREAM_PERIOD, MixedStream

CORPORA = ("arms news", "mixed stream")
MODES = ("selective", "full")


@dataclass
class ModesResult:
    size: int
    baselines: dict[str, BaselineRun] = field(default_factory=dict)  # by corpus
    runs: dict[tuple[str, str], PipelineRun] = field(default_factory=dict)  # (corpus, mode)

    def ratio(self, corpus: str, mode: str) -> float:
        wall = self.runs[(corpus, mode)].child.wall_seconds
        return self.baselines[corpus].child.wall_seconds / wall

    def parsed_share(self, corpus: str, mode: str) -> float:
        nlp = self.runs[(corpus, mode)].nlp
        return nlp.get("sentences_fully_parsed", 0.0) / max(nlp.get("sentences_split", 0.0), 1)


def bench_modes(arms: SizeResult, seed: int, root: Path, say: Callable[[str], None]) -> ModesResult:
    size = arms.size
    result = ModesResult(size)
    result.baselines["arms news"] = arms.baseline
    result.runs[("arms news", "selective")] = arms.cold
    say(f"[{size}] arms news, SALVO_PARSE=full: cold run")
    # Article i depends only on the seed and i: the same articles again, in a new folder.
    full = Deployment(root / f"arms_full_{size}", parse="full")
    CorpusGenerator(seed=seed).write(full.seeds, 0, size)
    result.runs[("arms news", "full")] = full.run()
    say(f"[{size}]   {result.runs[('arms news', 'full')].child.wall_seconds:.1f} s")
    stream = MixedStream(seed=seed)
    mixed = {mode: Deployment(root / f"mixed_{mode}_{size}", parse=mode) for mode in MODES}
    for mode, deployment in mixed.items():
        say(f"[{size}] mixed stream, SALVO_PARSE={mode}: {size} articles and a cold run")
        stream.write(deployment.seeds, 0, size)
        result.runs[("mixed stream", mode)] = deployment.run()
        say(f"[{size}]   {result.runs[('mixed stream', mode)].child.wall_seconds:.1f} s")
    texts = root / f"mixed_texts_{size}.jsonl"
    export_texts(mixed["full"].warehouse, texts)
    say(f"[{size}] mixed stream baseline: plain nlp.pipe, one process")
    log = root / f"mixed_baseline_{size}.log"
    result.baselines["mixed stream"] = run_baseline(texts, spacy_model(), log)
    return result


def modes_report(results: list[ModesResult]) -> str:
    arms_share = len(ARMS_POSITIONS) / STREAM_PERIOD
    lines = [
        "",
        "### Parse modes (SALVO_PARSE), cold runs against plain single-process `nlp.pipe`",
        "",
        f"The mixed stream: {1 - arms_share:.0%} general news (no weapon), {arms_share:.0%} "
        "arms news.",
        "",
        "| corpus, documents | mode | wall time | baseline | ratio | sentences fully parsed "
        "| tokens/s in the NLP stage | peak RSS (tree sum) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for corpus in CORPORA:
            for mode in MODES:
                run = r.runs[(corpus, mode)]
                tokens = run.tokens / max(run.stages["nlp"], 1e-9)
                lines.append(
                    f"| {corpus}, {r.size:,} | {mode} | {run.child.wall_seconds:.1f} s | "
                    f"{r.baselines[corpus].child.wall_seconds:.1f} s | "
                    f"{r.ratio(corpus, mode):.2f}x | {r.parsed_share(corpus, mode):.1%} | "
                    f"{tokens:,.0f} | {run.child.tree_rss / MiB:,.0f} MiB |"
                )
    lines.extend(["", "| target | measured | verdict |", "|---|---|---|"])
    for r in results:
        for corpus, floor in (("arms news", 1.6), ("mixed stream", 4.0)):
            ratio = r.ratio(corpus, "selective")
            lines.append(
                f"| selective, {corpus}, {r.size:,} documents: >= {floor}x plain nlp.pipe | "
                f"{ratio:.2f}x | {'met' if ratio >= floor else 'NOT MET'} |"
            )
        for corpus in CORPORA:
            mine, full = (r.runs[(corpus, m)].child.tree_rss for m in MODES)
            lines.append(
                f"| selective, {corpus}, {r.size:,} documents: peak RSS not above full | "
                f"{mine / MiB:,.0f} vs {full / MiB:,.0f} MiB | "
                f"{'met' if mine <= full else 'NOT MET'} |"
            )
    return "\n".join(lines)
