"""Readable names for sources: people by their fullest name, offices by their holder,
acronyms by their spelled-out form, "the report" by the source named before."""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any

from spacy.tokens import Doc, Span, Token

from pipeline.nlp.common import (
    ACTOR_KEY,
    GENERIC_SOURCES,
    PERSON_PRONOUNS,
    PLURAL_PRONOUNS,
    SINGULAR_PRONOUNS,
    Mention,
    lexicon_spans,
)
from pipeline.nlp.syntax import noun_phrase

INDEFINITE = frozenset(
    {"everything", "something", "anything", "nothing", "everyone", "someone", "all", "none"}
)


# Nouns that head a claim's own words, never its source.
NO_SOURCE = frozenset({"support", "aid", "assistance", "supply", "delivery", "transfer", "use"})


class Names:
    """A mixin of the per-document state (`context.DocState`)."""

    doc: Doc
    ex: Any  # the ClaimExtractor: its lexicon and cue words
    actor_at: dict[int, Mention]
    people: list[Span]
    titles: list[tuple[set[str], Span]]
    weapon_tokens: set[int]
    text: str
    last_source: tuple[int, str] | None

    def _speaker_of_quote(self, token: Token) -> str | None:
        raise NotImplementedError  # attribution.Attribution reads quotations

    # -- names ------------------------------------------------------------------------------
    def name_of(self, token: Token) -> str | None:
        """A readable name for a speaker phrase headed by `token`."""
        if token.lower_ in PERSON_PRONOUNS:
            person = self._last_person_before(token.i)
            return person
        if token.lower_ in INDEFINITE:
            return None  # "so that everything required ... reaches"
        if token.lower_ in ("we", "us", "i", "me", "our", "my"):
            return self._speaker_of_quote(token) if token.i != 0 else None
        if token.lower_ in PLURAL_PRONOUNS | SINGULAR_PRONOUNS | {"which", "that", "who"}:
            return None
        if token.i in self.weapon_tokens:
            return None  # a weapon is never the source
        span = noun_phrase(token)
        if token.lemma_.lower() in NO_SOURCE and token.pos_ == "NOUN":
            return None  # "Moscow's support for the generals is unacceptable": no speaker
        generic = (
            token.lemma_.lower() in GENERIC_SOURCES
            and token.pos_ == "NOUN"
            and not any(t.pos_ == "PROPN" or t.i in self.actor_at for t in span)
        )
        if generic:
            for clause in (c for c in token.children if c.dep_ == "acl"):
                for agent in (c for c in clause.children if c.dep_ == "agent"):
                    # "footage geolocated by the Institute for the Study of War showed"
                    found = [g for g in agent.children if g.dep_ == "pobj"]
                    if found and found[0].i != token.i:
                        return self.name_of(found[0])
        if generic and token.lemma_.lower() == "company":
            companies = [m for i, m in self.actor_at.items() if i < token.i and m.kind == "company"]
            if companies:  # "the company said": the manufacturer named before
                return self.text[
                    self.doc[companies[-1].start].idx : self.doc[companies[-1].end - 1].idx
                    + len(self.doc[companies[-1].end - 1])
                ]
        if generic and self.last_source is not None:
            return self.last_source[1]  # "the report said": the source named before
        named = self._named_speaker_before(token.i) if generic else None
        if named:
            return named  # no claim named a source yet: the last named speaker before it
        if span.text.isupper() and span.text.isalpha() and 2 <= len(span.text) <= 6:
            expanded = self._expand_acronym(span.text)
            if expanded:
                return expanded
        people = [p for p in self.people if span.start <= p.start < span.end]
        if people:
            return self._full_name(people[-1])
        leaders = [
            m for i, m in self.actor_at.items() if span.start <= i < span.end and m.kind == "leader"
        ]
        if leaders and leaders[-1].start > span.start:
            # "South Korea's national security adviser Shin Won-sik": the office and the name
            if leaders[-1].end == span.end:
                return span.text
            return self._leader_name(self.doc[leaders[-1].start : leaders[-1].end])
        mention = self.actor_at.get(token.i)
        if mention is not None and mention.start == span.start and mention.end == span.end:
            if mention.kind == "leader":
                return self._leader_name(span)
            if mention.kind in ("capital", "metonym", "city"):
                name = self.ex.lex.actor_names.get(mention.code)
                if name and name.lower() not in span.text.lower():
                    return f"{span.text} ({name})"
            return span.text
        titled = self._person_by_title(span)
        if titled:
            return titled
        holder = self._office_holder(span)
        if holder:
            return f"{holder} ({span.text})"
        if len(span) == 1 and span[0].pos_ == "PROPN" and span[0].is_title:
            return self._full_name(span)  # a surname the model did not tag as a person
        return span.text or None

    def _named_speaker_before(self, i: int) -> str | None:
        """The subject of the last reporting verb before token `i` whose phrase has a
        proper name ("The Multilateral Sanctions Monitoring Team ... said")."""
        for verb in reversed(self.doc[:i]):
            lemma = verb.lemma_.lower()
            if verb.pos_ != "VERB" or lemma not in self.ex.report:
                continue
            for child in verb.children:
                if child.dep_ == "nsubj" and any(t.pos_ == "PROPN" for t in child.subtree):
                    if child.lemma_.lower() not in GENERIC_SOURCES:
                        return self.name_of(child)
        return None

    def _expand_acronym(self, acronym: str) -> str | None:
        """ "NIS" -> "National Intelligence Service (NIS)" where the article spells it out."""
        found = re.search(
            r"((?:[A-Z][\w'\u2019.-]*\s+(?:(?:of|for|and|the)\s+)*){2,8})\(" + acronym + r"\)",
            self.text,
        )
        if not found:
            # No "(NIS)" in the text: a run of capitalised words with those initials.
            words = r"\s+(?:(?:of|for|and|the)\s+)*".join(
                rf"{letter}[a-z'\u2019-]+" for letter in acronym
            )
            spelled = re.search(rf"\b({words})\b", self.text)
            return f"{spelled.group(1)} ({acronym})" if spelled else None
        name = re.sub(r"^(?:The|A|An)\s+", "", found.group(1).strip())
        return f"{name} ({acronym})"

    def _office_holder(self, span: Span) -> str | None:
        """The person an office phrase stands for anywhere in the article ("defence
        minister" -> "Defence Minister Mariusz Blaszczak"): the same office word in the
        person's title, else a shared distinctive word ("security chief" -> "national
        security adviser Shin Won-sik")."""
        head = span.root.lemma_.lower()
        if head not in self.ex.roles or span.root.pos_ != "NOUN":
            return None
        words = {
            t.lemma_.lower()
            for t in span
            if t.is_alpha and not t.is_stop and len(t) >= 5 and t.i not in self.actor_at
        }
        by_office = by_word = None
        for title_words, person in self.titles:
            inside = {t.lower_ for t in person}
            if head in title_words or head in inside:
                by_office = by_office or person
            elif words & (title_words - {head}):
                by_word = by_word or person
        for person in self.people:
            if by_office is None and head in {t.lower_ for t in person}:
                by_office = person  # "Admiral Samuel Paparo"
        found = by_office or by_word
        return self._full_name(found) if found is not None else None

    def _leader_name(self, span: Span) -> str:
        """The fullest earlier form of a leader's name ("Blinken" -> "Antony Blinken")."""
        words = {t.lower_ for t in span}
        best = span.text
        for other in [*lexicon_spans(self.doc, ACTOR_KEY), *self.people]:
            if other.start < span.start and words <= {t.lower_ for t in other}:
                if len(other.text) > len(best):
                    best = other.text
        return best

    def _full_name(self, person: Span) -> str:
        """The fullest form of a person's name the article uses ("Budanov" -> "Kyrylo
        Budanov"), whether the model tagged that form as a person or not."""
        words = {t.lower_ for t in person}
        best = person.text
        for other in self.people:
            if words <= {t.lower_ for t in other} and len(other.text) > len(best):
                best = other.text
        if len(person) == 1:
            best = max([best, *self._given_names(person[0].text)], key=len)
        return best.strip()

    def _given_names(self, surname: str) -> list[str]:
        """ "Kyrylo Budanov" wherever a capitalised given name stands before the surname."""
        found = []
        for i in self._positions.get(surname, ()):
            if i == 0:
                continue
            given = self.doc[i - 1]
            if (
                given.pos_ == "PROPN"
                and given.is_title
                and given.is_alpha
                and given.i not in self.actor_at
                and given.lower_ not in self.ex.roles
            ):
                found.append(f"{given.text} {surname}")
        return found

    @cached_property
    def _positions(self) -> dict[str, list[int]]:
        """Where each word of the document stands."""
        positions: dict[str, list[int]] = {}
        for token in self.doc:
            positions.setdefault(token.text, []).append(token.i)
        return positions

    def _last_person_before(self, i: int) -> str | None:
        before = [p for p in self.people if p.end <= i]
        return self._full_name(before[-1]) if before else None

    def _titles(self) -> list[tuple[set[str], Span]]:
        """Words that introduce each person ("the head of Defense Intelligence, X")."""
        titles = []
        for person in self.people:
            phrase = noun_phrase(person.root.head if person.root.dep_ == "appos" else person.root)
            words = {t.lemma_.lower() for t in phrase if t.is_alpha and not t.is_stop}
            for child in person.root.children:
                if child.dep_ == "appos":
                    words |= {
                        t.lemma_.lower() for t in child.subtree if t.is_alpha and not t.is_stop
                    }
            words -= {t.lower_ for t in person}
            if words:
                titles.append((words, person))
        return titles

    def _person_by_title(self, span: Span) -> str | None:
        if span.root.tag_ != "NN" or span.root.lemma_.lower() not in self.ex.roles:
            return None  # only an office names a person: "the head of ...", "Gur chief"
        words = {t.lemma_.lower() for t in span if t.is_alpha and not t.is_stop}
        head = span.root.lemma_.lower()
        best = None
        for title_words, person in self.titles:
            if person.start >= span.start:
                break
            if head in title_words and len(words & title_words) >= min(2, len(words)):
                best = person
        return self._full_name(best) if best is not None else None
