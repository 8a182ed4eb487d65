"""Users drop whatever they have into seeds/ and query the warehouse while runs go on:
nothing they do may crash a run, corrupt the warehouse, lose stored data or leave stale
rows. These tests try, with real DuckDB files and, for readers, writers and locks, real
subprocesses. The random-kill trials are in tests/tools/test_chaos.py."""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import unicodedata
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets import ingest
from assets.resources import build_resources
from pipeline import schema, seeds, warehouse
from pipeline.nlp.rows import MAX_SEGMENT_CHARS, segments
from pipeline.settings import PROJECT_ROOT
from tests.conftest import materialization_metadata, run_pipeline
from tools import chaos_invariants

FIRST = "000_f47544dfd5c9f124.txt"
SECOND = "001_5188f1cf9f60da7b.txt"
THIRD = "002_c5aabca1495ccbfa.txt"
ARTICLE = (
    "Russia received one million artillery shells from North Korea, Seoul said.\n\n"
    "The shells were shipped by rail, officials told reporters on Tuesday.\n"
)
# spaCy's default limit on the length of one Doc.
SPACY_MAX_LENGTH = 1_000_000


# --- helpers -----------------------------------------------------------------------------


def _old(path: Path, seconds: float = 60) -> Path:
    """Date a file in the past, as if it had been dropped a minute ago (no settling wait)."""
    past = time.time() - seconds
    os.utime(path, (past, past), follow_symlinks=False)
    return path


def _write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return _old(path)


def ingest_only(
    folder: Path, published: Path, tags: dict[str, str] | None = None
) -> dg.ExecuteInProcessResult:
    """The ingest stage alone (ledger, raw texts, documents): no spaCy, about a second."""
    return dg.materialize(
        [ingest.seed_files_and_raw_documents, ingest.documents],
        resources=build_resources(folder, published, "unused"),
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
        tags=tags,
    )


def _query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _working(published: Path) -> Path:
    return warehouse.working_path_for(published)


def _ledger(published: Path, db: Path | None = None) -> dict[str, tuple]:
    rows = _query(
        db or _working(published),
        "SELECT source_file, status, reason, encoding, documents FROM seed_files",
    )
    return {r[0]: r[1:] for r in rows}


def _checksums(path: Path) -> dict[str, tuple[int, str]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return warehouse.table_checksums(con)
    finally:
        con.close()


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _failures(result: dg.ExecuteInProcessResult) -> list[str]:
    return [
        event.step_failure_data.error.message
        for event in result.all_events
        if event.is_step_failure and event.step_failure_data.error is not None
    ]


def _doc_tables(path: Path) -> list[str]:
    """Every table users see with a doc_id column, whoever added it (the main schema: the
    bookkeeping of the Parquet files keeps removed documents on purpose)."""
    rows = _query(
        path,
        "SELECT DISTINCT table_name FROM information_schema.columns "
        "WHERE column_name = 'doc_id' AND table_schema = 'main'",
    )
    return sorted(r[0] for r in rows)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "seeds"
    target.mkdir()
    return target


@pytest.fixture
def published(tmp_path: Path) -> Path:
    return tmp_path / "warehouse" / "salvo.duckdb"


@pytest.fixture(autouse=True)
def _release_locks(published: Path):
    yield
    warehouse.release_writer_lock(_working(published))


# --- 1. every input ends with a status and a reason --------------------------------------


def test_every_kind_of_input_ends_with_a_status_and_a_reason(folder: Path, published: Path):
    cp1252 = (
        "The \u201cdeal\u201d was worth \u20ac3 million, said the minist\u00e8re in Z\u00fcrich."
    )
    latin1 = "Le minist\u00e8re a confirm\u00e9 la livraison \u00e0 Kyiv, selon l'\u00e9tat-major."
    damaged = (
        "Officials said the \u201cShahed\u201d drones cost \u20ac20,000 each. " * 20
    ).encode()
    _write(folder / "good.txt", ARTICLE)
    _write(folder / "good_copy.txt", ARTICLE)
    _write(folder / "empty.txt", b"")
    _write(folder / "whitespace.txt", b"  \n\t \r\n ")
    _write(folder / "photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    _write(folder / "nul.txt", b"Russia received shells\x00\x00\x00 from North Korea")
    _write(
        folder / "shift_jis.txt", "北朝鮮がロシアに砲弾を供給したと報じられた。".encode("shift_jis")
    )
    _write(folder / "chrome.txt", "Subscribe to our newsletter\nAccept all cookies\nShare this\n")
    _write(folder / "cp1252.txt", (cp1252 + "\n\n" + ARTICLE).encode("cp1252"))
    _write(folder / "latin1.txt", (latin1 + "\n\n" + ARTICLE).encode("latin-1"))
    # 0x81 has no character in cp1252: only latin-1 reads this one.
    _write(folder / "latin1_strict.txt", (latin1 + ARTICLE).encode("latin-1") + b" \x81")
    _write(folder / "bom.txt", codecs.BOM_UTF8 + ("\u00c9tat: " + ARTICLE).encode())
    _write(folder / "one_bad_byte.txt", damaged + b" \xff " + ARTICLE.encode())
    _write(folder / "many_bad_bytes.txt", damaged.replace(b"\xe2\x82\xac", b"\x80", 10))

    result = ingest_only(folder, published)
    assert result.success
    ledger = _ledger(published)
    assert ledger == {
        "good.txt": ("ingested", None, "utf-8", 1),
        "good_copy.txt": ("duplicate", None, "utf-8", 0),
        "empty.txt": ("quarantined", "empty", None, 0),
        "whitespace.txt": ("quarantined", "empty", None, 0),
        "photo.txt": ("quarantined", "binary", None, 0),
        "nul.txt": ("quarantined", "binary", None, 0),
        "shift_jis.txt": ("quarantined", "undecodable", None, 0),
        "chrome.txt": ("quarantined", "no_content", "utf-8", 0),
        "cp1252.txt": ("ingested", None, "cp1252", 1),
        # Bytes 0xA0-0xFF mean the same in latin-1 and cp1252: the first that fits is named.
        "latin1.txt": ("ingested", None, "cp1252", 1),
        "latin1_strict.txt": ("ingested", None, "latin-1", 1),
        "bom.txt": ("ingested", None, "utf-8-sig", 1),
        "one_bad_byte.txt": ("ingested", None, "utf-8", 1),
        # More than one invalid byte per 1,000 in otherwise valid UTF-8: not guessed.
        "many_bad_bytes.txt": ("quarantined", "undecodable", None, 0),
    }
    texts = dict(
        _query(
            _working(published),
            "SELECT source_file, raw_text FROM raw_documents",
        )
    )
    assert texts["cp1252.txt"].startswith(cp1252)
    assert texts["latin1.txt"].startswith(latin1)
    assert texts["latin1_strict.txt"].startswith(latin1)
    assert texts["bom.txt"].startswith("\u00c9tat: ") and "\ufeff" not in texts["bom.txt"]
    assert "\ufffd" in texts["one_bad_byte.txt"]
    assert _query(
        _working(published),
        "SELECT replacements, duplicate_of FROM seed_files WHERE source_file IN "
        "('one_bad_byte.txt', 'good_copy.txt') ORDER BY source_file",
    ) == [(0, "good.txt"), (1, None)]
    # Nothing of a quarantined file reaches the documents.
    assert _query(
        _working(published),
        "SELECT source_file FROM documents ORDER BY 1",
    ) == [
        ("bom.txt",),
        ("cp1252.txt",),
        ("good.txt",),
        ("latin1.txt",),
        ("latin1_strict.txt",),
        ("one_bad_byte.txt",),
    ]


def _ingest_state(published: Path) -> list[list[tuple]]:
    """The ledger, its records and the raw texts, without the run timestamps."""
    return [
        sorted(_query(_working(published), sql))
        for sql in (
            "SELECT * EXCLUDE (last_seen) FROM seed_files",
            "SELECT * FROM seed_records",
            "SELECT doc_id, source_file, record_index FROM raw_documents",
        )
    ]


def test_unchanged_files_are_not_read_but_give_up_or_regain_their_texts(
    folder: Path, published: Path, monkeypatch: pytest.MonkeyPatch
):
    _write(folder / "a.txt", ARTICLE)
    _write(folder / "m.txt", ARTICLE + "\nAnother article.")
    assert ingest_only(folder, published).success
    reads: list[str] = []
    real_read = seeds.read_seed

    def read(seed: seeds.SeedFile, root: Path) -> bytes:
        reads.append(seed.name)
        return real_read(seed, root)

    monkeypatch.setattr(seeds, "read_seed", read)

    # A copy named before a.txt takes its text over: a.txt is a duplicate now, unread.
    _write(folder / "0.txt", ARTICLE)
    assert ingest_only(folder, published).success
    assert reads == ["0.txt"]
    ledger = _ledger(published)
    assert ledger["0.txt"][:2] == ("ingested", None)
    assert ledger["a.txt"][:2] == ("duplicate", None)
    assert ledger["m.txt"][:2] == ("ingested", None)
    owners = _query(_working(published), "SELECT source_file FROM raw_documents ORDER BY 1")
    assert owners == [("0.txt",), ("m.txt",)]
    # What the run left is what a run that reads every file leaves.
    quiet = _ingest_state(published)
    assert ingest_only(folder, published, tags={"salvo/checks": "full"}).success
    assert _ingest_state(published) == quiet

    # The copy leaves: a.txt owns its text again, read for it; m.txt is still not read.
    (folder / "0.txt").unlink()
    reads.clear()
    assert ingest_only(folder, published).success
    assert reads == ["a.txt"]
    ledger = _ledger(published)
    assert ledger["0.txt"][:2] == ("deleted", None)
    assert ledger["a.txt"][:2] == ("ingested", None)
    owners = _query(_working(published), "SELECT source_file FROM raw_documents ORDER BY 1")
    assert owners == [("a.txt",), ("m.txt",)]
    assert _query(
        _working(published),
        "SELECT count(DISTINCT last_seen) FROM seed_files WHERE status <> 'deleted'",
    ) == [(1,)]


def test_a_file_that_cannot_be_read_does_not_stop_the_others(
    folder: Path, published: Path, monkeypatch: pytest.MonkeyPatch
):
    _write(folder / "good.txt", ARTICLE)
    _write(folder / "locked.txt", ARTICLE + "more")
    real_read = seeds.read_seed

    def read(seed: seeds.SeedFile, root: Path) -> bytes:
        if seed.name == "locked.txt":
            raise PermissionError(13, "Permission denied", str(seed.path))
        return real_read(seed, root)

    # Permissions cannot stop root, who runs these tests in CI: fail the read instead.
    monkeypatch.setattr(seeds, "read_seed", read)
    assert ingest_only(folder, published).success
    ledger = _ledger(published)
    assert ledger["locked.txt"][:2] == ("quarantined", "unreadable")
    assert ledger["good.txt"][:2] == ("ingested", None)


def test_a_file_removed_while_the_run_reads_is_left_for_the_next_run(
    folder: Path, published: Path, monkeypatch: pytest.MonkeyPatch
):
    _write(folder / "good.txt", ARTICLE)
    _write(folder / "vanishing.txt", ARTICLE + "gone soon")
    real_read = seeds.read_seed

    def read(seed: seeds.SeedFile, root: Path) -> bytes:
        if seed.name == "vanishing.txt":
            seed.path.unlink()
        return real_read(seed, root)

    monkeypatch.setattr(seeds, "read_seed", read)
    assert ingest_only(folder, published).success
    assert set(_ledger(published)) == {"good.txt"}


# --- 2. names and paths are data ---------------------------------------------------------


def test_names_are_data(folder: Path, published: Path, tmp_path: Path):
    hostile = "it's; DROP TABLE claims; --.txt"
    nfc = unicodedata.normalize("NFC", "caf\u00e9 report.txt")
    nfd = unicodedata.normalize("NFD", nfc)
    long_name = "a" * 240 + ".txt"
    _write(folder / hostile, ARTICLE)
    _write(folder / "line\nbreak.txt", ARTICLE + "\nA line break in the name.")
    _write(folder / "three...dots.txt", ARTICLE + "\nDots in the name.")
    _write(folder / long_name, ARTICLE + "\nA long name.")
    _write(folder / nfc, ARTICLE + "\nComposed name.")
    _write(folder / nfd, ARTICLE + "\nDecomposed name.")
    _write(folder / "sub" / "dir" / "nested.txt", ARTICLE + "\nIn a sub-folder.")
    # A name that is not UTF-8, and a real file whose name is its escaped spelling.
    raw_name = os.path.join(os.fsencode(folder), b"caf\xe9 latin-1 name.txt")
    with open(raw_name, "wb") as handle:
        handle.write((ARTICLE + "\nA latin-1 name.").encode())
    os.utime(raw_name, (time.time() - 60, time.time() - 60))
    _write(folder / "caf\\xe9 latin-1 name.txt", ARTICLE + "\nA backslash in the name.")
    (folder / "manifest.csv").write_text(
        f'file,outlet\n"{hostile}",Quoted Outlet\n', encoding="utf-8"
    )

    result = ingest_only(folder, published)
    assert result.success
    ledger = _ledger(published)
    assert ledger[hostile][:2] == ("ingested", None)
    assert ledger["line\nbreak.txt"][:2] == ("ingested", None)
    assert ledger["three...dots.txt"][:2] == ("ingested", None)
    assert ledger[long_name][:2] == ("ingested", None)
    # NFC and NFD twins are two files, as the file system says.
    assert ledger[nfc][:2] == ("ingested", None) and ledger[nfd][:2] == ("ingested", None)
    assert nfc != nfd
    assert ledger["sub/dir/nested.txt"][:2] == ("ingested", None)
    assert ledger["caf\\xe9 latin-1 name.txt"][:2] == ("ingested", None)
    assert ledger["caf\\xe9 latin-1 name.txt [bad_name 2]"][:2] == ("quarantined", "bad_name")
    assert len(ledger) == 9
    # The hostile name did nothing but name a file, and the manifest row still found it.
    assert _query(_working(published), "SELECT count(*) FROM claims") == [(0,)]
    assert _query(
        _working(published), "SELECT outlet FROM documents WHERE source_file = ?", [hostile]
    ) == [("Quoted Outlet",)]


def test_links_never_lead_outside_and_hidden_files_are_not_inputs(
    folder: Path, published: Path, tmp_path: Path
):
    outside = _write(tmp_path / "secret.txt", "A file outside the seeds folder, never to be read.")
    _write(folder / "good.txt", ARTICLE)
    (folder / "to_outside.txt").symlink_to(outside)
    (folder / "relative_escape.txt").symlink_to(Path("..") / "secret.txt")
    (folder / "dangling.txt").symlink_to(folder / "nowhere.txt")
    (folder / "inside_link.txt").symlink_to(folder / "good.txt")
    (folder / "linked_folder").symlink_to(tmp_path, target_is_directory=True)
    _write(folder / ".hidden.txt", ARTICLE + "hidden")
    _write(folder / ".git" / "notes.txt", ARTICLE + "in a hidden folder")
    _write(folder / "download.txt.part", ARTICLE + "half downloaded")
    _write(folder / "draft.txt~", ARTICLE + "editor backup")
    _write(folder / "sub" / "manifest.csv", "file,outlet\n")
    os.mkfifo(folder / "pipe.txt")  # opening a FIFO would block a careless reader forever

    result = ingest_only(folder, published)
    assert result.success
    ledger = _ledger(published)
    assert set(ledger) == {
        "good.txt",
        "to_outside.txt",
        "relative_escape.txt",
        "dangling.txt",
        "inside_link.txt",
    }
    assert ledger["to_outside.txt"][:2] == ("quarantined", "outside_seeds")
    assert ledger["relative_escape.txt"][:2] == ("quarantined", "outside_seeds")
    assert ledger["dangling.txt"][:2] == ("quarantined", "broken_link")
    # A link inside the folder is followed: same text as its target, so a duplicate.
    assert ledger["inside_link.txt"][:2] == ("duplicate", None)
    texts = [r[0] for r in _query(_working(published), "SELECT raw_text FROM raw_documents")]
    assert not any("never to be read" in t for t in texts)
    # Nor does a manifest that links out of the folder get read.
    _write(tmp_path / "elsewhere.csv", "file,outlet\ngood.txt,Smuggled Outlet\n")
    (folder / "manifest.csv").symlink_to(tmp_path / "elsewhere.csv")
    assert seeds.read_manifest_text(folder) is None


def test_a_link_swapped_to_point_outside_after_listing_is_not_read(folder: Path, tmp_path: Path):
    outside = _write(tmp_path / "secret.txt", "secret")
    _write(folder / "good.txt", ARTICLE)
    link = folder / "link.txt"
    link.symlink_to(folder / "good.txt")
    (listed,) = [f for f in seeds.list_seed_files(folder) if f.name == "link.txt"]
    link.unlink()
    link.symlink_to(outside)
    with pytest.raises(OSError):
        seeds.read_seed(listed, folder)


# --- 3. large inputs ---------------------------------------------------------------------


def _long_text(characters: int, paragraph_break: str = "\n\n") -> str:
    """Article-like text of about `characters` characters, every sentence different, with
    names and weapons in one sentence of three (as dense as a news story)."""
    base = [s.strip() for s in ARTICLE.replace("\n", " ").split(".") if s.strip()]
    base = [
        base[0],
        "The report runs to several pages and includes detailed tables",
        "Its authors say the figures were checked twice before publication",
        base[1],
        "Readers can find the full methodology in the annex at the end",
        "A spokesperson declined to comment further on the findings",
    ]
    parts, size, number = [], 0, 0
    while size < characters:
        sentence = f"{base[number % len(base)]} (item {number})."
        parts.append(sentence)
        size += len(sentence) + 1
        number += 1
        if paragraph_break and number % 12 == 0:
            parts.append(paragraph_break)
    return " ".join(parts)[:characters]


@pytest.mark.parametrize(
    ("characters", "paragraph_break"), [(1_200_000, ""), (50_000_000, "\n\n"), (300_000, "")]
)
def test_long_texts_are_cut_below_spacy_limits_with_exact_offsets(
    characters: int, paragraph_break: str
):
    text = _long_text(characters, paragraph_break)
    if characters == 300_000:
        text = "x" * characters  # one "word" with no space anywhere: a hard cut
    position = 0
    for segment in segments("d", text):
        assert segment.offset == position
        assert 0 < len(segment.text) <= MAX_SEGMENT_CHARS < SPACY_MAX_LENGTH
        assert text.startswith(segment.text, segment.offset)
        position += len(segment.text)
    assert position == len(text)


LARGE_RUN = textwrap.dedent(
    """
    import json, resource, sys
    import dagster as dg
    from assets import ingest
    from assets.resources import build_resources
    result = dg.materialize(
        [ingest.seed_files_and_raw_documents, ingest.documents],
        resources=build_resources(sys.argv[1], sys.argv[2], "unused"),
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"success": result.success, "peak_mb": peak}))
    """
)


def _ingest_in_subprocess(folder: Path, published: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", LARGE_RUN, str(folder), str(published)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict = json.loads(done.stdout.strip().splitlines()[-1])
    return report


@pytest.mark.slow
def test_a_50_mb_file_is_ingested_in_bounded_memory_with_exact_offsets(tmp_path: Path):
    from pipeline import settings
    from pipeline.nlp.language import build_nlp
    from pipeline.nlp.rows import RowBuilder
    from pipeline.nlp.version import extractor_version

    small, large = tmp_path / "small", tmp_path / "large"
    _write(small / "a.txt", ARTICLE)
    _write(large / "big.txt", _long_text(50 * 1024 * 1024))
    baseline = _ingest_in_subprocess(small, tmp_path / "s" / "salvo.duckdb")
    report = _ingest_in_subprocess(large, tmp_path / "l" / "salvo.duckdb")
    assert baseline["success"] and report["success"]
    extra_mb = report["peak_mb"] - baseline["peak_mb"]
    print(f"50 MB file: peak RSS {report['peak_mb']:.0f} MB, {extra_mb:.0f} MB over a tiny run")
    # The file is held a few times over (bytes, text, frame, DuckDB's copy), never more.
    assert extra_mb < 12 * 50
    working = _working(tmp_path / "l" / "salvo.duckdb")
    (text,) = _query(working, "SELECT clean_text FROM documents")[0]
    assert len(text) > 50_000_000
    assert _query(working, "SELECT status, documents FROM seed_files") == [("ingested", 1)]
    # A segment near the end, parsed on its own, gives offsets that index the whole text.
    *_, before_last, last = segments("d", text)
    if len(last.text) < 20_000:
        last = before_last
    assert last.offset > 50_000_000
    nlp = build_nlp(settings.spacy_model())
    builder = RowBuilder("d", extractor_version(settings.spacy_model()))
    builder.add(nlp(last.text), last.offset)
    assert builder.rows.sentences and builder.rows.entities
    for row in builder.rows.sentences + builder.rows.entities:
        assert text[row["start_char"] : row["end_char"]] == row["text"]


@pytest.mark.slow
def test_a_1_2_million_character_paragraph_goes_through_the_whole_pipeline(
    folder: Path, published: Path
):
    text = _long_text(1_200_000, paragraph_break="")
    assert "\n" not in text
    _write(folder / "one_paragraph.txt", text)
    result = run_pipeline(folder, published)
    assert result.success
    checks = result.get_asset_check_evaluations()
    offsets = [c for c in checks if c.check_name == "offsets_round_trip"]
    assert offsets and all(c.passed for c in offsets)
    assert _query(published, "SELECT max(end_char) FROM sentences")[0][0] > 1_190_000
    bad = _query(
        published,
        "SELECT count(*) FROM sentences s JOIN documents d USING (doc_id) "
        "WHERE substring(d.clean_text, s.start_char + 1, s.end_char - s.start_char) <> s.text",
    )
    assert bad == [(0,)]


# --- 4. changes and deletions ------------------------------------------------------------


def test_a_failed_write_leaves_the_previous_rows_untouched(
    folder: Path, published: Path, monkeypatch: pytest.MonkeyPatch
):
    _write(folder / "a.txt", ARTICLE)
    _write(folder / "b.txt", ARTICLE + "\nSecond article.")
    assert ingest_only(folder, published).success
    before = _checksums(_working(published))

    _write(folder / "a.txt", ARTICLE + "\nChanged.")
    (folder / "b.txt").unlink()
    real_insert = warehouse.insert_frame

    def failing_insert(con, table, frame):
        if table == "raw_documents":
            raise OSError("disk full (simulated) after the old rows were deleted")
        real_insert(con, table, frame)

    monkeypatch.setattr(warehouse, "insert_frame", failing_insert)
    result = ingest_only(folder, published)
    assert not result.success
    # Deletions, ledger and inserts are one transaction: all of it rolled back.
    assert _checksums(_working(published)) == before

    monkeypatch.setattr(warehouse, "insert_frame", real_insert)
    assert ingest_only(folder, published).success
    ledger = _ledger(published)
    assert ledger["a.txt"][:2] == ("ingested", None)
    assert ledger["b.txt"][:2] == ("deleted", None)
    texts = _query(_working(published), "SELECT raw_text FROM raw_documents")
    assert texts == [(ARTICLE + "\nChanged.",)]


def test_records_removed_from_a_jsonl_file_leave_the_tables(folder: Path, published: Path):
    records = [
        {"text": "Iran sent drones to Russia, Kyiv said.", "title": "One"},
        {"text": "North Korea sent shells to Russia, Seoul said.", "title": "Two"},
        {"text": "Belarus bought missiles from Russia, Minsk said.", "title": "Three"},
    ]
    dump = folder / "dump.jsonl"
    _write(dump, "\n".join(json.dumps(r) for r in records))
    assert ingest_only(folder, published).success
    assert _query(_working(published), "SELECT count(*) FROM documents") == [(3,)]

    del records[1]
    records[1]["title"] = "Three, retitled"
    _write(dump, "\n".join(json.dumps(r) for r in records))
    assert ingest_only(folder, published).success
    rows = _query(
        _working(published), "SELECT record_index, title FROM documents ORDER BY record_index"
    )
    # The third text moved to index 1 and its record's metadata changed with it.
    assert rows == [(0, "One"), (1, "Three, retitled")]
    assert _ledger(published)["dump.jsonl"] == ("ingested", None, "utf-8", 2)


def test_settle_waits_for_young_files_and_skips_moving_ones(tmp_path: Path):
    steady = _write(tmp_path / "steady.txt", "a")
    fresh = tmp_path / "fresh.txt"
    fresh.write_text("b")
    growing = tmp_path / "growing.txt"
    growing.write_text("c")
    files = {f.name: f for f in seeds.list_seed_files(tmp_path)}
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        with growing.open("a") as handle:
            handle.write("more")

    ready, moving = seeds.settle(list(files.values()), stable_seconds=2.0, sleep=sleep)
    assert [f.name for f in moving] == ["growing.txt"]
    assert {f.name for f in ready} == {"steady.txt", "fresh.txt"}
    assert len(slept) == 1 and 0 < slept[0] <= 2.0
    assert steady.exists()


WRITER = textwrap.dedent(
    """
    import sys, time
    with open(sys.argv[1], "a", encoding="utf-8") as handle:
        for number in range(int(sys.argv[2])):
            handle.write(f"Russia received shells from North Korea, line {number}.\\n")
            handle.flush()
            time.sleep(0.25)
    """
)


def test_a_file_still_being_written_waits_for_the_next_run(folder: Path, published: Path):
    _write(folder / "a.txt", ARTICLE)
    growing = folder / "growing.txt"
    _write(growing, "Headline of a slow copy\n\n")
    assert ingest_only(folder, published).success
    assert _ledger(published)["growing.txt"][:2] == ("ingested", None)
    first = _query(_working(published), "SELECT raw_text FROM raw_documents")

    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(growing), "24"])
    new_file = folder / "new.txt"
    new_writer = subprocess.Popen([sys.executable, "-c", WRITER, str(new_file), "24"])
    try:
        time.sleep(1.0)
        assert ingest_only(folder, published).success
        ledger = _ledger(published)
        # The new file is not in the ledger yet; the old one keeps its row and its text.
        assert "new.txt" not in ledger
        assert ledger["growing.txt"][:2] == ("ingested", None)
        assert _query(_working(published), "SELECT raw_text FROM raw_documents") == first
    finally:
        assert writer.wait(timeout=60) == 0 and new_writer.wait(timeout=60) == 0
    assert ingest_only(folder, published).success
    ledger = _ledger(published)
    assert ledger["new.txt"][:2] == ("ingested", None)
    sizes = dict(_query(_working(published), "SELECT source_file, size_bytes FROM seed_files"))
    assert sizes["growing.txt"] == growing.stat().st_size
    assert sizes["new.txt"] == new_file.stat().st_size


@pytest.mark.slow
def test_changes_deletions_and_reruns_through_the_whole_pipeline(seeds_copy: Path, published: Path):
    for path in seeds_copy.iterdir():
        _old(path)
    dump = _write(
        seeds_copy / "dump.jsonl",
        json.dumps({"text": "Iran sent Shahed drones to Russia, Kyiv said.", "title": "A"})
        + "\n"
        + json.dumps({"text": "North Korea sent shells to Russia, Seoul said.", "title": "B"}),
    )
    assert run_pipeline(seeds_copy, published).success
    first = _checksums(published)

    # Re-run with nothing new: identical tables, nothing parsed.
    again = run_pipeline(seeds_copy, published)
    assert again.success
    assert materialization_metadata(again, "claims")["documents_parsed"] == 0
    assert _checksums(published) == first

    # Touched but unchanged: costs nothing either.
    _old(seeds_copy / FIRST, seconds=10)
    touched = run_pipeline(seeds_copy, published)
    assert materialization_metadata(touched, "seed_files")["new_or_changed_files"] == 0
    assert materialization_metadata(touched, "claims")["documents_parsed"] == 0
    assert _checksums(published) == first

    # A modified file, a deleted file and a JSONL record gone.
    old_ids = dict(_query(published, "SELECT source_file, doc_id FROM documents"))
    _write(seeds_copy / FIRST, (seeds_copy / FIRST).read_text() + "\nA new last line.\n")
    (seeds_copy / THIRD).unlink()
    _write(dump, dump.read_text().splitlines()[0])
    changed = run_pipeline(seeds_copy, published)
    assert changed.success
    assert materialization_metadata(changed, "claims")["documents_parsed"] == 1
    gone = [old_ids[FIRST], old_ids[THIRD]]
    for table in _doc_tables(published):
        if table in ("seed_files", "seed_records"):
            continue  # the ledger remembers deleted files; their documents are gone
        left = _query(
            published, f"SELECT count(*) FROM {table} WHERE doc_id IN (SELECT unnest(?))", [gone]
        )
        assert left == [(0,)], table
    ledger = _ledger(published, db=published)
    assert ledger[THIRD] == ("deleted", None, "utf-8", 0)
    assert ledger["dump.jsonl"] == ("ingested", None, "utf-8", 1)
    assert ledger[FIRST][:2] == ("ingested", None)
    con = duckdb.connect(str(published), read_only=True)
    try:
        assert chaos_invariants.invariant_violations(con) == []
    finally:
        con.close()


# --- 5. readers never block; writers never collide ---------------------------------------

READER = textwrap.dedent(
    """
    import sys, time, pathlib, duckdb
    con = duckdb.connect(sys.argv[1], read_only=sys.argv[3] == "read-only")
    query = "SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM claims)"
    print(con.execute(query).fetchone(), flush=True)
    go = pathlib.Path(sys.argv[2])
    while not go.exists():
        time.sleep(0.05)
    print(con.execute(query).fetchone(), flush=True)
    """
)


@pytest.mark.parametrize("mode", ["read-only", "read-write"])
def test_a_reader_in_another_process_keeps_its_snapshot_and_never_blocks_a_run(
    seeds_copy: Path, published: Path, tmp_path: Path, mode: str
):
    assert run_pipeline(seeds_copy, published).success
    go = tmp_path / "go"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(published), str(go), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None
        before = reader.stdout.readline().strip()
        assert before.startswith("(5, ")
        (seeds_copy / SECOND).unlink()
        assert run_pipeline(seeds_copy, published).success
        go.touch()
        after = reader.stdout.readline().strip()
        assert after == before
    finally:
        go.touch()
        reader.wait(timeout=60)
    assert reader.returncode == 0, reader.stderr.read() if reader.stderr else ""
    assert _query(published, "SELECT count(*) FROM documents") == [(4,)]


HOLDER = textwrap.dedent(
    """
    import sys, time, pathlib, duckdb
    con = duckdb.connect(sys.argv[1], read_only=sys.argv[3] == "read-only")
    print("holding", flush=True)
    go = pathlib.Path(sys.argv[2])
    while not go.exists():
        time.sleep(0.05)
    """
)


@pytest.mark.parametrize("mode", ["read-only", "read-write"])
def test_a_held_working_database_fails_the_run_with_a_clear_message(
    folder: Path, published: Path, tmp_path: Path, mode: str
):
    _write(folder / "a.txt", ARTICLE)
    assert ingest_only(folder, published).success
    before = _file_digest(_working(published))
    go = tmp_path / "go"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(_working(published)), str(go), mode],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        _write(folder / "b.txt", ARTICLE + "\nMore.")
        result = ingest_only(folder, published)
    finally:
        go.touch()
        holder.wait(timeout=60)
    assert not result.success
    (message,) = _failures(result)
    assert "held by another process" in message
    assert _file_digest(_working(published)) == before


def _pipeline_subprocess(folder: Path, published: Path, home: Path) -> subprocess.Popen[str]:
    home.mkdir(parents=True, exist_ok=True)
    environment = {
        **os.environ,
        "SALVO_SEEDS_DIR": str(folder),
        "SALVO_WAREHOUSE": str(published),
        "DAGSTER_HOME": str(home),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "assets.run"],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_a_second_run_while_one_writes_stops_cleanly_without_touching_data(
    seeds_copy: Path, published: Path, tmp_path: Path
):
    assert run_pipeline(seeds_copy, published).success
    files = [published, _working(published)]
    before = [_file_digest(f) for f in files]
    # This test process plays the first run: it holds the writer lock.
    warehouse.acquire_writer_lock(_working(published))
    (seeds_copy / SECOND).unlink()
    second = _pipeline_subprocess(seeds_copy, published, tmp_path / "home")
    output, _ = second.communicate(timeout=600)
    assert second.returncode == 1, output[-3000:]
    assert "Another Salvo run" in output and f"pid {os.getpid()}" in output
    assert [_file_digest(f) for f in files] == before
    warehouse.release_writer_lock(_working(published))


@pytest.mark.slow
def test_two_runs_started_together_never_collide(seeds_copy: Path, published: Path, tmp_path: Path):
    reference = tmp_path / "reference" / "salvo.duckdb"
    reference_seeds = tmp_path / "reference_seeds"
    shutil.copytree(seeds_copy, reference_seeds)
    assert run_pipeline(reference_seeds, reference).success
    runs = [_pipeline_subprocess(seeds_copy, published, tmp_path / f"home{n}") for n in (1, 2)]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    codes = [run.returncode for run in runs]
    assert 0 in codes, outputs
    for code, output in zip(codes, outputs, strict=True):
        assert code == 0 or "Another Salvo run" in output, output[-3000:]
    assert _checksums(published) == _checksums(reference)


# --- 6. idempotency: checksums -----------------------------------------------------------


def test_checksums_ignore_row_order_and_run_timestamps_but_nothing_else(tmp_path: Path):
    path = tmp_path / "w.duckdb"
    con = warehouse.connect(path)
    schema.ensure_schema(con)
    insert = (
        "INSERT INTO nlp_runs (doc_id, extractor_version, model, processed_at) VALUES "
        "(?, 'v1', 'm', ?)"
    )
    con.execute(insert, ["b", "2024-01-01"])
    con.execute(insert, ["a", "2024-01-01"])
    first = warehouse.table_checksums(con)
    con.execute("DELETE FROM nlp_runs")
    con.execute(insert, ["a", "2025-06-06 12:00"])  # other order, other run time
    con.execute(insert, ["b", "2025-06-06 12:00"])
    assert warehouse.table_checksums(con) == first
    con.execute("UPDATE nlp_runs SET model = 'other' WHERE doc_id = 'a'")
    changed = warehouse.table_checksums(con)
    assert changed["nlp_runs"] != first["nlp_runs"]
    assert {t for t in changed if changed[t] != first[t]} == {"nlp_runs"}
    con.close()


def test_an_old_warehouse_gains_the_new_columns(tmp_path: Path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE raw_documents (doc_id VARCHAR PRIMARY KEY, source_file VARCHAR NOT NULL, "
        "content_hash VARCHAR NOT NULL, encoding VARCHAR NOT NULL, raw_text VARCHAR NOT NULL, "
        "characters INTEGER NOT NULL, ingested_at TIMESTAMP NOT NULL)"
    )
    con.execute("INSERT INTO raw_documents VALUES ('d', 'a.txt', 'h', 'utf-8', 't', 1, now())")
    schema.ensure_schema(con)
    schema.ensure_schema(con)  # idempotent
    columns = [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'raw_documents' AND table_schema = 'main' "
            "ORDER BY ordinal_position"
        ).fetchall()
    ]
    assert columns == schema.columns_of("raw_documents")
    assert con.execute("SELECT doc_id, title FROM raw_documents").fetchall() == [("d", None)]
    con.close()


def test_the_writer_lock_is_per_process_and_reentrant(tmp_path: Path):
    working = tmp_path / "w" / ".salvo.work.duckdb"
    warehouse.acquire_writer_lock(working)
    warehouse.acquire_writer_lock(working)  # every step of one run takes it again
    probe = textwrap.dedent(
        """
        import sys
        from pipeline import warehouse
        try:
            warehouse.acquire_writer_lock(sys.argv[1])
        except warehouse.WriterBusy as exc:
            print("busy:", exc)
        else:
            print("acquired")
        """
    )

    def other_process() -> str:
        return subprocess.run(
            [sys.executable, "-c", probe, str(working)],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout.strip()

    assert other_process().startswith(f"busy: Another Salvo run (pid {os.getpid()}")
    warehouse.release_writer_lock(working)
    assert other_process() == "acquired"
