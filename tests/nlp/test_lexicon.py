"""The rule layer: lexicon files become ACTOR and WEAPON mentions with their codes."""

from __future__ import annotations

import pytest

from pipeline.nlp.common import ACTOR_KEY, WEAPON_KEY
from pipeline.nlp.lexicon import WEAPON_CLASSES, load_lexicon


def actors(nlp, text: str) -> list[tuple[str, str]]:
    doc = nlp(text)
    return [(s.text, s.id_) for s in doc.spans[ACTOR_KEY]]


def weapons(nlp, text: str) -> list[tuple[str, str]]:
    doc = nlp(text)
    return [(s.text, s.id_) for s in doc.spans[WEAPON_KEY]]


def test_every_code_in_the_files_is_known():
    lexicon = load_lexicon()
    assert {a.code for a in lexicon.actors} <= set(lexicon.actor_names) | {"none"}
    assert {w.code for w in lexicon.weapons} <= WEAPON_CLASSES | {"none"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Shells went from russia to the front.", [("russia", "RUS")]),
        ("The russian army fired back.", [("russian army", "RUS")]),
        ("The Kremlin said nothing.", [("Kremlin", "RUS")]),
        ("Pyongyang and Moscow signed a pact.", [("Pyongyang", "PRK"), ("Moscow", "RUS")]),
        ("NORTH KOREA SENDS SHELLS", [("NORTH KOREA", "PRK")]),
        ("North Korean Troops Arrive", [("North Korean", "PRK")]),
        ("The US sent tanks.", [("US", "USA")]),
        (
            "Hamas and Hezbollah praised the Houthis.",
            [("Hamas", "HAMAS"), ("Hezbollah", "HEZBOLLAH"), ("Houthis", "HOUTHIS")],
        ),
    ],
)
def test_actor_aliases_resolve_to_codes(nlp, text, expected):
    assert actors(nlp, text) == expected


def test_case_sensitive_aliases_do_not_fire_on_common_words(nlp):
    assert actors(nlp, "Let us know what you think.") == []
    assert actors(nlp, "They ate turkey and went to chad's party.") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("They fired Shahed-136 drones.", ("Shahed-136 drones", "drone")),
        ("A KN-23 hit the city.", ("KN-23", "ballistic_missile")),
        ("More artillery shells arrived.", ("artillery shells", "artillery_ammunition")),
        ("Patriot systems were moved.", ("Patriot systems", "air_defense")),
        ("HIMARS launchers were seen.", ("HIMARS launchers", "rocket_launcher")),
    ],
)
def test_weapon_aliases_map_to_classes(nlp, text, expected):
    found = weapons(nlp, text)
    assert found and found[0][1] == expected[1]
    assert found[0][0] in expected[0]


def test_stop_phrases_block_the_weapon_inside_them(nlp):
    assert weapons(nlp, "A think tank in Washington warned about arms control.") == []


def test_actor_stop_phrases_name_no_actor(nlp):
    assert actors(nlp, "The Washington Post reported it from the Indian Ocean.") == []
