"""Relative clauses and the clauses around them: what a relative clause asserts stands when
the main clause denies or asks for something else. Every sentence here was written by the
team."""

from __future__ import annotations

import pytest


def asserted(nlp, text: str) -> set[tuple]:
    return {
        (c["relation"], c["supplier"], c["recipient"], c["weapon_class"])
        for c in nlp(text)._.salvo_claims
        if not c["negated"]
    }


def test_a_relative_clause_whose_object_is_the_recipient_moves_the_noun_it_describes(nlp):
    text = (
        "Syria has not received the radars for the S-300 missiles Moscow gave Damascus, "
        "officials say."
    )
    assert ("supply", "RUS", "SYR", "air_defense") in asserted(nlp, text)


def test_a_need_in_the_main_clause_does_not_reach_into_a_reported_relative_clause(nlp):
    text = (
        "Belarus has not delivered the crews needed to operate the Buk systems that Kyiv "
        "says Minsk sent to Russia last year."
    )
    assert asserted(nlp, text) == {("supply", "BLR", "RUS", "air_defense")}


def test_an_including_list_on_the_noun_a_clause_describes_names_what_moved(nlp):
    text = (
        "The minister said Kyiv had evidence that Minsk was sending weapons to Moscow, "
        "including drones and shells."
    )
    assert asserted(nlp, text) == {
        ("supply", "BLR", "RUS", "drone"),
        ("supply", "BLR", "RUS", "artillery_ammunition"),
    }


def test_a_denied_expectation_denies_the_transfer_it_expects(nlp):
    text = (
        "A Western official said he did not expect Belarus to receive the Iskander "
        "launchers this year."
    )
    claims = nlp(text)._.salvo_claims
    assert claims and all(c["negated"] for c in claims)


@pytest.mark.parametrize(
    "text",
    [
        "Romania had planned to buy 54 K9 howitzers from South Korea but dropped them in 2023.",
        "Ankara scrapped the purchase of 40 F-16 jets from the United States.",
    ],
)
def test_a_transfer_called_off_is_no_claim(nlp, text):
    assert asserted(nlp, text) == set()


def test_a_plan_carried_out_stands(nlp):
    text = "Poland planned to buy 96 Apache helicopters from the United States and signed in 2024."
    assert ("purchase", "USA", "POL", "aircraft") in asserted(nlp, text)


def test_what_was_to_be_shipped_is_the_subject_of_the_verb_it_hangs_on(nlp):
    text = (
        "Washington sent bombs to Israel in May. Officials said roughly 500 Mk-82 bombs "
        "stored in American depots were to be shipped to Israel this week."
    )
    later = [c for c in nlp(text)._.salvo_claims if c["sentence_start"] > 0]
    assert [
        (c["supplier"], c["recipient"], c["weapon_class"], c["quantity"], c["hedged"])
        for c in later
    ] == [("USA", "ISR", "other", 500, True)]


def test_a_reported_passive_relative_clause_names_who_supplied_the_holders_weapons(nlp):
    text = (
        "The RSF have fielded Chinese-made howitzers, which Amnesty said had been supplied "
        "by the United Arab Emirates."
    )
    assert ("supply", "ARE", "RSF", "artillery_system") in asserted(nlp, text)


def test_weapons_seized_on_their_way_go_to_where_they_were_bound_not_to_the_seizer(nlp):
    text = (
        "Yemeni fighters have seized 750 tons of Iranian weapons that were being smuggled "
        "to the Houthis, officials said."
    )
    pairs = {(c[1], c[2]) for c in asserted(nlp, text)}
    assert ("IRN", "HOUTHIS") in pairs and ("IRN", "YEM") not in pairs


def test_a_denial_just_before_the_claim_word_denies_it_however_the_clause_is_parsed(nlp):
    text = (
        "Tehran denies having supplied Moscow with either missiles or the thousands of "
        "drones that Kyiv and Western governments say Russia uses against Ukraine."
    )
    assert not any(c[0] == "supply" for c in asserted(nlp, text))


def test_a_transfer_under_unless_is_a_condition_not_a_claim(nlp):
    text = (
        "Germany sent Ukraine an IRIS-T system in May. Officials warned that the grid will "
        "fail unless more air defence arrives in Ukraine quickly."
    )
    later = [c for c in nlp(text)._.salvo_claims if c["sentence_start"] > 0]
    assert later == []
