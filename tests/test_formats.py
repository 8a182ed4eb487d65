"""An HTML page, a JSONL crawl dump and a Markdown note dropped into the seeds folder all
become documents with their metadata (issue: real inputs)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from pipeline import seeds
from pipeline.text.formats import parse_file
from tests.conftest import read_rows, run_pipeline

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "formats"


@pytest.fixture(scope="module")
def formats_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("formats")
    folder = root / "seeds"
    folder.mkdir()
    for name in ("shells_report.html", "crawl.jsonl", "briefing.md"):
        shutil.copy2(FIXTURES / name, folder / name)
    records = [
        {"title": "A teaser without a body", "url": "https://e.example/teaser"},
        {"text": "Belarus received Iskander missiles from Russia, Minsk said.", "title": "B"},
    ]
    (folder / "partial.json").write_text(json.dumps(records), encoding="utf-8")
    (folder / "no_text.json").write_text(json.dumps([{"title": "x"}]), encoding="utf-8")
    # The manifest wins over what the record says: outlet and date of the Markdown note.
    (folder / "manifest.csv").write_text(
        "file,published,date_precision,outlet\nbriefing.md,2024-06,month,Ledger Weekly\n",
        encoding="utf-8",
    )
    published = root / "warehouse" / "salvo.duckdb"
    result = run_pipeline(folder, published)
    assert result.success
    return published


def test_every_format_becomes_documents_counted_in_the_ledger(formats_warehouse: Path):
    ledger = read_rows(
        formats_warehouse,
        "SELECT source_file, status, reason, source_format, records, documents, "
        "quarantined_records FROM seed_files ORDER BY source_file",
    )
    assert ledger == [
        ("briefing.md", "ingested", None, "md", 1, 1, 0),
        ("crawl.jsonl", "ingested", None, "jsonl", 2, 2, 0),
        ("no_text.json", "quarantined", "no_text", "json", 1, 0, 1),
        ("partial.json", "ingested", None, "json", 2, 1, 1),
        ("shells_report.html", "ingested", None, "html", 1, 1, 0),
    ]
    records = read_rows(
        formats_warehouse,
        "SELECT source_file, record_index, status, reason FROM seed_records "
        "WHERE source_file LIKE '%.json%' ORDER BY 1, 2",
    )
    assert records == [
        ("crawl.jsonl", 0, "ingested", None),
        ("crawl.jsonl", 1, "ingested", None),
        ("no_text.json", 0, "quarantined", "no_text"),
        ("partial.json", 0, "quarantined", "no_text"),
        ("partial.json", 1, "ingested", None),
    ]


def test_record_metadata_reaches_documents_and_the_manifest_wins(formats_warehouse: Path):
    rows = read_rows(
        formats_warehouse,
        "SELECT source_file, record_index, title, outlet, published_date, date_precision, "
        "date_source, url FROM documents ORDER BY source_file, record_index",
    )
    assert rows == [
        (
            "briefing.md",
            0,
            "Weekly arms-transfer briefing",
            "Ledger Weekly",
            dt.date(2024, 6, 1),
            "month",
            "metadata",
            "https://notes.example.org/briefing-23",
        ),
        (
            "crawl.jsonl",
            0,
            "Iran delivered drones to Russia, Kyiv says",
            "Steppe Wire",
            dt.date(2024, 2, 12),
            "day",
            "metadata",
            "https://steppe-wire.example.com/2024/02/drones",
        ),
        (
            "crawl.jsonl",
            1,
            "Russia received ballistic missiles from Iran, officials say",
            "Northern Courier",
            dt.date(2024, 9, 1),
            "month",
            "metadata",
            "https://northern-courier.example.org/missiles",
        ),
        ("partial.json", 1, "B", None, None, None, "unknown", None),
        (
            "shells_report.html",
            0,
            "Seoul says Pyongyang shipped more shells to Moscow",
            "Harbour Ledger",
            dt.date(2024, 3, 5),
            "day",
            "metadata",
            "https://harbourledger.example.net/world/seoul-shells",
        ),
    ]


def test_doc_id_is_the_hash_of_the_record_text(formats_warehouse: Path):
    expected = {}
    for name in ("shells_report.html", "crawl.jsonl", "briefing.md"):
        parsed = parse_file(name, (FIXTURES / name).read_text(encoding="utf-8"))
        for record in parsed.documents:
            assert record.text is not None
            expected[(name, record.record_index)] = seeds.document_id(record.text)
    stored = {
        (source_file, index): doc_id
        for doc_id, source_file, index in read_rows(
            formats_warehouse, "SELECT doc_id, source_file, record_index FROM raw_documents"
        )
        if (source_file, index) in expected
    }
    assert stored == expected


def test_page_chrome_is_gone_and_claims_are_found(formats_warehouse: Path):
    (text,) = read_rows(
        formats_warehouse,
        "SELECT clean_text FROM documents WHERE source_file = 'shells_report.html'",
    )[0]
    assert "cookies" not in text and "Subscribe" not in text and "Ten photos" not in text
    claims = read_rows(
        formats_warehouse,
        "SELECT d.source_file, c.supplier, c.recipient FROM claims c "
        "JOIN documents d USING (doc_id) ORDER BY 1",
    )
    assert ("shells_report.html", "PRK", "RUS") in claims
    assert {row[0] for row in claims} >= {"shells_report.html", "crawl.jsonl"}


def test_markdown_markup_is_not_in_the_text(formats_warehouse: Path):
    (text,) = read_rows(
        formats_warehouse, "SELECT clean_text FROM documents WHERE source_file = 'briefing.md'"
    )[0]
    assert text.startswith("Weekly arms-transfer briefing\n")
    assert "**" not in text and "](" not in text and "```" not in text
