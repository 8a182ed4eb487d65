"""Clean an article's text: normalise characters and whitespace, drop web-page chrome.

The cleaned text is what sentence and entity offsets index into, so cleaning only removes
or normalises characters that carry no meaning (invisible marks, odd spaces, line-break
variants). Quotes, dashes and other punctuation are kept exactly as written.

The chrome vocabulary lives in ``boilerplate.txt`` next to this module (users extend it);
the structural rules (bylines, labels, section names, footers) are below.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources

from pipeline.text.dates import is_date_line, strip_date_prefix

__all__ = ["clean_text", "is_boilerplate_line"]

# A line this short that consists of chrome vocabulary is chrome; longer lines are prose
# even when they use the same words ("Follow the money to see who pays for the shells").
MAX_CHROME_WORDS = 6
# [contains] cues ("brought to you by", "cookies") are decisive in a longer line, but a long
# paragraph that mentions cookies is still an article paragraph.
MAX_CONTAINS_WORDS = 12
# "Posted In:", "Why It Matters:", "Tags:" - a label with nothing after it.
MAX_LABEL_WORDS = 4
# Section names ("World", "Business News") are one or two words.
MAX_SECTION_LABEL_WORDS = 2
# The first line with this many words is the headline; section labels sit above it, and
# the last such line ends the article body.
MIN_HEADLINE_WORDS = 3
# Words after "Photo:" that make a caption a sentence rather than a credit ("Photo: AFP via
# Getty Images" is four).
MIN_CAPTION_WORDS = 6
# A byline is a name or two, perhaps with a role or outlet; longer lines are sentences.
MAX_BYLINE_WORDS = 10
# A menu or breadcrumb has at least three short items ("Home » World » Europe"); two items
# with a separator are often a headline ("Ukraine war | Drones hit Odesa").
MIN_NAV_SEGMENTS = 3
MAX_NAV_SEGMENT_WORDS = 4
# End-of-article markers only cut the text when they sit in its last third: higher up, a
# "Read more" or "Related" line is an inline link box and the article continues below it.
FOOTER_ZONE_START = 2 / 3

# Newline variants become "\n"; U+2029 separates paragraphs.
_NEWLINES = {"\r\n": "\n", "\r": "\n", "\u2028": "\n", "\u2029": "\n\n", "\x85": "\n"}
_NEWLINE_RE = re.compile("|".join(map(re.escape, _NEWLINES)))

# Invisible characters: zero-width spaces and joiners, word joiner, BOM, soft hyphen,
# directional marks and isolates, invisible math operators, and control characters. They
# break tokenisation ("Pyong\u00adyang") without adding meaning.
_INVISIBLE_CHARS = (
    "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u200e\u200f"
    + "".join(map(chr, range(0x202A, 0x202F)))
    + "".join(map(chr, range(0x2061, 0x2065)))
    + "".join(map(chr, range(0x2066, 0x206A)))
    + "".join(chr(c) for c in range(0x20) if chr(c) not in "\t\n\x0b\x0c")
    + "".join(map(chr, range(0x7F, 0xA0)))
)
# Space variants (no-break, narrow, figure, thin, ideographic, ...) and tabs become a space.
_SPACE_CHARS = "\t\u00a0\u1680\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B)))
_TRANSLATION = {
    **dict.fromkeys(map(ord, _INVISIBLE_CHARS)),
    **dict.fromkeys(map(ord, _SPACE_CHARS), " "),
    # Vertical tab and form feed end a line in every text editor.
    ord("\x0b"): "\n",
    ord("\x0c"): "\n",
}
_SPACES = re.compile(r" {2,}")

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
_NON_WORD = re.compile(r"[^a-z' ]+")
_WORD = re.compile(r"[^\W_]", re.UNICODE)
_WORDY_TOKEN = re.compile(r"\S*[^\W_]\S*")
_SENTENCE_END = re.compile(r"[.!?][\"'\u201d\u2019)\]]*$")

_BYLINE = re.compile(
    r"(?:(?:additional\s+)?reporting\s+by|written\s+by|words\s+by|story\s+by|text\s+by"
    r"|posted\s+by|edited\s+by|editing\s+by|by|authors?\s*:|editor\s*:)\s*(?P<name>.+)",
    re.IGNORECASE,
)
# Lower-case words a byline may contain between names.
_BYLINE_CONNECTORS = frozenset(
    {"and", "by", "in", "for", "of", "at", "de", "da", "del", "der", "di", "van", "von", "bin",
     "al", "la", "le", "the", "with"}
)  # fmt: skip
# Breadcrumbs and menus: "Home » World » Europe", "News | Video | Opinion | Podcasts".
_NAV_SEPARATOR = re.compile(r"\s*[\u00bb\u203a\u2022\u00b7]\s*|\s+[|>/]\s+")
_SECTION_LABEL = re.compile(r"[A-Z][A-Za-z&'\u2019-]*(?: [A-Z&][A-Za-z&'\u2019-]*)?")


@dataclass(frozen=True)
class _Cues:
    phrases: frozenset[str]
    open_phrases: tuple[str, ...]
    prefixes: tuple[str, ...]
    teasers: tuple[str, ...]
    captions: tuple[str, ...]
    short_prefixes: tuple[str, ...]
    contains: tuple[str, ...]
    # Finds any [contains] cue as whole words in " " + normalised line + " ".
    contains_re: re.Pattern[str]
    words: frozenset[str]
    filler: frozenset[str]
    footer: frozenset[str]
    open_footer: tuple[str, ...]


def _split_open(cues: list[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    """The exact cues, and the open ones ("cue *") as "cue " (the word must end there)."""
    exact = frozenset(c for c in cues if not c.endswith(" *"))
    wildcard = tuple(c.removesuffix("*") for c in cues if c.endswith(" *"))
    return exact, wildcard


_SECTIONS = (
    "phrases",
    "prefixes",
    "teasers",
    "captions",
    "short-prefixes",
    "contains",
    "words",
    "filler",
    "footer",
)


def _cues_text() -> str:
    return resources.files("pipeline.text").joinpath("boilerplate.txt").read_text("utf-8")


def cues_digest() -> str:
    """A digest of the cue file: edited cues clean every document again."""
    return hashlib.sha256(_cues_text().encode()).hexdigest()[:12]


def _load_cues() -> _Cues:
    """Read ``boilerplate.txt``, which ships inside the package."""
    text = _cues_text()
    sections: dict[str, list[str]] = {name: [] for name in _SECTIONS}
    current: list[str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1].strip().lower()
            if name not in sections:
                raise ValueError(f"boilerplate.txt line {number}: unknown section [{name}]")
            current = sections[name]
        elif current is None:
            # A cue above the first header would be silently ignored: fail loudly instead.
            raise ValueError(f"boilerplate.txt line {number}: cue before any [section]")
        else:
            current.append(line.lower())
    contains = tuple(_normalise(c) for c in sections["contains"])
    phrases, open_phrases = _split_open(
        [_normalise(c) + (" *" * c.endswith(" *")) for c in sections["phrases"]]
    )
    footer, open_footer = _split_open(
        [_normalise(c) + (" *" * c.endswith(" *")) for c in sections["footer"]]
    )
    return _Cues(
        phrases=phrases,
        open_phrases=open_phrases,
        prefixes=tuple(sections["prefixes"]),
        teasers=tuple(sections["teasers"]),
        captions=tuple(sections["captions"]),
        short_prefixes=tuple(sections["short-prefixes"]),
        contains=contains,
        contains_re=re.compile(
            "|".join(f" {re.escape(c)} " for c in contains) if contains else r"(?!)"
        ),
        words=frozenset(sections["words"]),
        filler=frozenset(sections["filler"]),
        footer=footer,
        open_footer=open_footer,
    )


def _normalise(line: str) -> str:
    """Lower case, apostrophes unified, everything but letters removed, spaces collapsed."""
    text = _NON_WORD.sub(" ", line.lower().translate(_APOSTROPHES))
    return " ".join(word.strip("'") for word in text.split() if word.strip("'"))


_CUES = _load_cues()


def _matches(normalised: str, exact: frozenset[str], wildcard: tuple[str, ...]) -> bool:
    if normalised in exact:
        return True
    if not normalised.startswith(wildcard):
        return False
    words = normalised.split()
    return any(
        normalised.startswith(cue) and len(words) <= len(cue.split()) + 4 for cue in wildcard
    )


def _starts_with(lowered: str, cue: str) -> bool:
    # A cue ending in a letter must end a word there: "follow" is neither "followers" nor
    # "follow-up".
    if not lowered.startswith(cue):
        return False
    rest = lowered[len(cue) :]
    return not (cue[-1:].isalpha() and (rest[:1].isalpha() or rest[:1] in "-'"))


def _word_count(line: str) -> int:
    """Whitespace-separated tokens with a letter or digit in them."""
    return len(_WORDY_TOKEN.findall(line))


def _is_footer_marker(line: str) -> bool:
    return _matches(_normalise(line), _CUES.footer, _CUES.open_footer)


def _is_byline(line: str) -> bool:
    match = _BYLINE.fullmatch(line)
    if match is None:
        return False
    name = match.group("name").strip(" :|-\u2013\u2014")
    words = [w for w in name.split() if _WORD.search(w)]
    if not words or len(words) > MAX_BYLINE_WORDS or not name[0].isupper():
        return False
    # A sentence ending ("By then, the shells had arrived.") rules out a byline, except for
    # an initial or suffix at the end ("By John Smith Jr.").
    if _SENTENCE_END.search(name) and len(words[-1].rstrip(".")) > 2:
        return False
    capitalised = sum(1 for w in words if w[0].isupper() or not w[0].isalpha())
    connectors = sum(1 for w in words if w.lower() in _BYLINE_CONNECTORS)
    return capitalised + connectors >= len(words)


def _is_label(line: str) -> bool:
    """A title-case label with a trailing colon and nothing after it ("Posted In:").

    A lower-case lead-in to a quote ("He said:") is text, not a label.
    """
    if not line.endswith(":"):
        return False
    words = line[:-1].split()
    if not words or len(words) > MAX_LABEL_WORDS:
        return False
    return len(words) == 1 or all(w[0].isupper() or not w[0].isalpha() for w in words)


def _is_navigation(line: str) -> bool:
    segments = [s for s in _NAV_SEPARATOR.split(line) if s.strip()]
    return (
        len(segments) >= MIN_NAV_SEGMENTS
        and all(_word_count(s) <= MAX_NAV_SEGMENT_WORDS for s in segments)
        and not _SENTENCE_END.search(line)
    )


def _is_section_label(line: str) -> bool:
    return bool(_SECTION_LABEL.fullmatch(line)) and _word_count(line) <= MAX_SECTION_LABEL_WORDS


def is_boilerplate_line(line: str) -> bool:
    """True when one line, seen on its own, is page chrome rather than article text.

    Context-free rules only: chrome vocabulary (``boilerplate.txt``), lines with no words,
    date/time stamps, title-case labels with a trailing colon, bylines, and breadcrumb or
    menu lines (three or more short items between separators). Section labels and repeated
    headlines depend on where they sit and are handled in :func:`clean_text`.
    """
    text = " ".join(line.split())
    if not text:
        return False
    if not any(ch.isalpha() for ch in text):
        # Separators, bullets, counters and page numbers ("* * *", "12", "|").
        return True
    if is_date_line(text):
        return True

    cues = _CUES
    normalised = _normalise(text)
    # Credits often come in brackets: "(Photo by A. Smith/Example Wire)".
    lowered = text.lower().translate(_APOSTROPHES)
    if lowered[:1] in "([" and lowered[-1:] in ")]":
        lowered = lowered[1:-1].strip()
    n_words = _word_count(text)
    if _matches(normalised, cues.phrases, cues.open_phrases):
        return True
    if _matches(normalised, cues.footer, cues.open_footer):
        return True
    # str.startswith over a whole tuple first: most lines start with no cue at all.
    if lowered.startswith(cues.prefixes) and any(
        _starts_with(lowered, cue) for cue in cues.prefixes
    ):
        return True
    teaser = (
        next((cue for cue in cues.teasers if _starts_with(lowered, cue)), None)
        if lowered.startswith(cues.teasers)
        else None
    )
    if teaser is not None:
        # Another article's headline is a sentence like any other; a bare label is chrome.
        return n_words - _word_count(teaser) < MIN_HEADLINE_WORDS
    caption = (
        next((cue for cue in cues.captions if _starts_with(lowered, cue)), None)
        if lowered.startswith(cues.captions)
        else None
    )
    padded = f" {normalised} "
    if caption is not None:
        # A caption that is a sentence is one (the claim guidelines); a credit is chrome.
        credit = cues.contains_re.search(padded) is not None
        return credit or n_words - _word_count(caption) < MIN_CAPTION_WORDS
    if (
        n_words <= MAX_CHROME_WORDS
        and lowered.startswith(cues.short_prefixes)
        and any(_starts_with(lowered, c) for c in cues.short_prefixes)
    ):
        return True
    if n_words <= MAX_CONTAINS_WORDS and cues.contains_re.search(padded) is not None:
        return True
    words = normalised.split()
    vocabulary = cues.words | cues.filler
    if words and n_words <= MAX_CHROME_WORDS and all(w in vocabulary for w in words):
        return True
    return _is_label(text) or _is_byline(text) or _is_navigation(text)


def _normalise_characters(text: str) -> str:
    text = _NEWLINE_RE.sub(lambda m: _NEWLINES[m.group()], text)
    return unicodedata.normalize("NFC", text.translate(_TRANSLATION))


def _cut_footer(lines: list[str]) -> list[str]:
    """Drop the first end-of-article marker in the last third and everything after it."""
    total = sum(len(line) + 1 for line in lines)
    offset = 0
    for index, line in enumerate(lines):
        if offset >= FOOTER_ZONE_START * total and line and _is_footer_marker(line):
            return lines[:index]
        offset += len(line) + 1
    return lines


def _strip_date_prefixes(line: str) -> str:
    while True:
        stripped = _SPACES.sub(" ", strip_date_prefix(line).strip())
        if stripped == line:
            return line
        line = stripped


def _drop_section_labels(kept: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Drop one- or two-word section labels above the headline and below the body."""
    long_lines = [i for i, (_, line) in enumerate(kept) if _word_count(line) >= MIN_HEADLINE_WORDS]
    if not long_lines:
        return kept
    first, last = long_lines[0], long_lines[-1]
    return [
        item for i, item in enumerate(kept) if first <= i <= last or not _is_section_label(item[1])
    ]


def _repeat_key(line: str) -> str:
    # A headline repeated as the first body line often gains or loses a final full stop.
    return line.casefold().rstrip(" .!?:;,")


def _drop_repeats(kept: list[tuple[int, str]]) -> list[tuple[int, str]]:
    result: list[tuple[int, str]] = []
    for item in kept:
        if result and _repeat_key(result[-1][1]) == _repeat_key(item[1]):
            continue
        result.append(item)
    return result


def clean_text(text: str) -> str:
    """Normalise an article's characters and whitespace and drop its web-page chrome.

    Paragraphs are separated by exactly one blank line; line breaks inside a paragraph are
    kept. Idempotent: ``clean_text(clean_text(x)) == clean_text(x)``.
    """
    lines = [_SPACES.sub(" ", line.strip()) for line in _normalise_characters(text).split("\n")]
    lines = _cut_footer(lines)

    kept: list[tuple[int, str]] = []
    paragraph = 0
    for line in lines:
        if not line:
            paragraph += 1
            continue
        line = _strip_date_prefixes(line)
        if not is_boilerplate_line(line):
            kept.append((paragraph, line))
    kept = _drop_repeats(_drop_section_labels(kept))

    paragraphs: list[list[str]] = []
    last_paragraph: int | None = None
    for paragraph, line in kept:
        if paragraph != last_paragraph:
            paragraphs.append([])
            last_paragraph = paragraph
        paragraphs[-1].append(line)
    return "\n\n".join("\n".join(lines) for lines in paragraphs).strip()
