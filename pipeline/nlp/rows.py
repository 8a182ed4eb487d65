"""Turn parsed documents into the rows of `sentences`, `entities` and `claims`.

Long texts are cut into segments at paragraph (or, failing that, sentence or word)
boundaries below spaCy's length limit; every offset is shifted back into the document, so
`clean_text[start_char:end_char] == text` holds whatever the cut.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from spacy.tokens import Doc

from pipeline.nlp.common import ACTOR_KEY, WEAPON_KEY

# Well below spaCy's default max_length (1,000,000): the parser's memory grows with the
# length of one Doc, and shorter segments spread better over worker processes.
MAX_SEGMENT_CHARS = 100_000


@dataclass
class Segment:
    doc_id: str
    offset: int
    text: str


@dataclass
class DocumentRows:
    sentences: list[dict] = field(default_factory=list)
    entities: list[dict] = field(default_factory=list)
    claims: list[dict] = field(default_factory=list)


def _cut_point(text: str, start: int, limit: int) -> int:
    window = text[start : start + limit]
    for separator in ("\n\n", "\n", ". ", " "):
        found = window.rfind(separator)
        if found > limit // 4:
            return start + found + len(separator)
    return start + limit


def segments(doc_id: str, text: str, limit: int = MAX_SEGMENT_CHARS) -> Iterator[Segment]:
    """Cut a document into segments of at most `limit` characters."""
    start = 0
    while start < len(text):
        if len(text) - start <= limit:
            end = len(text)
        else:
            end = _cut_point(text, start, limit)
        yield Segment(doc_id, start, text[start:end])
        start = end


def _short_hash(*parts: object) -> str:
    return hashlib.sha1("\x1f".join(map(str, parts)).encode()).hexdigest()[:12]


class RowBuilder:
    """Accumulates rows for one document across its segments, numbering sentences."""

    def __init__(self, doc_id: str, version: str):
        self.doc_id = doc_id
        self.version = version
        self.rows = DocumentRows()
        self.position = 0

    def add(self, doc: Doc, offset: int) -> None:
        starts: list[tuple[int, int, str]] = []  # (start, end, sentence_id) in doc chars
        text = doc.text  # Doc.text joins every token on each call: read it once
        for sent in doc.sents:
            words = [t for t in sent if not t.is_space]
            if not words:
                continue
            start = words[0].idx
            end = words[-1].idx + len(words[-1].text)
            sentence_id = f"{self.doc_id}:s{self.position:05d}"
            self.rows.sentences.append(
                {
                    "sentence_id": sentence_id,
                    "doc_id": self.doc_id,
                    "position": self.position,
                    "start_char": start + offset,
                    "end_char": end + offset,
                    "text": text[start:end],
                }
            )
            starts.append((start, end, sentence_id))
            self.position += 1

        def sentence_of(char: int) -> str | None:
            for start, end, sentence_id in starts:
                if start <= char < end:
                    return sentence_id
            return None

        mentions = [(e, "ner", e.label_, None, None) for e in doc.ents]
        mentions += [(s, "lexicon", "ACTOR", s.id_, None) for s in doc.spans.get(ACTOR_KEY, [])]
        mentions += [(s, "lexicon", "WEAPON", None, s.id_) for s in doc.spans.get(WEAPON_KEY, [])]
        for span, source, label, actor, weapon in mentions:
            found = sentence_of(span.start_char)
            if found is None:
                continue
            sentence_id = found
            start, end = span.start_char + offset, span.end_char + offset
            self.rows.entities.append(
                {
                    "mention_id": f"{self.doc_id}:e{start}-{end}:{label}",
                    "doc_id": self.doc_id,
                    "sentence_id": sentence_id,
                    "start_char": start,
                    "end_char": end,
                    "text": span.text,
                    "label": label,
                    "actor_code": actor,
                    "weapon_class": weapon,
                    "source": source,
                }
            )

        for claim in doc._.salvo_claims or []:
            found = sentence_of(claim["sentence_start"])
            if found is None:
                continue
            sentence_id = found
            key = (
                sentence_id,
                claim["relation"],
                claim["supplier"],
                claim["recipient"],
                claim["weapon_class"],
                claim["weapon_start"] + offset,
            )
            self.rows.claims.append(
                {
                    "claim_id": f"{sentence_id}:c{_short_hash(*key)}",
                    "doc_id": self.doc_id,
                    "sentence_id": sentence_id,
                    "relation": claim["relation"],
                    "supplier": claim["supplier"],
                    "recipient": claim["recipient"],
                    "weapon_class": claim["weapon_class"],
                    "weapon_text": claim["weapon_text"],
                    "quantity": claim["quantity"],
                    "quantity_text": claim["quantity_text"],
                    "attributed_to": claim["attributed_to"],
                    "hedged": claim["hedged"],
                    "negated": claim["negated"],
                    "trigger_text": claim["trigger_text"],
                    "calibre_mm": claim["calibre_mm"],
                    "extractor_version": self.version,
                    "rule": claim.get("rule"),
                }
            )
