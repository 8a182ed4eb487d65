"""The whole pipeline on the seed articles: tables, counts, exact rows, incremental runs."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.checks import CHECKS_TAG, FULL
from assets.marts import MART_KEYS
from pipeline import schema, segments, warehouse
from pipeline.publish import publish
from tests.conftest import materialization_metadata, read_rows, run_pipeline

CONTRACT_TABLES = {
    "seed_files": [
        "source_file",
        "content_hash",
        "status",
        "reason",
        "encoding",
        "documents",
        "first_seen",
        "last_seen",
    ],
    "documents": [
        "doc_id",
        "source_file",
        "title",
        "outlet",
        "published_date",
        "date_precision",
        "date_source",
        "clean_text",
        "ingested_at",
    ],
    "sentences": ["sentence_id", "doc_id", "position", "start_char", "end_char", "text"],
    "entities": [
        "mention_id",
        "doc_id",
        "sentence_id",
        "start_char",
        "end_char",
        "text",
        "label",
        "actor_code",
        "weapon_class",
    ],
    "claims": [
        "claim_id",
        "doc_id",
        "sentence_id",
        "relation",
        "supplier",
        "recipient",
        "weapon_class",
        "weapon_text",
        "quantity",
        "quantity_text",
        "attributed_to",
        "hedged",
        "negated",
    ],
    "mentions_by_actor_month": ["month", "actor_code", "mentions", "documents"],
    "mentions_by_weapon_month": ["month", "weapon_class", "mentions", "documents"],
    "mentions_by_actor_weapon_month": [
        "month",
        "actor_code",
        "role",
        "weapon_class",
        "claims",
        "documents",
    ],
    "claim_corroboration": [
        "relation",
        "supplier",
        "recipient",
        "weapon_class",
        "claims",
        "documents",
        "outlets",
        "first_seen",
        "last_seen",
        "max_quantity",
        "sources",
    ],
}


def test_published_warehouse_has_every_contract_table_non_empty(seeded_warehouse):
    path, _ = seeded_warehouse
    for table, columns in CONTRACT_TABLES.items():
        present = [
            r[0]
            for r in read_rows(
                path,
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                [table],
            )
        ]
        assert set(columns) <= set(present), f"{table} lacks {set(columns) - set(present)}"
        assert read_rows(path, f"SELECT count(*) FROM {table}")[0][0] > 0, f"{table} is empty"


def test_five_documents_dated_from_the_manifest(seeded_warehouse):
    path, _ = seeded_warehouse
    rows = read_rows(
        path,
        "SELECT source_file, published_date, date_precision, date_source, outlet "
        "FROM documents ORDER BY source_file",
    )
    assert len(rows) == 5
    assert rows[0] == ("000_f47544dfd5c9f124.txt", dt.date(2024, 1, 21), "day", "metadata", None)
    assert rows[1][1:] == (dt.date(2024, 1, 1), "month", "metadata", "Today IT")
    assert all(r[3] == "metadata" for r in rows)
    statuses = read_rows(path, "SELECT status, count(*) FROM seed_files GROUP BY 1")
    assert statuses == [("ingested", 5)]


def test_boilerplate_is_gone_and_headlines_are_sentences(seeded_warehouse):
    path, _ = seeded_warehouse
    texts = [r[0] for r in read_rows(path, "SELECT clean_text FROM documents")]
    for junk in (
        "Trending Now",
        "Connect with us",
        "Loading...",
        "Posted In:",
        "Join Now: Free!",
    ):
        assert not any(junk in t for t in texts), junk
    # A link to another article with its headline is a sentence (the claim guidelines count
    # a claim made in one), not chrome.
    assert any("See Also: Apple Staring At" in t for t in texts)
    headline = read_rows(
        path,
        "SELECT text FROM sentences s JOIN documents d USING (doc_id) "
        "WHERE d.source_file LIKE '001%' AND position = 0",
    )
    assert headline == [("Ukraine claims North Korea is Russia\u2019s main arms supplier",)]


def test_offsets_round_trip(seeded_warehouse):
    path, _ = seeded_warehouse
    for table in ("sentences", "entities"):
        bad = read_rows(
            path,
            f"SELECT count(*) FROM {table} t JOIN documents d USING (doc_id) "
            "WHERE substring(d.clean_text, t.start_char + 1, "
            "t.end_char - t.start_char) <> t.text",
        )
        assert bad == [(0,)]


def test_claims_name_supplier_recipient_weapon_and_quantity(seeded_warehouse):
    path, _ = seeded_warehouse
    rows = read_rows(
        path,
        "SELECT c.relation, c.supplier, c.recipient, c.weapon_class, c.quantity "
        "FROM claims c JOIN documents d USING (doc_id) "
        "WHERE d.source_file LIKE '000%'",
    )
    assert ("supply", "PRK", "RUS", "artillery_ammunition", 1_000_000.0) in rows
    corroboration = read_rows(
        path,
        "SELECT documents FROM claim_corroboration WHERE "
        "supplier = 'PRK' AND recipient = 'RUS' AND "
        "weapon_class = 'artillery_ammunition' AND relation = 'supply'",
    )
    assert corroboration and corroboration[0][0] >= 4


def test_marts_sum_to_the_base_tables(seeded_warehouse):
    path, _ = seeded_warehouse
    assert read_rows(path, "SELECT sum(mentions) FROM mentions_by_actor_month") == read_rows(
        path, "SELECT count(*) FROM entities WHERE label = 'ACTOR'"
    )
    assert read_rows(
        path, "SELECT sum(claims) + sum(negated_claims) FROM claim_corroboration"
    ) == read_rows(path, "SELECT count(*) FROM claims")


def test_materialisations_carry_row_counts_and_previews(seeded_warehouse):
    _, result = seeded_warehouse
    for key in ("seed_files", "documents", "sentences", "claims", "claim_corroboration"):
        metadata = materialization_metadata(result, key)
        assert metadata["dagster/row_count"] > 0
        assert "|" in metadata["preview"]
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks if c.check_name != "share_of_undated_documents")


def test_dates_come_from_the_text_without_a_manifest(seeds_copy: Path, tmp_path: Path):
    (seeds_copy / "manifest.csv").unlink()
    published = tmp_path / "wh" / "salvo.duckdb"
    assert run_pipeline(seeds_copy, published).success
    rows = read_rows(
        published,
        "SELECT source_file, published_date, date_precision FROM documents "
        "WHERE date_source = 'text' ORDER BY 1",
    )
    assert rows == [
        ("000_f47544dfd5c9f124.txt", dt.date(2024, 1, 21), "day"),
        ("002_c5aabca1495ccbfa.txt", dt.date(2024, 1, 1), "month"),
    ]
    undated = read_rows(published, "SELECT count(*) FROM documents WHERE published_date IS NULL")
    assert undated == [(3,)]


@pytest.mark.slow
def _rows_checked(result: dg.ExecuteInProcessResult) -> dict[str, int]:
    return {
        e.asset_key.path[-1]: e.metadata["rows_checked"].value
        for e in result.get_asset_check_evaluations()
        if e.check_name == "offsets_round_trip"
    }


def test_rerun_deletion_duplicate_and_quarantine(
    seeds_copy: Path, tmp_path: Path, capfd: pytest.CaptureFixture
):
    published = tmp_path / "wh" / "salvo.duckdb"
    assert run_pipeline(seeds_copy, published).success
    before = read_rows(published, "SELECT count(*) FROM claims")

    # A second run with nothing new parses nothing and changes nothing.
    again = run_pipeline(seeds_copy, published)
    assert again.success
    assert materialization_metadata(again, "claims")["documents_parsed"] == 0
    assert read_rows(published, "SELECT count(*) FROM claims") == before
    # Its checks have no new rows to look at, and no mart is rebuilt; a run tagged for
    # full checks (the daily schedule's) looks at every row again.
    assert _rows_checked(again) == {"sentences": 0, "entities": 0}
    assert not any(materialization_metadata(again, m)["rebuilt"] for m in MART_KEYS)
    audit = run_pipeline(seeds_copy, published, tags={CHECKS_TAG: FULL})
    assert audit.success
    assert _rows_checked(audit) == {
        t: read_rows(published, f"SELECT count(*) FROM {t}")[0][0]
        for t in ("sentences", "entities")
    }

    # A copy under another name is a duplicate; junk is quarantined; a deletion leaves.
    shutil.copy(seeds_copy / "003_22b7d4c8eaccc335.txt", seeds_copy / "copy_of_003.txt")
    (seeds_copy / "empty.txt").write_bytes(b"  \n ")
    (seeds_copy / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (seeds_copy / "001_5188f1cf9f60da7b.txt").unlink()
    capfd.readouterr()
    junk = run_pipeline(seeds_copy, published)
    assert junk.success  # quarantine warns, it does not fail the run
    # The run says which files were held back and why, in its log and in a WARN check.
    logged = capfd.readouterr().err
    assert "WARNING" in logged and "empty.txt (empty), image.txt (binary)" in logged
    [quarantine] = [
        e for e in junk.get_asset_check_evaluations() if e.check_name == "nothing_quarantined"
    ]
    assert not quarantine.passed and quarantine.severity == dg.AssetCheckSeverity.WARN
    ledger = dict(
        (r[0], r[1:])
        for r in read_rows(published, "SELECT source_file, status, reason FROM seed_files")
    )
    assert ledger["copy_of_003.txt"] == ("duplicate", None)
    assert ledger["empty.txt"] == ("quarantined", "empty")
    assert ledger["image.txt"] == ("quarantined", "binary")
    assert ledger["001_5188f1cf9f60da7b.txt"] == ("deleted", None)
    for table in ("documents", "sentences", "entities", "claims"):
        left = read_rows(
            published,
            f"SELECT count(*) FROM {table} t JOIN raw_documents r "
            "USING (doc_id) WHERE r.source_file LIKE '001%'",
        )
        assert left == [(0,)], table
    assert read_rows(published, "SELECT count(*) FROM documents") == [(4,)]


def test_a_reader_keeps_its_snapshot_while_a_run_publishes(seeds_copy: Path, tmp_path: Path):
    published = tmp_path / "wh" / "salvo.duckdb"
    assert run_pipeline(seeds_copy, published).success
    reader = duckdb.connect(str(published), read_only=True)
    try:
        before = reader.execute("SELECT count(*) FROM documents").fetchone()
        (seeds_copy / "004_7dfbcc733f420d24.txt").unlink()
        assert run_pipeline(seeds_copy, published).success
        assert reader.execute("SELECT count(*) FROM documents").fetchone() == before
    finally:
        reader.close()
    assert read_rows(published, "SELECT count(*) FROM documents") == [(before[0] - 1,)]


def test_publish_replaces_the_file_atomically(tmp_path: Path):
    working = tmp_path / "work.duckdb"
    con = warehouse.connect(working)
    schema.ensure_schema(con)
    con.close()
    target = tmp_path / "pub" / "salvo.duckdb"
    target.parent.mkdir()
    target.write_bytes(b"old")
    os.utime(target, (time.time() - 60, time.time() - 60))
    # The copy an earlier publish replaced: the new file is made from it.
    (target.parent / ".salvo.duckdb.previous").write_bytes(b"older")
    with open(target, "rb") as reader:
        published = publish(working, target)
        assert reader.read() == b"old"
    assert published.patched and published.bytes_written == working.stat().st_size
    # The old file stays, under its second name, for the next publish.
    assert sorted(p.name for p in target.parent.iterdir()) == [
        ".salvo.duckdb.previous",
        "salvo.duckdb",
    ]
    assert (target.parent / ".salvo.duckdb.previous").read_bytes() == b"old"
    assert target.read_bytes() == working.read_bytes()
    assert read_rows(target, "SELECT count(*) FROM documents") == [(0,)]


def _working_database(path: Path, documents: int) -> None:
    con = warehouse.connect(path)
    schema.ensure_schema(con)
    con.execute(
        "INSERT INTO salvo_rows.raw_documents "
        "(doc_id, source_file, content_hash, encoding, raw_text, "
        "characters, ingested_at) SELECT 'd' || i, 'f' || i, 'h', 'utf-8', "
        "md5(i::VARCHAR), 32, TIMESTAMP '2026-01-01' FROM range(?) t(i) "
        "WHERE NOT EXISTS (SELECT 1 FROM raw_documents WHERE doc_id = 'd' || i)",
        [documents],
    )
    con.close()


def test_publish_writes_only_the_blocks_that_changed(tmp_path: Path):
    working = tmp_path / "work.duckdb"
    target = tmp_path / "pub" / "salvo.duckdb"
    sizes = []
    # Appended rows rewrite the last row group (up to 122,880 rows) of the table.
    for documents in (500_000, 500_100, 500_200):
        _working_database(working, documents)
        published = publish(working, target)
        sizes.append((published.patched, published.bytes_written, working.stat().st_size))
        assert target.read_bytes() == working.read_bytes()
        assert read_rows(target, "SELECT count(*) FROM raw_documents") == [(documents,)]
    # The first publish has nothing to start from; the second starts from a file with no
    # name yet (the first publish had none to keep); the third rewrites what changed.
    assert [patched for patched, _, _ in sizes] == [False, False, True]
    _, written, size = sizes[2]
    assert 0 < written < size / 2


def test_publish_after_one_killed_between_its_steps(tmp_path: Path):
    """A publish killed after giving the published file its second name, with a half-written
    staging file: the next publish neither rewrites the published file in place nor keeps
    the garbage."""
    working = tmp_path / "work.duckdb"
    target = tmp_path / "pub" / "salvo.duckdb"
    _working_database(working, 100)
    publish(working, target)
    old = target.read_bytes()
    spare = target.parent / ".salvo.duckdb.previous"
    os.link(target, spare)  # the same file under both names
    (target.parent / ".salvo.duckdb.publishing").write_bytes(b"half a copy")
    with open(target, "rb") as reader:
        _working_database(working, 200)
        published = publish(working, target)
        assert reader.read() == old
    assert published.patched
    assert target.read_bytes() == working.read_bytes()
    assert spare.read_bytes() == old
    assert sorted(p.name for p in target.parent.iterdir()) == [spare.name, target.name]
    assert read_rows(target, "SELECT count(*) FROM raw_documents") == [(200,)]


def test_publish_after_one_killed_in_the_middle_of_a_block(tmp_path: Path):
    """A publish killed (or a machine that lost power) while rewriting a block leaves a
    staging file whose block starts with the new checksum over old bytes: the next publish
    still makes an exact copy."""
    working = tmp_path / "work.duckdb"
    target = tmp_path / "pub" / "salvo.duckdb"
    _working_database(working, 100_000)
    publish(working, target)
    _working_database(working, 200_000)
    publish(working, target)
    staging = target.parent / ".salvo.duckdb.publishing"
    os.replace(target.parent / ".salvo.duckdb.previous", staging)  # the 100,000 rows
    _working_database(working, 300_000)
    new, torn = working.read_bytes(), bytearray(staging.read_bytes())
    changed = [
        offset
        for offset in range(3 * 4096, min(len(new), len(torn)), 256 * 1024)
        if new[offset : offset + 256 * 1024] != torn[offset : offset + 256 * 1024]
    ]
    assert changed
    torn[changed[0] : changed[0] + 8] = new[changed[0] : changed[0] + 8]
    staging.write_bytes(bytes(torn))
    publish(working, target)
    assert target.read_bytes() == working.read_bytes()
    assert read_rows(target, "SELECT count(*) FROM raw_documents") == [(300_000,)]


def test_publish_leaves_a_file_a_reader_holds_untouched(tmp_path: Path):
    """A reader holding an old published file (in this process or another) keeps its
    snapshot however many publishes follow: that file is not rewritten, a new copy is made."""
    working = tmp_path / "work.duckdb"
    target = tmp_path / "pub" / "salvo.duckdb"
    _working_database(working, 100)
    publish(working, target)
    here = duckdb.connect(str(target), read_only=True)
    _working_database(working, 200)
    publish(working, target)
    other = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
            "print(con.execute('SELECT count(*) FROM raw_documents').fetchone()[0], flush=True); "
            "sys.stdin.readline(); "
            "print(con.execute('SELECT count(*) FROM raw_documents').fetchone()[0], flush=True)",
            str(target),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert other.stdout is not None and other.stdin is not None
        assert other.stdout.readline().strip() == "200"
        results = []
        for documents in (300, 400, 500):
            _working_database(working, documents)
            results.append(publish(working, target).patched)
            assert here.execute("SELECT count(*) FROM raw_documents").fetchone() == (100,)
        # 300 would rewrite the file this process holds, 400 the one the other process
        # holds: both get new copies; 500 starts from 300's file, which nobody holds.
        assert results == [False, False, True]
        other.stdin.write("\n")
        other.stdin.flush()
        assert other.stdout.readline().strip() == "200"
    finally:
        here.close()
        other.kill()
        other.wait()
    assert read_rows(target, "SELECT count(*) FROM raw_documents") == [(500,)]


def test_a_file_with_its_old_size_and_time_is_not_read_again_until_a_full_run(tmp_path: Path):
    seeds_dir = tmp_path / "seeds"
    seeds_dir.mkdir()
    article = seeds_dir / "a.txt"
    article.write_text("Iran sent 300 drones to Russia in March, officials said.\n")
    published = tmp_path / "wh" / "salvo.duckdb"
    assert run_pipeline(seeds_dir, published).success
    first = read_rows(published, "SELECT content_hash, doc_id FROM seed_files")

    # Other bytes, same size and modification time: taken as unchanged (what make and
    # rsync assume), so the ledger and the documents stay as they were ...
    stat = article.stat()
    article.write_text("Iran sent 900 drones to Russia in March, officials said.\n")
    os.utime(article, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert run_pipeline(seeds_dir, published).success
    assert read_rows(published, "SELECT content_hash, doc_id FROM seed_files") == first
    # ... until a full-check run, which hashes every file.
    assert run_pipeline(seeds_dir, published, tags={CHECKS_TAG: FULL}).success
    [(content_hash, doc_id)] = read_rows(published, "SELECT content_hash, doc_id FROM seed_files")
    assert content_hash != first[0][0] and doc_id != first[0][1]
    assert read_rows(published, "SELECT quantity FROM claims") == [(900.0,)]


def test_seed_claims_say_when_what_they_report_happened(seeded_warehouse):
    published, _ = seeded_warehouse
    rows = read_rows(
        published,
        "SELECT event_text, event_start, event_end, event_precision, published_date "
        "FROM claims_enriched WHERE event_text IS NOT NULL",
    )
    assert rows, "no seed claim states a time"
    for text, start, end, precision, published_on in rows:
        assert precision in ("day", "month", "year"), text
        assert start <= (end or start) <= published_on, text
    # 'on January 2' in an article of 21 January 2024 is that day.
    assert ("on January 2", dt.date(2024, 1, 2), dt.date(2024, 1, 2), "day") in {
        r[:4] for r in rows
    }
    # Claims counted by when they happened next to when they were published.
    totals = read_rows(
        published, "SELECT sum(claims_published), sum(claims_happened) FROM claims_by_month"
    )
    expected = read_rows(published, "SELECT count(*) FROM claims_enriched WHERE NOT negated")
    assert totals == [(expected[0][0], expected[0][0])]


def test_claims_name_the_weapon_system_and_the_register_lists_it(tmp_path: Path):
    seeds_dir = tmp_path / "seeds"
    seeds_dir.mkdir()
    (seeds_dir / "systems.txt").write_text(
        "Kyiv says Russia fired North Korean missiles\n\n"
        "KYIV, March 3, 2024 - North Korea has supplied Russia with KN-23 ballistic "
        "missiles, Ukraine's defence intelligence said on Sunday.\n",
        encoding="utf-8",
    )
    published = tmp_path / "warehouse" / "salvo.duckdb"
    assert run_pipeline(seeds_dir, published).success
    claims = read_rows(
        published,
        "SELECT supplier, recipient, weapon_class, weapon_system, system_origin "
        "FROM claims_enriched WHERE weapon_system IS NOT NULL",
    )
    assert ("PRK", "RUS", "ballistic_missile", "KN-23", "PRK") in claims
    assert read_rows(
        published,
        "SELECT weapon_systems FROM arms_transfers "
        "WHERE (supplier, recipient, weapon_class) = ('PRK', 'RUS', 'ballistic_missile')",
    ) == [(["KN-23"],)]
    assert read_rows(
        published,
        "SELECT DISTINCT weapon_system FROM entities WHERE text = 'KN-23' AND label = 'WEAPON'",
    ) == [("KN-23",)]


def test_edited_cleaning_cues_clean_every_document_again(
    seeds_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from pipeline import documents

    published = tmp_path / "wh" / "salvo.duckdb"
    assert run_pipeline(seeds_copy, published).success
    again = run_pipeline(seeds_copy, published)
    assert materialization_metadata(again, "documents")["cleaned_this_run"] == 0
    # boilerplate.txt edited: its digest moves, and every text is cleaned with the new cues.
    monkeypatch.setattr(documents, "cues_digest", lambda: "edited")
    edited = run_pipeline(seeds_copy, published)
    assert materialization_metadata(edited, "documents")["cleaned_this_run"] == 5
    # The same texts: nothing is parsed again.
    assert materialization_metadata(edited, "claims")["documents_parsed"] == 0


def test_a_text_cleaned_anew_under_the_same_id_is_parsed_again(seeds_copy: Path, tmp_path: Path):
    published = tmp_path / "wh" / "salvo.duckdb"
    assert run_pipeline(seeds_copy, published).success
    # As a cleaner with new rules leaves it: one document's text changes, its id does not.
    con = warehouse.connect(warehouse.working_path_for(published))
    segments.pull_back(con, ("documents",))  # its rows back where SQL can change them
    [(doc_id,)] = con.execute("SELECT min(doc_id) FROM documents").fetchall()
    con.execute(
        "UPDATE salvo_rows.documents "
        "SET clean_text = clean_text || '\n\nIran sent drones to Russia.', "
        "characters = characters + 29 WHERE doc_id = ?",
        [doc_id],
    )
    con.execute(
        f"UPDATE salvo_rows.documents SET text_hash = {schema.TEXT_HASH} WHERE doc_id = ?", [doc_id]
    )
    con.close()
    again = run_pipeline(seeds_copy, published)
    assert again.success
    assert materialization_metadata(again, "claims")["documents_parsed"] == 1
    assert read_rows(
        published,
        "SELECT count(*) FROM sentences WHERE doc_id = ? AND text = 'Iran sent drones to Russia.'",
        [doc_id],
    ) == [(1,)]
