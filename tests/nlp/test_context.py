"""Constructions that need more than one sentence, or the article around a claim: the
document frame, headlines and datelines, reference, weapon classes from context, and the
precision rules of issue 18. Every text here was written by the team."""

from __future__ import annotations

import pytest


def claims(nlp, text: str) -> list[dict]:
    return [c for c in nlp(text)._.salvo_claims if not c["negated"]]


def triples(nlp, text: str) -> set[tuple]:
    return {(c["supplier"], c["recipient"], c["weapon_class"]) for c in claims(nlp, text)}


def test_every_claim_names_its_rule(nlp):
    found = nlp("Iran delivered drones to Russia.")._.salvo_claims
    assert [c["rule"] for c in found] == ["verb_frame:supply"]


def test_foreign_soldiers_in_the_articles_frame_are_used_by_its_recipient(nlp):
    text = (
        "Pyongyang has sent thousands of soldiers to Russia, officials say\n\n"
        "North Korea has sent thousands of soldiers to Russia, officials said on Monday.\n\n"
        "North Korean troops have already fought in the border region, they added."
    )
    last = [c for c in claims(nlp, text) if "fought" in text[c["sentence_start"] :][:80]]
    assert [(c["relation"], c["supplier"], c["recipient"], c["rule"]) for c in last] == [
        ("use", "PRK", "RUS", "origin_frame")
    ]


def test_the_frame_fills_the_side_a_sentence_leaves_open(nlp):
    text = (
        "Washington sends Kyiv a new package of Abrams tanks\n\n"
        "The United States will send more Abrams tanks to Ukraine, the Pentagon said.\n\n"
        "The first tanks of the package arrived in Ukraine this week."
    )
    assert ("USA", "UKR", "tank") in {
        (c["supplier"], c["recipient"], c["weapon_class"])
        for c in claims(nlp, text)
        if c["sentence_start"] >= text.index("The first")
    }


def test_a_weapon_that_arrives_somewhere_is_supplied_there(nlp):
    assert ("RUS", "PRK", "air_defense") in triples(
        nlp, "A Russian-made S-400 battery has been installed in Pyongyang."
    )


def test_what_is_paid_in_exchange_goes_the_other_way(nlp):
    found = {
        (c["relation"], c["supplier"], c["recipient"], c["weapon_class"])
        for c in claims(nlp, "Moscow gave Pyongyang air defence systems in return for troops.")
    }
    assert found == {("supply", "RUS", "PRK", "air_defense"), ("use", "PRK", "RUS", "troops")}


def test_a_dateline_is_never_an_actor(nlp):
    text = "Headline\n\nWARSAW, May 3 (Wire) - Germany delivered more Leopard tanks to Ukraine."
    assert triples(nlp, text) == {("DEU", "UKR", "tank")}


def test_a_headline_source_prefix_attributes_and_fills_no_role(nlp):
    found = claims(nlp, "Read also: Seoul: North Korea sent Russia more rocket launchers")
    assert [(c["supplier"], c["recipient"], c["attributed_to"]) for c in found] == [
        ("PRK", "RUS", "Seoul")
    ]


def test_a_headline_source_after_a_dash_attributes_the_title(nlp):
    found = claims(nlp, "Iran shipped more drones to Russia in May – Ukraine's intelligence chief")
    assert [(c["supplier"], c["recipient"], c["attributed_to"]) for c in found] == [
        ("IRN", "RUS", "Ukraine's intelligence chief")
    ]


def test_a_title_takes_the_source_its_lead_names(nlp):
    text = (
        "Belarus sent tanks to Russia\n\n"
        "Belarus sent dozens of T-72 tanks to Russia last year, a monitoring group said."
    )
    assert [c["attributed_to"] for c in claims(nlp, text)] == ["monitoring group"] * 2


def test_the_north_in_korea_reporting(nlp):
    text = (
        "North Korea has deepened its ties with Russia. "
        "The North has shipped artillery shells to Russia, Seoul says."
    )
    assert ("PRK", "RUS", "artillery_ammunition") in triples(nlp, text)


def test_generic_missiles_take_the_class_the_paragraph_names(nlp):
    text = "Ukraine has received ATACMS from the United States. The missiles were sent in May."
    assert ("USA", "UKR", "ballistic_missile") in triples(nlp, text)
    assert ("USA", "UKR", "missile") not in triples(nlp, text)


@pytest.mark.parametrize(
    "text",
    [
        "Any transfer of Taurus missiles to Ukraine would be a grave escalation, Moscow warned.",
        "Officials floated the idea of a swap in which Germany could send tanks to Ukraine.",
    ],
)
def test_a_hypothetical_transfer_is_no_claim(nlp, text):
    assert triples(nlp, text) == set()


def test_a_negation_outside_the_clause_does_not_negate_it(nlp):
    found = nlp("The minister would not say how many tanks Poland had sent to Ukraine.")
    assert [(c["supplier"], c["recipient"], c["negated"]) for c in found._.salvo_claims] == [
        ("POL", "UKR", False)
    ]


@pytest.mark.parametrize(
    "text",
    [
        "The general insisted that his army obtained no weapons from Iran.",
        "He said China would neither sell nor give weapons to Russia.",
    ],
)
def test_no_weapons_and_neither_nor_deny(nlp, text):
    found = nlp(text)._.salvo_claims
    assert found and all(c["negated"] for c in found)


def test_weapons_including_named_contents_give_rows_for_the_contents(nlp):
    found = triples(
        nlp, "Beijing is accused of supplying Russia with weapons, including gunpowder."
    )
    assert found == {("CHN", "RUS", "other")}


def test_a_manufacturer_stands_for_its_home_state(nlp):
    assert ("TUR", "POL", "drone") in triples(nlp, "Baykar delivered six TB2 drones to Poland.")


def test_a_foreign_weapon_that_helps_a_side_is_held_by_it(nlp):
    assert ("IRN", "SDN", "drone") in triples(
        nlp, "Iranian drones helped Sudan's army retake the city."
    )


def test_an_acronym_source_takes_its_full_name(nlp):
    text = (
        "The Defence Intelligence Agency (DIA) briefed lawmakers on Monday. "
        "The DIA said Iran had sent drones to Russia."
    )
    assert [c["attributed_to"] for c in claims(nlp, text)] == ["Defence Intelligence Agency (DIA)"]


@pytest.mark.parametrize(
    "text",
    [
        "Norway will deliver two more NASAMS batteries to Ukraine.",
        "Iran is preparing to send ballistic missiles to Russia, officials said.",
        "The coast guard seized Iranian rifles bound for the Houthis.",
        "Pyongyang is estimated to have sent 10,000 soldiers to Russia.",
    ],
)
def test_future_estimated_and_intercepted_transfers_are_hedged(nlp, text):
    found = claims(nlp, text)
    assert found and all(c["hedged"] for c in found)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Chile signed a contract with Germany on Monday for 12 Leopard tanks.",
            ("purchase", "DEU", "CHL", "tank"),
        ),
        (
            "Greece will get 20 fighter jets under an agreement with France signed in May.",
            ("purchase", "FRA", "GRC", "aircraft"),
        ),
        (
            "Kazakhstan's arms imports from Russia grew again.",
            ("supply", "RUS", "KAZ", "weapons_general"),
        ),
    ],
)
def test_contracts_and_imports_belong_to_their_buyer(nlp, text, expected):
    found = {
        (c["relation"], c["supplier"], c["recipient"], c["weapon_class"]) for c in claims(nlp, text)
    }
    assert expected in found


def test_joint_and_hosted_production_gives_one_row_per_producer(nlp):
    text = "The new drone was designed and built in Iran together with Russian engineers."
    found = {(c["relation"], c["supplier"]) for c in claims(nlp, text)}
    assert found == {("produce", "IRN"), ("produce", "RUS")}


def test_an_office_names_its_holder(nlp):
    text = (
        "Finland sends howitzers to Ukraine, defence minister says\n\n"
        "Finland will send more howitzers to Ukraine, Defence Minister Antti Hakkanen "
        "said on Tuesday."
    )
    assert {c["attributed_to"] for c in claims(nlp, text)} == {
        "Antti Hakkanen (defence minister)",
        "Antti Hakkanen",
    }


def test_a_named_system_keeps_the_origin_the_article_gave_it(nlp):
    text = (
        "Russia delivered Russian-made S-400 systems to India in 2022. "
        "The Indian Air Force used the S-400 in May."
    )
    assert ("use", "RUS", "IND", "air_defense") in {
        (c["relation"], c["supplier"], c["recipient"], c["weapon_class"]) for c in claims(nlp, text)
    }


def test_a_weapon_word_modifying_a_place_or_an_attack_is_no_weapon_held(nlp):
    text = (
        "North Korea has sent artillery shells to Russia, officials say\n\n"
        "North Korea has sent artillery shells to Russia, officials said.\n\n"
        "A North Korean missile factory was expanded this year."
    )
    assert {c["weapon_class"] for c in claims(nlp, text)} == {"artillery_ammunition"}


def test_an_origin_stated_by_the_predicate_makes_a_use_claim_and_no_production(nlp):
    text = "The rockets that Russia launched at Odesa were made in Iran, officials said."
    found = {(c["relation"], c["supplier"], c["recipient"]) for c in claims(nlp, text)}
    assert found == {("use", "IRN", "RUS")}


def test_a_relative_clause_with_a_maker_gives_the_origin(nlp):
    text = "Russian forces launched the Mohajer-6, which is built by Iran, at the city."
    assert ("use", "IRN", "RUS") in {
        (c["relation"], c["supplier"], c["recipient"]) for c in claims(nlp, text)
    }


def test_what_a_shipment_contains_is_shipped(nlp):
    text = "Belarus sent 20 howitzers to Russia in May. The shipment also contained 40 T-72 tanks."
    assert ("BLR", "RUS", "tank") in triples(nlp, text)


def test_a_possessive_pronoun_gives_soldiers_their_state(nlp):
    found = claims(nlp, "North Korea confirmed that its soldiers fought for Russia in Kursk.")
    assert [(c["relation"], c["supplier"], c["recipient"], c["weapon_class"]) for c in found] == [
        ("use", "PRK", "RUS", "troops")
    ]


def test_phrasal_production_verbs(nlp):
    found = claims(nlp, "Iran began turning out Shahed drones at a new plant in 2024.")
    assert [(c["relation"], c["supplier"]) for c in found] == [("produce", "IRN")]


def test_weapons_that_come_from_a_state_are_supplied_by_it(nlp):
    text = "Armenia buys abroad. Half of the howitzers the army received came from India."
    assert "IND" in {c["supplier"] for c in claims(nlp, text)}


def test_a_definite_transfer_noun_refers_back_to_the_transfer_just_reported(nlp):
    text = "Iran shipped Shahed drones to Russia in August. The first shipment arrived late."
    rows = [c for c in claims(nlp, text) if c["sentence_start"] >= text.index("The first")]
    assert [(c["supplier"], c["recipient"], c["weapon_class"]) for c in rows] == [
        ("IRN", "RUS", "drone")
    ]


def test_a_closing_reporting_clause_attributes_the_claim_before_it(nlp):
    text = (
        "Chile has received Leopard tanks from Germany, Defence Minister Ana Rojas said on Monday."
    )
    assert [c["attributed_to"] for c in claims(nlp, text)] == ["Ana Rojas"]


def test_according_to_our_information_is_the_quotes_speaker(nlp):
    text = '"According to our information, Iran is sending drones to Russia," Ana Rojas said.'
    assert [c["attributed_to"] for c in claims(nlp, text)] == ["Ana Rojas"]


def test_the_missiles_refer_back_to_the_articles_named_system(nlp):
    text = (
        "Iran has shipped Fath-360 missiles to Russia.\n\n"
        "Officials met in Geneva on Monday.\n\n"
        "Russia received the missiles in September, a minister said."
    )
    last = [c for c in claims(nlp, text) if c["sentence_start"] >= text.index("Russia received")]
    assert [c["weapon_class"] for c in last] == ["ballistic_missile"]


def test_an_aid_phrase_gives_way_to_the_contents_the_sentence_names(nlp):
    text = "Norway sent Ukraine a consignment of military aid that included 20 howitzers."
    assert triples(nlp, text) == {("NOR", "UKR", "artillery_system")}


def test_stated_interest_in_buying_is_no_claim(nlp):
    text = "Officials signalled interest in buying more S-400 systems from Russia."
    assert triples(nlp, text) == set()


def test_such_weapons_in_use_refer_back_to_the_transfer_just_reported(nlp):
    text = (
        "Iran has sent Russia hundreds of Shahed drones, officials said. "
        "Dozens of such drones hit Kyiv on Sunday."
    )
    last = [c for c in claims(nlp, text) if c["sentence_start"] >= text.index("Dozens")]
    assert [(c["relation"], c["supplier"], c["recipient"], c["rule"]) for c in last] == [
        ("use", "IRN", "RUS", "referring_use")
    ]


@pytest.mark.parametrize(
    ("text", "hedged"),
    [
        ("Russia's use of Iranian drones suggests that its own stocks are low.", False),
        ("Moscow is expected to give Pyongyang fighter jets in return for its troops.", None),
        ("The Pentagon announced a package of NASAMS systems for Ukraine.", True),
    ],
)
def test_what_hedges_a_claim_and_what_does_not(nlp, text, hedged):
    found = claims(nlp, text)
    assert found
    if hedged is None:  # the jets are expected (hedged); the troops paid with are asserted
        by_class = {c["weapon_class"]: c["hedged"] for c in found}
        assert by_class == {"aircraft": True, "troops": False}
    else:
        assert all(c["hedged"] is hedged for c in found)


def test_the_company_said_names_the_manufacturer_named_before(nlp):
    text = "Rheinmetall delivered 20 howitzers to Ukraine in May, the company said."
    assert [c["attributed_to"] for c in claims(nlp, text)] == ["Rheinmetall"]


def test_a_claims_own_words_are_never_its_source(nlp):
    text = "Washington said Russia's aid of Su-30 jets to the junta was unacceptable."
    assert [c["attributed_to"] for c in claims(nlp, text)] == ["Washington (United States)"]


def test_an_acronym_not_spelled_out_in_brackets_takes_the_name_with_its_initials(nlp):
    text = (
        "Lawmakers cited the Defence Intelligence Agency on Monday. "
        "The DIA said Iran had sent drones to Russia."
    )
    assert [c["attributed_to"] for c in claims(nlp, text)] == ["Defence Intelligence Agency (DIA)"]


def test_a_title_and_its_lead_take_no_party_the_title_does_not_name(nlp):
    text = (
        "Zelensky confirms first F-16 jets have arrived in Ukraine\n\n"
        "President Volodymyr Zelensky said on Sunday that the first F-16 jets have reached "
        "Ukraine.\n\n"
        "He thanked Denmark and Norway for providing the jets, and Denmark has pledged 19 "
        "more F-16s to Kyiv."
    )
    first_two = [c for c in claims(nlp, text) if c["sentence_start"] < text.index("He thanked")]
    assert {(c["supplier"], c["recipient"]) for c in first_two} == {(None, "UKR")}


def test_a_sentence_takes_the_frames_party_its_paragraph_names(nlp):
    text = (
        "Abrams tanks reach Ukraine\n\n"
        "Washington sent 31 Abrams tanks to Ukraine last year, US officials said. "
        "The last tanks arrived in Ukraine in September."
    )
    last = [c for c in claims(nlp, text) if c["sentence_start"] == text.index("The last")]
    assert [(c["supplier"], c["recipient"]) for c in last] == [("USA", "UKR")]
