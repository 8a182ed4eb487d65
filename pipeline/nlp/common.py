"""Words and records the claim extractor's modules share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span

# The doc.spans keys of the lexicon's actor and weapon mentions.
ACTOR_KEY = "salvo_actors"
WEAPON_KEY = "salvo_weapons"
# Where lexicon_spans keeps what it read, in Doc.user_data.
_SPANS_READ = "salvo_lexicon_spans"


def lexicon_spans(doc: Doc, key: str) -> tuple[Span, ...]:
    """The lexicon's mentions under `key`, as they stand: read once per set of mentions and
    kept with the Doc (the extractor reads them for every claim; each read of a span group
    builds its Span objects anew)."""
    group = doc.spans.get(key)
    if group is None:
        return ()
    kept = doc.user_data.setdefault(_SPANS_READ, {})
    read = kept.get(key)
    # The group itself is kept with its spans, so a group put in its place is never taken
    # for it (neither is a group grown or cut in place).
    if read is None or read[0] is not group or len(read[1]) != len(group):
        read = kept[key] = (group, tuple(group))
    return read[1]


def release_lexicon_spans(doc: Doc) -> None:
    """Drop what lexicon_spans kept: its spans hold the Doc, so kept in the Doc they would
    keep it alive until the cyclic garbage collector ran (the parse workers grew by tens
    of MiB)."""
    doc.user_data.pop(_SPANS_READ, None)


MODIFIER_DEPS = frozenset({"compound", "amod", "poss", "nmod", "appos", "npadvmod"})
PLURAL_PRONOUNS = frozenset({"they", "them", "their", "both"})
SINGULAR_PRONOUNS = frozenset({"it", "its"})
PERSON_PRONOUNS = frozenset({"he", "she", "him", "her", "his"})
# Nouns that say where a statement came from: "This follows from a statement by X".
SOURCE_NOUNS = frozenset(
    {
        "statement",
        "interview",
        "remark",
        "comment",
        "report",
        "briefing",
        "speech",
        "post",
        "testimony",
    }
)
# Common nouns that stand for a source the article named before: "the report said".
GENERIC_SOURCES = frozenset(
    {
        "report",
        "remark",
        "document",
        "video",
        "statement",
        "company",
        "agency",
        "study",
        "analysis",
        "assessment",
        "investigation",
        "group",
        "ministry",
        "institute",
        "organisation",
        "organization",
        "team",
        "panel",
        "monitor",
        "paper",
        "filing",
        "figure",
        "data",
        "finding",
        "footage",
        "image",
        "photo",
    }
)
UNNAMED_SOURCES = frozenset({"report", "media", "rumor", "rumour"})
# Verbs that announce a transfer without it having happened: their object is hedged. (A
# signed contract is a purchase made: "sign" is not among them.)
ALSO_PREPOSITIONS = ("alongside", "including", "besides", "plus")
ANNOUNCING = frozenset(
    {
        "announce",
        "approve",
        "unveil",
        "authorize",
        "authorise",
        "greenlight",
        "clear",
        "propose",
    }
)
# Participles that state where a weapon came from: "Iranian-made", "US-supplied drones",
# "missiles supplied by North Korea".
ORIGIN_VERBS = frozenset(
    {
        "make",
        "build",
        "produce",
        "manufacture",
        "design",
        "develop",
        "supply",
        "provide",
        "give",
        "deliver",
        "send",
        "donate",
        "sell",
        "smuggle",
        "ship",
        "transfer",
        "export",
        "source",
    }
)
# Verbs whose subject takes the transfer an event noun names: "Taiwan took delivery of ...".
TAKING_VERBS = frozenset({"take", "receive", "accept", "get", "await", "expect"})
# Words that show a weapon in use or in service, or soldiers in combat: a foreign weapon
# or soldier they govern is a `use` claim of whoever holds it.
USE_WORDS = frozenset(
    {
        "fire",
        "launch",
        "use",
        "deploy",
        "operate",
        "fly",
        "field",
        "employ",
        "fight",
        "shoot",
        "down",
        "intercept",
        "strike",
        "hit",
        "destroy",
        "kill",
        "wound",
        "attack",
        "crash",
        "fall",
        "spot",
        "appear",
        "serve",
        "man",
        "combat",
        "front",
        "battle",
        "frontline",
        "battlefield",
        "target",
        "bomb",
        "shell",
        "storm",
    }
)
# Verbs whose subject weapon serves their object's side: "drones helped the army".
ENABLING_VERBS = frozenset(
    {"help", "allow", "enable", "boost", "bolster", "strengthen", "fuel", "sustain", "aid"}
)
# Nouns whose possessor holds what is supplied: "Russia's arsenal", "Kyiv's forces".
HOLDINGS = frozenset(
    {
        "arsenal",
        "stockpile",
        "stock",
        "inventory",
        "force",
        "army",
        "military",
        "fleet",
        "defence",
        "defense",
        "war",
        "offensive",
        "effort",
        "campaign",
        "troops",
        "front",
    }
)
# Use words whose subject operates the weapon (the others can be done to the holder).
OPERATING = frozenset({"fire", "launch", "use", "deploy", "operate", "fly", "field", "employ"})
# Verbs whose "in"/"by" phrase names where a weapon was made ("were made in North Korea").
MAKING_VERBS = frozenset({"make", "build", "produce", "manufacture", "design", "develop"})
RELATIVE_PRONOUNS = frozenset({"which", "that", "who", "whom"})
PAIR_NOUNS = frozenset({"countries", "nations", "states", "sides", "governments", "allies"})
QUOTES_OPEN = '\u201c"'
QUOTES_CLOSE = '\u201d"'
# How far back (in sentences) a pronoun or an unstated role may reach for its referent.
CONTEXT_SENTENCES = 3


@dataclass
class Mention:
    code: str
    kind: str
    start: int  # token index
    end: int


def unique(values):
    out = []
    for v in values:
        if v and v not in out:
            out.append(v)
    return out


# Who can be trained in a transfer of know-how (the lemma of the trainees' noun): "trained
# Ukrainian crews" passes know-how, "the team trained in Spain" does not.
TRAINEES = frozenset(
    {
        "crew",
        "pilot",
        "soldier",
        "troop",
        "personnel",
        "marine",
        "gunner",
        "officer",
        "operator",
        "recruit",
        "cadet",
        "technician",
        "sailor",
        "serviceman",
        "servicemen",
        "force",
        "army",
        "military",
        "specialist",
        "instructor",
        "paratrooper",
        "commando",
    }
)


# Sentences that make the title and the lead: the document frame is read from them, and the
# title is their context.
LEAD_SENTENCES = 4
