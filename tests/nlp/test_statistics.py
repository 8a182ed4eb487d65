"""Arms-trade statistics as claims: a supplier's share of a buyer's imports, and shares of
weapons are no counts of them. Every sentence here was written by the team."""

from __future__ import annotations

import pytest


def found(nlp, text: str) -> list[tuple]:
    return [
        (c["relation"], c["supplier"], c["recipient"], c["weapon_class"], c["quantity"])
        for c in nlp(text)._.salvo_claims
        if not c["negated"]
    ]


@pytest.mark.parametrize(
    "text",
    [
        "France accounted for 29% of Qatar's arms imports in the last five years.",
        "France made up almost a third of Qatar's arms imports, the institute said.",
    ],
)
def test_a_suppliers_share_of_a_buyers_imports_is_a_supply(nlp, text):
    assert ("supply", "FRA", "QAT", "weapons_general", None) in found(nlp, text)


def test_a_share_of_the_weapons_a_buyer_imported_names_both_sides_and_no_count(nlp):
    text = "Some 40 percent of the weapons Egypt imported in the decade came from Russia."
    assert found(nlp, text) == [("supply", "RUS", "EGY", "weapons_general", None)]


def test_a_list_of_contents_on_the_verb_replaces_the_general_word(nlp):
    text = "Minsk is supplying weapons to Moscow, including mortars and gunpowder."
    assert {(c[3]) for c in found(nlp, text)} == {"artillery_system", "other"}


@pytest.mark.parametrize(
    "text, classes",
    [
        (
            "Tehran has given Moscow ballistic and cruise missiles.",
            {"ballistic_missile", "cruise_missile"},
        ),
        (
            "Iran shipped cruise, anti-ship and anti-aircraft missiles to the Houthis.",
            {"cruise_missile", "air_defense"},  # "anti-ship" takes the paragraph's cruise
        ),
    ],
)
def test_a_coordination_that_shares_one_noun_names_each_weapon(nlp, text, classes):
    assert {c[3] for c in found(nlp, text)} == classes


def test_a_hyphen_inside_a_weapon_name_is_no_headline_dash(nlp):
    text = "Iran shipped anti-aircraft missiles to the Houthis."
    assert [(c[1], c[2]) for c in found(nlp, text)] == [("IRN", "HOUTHIS")]


def test_a_gapped_clause_repeats_the_claim_with_its_own_supplier_and_number(nlp):
    text = "Norway sent eight Leopard tanks to Ukraine, and Spain six."
    assert found(nlp, text) == [
        ("supply", "NOR", "UKR", "tank", 8),
        ("supply", "ESP", "UKR", "tank", 6),
    ]
    assert [c["rule"] for c in nlp(text)._.salvo_claims][-1] == "gapping"


def test_a_second_recipient_is_no_gapped_clause(nlp):
    text = "Iran sent drones to Russia and Venezuela."
    assert all(c[1] == "IRN" for c in found(nlp, text))
