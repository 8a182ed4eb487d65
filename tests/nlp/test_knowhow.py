"""Know-how that passes between states: training, technology and expertise are
`military_technology` (the claim guidelines), and the trainees are the recipient. Every
sentence here was written by the team."""

from __future__ import annotations

import pytest


def rows(nlp, text: str) -> set[tuple]:
    return {
        (c["relation"], c["supplier"], c["recipient"], c["weapon_class"])
        for c in nlp(text)._.salvo_claims
        if not c["negated"]
    }


@pytest.mark.parametrize(
    "text, row",
    [
        (
            "French instructors are training Indian pilots on the new jets.",
            ("supply", "FRA", "IND", "military_technology"),
        ),
        (
            "Russia will train Iranian crews to operate the S-400, officials said.",
            ("supply", "RUS", "IRN", "military_technology"),
        ),
        (
            "Dozens of Armenian officers were trained by Indian specialists last year.",
            ("supply", "IND", "ARM", "military_technology"),
        ),
    ],
)
def test_training_passes_know_how_to_the_trainees(nlp, text, row):
    assert row in rows(nlp, text)


def test_instructors_who_train_are_not_troops_sent(nlp):
    found = rows(nlp, "Polish instructors are training Lithuanian gunners near Vilnius.")
    assert found == {("supply", "POL", "LTU", "military_technology")}


def test_trainees_without_a_trainer_take_the_articles_supplier(nlp):
    text = (
        "Sweden sends Archer howitzers to Ukraine\n\n"
        "Sweden has delivered eight Archer howitzers to Ukraine, its defence ministry said.\n\n"
        "Ukrainian gunners trained on the guns for six weeks."
    )
    last = {
        (c["supplier"], c["recipient"], c["weapon_class"])
        for c in nlp(text)._.salvo_claims
        if c["sentence_start"] >= text.index("Ukrainian gunners")
    }
    assert last == {("SWE", "UKR", "military_technology")}


def test_trained_people_are_no_training_claim(nlp):
    assert rows(nlp, "Kyiv says it still has too few trained pilots for the jets.") == set()


@pytest.mark.parametrize(
    "text, row",
    [
        (
            "Beijing is suspected of giving Tehran technology for its drone engines.",
            ("supply", "CHN", "IRN", "military_technology"),
        ),
        (
            "Pakistan is sharing its expertise with Saudi Arabia, the report says.",
            ("supply", "PAK", "SAU", "military_technology"),
        ),
    ],
)
def test_technology_passed_between_two_states_is_military_technology(nlp, text, row):
    assert row in rows(nlp, text)


def test_technology_is_no_weapon_without_a_transfer_between_two_parties(nlp):
    assert rows(nlp, "The company sells technology to many customers abroad.") == set()
    assert rows(nlp, "Seoul invests in new technology for its shipyards.") == set()


def test_a_weapon_described_by_a_passive_relative_clause_has_a_producer(nlp):
    text = "The drones, which are built by Turkey's Baykar, were seen over Tripoli."
    assert ("produce", "TUR", None, "drone") in rows(nlp, text)


def test_a_team_that_trains_passes_no_know_how(nlp):
    assert rows(nlp, "The Brazilian team trained in Lisbon before the final.") == set()
