"""Named weapon systems: one canonical name and an origin per system alias."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import schema
from pipeline.nlp.lexicon import LEXICON_DIR, _rows
from pipeline.nlp.systems import load_systems, name_systems

SMALL = """# test systems
alias,system,origin
KN-23,KN-23,PRK
KN-23s,KN-23,PRK
Hwasong-11A,KN-23,PRK
Geran-2,Shahed-136 (Geran-2),IRN
Shahed-136,Shahed-136 (Geran-2),IRN
Storm Shadow,Storm Shadow / SCALP-EG,GBR
NASAMS,NASAMS,
"""


@pytest.fixture
def systems(tmp_path: Path):
    path = tmp_path / "weapon_systems.csv"
    path.write_text(SMALL, encoding="utf-8")
    return load_systems(path)


@pytest.mark.parametrize(
    ("words", "system", "origin"),
    [
        ("two KN-23 missiles", "KN-23", "PRK"),
        ("the KN-23s", "KN-23", "PRK"),
        ("Hwasong-11A ballistic missiles", "KN-23", "PRK"),
        ("Russian-made Geran-2 drones", "Shahed-136 (Geran-2)", "IRN"),
        ("storm shadow missiles", "Storm Shadow / SCALP-EG", "GBR"),
        ("a NASAMS battery", "NASAMS", None),
        ("artillery shells", None, None),
        ("KN-235 rockets", None, None),  # a longer name is not the system
    ],
)
def test_weapon_words_name_their_system_and_its_origin(systems, words, system, origin):
    found = systems.find(words)
    assert (found.name if found else None, found.origin if found else None) == (system, origin)


def test_claims_and_weapon_mentions_get_their_system(systems):
    claims = schema.frame(
        "claims",
        [
            {
                "claim_id": "c1",
                "doc_id": "d",
                "sentence_id": "s",
                "relation": "use",
                "weapon_class": "drone",
                "weapon_text": "Shahed-136 drones",
                "hedged": False,
                "negated": False,
                "extractor_version": "v",
            },
            {
                "claim_id": "c2",
                "doc_id": "d",
                "sentence_id": "s",
                "relation": "supply",
                "weapon_class": "artillery_ammunition",
                "weapon_text": "shells",
                "hedged": False,
                "negated": False,
                "extractor_version": "v",
            },
        ],
    )
    entities = schema.frame(
        "entities",
        [
            {
                "mention_id": "m1",
                "doc_id": "d",
                "sentence_id": "s",
                "start_char": 0,
                "end_char": 5,
                "text": "KN-23",
                "label": "WEAPON",
                "source": "lexicon",
            },
            {
                "mention_id": "m2",
                "doc_id": "d",
                "sentence_id": "s",
                "start_char": 9,
                "end_char": 14,
                "text": "KN-23",
                "label": "ORG",
                "source": "ner",
            },
        ],
    )
    claims, entities = name_systems(claims, entities, systems)
    assert claims.select("weapon_system", "system_origin").rows() == [
        ("Shahed-136 (Geran-2)", "IRN"),
        (None, None),
    ]
    assert entities["weapon_system"].to_list() == ["KN-23", None]


def test_every_system_alias_of_the_lexicon_names_a_system():
    """A system added to weapons.csv needs its row in weapon_systems.csv."""
    aliases = {r["alias"] for r in _rows(LEXICON_DIR / "weapons.csv") if r["kind"] == "system"}
    mapped = {r["alias"] for r in _rows(LEXICON_DIR / "weapon_systems.csv")}
    assert sorted(aliases - mapped) == []
    codes = {r["actor_code"] for r in _rows(LEXICON_DIR / "actor_codes.csv")}
    origins = {r["origin"] for r in _rows(LEXICON_DIR / "weapon_systems.csv")} - {""}
    assert sorted(origins - codes) == []


def test_a_designations_plural_names_the_same_system():
    from pipeline.nlp.systems import load_systems

    systems = load_systems()
    assert systems.find("three KN-23s") == systems.find("a KN-23")
    assert systems.find("three KN-23s") is not None
