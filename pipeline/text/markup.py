"""HTML and Markdown files: one record each, with the page chrome or the markup removed
so that sentences index plain prose, and the metadata the page or its front matter states."""

from __future__ import annotations

import re
import tomllib
from typing import Any

from pipeline.text.records import SPACES, Record, date_value, fields_of, host, one_line, scalar

# trafilatura builds an lxml tree about ten times the page's size; a page larger than this
# is not an article (a saved forum thread, a data dump) and would cost gigabytes to parse.
MAX_HTML_CHARS = 20_000_000
_BLOCK_TAGS = ("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote")
HTML_TAG = re.compile(r"</?(?:p|div|br|span|a|h[1-6]|li|ul|ol|strong|em|b|i|article|section)\b",
                       re.IGNORECASE)  # fmt: skip


# --- HTML --------------------------------------------------------------------------------


def _strip_tags(fragment: str) -> str:
    """The text of an HTML fragment, one line per block element."""
    import lxml.html

    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except Exception:  # lxml raises several unrelated types on hostile markup
        return ""
    for bad in root.xpath("//script|//style"):
        bad.drop_tree()
    for tag in root.iter(*_BLOCK_TAGS):
        tag.tail = "\n" + (tag.tail or "")
    lines = (SPACES.sub(" ", line).strip() for line in root.text_content().split("\n"))
    return "\n".join(line for line in lines if line)


def html_to_record(html: str, fragment: bool = False, record_index: int = 0) -> Record:
    """The article in an HTML page (or fragment), with the page's own metadata.

    trafilatura drops menus, banners, related links and reader comments. Its date search
    is limited to the page's markup (meta tags, ``<time>``, JSON-LD): the default
    "extensive" search also guesses from URLs and copyright lines, which is a guess
    presented as fact. Nothing is fetched.
    """
    if len(html) > MAX_HTML_CHARS:
        return Record(record_index, None, reason="too_large")
    if fragment:
        # A body stored by a crawler is the article already: no chrome to find, and
        # trafilatura would cut inline tags into lines of their own.
        text = _strip_tags(html)
        return (
            Record(record_index, text)
            if text.strip()
            else Record(record_index, None, reason="no_content")
        )
    # Imported here: it costs a third of a second, which runs without HTML need not pay.
    import trafilatura

    try:
        extracted = trafilatura.bare_extraction(
            html,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except Exception:  # a third-party parser on arbitrary input: a reason, never a crash
        extracted = None
    body = getattr(extracted, "text", None) if extracted is not None else None
    if not isinstance(body, str) or not body.strip():
        return Record(record_index, None, reason="no_content")
    url = one_line(getattr(extracted, "url", None))
    return Record(
        record_index=record_index,
        text=body,
        title=one_line(getattr(extracted, "title", None)),
        published=one_line(getattr(extracted, "date", None)),
        outlet=one_line(getattr(extracted, "sitename", None)) or host(url),
        url=url,
    )


# --- Markdown ----------------------------------------------------------------------------

_FRONT_MATTER_YAML = re.compile(r"\A\ufeff?---[ \t]*\n(?P<body>.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)",
                                re.DOTALL)  # fmt: skip
_FRONT_MATTER_TOML = re.compile(r"\A\ufeff?\+\+\+[ \t]*\n(?P<body>.*?)\n\+\+\+[ \t]*(?:\n|\Z)",
                                re.DOTALL)  # fmt: skip
_YAML_PAIR = re.compile(r"(?P<key>[A-Za-z_][\w\- ]*?)\s*:\s*(?P<value>.*)")
_FENCE = re.compile(r"\s{0,3}(?P<fence>`{3,}|~{3,})")
_RULE = re.compile(r"\s{0,3}(?:(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,}|(?:=\s*){3,})")
_ATX = re.compile(r"\s{0,3}(?P<level>#{1,6})(?:[ \t]+(?P<text>.*?))?(?:[ \t]+#+)?[ \t]*")
_QUOTE = re.compile(r"\s{0,3}(?:>[ \t]?)+")
_LIST = re.compile(r"\s*(?:[-*+]|\d{1,9}[.)])[ \t]+")
_TABLE_RULE = re.compile(r"\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*")
_LINK_DEFINITION = re.compile(r"\s{0,3}\[[^\]]+\]:\s*\S+.*")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~<])")
_IMAGE = re.compile(r"!\[[^\]\n]*\]\([^)\n]*\)|!\[[^\]\n]*\]\[[^\]\n]*\]")
_LINK = re.compile(r"\[(?P<text>[^\]\n]+)\](?:\([^)\n]*\)|\[[^\]\n]*\])")
_AUTOLINK = re.compile(r"<(?P<url>(?:https?|mailto):[^>\s]+)>")
_CODE = re.compile(r"`+(?P<code>[^`\n]+?)`+")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(?P<text>.+?)(?<=\S)\1")
_EMPHASIS_STAR = re.compile(r"(?<![\w*])\*(?=\S)(?P<text>[^*\n]+?)(?<=\S)\*(?![\w*])")
_EMPHASIS_UNDERSCORE = re.compile(r"(?<![\w_])_(?=\S)(?P<text>[^_\n]+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"~~(?=\S)(?P<text>.+?)(?<=\S)~~")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_INLINE_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>\n]*)?/?>")
# Escaped characters are parked in the Private Use Area while markup is removed, so that
# "\*" survives as a literal asterisk.
_PARK = 0xF0000


def _front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Metadata and the rest of the text; a malformed block is left in the text."""
    match = _FRONT_MATTER_YAML.match(text)
    if match:
        values: dict[str, Any] = {}
        for line in match.group("body").splitlines():
            if line[:1].isspace():
                continue  # nested YAML: not a field we use
            pair = _YAML_PAIR.fullmatch(line.strip())
            if pair:
                value = pair.group("value").strip()
                if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                    value = value[1:-1]
                values[pair.group("key").strip()] = value
        return values, text[match.end() :]
    match = _FRONT_MATTER_TOML.match(text)
    if match:
        try:
            return tomllib.loads(match.group("body")), text[match.end() :]
        except tomllib.TOMLDecodeError:
            return {}, text
    return {}, text


def _inline(line: str) -> str:
    line = _ESCAPE.sub(lambda m: chr(_PARK + ord(m.group(1))), line)
    line = _IMAGE.sub("", line)
    line = _LINK.sub(lambda m: m.group("text"), line)
    line = _AUTOLINK.sub(lambda m: m.group("url"), line)
    line = _CODE.sub(lambda m: m.group("code"), line)
    line = _STRONG.sub(lambda m: m.group("text"), line)
    line = _EMPHASIS_STAR.sub(lambda m: m.group("text"), line)
    line = _EMPHASIS_UNDERSCORE.sub(lambda m: m.group("text"), line)
    line = _STRIKE.sub(lambda m: m.group("text"), line)
    line = _INLINE_TAG.sub("", line)
    return "".join(
        chr(ord(ch) - _PARK) if _PARK <= ord(ch) < _PARK + 0x80 else ch for ch in line
    ).rstrip()


def markdown_to_record(markdown: str, record_index: int = 0) -> Record:
    """Plain prose from Markdown, with front-matter metadata and the first H1 as title.

    Headings stay in the text as their own lines (a headline is a sentence); code blocks,
    images, horizontal rules and link definitions go; links keep their words.
    """
    meta, body = _front_matter(markdown)
    body = _HTML_COMMENT.sub("", body)
    lines: list[str] = []
    heading_title: str | None = None
    fence: str | None = None
    for raw in body.splitlines():
        opened = _FENCE.match(raw)
        if fence is not None:
            if (
                opened
                and opened.group("fence")[0] == fence[0]
                and len(opened.group("fence")) >= len(fence)
            ):
                fence = None
            continue
        if opened:
            fence = opened.group("fence")
            continue
        if _RULE.fullmatch(raw) or (_TABLE_RULE.fullmatch(raw) and "-" in raw):
            if raw.strip().startswith("=") and lines and heading_title is None:
                heading_title = lines[-1].strip() or None  # setext level-1 heading
            continue
        if _LINK_DEFINITION.fullmatch(raw):
            continue
        line = _QUOTE.sub("", raw, count=1) if _QUOTE.match(raw) else raw
        heading = _ATX.fullmatch(line)
        if heading:
            line = heading.group("text") or ""
            if heading.group("level") == "#" and heading_title is None:
                heading_title = one_line(_inline(line))
        else:
            line = _LIST.sub("", line, count=1) if _LIST.match(line) else line
        line = _inline(line)
        if line.strip() or (lines and lines[-1].strip()):
            # Removed blocks (code, images, rules) leave one paragraph break, not several.
            lines.append(line)
    text = "\n".join(lines).strip("\n")
    if not text.strip():
        return Record(record_index, None, reason="empty")
    fields = fields_of({str(k): v for k, v in meta.items()})
    url = scalar(fields.get("url"))
    return Record(
        record_index=record_index,
        text=text,
        title=scalar(fields.get("title")) or heading_title,
        published=date_value(fields.get("published")),
        date_precision=scalar(fields.get("date_precision")),
        outlet=scalar(fields.get("outlet")),
        url=url,
    )
