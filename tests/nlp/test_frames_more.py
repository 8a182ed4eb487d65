"""Transfer, purchase and production frames beyond the plain verb: transport, starting
production, buying for an end user, buying to pass on, hosted production, and a denial
that leaves the next clause asserted. Every sentence here was written by the team."""

from __future__ import annotations

import pytest


def rows(nlp, text: str) -> set[tuple]:
    return {
        (c["relation"], c["supplier"], c["recipient"], c["weapon_class"], c["negated"])
        for c in nlp(text)._.salvo_claims
    }


def test_transporting_soldiers_to_a_state_sends_them(nlp):
    text = "Belarus is transporting paratroopers to Russia by rail, Kyiv said."
    assert rows(nlp, text) == {("supply", "BLR", "RUS", "troops", False)}


def test_the_subject_that_begins_production_is_its_producer(nlp):
    text = "Turkey began serial production of the Kizilelma drone this year."
    assert rows(nlp, text) == {("produce", "TUR", None, "drone", False)}


def test_a_purchase_for_a_named_end_user_has_that_recipient(nlp):
    text = "Several donors have pooled money to buy 200,000 shells for Ukraine."
    assert rows(nlp, text) == {("purchase", None, "UKR", "artillery_ammunition", False)}


def test_a_purchase_for_a_purpose_keeps_the_buyer(nlp):
    text = "Moscow plans to buy rockets from Pyongyang for use in its war."
    assert rows(nlp, text) == {("purchase", "PRK", "RUS", "missile", False)}


def test_what_a_buyer_buys_to_send_on_is_its_supply(nlp):
    text = "Berlin is preparing to buy Czech shells to send to Ukraine."
    found = rows(nlp, text)
    assert ("purchase", "CZE", "DEU", "artillery_ammunition", False) in found
    assert ("supply", "DEU", "UKR", "artillery_ammunition", False) in found


def test_a_plural_designation_read_as_a_number_is_still_the_weapon(nlp):
    text = "Norway will also transfer four M270s to Kyiv."
    assert rows(nlp, text) == {("supply", "NOR", "UKR", "rocket_launcher", False)}


def test_a_plant_abroad_hosts_production(nlp):
    text = "Rosoboronexport can assemble the drones at a plant in Belarus."
    assert {r[1] for r in rows(nlp, text)} == {"RUS", "BLR"}


def test_a_denial_does_not_reach_a_clause_with_its_own_subject(nlp):
    text = "Tokyo has not sent weapons to Kyiv, but it has shipped shells to Washington."
    found = rows(nlp, text)
    assert ("supply", "JPN", "UKR", "weapons_general", True) in found
    assert ("supply", "JPN", "USA", "artillery_ammunition", False) in found


def test_a_seller_building_under_a_contract_sells_to_the_buyer_it_builds_for(nlp):
    text = "Saab will build 14 Gripen jets for Colombia under a contract signed in May."
    assert ("purchase", "SWE", "COL", "aircraft", False) in rows(nlp, text)


def test_a_package_announced_including_named_weapons_is_those_weapons(nlp):
    text = (
        "The Pentagon announced a package of military aid for Ukraine on Friday, "
        "including HIMARS ammunition and Stinger missiles."
    )
    assert {(r[1], r[2], r[3]) for r in rows(nlp, text)} == {
        ("USA", "UKR", "rocket_launcher"),
        ("USA", "UKR", "air_defense"),
    }


def test_firms_named_by_their_country_act_for_it_and_partners_co_produce(nlp):
    text = "US sanctions Turkish firms for building attack drones with Iran"
    assert {(r[0], r[1]) for r in rows(nlp, text)} == {("produce", "TUR"), ("produce", "IRN")}


def test_weapons_due_somewhere_are_a_hedged_supply(nlp):
    text = "Cairo got two Rafale jets from Paris. The remaining four are due in Egypt in May."
    later = [
        (c["supplier"], c["recipient"], c["weapon_class"], c["hedged"])
        for c in nlp(text)._.salvo_claims
        if c["sentence_start"] >= text.index("The remaining")
    ]
    assert later == [("FRA", "EGY", "aircraft", True)]


def test_a_sale_to_countries_including_named_ones_names_each_buyer(nlp):
    text = "Saab has sold the Gripen to several countries, including Brazil and Thailand."
    assert {r[2] for r in rows(nlp, text)} == {"BRA", "THA"}


@pytest.mark.parametrize(
    "text",
    [
        "Belarus sent Russia 500 tanks and got fighter jets in return, the report says.",
        "Belarus sent Russia 500 tanks, got fighter jets in return",
    ],
)
def test_what_comes_back_in_return_comes_from_the_first_recipient(nlp, text):
    assert ("supply", "RUS", "BLR", "aircraft", False) in rows(nlp, text)


def test_a_headline_plan_is_hedged(nlp):
    claims = nlp("Poland to buy 96 Apache helicopters from the United States")._.salvo_claims
    assert [(c["relation"], c["supplier"], c["recipient"], c["hedged"]) for c in claims] == [
        ("purchase", "USA", "POL", True)
    ]


def test_a_plant_built_abroad_hosts_the_production(nlp):
    assert rows(nlp, "Rheinmetall to build artillery shell plant in Lithuania") == {
        ("produce", "DEU", None, "artillery_ammunition", False),
        ("produce", "LTU", None, "artillery_ammunition", False),
    }


def test_getting_weapons_to_a_state_sends_them(nlp):
    assert rows(nlp, "The Czech scheme got 1.5 million artillery rounds to Ukraine in 2024.") == {
        ("supply", "CZE", "UKR", "artillery_ammunition", False)
    }


def test_weapons_that_moved_to_a_state_were_sent_there(nlp):
    text = "North Korea has sent shells to Russia. Ammunition has moved from the North to Russia."
    later = [c for c in nlp(text)._.salvo_claims if c["sentence_start"] > 0]
    assert [(c["supplier"], c["recipient"], c["weapon_class"]) for c in later] == [
        ("PRK", "RUS", "artillery_ammunition")
    ]


def test_troops_moving_into_combat_zones_move_nothing_to_anyone(nlp):
    claims = nlp("Russian troops moved into combat zones near Kharkiv.")._.salvo_claims
    assert [c for c in claims if c["relation"] == "supply"] == []


def test_a_state_ready_to_send_is_its_planned_supplier(nlp):
    (claim,) = nlp("Germany is ready to send more tanks to Ukraine.")._.salvo_claims
    assert (claim["supplier"], claim["recipient"], claim["hedged"]) == ("DEU", "UKR", True)
