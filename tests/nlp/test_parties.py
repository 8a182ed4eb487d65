"""Who the parties are: object pronouns, soldiers serving another state's forces, forces
that field foreign weapons, and accusations. Every sentence here was written by the team."""

from __future__ import annotations


def claims(nlp, text: str) -> list[dict]:
    return [c for c in nlp(text)._.salvo_claims if not c["negated"]]


def test_an_object_pronoun_is_not_the_subject_of_its_own_verb(nlp):
    # "it" is the party Sudan blames, not Sudan.
    text = "Khartoum cut ties with Abu Dhabi, blaming it for arming the RSF."
    assert [(c["supplier"], c["recipient"]) for c in claims(nlp, text)] == [("ARE", "RSF")]


def test_an_accusation_is_hedged_and_attributed_to_the_accuser(nlp):
    text = "Kyiv has taken Tehran to court, accusing it of supplying drones to Moscow."
    (claim,) = claims(nlp, text)
    assert (claim["supplier"], claim["recipient"], claim["hedged"]) == ("IRN", "RUS", True)
    assert "Kyiv" in claim["attributed_to"]


def test_blaming_is_an_accusation(nlp):
    text = "Ethiopia blamed Eritrea for supplying rifles to the rebels."
    (claim,) = claims(nlp, text)
    assert claim["hedged"] and "Ethiopia" in claim["attributed_to"]


def test_soldiers_fighting_alongside_another_states_troops_serve_that_state(nlp):
    text = "Several thousand Belarusian soldiers are fighting alongside Russian troops."
    assert [(c["relation"], c["supplier"], c["recipient"]) for c in claims(nlp, text)] == [
        ("use", "BLR", "RUS")
    ]


def test_forces_that_field_foreign_weapons_use_them(nlp):
    text = "Haftar's forces have fielded Chinese-made Wing Loong drones near Tripoli."
    assert [(c["relation"], c["supplier"], c["recipient"]) for c in claims(nlp, text)] == [
        ("use", "CHN", "LNA")
    ]


def test_a_range_of_figures_counts_its_low_end(nlp):
    text = "Russia has sent between 2,000 and 3,000 soldiers to Syria, officials say."
    assert [c["quantity"] for c in claims(nlp, text)] == [2000]


def test_a_state_that_only_reports_is_no_party(nlp):
    text = "Iran denies sending the drones that Kyiv and its allies say Russia flies."
    assert all("UKR" not in (c["supplier"], c["recipient"]) for c in claims(nlp, text))


def test_instructors_who_spend_weeks_training_are_not_troops_sent(nlp):
    text = "British instructors have spent months training Ukrainian marines in Norfolk."
    assert {(c["weapon_class"]) for c in claims(nlp, text)} == {"military_technology"}


def test_a_part_of_a_whole_counts_the_part(nlp):
    text = "Seoul has delivered 96 of the 180 K2 tanks Warsaw ordered."
    assert [c["quantity"] for c in claims(nlp, text) if c["relation"] == "supply"] == [96]
