"""Where a weapon comes from and who holds, uses or makes it, read off its own phrase and
clause: "North Korean shells", "Iranian-made drones launched by Russian forces", "drones
helped Sudan's army", "built in China together with Russian companies"."""

from __future__ import annotations

from typing import Any

from spacy.tokens import Doc, Span, Token

from pipeline.nlp.common import (
    ENABLING_VERBS,
    HOLDINGS,
    MAKING_VERBS,
    ORIGIN_VERBS,
    USE_WORDS,
    WEAPON_KEY,
    Mention,
    lexicon_spans,
    unique,
)
from pipeline.nlp.syntax import coarse_pos, path_to_root
from pipeline.nlp.weapon_phrases import GENERIC_CLASSES, units_of

# Where a weapon is in service: "at the front", "on the front line", "on the battlefield".
SERVICE_PLACES = frozenset({"front", "frontline", "front-line", "battlefield", "airbase"})


# Where weapons are made: the country around one hosts the production.
PLANTS = frozenset({"factory", "factories", "plant", "plants", "facility", "shipyard", "site"})


class Origins:
    """A mixin of the per-document state (`context.DocState`)."""

    doc: Doc
    ex: Any
    actor_at: dict[int, Mention]
    weapon_tokens: set[int]

    def actor_codes(self, token: Token, depth: int = 0) -> list[str]:
        raise NotImplementedError  # context.DocState reads actor mentions

    def origin_of(self, head: Token, depth: int = 0) -> str | None:
        """The state a weapon comes from when its phrase says so: "North Korean shells",
        "Iran's drones", "Iranian-made missiles", "drones made in Iran". ("Missiles from
        Iran" is a supplier role, read elsewhere.)"""
        if depth > 2:
            return None
        for child in head.children:
            if child.dep_ in ("amod", "compound", "poss", "nmod", "npadvmod"):
                mention = self.actor_at.get(child.i)
                if mention and (
                    child.dep_ == "poss"
                    or mention.kind.startswith("demonym")
                    or self.ex.kinds.get((mention.code, child.lower_), "").startswith("demonym")
                    or self._demonym_before(child, mention)
                ):
                    return mention.code
            if child.dep_ in ("amod", "acl") and child.lemma_.lower() in ORIGIN_VERBS:
                for maker in child.subtree:  # "Iranian-made", "made in Iran", "built by Iran"
                    mention = self.actor_at.get(maker.i)
                    if mention is not None and maker.i != child.i:
                        return mention.code
            if child.dep_ in ("compound", "amod") and child.head.i == head.i:
                deeper = self.origin_of(child, depth + 1)
                if deeper:
                    return deeper
            if (
                child.dep_ == "relcl"
                and child.lemma_.lower() in MAKING_VERBS
                and any(c.dep_ == "auxpass" for c in child.children)
            ):
                found = self._maker_of(child)  # "the Shahed-136, which is built by Iran"
                if found:
                    return found
        for forces in units_of(head):  # "units of the Korean People's Army"
            mention = self.actor_at.get(forces.i)
            found = mention.code if mention is not None else self.origin_of(forces, depth + 1)
            if found:
                return found
        # A named system modifying a generic noun: "North Korean KN-23 missiles".
        if head.dep_ in ("compound", "amod", "nmod") and depth == 0:
            return self.origin_of(head.head, depth + 1)
        if depth == 0 and head.dep_ == "conj" and head.head.i in self.weapon_tokens:
            # "Iranian drones and missiles": the origin before the first weapon covers the
            # ones coordinated with it that state none of their own.
            return self.origin_of(head.head, depth + 1)
        verb = head.head
        if depth == 0 and head.dep_ == "nsubjpass" and verb.lemma_.lower() in MAKING_VERBS:
            return self._maker_of(verb)  # "missiles that Russia fired were made in North Korea"
        return None

    def _maker_of(self, verb: Token) -> str | None:
        """The state in a making verb's "in"/"by" phrase ("made in North Korea", "built by
        Iran's Qods Aviation Industries")."""
        for prep in verb.children:
            if prep.dep_ in ("prep", "agent") and prep.lower_ in ("in", "by"):
                for tok in prep.subtree:
                    mention = self.actor_at.get(tok.i)
                    if mention is not None and self.ex.lex.actor_types.get(mention.code) == "state":
                        return mention.code
        return None

    def _demonym_before(self, child: Token, mention: Mention) -> bool:
        """ "North Korean" inside a longer actor phrase ("North Korean leader")."""
        words = self.doc[mention.start : child.i + 1].text.lower()
        return self.ex.kinds.get((mention.code, words), "").startswith("demonym")

    def beneficiaries(self, sent: Span, weapon: Span, exclude: set[str]) -> list[str]:
        """Actors that hold, rely on or receive the weapon phrase: the possessor of the
        noun it depends on, or the object of "for"/"to" in its clause."""
        found: list[str] = []
        node = weapon.root
        for _ in range(4):
            if node.dep_ == "pobj" and node.head.dep_ == "prep":
                governor = node.head.head
                for child in governor.children:
                    if child.dep_ == "poss":
                        found += self.actor_codes(child)
                node = governor
            elif node.dep_ in ("nsubj", "nsubjpass", "conj"):
                node = node.head
            else:
                break
        clause = node if coarse_pos(node) == "VERB" or node.dep_ == "ROOT" else node.head
        if weapon.root.dep_ == "nsubj" and clause.lemma_.lower() in ENABLING_VERBS:
            # "Iranian-made drones help Sudan's army ...", "Israeli arms fuelled
            # Azerbaijan's offensive": whose side the weapons serve.
            for child in clause.children:
                if child.dep_ in ("dobj", "ccomp", "xcomp"):
                    subject = [c for c in child.children if c.dep_ in ("nsubj", "poss")]
                    for tok in [child, *subject]:
                        found += self.actor_codes(tok)
        # Soldiers "fighting alongside Russian troops" serve Russia (R-U1).
        beside = ("for", "to", "alongside") if weapon.id_ == "troops" else ("for", "to")
        for tok in clause.subtree:
            if tok.head.head.lower_ == "according":
                continue  # "according to Ukrainian officials" names a source, not a holder
            if tok.dep_ == "pobj" and tok.head.lower_ in beside:
                found += self.actor_codes(tok)
                if tok.head.lower_ == "alongside":
                    for modifier in (a for a in tok.children if a.dep_ == "amod"):
                        found += self.actor_codes(modifier)
        if clause.lemma_.lower() in ("remain", "be", "become") or coarse_pos(clause) == "VERB":
            for child in clause.children:
                if child.dep_ in ("attr", "acomp"):
                    for tok in child.subtree:
                        if tok.dep_ == "pobj" and tok.head.lower_ in ("for", "to"):
                            found += self.actor_codes(tok)
        return [
            c
            for c in unique(found)
            if c not in exclude and self.ex.lex.actor_types.get(c) in ("state", "non_state")
        ]

    def use_context(self, weapon: Span) -> Token | None:
        """The word that shows a weapon in use or in service (fired, launched, downed,
        fighting, seen at the front), on the way from the weapon up its clause."""
        node = weapon.root
        for _ in range(4):
            if node.lemma_.lower() in USE_WORDS and node.i != weapon.root.i:
                return node
            if weapon.root.dep_ in ("nsubj", "nsubjpass") or node.dep_ in ("relcl", "acl"):
                for child in node.children:
                    if child.lemma_.lower() in USE_WORDS and child.dep_ in ("relcl", "acl"):
                        return child
            if node.head.i == node.i or self.ex._is_report_word(node.head):
                break
            node = node.head
        if node.lemma_.lower() in USE_WORDS and node.i != weapon.root.i:
            return node
        return self._in_service_place(weapon.root)

    @staticmethod
    def _in_service_place(weapon: Token) -> Token | None:
        """ "seen at the front", "spotted on an air base": a weapon where forces fight or
        fly is in service (the claim guidelines), whatever verb places it there."""
        verb = next((n for n in path_to_root(weapon) if n.pos_ in ("VERB", "AUX")), None)
        if verb is None or any(c.dep_ == "aux" and c.tag_ == "MD" for c in verb.children):
            return None  # "will burn on the battlefield" is a threat, not a sighting
        for child in verb.children:
            if child.dep_ == "prep" and child.lower_ in ("at", "on", "near", "along", "to"):
                for place in child.children:
                    words = {place.lemma_.lower()} | {c.lower_ for c in place.children}
                    if place.lemma_.lower() in SERVICE_PLACES or {"air", "base"} <= words:
                        return verb
        return None

    def users_of(self, weapon: Span, exclude: set[str]) -> list[str]:
        """Who operates a weapon shown in use: the agent of "launched by Russian forces"."""
        verb = self.use_context(weapon)
        found: list[str] = []
        if verb is not None:
            for child in verb.children:
                if child.dep_ == "agent":
                    for pobj in child.children:
                        if pobj.dep_ == "pobj":
                            found += self.actor_codes(pobj)
        return [c for c in unique(found) if c not in exclude]

    def fused_recipient(self, weapon: Token) -> list[str]:
        """ "gave Pyongyang air defence systems" parsed as one noun phrase: a state name at
        the very start of the object, before the weapon words, is the dative."""
        first = min(weapon.subtree, key=lambda t: t.i)
        while first.dep_ in ("det", "nummod") and first.i < weapon.i:
            first = self.doc[first.i + 1]
        mention = self.actor_at.get(first.i)
        if (
            mention is not None
            and mention.start == first.i
            and mention.kind in ("state", "capital", "metonym", "government")
            and self.doc[mention.end - 1].dep_ in ("compound", "nmod")
            and mention.end <= weapon.i
        ):
            return [mention.code]
        return []

    def co_producers(self, trigger: Token) -> list[str]:
        """Partners and hosts of production: "built drones with Russia", "designed and
        built in China", "production of the drones at Chinese factories"."""
        found: list[str] = []
        node = trigger
        while node.dep_ == "conj" and node.head.i != node.i:
            node = node.head  # "designed and built in China": the first verb's phrases too
        for verb in {trigger.i: trigger, node.i: node}.values():
            passive = any(c.dep_ == "auxpass" for c in [*verb.children, *node.children])
            for prep in verb.children:
                if prep.dep_ != "prep":
                    continue
                word = prep.lower_
                objects = [c for c in prep.children if c.dep_ == "pobj"]
                if word == "with" or (word in ("in", "at") and (passive or verb.pos_ == "NOUN")):
                    for obj in objects:
                        found += self.actor_codes(obj)
                elif word in ("in", "at"):  # "can produce them at a factory in China"
                    for obj in objects:
                        if obj.lemma_.lower() in PLANTS:
                            for inner in obj.subtree:
                                found += self.actor_codes(inner) if inner.i != obj.i else []
                elif word == "together" or word == "jointly":
                    for inner in prep.subtree:
                        if inner.dep_ == "pobj":
                            found += self.actor_codes(inner)
            for obj in (c for c in verb.children if c.dep_ == "dobj"):
                for prep in obj.children:  # "building drones with Russia" parsed on the noun
                    if prep.dep_ == "prep" and prep.lower_ == "with":
                        for partner in prep.children:
                            found += self.actor_codes(partner) if partner.dep_ == "pobj" else []
                    if prep.dep_ == "prep" and prep.lower_ in ("in", "at"):
                        # "build an artillery shell plant in Lithuania": the plant's host
                        if obj.lemma_.lower() in PLANTS:
                            for place in prep.children:
                                found += self.actor_codes(place) if place.dep_ == "pobj" else []
            for child in verb.children:
                if child.dep_ == "advmod" and child.lower_ in ("together", "jointly"):
                    for inner in child.subtree:
                        if inner.dep_ == "pobj":
                            found += self.actor_codes(inner)
        return [c for c in unique(found) if self.ex.lex.actor_types.get(c) == "state"]

    def _holds_goods(self, noun: Token) -> bool:
        """Whether a possessed noun is something received: a weapon, an aid or supply word,
        a force or an arsenal ("Russia's arsenal", "Ukraine's air defences")."""
        if noun.i in self.weapon_tokens:
            return True
        lemma = noun.lemma_.lower()
        return (lemma, "NOUN") in self.ex.lex.triggers or lemma in HOLDINGS

    def known_origin(self, weapon: Span) -> str | None:
        """The origin the article gives a named system elsewhere ("Russian-made S-400s"
        before "the IAF used the S-400"), when it gives one and only one."""
        if weapon.id_ in GENERIC_CLASSES or not any(t.pos_ == "PROPN" for t in weapon):
            return None
        name = weapon.text.lower().rstrip("s")
        found = {
            origin
            for other in lexicon_spans(self.doc, WEAPON_KEY)
            if other.text.lower().rstrip("s") == name
            and (origin := self.origin_of(other.root)) is not None
        }
        return found.pop() if len(found) == 1 else None
