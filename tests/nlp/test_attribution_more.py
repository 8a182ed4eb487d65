"""Who a claim belongs to: thanks and praise, the named author of a rejected report, and
"according to" hung anywhere in the sentence. Every sentence here was written by the team."""

from __future__ import annotations


def only(nlp, text: str) -> dict:
    (claim,) = nlp(text)._.salvo_claims
    return claim


def test_whoever_thanks_a_supplier_states_the_supply(nlp):
    claim = only(nlp, "Prime Minister Fiala thanked Norway for providing the howitzers.")
    assert (claim["supplier"], claim["attributed_to"]) == ("NOR", "Fiala")


def test_a_rejected_report_keeps_its_claim_and_its_author(nlp):
    claim = only(nlp, "Rwanda rejects Human Rights Watch report on drones it supplied to the M23.")
    assert not claim["negated"]
    assert "Human Rights Watch" in claim["attributed_to"]


def test_a_denial_without_a_named_report_still_negates(nlp):
    claim = only(nlp, "Rwanda denies supplying drones to the M23.")
    assert claim["negated"]


def test_according_to_hung_on_another_phrase_still_names_the_source(nlp):
    text = (
        "About 30 percent of the arms Egypt imported came from Russia, "
        "making it the second supplier, according to the Stockholm institute."
    )
    assert "Stockholm" in only(nlp, text)["attributed_to"]


def test_a_title_naming_a_state_takes_the_leads_fuller_source_for_it(nlp):
    text = (
        "Poland says it has sent more MiG-29 jets to Ukraine\n\n"
        "WARSAW — Poland has sent four more MiG-29 fighter jets to Ukraine, a Polish "
        "defence official said on Monday."
    )
    title = [c for c in nlp(text)._.salvo_claims if c["sentence_start"] == 0]
    assert [c["attributed_to"] for c in title] == ["Polish defence official"]


def test_the_report_said_takes_the_last_named_speaker_when_no_claim_named_one(nlp):
    text = (
        "In March, Amnesty International said it had traced weapons across the Sahel. "
        "The report said Serbia had sold mortars to Burkina Faso."
    )
    (claim,) = nlp(text)._.salvo_claims
    assert claim["attributed_to"] == "Amnesty International"


def test_footage_attributed_by_its_analyst_is_theirs(nlp):
    text = "Footage geolocated by Bellingcat showed Belarusian trains carrying tanks to Russia."
    (claim,) = nlp(text)._.salvo_claims
    assert (claim["supplier"], claim["recipient"]) == ("BLR", "RUS")
    assert claim["attributed_to"] == "Bellingcat"


def test_according_to_a_report_by_a_named_author_is_the_authors(nlp):
    text = "According to a report by Conflict Armament Research, Iran supplied rifles to Sudan."
    assert only(nlp, text)["attributed_to"] == "Conflict Armament Research"


def test_figures_a_named_body_released_are_its_claim(nlp):
    claim = only(
        nlp,
        "According to figures the Estonian Defence Ministry released in March, the Estonian "
        "scheme got 200,000 artillery rounds to Ukraine last year.",
    )
    assert (claim["supplier"], claim["recipient"], claim["attributed_to"]) == (
        "EST",
        "UKR",
        "Estonian Defence Ministry",
    )
    assert claim["quantity"] == 200000
