"""The model's attribute rules, applied by lookup (attribute_rules.py), give every token the
part of speech, morphology, lemma and tag spaCy's own `attribute_ruler` gives it."""

from __future__ import annotations

import spacy
from spacy.language import Language

from pipeline.nlp.attribute_rules import COMPONENT, MODEL_COMPONENT, IndexedAttributeRules
from pipeline.nlp.version import model_name

# Words the model's exceptions name (pronouns, modals, determiners, "gon na", "let's",
# "ain't", "y'all", "nothin'"), whitespace tokens, expletives and auxiliaries, in text
# shaped like the articles'.
TEXTS = [
    "Russia has received 200 Shahed drones from Iran, a US official said on Tuesday.\n\n"
    "There are reports that the shipments were delayed; nobody knows why.",
    "\"We ain't gonna stop,\" he told them. Let's see: y'all got nothin' on us. "
    "I'd say that could be something, but it wasn't anything she'd expect.",
    "These tanks, those missiles and that howitzer: whether Kyiv will get them is unclear "
    "-- though Berlin may, if asked, send more.   It's up to you and me.",
    "C'mon, gotta admit they're gonna need everyone's help; it is what it is.\t\n"
    "Somebody must've seen 'em, because there were 40 of 'em at the base.",
]


def _annotations(nlp: Language, text: str) -> list[tuple[str, ...]]:
    return [(t.text, t.tag_, t.pos_, str(t.morph), t.lemma_, t.dep_) for t in nlp(text)]


def test_the_lookup_gives_each_token_what_the_models_ruler_gives_it(nlp: Language) -> None:
    model = spacy.load(model_name(), exclude=["salvo_claims"])
    assert MODEL_COMPONENT in model.pipe_names
    assert COMPONENT in nlp.pipe_names and MODEL_COMPONENT not in nlp.pipe_names
    for text in TEXTS:
        ours = _annotations(nlp, text)
        theirs = _annotations(model, text)
        assert ours == theirs


def test_the_lookup_finds_the_rulers_own_matches(nlp: Language) -> None:
    model = spacy.load(model_name(), exclude=["salvo_claims"])
    ruler = model.get_pipe(MODEL_COMPONENT)
    indexed = IndexedAttributeRules(ruler)  # type: ignore[arg-type]
    before = model.pipe_names[: model.pipe_names.index(MODEL_COMPONENT)]
    matched = 0
    for text in TEXTS:
        doc = model(text, disable=[n for n in model.pipe_names if n not in before])
        expected = ruler.match(doc)  # type: ignore[attr-defined]
        assert indexed.match(doc) == expected
        matched += len(expected)
    # Every token has a tag, and every tag a rule: a lookup finding nothing would fail above.
    assert matched >= sum(len(model.make_doc(t)) for t in TEXTS)
