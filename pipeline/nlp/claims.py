"""The claim extractor: who supplied what to whom, who says so and how firmly.

It reads the dependency parse of each sentence that names a weapon, starting from the
trigger words of `lexicon/triggers.csv`, and fills roles from grammatical relations
(`roles.py`); pronouns and "the two countries" resolve to actors named just before
(`context.py`); attribution follows reporting verbs, "according to", quotations and "X said
this" (`attribution.py`); hedging and negation come from the cue words of `lexicon/cues.csv`
on the path from the trigger to the root (`polarity.py`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict

from spacy.language import Language
from spacy.tokens import Doc, Span, Token

from pipeline.nlp.common import (
    ACTOR_KEY,
    ANNOUNCING,
    LEAD_SENTENCES,
    OPERATING,
    WEAPON_KEY,
    release_lexicon_spans,
    unique,
)
from pipeline.nlp.context import DocState
from pipeline.nlp.lexicon import Lexicon, load_lexicon
from pipeline.nlp.polarity import is_hedged, is_hypothetical, is_negated
from pipeline.nlp.quantities import find_quantity
from pipeline.nlp.records import Claim, dedupe, gapped_claims, rule_name
from pipeline.nlp.roles import is_request_or_condition, read_roles
from pipeline.nlp.syntax import (
    coarse_pos,
    in_exchange,
    only_origin,
    path_to_root,
    preps_of,
    refers_back,
    refers_to_set,
    refers_to_weapons,
    subject_of,
    trigger_lemma,
)
from pipeline.nlp.systems import load_systems
from pipeline.nlp.weapon_phrases import (
    GENERIC_CLASSES,
    argument_weapon,
    weapon_groups,
    weapon_words,
)

# Kinds of actor alias that name a state itself, or its people.
STATE_NAMES = frozenset({"state", "capital", "metonym", "demonym", "demonym_plural"})
# The label of a word that stands for weapons named before ("the first shipment", "them").
REFERENCE = "REFERENCE"
# How far a document with no pair in its lead is read for its first pair.
FRAME_SENTENCES = 40

# Receiving verbs that send on when they name a destination ("got the shells to Ukraine").
GETTING = frozenset({"get"})

__all__ = ["ACTOR_KEY", "WEAPON_KEY", "Claim", "ClaimExtractor"]

if not Doc.has_extension("salvo_claims"):
    Doc.set_extension("salvo_claims", default=None)


class ClaimExtractor:
    def __init__(self, lexicon: Lexicon):
        self.lex = lexicon
        self.kinds: dict[tuple[str, str], str] = {}
        # Lower-case names of states (names, capitals, demonyms) -> (code, kind of name).
        self.state_aliases: dict[str, tuple[str, str]] = {}
        for alias in lexicon.actors:
            self.kinds.setdefault((alias.code, alias.text.lower()), alias.kind)
            if lexicon.actor_types.get(alias.code) == "state" and alias.kind in STATE_NAMES:
                self.state_aliases.setdefault(alias.text.lower(), (alias.code, alias.kind))
        cues = lexicon.cues
        self.report = cues.get("report", frozenset())
        self.hedge = cues.get("hedge", frozenset())
        self.deny = cues.get("deny", frozenset())
        self.negation = cues.get("negation", frozenset())
        self.request = cues.get("request", frozenset())
        self.roles = cues.get("role", frozenset())
        self.hedged_triggers = lexicon.hedged_triggers
        self.argument_starts = frozenset(w.split("-")[0] for w in lexicon.argument_weapons)
        # The words a trigger starts with (a phrasal one, "hand over", with its verb): a token
        # whose lemma is none of them is no trigger.
        self.trigger_words = frozenset(lemma.split()[0] for lemma, _ in lexicon.triggers)
        self.weapon_aliases = {w.text.lower(): w.code for w in lexicon.weapons}

    def _is_report_word(self, token: Token) -> bool:
        lemma = token.lemma_.lower()
        return lemma in self.report or lemma in self.deny

    # -- entry point -------------------------------------------------------------------
    def __call__(self, doc: Doc) -> Doc:
        try:
            state = DocState(doc, self)
            state.frame, state.lead_source = self.lead_frame(state)
            found: list[Claim] = []
            for index, sent in enumerate(state.sentences):
                claims = self.claims_in(state, sent, index)
                found.extend(claims)
                state.remember(claims, index)
        finally:
            release_lexicon_spans(doc)
        doc._.salvo_claims = [asdict(c) for c in found]
        return doc

    def claims_in(self, state, sent: Span, index: int) -> list[Claim]:
        weapons = state.weapons_in(sent)
        if not weapons and not any(
            (t.lemma_.lower(), coarse_pos(t)) in self.lex.implied_weapons
            or t.lower_ in self.argument_starts
            or (state.last_weapon and (refers_back(t) or refers_to_weapons(t)))
            for t in sent
        ):
            return []
        return self.sentence_claims(state, sent, weapons, index)

    def lead_frame(self, state) -> tuple[tuple[str, str] | None, str | None]:
        """The article's main supplier -> recipient pair: the pair the title and the lead
        state most often (the first stated on a tie), and the first source the lead names.
        Read in a first pass over those sentences whose context is then forgotten."""
        pairs: Counter[tuple[str, str]] = Counter()
        first: dict[tuple[str, str], int] = {}
        source = None
        for index, sent in enumerate(state.sentences):
            if index >= LEAD_SENTENCES and (pairs or index >= FRAME_SENTENCES):
                break  # the lead named no pair: the first pair the article states
            claims = self.claims_in(state, sent, index)
            state.remember(claims, index)
            for claim in claims:
                if claim.supplier and claim.recipient:  # a denied pair is still the topic
                    pair = (claim.supplier, claim.recipient)
                    pairs[pair] += 1
                    first.setdefault(pair, index)
                if index > 0 and source is None and claim.attributed_to:
                    source = claim.attributed_to
        state.forget()
        frame = max(pairs, key=lambda p: (pairs[p], -first[p])) if pairs else None
        return frame, source

    # -- one sentence ------------------------------------------------------------------
    def sentence_claims(self, state, sent: Span, weapons: list[Span], index: int) -> list[Claim]:
        candidates: list[Claim] = []
        used_weapons: set[int] = set()
        reporting = self._reporting_subjects(sent)
        for token in sent:
            if token.lemma_.lower() not in self.trigger_words:
                continue
            trigger = self.lex.triggers.get((trigger_lemma(token), coarse_pos(token)))
            if trigger is None:
                trigger = self.lex.triggers.get((token.lemma_.lower(), coarse_pos(token)))
            if trigger is None:
                continue
            relation, role = trigger
            for claim, weapon_starts in self.trigger_claims(
                state, sent, token, relation, role, weapons, index, reporting
            ):
                candidates.append(claim)
                used_weapons.update(weapon_starts)
        for weapon in weapons:
            if weapon.start in used_weapons:
                continue
            claim = self.origin_claim(state, sent, weapon, index)
            if claim is not None:
                candidates.append(claim)
        found = dedupe(candidates)
        return found + gapped_claims(state, sent, found, self.lex.actor_types)

    def trigger_claims(self, state, sent, token: Token, relation, role, weapons, index, reporting):
        weapon_tokens = {i for w in weapons for i in range(w.start, w.end)}
        goals = preps_of(token).get("to", []) + [
            g for o in token.children if o.dep_ == "dobj" for g in preps_of(o).get("to", [])
        ]
        sent_on = any(state.actor_codes(t) for t in goals if t.i not in weapon_tokens)
        if sent_on and (role == "user" or token.lemma_.lower() in GETTING):
            # "deployed troops to Russia", "the scheme got 1.5 million rounds to Ukraine":
            # the subject moves them to the one named.
            relation, role = "supply", "supplier"
        region, supplier_tokens, recipient_tokens, referring = read_roles(
            token, role, weapon_tokens
        )
        if role == "trainer" and not recipient_tokens:
            return []  # "the team trained in Spain": no crews, no know-how passed
        groups = weapon_groups(region, weapons, token)
        implied = self.lex.implied_weapons.get((token.lemma_.lower(), coarse_pos(token)))
        argument = None if groups else argument_weapon(region, self.lex.argument_weapons)
        if argument is not None:
            groups = [[argument]]  # "provided Pyongyang with technology"
        elif not groups and implied:
            # "arming the RSF" names weapons without a weapon word.
            groups = [[Span(token.doc, token.i, token.i + 1, label="WEAPON", span_id=implied)]]
        elif not groups and state.last_weapon and refers_back(token):
            # "The first shipment suffered failures": the transfer just reported, its weapons.
            last = state.last_weapon
            groups = [[Span(token.doc, token.i, token.i + 1, label=REFERENCE, span_id=last)]]
        elif not groups:
            # "Israel had bought them", "has handed over three", "both systems": words
            # that stand for the weapons named just before, in its sentence or earlier.
            pronoun = next((t for t in region if refers_to_weapons(t)), None)
            before = [w for w in weapons if w.end <= (pronoun.i if pronoun else -1)]
            last = state.weapon_class(before[-1], sent) if before else state.last_weapon
            if pronoun is not None and last:
                # "both systems", "passed them on": a plural word stands for every class
                # the last claim sentence named.
                classes = state.last_weapons if not before and refers_to_set(pronoun) else []
                groups = [
                    [Span(token.doc, pronoun.i, pronoun.i + 1, REFERENCE, span_id=c)]
                    for c in classes or [last]
                ]
        if not groups:
            return []
        if is_request_or_condition(token, self.request):
            return []
        groups = [g for g in groups if not is_hypothetical(token, g[0].root)]
        side = "recipient" if role in ("recipient", "recipient_agent") else "supplier"
        # A party that only reports ("drones that Kyiv says Russia uses") is no party.
        speakers = {
            i
            for verb, subject in reporting
            if verb.i != token.i
            # "the ministry published a list of its aid": the list is its own
            and not (token.head.i == verb.i and token.dep_ in ("dobj", "nsubjpass"))
            for i in subject
        }
        supplier_tokens = [t for t in supplier_tokens if t.i not in speakers]
        recipient_tokens = [t for t in recipient_tokens if t.i not in speakers]
        suppliers = state.actors_of_tokens(supplier_tokens, sent, index, side, referring)
        recipients = state.actors_of_tokens(recipient_tokens, sent, index, "recipient", referring)
        answered = self._answered_transfer(sent, token) if role == "recipient" else None
        if answered is not None and not suppliers:
            suppliers = self._paid_back_by(state, sent, answered, weapon_tokens, index)
            if not recipients and subject_of(token) is None:
                # "N. Korea sent Russia shells, got Pantsir air defence in return"
                first_giver = subject_of(answered)
                given = [first_giver] if first_giver is not None else []
                recipients = state.actors_of_tokens(given, sent, index, "supplier", set())
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
            if not rec and role == "supplier" and head.root.head.i == token.i:
                rec = state.fused_recipient(head.root)
            if relation == "use":
                origin = origin or state.known_origin(head)  # "the IAF used the S-400"
                if (
                    not origin
                    and rec
                    and all(self.lex.actor_types.get(r) == "non_state" for r in rec)
                ):
                    # Armed groups make no named systems: "Hezbollah has used the
                    # Shahed-101" uses the system's maker's weapon.
                    system = load_systems().find(head.text)
                    origin = system.origin if system is not None else None
                if not origin or not rec or origin in rec:
                    continue
                sup = [origin]
            elif relation == "produce":
                rec = []
                sup = unique(sup + state.co_producers(token))  # joint or hosted production
                if not sup:
                    continue
                if token.dep_ == "relcl" and group[0].id_ in GENERIC_CLASSES:
                    continue  # "the weapons it produced" speaks of an industry, not a system
                if only_origin(token):
                    continue  # "were made in North Korea" states an origin (R-P1)
            else:
                if not rec and sup:
                    rec = state.fallback_recipient(sent, token, sup, index)
                    inferred += bool(rec)
                if not sup and rec:
                    sup = state.fallback_supplier(rec, index)
                    inferred += bool(sup)
                if not sup and not rec:
                    pair = state.context_pair(sent, index) or state.denied_pair(token)
                    pair = pair or state.frame_pair(index)
                    if pair is None:
                        continue
                    sup, rec = [pair[0]], [pair[1]]
                    inferred += 2
                elif not (sup and rec):
                    # One side stated: the article's frame fills the other when it agrees.
                    filled = state.frame_fill(sup, rec, index)
                    if filled is not None:
                        sup, rec = filled
                        inferred += 1
            if argument is not None and not (any(sup) and any(rec)):
                continue  # "sells technology" alone is trade, not an arms transfer
            kind, rule = relation, None
            if sup and rec and in_exchange(head.root):
                # "jets in exchange for troops": what is paid with goes the other way.
                giver = [origin] if origin else rec
                sup, rec, rule = giver, [x for x in sup + rec if x not in giver][:1], "exchange"
                kind = "use" if head.id_ == "troops" else "supply"
            for s in sup or [None]:
                for r in rec or [None]:
                    if s is not None and s == r:
                        continue
                    claim = self._make(state, sent, token, kind, s, r, group, inferred, rule)
                    results.append((claim, {w.start for w in group}))
        return results

    def origin_claim(self, state, sent, weapon: Span, index: int) -> Claim | None:
        """A weapon of stated foreign origin no trigger word took: held, relied on or needed
        by another actor ("Russia's reliance on North Korean shells"), operated or fired by
        one ("Iranian drones launched by Russian forces"), or, failing that, in the hands of
        the article's main recipient when its origin is the article's main supplier
        ("North Korean soldiers in Kursk" in an article about troops sent to Russia)."""
        if self._trains(weapon.root):
            return None  # "Polish instructors trained Ukrainian crews": they pass know-how
        origin = state.origin_of(weapon.root) or state.pronoun_origin(weapon.root, sent, index)
        if origin is None:
            return self.referring_use(state, sent, weapon, index)
        if is_request_or_condition(weapon.root, self.request):
            return None
        if is_hypothetical(weapon.root):
            return None
        holders = state.beneficiaries(sent, weapon, exclude={origin})
        if holders:
            # Soldiers serving another state's forces are its use of troops (R-U1).
            kind = "use" if weapon.id_ == "troops" else "supply"
            return self._make(
                state, sent, None, kind, origin, holders[0], [weapon], rule="origin_holder"
            )
        using = state.use_context(weapon)
        users = state.users_of(weapon, exclude={origin}) if using is not None else []
        if users:
            return self._make(
                state, sent, None, "use", origin, users[0], [weapon], rule="origin_use"
            )
        frame = state.frame_pair(index)
        sent_before = state.by_class.get("troops") if weapon.id_ == "troops" else None
        if sent_before is not None:
            # Soldiers serve the state the article reported them sent to, whatever its main
            # transfer is; once it has reported others' soldiers sent, these are at home.
            frame = sent_before[:2] if sent_before[0] == origin else None
        if frame is None or origin == frame[1]:
            return None
        if (
            weapon.root.dep_ in ("compound", "amod")
            and weapon.root.head.i not in state.weapon_tokens
        ):
            return None  # "a Russian missile strike", "the Alabuga drone plant": no weapon held
        if frame[0] != origin and (using is None or using.lemma_.lower() not in OPERATING):
            # Another supplier's weapon is the frame recipient's only when it operates it
            # ("Ukraine fired US-made ATACMS"), not when it is hit or downs it.
            return None
        relation = "use" if using is not None or weapon.id_ == "troops" else "supply"
        if relation == "supply" and not any(t.pos_ in ("VERB", "AUX") for t in sent):
            return None  # a caption's "A Polish Leopard 2A4 during an exercise" moves nothing
        return self._make(
            state, sent, None, relation, origin, frame[1], [weapon], inferred=1, rule="origin_frame"
        )

    def _answered_transfer(self, sent: Span, token: Token) -> Token | None:
        """The supplying verb before a receiving verb "in return" / "in exchange"."""
        paid = ("return", "exchange")
        if not any(p.lemma_.lower() in paid for p in preps_of(token).get("in", [])):
            return None
        for verb in reversed(list(sent.doc[sent.start : token.i])):
            trigger = self.lex.triggers.get((trigger_lemma(verb), coarse_pos(verb)))
            if coarse_pos(verb) == "VERB" and trigger is not None and trigger[1] == "supplier":
                return verb
        return None

    def _paid_back_by(self, state, sent, head: Token, weapon_tokens, index) -> list[str]:
        """ "Pyongyang sent Moscow shells and got air defence in return": what comes back
        comes from the recipient of the transfer it answers."""
        _, _, their, referring = read_roles(head, "supplier", weapon_tokens)
        found = state.actors_of_tokens(their, sent, index, "recipient", referring)
        for goods in (c for c in head.children if c.dep_ == "dobj" and not found):
            found = state.fused_recipient(goods)  # "sent Moscow shells" read as one phrase
        return found

    def _trains(self, token: Token) -> bool:
        """Whether a word is the subject of a training verb ("Polish instructors have spent
        weeks training Ukrainian crews")."""
        return token.dep_ == "nsubj" and any(
            self.lex.triggers.get((t.lemma_.lower(), coarse_pos(t))) == ("supply", "trainer")
            and getattr(subject_of(t), "i", None) == token.i
            for t in token.head.subtree
        )

    def _reporting_subjects(self, sent: Span) -> list[tuple[Token, set[int]]]:
        """Each reporting verb of a sentence with the tokens of its subject and their
        conjuncts ("Kyiv and Western governments say"): a party that only reports is no
        party to the claim it reports."""
        found = []
        for verb in sent:
            if not self._is_report_word(verb) or coarse_pos(verb) != "VERB":
                continue
            if verb.lemma_.lower() in self.deny | ANNOUNCING:
                continue  # who denies or announces a transfer is often its party
            subject = {t.i for c in verb.children if c.dep_ == "nsubj" for t in c.subtree}
            if subject:
                found.append((verb, subject))
        return found

    def referring_use(self, state, sent, weapon: Span, index: int) -> Claim | None:
        """ "About 50 such missiles had hit six regions" after a supply of North Korean
        missiles to Russia: the referred transfer's weapons in use by its recipient."""
        if state.use_context(weapon) is None or is_hypothetical(weapon.root):
            return None
        pair = state.referred_transfer(weapon, state.weapon_class(weapon, sent), index)
        if pair is None:
            return None
        return self._make(
            state, sent, None, "use", pair[0], pair[1], [weapon], inferred=2, rule="referring_use"
        )

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
        if group[0].label_ == REFERENCE:
            # A referring word ("the one remaining consignment", "them") counts no weapons.
            quantity, quantity_text = None, None
        hedged = is_hedged(anchor, self.hedge)
        if trigger is not None and any(
            (lemma, coarse_pos(node)) in self.hedged_triggers
            for node in path_to_root(trigger)
            for lemma in (trigger_lemma(node), node.lemma_.lower())
        ):
            hedged = True  # "pledged a delivery of tanks", "held back a shipment"
        if rule == "exchange":
            hedged = False  # what is paid with is presupposed, hence asserted
        roles = int(supplier is not None) + int(recipient is not None)
        return Claim(
            relation=relation,
            supplier=supplier,
            recipient=recipient,
            weapon_class=state.weapon_class(group[0], sent),
            weapon_text=text,
            weapon_start=start,
            quantity=quantity,
            quantity_text=quantity_text,
            attributed_to=state.attribution(sent, anchor),
            hedged=hedged,
            negated=is_negated(anchor, self.deny, self.report, group[0].root),
            trigger_text=trigger.text if trigger is not None else None,
            calibre_mm=calibre,
            sentence_start=next((t.idx for t in sent if not t.is_space), sent.start_char),
            rule=rule or rule_name(trigger, relation, inferred),
            depth=len(list(path_to_root(anchor))),
            # Roles read off the parse outrank roles filled from context.
            roles=2 * (roles - inferred) + inferred + (1 if trigger is not None else 0),
        )


@Language.factory("salvo_claims")
def make_claim_extractor(nlp: Language, name: str) -> ClaimExtractor:
    return ClaimExtractor(load_lexicon())
