"""The evidence report: built from small hand-made warehouses (escaping, highlighting,
empty and missing parts, future columns, determinism, the asset and the command), and from
the seed warehouse opened in headless Chromium, driven over WebDriver with the standard
library only: what a reader sees after opening a register row."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from assets.report import evidence_report
from assets.resources import SalvoSettings
from pipeline.report import __main__ as report_cli
from pipeline.report import build_report, write_report
from pipeline.report.claims import highlight, published_text
from pipeline.report.data import Claim, Limits, Span, sample_claims
from tests.conftest import read_rows

DOC = "doc1"
# The document's text: the claim's sentence starts at character 20.
PREFIX = "Headline of the day."
SENTENCE = 'Officials said <script>alert(1)</script> North Korea sent shells & "rockets" to Russia.'
TEXT = PREFIX + SENTENCE


def at(words: str) -> tuple[int, int]:
    """Where `words` are in the document's text."""
    start = TEXT.index(words)
    return start, start + len(words)


def make_warehouse(path: Path, *, full: bool = True, reverse: bool = False) -> Path:
    """A tiny published warehouse: one transfer with one claim and one without any, a
    claim outside the register; `full=False` keeps only the columns the report needs."""
    con = duckdb.connect(str(path))
    claims = [
        # claim_id, relation, supplier, recipient, weapon_class, sentence
        ("c1", "supply", "PRK", "RUS", "artillery_ammunition", SENTENCE),
        ("c2", "produce", "RUS", None, "glide_bomb", "Russia makes <b>glide</b> bombs."),
    ]
    transfers = [
        ("PRK", "RUS", "artillery_ammunition", 1, ["supply"]),
        ("IRN", "RUS", "drone", 0, ["supply"]),
    ]
    if reverse:
        claims.reverse()
        transfers.reverse()
    if full:
        con.execute(
            "CREATE TABLE claims_enriched (claim_id VARCHAR, relation VARCHAR, supplier VARCHAR, "
            "recipient VARCHAR, weapon_class VARCHAR, weapon_text VARCHAR, attributed_to "
            "VARCHAR, hedged BOOLEAN, negated BOOLEAN, sentence VARCHAR, title VARCHAR, "
            "outlet VARCHAR, published_date DATE, source_file VARCHAR, url VARCHAR, "
            "story_id VARCHAR, doc_id VARCHAR, sentence_id VARCHAR, sentence_start_char "
            "INTEGER, digest UBIGINT, weapon_system VARCHAR, event_start DATE, event_text "
            "VARCHAR, calibre_mm VARCHAR)"
        )
        for claim_id, relation, supplier, recipient, weapon, sentence in claims:
            con.execute(
                "INSERT INTO claims_enriched VALUES (?, ?, ?, ?, ?, 'shells', "
                "'Officials <i>', true, false, ?, 'A <title>', 'Outlet & Co', "
                "DATE '2024-01-05', 'a.txt', 'https://example.org/a', 'story1', ?, ?, ?, 7, "
                "'Koksan', DATE '2023-08-01', 'since August', '152')",
                [claim_id, relation, supplier, recipient, weapon, sentence, DOC, f"s-{claim_id}",
                 len(PREFIX) if claim_id == "c1" else 0],
            )  # fmt: skip
        con.execute(
            "CREATE TABLE arms_transfers (supplier VARCHAR, recipient VARCHAR, weapon_class "
            "VARCHAR, claims BIGINT, relations VARCHAR[], weapon_systems VARCHAR[])"
        )
        for supplier, recipient, weapon, n, relations in transfers:
            con.execute(
                "INSERT INTO arms_transfers VALUES (?, ?, ?, ?, ?, ['Koksan', 'KN-23'])",
                [supplier, recipient, weapon, n, relations],
            )
        con.execute(
            "CREATE TABLE entities (sentence_id VARCHAR, start_char INTEGER, end_char INTEGER, "
            "text VARCHAR, label VARCHAR, actor_code VARCHAR, weapon_class VARCHAR)"
        )
        mentions = [
            ("North Korea", "ACTOR", "PRK", None),
            ("Russia", "ACTOR", "RUS", None),
            ("shells", "WEAPON", None, "artillery_ammunition"),
            ("rockets", "WEAPON", None, "rocket"),
            ("Officials", "PERSON", None, None),  # not an actor or a weapon: not marked
        ]
        for words, label, actor, weapon in mentions:
            start, end = at(words)
            con.execute(
                "INSERT INTO entities VALUES ('s-c1', ?, ?, ?, ?, ?, ?)",
                [start, end, words, label, actor, weapon],
            )
        # A mention whose words are not the sentence's at its offsets is left out.
        con.execute("INSERT INTO entities VALUES ('s-c1', 20, 29, 'Elsewhere', 'ACTOR', 'X', NULL)")
    else:
        con.execute(
            "CREATE TABLE claims_enriched (relation VARCHAR, supplier VARCHAR, recipient "
            "VARCHAR, weapon_class VARCHAR, sentence VARCHAR)"
        )
        for _, relation, supplier, recipient, weapon, sentence in claims:
            con.execute(
                "INSERT INTO claims_enriched VALUES (?, ?, ?, ?, ?)",
                [relation, supplier, recipient, weapon, sentence],
            )
        con.execute(
            "CREATE TABLE arms_transfers (supplier VARCHAR, recipient VARCHAR, weapon_class "
            "VARCHAR)"
        )
        for supplier, recipient, weapon, _, _ in transfers:
            con.execute(
                "INSERT INTO arms_transfers VALUES (?, ?, ?)", [supplier, recipient, weapon]
            )
    con.close()
    return path


def details_of(page: str, supplier: str, recipient: str, weapon: str) -> str:
    """The HTML of one register row, from its <details> to its </details>."""
    opening = (
        f'<details class="transfer" data-recipient="{recipient}" '
        f'data-supplier="{supplier}" data-weapon="{weapon}"'
    )
    start = page.index(opening)
    return page[start : page.index("</details>", start)]


def test_every_text_is_escaped(tmp_path: Path):
    page, _ = build_report(make_warehouse(tmp_path / "w.duckdb"))
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "sent <mark" in page and "&amp; &quot;" in page
    assert "Outlet &amp; Co" in page and "A &lt;title&gt;" in page
    assert "according to <b>Officials &lt;i&gt;</b>" in page
    assert "Russia makes &lt;b&gt;glide&lt;/b&gt; bombs." in page
    # One script, the page's own; no external resource of any kind.
    assert page.count("<script") == 1 and "<script src" not in page
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert all(src.startswith("data:") for src in re.findall(r'src="([^"]*)"', page))


def test_highlights_sit_on_the_mentions_offsets(tmp_path: Path):
    page, data = build_report(make_warehouse(tmp_path / "w.duckdb"))
    [transfer] = [t for t in data.transfers if t.row["supplier"] == "PRK"]
    [claim] = transfer.claims
    spans = {(s.start, s.end, s.label, s.code) for s in claim.spans}
    start = SENTENCE.index("North Korea")
    assert (start, start + len("North Korea"), "ACTOR", "PRK") in spans
    assert all(SENTENCE[s.start : s.end] == s.text for s in claim.spans)
    assert [s.text for s in sorted(claim.spans, key=lambda s: s.start)] == [
        "North Korea",
        "shells",
        "rockets",
        "Russia",
    ]
    row = details_of(page, "PRK", "RUS", "artillery_ammunition")
    assert '<mark class="actor supplier" title="actor: PRK (supplier)">North Korea</mark>' in row
    assert '<mark class="actor recipient" title="actor: RUS (recipient)">Russia</mark>' in row
    assert '<mark class="weapon own" title="weapon: artillery_ammunition">shells</mark>' in row
    assert '<mark class="weapon" title="weapon: rocket">rockets</mark>' in row
    assert "Officials</mark>" not in row and "Elsewhere" not in row


def test_overlapping_mentions_keep_the_longest_and_text_stays_whole():
    sentence = "The Shahed-136 <drones> of Iran."
    spans = [
        Span(4, 14, "WEAPON", "drone", "Shahed-136"),
        Span(4, 10, "ACTOR", "X", "Shahed"),
        Span(27, 31, "ACTOR", "IRN", "Iran"),
    ]
    marked = highlight(sentence, spans, {"supplier": "IRN", "weapon_class": "drone"})
    assert marked == (
        'The <mark class="weapon own" title="weapon: drone">Shahed-136</mark> &lt;drones&gt; '
        'of <mark class="actor supplier" title="actor: IRN (supplier)">Iran</mark>.'
    )
    assert re.sub(r"<[^>]+>", "", marked).replace("&lt;", "<").replace("&gt;", ">") == sentence


def test_publication_dates_read_to_their_precision():
    day = dt.date(2024, 1, 21)
    assert [published_text(day, p) for p in ("day", "month", "year", None)] == [
        "2024-01-21",
        "2024-01",
        "2024",
        "2024-01-21",
    ]
    assert published_text(None, None) == "undated"


def test_a_transfer_without_claims_is_listed_and_says_so(tmp_path: Path):
    page, data = build_report(make_warehouse(tmp_path / "w.duckdb"))
    assert [(t.row["supplier"], len(t.claims)) for t in data.transfers] == [("PRK", 1), ("IRN", 0)]
    assert "No claim in claims_enriched matches this row." in details_of(
        page, "IRN", "RUS", "drone"
    )
    # The claim the register does not count is shown apart, under its own heading.
    assert [(g.row["relation"], len(g.claims)) for g in data.others] == [("produce", 1)]
    assert page.index("Claims outside the register") < page.index("Russia makes")


def test_future_columns_are_shown_and_bookkeeping_is_not(tmp_path: Path):
    page, data = build_report(make_warehouse(tmp_path / "w.duckdb"))
    assert data.claim_extras == ["weapon_system", "event_start", "event_text", "calibre_mm"]
    assert data.transfer_extras == ["weapon_systems"]
    row = details_of(page, "PRK", "RUS", "artillery_ammunition")
    assert '<small class="systems">Koksan, KN-23</small>' in row
    assert "event 2023-08-01 “since August”" in row
    assert '<span class="system">weapon system <b>Koksan</b></span>' in row
    # A column the report has never heard of is shown by its name.
    assert "<dt>calibre_mm</dt><dd>152</dd>" in row
    assert "digest" not in page


def test_missing_optional_columns_and_tables_do_not_fail(tmp_path: Path):
    path = make_warehouse(tmp_path / "w.duckdb", full=False)
    written = write_report(path)
    page = written.path.read_text(encoding="utf-8")
    assert (written.transfers, written.claims) == (2, 2)
    assert "&lt;script&gt;" in page and "unattributed" in page and "undated" in page
    assert "No chart beside the warehouse." in page
    assert written.path == tmp_path / "report.html"
    assert not list(tmp_path.glob(".*writing"))


def test_the_same_warehouse_gives_the_same_page_whatever_the_row_order(tmp_path: Path):
    first = make_warehouse(tmp_path / "a.duckdb")
    again, _ = build_report(first)
    assert build_report(first)[0] == again
    (tmp_path / "b").mkdir()
    other = make_warehouse(tmp_path / "b" / "a.duckdb", reverse=True)
    strip = re.compile(r'<p class="src">.*?</p>')
    assert strip.sub("", build_report(other)[0]) == strip.sub("", again)


def test_charts_beside_the_warehouse_are_inlined(tmp_path: Path):
    path = make_warehouse(tmp_path / "w.duckdb")
    (tmp_path / "charts").mkdir()
    png = b"\x89PNG\r\n\x1a\nnot really"
    (tmp_path / "charts" / "mentions_by_month.png").write_bytes(png)
    (tmp_path / "charts" / ".mentions_by_month.png.sha256").write_text("x")
    page, data = build_report(path)
    assert [c.name for c in data.charts] == ["mentions_by_month"]
    assert f'src="data:image/png;base64,{base64.b64encode(png).decode()}"' in page


def test_a_sample_of_claims_puts_denials_first_and_spreads_over_stories():
    rows = [("a", False), ("a", False), ("a", False), ("b", True), ("c", False), ("c", False)]
    claims = [
        Claim({"claim_id": f"c{i}", "story_id": s, "negated": n}) for i, (s, n) in enumerate(rows)
    ]
    picked = [c.row["claim_id"] for c in sample_claims(claims, 3)]
    assert picked == ["c0", "c3", "c4"]  # the denial, then story a's first and story c's first
    assert sample_claims(claims, 0) == claims and sample_claims(claims, 6) == claims


def test_limits_keep_the_best_supported_rows_and_say_what_is_left_out(tmp_path: Path):
    path = make_warehouse(tmp_path / "w.duckdb")
    page, data = build_report(path, Limits(rows=1, claims=0))
    assert [t.row["supplier"] for t in data.transfers] == ["PRK"]
    assert (data.transfers_total, data.in_register, data.claims) == (2, 1, 2)
    assert "Showing the 1 best-supported of 2 register rows" in page
    assert "<b>2</b> transfers" in page
    con = duckdb.connect(str(path))
    con.execute(
        "INSERT INTO claims_enriched SELECT * REPLACE ('c3' AS claim_id) "
        "FROM claims_enriched WHERE claim_id = 'c1'"
    )
    con.close()
    page, data = build_report(path, Limits(rows=0, claims=1))
    assert [(t.total, len(t.claims)) for t in data.transfers] == [(2, 1), (0, 0)]
    assert (
        "Showing 1 of 2 claims: the denied ones first, then one claim of every story before a "
        "second of any. All of them: <code>SELECT * FROM claims_enriched WHERE supplier = "
        "&#x27;PRK&#x27; AND recipient = &#x27;RUS&#x27; AND weapon_class = "
        "&#x27;artillery_ammunition&#x27; AND relation IN (&#x27;supply&#x27;) "
        "ORDER BY published_date, claim_id</code>"
    ) in page


def test_asset_writes_the_report_beside_the_published_warehouse(tmp_path: Path):
    path = make_warehouse(tmp_path / "salvo.duckdb")
    salvo = SalvoSettings(seeds_dir=str(tmp_path), warehouse=str(path), spacy_model="unused")
    result = dg.materialize(
        [evidence_report], resources={"salvo": salvo}, instance=dg.DagsterInstance.ephemeral()
    )
    assert result.success
    [event] = result.get_asset_materialization_events()
    meta = {k: v.value for k, v in event.materialization.metadata.items()}
    report = tmp_path / "report.html"
    assert meta == {
        "path": str(report),
        "size": report.stat().st_size,
        "transfers": 2,
        "claims": 2,
    }


def test_command_writes_the_report_and_says_when_there_is_no_warehouse(tmp_path, capsys):
    assert report_cli.main(["--warehouse", str(tmp_path / "missing.duckdb")]) == 1
    assert "run `make run` first" in capsys.readouterr().err
    path = make_warehouse(tmp_path / "w.duckdb")
    out = tmp_path / "elsewhere" / "r.html"
    assert report_cli.main(["--warehouse", str(path), "--out", str(out)]) == 0
    assert out.is_file() and "2 transfers, 2 claims" in capsys.readouterr().out


def test_seed_report_holds_every_claim_once(seeded_warehouse, tmp_path: Path):
    path, _ = seeded_warehouse
    written = write_report(path, tmp_path / "report.html")
    page = written.path.read_text(encoding="utf-8")
    claim_ids = re.findall(r'data-claim-id="([^"]+)"', page)
    expected = read_rows(path, "SELECT claim_id FROM claims_enriched")
    assert sorted(claim_ids) == sorted(c for (c,) in expected)
    assert written.transfers == read_rows(path, "SELECT count(*) FROM arms_transfers")[0][0]


# --- In a browser -----------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C WebDriver element key


class WebDriver:
    """Just enough of the W3C WebDriver protocol (JSON over HTTP) to drive chromedriver."""

    def __init__(self, tmp: Path):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            [CHROMEDRIVER, f"--port={self.port}", f"--log-path={tmp / 'chromedriver.log'}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                if self.call("GET", "/status")["ready"]:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            if time.monotonic() > deadline:
                self.process.kill()
                raise RuntimeError("chromedriver did not start")
            time.sleep(0.1)
        args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1300,1600",
            f"--user-data-dir={tmp / 'chromium-profile'}",
        ]
        options = {"binary": CHROMIUM, "args": args}
        capabilities = {"alwaysMatch": {"goog:chromeOptions": options}}
        session = self.call("POST", "/session", {"capabilities": capabilities})
        self.session = f"/session/{session['sessionId']}"

    def call(self, method: str, path: str, body: dict | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.load(response)["value"]
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{method} {path}: {exc.read().decode()[:500]}") from exc

    def do(self, method: str, path: str, body: dict | None = None) -> Any:
        return self.call(method, self.session + path, body)

    def find(self, css: str) -> str:
        return self.do("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def script(self, source: str, *args: Any) -> Any:
        return self.do("POST", "/execute/sync", {"script": source, "args": list(args)})

    def close(self) -> None:
        try:
            self.call("DELETE", self.session)
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# What a reader sees of one opened register row, read from the rendered page.
READ_ROW = """
const d = arguments[0];
// Rendered and not inside a closed <details> (whose content Chromium lays out but hides).
const shown = e => e.checkVisibility({contentVisibilityAuto: true, visibilityProperty: true});
return {
  open: d.open,
  claims: [...d.querySelectorAll('li.claim')].filter(shown).map(li => ({
    head: li.querySelector('.head').innerText,
    sentence: li.querySelector('blockquote').innerText,
    source: li.querySelector('.source').innerText,
    marks: [...li.querySelectorAll('mark')].filter(shown).map(m => ({
      text: m.innerText, kind: m.className,
      background: getComputedStyle(m).backgroundColor})),
  })),
};
"""
READ_CHARTS = """
return [...document.querySelectorAll('img[data-chart]')].map(img => ({
  chart: img.dataset.chart, complete: img.complete, width: img.naturalWidth,
  shown: img.checkVisibility()}));
"""


@pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="needs Debian's chromium and chromium-driver (apt-get install -y chromium "
    "chromium-driver; .ci/run installs them)",
)
def test_a_reader_opens_a_transfer_in_headless_chromium(seeded_warehouse, tmp_path: Path):
    path, _ = seeded_warehouse
    report = write_report(path, tmp_path / "report.html").path
    [(claims, denied)] = read_rows(
        path,
        "SELECT claims, denied_claims FROM arms_transfers WHERE supplier = 'PRK' "
        "AND recipient = 'RUS' AND weapon_class = 'artillery_ammunition'",
    )
    evidence = read_rows(
        path,
        "SELECT sentence, attributed_to, outlet, published_date, date_precision, story_id, "
        "source_file FROM claims_enriched WHERE supplier = 'PRK' AND recipient = 'RUS' "
        "AND weapon_class = 'artillery_ammunition' AND relation IN ('supply', 'purchase', 'use')",
    )
    charts = sorted(p.stem for p in (path.parent / "charts").glob("*.png"))
    assert charts, "the seed run draws its charts beside the warehouse"

    browser = WebDriver(tmp_path)
    try:
        browser.do("POST", "/url", {"url": report.as_uri()})
        row = (
            'details.transfer[data-supplier="PRK"][data-recipient="RUS"]'
            '[data-weapon="artillery_ammunition"]'
        )
        summary = browser.find(row + " > summary")
        # The register row reads: PRK North Korea → RUS Russia, the class, its claim count.
        cells = browser.do("GET", f"/element/{summary}/text").split("\n")
        assert cells[:3] == ["PRK North Korea → RUS Russia", "artillery_ammunition", str(claims)]
        details = {ELEMENT: browser.find(row)}
        assert browser.script(READ_ROW, details) == {"open": False, "claims": []}

        browser.do("POST", f"/element/{summary}/click", {})
        seen = browser.script(READ_ROW, details)
        assert seen["open"] is True
        assert len(seen["claims"]) == claims + denied == len(evidence)
        assert sorted(c["sentence"] for c in seen["claims"]) == sorted(e[0] for e in evidence)
        for claim in seen["claims"]:
            # The claim's weapon words are in its sentence; its actors may be in another
            # ("They really handed over ..."), so they are looked for over all the claims.
            assert "weapon own" in {m["kind"] for m in claim["marks"]}, claim
            assert all(m["text"] and m["text"] in claim["sentence"] for m in claim["marks"])
            assert all(m["background"] != "rgba(0, 0, 0, 0)" for m in claim["marks"])
            # Who says so and where it was read, as the warehouse has them.
            assert any(
                sentence == claim["sentence"]
                and (f"according to {who}" if who else "unattributed") in claim["head"]
                and claim["source"].startswith(f"{outlet or 'unknown outlet'} · ")
                and f" · {published_text(date, precision)} · story {story[:8]} · {source_file} · "
                in claim["source"]
                for sentence, who, outlet, date, precision, story, source_file in evidence
            ), claim
        marked = {(m["kind"], m["text"]) for c in seen["claims"] for m in c["marks"]}
        assert ("actor supplier", "North Korea") in marked
        assert ("actor recipient", "Russia") in marked
        assert ("weapon own", "artillery ammunition") in marked

        # For a person looking into a failure: the page as the reader saw it.
        shot = browser.do("GET", "/screenshot")
        (tmp_path / "report.png").write_bytes(base64.b64decode(shot))

        images = browser.script(READ_CHARTS)
        assert [i["chart"] for i in images] == charts
        assert all(i["complete"] and i["width"] > 0 and i["shown"] for i in images), images
        # Nothing was fetched: the page and its images are all in the one file.
        fetched = browser.script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
            ".filter(n => !n.startsWith('data:'))"
        )
        assert fetched == []

        # The filter leaves only the rows that mention what is typed.
        box = browser.find("#filter")
        browser.do("POST", f"/element/{box}/value", {"text": "IRN"})
        visible = browser.script(
            "return [...document.querySelectorAll('#register details.transfer')]"
            ".filter(d => d.checkVisibility()).map(d => d.dataset.supplier)"
        )
        assert visible == ["IRN"]
    finally:
        browser.close()


def test_dates_in_the_header_come_from_the_warehouse_file(tmp_path: Path):
    path = make_warehouse(tmp_path / "w.duckdb")
    stamp = dt.datetime(2024, 2, 3, 4, 5, 6, tzinfo=dt.UTC).timestamp()
    os.utime(path, (stamp, stamp))
    page, _ = build_report(path)
    assert "published 2024-02-03 04:05:06 UTC" in page
