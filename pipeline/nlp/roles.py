"""Role frames: which words around a trigger fill the supplier, recipient and weapon slots.

A trigger's lexicon row says what its grammatical subject is (supplier, recipient, user,
producer; for nouns: agent, recipient_agent, event); `read_roles` reads the other slots off
the dependency parse (objects, datives, "to"/"from"/"for"/"with"/"of" phrases, possessives).
"""

from __future__ import annotations

from spacy.tokens import Token

from pipeline.nlp.common import (
    ALSO_PREPOSITIONS,
    ANNOUNCING,
    ORIGIN_VERBS,
    RELATIVE_PRONOUNS,
    TAKING_VERBS,
    TRAINEES,
)
from pipeline.nlp.syntax import (
    EXCHANGE_NOUNS,
    OBJECT_DEPS,
    coarse_pos,
    copular_subject,
    is_infinitive,
    path_to_root,
    preps_of,
    subject_of,
    trigger_lemma,
)


def read_roles(token: Token, role: str, weapon_tokens: set[int]):
    """Return (object region tokens, supplier-side tokens, recipient-side tokens, indices
    of the tokens that may be pronouns to resolve). `role` is what the trigger's subject
    is: supplier, recipient, user, producer, trainer (the know-how passes to the trainees) or
    theme (the weapon itself: "arrived")."""
    region: list[Token] = []
    supplier: list[Token] = []
    recipient: list[Token] = []
    referring: set[int] = set()
    children = list(token.children)
    if token.lemma_.lower() in NEEDS_DESTINATION and not preps_of(token).get("to"):
        return region, supplier, recipient, referring  # "went into battle": nothing moved
    if coarse_pos(token) == "ADJ":
        # "The remaining 18 are due in Taiwan next year": a predicate adjective of arrival;
        # the copula's subject is what moves, its "in"/"to" place the recipient.
        verb = token.head
        subject = subject_of(verb) if token.dep_ == "acomp" else None
        if subject is None:
            return region, supplier, recipient, referring
        region.append(subject)
        for place_of in (token, verb):
            for word in ("in", "to", "into"):
                recipient += preps_of(place_of).get(word, [])
            supplier += preps_of(place_of).get("from", [])
        return region, supplier, recipient, referring
    if coarse_pos(token) == "VERB" and token.dep_ == "conj":
        # "designed and built in China": the second verb shares the first one's subject.
        if not any(c.dep_ in ("nsubj", "nsubjpass") for c in children):
            children += [c for c in token.head.children if c.dep_ in ("nsubjpass", "auxpass")]
    if coarse_pos(token) == "VERB":
        subject = subject_of(token)
        if (
            subject in (None, token.head)
            and token.dep_ in ("relcl", "acl")
            and (token.head.dep_ == "dobj")
        ):
            # "buy South Korean shells to send to Ukraine": the buyer sends them on.
            if is_infinitive(token):
                subject = subject_of(token.head.head)
        if subject is not None:
            referring.add(subject.i)
        passive = any(c.dep_ in ("nsubjpass", "auxpass") for c in children) or (
            token.dep_ == "acl" and token.tag_ == "VBN"  # "the missiles supplied by Iran"
        )
        agent = [g for c in children if c.dep_ == "agent" for g in c.children if g.dep_ == "pobj"]
        patient = [c for c in children if c.dep_ in ("nsubjpass",)]
        if not patient and token.dep_ == "xcomp" and any(c.dep_ == "auxpass" for c in children):
            # "bombs ... were to be shipped", "the jets are expected to be delivered": what
            # moves is the subject of the verb the passive depends on.
            patient = [c for c in token.head.children if c.dep_ in ("nsubj", "nsubjpass")]
        described = relative_antecedent(token)
        if described is not None and passive:
            # "the drones, which are built by Iran", "systems, which UN experts said had
            # been supplied by the UAE": the relative pronoun stands for the noun.
            patient += [c for c in children if c.dep_ == "nsubj" and c.lower_ in RELATIVE_PRONOUNS]
            patient = [described if p.lower_ in RELATIVE_PRONOUNS else p for p in patient]
        objects = [c for c in children if c.dep_ in OBJECT_DEPS]
        # "transfer three M270s": a designation the parser took for a number or adverb.
        objects += [c for c in children if c.dep_ == "npadvmod" and c.i in weapon_tokens]
        datives = [c for c in children if c.dep_ == "dative"]
        preps = preps_of(token)
        if token.dep_ == "advcl" and not objects and is_infinitive(token):
            # "buy Czech shells to send to Ukraine": the purpose verb's object is the shells.
            objects = [c for c in token.head.children if c.dep_ == "dobj"]
        if described is not None:
            # "the missiles (that) Iran sent", "missiles that Washington says Tehran
            # shipped": the relative pronoun stands for the noun.
            objects = [described if o.lower_ in RELATIVE_PRONOUNS else o for o in objects]
            if not passive and not objects:
                objects = [described]
            elif (
                not passive
                and described.i in weapon_tokens
                and not any(t.i in weapon_tokens for o in objects for t in o.subtree)
            ):
                # "Fath-360 missiles it gave Russia": the object named is who got them.
                objects.append(described)
        if passive:
            goods = described or (token.head if token.dep_ == "acl" else None)
            region += patient or ([goods] if goods is not None else [])
            actor_side = agent
            referring.update(a.i for a in agent)
            if (
                goods is not None
                and goods.dep_ in ("dobj", "pobj")
                and not (preps_of(token).get("to") or preps_of(token).get("for"))
            ):
                # "Hamas used weapons smuggled from Iran", "Haftar's forces fielded Pantsirs,
                # which had been supplied by the UAE": the user holds what was sent.
                holder = subject_of(goods.head)
                if holder is not None and role == "supplier":
                    recipient.append(holder)
        else:
            actor_side = [subject] if subject is not None else []
        if role == "carrier":
            # "Belarusian trains carrying T-72 tanks": a vehicle that carries weapons
            # moves them for the state it belongs to; anything else that carries them (a
            # jet carrying bombs) is using them.
            vehicle = subject if subject is not None else None
            if vehicle is None or vehicle.lemma_.lower() not in VEHICLES:
                return [], [], [], referring
            region += objects
            supplier += [vehicle] + preps.get("from", [])
            recipient += preps.get("to", []) + preps.get("for", [])
            return region, supplier, recipient, referring
        if role == "interceptor":
            # "Yemeni forces seized Iranian weapons bound for the Houthis": whoever seizes
            # is no party; the goods' origin and destination are.
            region += patient if passive else objects
            for goods in region:
                recipient += destination(goods)
            return region, supplier, recipient, referring
        if role == "trainer":
            # "Britain trains Ukrainian crews": what passes is know-how, the trainees (the
            # object; the subject when passive or without object) are the recipient, and
            # the trainer is the subject or the agent.
            region = []  # the trainees are people, never the weapon
            trainees = patient if passive else objects
            if not trainees and not passive:
                trainees, actor_side = actor_side, []
            # People who serve: "Ukrainian crews", "dozens of Armenian officers".
            trainees = [
                person
                for t in trainees
                for person in [t, *preps_of(t).get("of", [])]
                if person.lemma_.lower() in TRAINEES
            ]
            recipient += trainees + preps.get("for", [])
            # Where they train is not who trains them (US crews teach in Germany).
            supplier += actor_side + preps.get("by", [])
            referring.update(t.i for t in trainees)
            return region, supplier, recipient, referring
        if role == "theme":
            # "The first F-16s have arrived in Ukraine", "a Pantsir was installed in
            # Pyongyang": the subject is what moved, the place it reached the recipient.
            region += patient if passive else actor_side
            for word in ("in", "into", "to"):
                recipient += preps.get(word, [])
            recipient += objects
            supplier += preps.get("from", [])
            # "the weapons Azerbaijan imported came from Israel", "60% of the weapons ..."
            for moved in region + [o for m in region for o in preps_of(m).get("of", [])]:
                for clause in moved.children:
                    if clause.dep_ == "relcl" and clause.lemma_.lower() in RECEIVING:
                        recipient += [c for c in clause.children if c.dep_ == "nsubj"]
            return region, supplier, recipient, referring
        if any(o.lemma_.lower() in NAMING_NOUNS for o in objects):
            # "which Russian forces have given the name Geran-2": a name moves nothing.
            return [], [], [], referring
        for obj in objects + datives:
            region.append(obj)
        for word in ("in", "as"):  # "gave jets in return for troops": the troops too
            for noun in preps.get(word, []):
                if noun.lemma_.lower() in EXCHANGE_NOUNS:
                    region += preps_of(noun).get("for", [])
        partners = []
        if token.lemma_.lower() in SHARING:  # "with" on the verb or on what is shared
            partners = preps.get("with", [])
            partners += [w for o in objects for w in preps_of(o).get("with", [])]
        recipient += partners  # "shared know-how with Riyadh": a partner, not the goods
        region += [t for t in preps.get("with", []) if t not in partners] + preps.get("of", [])
        for word in ALSO_PREPOSITIONS:  # "secured pledges, alongside access to technology"
            region += preps.get(word, [])
            for goal in preps.get("to", []):  # "weapons to Russia, including gunpowder"
                region += preps_of(goal).get(word, [])
            if token.dep_ in ("acl", "relcl"):
                # "information that Beijing was supplying weapons, including gunpowder":
                # the list hung on the noun the clause describes.
                region += [t for t in preps_of(token.head).get(word, []) if t.i > token.i]
        for goal in [t for t in preps.get("to", []) if t.lemma_.lower() in GROUP_NOUNS]:
            # "sold the TB2 to more than 30 countries, including Ukraine and Qatar"
            for listed in preps_of(goal).get("including", []) + preps_of(goal).get("like", []):
                preps.setdefault("to", []).extend([listed, *listed.conjuncts])
        if role in ("supplier", "producer", "user"):
            # "held back bombs from Israel": who goes without is the recipient.
            away = "recipient" if trigger_lemma(token) in WITHHOLDING else "supplier"
            supplier += actor_side + (preps.get("from", []) if away == "supplier" else [])
            recipient += datives + preps.get("to", []) + preps.get("for", [])
            recipient += preps.get("from", []) if away == "recipient" else []
            # "supplied Russia with"; never a number that stands for the weapons ("promising
            # eight and Spain six").
            recipient += [o for o in objects if o.i not in weapon_tokens and not o.like_num]
            if role == "user":
                recipient, supplier = actor_side, []
        else:  # recipient
            # "allocated funds to purchase shells for Ukraine": bought for an end user.
            end_users = []
            if token.lemma_.lower() in BUYING:
                end_users = [  # a name: "for use in the invasion of Ukraine" is a purpose
                    f
                    for buying in [token, *objects]
                    for f in preps_of(buying).get("for", [])
                    if f.pos_ == "PROPN"
                ]
            recipient += end_users or actor_side
            supplier += preps.get("from", [])
        for obj in objects:  # "secured supplies of missiles from Iran"
            supplier += preps_of(obj).get("from", []) if role == "recipient" else []
            recipient += preps_of(obj).get("to", []) if role == "supplier" else []
    else:
        preps = preps_of(token)
        region += preps.get("of", []) + [c for c in children if c.dep_ in ("compound", "amod")]
        region.append(token)
        if token.dep_ == "appos":  # "the howitzers, a gift from Pyongyang"
            region.append(token.head)
        if role == "agent":
            supplier += copular_subject(token)
            referring.update(t.i for t in supplier)
            supplier += [c for c in children if c.dep_ == "appos"]
            # "Russian suppliers accounted for ...", "the Chinese exporter"
            supplier += [c for c in children if c.dep_ in ("amod", "compound")]
            if token.dep_ == "appos":
                supplier.append(token.head)
            recipient += [c for c in children if c.dep_ == "poss"]
            recipient += preps.get("to", []) + preps.get("for", [])
        elif role == "recipient_agent":
            recipient += copular_subject(token)
            referring.update(t.i for t in recipient)
            supplier += preps.get("from", []) + [c for c in children if c.dep_ == "poss"]
        elif role == "order":
            _order_roles(token, region, supplier, recipient, referring)
        else:  # event
            for pair in preps.get("between", []):  # "an arms exchange between the two"
                referring.add(pair.i)
                supplier.append(pair)
            governor = token.head
            held = token.dep_ == "dobj" and trigger_lemma(governor) in WITHHOLDING
            supplier += [c for c in children if c.dep_ in ("poss", "amod", "compound")]
            supplier += preps.get("by", []) + ([] if held else preps.get("from", []))
            recipient += preps.get("to", []) + preps.get("for", [])
            recipient += destination(token)  # "a Houthi-bound cargo", "cargo bound for"
            if token.dep_ in ("dobj", "nsubjpass"):
                for word in ALSO_PREPOSITIONS:  # "announced a package on Friday, including"
                    region += preps_of(governor).get(word, [])
            if held:  # "held back a shipment of bombs from Israel"
                recipient += preps.get("from", []) + preps_of(governor).get("from", [])
            if token.dep_ == "dobj" and governor.lemma_.lower() in TAKING_VERBS:
                subject = subject_of(governor)
                if subject is not None:
                    recipient.append(subject)
                    referring.add(subject.i)
            region += contents(token)
            if token.dep_ in ("dobj", "nsubjpass") and (
                governor.lemma_.lower() in ANNOUNCING | STARTING or held
            ):
                # "The Pentagon announced a package of weapons for Ukraine."
                subject = subject_of(governor, passive_agent=True)
                if subject is not None:
                    supplier.append(subject)
                    referring.add(subject.i)
        poss = [c for c in children if c.dep_ == "poss"]
        referring.update(p.i for p in poss)  # "their supplies of shells"
    return region, supplier, recipient, referring


# Verbs whose subject carries out the event noun they take: "Russia began serial
# production of the drone", "Moscow completed deliveries of the S-400".
STARTING = frozenset(
    {"begin", "start", "launch", "resume", "expand", "complete", "finish", "step", "ramp"}
)
# Vehicles that carry weapons from one party to another.
VEHICLES = frozenset(
    {"train", "ship", "vessel", "truck", "lorry", "convoy", "plane", "flight", "freighter", "dhow"}
)
# Participles that name where goods are going: "bound for Hezbollah", "Houthi-bound".
DESTINED = frozenset({"bound", "destined", "headed", "heading"})


def destination(goods: Token) -> list[Token]:
    """Where a noun's goods are headed: "weapons bound for the Houthis", "a Hezbollah-bound
    cargo" (the actor before "-bound")."""
    found: list[Token] = []
    for child in goods.children:
        if child.dep_ in ("acl", "amod") and child.lower_ in DESTINED:
            found += preps_of(child).get("for", []) + preps_of(child).get("to", [])
            found += [c for c in child.children if c.dep_ in ("npadvmod", "compound", "nmod")]
    return found


def relative_antecedent(verb: Token) -> Token | None:
    """The noun a relative clause describes, when `verb` heads the clause or is reported in
    it ("the missiles that Washington says Tehran shipped")."""
    if verb.dep_ == "relcl":
        return verb.head
    if verb.dep_ == "ccomp" and verb.head.dep_ == "relcl":
        return verb.head.head
    return None


def contents(goods: Token) -> list[Token]:
    """What a shipment, package or order is said to hold: "a new consignment that included
    shells and tanks", "the shipment contained 450 drones", "the order also includes 84
    ATACMS"."""
    found: list[Token] = []
    for clause in goods.children:
        if clause.dep_ in ("relcl", "acl") and clause.lemma_.lower() in CONTAINING:
            found += [c for c in clause.children if c.dep_ in OBJECT_DEPS]
    if goods.dep_ == "nsubj" and goods.head.lemma_.lower() in CONTAINING:
        found += [c for c in goods.head.children if c.dep_ in OBJECT_DEPS]
    return found


# Objects of a giving verb that name a thing rather than move it.
NAMING_NOUNS = frozenset({"name", "designation", "nickname", "moniker", "codename"})
# Theme verbs that move a weapon only with a "to" phrase ("had gone to Israel").
NEEDS_DESTINATION = frozenset({"go", "move", "flow"})
# Nouns for a set of parties whose "including" list names them.
GROUP_NOUNS = frozenset({"country", "nation", "state", "customer", "buyer", "government", "ally"})
# Verbs whose "from" names the recipient kept waiting, not the supplier.
WITHHOLDING = frozenset({"withhold", "hold back", "hold up", "delay"})
# Verbs whose "with" names who the thing goes to ("share technology with Kyiv").
SHARING = frozenset({"share"})
# Verbs whose subject received the thing their relative clause describes.
RECEIVING = frozenset({"import", "buy", "receive", "acquire", "purchase", "get", "obtain"})
# Verbs whose subject (a shipment, a package) names what it holds in their object.
CONTAINING = frozenset({"contain", "include", "comprise", "feature", "cover"})
# Verbs whose subject is the buyer of the contract they take ("Poland signed a deal"), and
# those whose subject is the seller ("Hyundai won a contract").
SIGNING = frozenset({"sign", "conclude", "finalize", "finalise", "ink", "seal", "place", "agree"})
WINNING = frozenset({"win", "land", "clinch"})
FRAMING_PREPOSITIONS = frozenset({"under", "through", "via", "as"})


# Verbs of buying whose "for" phrase can name the end user.
BUYING = frozenset({"buy", "purchase", "procure", "acquire", "order"})


def _order_roles(token: Token, region, supplier, recipient, referring) -> None:
    """A contract, order, deal or import that belongs to its buyer: "Poland's contract with
    Hyundai Rotem for 180 tanks", "India signs deal with France for 26 fighters", "the
    jets will come under an agreement with France", "India's arms imports from Russia"."""
    children = list(token.children)
    preps = preps_of(token)
    for pair in preps.get("between", []):  # "a deal between Belarus and Myanmar"
        referring.add(pair.i)
        supplier.append(pair)
    recipient += [c for c in children if c.dep_ in ("poss", "amod", "compound")]
    supplier += preps.get("with", []) + preps.get("from", []) + preps.get("by", [])
    region += preps.get("for", []) + preps.get("of", []) + [token] + contents(token)
    recipient += [t for t in preps.get("for", []) if t.pos_ == "PROPN"]
    governor = token.head
    holder = _share_holder(token)
    if holder is not None:  # "France accounted for 29% of Qatar's arms imports"
        supplier.append(holder)
        referring.add(holder.i)
        return
    if token.dep_ == "pobj" and governor.lower_ in FRAMING_PREPOSITIONS:
        # "will get 26 fighters under a deal with France": the clause's own roles.
        verb = governor.head
        subject = subject_of(verb) if coarse_pos(verb) == "VERB" else None
        if subject is not None and verb.lemma_.lower() in ORIGIN_VERBS:
            # "Lockheed will build 24 jets for Bulgaria under a contract": the seller's verb.
            supplier.append(subject)
            recipient += preps_of(verb).get("for", []) + preps_of(verb).get("to", [])
            referring.add(subject.i)
        elif subject is not None:
            recipient.append(subject)
            referring.add(subject.i)
        region += [c for c in verb.children if c.dep_ in OBJECT_DEPS]
        return
    if token.dep_ in ("dobj", "nsubjpass") and coarse_pos(governor) == "VERB":
        subject = subject_of(governor, passive_agent=True)
        if subject is None:
            return
        referring.add(subject.i)
        lemma = governor.lemma_.lower()
        if lemma in SIGNING:
            recipient.append(subject)
            supplier += preps_of(governor).get("with", [])
            region += preps_of(governor).get("for", [])  # "signed a contract on Friday for"
        elif lemma in WINNING:
            supplier.append(subject)


# Nouns that name a part of a whole, and verbs whose subject is that part.
SHARE_NOUNS = frozenset({"%", "percent", "per", "cent", "share", "half", "third", "quarter"})
SHARE_VERBS = frozenset({"account", "represent", "supply", "provide", "make", "comprise"})


def _share_holder(token: Token) -> Token | None:
    """The subject that holds a share of an order noun: "X accounted for / supplied / made
    up 36% of India's arms imports" -> X."""
    if token.dep_ != "pobj" or token.head.lower_ != "of":
        return None
    share = token.head.head
    if share.lower_ not in SHARE_NOUNS:
        return None
    verb = share.head.head if share.dep_ == "pobj" else share.head
    if verb.lemma_.lower() not in SHARE_VERBS or coarse_pos(verb) != "VERB":
        return None
    return subject_of(verb)


def is_request_or_condition(token: Token, request: frozenset[str]) -> bool:
    """A transfer asked for, demanded or made conditional ("if Kyiv received ...")."""
    for node in path_to_root(token):
        if node.lemma_.lower() in request and node.i != token.i:
            return True
        if any(c.dep_ == "mark" and c.lower_ in ("if", "unless") for c in node.children):
            return True
        if node.dep_ == "relcl":
            # "launchers needed to fire the missiles that Tehran shipped": the clause
            # describes a noun; what the sentence asks for does not reach into it.
            return False
    return False
