"""The real pipeline, with Salvo's components, shared by the construction tests."""

from __future__ import annotations

import pytest
from spacy.language import Language

from pipeline.nlp.language import build_nlp


@pytest.fixture(scope="session")
def nlp() -> Language:
    return build_nlp()
