"""Seized shipments: an intercepted transfer is a hedged supply between the goods' origin
and their destination, never the seizer's. Every sentence here was written by the team."""

from __future__ import annotations


def rows(nlp, text: str) -> list[tuple]:
    return [
        (c["supplier"], c["recipient"], c["weapon_class"], c["hedged"])
        for c in nlp(text)._.salvo_claims
        if not c["negated"]
    ]


def test_seized_weapons_go_from_their_origin_to_their_destination(nlp):
    text = "The French navy seized Iranian rifles bound for the Houthis in the Gulf of Aden."
    assert rows(nlp, text) == [("IRN", "HOUTHIS", "small_arms", True)]


def test_a_cargo_bound_for_an_actor_names_its_recipient(nlp):
    text = "A cargo bound for Hamas contained mortar bombs and rifles."
    assert {(r[1], r[2]) for r in rows(nlp, text)} == {
        ("HAMAS", "artillery_ammunition"),
        ("HAMAS", "small_arms"),
    }


def test_a_seizure_with_no_origin_or_destination_is_no_claim(nlp):
    assert rows(nlp, "Police seized rifles at the border on Tuesday.") == []


def test_a_seized_shipments_listed_contents_replace_the_general_word(nlp):
    text = (
        "Greek coastguards seize weapons shipment bound for the Houthis, including Iranian rockets"
    )
    found = {(c["supplier"], c["recipient"], c["weapon_class"]) for c in nlp(text)._.salvo_claims}
    assert found == {("IRN", "HOUTHIS", "missile")}
