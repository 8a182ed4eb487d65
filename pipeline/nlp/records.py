"""The claim record and how the readings of one sentence are reduced to its claims."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from spacy.tokens import Span, Token

from pipeline.nlp.quantities import parse_number
from pipeline.nlp.syntax import coarse_pos
from pipeline.nlp.weapon_phrases import GENERIC_CLASSES


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
    depth: int = field(default=0, repr=False)  # the claim word's distance from the root


def rule_name(trigger: Token | None, relation: str, inferred: int) -> str:
    """A short stable name for the rule that made a claim: the kind of trigger and the
    relation, "+context" when a role came from the sentences before."""
    kind = "verb_frame" if trigger is not None and coarse_pos(trigger) == "VERB" else "nominal"
    return f"{kind}:{relation}" + ("+context" if inferred else "")


# When two triggers read the same weapon words with the same actors ("approved the sale of
# jets"), the more specific relation names the claim.
RELATION_RANK = {"supply": 0, "use": 1, "produce": 1, "purchase": 2}


def join_halves(claims: list[Claim]) -> list[Claim]:
    """Two readings of one transfer that each name one side ("The rifles, a gift from
    Belgrade, arrived in Bangui": the gift names the giver, the arrival the place) are one
    claim with both sides, when each side is the only one of its kind in the sentence."""
    givers = [c for c in claims if c.supplier and not c.recipient and c.relation == "supply"]
    takers = [c for c in claims if c.recipient and not c.supplier and c.relation == "supply"]
    if len(givers) != 1 or len(takers) != 1:
        return claims
    giver, taker = givers[0], takers[0]
    if giver.weapon_class != taker.weapon_class or giver.supplier == taker.recipient:
        return claims
    first = max((giver, taker), key=lambda c: c.roles)
    joined = replace(first, supplier=giver.supplier, recipient=taker.recipient)
    joined.roles = giver.roles + taker.roles
    return [c for c in claims if c is not giver and c is not taker] + [joined]


def dedupe(claims: list[Claim]) -> list[Claim]:
    """One claim per (relation, supplier, recipient, weapon class) in a sentence. Readings of
    the same weapon words compete: more roles read off the parse win; with the same actors,
    the more specific relation wins; different actors with equal support both stay
    ("Denmark and the Netherlands sent jets")."""
    best: dict[tuple, Claim] = {}
    for claim in join_halves(claims):
        key = (claim.relation, claim.supplier, claim.recipient, claim.weapon_class)
        old = best.get(key)
        if old is None or (claim.roles, -claim.depth) > (old.roles, -old.depth):
            best[key] = claim  # more roles read off the parse, then the main clause
    kept: list[Claim] = []
    for claim in sorted(best.values(), key=lambda c: (-c.roles, c.depth)):
        rival = next(
            (
                k
                for k in kept
                if k.weapon_start == claim.weapon_start and k.weapon_class == claim.weapon_class
            ),
            None,
        )  # one referring word ("both systems") may stand for several classes
        if rival is None:
            kept.append(claim)
            continue
        same_actors = (rival.supplier, rival.recipient) == (claim.supplier, claim.recipient)
        if same_actors:
            if RELATION_RANK[claim.relation] > RELATION_RANK[rival.relation]:
                kept[kept.index(rival)] = claim
        elif claim.roles == rival.roles or claim.relation != rival.relation:
            kept.append(claim)
    # "military aid ... a consignment that included shells and tanks", "a contract for 180
    # K2 tanks, the largest arms export deal": a general word for a transfer whose weapons
    # the sentence names is no row of its own (guidelines).
    named = {(c.supplier, c.recipient) for c in kept if c.weapon_class not in GENERIC_CLASSES}
    kept = [
        c
        for c in kept
        if not (c.weapon_class == "weapons_general" and (c.supplier, c.recipient) in named)
    ]
    return sorted(kept, key=lambda c: (c.weapon_start, c.relation))


def gapped_claims(state, sent: Span, claims: list[Claim], actor_types: dict) -> list[Claim]:
    """A gapped clause repeats the claim before it with another supplier and number:
    "Denmark has pledged Kyiv 19 F-16s, and the Netherlands 24"."""
    extra: list[Claim] = []
    words = [t for t in sent if not t.is_space]
    for k, word in enumerate(words[:-2]):
        if word.lower_ != "and":
            continue
        j = k + 1 + (words[k + 1].lower_ == "the")
        mention = state.actor_at.get(words[j].i) if j < len(words) else None
        if mention is None or mention.start != words[j].i:
            continue
        after = j + (mention.end - mention.start)
        number = words[after] if after < len(words) else None
        closing = words[after + 1] if number is not None and after + 1 < len(words) else None
        if number is None or not number.like_num or (closing is not None and not closing.is_punct):
            continue
        before = [
            c
            for c in claims
            if c.supplier and c.weapon_start < word.idx and c.relation in ("supply", "purchase")
        ]
        if not before or actor_types.get(mention.code) not in ("state", "non_state"):
            continue
        base = before[-1]
        if mention.code in (base.supplier, base.recipient):
            continue
        value = parse_number([number.text])
        extra.append(
            replace(
                base,
                supplier=mention.code,
                quantity=value,
                quantity_text=number.text,
                rule="gapping",
            )
        )
    return extra
