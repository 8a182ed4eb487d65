"""Stated quantities of weapons: "one million rounds", "about 2,000 containers", "some 50
howitzers". Vague plurals ("millions of shells") give no number; calibres and years are
never quantities."""

from __future__ import annotations

import re

from spacy.tokens import Span, Token

from pipeline.nlp.common import WEAPON_KEY, lexicon_spans

UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "dozen": 12,
    "a": 1,
    "an": 1,
    "half": 0.5,
}
SCALES = {
    "hundred": 100,
    "thousand": 1_000,
    "million": 1_000_000,
    "billion": 1_000_000_000,
    "k": 1_000,
    "m": 1_000_000,
    "bn": 1_000_000_000,
}
QUALIFIERS = {
    "about",
    "approximately",
    "around",
    "some",
    "over",
    "nearly",
    "almost",
    "roughly",
    "more",
    "than",
    "less",
    "fewer",
    "up",
    "to",
    "at",
    "least",
    "most",
    "estimated",
    "an",
    "under",
    "below",
    "above",
    "as",
    "many",
    "much",
    "just",
}
# Plural scale words used as vague amounts: "millions of shells", "dozens of drones".
VAGUE = {"hundreds", "thousands", "millions", "billions", "dozens", "tens", "scores"}
# A part of a whole: a percentage or share of weapons is no count of them (guidelines).
SHARES = {"percent", "%", "cent", "share", "proportion", "fraction"}
# What weapons travel in: a count of these is no count of weapons (guidelines).
LOADS = {"container", "shipment", "consignment", "crate", "wagon", "truckload", "flight", "ton"}
# A number before one of these measures the weapon (calibre, weight, range), not a count.
CALIBRE_UNITS = {
    "mm",
    "-mm",
    "millimeter",
    "millimetre",
    "millimeters",
    "millimetres",
    "caliber",
    "calibre",
    "cm",
    "inch",
    "pound",
    "pounds",
    "lb",
    "kg",
    "kilogram",
    "kilograms",
    "ton",
    "tons",
    "tonne",
    "tonnes",
    "km",
    "kilometer",
    "kilometre",
    "mile",
    "miles",
}
NUMBER = re.compile(r"^\d{1,3}(,\d{3})+$|^\d+(\.\d+)?$")


def parse_number(words: list[str]) -> float | None:
    """Value of a number written in words and/or digits; None when it is not a number."""
    total = 0.0
    current: float | None = None
    seen = False
    for raw in words:
        word = raw.lower().replace("\u00a0", "")
        if NUMBER.match(word):
            if current is not None:
                break  # a second figure starts a range ("between 10,000 and 12,000"): the low end
            current = float(word.replace(",", ""))
            seen = True
        elif word in UNITS and word not in ("a", "an"):
            current = (current or 0) + UNITS[word]
            seen = True
        elif word in ("a", "an"):
            current = current if current is not None else 1
        elif word in SCALES:
            current = (current if current is not None else 1) * SCALES[word]
            if SCALES[word] >= 1000:
                total += current
                current = None
            seen = True
        elif word in ("and", "-"):
            continue
        else:
            return None
    if not seen:
        return None
    return total + (current or 0)


def _number_tokens(noun: Token) -> list[Token]:
    tokens: list[Token] = []
    # "1.5 million artillery rounds": the number may hang on the compound before the noun.
    for owner in [noun, *(c for c in noun.children if c.dep_ == "compound" and c.i < noun.i)]:
        for child in owner.children:
            if child.dep_ in ("nummod", "quantmod") and child.i < owner.i:
                tokens += list(child.subtree)
    return sorted(set(tokens), key=lambda t: t.i)


CURRENCY = {"$", "€", "£", "¥", "usd", "eur", "dollars", "euros", "pounds", "dollar", "euro"}


def _is_calibre_or_year(tokens: list[Token]) -> bool:
    """Calibres, years and sums of money are numbers but never counts of weapons."""
    for t in tokens:
        if t.ent_type_ == "MONEY" or t.lower_ in CURRENCY:
            return True
        before = t.doc[t.i - 1] if t.i > 0 else None
        if before is not None and before.lower_ in CURRENCY:
            return True
        following = [w.lower_ for w in t.doc[t.i + 1 : t.i + 3]]
        if following and following[0] == "-":
            following = following[1:]  # "2,000-pound"
        if following and following[0] in CALIBRE_UNITS:
            return True
        if t.like_num and re.fullmatch(r"(19|20)\d\d", t.text) and t.ent_type_ == "DATE":
            return True
    return False


def find_quantity(weapon: Span) -> tuple[float | None, str | None]:
    """The stated number of items for a weapon phrase, and the words that state it."""
    candidates = [weapon.root]
    node = weapon.root
    # "rounds of ammunition", "containers with weapons": the count sits on the container noun.
    if (
        node.dep_ == "pobj"
        and node.head.lower_ in ("of", "with")
        and node.head.head.pos_
        in (
            "NOUN",
            "PROPN",
            "NUM",
        )
    ):
        container = node.head.head
        if container.lower_ in VAGUE | SHARES or container.lemma_.lower() in LOADS:
            # "millions of shells", "27 percent of the weapons", "20,000 containers of
            # ammunition": no count of weapons (guidelines)
            return None, None
        if container.pos_ == "NUM" and node.head.lower_ == "of":
            # "133 of those tanks", "the first 11 of the 29 HIMARS": the part is the count.
            value = parse_number([container.text])
            if value:
                return value, weapon.doc[container.i : weapon.end].text
        candidates.append(container)
    named = {
        i
        for span in lexicon_spans(weapon.doc, WEAPON_KEY)
        if span.start != weapon.start
        for i in range(span.start, span.end)
    }
    for noun in candidates:
        # A number inside another weapon's name ("Leopard 2 tanks") is not a count.
        tokens = [t for t in _number_tokens(noun) if t.i not in named]
        if not tokens or _is_calibre_or_year(tokens):
            continue
        numeric = [t for t in tokens if t.like_num or t.lower_ in UNITS or t.lower_ in SCALES]
        if not numeric:
            continue
        # Keep "a" of "a million" and the qualifiers just before the number in the words.
        first = numeric[0].i
        while (
            first > 0
            and (weapon.doc[first - 1].lower_ in QUALIFIERS)
            and first - 1
            in {t.i for t in tokens}
            | {t.i for t in noun.doc[first - 1 : first] if t.head.i in {n.i for n in tokens}}
        ):
            first -= 1
        value = parse_number([t.text for t in numeric])
        if value is None or value <= 0:
            continue
        start = first
        text = weapon.doc[start : noun.i + 1].text
        return value, text
    return None, None
