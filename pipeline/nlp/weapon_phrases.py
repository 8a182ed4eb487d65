"""Which weapon words a claim is about, and the words and calibres it states."""

from __future__ import annotations

import re

from spacy.tokens import Doc, Span, Token

from pipeline.nlp.common import WEAPON_KEY, lexicon_spans
from pipeline.nlp.syntax import subtree_without_clauses

# A weapon name modifying another weapon noun is one weapon: "Fath-360 missiles" (the parser
# sometimes tags a designation such as "Shahed-136" as punctuation).
WEAPON_MODIFIER_DEPS = frozenset(
    {"compound", "amod", "nmod", "nummod", "npadvmod", "poss", "punct"}
)
GENERIC_CLASSES = frozenset({"weapons_general", "missile", "other"})


def weapon_groups(region: list[Token], weapons: list[Span], trigger: Token) -> list[list[Span]]:
    """Weapon spans inside the object region, merged when one modifies another and grouped
    by class (coordinated objects give one claim per weapon class)."""
    inside: list[Span] = []
    region_ids: set[int] = set()
    for token in region:
        region_ids.update(t.i for t in subtree_without_clauses(token))
    for span in weapons:
        if any(t.i in region_ids for t in span) or (span.start <= trigger.i < span.end):
            inside.append(span)
    for span in list(inside):
        inside += [w for w in listed_after(span, weapons) if w not in inside]
    kept = []
    for span in inside:
        modified = [
            o
            for o in inside
            if o is not span
            and span.label_ != ELLIPSIS
            and (
                span.root.head.i in range(o.start, o.end)
                and span.root.dep_ in WEAPON_MODIFIER_DEPS
                # "Iranian-made Shahed-136 drone" with the name hung on "made": still one
                or span.end <= o.start <= span.end + 1
                and span.root.i in {t.i for t in o.root.subtree}
            )
        ]
        if modified:
            continue  # the modifier is folded into the span it modifies below
        modifiers = [
            o
            for o in inside
            if o is not span
            and o.label_ != ELLIPSIS
            and o.root.head.i in range(span.start, span.end)
            and o.root.dep_ in WEAPON_MODIFIER_DEPS
        ]
        specific = [m for m in modifiers if m.id_ not in GENERIC_CLASSES]
        if span.id_ in GENERIC_CLASSES and specific:
            kept.append(specific[0])
        else:
            kept.append(span)
    # "weapons, including gunpowder and artillery": the named contents are the claim.
    kept = [s for s in kept if not any(_lists_contents(s, o) for o in kept if o is not s)]
    # "supplying weapons to Russia, including gunpowder": the list hangs on the verb.
    holders = [trigger] + [t for t in region if t.dep_ == "pobj" and t.head.head.i == trigger.i]
    if trigger.pos_ == "NOUN" and trigger.dep_ in ("dobj", "nsubjpass"):
        holders.append(trigger.head)  # "announced a package on Friday, including ..."
    if trigger.dep_ in ("acl", "relcl"):
        holders.append(trigger.head)  # "information that X supplied weapons, including ..."
    listed = {
        t.i
        for holder in holders
        for c in holder.children
        if c.dep_ == "prep" and c.lower_ in CONTENT_WORDS
        for t in c.subtree
    }
    # "a weapons shipment bound for Hezbollah, including Iranian drones": the list hung on
    # any word of the object phrase.
    listed |= {
        t.i
        for token in region
        for word in token.subtree
        for c in word.children
        if c.dep_ == "prep" and c.lower_ == "including"
        for t in c.subtree
    }
    if any(s.root.i in listed and s.id_ != "weapons_general" for s in kept):
        kept = [s for s in kept if s.id_ != "weapons_general"]
    groups: dict[str, list[Span]] = {}
    for span in kept:
        groups.setdefault(span.id_, []).append(span)
    return list(groups.values())


# Words inside a listed noun phrase before or between its weapon words: "Leopard 1 A5 tanks".
LIST_ITEM_DEPS = frozenset({"compound", "amod", "nmod", "nummod", "det", "quantmod", "punct"})


def listed_after(span: Span, weapons: list[Span]) -> list[Span]:
    """Weapons that continue a comma list after `span`, read from the words because the
    parser often breaks long lists ("shells, Leopard 1 A5 tanks, machine guns, drones and
    rifles" with the tanks hung on the main verb). The list ends at the first item that
    names no weapon ("tanks, German officials said")."""
    doc = span.doc
    starts = {w.start: w for w in weapons}
    found: list[Span] = []
    i = span.end
    while True:
        j = i
        while j < len(doc) and (doc[j].text == "," or doc[j].lower_ in ("and", "or")):
            j += 1
        if j == i:
            return found
        item: list[Span] = []
        while j < len(doc) and len(item) < 3:
            if j in starts:
                item.append(starts[j])
                j = starts[j].end
            elif doc[j].dep_ in LIST_ITEM_DEPS and doc[j].text != ",":
                j += 1
            else:
                break
        if not item:
            return found
        found += item
        i = j


CONTENT_WORDS = frozenset({"include", "including", "such", "like", "range", "among", "from"})


def _lists_contents(generic: Span, named: Span) -> bool:
    """Whether `named` is listed as part of `generic`: "weapons, including X", "weapons
    ranging from X to Y", "a consignment that included X"."""
    if generic.id_ not in ("weapons_general",) or named.id_ == generic.id_:
        return False
    node = named.root
    seen_content_word = False
    for _ in range(5):
        if node.head.i == node.i:
            return False
        node = node.head
        if node.lemma_.lower() in CONTENT_WORDS or node.lower_ in CONTENT_WORDS:
            seen_content_word = True
        if generic.start <= node.i < generic.end:
            return seen_content_word
    return False


CALIBRE = re.compile(r"(\d{2,3})\s*-?\s*(?:mm|millimet(?:er|re)s?)\b", re.IGNORECASE)


CALIBRE_UNITS = frozenset({"mm", "-mm", "millimeter", "millimetre", "millimeters", "millimetres"})


def calibre_start(doc: Doc, start: int) -> int:
    """Extend a weapon span left over calibres: "122 mm and 152 mm artillery shells"."""
    i = start
    while True:
        if i >= 2 and doc[i - 1].lower_ in CALIBRE_UNITS and doc[i - 2].like_num:
            i -= 2
        elif i >= 1 and CALIBRE.fullmatch(doc[i - 1].text):
            i -= 1
        elif (
            i >= 3
            and doc[i - 1].lower_ in ("and", "or", ",")
            and (doc[i - 2].lower_ in CALIBRE_UNITS or CALIBRE.fullmatch(doc[i - 2].text))
        ):
            i -= 1
        else:
            break
    while i < start and not doc[i].like_num and not CALIBRE.fullmatch(doc[i].text):
        i += 1
    return i


def weapon_words(group: list[Span]) -> tuple[str, int, str | None]:
    """The weapon words of a claim (with calibres and coordinated spans of its class), where
    they start, and the calibres stated."""
    doc = group[0].doc
    first = group[0]
    start = first.start
    # Weapon names folded into this noun belong to its words: "F-16 fighter jets".
    ends = {span.end: span for span in lexicon_spans(doc, WEAPON_KEY)}
    while start in ends and first.start <= ends[start].root.head.i < first.end:
        start = ends[start].start
    start = calibre_start(doc, start)
    end = first.end
    for span in group[1:]:
        gap = doc[end : calibre_start(doc, span.start)]
        if len(gap) <= 3 and all(t.lower_ in ("and", "or", ",", "as", "well") for t in gap):
            end = span.end
        else:
            break
    words = doc[start:end]
    calibres = {m.group(1) for m in CALIBRE.finditer(words.text)}
    calibre = ",".join(sorted(calibres, key=int)) or None
    return words.text, words.start_char, calibre


def argument_weapon(region: list[Token], words: dict[str, str]) -> Span | None:
    """The first word of `words` ("technology", "know-how") inside the object region: what a
    trigger passes on when the sentence names no weapon."""
    longest = max((len(w.split("-")) * 2 - 1 for w in words), default=0)
    for token in region:
        for word in subtree_without_clauses(token):
            doc = word.doc
            for end in range(word.i + 1, min(word.i + longest, len(doc)) + 1):
                weapon_class = words.get(doc[word.i : end].text.lower())
                if weapon_class is not None:
                    return Span(doc, word.i, end, label="WEAPON", span_id=weapon_class)
    return None


SEPARATORS = frozenset({"and", "or", ","})
# The label of a weapon whose noun a coordination left to the next one: it is a weapon of
# its own, never a modifier of the next.
ELLIPSIS = "ELLIPSIS"


def elliptic_weapons(doc: Doc, weapons: list[Span], aliases: dict[str, str]) -> list[Span]:
    """Weapons a coordination leaves their noun to: "ballistic and cruise missiles",
    "cruise, anti-ship and anti-aircraft missiles", "artillery and mortar shells". Each
    earlier modifier (up to four words) with the last weapon's head noun that is an alias
    gives a span of that class over the modifier's words."""
    found: list[Span] = []
    for weapon in weapons:
        if len(weapon) < 2:
            continue
        head = weapon[-1].lower_
        end = weapon.start - 1
        while end > 0 and doc[end].lower_ in SEPARATORS:
            match = None
            for size in range(min(4, end), 0, -1):  # the longest modifier that is an alias
                words = doc[end - size : end]
                if any(t.lower_ in SEPARATORS or t.is_space for t in words):
                    continue
                weapon_class = aliases.get(f"{words.text.lower()} {head}")
                if weapon_class not in (None, "none"):
                    match = Span(doc, words.start, words.end, label=ELLIPSIS, span_id=weapon_class)
                    break
            if match is None:
                break
            found.append(match)
            end = match.start - 1
    return found


# Nouns for a body of soldiers that name troops only as part of a state's forces: "units of
# its army", "subunits of the Korean People's Army", "North Korean units" (alone, "units"
# also counts launchers: "the first four units arrived").
UNIT_NOUNS = frozenset({"unit", "subunit", "contingent", "battalion", "brigade", "detachment"})
# Nouns for a state's forces: "units of its army".
FORCE_NOUNS = frozenset({"army", "military", "force", "forces", "navy", "marines"})


def military_units(doc: Doc, taken: set[int], actor_kind: dict[int, str]) -> list[Span]:
    """Troops named as units of a state's forces, as spans of class troops. `actor_kind`
    maps a token to the kind of actor mention it is part of ("demonym", "military")."""
    found: list[Span] = []
    wanted = {doc.vocab.strings.add(word) for word in UNIT_NOUNS}
    # Read the lemmas as one array: making a Token for every word costs more than the rule.
    lemmas = doc.to_array("LEMMA").tolist() if len(doc) else []
    for i in (i for i, lemma in enumerate(lemmas) if lemma in wanted and i not in taken):
        token = doc[i]
        if token.pos_ != "NOUN":
            continue
        forces = [
            g
            for g in units_of(token)
            if g.lemma_.lower() in FORCE_NOUNS or actor_kind.get(g.i) == "military"
        ]
        national = [
            c
            for c in token.children
            if c.dep_ in ("amod", "compound") and actor_kind.get(c.i, "").startswith("demonym")
        ]
        if forces or national:
            found.append(Span(doc, token.i, token.i + 1, label="WEAPON", span_id="troops"))
    return found


def units_of(unit: Token) -> list[Token]:
    """The forces a unit noun belongs to: "units of its army" gives "army"."""
    if unit.lemma_.lower() not in UNIT_NOUNS:
        return []
    return [
        g
        for c in unit.children
        if c.dep_ == "prep" and c.lower_ == "of"
        for g in c.children
        if g.dep_ == "pobj"
    ]
