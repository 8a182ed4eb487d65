"""Files of every supported format become records with their own metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.text.formats import (
    MAX_HTML_CHARS,
    detect_format,
    html_to_record,
    markdown_to_record,
    parse_file,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "formats"


def _fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("a.txt", "plain", "txt"),
        ("notes/b.MD", "# x", "md"),
        ("c.htm", "<p>x</p>", "html"),
        ("d.json", "[]", "json"),
        ("e.ndjson", "{}", "jsonl"),
        ("no_extension", "<!DOCTYPE html><html><body>x</body></html>", "html"),
        ("saved.page", "  <html><body>x</body></html>", "html"),
        ("dump", '{"text": "a"}\n{"text": "b"}\n', "jsonl"),
        ("dump.data", '[{"text": "a"}]', "json"),
        ("README", "Just words.", "txt"),
        ("dir.v2/file", "Just words.", "txt"),
    ],
)
def test_format_from_extension_else_from_content(name: str, text: str, expected: str) -> None:
    assert detect_format(name, text) == expected


def test_plain_text_is_one_record_verbatim() -> None:
    text = "Headline here\n\nBody  with   spacing kept.\n"
    parsed = parse_file("a.txt", text)
    assert parsed.source_format == "txt"
    assert parsed.reason is None
    assert [(r.record_index, r.text, r.title) for r in parsed.records] == [(0, text, None)]


def test_html_page_loses_its_chrome_and_keeps_its_metadata() -> None:
    parsed = parse_file("shells_report.html", _fixture("shells_report.html"))
    assert parsed.source_format == "html"
    (record,) = parsed.records
    assert record.text is not None
    assert record.text.startswith("Seoul says Pyongyang shipped more shells to Moscow\n")
    assert "one million artillery shells" in record.text
    for chrome in ("cookies", "Subscribe", "Ten photos", "Home", "dataLayer", "Copyright"):
        assert chrome not in record.text, chrome
    assert record.title == "Seoul says Pyongyang shipped more shells to Moscow"
    assert record.outlet == "Harbour Ledger"
    assert record.published == "2024-03-05"
    assert record.url == "https://harbourledger.example.net/world/seoul-shells"


def test_html_date_is_never_guessed_from_the_url_or_the_footer() -> None:
    page = (
        '<html><head><link rel="canonical" href="https://x.example.com/2024/03/story">'
        "</head><body><article><p>"
        + "Officials said the convoy carried artillery shells across the border. " * 8
        + "</p></article><footer>Copyright 2023 Example</footer></body></html>"
    )
    record = html_to_record(page)
    assert record.text is not None
    assert record.published is None
    assert record.outlet == "x.example.com"


@pytest.mark.parametrize(
    "page",
    [
        "<html><body>   </body></html>",
        "<html><head><title>Only a title</title></head><body></body></html>",
        "<<<>>>",
    ],
)
def test_html_without_an_article_has_no_content(page: str) -> None:
    parsed = parse_file("p.html", page)
    assert parsed.reason == "no_content"
    assert parsed.documents == ()


def test_oversized_html_is_not_parsed() -> None:
    record = html_to_record("<p>" + "a" * MAX_HTML_CHARS + "</p>")
    assert record.reason == "too_large"


def test_xml_declared_xhtml_is_read() -> None:
    page = (
        '<?xml version="1.0" encoding="utf-8"?>\n<html><body><article><p>'
        + "Russia received drones from Iran last month, officials said. " * 6
        + "</p></article></body></html>"
    )
    parsed = parse_file("page.xhtml", page)
    assert parsed.reason is None
    assert parsed.records[0].text is not None
    assert "received drones" in parsed.records[0].text


def test_jsonl_crawl_dump_yields_one_record_per_line_with_its_fields() -> None:
    parsed = parse_file("crawl.jsonl", _fixture("crawl.jsonl"))
    assert parsed.source_format == "jsonl"
    assert parsed.reason is None
    first, second = parsed.records
    assert first.record_index == 0
    assert first.title == "Iran delivered drones to Russia, Kyiv says"
    assert first.outlet == "Steppe Wire"  # {"source": {"name": ...}}
    assert first.published == "2024-02-12T10:00:00Z"
    assert first.url == "https://steppe-wire.example.com/2024/02/drones"
    assert first.text is not None and first.text.startswith("Iran delivered drones")
    assert second.record_index == 1
    assert (second.title, second.outlet, second.published) == (
        "Russia received ballistic missiles from Iran, officials say",
        "Northern Courier",
        "2024-09",
    )
    assert second.url == "https://northern-courier.example.org/missiles"


def test_records_without_text_and_broken_lines_are_reasons_not_errors() -> None:
    lines = [
        json.dumps({"title": "No body at all", "url": "https://e.example/1"}),
        "{not json",
        json.dumps({"text": "   "}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"maintext": "A real article about shells."}),
        "",
    ]
    parsed = parse_file("mixed.jsonl", "\n".join(lines))
    assert parsed.reason is None
    assert [(r.record_index, r.reason) for r in parsed.records] == [
        (0, "no_text"),
        (1, "bad_json"),
        (2, "empty"),
        (3, "no_text"),
        (4, None),
    ]
    assert [r.text for r in parsed.documents] == ["A real article about shells."]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (json.dumps([{"title": "a"}, {"title": "b"}]), "no_text"),
        (json.dumps({"title": "one record, no text"}), "no_text"),
        ("[]", "no_text"),
        ("{broken", "bad_json"),
        ("[" * 50_000 + "]" * 50_000, "bad_json"),  # deeper than any parser's recursion
        ("   ", "empty"),
        (json.dumps({"count": 3, "ok": True}), "no_text"),
    ],
)
def test_a_json_file_without_any_text_gets_a_file_reason(text: str, reason: str) -> None:
    parsed = parse_file("dump.json", text)
    assert parsed.reason == reason
    assert parsed.documents == ()


@pytest.mark.parametrize(
    "document",
    [
        [{"text": "First."}, {"body": "Second."}],
        {"articles": [{"text": "First."}, {"body": "Second."}]},
        {"status": "ok", "payload": [{"text": "First."}, {"body": "Second."}]},
        '{"text": "First."}\n{"body": "Second."}',  # JSON Lines under a .json name
    ],
)
def test_json_shapes_crawlers_write(document: object) -> None:
    text = document if isinstance(document, str) else json.dumps(document)
    parsed = parse_file("dump.json", text)
    assert [r.text for r in parsed.documents] == ["First.", "Second."]


def test_json_field_names_ignore_case_and_separators() -> None:
    record = parse_file(
        "x.json",
        json.dumps(
            {
                "Article-Body": "Text.",
                "HEADLINE": "Head",
                "published_at": 1_706_745_600,  # 2024-02-01 00:00 UTC, epoch seconds
                "Site_Name": "https://www.example-news.com/",
                "permalink": "https://example-news.com/a",
            }
        ),
    ).records[0]
    assert (record.text, record.title, record.published) == ("Text.", "Head", "2024-02-01")
    assert record.outlet == "example-news.com"
    assert record.url == "https://example-news.com/a"


def test_html_body_in_a_json_record_is_reduced_to_text() -> None:
    record = parse_file(
        "x.json",
        json.dumps({"content": {"rendered": "<p>Iran sent <b>drones</b>.</p><p>Second.</p>"}}),
    ).records[0]
    assert record.text is not None
    assert "Iran sent drones." in record.text
    assert "<" not in record.text


def test_markdown_front_matter_heading_and_markup() -> None:
    record = markdown_to_record(_fixture("briefing.md"))
    assert record.title == "Weekly arms-transfer briefing"
    assert record.published == "2024-06-03"
    assert record.outlet == "Open Ledger Notes"
    assert record.url == "https://notes.example.org/briefing-23"
    assert record.text is not None
    lines = record.text.split("\n")
    assert lines[0] == "Weekly arms-transfer briefing"
    assert (
        "Germany said it would send more IRIS-T air defence systems to Ukraine, according to "
        "a statement from the defence ministry." in lines
    )
    assert '"The systems will arrive before winter," a spokesperson said.' in lines
    assert "Norway is buying K9 howitzers from South Korea." in lines
    for markup in ("**", "](", "```", "not prose", "---", "> ", "- "):
        assert markup not in record.text, markup


def test_markdown_details() -> None:
    text = (
        "+++\ntitle = 'From TOML'\ndate = 2024-05-06\n+++\n"
        "Setext heading\n==============\n\n"
        "Keep snake_case_words and 2*3*4, \\*literal stars\\*, `code`.\n"
        "![a chart](chart.png)\n\n\n\n"
        "1. Numbered item\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n"
        "[ref]: https://example.org\n"
    )
    record = markdown_to_record(text)
    assert record.title == "From TOML"
    assert record.published == "2024-05-06"
    assert record.text == (
        "Setext heading\n\n"
        "Keep snake_case_words and 2*3*4, *literal stars*, code.\n\n"
        "Numbered item\n| a | b |\n| 1 | 2 |"
    )


def test_markdown_first_heading_is_the_title_without_front_matter() -> None:
    record = markdown_to_record("Intro line\n\n# The Real Title\n\nBody.")
    assert record.title == "The Real Title"
    assert record.published is None


@pytest.mark.parametrize("text", ["", "   \n", "---\ntitle: x\n---\n\n```\ncode only\n```\n"])
def test_markdown_without_prose_is_empty(text: str) -> None:
    assert parse_file("n.md", text).reason == "empty"


def test_unterminated_front_matter_stays_text() -> None:
    record = markdown_to_record("---\ntitle: never closed\n\nBody text.")
    assert record.title is None
    assert record.text is not None and "Body text." in record.text
