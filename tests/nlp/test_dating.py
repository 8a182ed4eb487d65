"""Claims get the event time of their sentence, or of their paragraph when the sentence
states none."""

from __future__ import annotations

import datetime as dt

from pipeline import schema
from pipeline.nlp.dating import Reference, date_claims

TEXT = (
    "In March the first trains left the border.\n\n"
    "The shells went to the front. Officials said more would follow.\n\n"
    "Last week a second convoy crossed."
)


def _frames(sentence_starts: list[tuple[str, int, int]]):
    sentences = schema.frame(
        "sentences",
        [
            {
                "sentence_id": sid,
                "doc_id": "d",
                "position": i,
                "start_char": s,
                "end_char": e,
                "text": TEXT[s:e],
            }
            for i, (sid, s, e) in enumerate(sentence_starts)
        ],
    )
    claims = schema.frame(
        "claims",
        [
            {
                "claim_id": f"c{i}",
                "doc_id": "d",
                "sentence_id": sid,
                "relation": "supply",
                "weapon_class": "artillery_ammunition",
                "weapon_text": "shells",
                "hedged": False,
                "negated": False,
                "extractor_version": "v",
            }
            for i, (sid, _, _) in enumerate(sentence_starts)
        ],
    )
    return claims, sentences


def _spans() -> list[tuple[str, int, int]]:
    spans, start = [], 0
    for index, sentence in enumerate(
        [
            "In March the first trains left the border.",
            "The shells went to the front.",
            "Last week a second convoy crossed.",
        ]
    ):
        start = TEXT.index(sentence, start)
        spans.append((f"s{index}", start, start + len(sentence)))
    return spans


def test_a_sentence_without_a_time_takes_its_paragraphs_and_one_with_a_time_its_own():
    claims, sentences = _frames(_spans())
    dated = date_claims(claims, sentences, {"d": Reference(dt.date(2024, 5, 20), "day", TEXT)})
    rows = dated.select("sentence_id", "event_start", "event_precision", "event_text").rows()
    assert rows == [
        ("s0", dt.date(2024, 3, 1), "month", "In March"),
        # Its own paragraph states no time either: nothing is borrowed from another one.
        ("s1", None, None, None),
        ("s2", dt.date(2024, 5, 13), "day", "Last week"),
    ]


def test_a_time_that_needs_a_finer_publication_date_is_not_replaced_by_the_paragraphs():
    claims, sentences = _frames(_spans())
    dated = date_claims(claims, sentences, {"d": Reference(dt.date(2024, 5, 1), "month", TEXT)})
    assert dated.filter(dated["sentence_id"] == "s2")["event_start"].to_list() == [None]
