"""Soldiers serving another state: units of a state's forces, the state an article reported
them sent to, and soldiers at home. Every sentence here was written by the team."""

from __future__ import annotations

import pytest


def rows(nlp, text: str, start: str) -> set[tuple]:
    return {
        (c["relation"], c["supplier"], c["recipient"], c["weapon_class"])
        for c in nlp(text)._.salvo_claims
        if not c["negated"] and c["sentence_start"] >= text.index(start)
    }


SENT = "Seoul says Pyongyang sent 8,000 soldiers to Russia in October.\n\n"


@pytest.mark.parametrize(
    "sentence",
    [
        "North Korea has confirmed that units of its army fought in the Belgorod region.",
        "Subunits of the Korean People\u2019s Army have joined the fighting in Belgorod.",
        "North Korean units have moved into combat zones near Belgorod.",
    ],
)
def test_units_of_a_states_forces_are_its_soldiers(nlp, sentence):
    assert rows(nlp, SENT + sentence, sentence[:12]) == {("use", "PRK", "RUS", "troops")}


def test_soldiers_serve_the_state_the_article_reported_them_sent_to(nlp):
    text = (
        "Moscow to give Pyongyang MiG-29 jets, US says\n\n"
        "Russia will give North Korea MiG-29 jets in return for the troops it sent to Russia, "
        "a US admiral said.\n\n"
        "Some 10,000 North Korean soldiers are guarding checkpoints near Belgorod."
    )
    assert rows(nlp, text, "Some 10,000") == {("use", "PRK", "RUS", "troops")}


def test_the_suppliers_own_soldiers_are_at_home(nlp):
    text = (
        "Russia gave North Korea air defence systems in return for troops, Seoul says.\n\n"
        "The North Korean soldiers have been attached to Russian marine units."
    )
    assert ("use", "RUS", "PRK", "troops") not in rows(nlp, text, "The North Korean")
