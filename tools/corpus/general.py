"""General news for the bench, and the mixed stream of a real news feed.

A general article (sport, business, science or politics) names countries and people and
no weapon: its sentence templates, headlines and word pools are in `general.toml`. The
mixed stream puts one arms article (`generator.CorpusGenerator`) among general ones at a
fixed share, so a smaller stream is a prefix of a larger one, as for the arms corpus.
"""

from __future__ import annotations

import random
from pathlib import Path

from pipeline.settings import DEFAULT_SEEDS_DIR
from tools.corpus.generator import POOLS, CorpusGenerator, _Slots, assemble, load_data

_GENERAL = load_data("general")
TOPICS: dict[str, dict[str, tuple[str, ...]]] = {
    name: {part: tuple(lines) for part, lines in topic.items()}
    for name, topic in _GENERAL["topics"].items()
}
SHARED_SENTENCES: tuple[str, ...] = tuple(_GENERAL["shared"]["sentences"])
GENERAL_POOLS: dict[str, tuple[str, ...]] = {
    name: tuple(phrases) for name, phrases in _GENERAL["pools"].items()
}
# Arms articles per 20 of the mixed stream (at these positions): 15%, the rest general news.
ARMS_POSITIONS = (0, 7, 14)
STREAM_PERIOD = 20


class _GeneralSlots(_Slots):
    def value(self, name: str) -> str:
        if name in GENERAL_POOLS:
            return self.rng.choice(GENERAL_POOLS[name])
        return super().value(name)


class MixedStream(CorpusGenerator):
    """Articles of a general news feed: ARMS_POSITIONS of every STREAM_PERIOD are arms
    news (the arms corpus's article of that index), the others general news."""

    def __init__(self, seed: int = 7, seeds_dir: Path = DEFAULT_SEEDS_DIR):
        super().__init__(seed, seeds_dir)

    def article(self, index: int) -> str:
        if index % STREAM_PERIOD in ARMS_POSITIONS:
            return super().article(index)
        return self.general_article(index)

    def general_article(self, index: int) -> str:
        rng = random.Random(f"{self.seed}:general:{index}")
        topic = TOPICS[rng.choice(sorted(TOPICS))]
        roles: dict[str, str] = {}
        for role, country in zip("ABC", rng.sample(self.countries, 3), strict=True):
            roles.update(
                {
                    f"{role}_name": country.name,
                    f"{role}_demonym": country.demonym,
                    f"{role}_capital": country.capital,
                }
            )
        for person in ("P", "P2", "P3"):
            first, last = rng.choice(POOLS["first"]), rng.choice(POOLS["last"])
            roles.update({person: f"{first} {last}", f"{person}_first": first})
            roles[f"{person}_last"] = last
        year = rng.randint(2019, 2025)
        roles.update(
            year=str(year),
            year_earlier=str(year - rng.randint(1, 6)),
            year_later=str(year + rng.randint(1, 4)),
        )
        slots = _GeneralSlots(rng, roles)
        templates = topic["sentences"] + SHARED_SENTENCES
        sentences = [slots.fill(t) for t in rng.sample(templates, len(templates))]
        headline = slots.fill(rng.choice(topic["headlines"]))
        return assemble(rng, headline, slots["year"], sentences)
