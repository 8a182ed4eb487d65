"""Which extraction produced a row: the extractor's name, a hash of its code, the lexicon
version, the spaCy model and the parse mode. Kept free of spaCy so that a run with nothing
to parse can tell so without importing it (about a second of start-up)."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from pipeline import settings
from pipeline.nlp.lexicon import load_lexicon

EXTRACTOR_VERSION = "claims.v1"
# Modules that move documents and rows through the parser without deciding what a row
# says: editing them re-extracts nothing.
PARSE_MACHINERY = frozenset({"pool.py", "staging.py"})


def model_name() -> str:
    return settings.spacy_model()


@lru_cache(maxsize=1)
def _code_hash() -> str:
    """A hash of the extraction code itself, so an edited rule re-extracts every document
    even when nobody remembered to bump EXTRACTOR_VERSION."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        if path.name not in PARSE_MACHINERY:
            digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


def extractor_version(name: str | None = None, parse: str | None = None) -> str:
    """Changes whenever the extraction code, the lexicon, the model or what the model parses
    (SALVO_PARSE) changes: switching the parse mode parses every document again."""
    model = name or model_name()
    mode = parse or settings.parse_mode()
    return f"{EXTRACTOR_VERSION}.{_code_hash()}+lex.{load_lexicon().version}+{model}+parse.{mode}"


def parse_mode_of(version: str) -> str:
    """The parse mode an extractor version was made with: a parser (a pool worker, a Ray
    actor) parses as the stage that versions its rows says, whatever its own environment."""
    return version.rpartition("+parse.")[2]
