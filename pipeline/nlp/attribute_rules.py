"""The model's attribute rules (fine tag to part of speech and morphology, and the word
exceptions), applied with the same rules and the same result as spaCy's `attribute_ruler`,
but found by looking each token's tag and lower-case form up in a table.

spaCy's `attribute_ruler` finds its matches with a `Matcher`, which tries every one of the
model's patterns at every token; almost all of them are one-token patterns keyed on an exact
tag or word. Here those are indexed by that key, so a token is checked only against the
patterns that can match it; any other pattern (several tokens, or no exact key) still goes
through a `Matcher` of its own. The matches found are exactly the ruler's and are handed to
the ruler's own `set_annotations`, which applies them in pattern order as it always did.
Why this exists, in numbers: docs/performance.md.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any, cast

from spacy.language import Language
from spacy.matcher import Matcher
from spacy.pipeline import AttributeRuler
from spacy.tokens import Doc, Token

# The token attributes a pattern may test here, read as the Matcher reads them.
READERS: dict[str, Callable[[Token], Any]] = {
    "TAG": lambda t: t.tag_,
    "LOWER": lambda t: t.lower_,
    "ORTH": lambda t: t.text,
    "DEP": lambda t: t.dep_,
    "POS": lambda t: t.pos_,
    "IS_SPACE": lambda t: t.is_space,
}
# Attributes a pattern is indexed by (the first token's, tested for equality), the most
# selective first. A pattern with none of them is tried at every token.
INDEX_KEYS = ("LOWER", "ORTH", "DEP", "TAG", "IS_SPACE")

IN, NOT_IN, REGEX = range(3)
Condition = tuple[Callable[[Token], Any], int, Any]
# (pattern number, match key, the first token's tests but the one indexed, the next tokens')
Rule = tuple[int, int, tuple[Condition, ...], tuple[tuple[Condition, ...], ...]]

COMPONENT = "salvo_attribute_rules"
MODEL_COMPONENT = "attribute_ruler"


def _test(spec: Any) -> tuple[int, Any] | None:
    """(kind, argument) of one attribute's test, or None for a test not read here."""
    if isinstance(spec, (str, bool)):
        return IN, frozenset([spec])
    if isinstance(spec, dict) and len(spec) == 1:
        ((operator, argument),) = spec.items()
        if operator == "IN":
            return IN, frozenset(argument)
        if operator == "NOT_IN":
            return NOT_IN, frozenset(argument)
        if operator == "REGEX":
            return REGEX, re.compile(argument)
    return None


def _token_tests(spec: dict[str, Any]) -> dict[str, tuple[int, Any]] | None:
    tests = {}
    for name, value in spec.items():
        test = _test(value)
        if name not in READERS or test is None:
            return None  # an operator (OP) or attribute the Matcher has and this does not
        tests[name] = test
    return tests


def _conditions(tests: dict[str, tuple[int, Any]]) -> tuple[Condition, ...]:
    return tuple((READERS[name], kind, argument) for name, (kind, argument) in tests.items())


def _holds(token: Token, conditions: tuple[Condition, ...]) -> bool:
    for read, kind, argument in conditions:
        value = read(token)
        if kind == IN:
            if value not in argument:
                return False
        elif kind == NOT_IN:
            if value in argument:
                return False
        elif not (isinstance(value, str) and argument.search(value)):
            return False
    return True


class IndexedAttributeRules:
    """The `attribute_ruler` of a loaded model, its patterns looked up by their first
    token's tag or word."""

    def __init__(self, ruler: AttributeRuler):
        self.ruler = ruler
        self.index: dict[str, dict[Any, list[Rule]]] = {k: defaultdict(list) for k in INDEX_KEYS}
        self.unkeyed: list[Rule] = []
        self.matcher = Matcher(ruler.vocab, validate=False)
        strings = ruler.vocab.strings
        for number, entry in enumerate(ruler.patterns):
            key = strings.add(str(number))  # the match key the ruler gives pattern `number`
            rest: list[list[dict[str, Any]]] = []
            for pattern in cast(list[list[dict[str, Any]]], entry["patterns"]):
                tokens = [_token_tests(spec) for spec in pattern]
                if not all(tokens):
                    rest.append(pattern)
                    continue
                first, *later = (t for t in tokens if t is not None)
                by = next((k for k in INDEX_KEYS if k in first and first[k][0] == IN), None)
                rule = (
                    number,
                    key,
                    _conditions({n: t for n, t in first.items() if n != by}),
                    tuple(_conditions(t) for t in later),
                )
                if by is None:
                    self.unkeyed.append(rule)
                else:
                    for value in first[by][1]:
                        self.index[by][value].append(rule)
            if rest:
                self.matcher.add(str(number), rest)
        self.readers = [(READERS[k], self.index[k]) for k in INDEX_KEYS if self.index[k]]

    def match(self, doc: Doc) -> list[tuple[int, int, int, int]]:
        """The ruler's matches on `doc`, sorted as its own `match` sorts them."""
        found: set[tuple[int, int, int, int]] = set()
        size = len(doc)
        for token in doc:
            for read, table in self.readers:
                rules = table.get(read(token))
                if rules:
                    self._add(doc, token, size, rules, found)
            if self.unkeyed:
                self._add(doc, token, size, self.unkeyed, found)
        if len(self.matcher):
            strings = self.ruler.vocab.strings
            for key, start, end in self.matcher(doc, allow_missing=True):
                found.add((int(strings[key]), key, start, end))
        return sorted(found)

    @staticmethod
    def _add(doc: Doc, token: Token, size: int, rules: list[Rule], found: set) -> None:
        start = token.i
        for number, key, first, later in rules:
            if first and not _holds(token, first):
                continue
            end = start + 1 + len(later)
            if later and (
                end > size or not all(_holds(doc[start + 1 + k], c) for k, c in enumerate(later))
            ):
                continue
            found.add((number, key, start, end))

    def __call__(self, doc: Doc) -> Doc:
        self.ruler.set_annotations(doc, self.match(doc))
        return doc


@Language.factory(COMPONENT)
def _make(nlp: Language, name: str) -> IndexedAttributeRules:
    return IndexedAttributeRules(nlp.get_pipe(MODEL_COMPONENT))  # type: ignore[arg-type]


def index_attribute_rules(nlp: Language) -> None:
    """Put the indexed rules in the place of the model's `attribute_ruler`, if it has one."""
    if MODEL_COMPONENT in nlp.pipe_names:
        nlp.add_pipe(COMPONENT, after=MODEL_COMPONENT)
        nlp.remove_pipe(MODEL_COMPONENT)
