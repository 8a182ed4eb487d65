"""Foreign weapons in use: a designation the parser misreads, weapons seen where forces
fight, weapons "sourced from" a state, and gifts. Every sentence here was written by the
team."""

from __future__ import annotations


def rows(nlp, text: str, start: str = "") -> list[tuple]:
    return [
        (c["relation"], c["supplier"], c["recipient"], c["weapon_class"])
        for c in nlp(text)._.salvo_claims
        if not c["negated"] and c["sentence_start"] >= text.index(start)
    ]


FRAME = (
    "Tehran keeps arming Moscow, Kyiv says\n\n"
    "Iran has shipped drones and shells to Russia, Ukraine's intelligence service said.\n\n"
)


def test_a_designation_before_the_weapon_noun_keeps_the_origin(nlp):
    text = "Russian forces launched Iranian Shahed-136 drones at Kharkiv overnight."
    assert rows(nlp, text) == [("use", "IRN", "RUS", "drone")]


def test_foreign_weapons_seen_at_the_front_are_in_use(nlp):
    text = FRAME + "Iranian shells have been spotted at the front near Kupiansk."
    assert rows(nlp, text, "Iranian shells") == [("use", "IRN", "RUS", "artillery_ammunition")]


def test_a_weapon_that_will_be_on_the_battlefield_is_not_yet_in_use(nlp):
    text = FRAME + "Kyiv says the Iranian shells will soon be on the front line."
    assert ("use", "IRN", "RUS", "artillery_ammunition") not in rows(nlp, text, "Kyiv says")


def test_a_weapon_sourced_from_a_state_has_that_origin(nlp):
    text = FRAME + "A drone sourced from Iran crashed near Odesa on Sunday."
    assert rows(nlp, text, "A drone") == [("use", "IRN", "RUS", "drone")]


def test_a_gift_from_a_state_is_its_supply(nlp):
    text = "The rifles, a gift from Belgrade, arrived in Bangui in March."
    assert ("supply", "SRB", "CAF", "small_arms") in rows(nlp, text)


def test_a_verbless_caption_of_a_foreign_weapon_moves_nothing(nlp):
    text = FRAME + "An Iranian drone during a parade in Tehran."
    assert rows(nlp, text, "An Iranian drone") == []


def test_an_armed_group_using_a_named_system_uses_its_makers_weapon(nlp):
    assert rows(nlp, "The Houthis fired Toufan missiles at Eilat on Sunday.") == [
        ("use", "IRN", "HOUTHIS", "ballistic_missile")
    ]


def test_a_state_using_a_named_system_needs_a_stated_origin(nlp):
    assert rows(nlp, "Russia launched Shahed drones at Kyiv overnight.") == []


def test_giving_a_weapon_a_name_moves_nothing(nlp):
    text = (
        FRAME
        + "The Iranian drone, which Russian forces have given the name Geran-2, was shot down."
    )
    assert all(r[1] != "RUS" for r in rows(nlp, text, "The Iranian drone"))
