"""The claim extractor: who supplied what to whom, who says so and how firmly.

It reads the dependency parse of each sentence that names a weapon, starting from the
trigger words of `lexicon/triggers.csv`, and fills roles from grammatical relations
(subject, object, dative, "with"/"to"/"from" phrases, possessives, adjectival origin).
Pronouns and "the two countries" resolve to actors named just before; attribution follows
reporting verbs, "according to", quotations and "X said this"; hedging and negation come
from the cue words of `lexicon/cues.csv` on the path from the trigger to the root.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

from spacy.language import Language
from spacy.tokens import Doc, Span, Token

from pipeline.nlp.lexicon import Lexicon, load_lexicon
from pipeline.nlp.quantities import find_quantity
from pipeline.nlp.syntax import (
    OBJECT_DEPS,
    SUBJECT_DEPS,
    coarse_pos,
    copular_subject,
    next_is,
    noun_phrase,
    path_to_root,
    preps_of,
    receiving_position,
    reports_through,
    subject_of,
)
from pipeline.nlp.weapon_phrases import GENERIC_CLASSES, WEAPON_KEY, weapon_groups, weapon_words

ACTOR_KEY = "salvo_actors"

MODIFIER_DEPS = frozenset({"compound", "amod", "poss", "nmod", "appos", "npadvmod"})
PLURAL_PRONOUNS = frozenset({"they", "them", "their", "both"})
SINGULAR_PRONOUNS = frozenset({"it", "its"})
PERSON_PRONOUNS = frozenset({"he", "she", "him", "her", "his"})
# Nouns that say where a statement came from: "This follows from a statement by X".
SOURCE_NOUNS = frozenset(
    {
        "statement",
        "interview",
        "remark",
        "comment",
        "report",
        "briefing",
        "speech",
        "post",
        "testimony",
    }
)
UNNAMED_SOURCES = frozenset({"report", "media", "rumor", "rumour"})
# Verbs that announce a transfer without it having happened: their object is hedged.
ALSO_PREPOSITIONS = ("alongside", "including", "besides", "plus")
ANNOUNCING = frozenset(
    {
        "announce",
        "approve",
        "unveil",
        "authorize",
        "authorise",
        "sign",
        "finalize",
        "finalise",
        "greenlight",
        "clear",
        "propose",
    }
)
# Participles that state where a weapon came from: "Iranian-made", "US-supplied drones",
# "missiles supplied by North Korea".
ORIGIN_VERBS = frozenset(
    {
        "make",
        "build",
        "produce",
        "manufacture",
        "design",
        "develop",
        "supply",
        "provide",
        "give",
        "deliver",
        "send",
        "donate",
        "sell",
        "smuggle",
        "ship",
        "transfer",
        "export",
    }
)
# Verbs whose subject takes the transfer an event noun names: "Taiwan took delivery of ...".
TAKING_VERBS = frozenset({"take", "receive", "accept", "get", "await", "expect"})
RELATIVE_PRONOUNS = frozenset({"which", "that", "who", "whom"})
PAIR_NOUNS = frozenset({"countries", "nations", "states", "sides", "governments", "allies"})
QUOTES_OPEN = '\u201c"'
QUOTES_CLOSE = '\u201d"'
# How far back (in sentences) a pronoun or an unstated role may reach for its referent.
CONTEXT_SENTENCES = 3

if not Doc.has_extension("salvo_claims"):
    Doc.set_extension("salvo_claims", default=None)


@dataclass
class Claim:
    relation: str
    supplier: str | None
    recipient: str | None
    weapon_class: str
    weapon_text: str
    weapon_start: int
    quantity: float | None
    quantity_text: str | None
    attributed_to: str | None
    hedged: bool
    negated: bool
    trigger_text: str | None
    calibre_mm: str | None
    sentence_start: int
    rule: str = ""
    roles: int = field(default=0, repr=False)


@dataclass
class _Mention:
    code: str
    kind: str
    start: int  # token index
    end: int


class ClaimExtractor:
    def __init__(self, lexicon: Lexicon):
        self.lex = lexicon
        self.kinds: dict[tuple[str, str], str] = {}
        for alias in lexicon.actors:
            self.kinds.setdefault((alias.code, alias.text.lower()), alias.kind)
        cues = lexicon.cues
        self.report = cues.get("report", frozenset())
        self.hedge = cues.get("hedge", frozenset())
        self.deny = cues.get("deny", frozenset())
        self.negation = cues.get("negation", frozenset())
        self.request = cues.get("request", frozenset())
        self.roles = cues.get("role", frozenset())
        self.hedged_triggers = lexicon.hedged_triggers

    # -- entry point -------------------------------------------------------------------
    def __call__(self, doc: Doc) -> Doc:
        state = _DocState(doc, self)
        found: list[Claim] = []
        for index, sent in enumerate(doc.sents):
            weapons = state.weapons_in(sent)
            if weapons or any(
                (t.lemma_.lower(), coarse_pos(t)) in self.lex.implied_weapons for t in sent
            ):
                claims = self.sentence_claims(state, sent, weapons, index)
                found.extend(claims)
                if claims:
                    state.last_claim = (claims[-1].supplier, claims[-1].recipient, index)
                for claim in claims:
                    if claim.supplier and claim.recipient and not claim.negated:
                        state.partners.setdefault(claim.supplier, Counter())[claim.recipient] += 1
        doc._.salvo_claims = [asdict(c) for c in found]
        return doc

    # -- one sentence ------------------------------------------------------------------
    def sentence_claims(self, state, sent: Span, weapons: list[Span], index: int) -> list[Claim]:
        candidates: list[Claim] = []
        used_weapons: set[int] = set()
        for token in sent:
            trigger = self.lex.triggers.get((token.lemma_.lower(), coarse_pos(token)))
            if trigger is None:
                continue
            relation, role = trigger
            for claim, weapon_starts in self.trigger_claims(
                state, sent, token, relation, role, weapons, index
            ):
                candidates.append(claim)
                used_weapons.update(weapon_starts)
        for weapon in weapons:
            if weapon.start in used_weapons:
                continue
            claim = self.origin_claim(state, sent, weapon, index)
            if claim is not None:
                candidates.append(claim)
        return _dedupe(candidates)

    def trigger_claims(self, state, sent, token: Token, relation, role, weapons, index):
        weapon_tokens = {i for w in weapons for i in range(w.start, w.end)}
        if role == "user" and any(
            state.actor_codes(t) for t in preps_of(token).get("to", []) if t.i not in weapon_tokens
        ):
            relation, role = "supply", "supplier"  # "deployed troops to Russia" moves them
        region, supplier_tokens, recipient_tokens, referring = self._roles(
            token, role, weapon_tokens
        )
        groups = weapon_groups(region, weapons, token)
        implied = self.lex.implied_weapons.get((token.lemma_.lower(), coarse_pos(token)))
        if not groups and implied:
            # "arming the RSF" names weapons without a weapon word.
            groups = [[Span(token.doc, token.i, token.i + 1, label="WEAPON", span_id=implied)]]
        if not groups:
            return []
        if self._is_request_or_condition(token):
            return []
        side = "recipient" if role in ("recipient", "recipient_agent") else "supplier"
        suppliers = state.actors_of_tokens(supplier_tokens, sent, index, side, referring)
        recipients = state.actors_of_tokens(recipient_tokens, sent, index, "recipient", referring)
        if preps_of(token).get("between") and len(suppliers) == 2 and not recipients:
            # A two-way word ("exchange", "deal") gets its direction from the claim before,
            # else from the order the actors are named in.
            pair = state.context_pair(sent, index)
            if pair and set(pair) == set(suppliers):
                suppliers, recipients = [pair[0]], [pair[1]]
            else:
                suppliers, recipients = suppliers[:1], suppliers[1:]
        inferred = 0
        results = []
        for group in groups:
            head = group[0]
            origin = state.origin_of(head.root)
            # "delivery of tanks from the United States": roles on the weapon phrase itself.
            own = preps_of(head.root)
            sup = suppliers[:] or state.actors_of_tokens(
                own.get("from", []), sent, index, "supplier", set()
            )
            sup = sup or ([origin] if origin else [])
            rec = recipients[:] or state.actors_of_tokens(
                own.get("to", []), sent, index, "recipient", set()
            )
            if relation == "use":
                if not origin or not rec or origin in rec:
                    continue
                sup = [origin]
            elif relation == "produce":
                rec = []
                if not sup:
                    continue
                if token.dep_ == "relcl" and group[0].id_ in GENERIC_CLASSES:
                    continue  # "the weapons it produced" speaks of an industry, not a system
            else:
                if not rec and sup:
                    rec = state.fallback_recipient(sent, token, sup, index)
                    inferred += bool(rec)
                if not sup and rec:
                    sup = state.fallback_supplier(rec, index)
                    inferred += bool(sup)
                if not sup and not rec:
                    pair = state.context_pair(sent, index) or state.denied_pair(token)
                    if pair is None:
                        continue
                    sup, rec = [pair[0]], [pair[1]]
                    inferred += 2
            for s in sup or [None]:
                for r in rec or [None]:
                    if s is not None and s == r:
                        continue
                    results.append(
                        (
                            self._make(state, sent, token, relation, s, r, group, inferred),
                            {w.start for w in group},
                        )
                    )
        return results

    def origin_claim(self, state, sent, weapon: Span, index: int) -> Claim | None:
        """A weapon of stated foreign origin held, relied on or needed by another actor:
        "Russia's reliance on North Korean shells", "Iranian drones ... for the Russian army"."""
        origin = state.origin_of(weapon.root)
        if origin is None:
            return None
        holders = state.beneficiaries(sent, weapon, exclude={origin})
        if not holders:
            return None
        if self._is_request_or_condition(weapon.root):
            return None
        return self._make(
            state, sent, None, "supply", origin, holders[0], [weapon], rule="origin_holder"
        )

    # -- roles from the parse ------------------------------------------------------------
    def _roles(self, token: Token, role: str, weapon_tokens: set[int]):
        """Return (object region tokens, supplier-side tokens, recipient-side tokens, indices
        of the tokens that may be pronouns to resolve)."""
        region: list[Token] = []
        supplier: list[Token] = []
        recipient: list[Token] = []
        referring: set[int] = set()
        children = list(token.children)
        if coarse_pos(token) == "VERB":
            subject = subject_of(token)
            if subject is not None:
                referring.add(subject.i)
            passive = any(c.dep_ in ("nsubjpass", "auxpass") for c in children) or (
                token.dep_ == "acl" and token.tag_ == "VBN"  # "the missiles supplied by Iran"
            )
            agent = [
                g for c in children if c.dep_ == "agent" for g in c.children if g.dep_ == "pobj"
            ]
            patient = [c for c in children if c.dep_ in ("nsubjpass",)]
            objects = [c for c in children if c.dep_ in OBJECT_DEPS]
            datives = [c for c in children if c.dep_ == "dative"]
            preps = preps_of(token)
            if token.dep_ == "relcl":
                # "the missiles (that) Iran sent": the relative pronoun stands for the noun.
                objects = [token.head if o.lower_ in RELATIVE_PRONOUNS else o for o in objects]
                if not objects and not passive:
                    objects = [token.head]
            if passive:
                region += patient or ([token.head] if token.dep_ in ("relcl", "acl") else [])
                actor_side = agent
                referring.update(a.i for a in agent)
                if token.dep_ == "acl" and token.head.dep_ in ("dobj", "pobj"):
                    # "Hamas used weapons smuggled from Iran": the user holds what was sent.
                    holder = subject_of(token.head.head)
                    if holder is not None and role == "supplier":
                        recipient.append(holder)
            else:
                actor_side = [subject] if subject is not None else []
            for obj in objects + datives:
                region.append(obj)
            region += preps.get("with", []) + preps.get("of", [])
            for word in ALSO_PREPOSITIONS:  # "secured pledges, alongside access to technology"
                region += preps.get(word, [])
            if role in ("supplier", "producer", "user"):
                supplier += actor_side + preps.get("from", [])
                recipient += datives + preps.get("to", []) + preps.get("for", [])
                recipient += [
                    o for o in objects if o.i not in weapon_tokens
                ]  # "supplied Russia with"
                if role == "user":
                    recipient, supplier = actor_side, []
            else:  # recipient
                recipient += actor_side
                supplier += preps.get("from", [])
            for obj in objects:  # "secured supplies of missiles from Iran"
                supplier += preps_of(obj).get("from", []) if role == "recipient" else []
                recipient += preps_of(obj).get("to", []) if role == "supplier" else []
        else:
            preps = preps_of(token)
            region += preps.get("of", []) + [c for c in children if c.dep_ in ("compound", "amod")]
            region.append(token)
            if role == "agent":
                supplier += copular_subject(token)
                referring.update(t.i for t in supplier)
                supplier += [c for c in children if c.dep_ == "appos"]
                if token.dep_ == "appos":
                    supplier.append(token.head)
                recipient += [c for c in children if c.dep_ == "poss"]
                recipient += preps.get("to", []) + preps.get("for", [])
            elif role == "recipient_agent":
                recipient += copular_subject(token)
                referring.update(t.i for t in recipient)
                supplier += preps.get("from", []) + [c for c in children if c.dep_ == "poss"]
            else:  # event
                for pair in preps.get("between", []):  # "an arms exchange between the two"
                    referring.add(pair.i)
                    supplier.append(pair)
                supplier += [c for c in children if c.dep_ in ("poss", "amod", "compound")]
                supplier += preps.get("from", []) + preps.get("by", [])
                recipient += preps.get("to", []) + preps.get("for", [])
                governor = token.head
                if token.dep_ == "dobj" and governor.lemma_.lower() in TAKING_VERBS:
                    subject = subject_of(governor)
                    if subject is not None:
                        recipient.append(subject)
                        referring.add(subject.i)
                if token.dep_ in ("dobj", "nsubjpass") and governor.lemma_.lower() in ANNOUNCING:
                    # "The Pentagon announced a package of weapons for Ukraine."
                    subject = subject_of(governor, passive_agent=True)
                    if subject is not None:
                        supplier.append(subject)
                        referring.add(subject.i)
            poss = [c for c in children if c.dep_ == "poss"]
            referring.update(p.i for p in poss)  # "their supplies of shells"
        return region, supplier, recipient, referring

    def _is_request_or_condition(self, token: Token) -> bool:
        for node in path_to_root(token):
            if node.lemma_.lower() in self.request and node.i != token.i:
                return True
            if any(c.dep_ == "mark" and c.lower_ == "if" for c in node.children):
                return True
        return False

    # -- attributes ---------------------------------------------------------------------
    def _make(
        self,
        state,
        sent,
        trigger: Token | None,
        relation,
        supplier,
        recipient,
        group: list[Span],
        inferred: int = 0,
        rule: str | None = None,
    ) -> Claim:
        anchor = trigger if trigger is not None else group[0].root
        text, start, calibre = weapon_words(group)
        quantity, quantity_text = find_quantity(group[0])
        hedged = self._hedged(anchor)
        if (
            trigger is not None
            and (trigger.lemma_.lower(), coarse_pos(trigger)) in self.hedged_triggers
        ):
            hedged = True
        roles = int(supplier is not None) + int(recipient is not None)
        return Claim(
            relation=relation,
            supplier=supplier,
            recipient=recipient,
            weapon_class=group[0].id_,
            weapon_text=text,
            weapon_start=start,
            quantity=quantity,
            quantity_text=quantity_text,
            attributed_to=state.attribution(sent, anchor),
            hedged=hedged,
            negated=self._negated(anchor),
            trigger_text=trigger.text if trigger is not None else None,
            calibre_mm=calibre,
            sentence_start=next((t.idx for t in sent if not t.is_space), sent.start_char),
            rule=rule or _rule_name(trigger, relation, inferred),
            # Roles read off the parse outrank roles filled from context.
            roles=2 * (roles - inferred) + inferred + (1 if trigger is not None else 0),
        )

    def _hedged(self, token: Token) -> bool:
        for node in path_to_root(token):
            if node.dep_ in ("dobj", "nsubjpass") and node.head.lemma_.lower() in ANNOUNCING:
                return True  # announced or approved, not (yet) delivered
            words = [node] + [
                c
                for c in node.children
                if c.dep_ in ("aux", "advmod", "auxpass", "amod", "mark", "neg")
            ]
            for word in words:
                if word.lemma_.lower() in self.hedge or word.lower_ in self.hedge:
                    return True
        return False

    def _negated(self, token: Token) -> bool:
        for node in path_to_root(token):
            if node.i != token.i and node.lemma_.lower() in self.deny:
                return True
            for child in node.children:
                if child.dep_ == "neg" and not next_is(child, "only"):
                    return True
                if child.dep_ == "det" and child.lower_ == "no":
                    return True
            if node.lemma_.lower() in self.report and node.i != token.i:
                break
        return False


class _DocState:
    """Per-document lookups: mention index, people, titles, the discourse context."""

    def __init__(self, doc: Doc, extractor: ClaimExtractor):
        self.doc = doc
        self.ex = extractor
        self.actor_at: dict[int, _Mention] = {}
        for span in doc.spans[ACTOR_KEY] if ACTOR_KEY in doc.spans else []:
            kind = extractor.kinds.get((span.id_, span.text.lower()), "state")
            mention = _Mention(span.id_, kind, span.start, span.end)
            for i in range(span.start, span.end):
                self.actor_at[i] = mention
        self.weapons = sorted(
            (s for s in (doc.spans[WEAPON_KEY] if WEAPON_KEY in doc.spans else [])),
            key=lambda s: s.start,
        )
        self.weapon_tokens = {i for w in self.weapons for i in range(w.start, w.end)}
        self.people: list[Span] = [e for e in doc.ents if e.label_ == "PERSON"]
        self._link_leaders()
        self.titles = self._titles()
        self.last_claim: tuple[str | None, str | None, int] | None = None
        # Who each supplier was said to supply earlier in this document.
        self.partners: dict[str, Counter[str]] = {}
        self.sentences = list(doc.sents)

    def weapons_in(self, sent: Span) -> list[Span]:
        return [w for w in self.weapons if sent.start <= w.start < sent.end]

    def _link_leaders(self) -> None:
        """A later short form of a leader's name ("Kim") acts for the same state."""
        leaders: list[tuple[set[str], _Mention]] = []
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
                    linked = _Mention(mention.code, "leader", person.start, person.end)
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
                if child.dep_ in MODIFIER_DEPS:
                    codes += self.actor_codes(child, depth + 1)
                elif child.dep_ == "prep" and child.lower_ in ("of", "in"):
                    for pobj in child.children:
                        if pobj.dep_ == "pobj":
                            codes += self.actor_codes(pobj, depth + 1)
        if depth == 0:
            for conj in token.conjuncts:
                if conj.i > token.i and conj.i in self.actor_at:
                    codes.append(self.actor_at[conj.i].code)
        return _unique(codes)

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
        return _unique(codes)

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
        # A subject named earlier in the same sentence ("Russia ... and it was boosting").
        for t in reversed(list(self.doc[sent.start : token.i])):
            if t.dep_ in SUBJECT_DEPS and self.actor_codes(t):
                return self.actor_codes(t)[:1]
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
        # A named system modifying a generic noun: "North Korean KN-23 missiles".
        if head.dep_ in ("compound", "amod", "nmod") and depth == 0:
            return self.origin_of(head.head, depth + 1)
        return None

    def _demonym_before(self, child: Token, mention: _Mention) -> bool:
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
        for tok in clause.subtree:
            if tok.dep_ == "pobj" and tok.head.lower_ in ("for", "to"):
                found += self.actor_codes(tok)
        if clause.lemma_.lower() in ("remain", "be", "become") or coarse_pos(clause) == "VERB":
            for child in clause.children:
                if child.dep_ in ("attr", "acomp"):
                    for tok in child.subtree:
                        if tok.dep_ == "pobj" and tok.head.lower_ in ("for", "to"):
                            found += self.actor_codes(tok)
        return [
            c
            for c in _unique(found)
            if c not in exclude and self.ex.lex.actor_types.get(c) in ("state", "non_state")
        ]

    # -- attribution ---------------------------------------------------------------------
    def attribution(self, sent: Span, token: Token) -> str | None:
        speaker = self._speaker_in_tree(sent, token)
        if speaker is None:
            speaker = self._speaker_of_quote(token)
        if speaker is None:
            speaker = self._speaker_elsewhere_in_sentence(sent, token)
        if speaker is None:
            speaker = self._speaker_of_following_this(sent)
        return speaker

    def _speaker_in_tree(self, sent: Span, token: Token) -> str | None:
        path = list(path_to_root(token))
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
        return None

    def _according_to(self, according: Token) -> str | None:
        for t in according.subtree:
            if t.dep_ == "pobj":
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
        while start > verb.sent.start and not self.doc[start - 1].is_punct:
            start -= 1
        words = self.doc[start : verb.i]
        if not 0 < len(words) <= 10 or start == verb.sent.start:
            return None
        return self.name_of(words.root) if words.root.pos_ in ("NOUN", "PROPN", "PRON") else None

    def _speaker_of_quote(self, token: Token) -> str | None:
        """A claim inside quotation marks belongs to whoever the quote is attributed to."""
        text = self.doc.text
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
        sent = after.sent
        for t in sent:
            if t.idx > closed and self._is_report(t):
                name = self._subject_name(t)
                if name:
                    return name
        before = self.doc.char_span(opened, opened + 1, alignment_mode="expand")
        if before is not None:
            for t in before.sent:
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
        if words and words[0].lower_ in ("this", "that") and words[0].sent.start <= words[0].i:
            next_sent = words[0].sent
            if any(t.lemma_.lower() in SOURCE_NOUNS for t in next_sent):
                people = [p for p in self.people if next_sent.start <= p.start < next_sent.end]
                if people:
                    return self._full_name(people[0])
        for t in following:
            if t.sent.start != sent.end:
                break
            if self._is_report(t) and any(
                c.dep_ in OBJECT_DEPS and c.lower_ in ("this", "that", "so") for c in t.children
            ):
                return self._subject_name(t)
        return None

    # -- names ------------------------------------------------------------------------------
    def name_of(self, token: Token) -> str | None:
        """A readable name for a speaker phrase headed by `token`."""
        if token.lower_ in PERSON_PRONOUNS:
            person = self._last_person_before(token.i)
            return person
        if token.lower_ in PLURAL_PRONOUNS | SINGULAR_PRONOUNS | {"which", "that", "who"}:
            return None
        span = noun_phrase(token)
        people = [p for p in self.people if span.start <= p.start < span.end]
        if people:
            return self._full_name(people[-1])
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
        if len(span) == 1 and span[0].pos_ == "PROPN" and span[0].is_title:
            return self._full_name(span)  # a surname the model did not tag as a person
        return span.text or None

    def _leader_name(self, span: Span) -> str:
        """The fullest earlier form of a leader's name ("Blinken" -> "Antony Blinken")."""
        words = {t.lower_ for t in span}
        best = span.text
        for other in list(self.doc.spans.get(ACTOR_KEY, [])) + self.people:
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
        for token in self.doc:
            if token.text != surname or token.i == 0:
                continue
            given = self.doc[token.i - 1]
            if (
                given.pos_ == "PROPN"
                and given.is_title
                and given.is_alpha
                and given.i not in self.actor_at
                and given.lower_ not in self.ex.roles
            ):
                found.append(f"{given.text} {surname}")
        return found

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


def _rule_name(trigger: Token | None, relation: str, inferred: int) -> str:
    """A short stable name for the rule that made a claim: the kind of trigger and the
    relation, "+context" when a role came from the sentences before."""
    kind = "verb_frame" if trigger is not None and coarse_pos(trigger) == "VERB" else "nominal"
    return f"{kind}:{relation}" + ("+context" if inferred else "")


def _unique(values):
    out = []
    for v in values:
        if v and v not in out:
            out.append(v)
    return out


# When two triggers read the same weapon words with the same actors ("approved the sale of
# jets"), the more specific relation names the claim.
RELATION_RANK = {"supply": 0, "use": 1, "produce": 1, "purchase": 2}


def _dedupe(claims: list[Claim]) -> list[Claim]:
    """One claim per (relation, supplier, recipient, weapon class) in a sentence. Readings of
    the same weapon words compete: more roles read off the parse win; with the same actors,
    the more specific relation wins; different actors with equal support both stay
    ("Denmark and the Netherlands sent jets")."""
    best: dict[tuple, Claim] = {}
    for claim in claims:
        key = (claim.relation, claim.supplier, claim.recipient, claim.weapon_class)
        old = best.get(key)
        if old is None or claim.roles > old.roles:
            best[key] = claim
    kept: list[Claim] = []
    for claim in sorted(best.values(), key=lambda c: -c.roles):
        rival = next((k for k in kept if k.weapon_start == claim.weapon_start), None)
        if rival is None:
            kept.append(claim)
            continue
        same_actors = (rival.supplier, rival.recipient) == (claim.supplier, claim.recipient)
        if same_actors:
            if RELATION_RANK[claim.relation] > RELATION_RANK[rival.relation]:
                kept[kept.index(rival)] = claim
        elif claim.roles == rival.roles or claim.relation != rival.relation:
            kept.append(claim)
    return sorted(kept, key=lambda c: (c.weapon_start, c.relation))


@Language.factory("salvo_claims")
def make_claim_extractor(nlp: Language, name: str) -> ClaimExtractor:
    return ClaimExtractor(load_lexicon())
