"""Attribution: who a claim is attributed to, and the readable names of sources.

A mixin of the per-document state (`context.DocState`): it reads reporting verbs,
"according to", quotations and "X said this" around the claim word.
"""

from __future__ import annotations

from typing import Any

from spacy.tokens import Doc, Span, Token

from pipeline.nlp.common import (
    QUOTES_CLOSE,
    QUOTES_OPEN,
    RELATIVE_PRONOUNS,
    SOURCE_NOUNS,
    UNNAMED_SOURCES,
    Mention,
)
from pipeline.nlp.names import Names
from pipeline.nlp.syntax import (
    OBJECT_DEPS,
    coarse_pos,
    noun_phrase,
    path_to_root,
    reports_through,
    subject_of,
)

# Nouns for a written finding whose named author is a claim's source.
REPORT_NOUNS = frozenset(
    {"report", "investigation", "study", "analysis", "findings", "assessment", "dossier"}
)
# Heads of a source phrase after a headline's closing dash, besides the offices of cues.csv.
SOURCE_HEADS = frozenset(
    {"intelligence", "agency", "ministry", "army", "military", "official", "source", "media"}
)


class Attribution(Names):
    doc: Doc
    ex: Any  # the ClaimExtractor: its lexicon and cue words
    actor_at: dict[int, Mention]
    people: list[Span]
    titles: list[tuple[set[str], Span]]
    weapon_tokens: set[int]
    text: str
    sentences: list[Span]
    sentence_at: list[int]  # each token's sentence, an index into `sentences`
    lead_source: str | None
    # The last source named, and the paragraph (its first character) it was named in.
    last_source: tuple[int, str] | None

    def sentence_of(self, token: Token) -> Span:
        """`token.sent`, without spaCy's walk to the sentence's bounds on every call."""
        return self.sentences[self.sentence_at[token.i]]

    # -- attribution ---------------------------------------------------------------------
    def attribution(self, sent: Span, token: Token) -> str | None:
        speaker = self._speaker_in_sentence(sent, token)
        if speaker is not None and self.paragraph_of(sent) == 0 and self.lead_source:
            # "Ukraine says ..." over a lead naming "a Ukrainian official": one source, the
            # lead's fuller name for it.
            code = self._state_named(speaker)
            if code is not None and code in self._states_in(self.lead_source):
                return self.lead_source
        if speaker is not None:
            return speaker
        headline = self._headline_source(line_of(sent, self.text))
        if headline is not None:
            return headline  # "X: ...", "... - X"
        if self.paragraph_of(sent) == 0:
            return self.lead_source  # the title takes the source its lead names
        if self.last_source is not None and self.last_source[0] == self.paragraph_of(sent):
            return self.last_source[1]  # the source a paragraph names governs its sentences
        return None

    def _state_named(self, name: str) -> str | None:
        """The state a source name is nothing but ("Ukraine", "Kyiv (Ukraine)")."""
        bare = name.split(" (")[0].strip().lower()
        found = self.ex.state_aliases.get(bare)
        return found[0] if found and found[1] in ("state", "capital", "metonym") else None

    def _states_in(self, name: str) -> set[str]:
        words = name.lower()
        return {
            code
            for alias, (code, _) in self.ex.state_aliases.items()
            if f" {alias} " in f" {words} "
        }

    def paragraph_of(self, sent: Span) -> int:
        return self.text.rfind("\n", 0, sent.start_char) + 1

    def _headline_source(self, line: Span) -> str | None:
        """ "Budanov: Russian Pantsir ..." or "... in exchange for troops – US admiral"."""
        found = headline_source_span(line, self.weapon_tokens, self.ex.roles, self.people)
        if found is None:
            return None
        span, is_prefix = found
        return self.name_of(span.root) if is_prefix else span.text

    def _speaker_in_sentence(self, sent: Span, token: Token) -> str | None:
        for child in token.children:
            # "Spain's package, announced by the foreign minister": the announcer.
            if child.dep_ == "acl" and self._is_report(child):
                if any(c.dep_ == "agent" for c in child.children):
                    name = self._subject_name(child)
                    if name:
                        return name
        speaker = self._speaker_in_tree(sent, token)
        if speaker is None:
            speaker = self._speaker_of_quote(token)
        if speaker is None:
            speaker = self._speaker_elsewhere_in_sentence(sent, token)
        if speaker is None:
            speaker = self._speaker_of_following_this(sent)
        if speaker is None:
            speaker = self._according_anywhere(sent)
        return speaker

    def _speaker_in_tree(self, sent: Span, token: Token) -> str | None:
        path = list(path_to_root(token))
        for node in path[1:]:
            owner = self._report_owner(node)
            if owner is not None:
                return owner  # "UAE rejects Amnesty report linking it to Chinese weapons"
        for step, node in enumerate(path):
            for child in node.children:
                if child.lower_ == "according" and child.dep_ == "prep":
                    named = self._according_to(child)
                    if named:
                        return named
            if node.i != token.i and self._is_report(node) and reports_through(path, step):
                name = self._subject_name(node)
                if name:
                    return name
        root = sent.root
        for child in root.children:
            if child.dep_ in ("parataxis", "advcl", "ccomp") and self._is_report(child):
                name = self._subject_name(child)
                if name:
                    return name
            if child.dep_ == "conj" and self._is_report(child) and child.i > token.i:
                subject = [c for c in child.children if c.dep_ == "nsubj"]
                says_else = any(c.dep_ in ("ccomp", "xcomp", "dobj") for c in child.children)
                if subject and not says_else:  # not "..., and Budanov said it was ..."
                    # "Ukraine has received NASAMS ..., Defence Minister X said on Monday"
                    name = self.name_of(subject[0])
                    if name:
                        return name
            if (
                child.dep_ == "conj"
                and self._is_report(child)
                and not any(c.dep_ in ("nsubj", "nsubjpass") for c in child.children)
            ):
                # "China is providing ..., the head of the service, Oleh Ivashchenko, said":
                # the speaker stands before the comma, parsed onto the claim's last phrase.
                name = self._appositive_before(child)
                if name:
                    return name
        return None

    def _report_owner(self, noun: Token) -> str | None:
        """The named author of a report-like noun a claim sits in ("an Amnesty report
        linking ...", "the UN panel's findings"), else None."""
        if noun.pos_ != "NOUN" or noun.lemma_.lower() not in REPORT_NOUNS:
            return None
        for child in noun.children:
            if child.dep_ in ("compound", "poss") and child.pos_ == "PROPN":
                return self.name_of(child)
        return None

    def _according_anywhere(self, sent: Span) -> str | None:
        """ "..., according to SIPRI" hung on another phrase of the sentence."""
        for t in sent:
            if t.lower_ == "according" and t.dep_ == "prep":
                return self._according_to(t)
        return None

    def _appositive_before(self, verb: Token) -> str | None:
        i = verb.i - 1
        while i > self.sentence_of(verb).start and self.doc[i].is_punct:
            i -= 1
        last = self.doc[i]
        if last.dep_ == "appos" or any(p.start <= i < p.end for p in self.people):
            head = last
            while head.dep_ == "appos" and head.head.dep_ == "appos":
                head = head.head
            if head.dep_ == "appos" and head.head.dep_ == "pobj":
                office = head.head
                while office.dep_ in ("pobj", "prep") and office.head.i != office.i:
                    office = office.head
                if office.dep_ == "appos" and office.lemma_.lower() in self.ex.roles:
                    return f"{self.name_of(last)} ({noun_phrase(office).text})"
            return self.name_of(last)
        return None

    def _according_to(self, according: Token) -> str | None:
        for t in according.subtree:
            if t.dep_ == "pobj":
                owner = [c for c in t.children if c.dep_ == "poss"]
                if owner and owner[0].lower_ in ("our", "my", "his", "her", "their"):
                    return self.name_of(owner[0])  # "according to our information"
                author = [
                    a
                    for p in t.children
                    if p.dep_ == "prep" and p.lower_ in ("by", "from", "of")
                    for a in p.children
                    if a.dep_ == "pobj" and a.pos_ == "PROPN"
                ]
                # "according to figures the Czech Defence Ministry released"
                author += [
                    a
                    for clause in t.children
                    if clause.dep_ in ("relcl", "acl")
                    for a in clause.children
                    if a.dep_ == "nsubj" and a.pos_ == "PROPN"
                ]
                if author:
                    return self.name_of(author[0])  # "according to a report by Amnesty"
                if t.lemma_.lower() in UNNAMED_SOURCES and not any(
                    c.dep_ in ("compound", "amod", "poss") for c in t.children
                ):
                    return None  # "according to reports" names no one
                return self.name_of(t)
        return None

    def _is_report(self, token: Token) -> bool:
        lemma = token.lemma_.lower()
        return coarse_pos(token) == "VERB" and (lemma in self.ex.report or lemma in self.ex.deny)

    def _subject_name(self, verb: Token) -> str | None:
        subject = subject_of(verb, passive_agent=True)
        if (
            subject is None
            and verb.dep_ in ("conj", "advcl", "xcomp")
            and self._is_report(verb.head)
        ):
            return self._subject_name(verb.head)
        if subject is None:
            return self._name_before(verb)
        return self.name_of(subject)

    def _name_before(self, verb: Token) -> str | None:
        """ "..., the head of the unit said." parsed without a subject: the words between the
        last comma (or closing quote) and the reporting verb name the speaker."""
        start = verb.i
        while start > self.sentence_of(verb).start and not self.doc[start - 1].is_punct:
            start -= 1
        words = self.doc[start : verb.i]
        if not 0 < len(words) <= 10 or start == self.sentence_of(verb).start:
            return None
        return self.name_of(words.root) if words.root.pos_ in ("NOUN", "PROPN", "PRON") else None

    def _speaker_of_quote(self, token: Token) -> str | None:
        """A claim inside quotation marks belongs to whoever the quote is attributed to."""
        text = self.text
        pos = token.idx
        opened = max(text.rfind(q, 0, pos) for q in QUOTES_OPEN)
        if opened < 0:
            return None
        closed = -1
        for q in QUOTES_CLOSE:
            found = text.find(q, pos)
            if found >= 0 and (closed < 0 or found < closed):
                closed = found
        if closed < 0 or text[opened:pos].count("\n\n") or text[pos:closed].count("\n\n"):
            return None
        if "\u201d" in text[opened:pos]:  # the nearest opening quote was already closed
            return None
        paragraph_start = text.rfind("\n", 0, pos) + 1
        if text[opened] == '"' and text[paragraph_start:pos].count('"') % 2 == 0:
            return None  # straight quotes: an even count before us means we are outside
        after = self.doc.char_span(closed, min(len(text), closed + 1), alignment_mode="expand")
        if after is None:
            return None
        sent = self.sentence_of(self.doc[after.start])
        for t in sent:
            if t.idx > closed and self._is_report(t):
                name = self._subject_name(t)
                if name:
                    return name
        before = self.doc.char_span(opened, opened + 1, alignment_mode="expand")
        if before is not None:
            for t in self.sentence_of(self.doc[before.start]):
                if t.idx < opened and self._is_report(t):
                    name = self._subject_name(t)
                    if name:
                        return name
        return None

    def _speaker_elsewhere_in_sentence(self, sent: Span, token: Token) -> str | None:
        for t in sent:
            if t.i == token.i or not self._is_report(t):
                continue
            if t.dep_ in ("relcl", "ccomp", "advcl"):
                subject = subject_of(t)
                if subject is not None and subject.lower_ not in RELATIVE_PRONOUNS:
                    return self.name_of(subject)
            if (
                t.dep_ == "acl"
                and t.i > token.i
                and not any(c.dep_ in ("agent", "auxpass") for c in t.children)
                and t.head.i not in self.weapon_tokens
            ):
                # "..., South Korean intelligence reported" parsed as a clause on a noun.
                return self.name_of(t.head)
        return None

    def _speaker_of_following_this(self, sent: Span) -> str | None:
        """ "... stated this." or "This follows from a statement by X." in the next
        sentence attributes the sentence before it."""
        following = self.doc[sent.end : min(len(self.doc), sent.end + 40)]
        words = [t for t in following if not t.is_space]
        if words and words[0].lower_ in ("this", "that"):
            next_sent = self.sentence_of(words[0])
            if any(t.lemma_.lower() in SOURCE_NOUNS for t in next_sent):
                people = [p for p in self.people if next_sent.start <= p.start < next_sent.end]
                if people:
                    return self._full_name(people[0])
        for t in following:
            if self.sentence_of(t).start != sent.end:
                break
            if self._is_report(t) and any(
                c.dep_ in OBJECT_DEPS and c.lower_ in ("this", "that", "so") for c in t.children
            ):
                return self._subject_name(t)
        return None


def line_of(sent: Span, text: str | None = None) -> Span:
    """The line (paragraph) a sentence is in (`text`: the document's text, when at hand:
    `Doc.text` joins every token again on each call)."""
    doc = sent.doc
    text = doc.text if text is None else text
    start = text.rfind("\n", 0, sent.start_char) + 1
    end = text.find("\n", sent.start_char)
    span = doc.char_span(start, len(text) if end < 0 else end, alignment_mode="expand")
    return span if span is not None else sent


def headline_source_span(
    line: Span, weapon_tokens: set[int], roles: frozenset[str], people: list[Span]
) -> tuple[Span, bool] | None:
    """The source a headline-like line names outside its clause: a name before a colon
    ("Budanov: ...", "Read also: Seoul: ...") or a source after a closing dash ("... - US
    admiral", "... - Ukraine's intelligence chief"). Returns the span and whether it is the
    prefix."""
    doc = line.doc
    words = [t for t in line if not t.is_space]
    previous = -1
    for i, t in enumerate(words[:8]):
        if t.text != ":":
            continue
        head = doc[words[previous + 1].i : t.i] if previous + 1 < i else None
        previous = i
        if (
            head is not None
            and len(head) <= 4
            and all(w.is_title or w.is_upper or w.is_punct for w in head)
            and head.root.pos_ == "PROPN"
        ):
            if head.root.i not in weapon_tokens and head.root.lower_ not in ("read", "watch"):
                return head, True
    for i in range(len(words) - 1, max(0, len(words) - 8), -1):
        t = words[i]
        # A dash with a space before it: "anti-aircraft" has none.
        spaced = bool(words[i - 1].whitespace_)
        if t.text in ("-", "\u2013", "\u2014") and spaced and i < len(words) - 1 and i > 2:
            tail = doc[words[i + 1].i : words[-1].i + 1]
            if not any(w.pos_ == "VERB" for w in tail) and (
                tail.root.lemma_.lower() in roles | SOURCE_HEADS
                or any(p.start >= tail.start and p.end <= tail.end for p in people)
            ):
                return tail, False
            break
    return None
