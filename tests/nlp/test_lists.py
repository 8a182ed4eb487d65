"""Lists of weapons: long lists the parser breaks, what an order is said to include, and
systems written out in full. Every sentence here was written by the team."""

from __future__ import annotations

import pytest


def triples(nlp, text: str) -> set[tuple]:
    return {
        (c["relation"], c["supplier"], c["recipient"], c["weapon_class"])
        for c in nlp(text)._.salvo_claims
        if not c["negated"]
    }


def test_every_item_of_a_long_list_is_a_claim_even_where_the_parse_breaks(nlp):
    # The parser hangs "Marder 1 A3 infantry fighting vehicles" on the main verb.
    text = (
        "Germany published a list of its military aid to Ukraine showing a delivery that "
        "included mortar rounds, Marder 1 A3 infantry fighting vehicles, machine guns, "
        "reconnaissance drones and rifles."
    )
    assert {t[3] for t in triples(nlp, text)} == {
        "artillery_ammunition",
        "armored_vehicle",
        "small_arms",
        "drone",
    }


def test_a_list_ends_at_the_first_item_that_names_no_weapon(nlp):
    text = "The Netherlands has sent Ukraine 14 tanks, Dutch officials said, and Kyiv wants more."
    assert triples(nlp, text) == {("supply", "NLD", "UKR", "tank")}


def test_what_an_order_includes_is_bought_under_it(nlp):
    text = (
        "Greece's order with the United States also includes 40 Army Tactical Missile "
        "Systems and 300 guided rockets."
    )
    assert triples(nlp, text) == {
        ("purchase", "USA", "GRC", "ballistic_missile"),
        ("purchase", "USA", "GRC", "rocket_launcher"),
    }


@pytest.mark.parametrize(
    ("text", "weapon_class"),
    [
        (
            "Estonia has received six High Mobility Artillery Rocket Systems from the US.",
            "rocket_launcher",
        ),
        (
            "Latvia has received a National Advanced Surface-to-Air Missile System.",
            "air_defense",
        ),
        (
            "Washington sent a Terminal High Altitude Area Defense battery to Saudi Arabia.",
            "air_defense",
        ),
        ("Britain delivered Grad rockets to Ukraine last spring.", "rocket_launcher"),
    ],
)
def test_a_system_written_out_in_full_has_its_class(nlp, text, weapon_class):
    assert weapon_class in {t[3] for t in triples(nlp, text)}


def test_a_general_word_for_a_transfer_whose_weapons_are_named_is_no_row(nlp):
    text = (
        "Romania signed a $1 billion contract for 54 K9 howitzers from South Korea's Hanwha, "
        "the largest arms export deal in the company's history."
    )
    assert {t[3] for t in triples(nlp, text)} == {"artillery_system"}
