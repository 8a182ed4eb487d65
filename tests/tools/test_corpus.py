"""The bench's corpus generator: deterministic, distinct, news-sized articles that name
actors and weapons, with seed sentences recombined."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import spacy

from pipeline.seeds import document_id
from tools.corpus import generator as corpus


@pytest.fixture(scope="module")
def generator() -> corpus.CorpusGenerator:
    return corpus.CorpusGenerator(seed=3)


def test_articles_are_deterministic_and_do_not_depend_on_the_corpus_size(generator):
    again = corpus.CorpusGenerator(seed=3)
    assert [generator.article(i) for i in range(5)] == [again.article(i) for i in range(5)]
    assert corpus.CorpusGenerator(seed=4).article(0) != generator.article(0)


def test_articles_are_distinct_documents(generator):
    texts = [generator.article(i) for i in range(200)]
    assert len({document_id(t) for t in texts}) == len(texts)


def test_articles_are_news_sized_and_name_actors_and_weapons(generator):
    tokenizer = spacy.blank("en").tokenizer
    countries = {c.name for c in corpus.load_countries()}
    weapons = set(corpus.POOLS["weapon"])
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

    seeds = corpus.seed_sentences()
    assert len(seeds) > 50
    rng = random.Random(1)
    drawn = [generator._seed_sentence(corpus._Slots(rng, generator._roles(rng))) for _ in range(20)]
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


def test_every_slot_of_the_data_files_has_a_value(generator):
    import random

    rng = random.Random(0)
    slots = corpus._Slots(rng, generator._roles(rng))
    phrases = [*corpus.TEMPLATES, *corpus.HEADLINES]
    phrases += [phrase for pool in corpus.POOLS.values() for phrase in pool]
    for phrase in phrases:
        filled = slots.fill(phrase)
        assert "{" not in filled and "}" not in filled, phrase
    assert set(corpus.COUNTRY_ROLES) == {"S", "R", "T", "O", "X"}
    names = [corpus.SEED_PEOPLE, corpus.SEED_WEAPONS, corpus.LOWER_SPELLINGS]
    assert {slot for mapping in names for slot in mapping.values()} <= set(slots)
