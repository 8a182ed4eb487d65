"""Load the user-editable lexicon files in `pipeline/lexicon/` into plain values.

The files are CSV with a header row; lines starting with `#` are comments. Nothing here
knows about spaCy: `language.py` turns these values into span-ruler patterns.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

LEXICON_DIR = Path(__file__).resolve().parent.parent / "lexicon"

WEAPON_CLASSES = frozenset(
    {
        "artillery_ammunition",
        "artillery_system",
        "ballistic_missile",
        "cruise_missile",
        "missile",
        "drone",
        "air_defense",
        "tank",
        "armored_vehicle",
        "rocket_launcher",
        "glide_bomb",
        "small_arms",
        "aircraft",
        "military_technology",
        "weapons_general",
        "troops",
        "other",
    }
)
# A stop phrase ("think tank", "arms control", "Washington Post") wins the longest-match
# contest against the weapon or actor word inside it and is then dropped, so the shorter word
# never fires there.
STOP_CLASS = "none"


@dataclass(frozen=True)
class Alias:
    code: str  # actor code, weapon class, or cue type
    text: str
    kind: str
    exact: bool  # match case-sensitively (ORTH) instead of on LOWER


@dataclass(frozen=True)
class Lexicon:
    actors: tuple[Alias, ...]
    weapons: tuple[Alias, ...]
    actor_names: dict[str, str]  # actor_code -> display name
    actor_types: dict[str, str]  # actor_code -> state | non_state | alliance | organisation
    triggers: dict[tuple[str, str], tuple[str, str]]  # (lemma, pos) -> (relation, subject_role)
    hedged_triggers: frozenset[tuple[str, str]]  # triggers that only promise a transfer
    implied_weapons: dict[tuple[str, str], str]  # triggers that name a weapon class themselves
    cues: dict[str, frozenset[str]]  # cue type -> lower-case words or phrases
    version: str  # content hash of every file: a changed lexicon re-extracts documents
    # Words that name a weapon class only as what a trigger passes on ("provided Pyongyang
    # with technology"): lower-case text -> class. They are never mentions of their own.
    argument_weapons: dict[str, str] = field(default_factory=dict)


def _rows(path: Path) -> list[dict[str, str]]:
    """Read a commented CSV into dicts with stripped values; a clear error names the file."""
    lines = [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    rows = []
    for number, row in enumerate(reader, start=2):
        if None in row or any(v is None for v in row.values()):
            raise ValueError(f"{path.name}: row {number} has the wrong number of fields: {row}")
        rows.append({k.strip(): (v or "").strip() for k, v in row.items()})
    return rows


def _expand_templates(
    actors: list[Alias], templates: list[dict[str, str]], types: dict[str, str]
) -> list[Alias]:
    names: dict[str, list[str]] = {}
    demonyms: dict[str, list[str]] = {}
    for alias in actors:
        if types.get(alias.code) != "state":
            continue
        if alias.kind == "state":
            names.setdefault(alias.code, []).append(alias.text)
        elif alias.kind == "demonym":
            demonyms.setdefault(alias.code, []).append(alias.text)
    exact_aliases = {(a.code, a.text) for a in actors if a.exact}
    expanded = []
    for template in templates:
        pattern, kind = template["template"], template["kind"]
        slot, pool = ("{name}", names) if "{name}" in pattern else ("{demonym}", demonyms)
        for code, fillers in pool.items():
            for filler in fillers:
                exact = (code, filler) in exact_aliases
                expanded.append(Alias(code, pattern.replace(slot, filler), kind, exact))
    return expanded


def _curly(aliases: list[Alias]) -> list[Alias]:
    return [
        Alias(a.code, a.text.replace("'", "\u2019"), a.kind, a.exact)
        for a in aliases
        if "'" in a.text
    ]


@lru_cache(maxsize=4)
def load_lexicon(directory: Path = LEXICON_DIR) -> Lexicon:
    """Read every lexicon file once per process."""
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.csv")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())

    codes = _rows(directory / "actor_codes.csv")
    actor_names = {r["actor_code"]: r["name"] for r in codes}
    actor_types = {r["actor_code"]: r["type"] for r in codes}

    actors = []
    for row in _rows(directory / "actors.csv"):
        if row["actor_code"] not in actor_names and row["actor_code"] != STOP_CLASS:
            raise ValueError(f"actors.csv: unknown actor_code {row['actor_code']!r}")
        actors.append(
            Alias(row["actor_code"], row["alias"], row["kind"], row.get("match") == "exact")
        )
    templates_path = directory / "actor_templates.csv"
    if templates_path.exists():
        actors += _expand_templates(actors, _rows(templates_path), actor_types)

    weapons = []
    argument_weapons: dict[str, str] = {}
    for row in _rows(directory / "weapons.csv"):
        if row["weapon_class"] not in WEAPON_CLASSES | {STOP_CLASS}:
            raise ValueError(f"weapons.csv: unknown weapon_class {row['weapon_class']!r}")
        if row["kind"] == "argument":
            argument_weapons[row["alias"].lower()] = row["weapon_class"]
            continue
        weapons.append(
            Alias(row["weapon_class"], row["alias"], row["kind"], row.get("match") == "exact")
        )

    # A designation that ends in a digit is also written with a plural s ("three M270s",
    # "KN-23s"), one token to the tokenizer: each gets that spelling too.
    spelled = {(w.code, w.text) for w in weapons}
    weapons += [
        Alias(w.code, w.text + "s", w.kind, w.exact)
        for w in list(weapons)
        if w.kind == "system" and w.text[-1].isdigit() and (w.code, w.text + "s") not in spelled
    ]

    # Stored texts keep the typographic apostrophe most outlets print ("Korean People’s
    # Army"): each name written with a straight one is also matched with it.
    actors += _curly(actors)
    weapons += _curly(weapons)

    triggers = {}
    hedged_triggers = set()
    implied_weapons: dict[tuple[str, str], str] = {}
    for row in _rows(directory / "triggers.csv"):
        key = (row["lemma"].lower(), row["pos"].upper())
        triggers[key] = (row["relation"], row["role"])
        if row.get("hedged") == "yes":
            hedged_triggers.add(key)
        if row.get("implied_weapon"):
            implied_weapons[key] = row["implied_weapon"]

    cues: dict[str, set[str]] = {}
    for row in _rows(directory / "cues.csv"):
        cues.setdefault(row["type"], set()).add(row["cue"].lower())

    return Lexicon(
        actors=tuple(actors),
        weapons=tuple(weapons),
        actor_names=actor_names,
        actor_types=actor_types,
        triggers=triggers,
        hedged_triggers=frozenset(hedged_triggers),
        implied_weapons=implied_weapons,
        argument_weapons=argument_weapons,
        cues={k: frozenset(v) for k, v in cues.items()},
        version=digest.hexdigest()[:12],
    )
