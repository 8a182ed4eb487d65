"""The mixed stream of the bench: general news articles that name countries and people but
no weapon, with arms articles among them at a fixed share."""

from __future__ import annotations

import random

import pytest

from pipeline.nlp.language import build_nlp
from pipeline.nlp.selective import parse_selective
from pipeline.seeds import document_id
from tools.corpus import general
from tools.corpus import generator as corpus


@pytest.fixture(scope="module")
def stream() -> general.MixedStream:
    return general.MixedStream(seed=3)


def test_the_stream_is_deterministic_with_arms_news_at_a_fixed_share(stream):
    arms = corpus.CorpusGenerator(seed=3)
    texts = [stream.article(i) for i in range(40)]
    assert texts == [general.MixedStream(seed=3).article(i) for i in range(40)]
    assert len({document_id(t) for t in texts}) == 40
    from_arms = [i for i, text in enumerate(texts) if text == arms.article(i)]
    assert from_arms == [0, 7, 14, 20, 27, 34]  # 15%


def test_general_articles_name_countries_and_people_but_no_weapon(stream):
    nlp = build_nlp()
    countries = {c.name for c in corpus.load_countries()}
    texts = [(stream.general_article(i), i) for i in range(120)]
    for doc, index, parsed in parse_selective(nlp, texts, 64):
        assert not parsed, (index, [s.text for s in doc.spans["salvo_weapons"]])
        assert doc.spans["salvo_actors"], index
        text = doc.text
        assert any(name in text for name in countries)
        headline, byline, dateline, *paragraphs = text.split("\n\n")
        assert byline.startswith("By ") and paragraphs
        assert 150 <= len(doc) <= 900, index


def test_every_slot_of_the_general_templates_has_a_value(stream):
    rng = random.Random(0)
    slots = general._GeneralSlots(rng, {})
    for topic in general.TOPICS.values():
        for phrase in (*topic["sentences"], *topic["headlines"], *general.SHARED_SENTENCES):
            roles = {f"{r}_{k}": "X" for r in "ABC" for k in ("name", "demonym", "capital")}
            roles |= {p + s: "X" for p in ("P", "P2", "P3") for s in ("", "_first", "_last")}
            roles |= {"year": "2024", "year_earlier": "2020", "year_later": "2026"}
            slots.update(roles)
            filled = slots.fill(phrase)
            assert "{" not in filled and "}" not in filled, phrase
