"""Readings that need more than one sentence: datelines, elliptic state names ("the
North" in Korea reporting) and the class a generic weapon word inherits from the paragraph
("the missiles" after ATACMS)."""

from __future__ import annotations

from spacy.tokens import Doc, Span, Token

from pipeline.nlp.common import Mention

DATELINE_ENDS = frozenset({"\u2014", "\u2013", "-", "--", ":"})
DATELINE_WORDS_MAX = 12
# "the North" / "the South" stand for a state only in reporting on that state's peninsula.
ELLIPTIC_STATES = {("north", "PRK"): "PRK", ("south", "PRK"): "KOR"}
# Generic classes and the specific ones a mention of them may refer back to.
REFINES: dict[str, tuple[str, ...]] = {
    "missile": ("ballistic_missile", "cruise_missile"),
    "weapons_general": (
        "ballistic_missile",
        "cruise_missile",
        "air_defense",
        "rocket_launcher",
        "tank",
        "aircraft",
        "drone",
        "artillery_system",
        "glide_bomb",
        "artillery_ammunition",
        "armored_vehicle",
        "small_arms",
        "other",
    ),
}
# Words that say which kind of missile a paragraph speaks of.
MISSILE_WORDS = {"ballistic": "ballistic_missile", "cruise": "cruise_missile"}
REFERRING_DETERMINERS = frozenset({"the", "these", "those", "such", "this", "that"})


def paragraph_starts(doc: Doc) -> list[int]:
    """Token indices where a paragraph (a line) begins."""
    # A line break is always a whitespace token of its own (a word's trailing whitespace is
    # at most one space).
    starts = [0] + [t.i + 1 for t in doc[:-1] if t.is_space and "\n" in t.text]
    return [i for i in starts if i < len(doc) and not doc[i].is_space]


def datelines(doc: Doc, starts: list[int] | None = None) -> list[tuple[int, int]]:
    """ "SEOUL, South Korea, Nov 20 (AP) -", "KYIV (Harborline) —": where a story was filed,
    never an actor. A paragraph that opens with an upper-case place name and reaches a dash
    or a colon within a few words, none of them a lower-case word outside brackets. Returns
    (first token, the closing dash or colon) per dateline."""
    found: list[tuple[int, int]] = []
    for start in paragraph_starts(doc) if starts is None else starts:
        first = doc[start]
        if not (first.is_upper and first.is_alpha and len(first) >= 3):
            continue
        depth = 0
        for token in doc[start : start + DATELINE_WORDS_MAX]:
            if token.text == "(":
                depth += 1
            elif token.text == ")":
                depth -= 1
            elif depth <= 0 and token.text in DATELINE_ENDS:
                if token.i > start:
                    found.append((start, token.i))
                break
            elif depth <= 0 and token.is_alpha and token.is_lower:
                break
            elif "\n" in token.text:
                break
    return found


def source_prefixes(doc: Doc, starts: list[int] | None = None) -> list[int]:
    """Where a line's clause starts after a source prefix: "Budanov: Russian Pantsir ...",
    "Read also: Seoul: North Korea sent ..." (1-4 capitalised words and a colon). Returns
    the index of each colon."""
    found = []
    for start in paragraph_starts(doc) if starts is None else starts:
        segment = start
        for token in doc[start : start + 8]:
            if "\n" in token.text:
                break
            if token.text == ":":
                words = doc[segment : token.i]
                if 0 < len(words) <= 4 and all(w.is_title or w.is_upper for w in words):
                    if token.i + 3 < len(doc) and "\n" not in doc[token.i : token.i + 3].text:
                        found.append(token.i)
                segment = token.i + 1
    return found


def dateline_tokens(doc: Doc) -> set[int]:
    return {i for start, end in datelines(doc) for i in range(start, end + 1)}


def elliptic_mentions(doc: Doc, actor_at: dict[int, Mention]) -> list[Mention]:
    """ "the North" for North Korea (and "the South" for South Korea) in an article that
    names North Korea: a bare compass noun after "the", not followed by a name."""
    codes = {m.code for m in actor_at.values()}
    found = []
    for token in doc[1:]:
        if token.i in actor_at or doc[token.i - 1].lower_ != "the" or not token.is_title:
            continue
        following = doc[token.i + 1] if token.i + 1 < len(doc) else None
        if following is not None and following.pos_ in ("PROPN", "NOUN"):
            continue
        for (word, needs), code in ELLIPTIC_STATES.items():
            if token.lower_ == word and needs in codes:
                found.append(Mention(code, "state", token.i, token.i + 1))
    return found


def refined_class(weapon: Span, weapons: list[Span], scope: Span) -> str:
    """The class of a generic weapon word read from its paragraph: the most specific
    compatible mention closest before it, else after it, else a word of the paragraph
    ("ballistic"). "Missiles" alone stay `missile`; "the weapons" or "these systems" take
    a named system's class only when they refer back (a determiner, no list of contents)."""
    generic = weapon.id_
    targets = REFINES.get(generic)
    if not targets:
        return generic
    root: Token = weapon.root
    if generic == "weapons_general" and (
        not any(c.dep_ == "det" and c.lower_ in REFERRING_DETERMINERS for c in root.children)
        or any(c.dep_ in ("relcl", "acl", "prep") for c in root.children)
    ):
        return generic  # "the weapons Azerbaijan imported" is defined, not referring back
    others = [w for w in weapons if scope.start <= w.start < scope.end and w.id_ in targets]
    before = [w for w in others if w.end <= weapon.start]
    after = [w for w in others if w.start >= weapon.end]
    if generic == "weapons_general":
        return before[-1].id_ if before else generic  # only a mention it refers back to
    if before:
        return before[-1].id_
    if after:
        return after[0].id_
    for token in scope:
        if token.lower_ in MISSILE_WORDS:
            return MISSILE_WORDS[token.lower_]
    return generic
