"""Small readings of the dependency parse the claim extractor is built from."""

from __future__ import annotations

from spacy.tokens import Span, Token

SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass", "csubj"})
OBJECT_DEPS = frozenset({"dobj", "obj", "attr", "oprd"})


# -- helpers over the parse ------------------------------------------------------------------
CLAUSAL_DEPS = frozenset({"ccomp", "xcomp", "advcl", "parataxis", "conj", "csubj", "pcomp"})


def reports_through(path: list[Token], step: int) -> bool:
    """Whether the reporting verb at path[step] reports the clause the claim is in: reached
    through a clausal complement ("said that ..."), or through its object's own clause
    ("confirmed rumors that ...") — not through a plain object ("found a new supply line")."""
    below = path[step - 1]
    if below.dep_ in CLAUSAL_DEPS or below.dep_ == "prep":
        return True
    if below.dep_ in ("dobj", "attr", "nsubjpass"):
        if step == 1:  # the object is the claim word itself: "denied the transfers"
            return True
        return path[step - 2].dep_ in ("acl", "relcl", "ccomp") and path[step - 2].head.i == below.i
    return False


def coarse_pos(token: Token) -> str:
    if token.pos_ in ("VERB", "AUX"):
        return "VERB"
    if token.pos_ in ("NOUN", "PROPN"):
        return "NOUN"
    return token.pos_


def is_infinitive(verb: Token) -> bool:
    """A verb with its "to": "to send", "were to be shipped", "ready to deliver"."""
    return any(c.dep_ == "aux" and c.lower_ == "to" for c in verb.children)


def headline_future(verb: Token) -> bool:
    """A headline's "Germany to send tanks to Ukraine", which the parser reads as a noun
    phrase with a purpose clause: planned, not done, and the noun is the subject."""
    if not is_infinitive(verb):
        return False
    if verb.dep_ == "ROOT":  # "Poland to buy 96 Apache helicopters"
        return any(c.dep_ == "nsubj" for c in verb.children)
    return (
        verb.dep_ in ("advcl", "acl")
        and verb.head.dep_ == "ROOT"
        and verb.head.pos_ in ("NOUN", "PROPN")
    )


def subject_of(verb: Token, passive_agent: bool = False) -> Token | None:
    """The subject a verb's action belongs to, climbing through coordination, control and
    raising ("Pyongyang is believed to have sent" -> Pyongyang)."""
    node = verb
    raised = False
    for _ in range(4):
        for child in node.children:
            if child.dep_ in ("nsubj", "csubj") or (raised and child.dep_ == "nsubjpass"):
                return child
            if passive_agent and child.dep_ == "agent":
                for g in child.children:
                    if g.dep_ == "pobj":
                        return g
        if any(c.dep_ == "nsubjpass" for c in node.children):
            return None  # a passive verb's subject is what was acted on, not who acted
        raised = node.dep_ == "xcomp"
        if node.dep_ != "ROOT" and headline_future(node):
            return node.head  # a headline's "Rheinmetall to build ...", read as a noun phrase
        if node.dep_ in ("conj", "xcomp", "advcl", "acomp") and node.head.i != node.i:
            node = node.head
        elif (
            node.dep_ == "pcomp"
            and node.head.dep_ == "prep"
            and (
                coarse_pos(node.head.head) == "VERB"
                # a headline verb tagged as a noun: "US sanctions Chinese firms for ..."
                or any(c.dep_ == "dobj" for c in node.head.head.children)
            )
        ):
            # "Iran was accused of supplying", "Ukraine accused Iran of supplying"
            verb = node.head.head
            for dep in ("dobj", "nsubjpass", "nsubj"):
                found = [c for c in verb.children if c.dep_ == dep]
                if found:
                    return found[0]
            return None
        elif node.dep_ == "pcomp" and node.head.dep_ == "prep" and node.head.head.pos_ == "NOUN":
            return node.head.head  # "Chinese firms for building drones": the firms build
        elif node.dep_ in ("relcl", "acl") and not passive_agent:
            return node.head
        else:
            return None
    return None


def copular_subject(noun: Token) -> list[Token]:
    """The subject of "X is/acts as/serves as/remains the supplier"."""
    node = noun
    if node.dep_ == "pobj" and node.head.lower_ == "as":
        node = node.head
    if node.dep_ in ("attr", "prep", "oprd", "dobj") or node.dep_ == "acomp":
        verb = node.head
        subject = subject_of(verb)
        return [subject] if subject is not None else []
    return []


def preps_of(token: Token) -> dict[str, list[Token]]:
    out: dict[str, list[Token]] = {}
    for child in token.children:
        if child.dep_ in ("prep", "dative") and (child.pos_ == "ADP" or child.dep_ == "prep"):
            for pobj in child.children:
                if pobj.dep_ == "pobj":
                    out.setdefault(child.lower_, []).append(pobj)
        elif child.dep_ == "prt":
            continue
    return out


def path_to_root(token: Token):
    node = token
    seen = 0
    while True:
        yield node
        seen += 1
        if node.head.i == node.i or seen > 30:
            return
        node = node.head


def next_is(token: Token, word: str) -> bool:
    return token.i + 1 < len(token.doc) and token.doc[token.i + 1].lower_ == word


def receiving_position(token: Token) -> bool:
    if token.dep_ in ("dative",):
        return True
    if token.dep_ == "pobj" and token.head.lower_ in ("to", "for"):
        return True
    if token.dep_ == "poss":
        return True
    if token.dep_ in ("dobj",) and token.head.lemma_.lower() in ("supply", "arm", "help", "equip"):
        return True
    verb = token.head
    if token.dep_ == "nsubj" and verb.lemma_.lower() == "account" and verb.head.lower_ == "with":
        return True  # "approved arms exports, with Ukraine accounting for two-thirds"
    return False


def subtree_without_clauses(token: Token) -> list[Token]:
    """A phrase's tokens, leaving out relative and participle clauses with their own verb:
    "machine tools that are used to make missiles" transfers tools, not missiles."""
    out = [token]
    for child in token.children:
        if child.dep_ in ("relcl", "acl") and any(
            c.dep_ in ("nsubj", "nsubjpass", "aux", "auxpass", "xcomp") for c in child.children
        ):
            continue
        out += subtree_without_clauses(child)
    return out


def noun_phrase(token: Token) -> Span:
    """The noun phrase of a token without determiners, clauses or trailing punctuation."""
    doc = token.doc
    keep = [token] + [t for t in token.subtree if t.i != token.i and _in_phrase(t, token)]
    start = min(t.i for t in keep)
    end = max(t.i for t in keep) + 1
    while start < end and (doc[start].dep_ in ("det", "punct", "predet") or doc[start].is_space):
        start += 1
    while end > start and (doc[end - 1].is_punct or doc[end - 1].is_space):
        end -= 1
    return doc[start:end]


def _in_phrase(token: Token, head: Token) -> bool:
    node = token
    while node.i != head.i:
        if node.dep_ in ("relcl", "acl", "appos", "advcl", "punct", "cc", "ccomp", "parataxis"):
            return False
        if node.dep_ == "conj" and node.head.i == head.i and head.dep_ not in SUBJECT_DEPS:
            return False
        node = node.head
    return True


EXCHANGE_NOUNS = frozenset({"exchange", "return", "payment", "compensation", "swap", "reward"})


def in_exchange(token: Token) -> bool:
    """ "in exchange for troops", "in return for the shells", "as payment for the soldiers":
    the phrase names what flows the other way."""
    node = token
    while node.dep_ == "conj" and node.head.i != node.i:
        node = node.head
    return (
        node.dep_ == "pobj"
        and node.head.lower_ == "for"
        and node.head.head.lemma_.lower() in EXCHANGE_NOUNS
    )


def only_origin(verb: Token) -> bool:
    """A passive making verb with neither an agent nor a partner ("were made in North
    Korea") states where a weapon comes from, not who produced it."""
    children = list(verb.children)
    if verb.dep_ == "conj":
        children += list(verb.head.children)
    passive = (
        any(c.dep_ == "auxpass" for c in children)
        or verb.tag_ == "VBN"
        and verb.dep_
        in (
            "acl",
            "amod",
        )
    )
    partner = any(
        c.dep_ == "agent" or c.lower_ in ("with", "together", "jointly") for c in children
    )
    return passive and not partner


def trigger_lemma(token: Token) -> str:
    """A verb with its particle ("turn out", "hand over"): triggers.csv may list the
    phrasal verb apart from the plain one."""
    particles = [
        c.lower_
        for c in token.children
        if c.dep_ == "prt" or (c.dep_ == "advmod" and c.i == token.i + 1 and c.lower_ in PARTICLES)
    ]
    return f"{token.lemma_.lower()} {particles[0]}" if particles else token.lemma_.lower()


# Particles the parser sometimes reads as adverbs ("held back" as hold + advmod back).
PARTICLES = frozenset({"back", "up", "out", "over", "on"})
# Transfer nouns that, made definite, refer back to the transfer just reported.
REFERRING_EVENTS = frozenset({"shipment", "delivery", "consignment", "batch", "transfer"})
ANAPHORIC_WORDS = frozenset(
    {"the", "this", "that", "these", "those", "first", "last", "latest", "recent", "next"}
)


def refers_back(token: Token) -> bool:
    """ "the first shipment", "these deliveries" with no "of" phrase of their own."""
    if token.lemma_.lower() not in REFERRING_EVENTS or token.pos_ != "NOUN":
        return False
    children = list(token.children)
    if any(c.dep_ == "prep" and c.lower_ in ("of", "to", "from") for c in children):
        return False
    return any(c.dep_ in ("det", "amod") and c.lower_ in ANAPHORIC_WORDS for c in children)


# Words that stand for weapons named before them when a transfer word takes them: plural
# pronouns, "both systems", "the remaining four", "the fourth", "the rest".
REFERRING_PRONOUNS = frozenset({"them", "they", "these", "those"})
REFERRING_NOUNS = frozenset(
    {"system", "systems", "unit", "units", "rest", "remainder", "batch", "items", "pieces"}
)
REFERRING_DETERMINERS = frozenset(
    {"the", "both", "these", "those", "all", "remaining", "first", "last", "other"}
)


def refers_to_weapons(token: Token) -> bool:
    """A pronoun, a bare number ("has handed over three", "the remaining four") or a
    determined general noun ("both systems") that can only mean things named before."""
    if token.lower_ in REFERRING_PRONOUNS:
        return True
    if any(c.dep_ == "prep" and c.lower_ == "of" for c in token.children):
        return False  # "three of the jets", "the rest of the package" name their own
    words = {c.lower_ for c in token.children if c.dep_ in ("det", "amod", "predet", "nummod")}
    if token.lower_ in REFERRING_NOUNS:
        return bool(words & REFERRING_DETERMINERS)
    if token.pos_ == "NUM" or token.tag_ == "CD" or token.lower_ in ORDINALS:
        return token.dep_ in ("nsubj", "nsubjpass", "dobj")
    return False


def refers_to_set(token: Token) -> bool:
    """A referring word for several things at once: "them", "they", "both systems"."""
    if token.lower_ in REFERRING_PRONOUNS:
        return True
    return any(c.dep_ in ("det", "predet") and c.lower_ == "both" for c in token.children)


ORDINALS = frozenset({"first", "second", "third", "fourth", "fifth", "sixth", "last", "final"})
