"""Named weapon systems: the canonical name analysts track (KN-23, Shahed-136 (Geran-2),
ATACMS) and the state that makes it, for every system alias of the lexicon
(`pipeline/lexicon/weapon_systems.csv`).

Named where parsed rows are staged: a weapon mention or a claim's weapon words that hold a
system alias get its system; the longest alias in the words wins ("two KN-23 missiles").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import polars as pl

from pipeline.nlp.lexicon import LEXICON_DIR, _rows

SYSTEMS_FILE = LEXICON_DIR / "weapon_systems.csv"


@dataclass(frozen=True)
class System:
    name: str
    origin: str | None  # actor code of the state that makes it, when the lexicon says


@dataclass(frozen=True)
class Systems:
    by_alias: dict[str, System]  # lower-cased alias -> system
    pattern: re.Pattern[str] | None  # any alias, as a whole word, longest first

    def find(self, words: str | None) -> System | None:
        """The system the words name, if any."""
        if not words or self.pattern is None:
            return None
        found = self.pattern.search(words)
        return self.by_alias[found.group(1).lower()] if found else None


@lru_cache(maxsize=2)
def load_systems(path: Path = SYSTEMS_FILE) -> Systems:
    by_alias = {
        row["alias"].lower(): System(row["system"], row["origin"] or None) for row in _rows(path)
    }
    aliases = sorted(by_alias, key=len, reverse=True)
    pattern = (
        re.compile(
            # a designation's plural s ("KN-23s") names the same system
            r"(?<![\w-])(" + "|".join(map(re.escape, aliases)) + r")s?(?![\w-])",
            re.IGNORECASE,
        )
        if aliases
        else None
    )
    return Systems(by_alias, pattern)


def name_systems(
    claims: pl.DataFrame, entities: pl.DataFrame, systems: Systems | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The claims with weapon_system and system_origin filled from their weapon words, and
    the WEAPON mentions with weapon_system from their text (null where no system is named)."""
    systems = systems or load_systems()
    memo: dict[str, System | None] = {}  # weapon words repeat: "drones", "shells"

    def find(words: str | None) -> System | None:
        if words is None:
            return None
        if words not in memo:
            memo[words] = systems.find(words)
        return memo[words]

    found = [find(words) for words in claims["weapon_text"].to_list()]
    claims = claims.with_columns(
        pl.Series("weapon_system", [s.name if s else None for s in found], dtype=pl.String),
        pl.Series("system_origin", [s.origin if s else None for s in found], dtype=pl.String),
    )
    named = [
        find(text) if label == "WEAPON" else None
        for text, label in entities.select("text", "label").iter_rows()
    ]
    entities = entities.with_columns(
        pl.Series("weapon_system", [s.name if s else None for s in named], dtype=pl.String)
    )
    return claims, entities
