"""Distinct, realistic articles for the bench, generated deterministically.

Articles are built from news-style sentence templates whose content words are mostly
slots (actors, weapons, people, sources, numbers, dates, verbs and phrases drawn from
pools), plus one or two sentences of the seed articles with their actors, people,
weapons, numbers and dates replaced. Recombining seed sentences alone makes every pair
of articles share several near-identical sentences: the stories stage then rightly
calls them all one wire story and scores every pair, which no real crawl looks like.

The pools, templates and seed names are data files next to this module, read by
`load_data`; the countries come from the pipeline's lexicon.
"""

from __future__ import annotations

import csv
import os
import random
import re
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The pipeline's settings: where the seeds and the lexicon are.
from pipeline.settings import DEFAULT_SEEDS_DIR, PROJECT_ROOT

LEXICON_DIR = PROJECT_ROOT / "pipeline" / "lexicon"
DATA_DIR = Path(__file__).resolve().parent


def load_data(name: str) -> dict[str, Any]:
    """One data file of the corpus folder, `<name>.toml`."""
    with open(DATA_DIR / f"{name}.toml", "rb") as handle:
        return tomllib.load(handle)


_SEED_ARTICLES = load_data("seed_articles")
# What the seed articles name, by the role it plays in them: role -> (name, demonym, capital).
COUNTRY_ROLES: dict[str, tuple[str, str, str]] = {
    role: (name, demonym, capital)
    for role, (name, demonym, capital) in _SEED_ARTICLES["countries"].items()
}
LOWER_SPELLINGS: dict[str, str] = _SEED_ARTICLES["lower_case"]
SEED_PEOPLE: dict[str, str] = _SEED_ARTICLES["people"]
SEED_WEAPONS: dict[str, str] = _SEED_ARTICLES["weapons"]
FURNITURE: tuple[str, ...] = tuple(_SEED_ARTICLES["furniture"])
POOLS: dict[str, tuple[str, ...]] = {
    name: tuple(phrases) for name, phrases in load_data("pools").items()
}
_TEMPLATES = load_data("templates")
TEMPLATES: tuple[str, ...] = tuple(_TEMPLATES["sentences"])
HEADLINES: tuple[str, ...] = tuple(_TEMPLATES["headlines"])

MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
# Seed sentences per article: more would make articles share near-identical passages.
SEED_SENTENCES_PER_ARTICLE = (0, 2)
# A paragraph of fewer words is a heading or page furniture, not a source of sentences.
MIN_PARAGRAPH_WORDS = 12
MIN_SENTENCE_WORDS = 6
# Words per article, drawn uniformly: spaCy makes about 1.2 tokens of a word here, so
# articles have about 300 to 800 tokens.
ARTICLE_WORDS = (260, 640)
SENTENCE_END = re.compile(r"(?<=[.!?])[”\"’']?\s+(?=[“\"A-Z])")
NUMBER = re.compile(r"\b\d{1,3}(?:,\d{3})+\b|\b\d+\b")
SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Country:
    name: str
    demonym: str
    capital: str


def load_countries(lexicon_dir: Path = LEXICON_DIR) -> list[Country]:
    """States of the lexicon that have a demonym and a capital: the actors articles name."""

    def rows(name: str) -> Iterator[dict[str, str]]:
        with open(lexicon_dir / name, encoding="utf-8") as handle:
            yield from csv.DictReader(line for line in handle if not line.startswith("#"))

    names = {r["actor_code"]: r["name"] for r in rows("actor_codes.csv") if r["type"] == "state"}
    forms: dict[tuple[str, str], str] = {}
    for row in rows("actors.csv"):
        forms.setdefault((row["actor_code"], row["kind"]), row["alias"])
    return [
        Country(name, forms[(code, "demonym")], forms[(code, "capital")])
        for code, name in sorted(names.items())
        if (code, "demonym") in forms and (code, "capital") in forms
    ]


def seed_sentences(seeds_dir: Path = DEFAULT_SEEDS_DIR) -> list[str]:
    """The sentences of the seed articles' body paragraphs, in file order."""
    sentences: list[str] = []
    for path in sorted(seeds_dir.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        for paragraph in re.split(r"\n\s*\n", text):
            paragraph = " ".join(paragraph.split())
            if len(paragraph.split()) < MIN_PARAGRAPH_WORDS:
                continue
            sentences += [
                s
                for s in SENTENCE_END.split(paragraph)
                if len(s.split()) >= MIN_SENTENCE_WORDS and not any(f in s for f in FURNITURE)
            ]
    if not sentences:
        raise ValueError(f"No sentences to recombine in {seeds_dir}")
    return sentences


class _Slots(dict):
    """The values of one article's slots: roles fixed for the article, everything else
    drawn afresh at each use."""

    def __init__(self, rng: random.Random, roles: dict[str, str]):
        super().__init__(roles)
        self.rng = rng

    def fill(self, template: str) -> str:
        text = SLOT.sub(lambda m: self.value(m.group(1)), template)
        return text[:1].upper() + text[1:]

    def value(self, name: str) -> str:
        rng = self.rng
        if name in self:
            return self[name]
        if name in POOLS:
            return SLOT.sub(lambda m: self.value(m.group(1)), rng.choice(POOLS[name]))
        if name == "qty":
            return rng.choice(
                (f"{rng.randint(2, 99)}", f"{rng.randint(1, 9)},{rng.randint(0, 999):03d}",
                 f"about {rng.randint(1, 40) * 50}", f"more than {rng.randint(2, 20) * 100}",
                 f"{rng.choice(('two', 'three', 'several', 'dozens of', 'hundreds of'))}")
            )  # fmt: skip
        if name in ("number", "percent"):
            return str(rng.randint(3, 900 if name == "number" else 60))
        if name == "month":
            return rng.choice(MONTHS)
        raise KeyError(name)


class CorpusGenerator:
    """Deterministic articles: article `index` depends only on (seed, index), so a smaller
    corpus is a prefix of a larger one and a document added later is new to both."""

    def __init__(self, seed: int = 7, seeds_dir: Path = DEFAULT_SEEDS_DIR):
        self.seed = seed
        self.sentences = seed_sentences(seeds_dir)
        self.countries = load_countries()
        phrases: list[str] = [*SEED_WEAPONS, *SEED_PEOPLE, *LOWER_SPELLINGS]
        for forms in COUNTRY_ROLES.values():
            phrases += forms
        alternation = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
        self.seed_pattern = re.compile(
            rf"(?P<phrase>(?<![\w-])(?:{alternation})(?![\w-]))"
            rf"|(?P<month>\b(?:{'|'.join(MONTHS)})\b)"
            r"|(?P<year>\b20[12]\d\b)"
            rf"|(?P<number>{NUMBER.pattern})"
        )

    def _roles(self, rng: random.Random) -> dict[str, str]:
        roles: dict[str, str] = {}
        countries = rng.sample(self.countries, len(COUNTRY_ROLES))
        for role, country in zip(COUNTRY_ROLES, countries, strict=True):
            roles.update(
                {
                    f"{role}_name": country.name,
                    f"{role}_demonym": country.demonym,
                    f"{role}_capital": country.capital,
                }
            )
        for person in ("P", "P2", "P3", "LS", "LR"):
            first, last = rng.choice(POOLS["first"]), rng.choice(POOLS["last"])
            roles.update({person: f"{first} {last}", f"{person}_first": first})
            roles[f"{person}_last"] = last
        for number, weapon in enumerate(rng.sample(POOLS["weapon"], 3), start=1):
            roles[f"W{number}"] = weapon
        year = rng.randint(2019, 2025)
        roles.update(
            year=str(year), year_earlier=str(year - rng.randint(1, 6)),
            year_later=str(year + rng.randint(1, 4)),
        )  # fmt: skip
        roles["title"] = rng.choice(POOLS["title"])
        return roles

    def _seed_sentence(self, slots: _Slots) -> str:
        rng = slots.rng
        seed_forms = {
            form: f"{role}_{kind}"
            for role, forms in COUNTRY_ROLES.items()
            for form, kind in zip(forms, ("name", "demonym", "capital"), strict=True)
        }
        names = {**seed_forms, **SEED_PEOPLE, **SEED_WEAPONS, **LOWER_SPELLINGS}

        def substitute(match: re.Match[str]) -> str:
            if match.group("phrase"):
                return slots[names[match.group("phrase")]]
            if match.group("month"):
                return rng.choice(MONTHS)
            if match.group("year"):
                return str(int(slots["year"]) + int(match.group("year")) - 2024)
            digits = match.group("number").replace(",", "")
            if len(digits) <= 2:  # mostly days of the month
                return str(rng.randint(1, 28))
            value = rng.randint(10 ** (len(digits) - 1), 10 ** len(digits) - 1)
            return f"{value:,}" if "," in match.group("number") else str(value)

        return self.seed_pattern.sub(substitute, rng.choice(self.sentences))

    def article(self, index: int) -> str:
        rng = random.Random(f"{self.seed}:{index}")
        slots = _Slots(rng, self._roles(rng))
        sentences = [slots.fill(t) for t in rng.sample(TEMPLATES, len(TEMPLATES))]
        for _ in range(rng.randint(*SEED_SENTENCES_PER_ARTICLE)):
            sentences.insert(rng.randrange(len(sentences) + 1), self._seed_sentence(slots))
        headline = slots.fill(rng.choice(HEADLINES))
        return assemble(rng, headline, slots["year"], sentences)

    def write(self, folder: Path, start: int, stop: int) -> list[Path]:
        """Write articles start..stop-1 as files, dated a minute ago so that no run waits
        for them to settle (a real drop would wait the sensor's STABLE_SECONDS once)."""
        folder.mkdir(parents=True, exist_ok=True)
        past = time.time() - 60
        paths = []
        for index in range(start, stop):
            path = folder / f"article_{index:06d}.txt"
            path.write_text(self.article(index), encoding="utf-8")
            os.utime(path, (past, past))
            paths.append(path)
        return paths


def assemble(rng: random.Random, headline: str, year: str, sentences: list[str]) -> str:
    """An article from its headline and sentences: a byline, a dateline in `year`, and
    paragraphs of one to three sentences up to a drawn length (draws in this order)."""
    byline = f"By {rng.choice(POOLS['first'])} {rng.choice(POOLS['last'])}"
    dateline = f"{rng.choice(MONTHS)} {rng.randint(1, 28)}, {year}"
    paragraphs: list[str] = []
    words, target = 0, rng.randint(*ARTICLE_WORDS)
    while words < target and sentences:
        take = rng.randint(1, 3)
        paragraph = " ".join(sentences[:take])
        del sentences[:take]
        paragraphs.append(paragraph)
        words += len(paragraph.split())
    return "\n\n".join([headline, byline, dateline, *paragraphs]) + "\n"
