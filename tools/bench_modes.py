"""The parse modes in `make bench`: cold runs with SALVO_PARSE=selective and =full, each
against plain single-process `nlp.pipe` over the same texts, on two corpora: arms news (the
bench's corpus) and a mixed stream of a general news feed, 85% of whose articles name no
weapon (tools/corpus/general.py).

The machine's speed drifts during a bench (docs/performance.md, "Parse modes"), so one run
of each kind may compare a fast hour with a slow one. Here
each corpus is measured in rounds: a round is one baseline, one selective and one full
cold run, taken one after the other, and a ratio is taken within its round. The order
turns by one place each round, so that with three rounds each kind is once first, once
second and once last. The verdict is on the median ratio; the table shows every round's."""

from __future__ import annotations

import shutil
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.settings import spacy_model
from tools.bench_process import MiB
from tools.bench_runs import BaselineRun, Deployment, PipelineRun, export_texts, run_baseline
from tools.corpus import CorpusGenerator
from tools.corpus.general import ARMS_POSITIONS, STREAM_PERIOD, MixedStream

CORPORA = ("arms news", "mixed stream")
MODES = ("selective", "full")
# The target of each corpus (issue: parse only what can hold a claim).
FLOORS = {"arms news": 1.6, "mixed stream": 4.0}
# Rounds per corpus; three puts each kind once in each place of the order.
ROUNDS = 3
# Plain nlp.pipe batches 256 documents (the model's own setting); a parse worker's task of
# 48,000 characters holds about 16 articles. The baseline at that batch size is reported
# beside the target's, once per corpus, so the ratio is read against both.
WORKER_BATCH = 16
# A round's order before turning: a pipeline run first, whose warehouse gives the texts
# the baseline parses.
KINDS = ("selective", "full", "baseline")


@dataclass
class ModesResult:
    size: int
    baselines: dict[str, list[BaselineRun]] = field(default_factory=dict)  # by corpus
    runs: dict[tuple[str, str], list[PipelineRun]] = field(default_factory=dict)
    small_batch: dict[str, BaselineRun] = field(default_factory=dict)  # by corpus, one run
    orders: list[tuple[str, ...]] = field(default_factory=list)  # the kinds, per round

    def ratios(self, corpus: str, mode: str) -> list[float]:
        """Baseline wall time over the run's, within each round."""
        return [
            baseline.child.wall_seconds / run.child.wall_seconds
            for baseline, run in zip(self.baselines[corpus], self.runs[(corpus, mode)], strict=True)
        ]

    def ratio(self, corpus: str, mode: str) -> float:
        return statistics.median(self.ratios(corpus, mode))

    def median_run(self, corpus: str, mode: str) -> PipelineRun:
        """The run of the round with the median ratio (its other measures are reported)."""
        ratios = self.ratios(corpus, mode)
        order = sorted(range(len(ratios)), key=ratios.__getitem__)
        return self.runs[(corpus, mode)][order[len(order) // 2]]

    def peak_rss(self, corpus: str, mode: str) -> float:
        return statistics.median(run.child.tree_rss for run in self.runs[(corpus, mode)])

    def parsed_share(self, corpus: str, mode: str) -> float:
        nlp = self.median_run(corpus, mode).nlp
        return nlp.get("sentences_fully_parsed", 0.0) / max(nlp.get("sentences_split", 0.0), 1)


def round_order(index: int) -> tuple[str, ...]:
    turn = index % len(KINDS)
    return KINDS[turn:] + KINDS[:turn]


def bench_modes(
    size: int,
    seed: int,
    root: Path,
    say: Callable[[str], None],
    rounds: int = ROUNDS,
) -> ModesResult:
    result = ModesResult(size, orders=[round_order(i) for i in range(rounds)])
    writers: dict[str, CorpusGenerator] = {
        "arms news": CorpusGenerator(seed=seed),
        "mixed stream": MixedStream(seed=seed),
    }
    for corpus, writer in writers.items():
        slug = corpus.replace(" ", "_")
        articles = root / f"{slug}_articles_{size}"
        writer.write(articles, 0, size)
        texts = root / f"{slug}_texts_{size}.jsonl"
        result.baselines[corpus] = []
        for mode in MODES:
            result.runs[(corpus, mode)] = []
        for index, order in enumerate(result.orders):
            say(f"[{size}] {corpus}, round {index + 1} of {rounds}: {', '.join(order)}")
            for kind in order:
                if kind == "baseline":
                    log = root / f"{slug}_baseline_{size}_{index}.log"
                    baseline = run_baseline(texts, spacy_model(), log)
                    result.baselines[corpus].append(baseline)
                    wall = baseline.child.wall_seconds
                else:
                    deployment = Deployment(root / f"{slug}_{kind}_{size}_{index}", parse=kind)
                    shutil.copytree(articles, deployment.seeds, dirs_exist_ok=True)
                    run = deployment.run()
                    result.runs[(corpus, kind)].append(run)
                    if not texts.exists():
                        export_texts(deployment.warehouse, texts)
                    wall = run.child.wall_seconds
                say(f"[{size}]   {kind}: {wall:.1f} s")
        say(f"[{size}] {corpus}: plain nlp.pipe in batches of {WORKER_BATCH}, once")
        log = root / f"{slug}_baseline_batch{WORKER_BATCH}_{size}.log"
        result.small_batch[corpus] = run_baseline(texts, spacy_model(), log, WORKER_BATCH)
        say(f"[{size}]   {result.small_batch[corpus].child.wall_seconds:.1f} s")
    return result


def modes_report(results: list[ModesResult]) -> str:
    arms_share = len(ARMS_POSITIONS) / STREAM_PERIOD
    rounds = max((len(r.orders) for r in results), default=0)
    lines = [
        "",
        "### Parse modes (SALVO_PARSE), cold runs against plain single-process `nlp.pipe`",
        "",
        f"The mixed stream: {1 - arms_share:.0%} general news (no weapon), {arms_share:.0%} "
        f"arms news. Each corpus in {rounds} rounds of a baseline, a selective and a full "
        "run, the order turned by one each round; a ratio is the baseline's wall time over "
        "the run's within a round, and the verdict is on their median. Other measures are "
        "those of the run whose ratio is the median.",
        "",
        "| corpus, documents | mode | wall time, each round | baseline, each round "
        "| ratio, each round | median ratio | sentences fully parsed "
        "| tokens/s in the NLP stage | peak RSS (tree sum), each round |",
        "|---|---|---|---|---|---|---|---|---|",
    ]

    def seconds(values: list[float]) -> str:
        return " / ".join(f"{v:.1f}" for v in values) + " s"

    for r in results:
        for corpus in CORPORA:
            baselines = [b.child.wall_seconds for b in r.baselines[corpus]]
            for mode in MODES:
                runs = r.runs[(corpus, mode)]
                median = r.median_run(corpus, mode)
                tokens = median.tokens / max(median.stages["nlp"], 1e-9)
                each = " / ".join(f"{x:.2f}" for x in r.ratios(corpus, mode))
                lines.append(
                    f"| {corpus}, {r.size:,} | {mode} | "
                    f"{seconds([run.child.wall_seconds for run in runs])} | "
                    f"{seconds(baselines)} | {each} | {r.ratio(corpus, mode):.2f}x | "
                    f"{r.parsed_share(corpus, mode):.1%} | {tokens:,.0f} | "
                    f"{' / '.join(f'{run.child.tree_rss / MiB:,.0f}' for run in runs)} MiB |"
                )
    lines.extend(
        [
            "",
            f"Plain `nlp.pipe` in batches of {WORKER_BATCH} documents (as a parse worker's "
            "task holds them; one run per corpus, after the rounds, not a target):",
            "",
        ]
    )
    for r in results:
        for corpus, small in r.small_batch.items():
            wall = small.child.wall_seconds
            lines.append(
                f"- {corpus}, {r.size:,} documents: {wall:.1f} s, peak RSS "
                f"{small.child.max_process_rss / MiB:,.0f} MiB; the selective run's median "
                f"wall time is {wall / r.median_run(corpus, 'selective').child.wall_seconds:.2f}x "
                "faster"
            )
    lines.extend(["", "Rounds in the order they ran:", ""])
    for r in results:
        for index, order in enumerate(r.orders):
            lines.append(f"- {r.size:,} documents, round {index + 1}: {', '.join(order)}")
    lines.extend(["", "| target | measured | verdict |", "|---|---|---|"])
    for r in results:
        for corpus, floor in FLOORS.items():
            ratios, middle = r.ratios(corpus, "selective"), r.ratio(corpus, "selective")
            lines.append(
                f"| selective, {corpus}, {r.size:,} documents: >= {floor}x plain nlp.pipe "
                f"(median of {len(ratios)} rounds) | {middle:.2f}x "
                f"({min(ratios):.2f}-{max(ratios):.2f}) | "
                f"{'met' if middle >= floor else 'NOT MET'} |"
            )
        for corpus in CORPORA:
            # The same work measured again moves a little (the sampler reads every 0.2 s):
            # selective is above full when its median is above every full round.
            mine = r.peak_rss(corpus, "selective")
            full = [run.child.tree_rss for run in r.runs[(corpus, "full")]]
            lines.append(
                f"| selective, {corpus}, {r.size:,} documents: peak RSS not above full "
                f"(median, against full's rounds) | {mine / MiB:,.0f} vs "
                f"{min(full) / MiB:,.0f}-{max(full) / MiB:,.0f} MiB | "
                f"{'met' if mine <= max(full) else 'NOT MET'} |"
            )
    return "\n".join(lines)
