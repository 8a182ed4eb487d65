"""The selective parse (SALVO_PARSE=selective): the statistical model runs only on documents
that can hold a claim.

Every document goes through a cheap pass first: the tokenizer and the lexicon's actor and
weapon rules. A document that names a weapon, or a word that implies one ("arming the
RSF", the `implied_weapon` triggers of lexicon/triggers.csv), then gets the full pipeline
on the same Doc (tok2vec, tagger, parser, lemmatizer, NER and the claim extractor): the
very annotations and claims the full parse gives it. Every other document gets only the
model's small sentence recogniser (`senter`) and the line-break boundaries of
`salvo_paragraphs`: its sentences and lexicon mentions, no parse, no named entities, and no
claim, which the full parse would not have found either (a claim needs a weapon in its
sentence, or an implied one, or a referring word after an earlier claim).

A document is the unit, not the sentence: the extractor reads well beyond a weapon's
sentence (see docs/architecture.md#selective-parse).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from spacy.attrs import LOWER
from spacy.language import Language
from spacy.pipeline import Sentencizer
from spacy.tokens import Doc

from pipeline.nlp.common import ACTOR_KEY, TRAINEES, WEAPON_KEY
from pipeline.nlp.language import paragraph_boundaries
from pipeline.nlp.lexicon import load_lexicon
from pipeline.nlp.weapon_phrases import FORCE_NOUNS, UNIT_NOUNS

# Components that read the words only: the cheap pass runs them on every document.
LEXICAL_COMPONENTS = ("salvo_actors_rules", "salvo_weapons_rules", "salvo_drop_stop_phrases")
# The sentence recogniser of the cheap pass (disabled in the full pipeline, where the
# parser sets sentence boundaries).
SENTENCE_COMPONENT = "senter"
# Lemmatizer rule tables by the coarse part of speech the triggers name.
RULE_POS = {"VERB": "verb", "NOUN": "noun"}


class WordForms:
    """Whether a word may have, as a VERB or NOUN, one of a set of lemmas: the inflections
    the model's rule lemmatizer would undo ("arming", "armed" -> "arm"), whatever its tag."""

    def __init__(self, nlp: Language, lemmas: Iterable[tuple[str, str]]):
        self.targets = {(lemma.lower(), pos) for lemma, pos in lemmas}
        self.rules: dict[str, list[tuple[str, str]]] = {}
        self.exceptions: dict[str, dict[str, list[str]]] = {}
        tables = None
        if "lemmatizer" in nlp.component_names:
            tables = getattr(nlp.get_pipe("lemmatizer"), "lookups", None)
        for pos, table in RULE_POS.items():
            if tables is not None and tables.has_table("lemma_rules"):
                self.rules[pos] = [tuple(r) for r in tables.get_table("lemma_rules").get(table, [])]
                self.exceptions[pos] = tables.get_table("lemma_exc").get(table, {})
            else:
                self.rules[pos], self.exceptions[pos] = [], {}
        self.seen: dict[str, bool] = {}

    def __call__(self, word: str) -> bool:
        found = self.seen.get(word)
        if found is None:
            found = self.seen[word] = any(
                (lemma, pos) in self.targets
                for pos in RULE_POS
                for lemma in self._lemmas(word, pos)
            )
        return found

    def _lemmas(self, word: str, pos: str) -> set[str]:
        lemmas = {word, *self.exceptions[pos].get(word, [])}
        for old, new in self.rules[pos]:
            if word.endswith(old):
                lemmas.add(word[: len(word) - len(old)] + new)
        return lemmas


@lru_cache(maxsize=2)
def _sentence_splitter(nlp: Language) -> Any:
    """The model's sentence recogniser, or punctuation rules for a model without one."""
    if SENTENCE_COMPONENT in nlp.component_names:
        return nlp.get_pipe(SENTENCE_COMPONENT)
    return Sentencizer()


def _trainer_triggers() -> set[tuple[str, str]]:
    lexicon = load_lexicon()
    return {key for key, (_, role) in lexicon.triggers.items() if role == "trainer"}


@lru_cache(maxsize=2)
def _implied_words(nlp: Language) -> WordForms:
    return WordForms(nlp, set(load_lexicon().implied_weapons) - _trainer_triggers())


@lru_cache(maxsize=2)
def _training_words(nlp: Language) -> tuple[WordForms, WordForms]:
    """Training words, and the trainees they need to pass know-how ("trained Ukrainian
    crews"; a sports team's training is none): the extractor's trainer frame reads both."""
    trainees = {(lemma, "NOUN") for lemma in TRAINEES}
    return WordForms(nlp, _trainer_triggers()), WordForms(nlp, trainees)


@lru_cache(maxsize=2)
def _gate_words(nlp: Language) -> frozenset[str]:
    """Lower-case words that let the extractor read a sentence without a weapon mention
    (ClaimExtractor.argument_starts, "provided Pyongyang with technology"), where the
    extractor has them."""
    extractor = nlp.get_pipe("salvo_claims") if "salvo_claims" in nlp.component_names else None
    return frozenset(getattr(extractor, "argument_starts", ()))


def may_hold_claim(doc: Doc, nlp: Language) -> bool:
    """Whether the claim extractor can find a claim in this Doc after the cheap pass: what
    opens its sentence gate (ClaimExtractor.claims_in) without an earlier claim, read
    without the model: a weapon mention, a word whose lemma may be an implied-weapon
    trigger (a training word only with a trainee word), or a word that names weapons only
    as a trigger's argument."""
    if doc.spans.get(WEAPON_KEY):
        return True
    implied, gate = _implied_words(nlp), _gate_words(nlp)
    words = [str(doc.vocab.strings[key]) for key in doc.count_by(LOWER)]
    if any(word in gate or implied(word) for word in words):
        return True
    training, trainees = _training_words(nlp)
    if any(training(word) for word in words) and any(trainees(word) for word in words):
        return True
    return _names_military_units(doc, nlp, words)


def _names_military_units(doc: Doc, nlp: Language, words: list[str]) -> bool:
    """Units of a state's forces, which the extractor counts as troops once the parse
    shows the state (weapon_phrases.military_units): "North Korean units", "units of its
    army", "subunits of the Korean People's Army"."""
    units = _unit_words(nlp)
    if not any(units(word) for word in words):
        return False
    actor_ends = {span.end for span in doc.spans.get(ACTOR_KEY, [])}
    actor_starts = {span.start for span in doc.spans.get(ACTOR_KEY, [])}
    for token in doc:
        if not units(token.lower_):
            continue
        if token.i in actor_ends:
            return True  # an actor right before: "North Korean units"
        after = doc[token.i + 1 : token.i + 6]
        if (
            len(after)
            and after[0].lower_ == "of"
            and any(t.i in actor_starts or t.lower_ in FORCE_NOUNS for t in after[1:])
        ):
            return True  # "units of its army", "units of the Korean People's Army"
    return False


@lru_cache(maxsize=2)
def _unit_words(nlp: Language) -> WordForms:
    return WordForms(nlp, {(lemma, "NOUN") for lemma in UNIT_NOUNS})


def parse_selective(
    nlp: Language, texts: Iterable[tuple[str, Any]], batch_size: int
) -> Iterator[tuple[Doc, Any, bool]]:
    """(doc, context, fully parsed) for each (text, context), in the order given."""
    cheap = [(nlp.make_doc(text), context) for text, context in texts]
    for doc, _ in cheap:
        for name in LEXICAL_COMPONENTS:
            doc = nlp.get_pipe(name)(doc)
    full = [may_hold_claim(doc, nlp) for doc, _ in cheap]
    parsed = nlp.pipe(
        (doc for (doc, _), chosen in zip(cheap, full, strict=True) if chosen),
        batch_size=batch_size,
        disable=list(LEXICAL_COMPONENTS),
    )
    segmented = _sentence_splitter(nlp).pipe(
        (doc for (doc, _), chosen in zip(cheap, full, strict=True) if not chosen),
        batch_size=batch_size,
    )
    for (_, context), chosen in zip(cheap, full, strict=True):
        if chosen:
            yield next(parsed), context, True
        else:
            # A line break ends a sentence, as it does for the parser.
            yield paragraph_boundaries(next(segmented)), context, False
