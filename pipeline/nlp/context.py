"""Per-document state: the actor and weapon mentions, and the discourse context a claim's
roles may come from (pronouns, "the two countries", the claim just before, the partners a
supplier was named with)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from spacy.tokens import Doc, Span, Token

from pipeline.nlp.attribution import Attribution, headline_source_span, line_of
from pipeline.nlp.common import (
    ACTOR_KEY,
    CONTEXT_SENTENCES,
    LEAD_SENTENCES,
    MODIFIER_DEPS,
    PAIR_NOUNS,
    PLURAL_PRONOUNS,
    RELATIVE_PRONOUNS,
    SINGULAR_PRONOUNS,
    WEAPON_KEY,
    Mention,
    unique,
)
from pipeline.nlp.discourse import (
    dateline_tokens,
    elliptic_mentions,
    paragraph_starts,
    refined_class,
)
from pipeline.nlp.origins import Origins
from pipeline.nlp.syntax import (
    SUBJECT_DEPS,
    path_to_root,
    receiving_position,
    subject_of,
)
from pipeline.nlp.weapon_phrases import elliptic_weapons, military_units, units_of

BARE_AMMUNITION = frozenset({"ammunition", "ammo"})
ARTILLERY_WORDS = frozenset(
    {"shell", "artillery", "round", "howitzer", "mm", "calibre", "caliber", "gun", "mortar"}
)


# The class of the ammunition of a weapon class ("HIMARS ammunition" is rockets).
AMMUNITION_OF = {
    "rocket_launcher": "rocket_launcher",
    "artillery_system": "artillery_ammunition",
    "air_defense": "air_defense",
}


class DocState(Attribution, Origins):
    """Per-document lookups: mention index, people, titles, the discourse context."""

    def __init__(self, doc: Doc, extractor: Any):
        self.doc = doc
        self.text = doc.text  # Doc.text joins every token on each call: read it once
        self.ex = extractor
        self.actor_at: dict[int, Mention] = {}
        for span in doc.spans[ACTOR_KEY] if ACTOR_KEY in doc.spans else []:
            kind = extractor.kinds.get((span.id_, span.text.lower()), "state")
            mention = Mention(span.id_, kind, span.start, span.end)
            for i in range(span.start, span.end):
                self.actor_at[i] = mention
        for i in dateline_tokens(doc):
            self.actor_at.pop(i, None)  # where the story was filed names no actor
        for mention in elliptic_mentions(doc, self.actor_at):
            self.actor_at[mention.start] = mention
        named = list(doc.spans[WEAPON_KEY]) if WEAPON_KEY in doc.spans else []
        shared = elliptic_weapons(doc, named, extractor.weapon_aliases)
        covered = {i for s in shared for i in range(s.start, s.end)}
        kinds = {i: m.kind for i, m in self.actor_at.items()}
        taken = {i for s in named + shared for i in range(s.start, s.end)}
        units = military_units(doc, taken, kinds)
        self.weapons = sorted(
            [s for s in named if s.start not in covered] + shared + units, key=lambda s: s.start
        )
        self.weapon_tokens = {i for w in self.weapons for i in range(w.start, w.end)}
        # People, less the place names the model tags as persons ("Kyiv").
        self.people: list[Span] = [
            e
            for e in doc.ents
            if e.label_ == "PERSON"
            and not (e.start in self.actor_at and self.actor_at[e.start].kind != "leader")
        ]
        self._link_leaders()
        self.titles = self._titles()
        self.last_claim: tuple[str | None, str | None, int] | None = None
        # Who each supplier was said to supply earlier in this document.
        self.partners: dict[str, Counter[str]] = {}
        self.sentences = list(doc.sents)
        self.sentence_at = [k for k, sent in enumerate(self.sentences) for _ in range(len(sent))]
        for start in paragraph_starts(doc):
            # A headline's source ("Seoul: ...", "... - US admiral") is no party to its claim.
            line = line_of(doc[start : start + 1], self.text)
            found = headline_source_span(line, self.weapon_tokens, extractor.roles, self.people)
            if found is not None:
                for i in range(found[0].start, found[0].end):
                    self.actor_at.pop(i, None)
        # The article's main supplier -> recipient pair and the lead's source (see
        # ClaimExtractor.lead_frame).
        self.frame: tuple[str, str] | None = None
        self.lead_source: str | None = None
        self.last_source: tuple[int, str] | None = None
        self.last_weapon: str | None = None  # the class of the last claim's weapon
        self.last_weapons: list[str] = []  # every class the last claim sentence named
        # The last transfer of each weapon class: "such missiles" refer back to it.
        self.by_class: dict[str, tuple[str, str, int]] = {}

    def remember(self, claims, index: int) -> None:
        """Keep the discourse context the next sentences may refer back to."""
        if claims:
            self.last_claim = (claims[-1].supplier, claims[-1].recipient, index)
            # A weapon the sentence named outlives one its trigger implied ("trained").
            named = [c for c in claims if c.weapon_text != c.trigger_text] or claims
            self.last_weapon = named[-1].weapon_class
            self.last_weapons = unique([c.weapon_class for c in named])
        for claim in claims:
            if claim.supplier and claim.recipient and not claim.negated:
                self.by_class[claim.weapon_class] = (claim.supplier, claim.recipient, index)
        named = [c.attributed_to for c in claims if c.attributed_to]
        if named and index > 0:
            self.last_source = (self.paragraph_of(self.sentences[index]), named[-1])
        for claim in claims:
            if claim.supplier and claim.recipient and not claim.negated:
                self.partners.setdefault(claim.supplier, Counter())[claim.recipient] += 1

    def forget(self) -> None:
        self.last_claim = None
        self.partners = {}
        self.last_source = None
        self.last_weapon = None
        self.last_weapons = []
        self.by_class = {}

    def weapons_in(self, sent: Span) -> list[Span]:
        return [w for w in self.weapons if sent.start <= w.start < sent.end]

    def _link_leaders(self) -> None:
        """A later short form of a leader's name ("Kim") acts for the same state."""
        leaders: list[tuple[set[str], Mention]] = []
        seen: set[int] = set()
        for span in self.doc.spans.get(ACTOR_KEY, []):
            mention = self.actor_at.get(span.start)
            if mention and mention.kind == "leader" and span.start not in seen:
                seen.add(span.start)
                leaders.append(({t.lower_ for t in span}, mention))
        for person in self.people:
            if person.start in self.actor_at:
                continue
            words = {t.lower_ for t in person if t.is_alpha}
            for names, mention in leaders:
                if words and words <= names and mention.start < person.start:
                    linked = Mention(mention.code, "leader", person.start, person.end)
                    for i in range(person.start, person.end):
                        self.actor_at[i] = linked
                    break

    # -- actors ---------------------------------------------------------------------------
    def actor_codes(self, token: Token, depth: int = 0) -> list[str]:
        mention = self.actor_at.get(token.i)
        codes: list[str] = []
        if mention is not None:
            codes.append(mention.code)
        elif depth < 3:
            for child in token.children:
                if child.dep_ == "appos" and child.lemma_.lower() in self.ex.roles:
                    continue  # "enterprises, the head of Ukraine's service, ...": a speaker
                if child.dep_ in MODIFIER_DEPS:
                    codes += self.actor_codes(child, depth + 1)
                elif child.dep_ == "prep" and child.lower_ in ("of", "in", "including"):
                    for pobj in child.children:
                        if pobj.dep_ == "pobj":
                            codes += self.actor_codes(pobj, depth + 1)
        if depth == 0:
            for conj in token.conjuncts:
                if conj.i > token.i and conj.i in self.actor_at:
                    codes.append(self.actor_at[conj.i].code)
        return unique(codes)

    def actors_of_tokens(
        self, tokens, sent: Span, index: int, role: str, referring: set[int]
    ) -> list[str]:
        codes: list[str] = []
        for token in tokens:
            if token is None:
                continue
            if token.lower_ in RELATIVE_PRONOUNS and token.head.dep_ == "relcl":
                token = token.head.head  # "North Korea, which has sent ..."
            found = self.actor_codes(token)
            if not found and token.i in referring | {t.i for t in tokens if t.dep_ == "poss"}:
                found = self.resolve_reference(token, sent, index, role)
            codes += found
        return unique(codes)

    def resolve_reference(self, token: Token, sent: Span, index: int, role: str) -> list[str]:
        """Pronouns and "the two countries" point back to actors named just before."""
        word = token.lower_
        if word in PAIR_NOUNS and any(c.lower_ in ("two", "both") for c in token.children):
            pair = self.context_pair(sent, index)
            return [c for c in pair if c] if pair else []
        if word not in PLURAL_PRONOUNS | SINGULAR_PRONOUNS:
            poss = [c for c in token.children if c.dep_ == "poss"]
            if poss and poss[0].lower_ in PLURAL_PRONOUNS | SINGULAR_PRONOUNS:
                return self.resolve_reference(poss[0], sent, index, role)
            return []
        # A subject named earlier in the same sentence ("Russia ... and it was boosting"),
        # but never the subject of the verb the pronoun is the object of: in "Sudan
        # blamed it for arming the RSF", "it" is someone other than Sudan.
        own = subject_of(token.head) if token.dep_ in ("dobj", "dative") else None
        for t in reversed(list(self.doc[sent.start : token.i])):
            if t.dep_ in SUBJECT_DEPS and self.actor_codes(t) and t != own:
                return self.actor_codes(t)[:1]
        if own is not None:  # the other party just named: "relations with the Emirates"
            excluded = set(self.actor_codes(own))
            for t in reversed(list(self.doc[sent.start : token.i])):
                codes = [c for c in self.actor_codes(t) if c not in excluded]
                if codes and t.dep_ in ("pobj", "dobj", "appos", "conj"):
                    return codes[:1]
        if self.last_claim and index - self.last_claim[2] <= CONTEXT_SENTENCES:
            supplier, recipient, _ = self.last_claim
            picked = supplier if role != "recipient" else recipient
            if picked:
                return [picked]
        for previous in reversed(self.sentences[max(0, index - CONTEXT_SENTENCES) : index]):
            for t in previous:
                if t.dep_ in SUBJECT_DEPS and self.actor_codes(t):
                    return self.actor_codes(t)[:1]
        return []

    def context_pair(self, sent: Span, index: int) -> tuple[str, str] | None:
        if self.last_claim and index - self.last_claim[2] <= CONTEXT_SENTENCES:
            supplier, recipient, _ = self.last_claim
            if supplier and recipient:
                return supplier, recipient
        return None

    def denied_pair(self, token: Token) -> tuple[str, str] | None:
        """ "Moscow and Pyongyang deny any arms transfers": the two deniers are the pair, in
        the direction this article already reported between them."""
        for node in path_to_root(token):
            if node.lemma_.lower() in self.ex.deny:
                subject = subject_of(node)
                codes = set(self.actor_codes(subject)) if subject is not None else set()
                if len(codes) != 2:
                    return None
                for supplier, counts in self.partners.items():
                    for recipient in counts:
                        if {supplier, recipient} == codes:
                            return supplier, recipient
                return None
        return None

    def fallback_recipient(
        self, sent: Span, trigger: Token, suppliers: list[str], index: int
    ) -> list[str]:
        """The other actor a supply sentence names in a receiving position, else the
        recipient of the claim just before about the same supplier."""
        for t in sent:
            mention = self.actor_at.get(t.i)
            if mention is None or mention.code in suppliers or t.i != mention.start:
                continue
            if self.ex.lex.actor_types.get(mention.code) not in ("state", "non_state"):
                continue
            head = self.doc[mention.end - 1]
            if head.dep_ == "poss" and not self._holds_goods(head.head):
                continue  # "Ukraine's intelligence chief" receives nothing
            if receiving_position(head):
                return [mention.code]
        if self.last_claim and index - self.last_claim[2] <= CONTEXT_SENTENCES:
            supplier, recipient, _ = self.last_claim
            if supplier in suppliers and recipient:
                return [recipient]
        # The one partner this supplier was named with earlier in the article.
        counts = self.partners.get(suppliers[0]) if len(suppliers) == 1 else None
        if counts:
            ranked = counts.most_common(2)
            if len(ranked) == 1 or ranked[0][1] > ranked[1][1]:
                return [ranked[0][0]]
        return []

    def fallback_supplier(self, recipients: list[str], index: int) -> list[str]:
        if self.last_claim and index - self.last_claim[2] <= CONTEXT_SENTENCES:
            supplier, recipient, _ = self.last_claim
            if recipient in recipients and supplier:
                return [supplier]
        return []

    # -- the document frame ----------------------------------------------------------------
    def frame_pair(self, index: int) -> tuple[str, str] | None:
        return self.frame

    def frame_fill(
        self, suppliers: list[str], recipients: list[str], index: int
    ) -> tuple[list[str], list[str]] | None:
        """The side a sentence leaves open, from the article's frame, when the side it
        states is the frame's and the filled party is named in the sentence's context: "The
        first tanks arrived in Ukraine" in a US -> UKR paragraph."""
        frame = self.frame_pair(index)
        if frame is None:
            return None
        named = self.context_codes(index)
        if suppliers and not recipients and frame[0] in suppliers and frame[1] in named:
            return suppliers, [frame[1]]
        if recipients and not suppliers and frame[1] in recipients and frame[0] in named:
            return [frame[0]], recipients
        return None

    def context_codes(self, index: int) -> set[str]:
        """Actors a sentence's context names (guidelines): the sentence and those before it
        in its paragraph, and for the title and the lead, the title. A title has no context
        but itself: the frame only mends a parse that lost a party it names."""
        paragraph = self.paragraph_of(self.sentences[index])
        found: set[str] = set()
        for earlier in reversed(self.sentences[: index + 1]):
            if self.paragraph_of(earlier) != paragraph:
                break
            found |= self.codes_in(earlier)
        if index < LEAD_SENTENCES:
            found |= self.codes_in(self.sentences[0])
        return found

    def codes_in(self, sent: Span) -> set[str]:
        return {self.actor_at[i].code for i in range(sent.start, sent.end) if i in self.actor_at}

    def weapon_class(self, weapon: Span, sent: Span) -> str:
        """A generic weapon word takes the class of what it refers back to in its paragraph
        (the title: in the lead)."""
        if weapon.id_ == "artillery_ammunition" and weapon.text.lower() in BARE_AMMUNITION:
            # "HIMARS ammunition" is the launcher's rockets, "howitzer ammunition" shells.
            for other in self.weapons:
                if other.end == weapon.start and other.root.head.i == weapon.root.i:
                    found = AMMUNITION_OF.get(other.id_)
                    if found:
                        return found
            # Bare "ammunition" is artillery ammunition only in an artillery context (R-W3).
            scope = self.doc[
                self.sentences[0].start : self.sentences[min(3, len(self.sentences) - 1)].end
            ]
            words = {t.lemma_.lower() for t in line_of(sent, self.text)} | {
                t.lemma_.lower() for t in scope
            }
            return weapon.id_ if words & ARTILLERY_WORDS else "weapons_general"
        if weapon.id_ == "aircraft" and weapon.text.lower() == "aircraft":
            # "The first six aircraft were handed over": the bare word for the drones its
            # paragraph named last.
            named = [
                w for w in self.weapons if w.end <= weapon.start and w.id_ in ("aircraft", "drone")
            ]
            paragraph = line_of(sent, self.text)
            if named and named[-1].id_ == "drone" and named[-1].start >= paragraph.start:
                return "drone"
            return weapon.id_
        if weapon.id_ not in ("missile", "weapons_general"):
            return weapon.id_
        if self.sentences and sent.start == self.sentences[0].start:
            end = self.sentences[min(len(self.sentences), 4) - 1].end
            scope = self.doc[sent.start : end]
        else:
            scope = line_of(sent, self.text)
        found = refined_class(weapon, self.weapons, scope)
        if found == "missile" and any(
            c.dep_ in ("det", "amod") and c.lower_ in ("the", "these", "those", "such")
            for c in weapon.root.children
        ):
            # "the missiles" / "such missiles" refer back to the last named missile system
            # of the article when their own paragraph names none.
            earlier = self.doc[0 : weapon.start]
            found = refined_class(weapon, self.weapons, earlier)
        return found

    def pronoun_origin(self, weapon: Token, sent: Span, index: int) -> str | None:
        """ "its troops", "their drones", "units of its army": the state the possessive
        pronoun refers to."""
        for child in [c for owner in [weapon, *units_of(weapon)] for c in owner.children]:
            if child.dep_ == "poss" and child.lower_ in PLURAL_PRONOUNS | SINGULAR_PRONOUNS:
                found = self.resolve_reference(child, sent, index, "supplier")
                return found[0] if found else None
        return None

    def referred_transfer(self, weapon: Span, weapon_class: str, index: int):
        """ "Such missiles", "the drones": the last transfer of that class reported in the
        few sentences before, as (supplier, recipient)."""
        if weapon_class in ("weapons_general", "other") or not any(
            c.dep_ in ("det", "amod") and c.lower_ in ("the", "these", "those", "such")
            for c in weapon.root.children
        ):
            return None
        found = self.by_class.get(weapon_class)
        if found is None or index - found[2] > 2 * CONTEXT_SENTENCES:
            return None
        return found[0], found[1]
