"""`make bench`: what the pipeline costs on this machine, against the targets of the
performance issue.

For each corpus size it generates distinct, realistic articles (sentences of the seed
articles recombined, with actors, weapons, people, numbers and dates substituted), then
measures, each in a fresh child process as a user would run it:

- a cold run of `python -m pipeline.run` (what `make run` executes) from an empty warehouse:
  wall time, documents/s, tokens/s, wall time per stage (from the run's Dagster step
  events) and peak memory;
- the baseline: plain `spacy.load(model)` and `nlp.pipe(texts)` in one process on the same
  cleaned texts the run parsed, start-up included;
- a run with no new or changed file, one document added to that warehouse, and the same
  document added to an empty warehouse;
- one tick of the folder sensor over the corpus, and the DuckDB write rate.

It prints numbers; nothing here is a timed test. Usage:

    python -m tools.bench [--sizes 1000,10000] [--quick] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.settings import DEFAULT_SEEDS_DIR, PROJECT_ROOT, spacy_model

LEXICON_DIR = PROJECT_ROOT / "pipeline" / "lexicon"
DAGSTER_YAML = PROJECT_ROOT / "dagster.yaml"
# Runs of a few seconds vary by a second or more on a shared machine: each incremental run
# and the write replay are measured this many times and the median is reported.
REPEATS = 3
# The add-one runs, each paired with the same add into an empty warehouse: the target is
# their ratio, so both medians get more runs.
ADD_REPEATS = 5
MiB = 1024 * 1024

# --- the corpus --------------------------------------------------------------------------
#
# Articles are built from news-style sentence templates whose content words are mostly
# slots (actors, weapons, people, sources, numbers, dates, verbs and phrases drawn from
# pools), plus one or two sentences of the seed articles with their actors, people,
# weapons, numbers and dates replaced. Recombining seed sentences alone makes every pair
# of articles share several near-identical sentences: the stories stage then rightly
# calls them all one wire story and scores every pair, which no real crawl looks like.

# What the seed articles name, by the role it plays in them. A generated article gives
# every role a country of its own, so a seed sentence says something new.
COUNTRY_ROLES: dict[str, tuple[str, str, str]] = {
    # role: (name, demonym, capital) as the seeds spell them
    "S": ("North Korea", "North Korean", "Pyongyang"),
    "R": ("Russia", "Russian", "Moscow"),
    "T": ("Ukraine", "Ukrainian", "Kyiv"),
    "O": ("Iran", "Iranian", "Tehran"),
    "X": ("China", "Chinese", "Beijing"),
}
# Lower-case spellings one seed uses ("russia's search for weapons").
LOWER_SPELLINGS = {"russia": "R_name", "russian": "R_demonym"}
# People of the seeds, full and short, and the article slot that replaces them.
SEED_PEOPLE = {
    "Kyrylo Budanov": "P",
    "Budanov": "P_last",
    "Vladimir Putin": "LR",
    "Putin": "LR_last",
    "Kim Jong Un": "LS",
    "Kim": "LS_last",
    "Dmitry Peskov": "P2",
    "Peskov": "P2_last",
    "Linda Thomas-Greenfield": "P3",
    "Thomas-Greenfield": "P3_last",
}
# Weapon phrases of the seeds, and the article's weapon that replaces them.
SEED_WEAPONS = {
    "artillery ammunition": "W1",
    "artillery shells": "W1",
    "shells": "W1",
    "ballistic missiles": "W2",
}
POOLS: dict[str, tuple[str, ...]] = {
    "weapon": (
        "artillery shells",
        "155mm shells",
        "152mm shells",
        "mortar rounds",
        "tank shells",
        "small arms ammunition",
        "anti-tank mines",
        "cluster munitions",
        "rifle cartridges",
        "ballistic missiles",
        "cruise missiles",
        "Shahed-136 drones",
        "attack drones",
        "reconnaissance drones",
        "anti-aircraft missiles",
        "air defence systems",
        "multiple rocket launchers",
        "self-propelled howitzers",
        "main battle tanks",
        "armoured personnel carriers",
        "infantry fighting vehicles",
        "fighter jets",
        "attack helicopters",
        "anti-ship missiles",
        "loitering munitions",
        "glide bombs",
        "surface-to-air missiles",
        "anti-tank guided missiles",
        "assault rifles",
        "machine guns",
        "sniper rifles",
        "hand grenades",
        "towed howitzers",
        "radar systems",
        "electronic warfare systems",
        "naval mines",
        "patrol boats",
        "military trucks",
        "night-vision goggles",
        "man-portable air defence systems",
    ),
    "first": (
        "Anna",
        "Oleksandr",
        "Maria",
        "Jean",
        "Ahmed",
        "Li",
        "Hiroshi",
        "Fatima",
        "Carlos",
        "Ingrid",
        "Pavel",
        "Amara",
        "Sven",
        "Yusuf",
        "Elena",
        "Rahul",
        "Grace",
        "Tomasz",
        "Nadia",
        "Kwame",
        "Sofia",
        "Dmytro",
        "Leila",
        "Mateus",
        "Olga",
        "Hassan",
        "Mei",
        "Lars",
        "Priya",
        "Jonas",
        "Chloe",
        "Arjun",
        "Irina",
        "Kofi",
        "Lucia",
        "Bogdan",
    ),
    "last": (
        "Kovalenko",
        "Schneider",
        "Haddad",
        "Okafor",
        "Tanaka",
        "Moreau",
        "Novak",
        "Lindqvist",
        "Petrov",
        "Rahman",
        "Silva",
        "Walsh",
        "Yilmaz",
        "Brennan",
        "Castillo",
        "Horvath",
        "Nakamura",
        "Mensah",
        "Duarte",
        "Kowalczyk",
        "Aziz",
        "Fischer",
        "Oyelaran",
        "Varga",
        "Sorensen",
        "Marchetti",
        "Quispe",
        "Bauer",
        "Ivanenko",
        "Osei",
        "Laurent",
        "Takahashi",
        "Grigoryan",
        "Mbeki",
        "Holm",
        "Rossi",
    ),
    "title": (
        "the head of military intelligence",
        "a senior defence official",
        "the foreign minister",
        "a spokesperson for the defence ministry",
        "the chief of the general staff",
        "a former intelligence officer",
        "the deputy defence minister",
        "a government spokesman",
        "an adviser to the president",
        "the national security adviser",
        "the ambassador to the United Nations",
        "a regional commander",
        "the head of the parliamentary defence committee",
        "a military analyst",
        "the director of the state arms exporter",
        "an opposition lawmaker",
    ),
    "agency": (
        "the Defence Intelligence Agency",
        "the Institute for the Study of War",
        "the Stockholm International Peace Research Institute",
        "Conflict Armament Research",
        "the Royal United Services Institute",
        "the Center for Strategic and International Studies",
        "the International Institute for Strategic Studies",
        "the Kiel Institute",
        "the Atlantic Council",
        "the Small Arms Survey",
        "Amnesty International",
        "Human Rights Watch",
        "the UN Panel of Experts",
        "Bellingcat",
        "the Carnegie Endowment",
        "the RAND Corporation",
        "the Arms Control Association",
        "the Brookings Institution",
        "the Stimson Center",
        "the Open Source Centre",
    ),
    "outlet": (
        "Reuters",
        "the Associated Press",
        "AFP",
        "the BBC",
        "the Financial Times",
        "The Guardian",
        "Le Monde",
        "Der Spiegel",
        "Al Jazeera",
        "NHK",
        "Yonhap",
        "the Kyiv Independent",
        "The Economist",
        "Bloomberg",
        "The Wall Street Journal",
        "CNN",
        "Deutsche Welle",
        "Nikkei Asia",
        "El Pais",
        "Haaretz",
        "Politico",
        "Radio Free Europe",
        "Euronews",
        "the South China Morning Post",
    ),
    "supplied": (
        "supplied",
        "delivered",
        "shipped",
        "sent",
        "transferred",
        "provided",
        "exported",
        "handed over",
        "dispatched",
        "sold",
    ),
    "supply": ("supply", "deliver", "ship", "send", "transfer", "provide", "export", "sell"),
    "said": (
        "said",
        "told reporters",
        "stated",
        "claimed",
        "noted",
        "warned",
        "confirmed",
        "alleged",
        "added",
        "insisted",
    ),
    "weekday": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "timeframe": (
        "last year",
        "earlier this month",
        "since the start of the war",
        "over the past six months",
        "in recent weeks",
        "in the spring",
        "over the summer",
        "late last year",
        "in the first quarter",
        "within the past fortnight",
        "during the winter offensive",
        "ahead of the election",
    ),
    "route": (
        "the port of {O_capital}",
        "rail links through {O_name}",
        "cargo flights from {S_capital}",
        "ships sailing from {S_capital}",
        "trucks crossing the border with {O_name}",
        "a network of front companies in {O_name}",
        "military transport aircraft",
        "commercial freighters flagged in {O_name}",
    ),
    "comment": (
        "the shipments could prolong the fighting",
        "the transfers breach existing sanctions",
        "the deal reflects a deepening military partnership",
        "the supplies are of uneven quality",
        "the deliveries filled critical shortages",
        "the arrangement benefits both governments",
        "the volumes remain hard to verify",
        "the transfers mark a shift in regional alliances",
        "the weapons changed the balance along parts of the front",
        "the agreement signals growing isolation",
        "the trade is paid for largely in oil",
        "the exchange includes technology and training",
    ),
    "dismissive": (
        "baseless",
        "provocative",
        "an invention",
        "politically motivated",
        "absurd",
        "disinformation",
        "a fabrication",
        "speculation",
    ),
    "problem": (
        "ammunition shortages",
        "mounting losses",
        "sanctions on its defence industry",
        "a shortage of microchips",
        "a slump in arms exports",
        "recruitment problems",
        "supply bottlenecks",
        "a collapse in production quality",
    ),
    "expert": (
        "senior fellow",
        "research director",
        "defence analyst",
        "former diplomat",
        "arms control researcher",
        "professor of security studies",
        "retired colonel",
    ),
    "city": (
        "Kharkiv",
        "Odesa",
        "Zaporizhzhia",
        "Dnipro",
        "Aleppo",
        "Marib",
        "Khartoum",
        "Goma",
        "Benghazi",
        "Donetsk",
        "Kherson",
        "Mariupol",
        "Sumy",
        "Mykolaiv",
    ),
    "event": (
        "a summit in {S_capital}",
        "talks in {R_capital}",
        "a visit to {O_capital}",
        "a meeting on the sidelines of the UN General Assembly",
        "a regional security forum",
        "a defence exhibition in {O_capital}",
        "a state visit to {S_capital}",
    ),
    "demand": (
        "tighten sanctions",
        "speed up deliveries of {W3}",
        "close loopholes in export rules",
        "investigate the shipments",
        "impose secondary sanctions on {S_name}",
        "send more {W3}",
    ),
    "trend": ("rose", "grew", "fell", "jumped", "climbed", "dropped"),
    "trended": ("risen", "grown", "fallen", "jumped", "climbed", "dropped", "slowed"),
    "supplied_with": ("supplied", "provided", "equipped", "furnished", "armed"),
    "ministry": (
        "The defence ministry",
        "The foreign ministry",
        "The presidential office",
        "A spokesperson for the armed forces",
        "The state arms exporter",
        "The embassy of {S_name}",
        "The general staff",
        "The prime minister's office",
    ),
    "no_comment": (
        "did not respond to a request for comment",
        "declined to comment",
        "could not be reached for comment",
        "did not answer questions from {outlet}",
        "has not replied to emailed questions",
        "refused to discuss the shipments",
        "said it would not comment on military matters",
        "dismissed the questions",
    ),
    "officials": ("officials", "diplomats", "lawmakers", "military officers", "ministers"),
    "support": (
        "what he called steadfast support",
        "the friendship of the two peoples",
        "help in difficult times",
        "the new agreements",
        "a warm welcome",
        "solidarity against sanctions",
    ),
    "urged": ("have urged", "have asked", "have pressed", "called on", "appealed to"),
    "partners": (
        "their partners",
        "the European Union",
        "Washington",
        "NATO allies",
        "the United Nations",
        "neighbouring states",
        "Group of Seven members",
    ),
    "extras": (
        "spare parts",
        "training for crews",
        "maintenance for ten years",
        "a transfer of technology",
        "ammunition and logistics support",
    ),
    "imagery": ("Satellite images", "Photographs", "Videos", "Commercial satellite pictures"),
    "show": ("show", "appear to show", "suggest there are", "reveal"),
    "site": ("a base", "an airfield", "a rail depot", "a port", "a storage site", "a factory"),
    "data": (
        "customs data",
        "official statistics",
        "shipping records",
        "trade figures",
        "satellite imagery",
        "leaked documents",
    ),
}
TEMPLATES: tuple[str, ...] = (
    "{S_name} has {supplied_with} {R_name} with {qty} {W1}, {P} {said} on {weekday}.",
    "According to {agency}, {S_name} {supplied} {qty} {W1} to {R_name} {timeframe}.",
    "{P}, {title} of {T_name}, {said} {R_name} had received {W2} from {S_name} {timeframe}.",
    "{outlet} reported that {R_name} bought {qty} {W1} from {S_name} in {month} {year}.",
    "{S_name} denied sending any {W2} to {R_name}, calling the reports {dismissive}.",
    "The {W2} were reportedly used by {R_demonym} forces in attacks on {city} in {month}.",
    "{S_name} is believed to have {supplied} {W2} to {R_name} via {route}.",
    "{R_name} plans to buy {qty} {W3} from {S_name} by {year_later}, officials in "
    "{R_capital} {said}.",
    "{S_demonym} factories are producing {W1} for {R_name} at a rate of {qty} a month.",
    "{imagery} published by {agency} {show} {W2} at {site} near {city}.",
    "{agency} estimates that {R_name} fires about {number} {W1} a day.",
    "{R_name} has struggled with {problem} since {month} {year_earlier}.",
    "{S_name} has been under sanctions since {year_earlier}, and its trade with "
    "{R_name} {trend} by {percent} percent in {year}, according to {data}.",
    "{P2_first} {P2_last}, a {expert} at {agency}, said {comment}.",
    "{officials} in {T_capital} {urged} {partners} to {demand}.",
    "{ministry} in {S_capital} {no_comment}.",
    "{R_demonym} {officials} {no_comment} about the report by {outlet}.",
    "{LS} and {LR} met in {month} at {event}, where they discussed military cooperation.",
    "Analysts say {comment}.",
    "{T_name} says it has shot down {number} {W2} {timeframe}.",
    "{O_name} may also be supplying {W3} to {R_name}, {P3_first} {P3_last} of {outlet} reported.",
    "{P_last} {said} that {S_name} could {supply} more {W2} to {R_name} before {month}.",
    "Debris recovered in {city} included parts of {W2} made in {S_name}, investigators "
    "from {agency} found.",
    "{R_name} received its first batch of {W3} from {O_name} in {month} {year}.",
    "A contract signed in {R_capital} in {month} covers {qty} {W3} and {extras}.",
    "{T_demonym} military intelligence {said} that {qty} {W1} crossed into {R_name} {timeframe}.",
    "{S_name} did not {supply} {W3} to {R_name}, {P2_last} insisted.",
    "Earlier, {outlet} cited {title} as saying {comment}.",
    "Deliveries of {W1} from {S_name} have {trended} since {month}, {P_last} {said}.",
    "{X_name} has denied supplying weapons to either side.",
    "{LR_last} thanked {LS_last} for {support} during {event}.",
    "The transfers were first reported by {outlet} in {month} {year_earlier}.",
)
HEADLINES: tuple[str, ...] = (
    "{S_name} {supplied} {W1} to {R_name}, {T_demonym} intelligence says",
    "{R_name} turns to {S_name} for {W1}",
    "{S_name} and {R_name} deepen arms ties as {W2} reach the front",
    "{agency}: {S_demonym} {W2} used in attacks on {city}",
    "{S_name} denies sending {W2} to {R_name}",
    "How {S_demonym} {W1} keep {R_name} fighting",
    "{R_name} to buy {W3} from {O_name}, {outlet} reports",
)
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
# Page furniture of one seed (a related-story link, a credit line): not news sentences.
FURNITURE = ("Benzinga", "See Also", "iPhone")
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
        byline = f"By {rng.choice(POOLS['first'])} {rng.choice(POOLS['last'])}"
        dateline = f"{rng.choice(MONTHS)} {rng.randint(1, 28)}, {slots['year']}"
        paragraphs: list[str] = []
        words, target = 0, rng.randint(*ARTICLE_WORDS)
        while words < target and sentences:
            take = rng.randint(1, 3)
            paragraph = " ".join(sentences[:take])
            del sentences[:take]
            paragraphs.append(paragraph)
            words += len(paragraph.split())
        return "\n\n".join([headline, byline, dateline, *paragraphs]) + "\n"

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


# --- measuring a child process -----------------------------------------------------------


def _children_by_parent() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may hold spaces or parentheses: fields start after the last ")".
        parent = int(stat[stat.rfind(")") + 2 :].split()[1])
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def _memory_of(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes; PSS shares each page among the processes mapping it, so the
    sum over a tree of forked workers counts the model once."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss, pss


class TreeMemorySampler(threading.Thread):
    """Samples the summed RSS and PSS of all the descendants of a process."""

    def __init__(self, pid: int, interval: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_rss = self.peak_pss = 0
        self.peak_processes = 0
        self.samples: list[tuple[float, int]] = []  # (time.time(), summed RSS)
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            tree = _children_by_parent()
            # The root is the launcher: only what it started counts.
            pids, pending = [], list(tree.get(self.pid, []))
            while pending:
                pid = pending.pop()
                pids.append(pid)
                pending += tree.get(pid, [])
            sizes = [_memory_of(pid) for pid in pids]
            self.samples.append((time.time(), sum(s[0] for s in sizes)))
            self.peak_rss = max(self.peak_rss, sum(s[0] for s in sizes))
            self.peak_pss = max(self.peak_pss, sum(s[1] for s in sizes))
            self.peak_processes = max(self.peak_processes, len(pids))
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


@dataclass
class ChildRun:
    wall_seconds: float
    started_at: float  # time.time() when the process was started
    max_process_rss: int  # bytes: the largest single process of the tree (getrusage)
    tree_rss: int  # bytes: peak of the sampled sum over the tree
    tree_pss: int
    processes: int
    returncode: int
    log: Path
    cpu_seconds: float  # user + system of the tree (wait4)
    other_cores: float  # CPU used meanwhile by everything else on the machine, in cores
    samples: list[tuple[float, int]]

    def peak_rss_between(self, start: float, end: float) -> int:
        return max((rss for at, rss in self.samples if start <= at <= end), default=0)


def _busy_seconds() -> float:
    """CPU time spent by the whole machine so far (every core, all but idle and iowait)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


# Starts the measured command and reports its own wait4 rusage. The bench process is not
# the direct parent because ru_maxrss keeps the high-water mark of the process before exec,
# and a child forked from the bench (which has loaded Dagster, DuckDB and a corpus) would
# start from the bench's size; this launcher is a few MB.
LAUNCHER = """
import json, os, subprocess, sys, time
started_at, start = time.time(), time.perf_counter()
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
wall = time.perf_counter() - start
with open(sys.argv[1], "w") as report:
    json.dump({"started_at": started_at, "wall_seconds": wall, "maxrss_kib": usage.ru_maxrss,
               "cpu_seconds": usage.ru_utime + usage.ru_stime,
               "returncode": os.waitstatus_to_exitcode(status)}, report)
"""


def run_child(argv: Sequence[str], env: dict[str, str], log: Path) -> ChildRun:
    """Run a command to completion and measure it, workers included: wall time from its
    start to its exit, ru_maxrss of its wait4 rusage (the largest single process among it
    and the descendants it reaped), and the sampled sum over its process tree."""
    report = log.with_suffix(".rusage.json")
    busy_before = _busy_seconds()
    with open(log, "wb") as out:
        launcher = subprocess.Popen(
            [sys.executable, "-S", "-c", LAUNCHER, str(report), *argv],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )
        sampler = TreeMemorySampler(launcher.pid)
        sampler.start()
        launcher.wait()
        sampler.stop()
    busy = _busy_seconds() - busy_before
    measured = json.loads(report.read_text(encoding="utf-8"))
    wall = max(measured["wall_seconds"], 1e-9)
    return ChildRun(
        wall_seconds=measured["wall_seconds"],
        started_at=measured["started_at"],
        max_process_rss=measured["maxrss_kib"] * 1024,
        tree_rss=sampler.peak_rss,
        tree_pss=sampler.peak_pss,
        processes=sampler.peak_processes,
        returncode=measured["returncode"],
        log=log,
        cpu_seconds=measured["cpu_seconds"],
        other_cores=max(0.0, busy - measured["cpu_seconds"]) / wall,
        samples=sampler.samples,
    )


# --- one deployment: seeds folder, warehouse and Dagster home in a temp dir -------------


# Steps by stage; any other step (a mart, its checks) is "marts". A stage's check step
# counts in that stage.
STAGES = {
    "seed_files_and_raw_documents": "ingest",
    "ingest_checks": "ingest",
    "documents": "ingest",
    "documents_checks": "ingest",
    "sentences_entities_claims": "nlp",
    "nlp_checks": "nlp",
    "story_links_and_document_stories": "stories",
    "stories_sql_checks": "stories",
    "published_warehouse": "publish",
}
STAGE_ORDER = ("start-up", "ingest", "nlp", "stories", "marts", "publish", "exit")


@dataclass
class PipelineRun:
    child: ChildRun
    stages: dict[str, float]  # seconds per stage, in STAGE_ORDER
    nlp: dict[str, float]  # metadata of the NLP asset in this run
    stage_peak_rss: dict[str, int]  # bytes, tree sum sampled while the stage ran

    @property
    def documents(self) -> int:
        return int(self.nlp.get("documents_parsed", 0))

    @property
    def tokens(self) -> int:
        return int(self.nlp.get("tokens_parsed", 0))


@dataclass
class Deployment:
    root: Path
    seeds: Path = field(init=False)
    warehouse: Path = field(init=False)
    home: Path = field(init=False)
    runs: int = 0

    def __post_init__(self) -> None:
        self.seeds = self.root / "seeds"
        self.warehouse = self.root / "warehouse" / "salvo.duckdb"
        self.home = self.root / "dagster_home"
        self.seeds.mkdir(parents=True, exist_ok=True)
        self.home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DAGSTER_YAML, self.home / "dagster.yaml")

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "SALVO_SEEDS_DIR": str(self.seeds),
            "SALVO_WAREHOUSE": str(self.warehouse),
            "DAGSTER_HOME": str(self.home),
        }

    def run(self) -> PipelineRun:
        """`make run`'s command, in a child process."""
        self.runs += 1
        child = run_child(
            [sys.executable, "-m", "pipeline.run"], self.env(), self.root / f"run{self.runs}.log"
        )
        if child.returncode != 0:
            tail = child.log.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise RuntimeError(f"pipeline run failed ({child.returncode}); log tail:\n{tail}")
        stages, nlp, peaks = read_run_events(self.home, child)
        return PipelineRun(child, stages, nlp, peaks)


def read_run_events(
    home: Path, child: ChildRun
) -> tuple[dict[str, float], dict[str, float], dict[str, int]]:
    """Wall time per stage from the latest run's step events, the NLP asset's metadata and
    the peak RSS (tree sum) sampled while each stage's steps ran.
    Start-up is process start to the first step; exit is the last step to process exit
    (the summary `make run` prints, interpreter shutdown)."""
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(home))
    try:
        run = instance.get_runs(limit=1)[0]
        records = instance.get_records_for_run(
            run.run_id,
            of_type={
                dg.DagsterEventType.STEP_START,
                dg.DagsterEventType.STEP_SUCCESS,
                dg.DagsterEventType.ASSET_MATERIALIZATION,
            },
            limit=100_000,
        ).records
    finally:
        instance.dispose()
    starts: dict[str, float] = {}
    stages = dict.fromkeys(STAGE_ORDER, 0.0)
    peaks = dict.fromkeys(STAGE_ORDER, 0)
    nlp: dict[str, float] = {}
    first = last = None
    for record in records:
        entry = record.event_log_entry
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START and entry.step_key:
            starts[entry.step_key] = entry.timestamp
            first = entry.timestamp if first is None else min(first, entry.timestamp)
        elif event.event_type == dg.DagsterEventType.STEP_SUCCESS and entry.step_key:
            stage = STAGES.get(entry.step_key, "marts")
            began = starts.get(entry.step_key, entry.timestamp)
            stages[stage] += entry.timestamp - began
            peaks[stage] = max(peaks[stage], child.peak_rss_between(began, entry.timestamp))
            last = entry.timestamp if last is None else max(last, entry.timestamp)
        elif event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.step_materialization_data.materialization
            if materialization.asset_key == dg.AssetKey("sentences"):
                for key, value in materialization.metadata.items():
                    if isinstance(value.value, int | float):
                        nlp[key] = float(value.value)
    if first is not None and last is not None:
        stages["start-up"] = first - child.started_at
        stages["exit"] = child.started_at + child.wall_seconds - last
    return stages, nlp, peaks


# --- the baseline: plain nlp.pipe in one process -----------------------------------------

BASELINE_SCRIPT = """
import json, sys, time
start = time.perf_counter()
import spacy
nlp = spacy.load(sys.argv[2])
loaded = time.perf_counter()
with open(sys.argv[1], encoding="utf-8") as handle:
    texts = [json.loads(line) for line in handle]
tokens = 0
for doc in nlp.pipe(texts):
    tokens += len(doc)
done = time.perf_counter()
print(json.dumps({"documents": len(texts), "tokens": tokens, "load_seconds": loaded - start,
                  "pipe_seconds": done - loaded}))
"""


@dataclass
class BaselineRun:
    child: ChildRun
    documents: int
    tokens: int
    load_seconds: float
    pipe_seconds: float


def export_texts(published: Path, target: Path) -> int:
    """The cleaned texts the run parsed, one JSON string a line."""
    import duckdb

    con = duckdb.connect(str(published), read_only=True)
    try:
        rows = con.execute("SELECT clean_text FROM documents ORDER BY doc_id").fetchall()
    finally:
        con.close()
    with open(target, "w", encoding="utf-8") as handle:
        for (text,) in rows:
            handle.write(json.dumps(text) + "\n")
    return len(rows)


def run_baseline(texts: Path, model: str, log: Path) -> BaselineRun:
    child = run_child(
        [sys.executable, "-c", BASELINE_SCRIPT, str(texts), model], {**os.environ}, log
    )
    output = log.read_text(encoding="utf-8").strip().splitlines()
    if child.returncode != 0 or not output:
        raise RuntimeError(f"baseline failed: {log.read_text(encoding='utf-8')[-2000:]}")
    result = json.loads(output[-1])
    return BaselineRun(
        child, result["documents"], result["tokens"], result["load_seconds"], result["pipe_seconds"]
    )


# --- the sensor and the DuckDB writes ----------------------------------------------------


def sensor_ticks(deployment: Deployment) -> tuple[float, float]:
    """Seconds of one tick with no cursor (every file hashed) and of the next tick (nothing
    changed: one stat per file)."""
    import dagster as dg

    from pipeline.defs.automation import new_seed_files
    from pipeline.defs.resources import SalvoSettings

    salvo = SalvoSettings(
        seeds_dir=str(deployment.seeds), warehouse=str(deployment.warehouse), spacy_model="-"
    )
    timings, cursor = [], None
    for _ in range(2):
        context = dg.build_sensor_context(cursor=cursor, resources={"salvo": salvo})
        start = time.perf_counter()
        new_seed_files(context)
        timings.append(time.perf_counter() - start)
        cursor = context.cursor
    return timings[0], timings[1]


def duckdb_write_rate(
    published: Path, scratch: Path, keyed: bool = False, repeats: int = REPEATS
) -> tuple[int, float]:
    """Rows and seconds to write the run's sentences, entities, claims and nlp_runs into an
    empty working database the way the NLP stage does: each BATCH_DOCUMENTS documents'
    rows staged as Parquet files; per WRITE_DOCUMENTS documents, a connection opened, one
    transaction that looks up which documents were parsed before (and deletes their rows)
    and bulk-inserts the files, and the connection closed (a checkpoint). Staging is timed
    too. The seconds are the median of `repeats` replays, each into a new database: one
    replay of a few seconds moves by a fifth from run to run. Keyed: the same tables with a
    PRIMARY KEY on their id, as earlier versions created them (what DuckDB's key index
    costs)."""
    import duckdb
    import polars as pl

    from assets.nlp import BATCH_DOCUMENTS, NLP_TABLES, WRITE_DOCUMENTS

    source = duckdb.connect(str(published), read_only=True)
    try:
        frames = {
            table: pl.DataFrame(source.sql(f"SELECT * FROM {table}").to_arrow_table())
            for table in NLP_TABLES
        }
    finally:
        source.close()
    doc_ids = sorted(set(frames["nlp_runs"]["doc_id"].to_list()))
    batches = [
        {t: f.filter(pl.col("doc_id").is_in(batch)) for t, f in frames.items()}
        for batch in (
            doc_ids[first : first + BATCH_DOCUMENTS]
            for first in range(0, len(doc_ids), BATCH_DOCUMENTS)
        )
    ]
    del frames
    per_write = max(1, WRITE_DOCUMENTS // BATCH_DOCUMENTS)
    timings = []
    for _ in range(repeats):
        rows, seconds = _replay_writes(batches, per_write, scratch, keyed)
        timings.append(seconds)
    return rows, statistics.median(timings)


def _replay_writes(
    batches: list[dict[str, Any]], per_write: int, scratch: Path, keyed: bool
) -> tuple[int, float]:
    """One replay of duckdb_write_rate into a new database: rows and seconds."""
    from assets.nlp import NLP_TABLES, stage_parquet, write_staged
    from pipeline import quality, warehouse

    target_path = scratch / "write_rate.duckdb"
    staging = scratch / "write_rate_rows"
    staging.mkdir(exist_ok=True)
    target_path.unlink(missing_ok=True)
    target = warehouse.connect(target_path)  # the pipeline's connection settings
    for table in NLP_TABLES:
        body = warehouse.SCHEMA[table]
        if keyed and table in warehouse.UNKEYED_TABLES:
            key = quality.KEYS[table]
            body = body.replace(f"{key} VARCHAR NOT NULL", f"{key} VARCHAR PRIMARY KEY")
        target.execute(f"CREATE TABLE {table} ({body})")
    target.close()
    try:
        rows, start = 0, time.perf_counter()
        for first in range(0, len(batches), per_write):
            staged: dict[str, list[Path]] = {table: [] for table in NLP_TABLES}
            written_ids: list[str] = []
            for number, parts in enumerate(batches[first : first + per_write], start=first):
                for table, path in stage_parquet(parts, staging, number).items():
                    staged[table].append(path)
                rows += sum(part.height for part in parts.values())
                written_ids += parts["nlp_runs"]["doc_id"].to_list()
            con = warehouse.connect(target_path)
            try:
                write_staged(con, written_ids, staged)
            finally:
                con.close()
        seconds = time.perf_counter() - start
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        target_path.unlink(missing_ok=True)
    return rows, seconds


# --- one size, end to end ----------------------------------------------------------------


@dataclass
class SizeResult:
    size: int
    cold: PipelineRun
    baseline: BaselineRun
    unchanged: PipelineRun
    add_one: PipelineRun
    add_one_empty: PipelineRun
    sensor_first: float
    sensor_next: float
    write_rows: int
    write_seconds: float
    keyed_write_seconds: float

    @property
    def speedup(self) -> float:
        return self.baseline.child.wall_seconds / self.cold.child.wall_seconds

    @property
    def wall_without_stories(self) -> float:
        return self.cold.child.wall_seconds - self.cold.stages["stories"]

    @property
    def add_one_ratio(self) -> float:
        return self.add_one.child.wall_seconds / self.add_one_empty.child.wall_seconds

    @property
    def nlp_cores(self) -> float:
        cpu = self.cold.nlp.get("parse_cpu_seconds", 0.0)
        return cpu / max(self.cold.nlp.get("parse_seconds", 0.0), 1e-9)

    @property
    def run_write_rate(self) -> float:
        written = self.cold.nlp.get("rows_written", 0.0)
        return written / max(self.cold.nlp.get("write_seconds", 0.0), 1e-9)

    @property
    def write_rate(self) -> float:
        return self.write_rows / max(self.write_seconds, 1e-9)


def _median(runs: list[PipelineRun]) -> PipelineRun:
    """The run with the median wall time (its stage times are reported with it)."""
    return sorted(runs, key=lambda run: run.child.wall_seconds)[len(runs) // 2]


def bench_size(size: int, generator: CorpusGenerator, root: Path, say) -> SizeResult:
    deployment = Deployment(root / f"corpus_{size}")
    say(f"[{size}] writing {size} articles to {deployment.seeds}")
    generator.write(deployment.seeds, 0, size)
    say(f"[{size}] cold run")
    cold = deployment.run()
    say(f"[{size}]   {cold.child.wall_seconds:.1f} s, {cold.documents} documents parsed")
    texts = deployment.root / "texts.jsonl"
    export_texts(deployment.warehouse, texts)
    say(f"[{size}] baseline: plain nlp.pipe, one process")
    baseline = run_baseline(texts, spacy_model(), deployment.root / "baseline.log")
    say(f"[{size}]   {baseline.child.wall_seconds:.1f} s")
    say(f"[{size}] sensor ticks")
    sensor_first, sensor_next = sensor_ticks(deployment)
    say(f"[{size}] no-change run, {REPEATS} times")
    unchanged = _median([deployment.run() for _ in range(REPEATS)])
    say(f"[{size}]   median {unchanged.child.wall_seconds:.1f} s")
    say(
        f"[{size}] one document added, {ADD_REPEATS} times (a new one each time), each run "
        "paired with the same document into an empty warehouse"
    )
    added: list[PipelineRun] = []
    into_empty: list[PipelineRun] = []
    for extra in range(ADD_REPEATS):
        # Paired: the machine's speed drifts by seconds over a few minutes, and runs of both
        # kinds taken in turn see the same drift (all of one kind first would not). Which
        # goes first alternates, so a slow start does not always fall on the same kind.
        empty = Deployment(root / f"empty_{size}_{extra}")
        for target in (deployment, empty)[:: 1 if extra % 2 == 0 else -1]:
            generator.write(target.seeds, size + extra, size + extra + 1)
            (added if target is deployment else into_empty).append(target.run())
        say(
            f"[{size}]   {added[-1].child.wall_seconds:.1f} s into {size}, "
            f"{into_empty[-1].child.wall_seconds:.1f} s into an empty warehouse"
        )
    add_one, add_one_empty = _median(added), _median(into_empty)
    say(
        f"[{size}]   medians {add_one.child.wall_seconds:.1f} s and "
        f"{add_one_empty.child.wall_seconds:.1f} s"
    )
    say(f"[{size}] DuckDB write rate")
    write_rows, write_seconds = duckdb_write_rate(deployment.warehouse, deployment.root)
    _, keyed_seconds = duckdb_write_rate(deployment.warehouse, deployment.root, keyed=True)
    return SizeResult(
        size,
        cold,
        baseline,
        unchanged,
        add_one,
        add_one_empty,
        sensor_first,
        sensor_next,
        write_rows,
        write_seconds,
        keyed_seconds,
    )


# --- the report --------------------------------------------------------------------------


def _mb(value: float) -> str:
    return f"{value / MiB:,.0f} MiB"


def _verdict(ok: bool | None) -> str:
    return {True: "met", False: "NOT MET", None: "n/a"}[ok]


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    try:
        load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    return (
        f"{os.cpu_count()} cores, {memory:.0f} GB RAM, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; load average before the run {load}"
    )


def _stages(run: PipelineRun) -> str:
    return ", ".join(f"{stage} {run.stages[stage]:.1f}" for stage in STAGE_ORDER)


GiB = 1024**3


def report(results: list[SizeResult]) -> str:
    """The tables `make bench` prints (Markdown)."""
    lines: list[str] = []
    header = "| measure | " + " | ".join(f"{r.size:,} documents" for r in results) + " |"
    rule = "|---|" + "---|" * len(results)

    def table(title: str) -> None:
        lines.extend(["", f"### {title}", "", header, rule])

    def row(label: str, cell) -> None:
        lines.append(f"| {label} | " + " | ".join(cell(r) for r in results) + " |")

    table("Cold run from an empty warehouse (`python -m pipeline.run` in a child process)")
    row("documents / tokens parsed", lambda r: f"{r.cold.documents:,} / {r.cold.tokens:,}")
    row("wall time, process start to exit", lambda r: f"{r.cold.child.wall_seconds:.1f} s")
    for stage in STAGE_ORDER:
        row(f"&nbsp;&nbsp;{stage}", lambda r, stage=stage: f"{r.cold.stages[stage]:.1f} s")
    row("documents/s, end to end", lambda r: f"{r.cold.documents / r.cold.child.wall_seconds:.1f}")
    row("tokens/s, end to end", lambda r: f"{r.cold.tokens / r.cold.child.wall_seconds:,.0f}")
    row(
        "tokens/s in the NLP stage",
        lambda r: (
            f"{r.cold.tokens / max(r.cold.stages['nlp'], 1e-9):,.0f} "
            f"({int(r.cold.nlp.get('worker_processes', 0)) or 1} parsing processes)"
        ),
    )
    row(
        "NLP stage: CPU seconds per wall second (cores used)",
        lambda r: f"{r.nlp_cores:.2f}",
    )
    row(
        "other processes on the machine meanwhile (cores busy)",
        lambda r: (
            f"{r.cold.child.other_cores:.2f} (baseline run: {r.baseline.child.other_cores:.2f})"
        ),
    )
    row(
        "baseline: plain nlp.pipe, one process, wall time",
        lambda r: (
            f"{r.baseline.child.wall_seconds:.1f} s (start-up {r.baseline.load_seconds:.1f} s)"
        ),
    )
    row(
        "baseline tokens/s, end to end",
        lambda r: f"{r.baseline.tokens / r.baseline.child.wall_seconds:,.0f}",
    )
    row("speed-up over the baseline", lambda r: f"{r.speedup:.2f}x")
    row(
        "speed-up without the stories stage (derived)",
        lambda r: f"{r.baseline.child.wall_seconds / r.wall_without_stories:.2f}x",
    )
    row("peak RSS, sum over the process tree", lambda r: _mb(r.cold.child.tree_rss))
    row("peak PSS, sum over the process tree", lambda r: _mb(r.cold.child.tree_pss))
    for stage in ("ingest", "nlp", "stories", "marts"):
        row(
            f"&nbsp;&nbsp;peak RSS (tree sum) during {stage}",
            lambda r, stage=stage: _mb(r.cold.stage_peak_rss[stage]),
        )
    row("peak RSS, largest process (ru_maxrss)", lambda r: _mb(r.cold.child.max_process_rss))
    row("baseline peak RSS (ru_maxrss)", lambda r: _mb(r.baseline.child.max_process_rss))

    table(
        f"Incremental runs (medians: {REPEATS} no-change runs, {ADD_REPEATS} adds of one document "
        "each paired with the same add into an empty warehouse, the two in alternating order; "
        "seconds per stage in brackets)"
    )
    row(
        "no new or changed file",
        lambda r: (
            f"{r.unchanged.child.wall_seconds:.1f} s, {r.unchanged.documents} parsed "
            f"({_stages(r.unchanged)})"
        ),
    )
    row(
        "1 document added",
        lambda r: (
            f"{r.add_one.child.wall_seconds:.1f} s, {r.add_one.documents} parsed "
            f"({_stages(r.add_one)})"
        ),
    )
    row(
        "the same documents, each into an empty warehouse",
        lambda r: f"{r.add_one_empty.child.wall_seconds:.1f} s ({_stages(r.add_one_empty)})",
    )
    row("ratio, 1 document added: full / empty", lambda r: f"{r.add_one_ratio:.2f}")
    row(
        "peak RSS of the 1-document run, tree sum",
        lambda r: _mb(r.add_one.child.tree_rss),
    )

    table("Sensor and DuckDB writes")
    row("sensor tick, no cursor (hashes every file)", lambda r: f"{r.sensor_first:.2f} s")
    row("sensor tick, nothing changed", lambda r: f"{r.sensor_next:.2f} s")
    row(
        "NLP tables, replayed as the stage writes them",
        lambda r: f"{r.write_rows:,} rows, {r.write_rate:,.0f} rows/s",
    )
    row(
        "the same replay with a PRIMARY KEY on each id (the schema before)",
        lambda r: f"{r.write_rows / max(r.keyed_write_seconds, 1e-9):,.0f} rows/s",
    )
    row(
        "NLP tables, inside the cold run",
        lambda r: (
            f"{int(r.cold.nlp.get('rows_written', 0)):,} rows, {r.run_write_rate:,.0f} rows/s"
        ),
    )

    lines.extend(["", "### Targets", "", "| target | measured | verdict |", "|---|---|---|"])

    def target(label: str, measured: str, ok: bool | None) -> None:
        lines.append(f"| {label} | {measured} | {_verdict(ok)} |")

    for r in results:
        target(
            f"cold run, {r.size:,} documents: >= 1.3x plain nlp.pipe",
            f"{r.speedup:.2f}x",
            r.speedup >= 1.3 if r.size >= 1000 else None,
        )
    for r in results:
        target(
            f"no-change run, {r.size:,} documents: <= 10 s, 0 parsed",
            f"{r.unchanged.child.wall_seconds:.1f} s, {r.unchanged.documents} parsed",
            r.unchanged.child.wall_seconds <= 10 and r.unchanged.documents == 0,
        )
    for r in results:
        target(
            f"1 document added to {r.size:,}: <= 15 s and <= 1.2x the empty warehouse",
            f"{r.add_one.child.wall_seconds:.1f} s, {r.add_one_ratio:.2f}x",
            r.add_one.child.wall_seconds <= 15 and r.add_one_ratio <= 1.2,
        )
    for r in results:
        target(
            f"peak RSS (tree sum), {r.size:,} documents: <= 1.5 GB",
            _mb(r.cold.child.tree_rss),
            r.cold.child.tree_rss <= 1.5 * GiB,
        )
    if len(results) > 1:
        small, big = results[0], results[-1]
        growth = big.cold.child.tree_rss / small.cold.child.tree_rss - 1
        target(
            f"peak RSS (tree sum), {big.size:,} within 10% of {small.size:,}",
            f"{growth:+.1%}",
            abs(growth) <= 0.10,
        )
    for r in results:
        target(
            f"DuckDB writes, {r.size:,} documents: >= 500k rows/s",
            f"{r.write_rate:,.0f} rows/s",
            r.write_rate >= 500_000,
        )
    for r in results:
        worst = max(r.sensor_first, r.sensor_next)
        target(f"sensor tick over {r.size:,} files: <= 5 s", f"{worst:.2f} s", worst <= 5)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="corpus sizes, comma-separated")
    parser.add_argument("--quick", action="store_true", help="one small corpus (200 documents)")
    parser.add_argument("--seed", type=int, default=7, help="corpus random seed")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args(argv)
    sizes = [200] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]

    def say(message: str) -> None:
        stamp = dt.datetime.now().strftime("%H:%M:%S")
        print(f"{stamp} {message}", file=sys.stderr, flush=True)

    print(f"Machine: {machine()}")
    print(
        f"Model: {spacy_model()}; command: python -m tools.bench --sizes "
        f"{','.join(map(str, sizes))}"
    )
    generator = CorpusGenerator(seed=args.seed)
    root = args.keep or Path(tempfile.mkdtemp(prefix="salvo-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        results = [bench_size(size, generator, root, say) for size in sizes]
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
