"""`make bench`: the corpus generator, the measuring harness and one tiny end-to-end bench
run. Smoke tests only: nothing here asserts a timing."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
import spacy

from pipeline.seeds import document_id
from tools import bench


@pytest.fixture(scope="module")
def generator() -> bench.CorpusGenerator:
    return bench.CorpusGenerator(seed=3)


def test_articles_are_deterministic_and_do_not_depend_on_the_corpus_size(generator):
    again = bench.CorpusGenerator(seed=3)
    assert [generator.article(i) for i in range(5)] == [again.article(i) for i in range(5)]
    assert bench.CorpusGenerator(seed=4).article(0) != generator.article(0)


def test_articles_are_distinct_documents(generator):
    texts = [generator.article(i) for i in range(200)]
    assert len({document_id(t) for t in texts}) == len(texts)


def test_articles_are_news_sized_and_name_actors_and_weapons(generator):
    tokenizer = spacy.blank("en").tokenizer
    countries = {c.name for c in bench.load_countries()}
    weapons = set(bench.POOLS["weapon"])
    for index in range(40):
        text = generator.article(index)
        assert 250 <= len(tokenizer(text)) <= 900, index
        headline, byline, dateline, *paragraphs = text.split("\n\n")
        assert byline.startswith("By ") and paragraphs
        assert any(name in text for name in countries)
        assert any(weapon in text for weapon in weapons)
        assert "{" not in text and "}" not in text  # every slot filled


def test_seed_sentences_are_recombined_with_new_actors(generator):
    import random

    seeds = bench.seed_sentences()
    assert len(seeds) > 50
    rng = random.Random(1)
    drawn = [generator._seed_sentence(bench._Slots(rng, generator._roles(rng))) for _ in range(20)]
    # A few seed sentences name nothing to replace; most come back changed.
    assert sum(sentence not in seeds for sentence in drawn) >= 15
    for sentence in drawn:
        words = set(sentence.split())
        # Most words of some seed sentence survive: only names, weapons and numbers change.
        assert max(len(words & set(s.split())) / len(set(s.split())) for s in seeds) > 0.5


def test_written_files_are_old_enough_not_to_wait_for_settling(tmp_path: Path, generator):
    paths = generator.write(tmp_path, 10, 13)
    assert [p.name for p in paths] == [f"article_{i:06d}.txt" for i in range(10, 13)]
    assert paths[0].read_text(encoding="utf-8") == generator.article(10)
    assert all(time.time() - p.stat().st_mtime > 30 for p in paths)


def test_run_child_measures_wall_time_and_memory(tmp_path: Path):
    code = "import time; block = bytearray(64 * 1024 * 1024); block[::4096] = b'x' * 16384; "
    code += "time.sleep(0.5)"
    child = bench.run_child([sys.executable, "-c", code], dict(os.environ), tmp_path / "c.log")
    assert child.returncode == 0
    assert child.wall_seconds >= 0.5
    assert child.max_process_rss >= 64 * bench.MiB
    assert child.tree_rss >= 64 * bench.MiB and child.tree_pss > 0


@pytest.mark.slow
def test_a_tiny_bench_run_prints_every_measure_and_target(tmp_path: Path, capsys):
    assert bench.main(["--sizes", "2", "--keep", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for expected in (
        "speed-up over the baseline",
        "peak RSS, sum over the process tree",
        "no new or changed file",
        "1 document added",
        "sensor tick, no cursor",
        "rows/s",
        "### Targets",
    ):
        assert expected in out, expected
    assert "| no-change run, 2 documents: <= 10 s, 0 parsed |" in out
    assert "0 parsed" in out and "1 parsed" in out


def test_worker_processes_write_the_same_rows_as_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The parallel NLP path the bench measures: forked workers, many small tasks."""
    import shutil

    import duckdb

    from assets import nlp
    from pipeline import warehouse
    from tests.conftest import SEEDS, materialization_metadata, run_pipeline

    checksums = {}
    for label, task_characters, processes in (("one", 10**9, 1), ("workers", 1_000, 2)):
        monkeypatch.setattr(nlp, "TASK_CHARACTERS", task_characters)
        monkeypatch.setattr(nlp, "MAX_PROCESSES", processes)
        monkeypatch.setattr(nlp.os, "sched_getaffinity", lambda _pid: {0, 1})
        shutil.copytree(SEEDS, tmp_path / label / "seeds")
        published = tmp_path / label / "salvo.duckdb"
        result = run_pipeline(tmp_path / label / "seeds", published)
        assert result.success
        metadata = materialization_metadata(result, "sentences")
        assert metadata["worker_processes"] == (2 if label == "workers" else 0)
        con = duckdb.connect(str(published), read_only=True)
        try:
            checksums[label] = warehouse.table_checksums(con, ["sentences", "entities", "claims"])
        finally:
            con.close()
    assert checksums["one"] == checksums["workers"]
    assert checksums["one"]["claims"][0] > 0
