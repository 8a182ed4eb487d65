"""The bench's corpus: generated news articles about arms transfers. The code is in
`generator.py`; its word pools, sentence templates and what the seed articles name are the
TOML files of this folder."""

from tools.corpus.generator import CorpusGenerator

__all__ = ["CorpusGenerator"]
