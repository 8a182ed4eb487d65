"""Words that stand for weapons named before them: pronouns a trigger takes, and "the
consignment" of a transfer just reported. Every sentence here was written by the team."""

from __future__ import annotations

import pytest


def claims_from(nlp, text: str, start: str) -> list[tuple]:
    return [
        (c["relation"], c["supplier"], c["recipient"], c["weapon_class"], c["negated"])
        for c in nlp(text)._.salvo_claims
        if c["sentence_start"] >= text.index(start)
    ]


def test_a_pronoun_a_trigger_takes_is_the_weapons_of_the_sentence_before(nlp):
    text = "Norway sent NASAMS launchers to Ukraine in May. Kyiv said it had bought them."
    assert claims_from(nlp, text, "Kyiv said") == [("purchase", "NOR", "UKR", "air_defense", False)]


def test_a_pronoun_takes_the_weapons_named_earlier_in_its_sentence(nlp):
    text = "The rockets were made in Iran, and Tehran then smuggled them to the Houthis."
    assert ("supply", "IRN", "HOUTHIS", "missile", False) in claims_from(nlp, text, "The rockets")


def test_a_denied_pronoun_transfer_is_negated(nlp):
    text = "Iran shipped drones to Russia in 2022. Tehran denied that it was still sending them."
    assert claims_from(nlp, text, "Tehran denied") == [("supply", "IRN", "RUS", "drone", True)]


@pytest.mark.parametrize(
    "sentence",
    [
        "Officials said the Pentagon would free up the shipment of JDAMs for Israel.",
        "The White House has held back a shipment of JDAMs from Israel.",
    ],
)
def test_releasing_or_holding_back_a_shipment_is_a_hedged_supply(nlp, sentence):
    (claim,) = [c for c in nlp(sentence)._.salvo_claims]
    assert (claim["supplier"], claim["recipient"], claim["hedged"]) == ("USA", "ISR", True)


def test_weapons_that_go_to_a_state_are_supplied_to_it(nlp):
    text = "Thousands of Czech shells have gone to Ukraine since 2024."
    assert claims_from(nlp, text, "Thousands") == [
        ("supply", "CZE", "UKR", "artillery_ammunition", False)
    ]


def test_weapons_that_go_into_battle_are_no_transfer(nlp):
    text = (
        "Sweden has delivered CV90 vehicles to Ukraine. "
        "Kyiv has not said when the vehicles will go into battle."
    )
    assert claims_from(nlp, text, "Kyiv has not") == []


def test_a_referring_word_counts_no_weapons(nlp):
    text = (
        "Washington has sent 300 Hellfire missiles to Kyiv. "
        "The one remaining shipment will follow in May."
    )
    assert [c["quantity"] for c in nlp(text)._.salvo_claims][-1] is None


def test_a_bare_number_or_ordinal_stands_for_the_weapons_just_named(nlp):
    text = (
        "Egypt ordered six Rafale jets from France in 2021. Paris has so far delivered two. "
        "The remaining four are expected next year."
    )
    rows = [
        (c["supplier"], c["recipient"], c["weapon_class"], c["hedged"], c["quantity"])
        for c in nlp(text)._.salvo_claims
        if c["sentence_start"] >= text.index("Paris")
    ]
    assert rows == [("FRA", "EGY", "aircraft", False, None), ("FRA", "EGY", "aircraft", True, None)]


def test_a_general_noun_with_a_determiner_stands_for_the_weapons_just_named(nlp):
    text = (
        "The UAE sent Chinese howitzers and drones to the RSF, the report says. "
        "Researchers said both systems were produced by Norinco."
    )
    produced = [c for c in nlp(text)._.salvo_claims if c["relation"] == "produce"]
    assert {(c["supplier"], c["recipient"], c["weapon_class"]) for c in produced} == {
        ("CHN", None, "artillery_system"),
        ("CHN", None, "drone"),
    }


def test_a_general_noun_with_nothing_before_it_is_no_weapon(nlp):
    assert nlp("Engineers said both systems were produced by Norinco.")._.salvo_claims == []


def test_a_question_left_open_asserts_no_use(nlp):
    text = (
        "Ankara sold Bayraktar drones to Warsaw in 2021. Officials would not say how the "
        "drones are used or whether any might go to Kyiv."
    )
    later = [c for c in nlp(text)._.salvo_claims if c["sentence_start"] >= text.index("Off")]
    assert later == []


def test_a_plural_referring_word_stands_for_every_class_named_before(nlp):
    text = (
        "Monitors found Chinese-made guided bombs and howitzers in Darfur used by the RSF. "
        "According to the monitors, both systems were built by Norinco, and Abu Dhabi had "
        "passed them on to the RSF."
    )
    found = {
        (c["relation"], c["supplier"], c["recipient"], c["weapon_class"])
        for c in nlp(text)._.salvo_claims
        if c["sentence_start"] > 0
    }
    assert found == {
        ("produce", "CHN", None, "glide_bomb"),
        ("produce", "CHN", None, "artillery_system"),
        ("supply", "ARE", "RSF", "glide_bomb"),
        ("supply", "ARE", "RSF", "artillery_system"),
    }


def test_an_origin_before_coordinated_weapons_covers_each(nlp):
    text = "Russian troops have fired Iranian drones and missiles at Odesa."
    found = {(c["supplier"], c["recipient"], c["weapon_class"]) for c in nlp(text)._.salvo_claims}
    assert found == {("IRN", "RUS", "drone"), ("IRN", "RUS", "missile")}


def test_the_bare_word_aircraft_after_drones_means_the_drones(nlp):
    text = (
        "Warsaw bought 24 Bayraktar TB2 drones from Turkey in 2021. "
        "The first six aircraft were handed over to Poland in October 2022."
    )
    later = [c for c in nlp(text)._.salvo_claims if c["sentence_start"] > 0]
    assert [(c["supplier"], c["recipient"], c["weapon_class"]) for c in later] == [
        ("TUR", "POL", "drone")
    ]


def test_the_word_aircraft_after_jets_stays_aircraft(nlp):
    text = (
        "Warsaw bought 32 F-35 jets from the United States in 2020. "
        "The first six aircraft were handed over to Poland in 2024."
    )
    later = [c for c in nlp(text)._.salvo_claims if c["sentence_start"] > 0]
    assert {c["weapon_class"] for c in later} == {"aircraft"}


def test_the_weapons_after_bombs_are_those_bombs(nlp):
    text = (
        "The United States shipped 500-pound bombs to Israel in May. "
        "Officials said the weapons arrived in Israel a week later."
    )
    later = [c for c in nlp(text)._.salvo_claims if c["sentence_start"] > 0]
    assert [(c["supplier"], c["recipient"], c["weapon_class"]) for c in later] == [
        ("USA", "ISR", "other")
    ]


def test_a_number_that_stands_for_the_weapons_is_no_recipient(nlp):
    text = (
        "Denmark, Sweden and Finland have pledged CV90s to Ukraine, with Sweden promising "
        "ten and Finland four."
    )
    pairs = {(c["supplier"], c["recipient"]) for c in nlp(text)._.salvo_claims}
    assert pairs == {("DNK", "UKR"), ("SWE", "UKR"), ("FIN", "UKR")}


def test_an_ordinal_that_is_likely_to_arrive_is_the_next_of_the_weapons_named(nlp):
    text = (
        "Russia has so far handed India three S-400 squadrons. "
        "The fourth is now likely to arrive next year, officials said."
    )
    later = [c for c in nlp(text)._.salvo_claims if c["sentence_start"] > 0]
    assert [(c["supplier"], c["recipient"], c["weapon_class"], c["hedged"]) for c in later] == [
        ("RUS", "IND", "air_defense", True)
    ]
