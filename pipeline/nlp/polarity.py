"""Hedging and negation: how firmly a sentence states a claim."""

from __future__ import annotations

from spacy.tokens import Token

from pipeline.nlp.common import ANNOUNCING
from pipeline.nlp.syntax import next_is, path_to_root


def is_hedged(token: Token, hedge: frozenset[str]) -> bool:
    """A hedge or announcing word on the path from the claim word to the root."""
    for node in path_to_root(token):
        if node.dep_ in ("dobj", "nsubjpass") and node.head.lemma_.lower() in ANNOUNCING:
            return True  # announced or approved, not (yet) delivered
        words = [node] + [
            c
            for c in node.children
            if c.dep_ in ("aux", "advmod", "auxpass", "amod", "mark", "neg")
        ]
        for word in words:
            if word.lemma_.lower() in hedge or word.lower_ in hedge:
                return True
    return False


def is_negated(token: Token, deny: frozenset[str], report: frozenset[str]) -> bool:
    """A denial verb or a negation on the path from the claim word up to the reporting verb."""
    for node in path_to_root(token):
        if node.i != token.i and node.lemma_.lower() in deny:
            return True
        for child in node.children:
            if child.dep_ == "neg" and not next_is(child, "only"):
                return True
            if child.dep_ == "det" and child.lower_ == "no":
                return True
        if node.lemma_.lower() in report and node.i != token.i:
            break
    return False
