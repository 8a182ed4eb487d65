"""Hedging and negation: how firmly a sentence states a claim."""

from __future__ import annotations

from spacy.tokens import Token

from pipeline.nlp.common import ANNOUNCING
from pipeline.nlp.syntax import headline_future, is_infinitive, next_is, path_to_root


def is_hedged(token: Token, hedge: frozenset[str]) -> bool:
    """A hedge or announcing word on the path from the claim word to the root. A word the
    claim is the subject of does not hedge it ("the use of North Korean weapons suggests
    that stocks are low" asserts the use)."""
    if headline_future(token):
        return True
    below: Token | None = None
    for node in path_to_root(token):
        if node.dep_ in ("dobj", "nsubjpass") and node.head.lemma_.lower() in ANNOUNCING:
            return True  # announced or approved, not (yet) delivered
        if any(c.dep_ == "acl" and c.lemma_.lower() in ANNOUNCING for c in node.children):
            return True  # "Spain's package, announced by the minister"
        if (
            node.lemma_.lower() == "be"
            and below is not None
            and below.dep_ == "xcomp"
            and is_infinitive(below)
        ):
            return True  # "the bombs were to be shipped": arranged, not done
        as_subject = below is not None and below.dep_ in ("nsubj", "csubj")
        words = [] if as_subject else [node]
        words += [
            c
            for c in node.children
            if c.dep_ in ("aux", "advmod", "auxpass", "amod", "mark", "neg")
        ]
        for word in words:
            if word.lemma_.lower() in hedge or word.lower_ in hedge:
                return True
        below = node
    return False


# Clausal links a negation above does not reach down through: "would not say how many were
# sent" denies nothing about the sending.
CLAUSE_DEPS = frozenset({"ccomp", "advcl", "relcl", "acl", "parataxis", "csubj"})
# Verbs that call off a transfer or its plan.
ABANDONING = frozenset({"cancel", "scrap", "abandon", "shelve"})
# Nouns that make what they frame a hypothetical: "floated the idea of ..."
HYPOTHETICAL_NOUNS = frozenset(
    {"idea", "proposal", "scenario", "option", "possibility", "prospect", "theory"}
)
MODALS = frozenset({"would", "could", "might"})


def is_negated(
    token: Token, deny: frozenset[str], report: frozenset[str], weapon: Token | None = None
) -> bool:
    """A denial word on the path from the claim word up to the reporting verb, a negation
    of the claim's own clause, or "no" on the weapon ("obtained no weapons")."""
    if weapon is not None and any(
        c.dep_ == "det" and c.lower_ == "no" or c.dep_ == "preconj" and c.lower_ == "neither"
        for c in weapon.children
    ):
        return True
    # "Tehran denies having supplied ...", "denied ever sending": a denial just before the
    # claim word denies it, however the parser hung the clause.
    before = token.i - 1
    while before >= 0 and token.doc[before].lower_ in ("having", "ever", "been", "to", "that"):
        before -= 1
    if before >= 0 and before < token.i - 1 and token.doc[before].lemma_.lower() in deny:
        return True
    in_clause = True
    for node in path_to_root(token):
        if node.i != token.i and node.lemma_.lower() in deny:
            return True
        if node.i != token.i and _named_report(node):
            break  # "UAE rejects Amnesty report linking it to ...": the report's claim stands
        if node.lemma_.lower() in report and node.i != token.i:
            break
        if node.i != token.i and node.lemma_.lower() in ABANDONING:
            return True  # "scrapped the purchase of 40 howitzers"
        if in_clause:
            for child in node.children:
                if child.dep_ == "neg" and not next_is(child, "only"):
                    return True
                if child.dep_ == "conj" and child.lemma_.lower() in ABANDONING | {"drop"}:
                    return True  # "had planned to buy 40 howitzers but dropped them"
                if child.dep_ == "det" and child.lower_ == "no":
                    return True
                if child.dep_ == "preconj" and child.lower_ == "neither":
                    return True
            if node.dep_ in ("ccomp", "xcomp") and is_infinitive(node):
                continue  # "did not expect Russia to receive them": one predicate, denied
            if node.dep_ in CLAUSE_DEPS or (
                node.dep_ == "conj" and any(c.dep_ in ("nsubj", "nsubjpass") for c in node.children)
            ):
                # "has not provided X, but it has shipped Y": the second clause has its
                # own subject and its own polarity.
                in_clause = False
        elif node.pos_ == "NOUN" and any(
            c.dep_ == "det" and c.lower_ == "no" for c in node.children
        ):
            return True  # "there is no evidence that China supplied ..."
    return False


def _named_report(noun: Token) -> bool:
    return (
        noun.pos_ == "NOUN"
        and noun.lemma_.lower() in ("report", "investigation", "study", "findings", "dossier")
        and any(c.dep_ in ("compound", "poss") and c.pos_ == "PROPN" for c in noun.children)
    )


def is_hypothetical(token: Token, weapon: Token | None = None) -> bool:
    """ "Any delivery of Taurus would ...", "Germany could deliver them if ...", "the idea of
    a ring exchange": a transfer only imagined is no claim."""
    path = list(path_to_root(token))
    modal = any(c.dep_ == "aux" and c.lower_ in MODALS for n in path for c in n.children)
    nouns = [n for n in path if n.pos_ in ("NOUN", "PROPN")]
    for word in [token, weapon, *nouns]:
        if (
            modal
            and word is not None
            and any(c.dep_ == "det" and c.lower_ == "any" for c in word.children)
        ):
            return True  # "any delivery would ...", not "did not receive any missiles"
    for node in path:
        if node.lemma_.lower() in HYPOTHETICAL_NOUNS and node.i != token.i:
            return True
        markers = {c.lower_ for c in node.children if c.dep_ in ("mark", "advmod")}
        if "whether" in markers:
            return True  # "whether any might be passed on to Ukraine" asserts nothing
        if (
            "how" in markers
            and node.dep_ in ("ccomp", "xcomp", "advcl")
            and any(c.dep_ == "neg" for c in node.head.children)
        ):
            return True  # "did not say how the drones would be used"
        children = list(node.children)
        conditional = any(
            c.dep_ == "advcl"
            and any(m.dep_ == "mark" and m.lower_ in ("if", "unless") for m in c.children)
            for c in children
        )
        if conditional and any(c.dep_ == "aux" and c.lower_ in MODALS for c in children):
            return True
    return False
