"""SALVO_PARSE: the selective parse finds the claims the full parse finds, and a document
that names no weapon is split into sentences and lexicon mentions without the parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import settings
from pipeline.nlp.pool import parse_documents
from pipeline.nlp.version import extractor_version
from tests.conftest import environment, materialization_metadata, read_rows, run_pipeline

CLAIM_COLUMNS = (
    "claim_id",
    "relation",
    "supplier",
    "recipient",
    "weapon_class",
    "weapon_text",
    "quantity",
    "attributed_to",
    "hedged",
    "negated",
)
SPORT = (
    "Portugal beat Japan 2-1 in Tokyo\n\n"
    "Portugal beat Japan 2-1 in Tokyo on Sunday, with Maria Silva scoring twice. "
    "The coach, Jean Moreau, said the young players showed great character.\n\n"
    "About 40,000 spectators watched the game. Japan will face Brazil in the final.\n"
)


def _rows(parsed, table: str, columns: tuple[str, ...]) -> list[tuple]:
    values = parsed.columns[table]
    return sorted(zip(*(values[c] for c in columns), strict=True), key=repr)


def test_selective_and_full_give_the_same_claims_and_sentences_on_the_seeds(seeded_warehouse):
    published, _ = seeded_warehouse  # built with the default mode: selective
    assert settings.parse_mode() == "selective"
    documents = read_rows(published, "SELECT doc_id, clean_text FROM documents ORDER BY 1")
    full = parse_documents(settings.spacy_model(), extractor_version(parse="full"), documents)
    selective = read_rows(published, f"SELECT {', '.join(CLAIM_COLUMNS)} FROM claims")
    assert len(selective) > 20
    assert sorted(selective, key=repr) == _rows(full, "claims", CLAIM_COLUMNS)
    columns = ("sentence_id", "start_char", "end_char", "text")
    sentences = read_rows(published, f"SELECT {', '.join(columns)} FROM sentences")
    assert sorted(sentences, key=repr) == _rows(full, "sentences", columns)


def claims_by_mode(text: str, column: str) -> dict[str, list]:
    """One claims column of a document parsed in each mode."""
    return {
        mode: parse_documents(
            settings.spacy_model(), extractor_version(parse=mode), [("d", text)]
        ).columns["claims"][column]
        for mode in settings.PARSE_MODES
    }


def test_a_word_that_implies_weapons_is_parsed_in_either_mode():
    found = claims_by_mode("Iran is arming the Houthis, the report said.\n", "supplier")
    assert found["selective"] == found["full"] == ["IRN"]


def test_every_word_that_opens_the_extractors_gate_makes_a_candidate():
    """The cheap pass must send to the parser every document in which the extractor's
    sentence gate could open without an earlier claim."""
    from pipeline.nlp.language import build_nlp
    from pipeline.nlp.selective import may_hold_claim

    nlp = build_nlp()
    extractor = nlp.get_pipe("salvo_claims")
    for word in getattr(extractor, "argument_starts", ()):
        doc = nlp.make_doc(f"The country provided its partner with {word} last year.")
        assert may_hold_claim(doc, nlp), word
    assert not may_hold_claim(nlp.make_doc("The country won the match last year."), nlp)
    assert may_hold_claim(nlp.make_doc("Who armed the rebels?"), nlp)


def test_a_document_without_weapons_gets_sentences_and_mentions_but_no_parse(tmp_path: Path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "sport.txt").write_text(SPORT, encoding="utf-8")
    published = tmp_path / "wh" / "salvo.duckdb"
    with environment({"SALVO_PARSE": "selective"}):
        result = run_pipeline(seeds, published)
    assert result.success
    meta = materialization_metadata(result, "sentences")
    assert meta["sentences_split"] == 5 and meta["sentences_fully_parsed"] == 0
    text = SPORT
    sentences = read_rows(published, "SELECT start_char, end_char, text FROM sentences")
    assert [s[2] for s in sentences][:2] == [
        "Portugal beat Japan 2-1 in Tokyo",
        "Portugal beat Japan 2-1 in Tokyo on Sunday, with Maria Silva scoring twice.",
    ]
    assert all(text[start:end] == words for start, end, words in sentences)
    mentions = read_rows(
        published, "SELECT DISTINCT label, source, actor_code FROM entities ORDER BY 3"
    )
    assert mentions == [("ACTOR", "lexicon", "BRA"), ("ACTOR", "lexicon", "JPN"),
                        ("ACTOR", "lexicon", "PRT")]  # fmt: skip
    # Switching the mode takes effect: the document is parsed again, fully this time, and
    # the model's named entities (the people) are back.
    with environment({"SALVO_PARSE": "full"}):
        again = run_pipeline(seeds, published)
    assert materialization_metadata(again, "sentences")["sentences_fully_parsed"] == 5
    people = read_rows(published, "SELECT text FROM entities WHERE label = 'PERSON' ORDER BY 1")
    assert ("Maria Silva",) in people


@pytest.mark.parametrize("value", ["", "Selective", " full "])
def test_the_parse_mode_setting_accepts_its_values(value: str):
    with environment({"SALVO_PARSE": value}):
        assert settings.parse_mode() == (value.strip().lower() or "selective")


def test_a_bad_parse_mode_is_a_clear_error():
    with environment({"SALVO_PARSE": "fast"}), pytest.raises(ValueError) as error:
        settings.parse_mode()
    assert "SALVO_PARSE must be one of selective, full: 'fast'" in str(error.value)


def test_training_is_a_candidate_only_with_people_who_serve():
    from pipeline.nlp.language import build_nlp
    from pipeline.nlp.selective import may_hold_claim

    nlp = build_nlp()
    assert may_hold_claim(nlp.make_doc("Britain is training Ukrainian crews."), nlp)
    assert not may_hold_claim(nlp.make_doc("The team is training in Spain this week."), nlp)


def test_a_training_claim_is_the_same_in_either_mode():
    text = "Sweden sends jets to Ukraine\n\nSweden is training Ukrainian pilots near Lulea.\n"
    found = claims_by_mode(text, "weapon_class")
    assert found["selective"] == found["full"]
    assert "military_technology" in found["full"]


def test_units_of_a_states_forces_are_parsed_in_either_mode():
    text = "North Korean units are fighting for Russia in the Kursk region, Kyiv says.\n"
    found = claims_by_mode(text, "weapon_class")
    assert found["selective"] == found["full"] == ["troops"]


def test_units_of_goods_are_no_candidate():
    from pipeline.nlp.language import build_nlp
    from pipeline.nlp.selective import LEXICAL_COMPONENTS, may_hold_claim

    nlp = build_nlp()
    doc = nlp.make_doc("The company sold 50,000 units in Germany last year.")
    for name in LEXICAL_COMPONENTS:
        doc = nlp.get_pipe(name)(doc)
    assert not may_hold_claim(doc, nlp)
