"""The large tables as Parquet segment files under the small DuckDB file
(pipeline/segments.py): what the views show after writes, removals, publishes, compaction,
a moved folder and an older file; and, on the whole pipeline, readers, crashes and disk."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from pipeline import schema, segments, warehouse
from pipeline.publish import publish_run
from tests.conftest import read_rows, run_pipeline
from tools import chaos_invariants


def _bands(doc_id: str, rows: int, key: int = 0) -> pl.DataFrame:
    return schema.frame(
        "passage_bands",
        {
            "doc_id": [doc_id] * rows,
            "passage": list(range(rows)),
            "band": [0] * rows,
            # Random keys, as MinHash band keys are: neither format compresses them.
            "band_key": np.random.default_rng(key).integers(0, 1 << 62, rows),
        },
    )


def _open(path: Path) -> duckdb.DuckDBPyConnection:
    con = warehouse.connect(path)
    schema.ensure_schema(con)
    return con


def _connector(path: Path):
    """A context manager opening the warehouse file at `path`, as publish_run takes one."""

    @contextmanager
    def connect():
        con = _open(path)
        try:
            yield con
        finally:
            con.close()

    return connect


def _write(con: duckdb.DuckDBPyConnection, doc_id: str, rows: int, key: int = 0) -> None:
    with warehouse.transaction(con):
        warehouse.replace_rows(con, "passage_bands", _bands(doc_id, rows, key), "doc_id")


def _bands_by_doc(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return dict(
        con.execute("SELECT doc_id, count(*) FROM passage_bands GROUP BY doc_id").fetchall()
    )


def test_segmented_tables_are_declared_once_and_are_views(tmp_path: Path):
    assert set(schema.SEGMENTED_TABLES) == {
        "raw_documents",
        "documents",
        "sentences",
        "entities",
        "claims",
        "passage_bands",
    }
    con = _open(tmp_path / "w.duckdb")
    kinds = dict(
        con.execute(
            "SELECT table_name, table_type FROM information_schema.tables "
            "WHERE table_schema = 'main'"
        ).fetchall()
    )
    for table in schema.TABLES:
        assert kinds[table] == ("VIEW" if table in schema.SEGMENTED_TABLES else "BASE TABLE")
    con.close()


def test_rows_move_to_files_and_removals_hide_them_until_compaction(tmp_path: Path):
    path = tmp_path / "w.duckdb"
    folder = segments.folder_for(path)
    con = _open(path)
    _write(con, "a", 3)
    _write(con, "b", 2)
    assert segments.flush(con).files.keys() == {"passage_bands"}
    [first] = sorted(folder.iterdir())
    assert con.execute(f"SELECT count(*) FROM {segments.ROWS_SCHEMA}.passage_bands").fetchone() == (
        0,
    )
    assert _bands_by_doc(con) == {"a": 3, "b": 2}
    # The view names the file by its absolute path, exactly.
    [(sql,)] = con.execute(
        "SELECT sql FROM duckdb_views() WHERE view_name = 'passage_bands'"
    ).fetchall()
    assert str(folder / first.name) in sql and "*" not in sql.split("FROM", 1)[1]

    # A new document's rows are in no file: removing them records nothing.
    with warehouse.transaction(con):
        warehouse.delete_documents(con, ["new"], tables=("passage_bands",))
    assert con.execute(f"SELECT count(*) FROM {segments.ROWS_SCHEMA}.removed").fetchall() == [(0,)]
    # "a" changes, "b" goes: their rows leave the file through removals; the file stays.
    _write(con, "a", 1, key=100)
    with warehouse.transaction(con):
        warehouse.delete_documents(con, ["b"], tables=("passage_bands",))
    assert _bands_by_doc(con) == {"a": 1}
    segments.flush(con)
    assert _bands_by_doc(con) == {"a": 1}
    # "b" comes back: rows newer than its removal are shown.
    _write(con, "b", 4)
    segments.flush(con)
    assert _bands_by_doc(con) == {"a": 1, "b": 4}
    assert first.exists()

    # Many files: the smaller ones are merged into one, with the same rows.
    compacted = False
    for n in range(segments.MAX_FILES):
        _write(con, f"c{n}", 1)
        compacted |= bool(segments.flush(con).compacted)
    assert compacted
    expected = {"a": 1, "b": 4} | {f"c{n}": 1 for n in range(segments.MAX_FILES)}
    assert _bands_by_doc(con) == expected
    assert len(segments.current_files(con)) <= segments.MAX_FILES
    # The replaced files are still on disk until a collect finds nothing names them.
    deleted = segments.collect(con, tmp_path / "never_published.duckdb")
    assert first.name in deleted and not first.exists()
    assert sorted(p.name for p in folder.iterdir()) == sorted(segments.current_files(con))
    assert _bands_by_doc(con) == expected
    con.close()


def _digests_from_rows(con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    """Each document's digest taken from the live rows the view shows."""
    rows = con.execute(segments._digest_rows_sql("main.passage_bands", "passage_bands"))
    return {doc: (n, x, t) for doc, n, x, t in rows.fetchall()}


def _digests_kept(con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    rows = con.execute(segments.document_digests_sql("passage_bands"))
    return {doc: (n, x, t) for doc, n, x, t in rows.fetchall()}


def test_digests_kept_per_document_follow_the_rows_and_a_publish_does_not_move_them(
    tmp_path: Path,
):
    path = tmp_path / "w.duckdb"
    con = _open(path)
    _write(con, "a", 3)
    _write(con, "b", 2)
    unpublished = warehouse.table_fingerprint(con, "passage_bands")
    assert unpublished.startswith("5:")
    assert _digests_kept(con) == _digests_from_rows(con)
    # The flush moves the rows to a file: the same digests, now kept in segment_docs.
    segments.flush(con)
    assert warehouse.table_fingerprint(con, "passage_bands") == unpublished
    assert _digests_kept(con) == _digests_from_rows(con)
    assert con.execute(
        f"SELECT count(*) FROM {segments.ROWS_SCHEMA}.segment_docs WHERE rows IS NULL"
    ).fetchall() == [(0,)]
    # A document written again with other rows, one removed: the digest moves with them.
    _write(con, "a", 3, key=7)
    with warehouse.transaction(con):
        warehouse.delete_documents(con, ["b"], tables=("passage_bands",))
    changed = warehouse.table_fingerprint(con, "passage_bands")
    assert changed != unpublished and changed.startswith("3:")
    assert _digests_kept(con) == _digests_from_rows(con)
    segments.flush(con)
    assert warehouse.table_fingerprint(con, "passage_bands") == changed
    # Written back as they were: the first digest again, whatever files hold them.
    _write(con, "a", 3)
    _write(con, "b", 2)
    segments.flush(con)
    assert warehouse.table_fingerprint(con, "passage_bands") == unpublished
    assert _digests_kept(con) == _digests_from_rows(con)
    # A document given more rows without being removed keeps the digest of all of them.
    with warehouse.transaction(con):
        warehouse.insert_frame(con, "passage_bands", _bands("b", 1, key=9))
    segments.flush(con)
    assert _digests_kept(con) == _digests_from_rows(con)
    # A file whose digests were not kept (an older warehouse) gets them when its schema
    # is brought up.
    expected = _digests_kept(con)
    con.execute(f"UPDATE {segments.ROWS_SCHEMA}.segment_docs SET rows = NULL, row_xor = NULL")
    with warehouse.transaction(con):
        segments._fill_digests(con)
    assert _digests_kept(con) == expected
    con.close()


def test_clearing_a_table_drops_its_files_from_the_view(tmp_path: Path):
    con = _open(tmp_path / "w.duckdb")
    _write(con, "a", 2)
    segments.flush(con)
    with warehouse.transaction(con):
        warehouse.clear_table(con, "passage_bands")
    assert _bands_by_doc(con) == {}
    _write(con, "a", 1)
    segments.flush(con)
    assert _bands_by_doc(con) == {"a": 1}
    con.close()


def test_a_segment_file_of_long_texts_is_written_in_row_groups_of_bounded_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # The Parquet writer holds a row group whole: by rows alone, 122,880 documents' texts
    # asked for more than DuckDB's memory limit (docs/architecture.md).
    monkeypatch.setattr(segments, "ROW_GROUP_BYTES", "1MB")
    con = _open(tmp_path / "w.duckdb")
    [(threads,)] = con.execute("SELECT current_setting('threads')").fetchall()
    con.execute(
        "INSERT INTO salvo_rows.raw_documents (doc_id, source_file, content_hash, encoding, "
        "raw_text, characters, ingested_at) SELECT md5(n::VARCHAR), n || '.txt', 'h', "
        "'utf-8', repeat(md5(n::VARCHAR), 625), 20000, TIMESTAMP '2025-01-01' FROM range(400) r(n)"
    )
    name = segments.flush(con).files["raw_documents"]
    path = str(segments.connection_folder(con) / name)  # type: ignore[operator]
    groups = con.execute(
        "SELECT row_group_id, any_value(row_group_bytes) FROM parquet_metadata(?) "
        "GROUP BY row_group_id",
        [path],
    ).fetchall()
    assert len(groups) >= 4 and max(size for _, size in groups) < 2 << 20
    ids = [r[0] for r in con.execute("SELECT doc_id FROM read_parquet(?)", [path]).fetchall()]
    assert ids == sorted(ids) and len(ids) == 400
    assert con.execute("SELECT current_setting('threads')").fetchall() == [(threads,)]
    con.close()


def test_a_file_of_many_documents_is_sorted_range_by_range(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # DuckDB's sort of 300,000 documents' rows whole did not spill enough and ran out of
    # 512 MB; sorted by ranges of documents into a table first, it wrote (docs/architecture.md).
    monkeypatch.setattr(segments, "SORT_RANGE_DOCUMENTS", 3)
    con = _open(tmp_path / "w.duckdb")
    for n in (7, 3, 9, 1, 5, 8, 2, 6, 4, 0):
        _write(con, f"d{n}", n + 1, key=n)
    expected = _bands_by_doc(con)
    name = segments.flush(con).files["passage_bands"]
    path = str(segments.connection_folder(con) / name)  # type: ignore[operator]
    ids = [r[0] for r in con.execute("SELECT doc_id FROM read_parquet(?)", [path]).fetchall()]
    assert ids == sorted(ids) and len(ids) == sum(expected.values())
    assert _bands_by_doc(con) == expected
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchall() == [(0,)]
    con.close()


def test_a_moved_folder_gets_its_views_back_on_the_next_connection(tmp_path: Path):
    path = tmp_path / "one" / "w.duckdb"
    con = _open(path)
    _write(con, "a", 2)
    segments.flush(con)
    con.close()
    shutil.move(tmp_path / "one", tmp_path / "two")
    moved = tmp_path / "two" / "w.duckdb"
    con = _open(moved)
    assert _bands_by_doc(con) == {"a": 2}
    [(sql,)] = con.execute(
        "SELECT sql FROM duckdb_views() WHERE view_name = 'passage_bands'"
    ).fetchall()
    assert str(tmp_path / "two") in sql
    con.close()


def test_an_older_file_with_base_tables_is_brought_over(tmp_path: Path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute(f"CREATE TABLE claims ({schema.SCHEMA['claims']})")
    con.execute(f"CREATE TABLE passage_bands ({schema.SCHEMA['passage_bands']})")
    con.execute("INSERT INTO passage_bands VALUES ('a', 0, 0, 7), ('a', 1, 0, 8)")
    con.close()
    con = _open(path)
    assert _bands_by_doc(con) == {"a": 2}
    segments.flush(con)
    assert _bands_by_doc(con) == {"a": 2}
    assert segments.current_files(con)
    con.close()


def test_a_mostly_free_working_file_is_rewritten_smaller(tmp_path: Path):
    path = tmp_path / "w.duckdb"
    con = _open(path)
    with warehouse.transaction(con):
        for n in range(20):
            warehouse.insert_frame(con, "passage_bands", _bands(f"d{n}", 100_000, n << 20))
    con.execute("CHECKPOINT")
    segments.flush(con)
    con.execute("CHECKPOINT")
    assert segments.mostly_free(con)
    expected = _bands_by_doc(con)
    con.close()
    before = path.stat().st_size
    segments.rewrite(path, warehouse.CONNECTION_CONFIG)
    assert path.stat().st_size < before / 2
    con = _open(path)
    assert _bands_by_doc(con) == expected
    con.close()


# --- the whole pipeline ------------------------------------------------------------------


def _one_copy(published: Path, target: Path) -> int:
    """The bytes of one plain DuckDB file holding every table of a published warehouse
    (the segmented ones materialized): "one copy of the data"."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{published}' AS pub (READ_ONLY)")
        con.execute(f"ATTACH '{target}' AS one")
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_catalog = 'pub' AND table_schema = 'main'"
            ).fetchall()
        ]
        for table in tables:
            con.execute(f'CREATE TABLE one."{table}" AS SELECT * FROM pub."{table}"')
        con.execute("DETACH one")
    finally:
        con.close()
    return target.stat().st_size


def _named_everywhere(published: Path) -> set[str]:
    named = segments.named_by_closed(
        [published, segments.previous_path_for(published), warehouse.working_path_for(published)]
    )
    assert named is not None
    return named


def test_a_run_publishes_segments_a_reader_keeps_and_any_folder_reads(
    seeds_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    published = tmp_path / "wh" / "salvo.duckdb"
    assert run_pipeline(seeds_copy, published).success
    folder = tmp_path / "wh" / "salvo.segments"
    assert {p.name.split(".")[0] for p in folder.iterdir()} == set(schema.SEGMENTED_TABLES)
    claims = read_rows(published, "SELECT count(*) FROM claims")[0][0]
    assert claims > 0
    # A reader holding the published file while two runs publish (one removes a
    # document, so the rows it still shows are hidden from the new snapshot only).
    reader = duckdb.connect(str(published), read_only=True)
    try:
        seen = reader.execute("SELECT sentence_id, text FROM sentences ORDER BY 1").fetchall()
        (seeds_copy / "004_7dfbcc733f420d24.txt").unlink()
        assert run_pipeline(seeds_copy, published).success
        assert reader.execute("SELECT sentence_id, text FROM sentences ORDER BY 1").fetchall() == (
            seen
        )
        assert run_pipeline(seeds_copy, published).success
        assert reader.execute("SELECT count(*) FROM claims").fetchone() == (claims,)
    finally:
        reader.close()
    # (Opened in this process, the path gave the reader's snapshot until it closed.)
    assert read_rows(published, "SELECT count(*) FROM sentences")[0][0] < len(seen)
    # From another working directory: the views name absolute paths.
    monkeypatch.chdir(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert read_rows(published, "SELECT count(*) FROM claims")[0][0] <= claims
    assert sorted(p.name for p in folder.iterdir()) == sorted(_named_everywhere(published))


def test_a_crash_before_the_publish_leaves_the_snapshot_and_its_files_whole(
    seeds_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    published = tmp_path / "wh" / "salvo.duckdb"
    folder = tmp_path / "wh" / "salvo.segments"
    assert run_pipeline(seeds_copy, published).success
    before = {t: read_rows(published, f"SELECT count(*) FROM {t}") for t in schema.SEGMENTED_TABLES}
    checksums = _checksums(published)

    # The next run writes its segment files, then dies before the publish.
    (seeds_copy / "001_5188f1cf9f60da7b.txt").unlink()
    shutil.copy(seeds_copy / "003_22b7d4c8eaccc335.txt", seeds_copy / "new.txt")
    with open(seeds_copy / "new.txt", "a", encoding="utf-8") as handle:
        handle.write("\nRussia sent 20 tanks to Belarus, officials said.\n")

    def crash(*_args, **_kwargs):
        raise RuntimeError("killed between the segment files and the publish")

    monkeypatch.setattr("pipeline.publish.publish", crash)
    files_before = set(os.listdir(folder))
    assert not run_pipeline(seeds_copy, published).success
    assert set(os.listdir(folder)) > files_before  # written, not published
    assert _checksums(published) == checksums
    assert {
        t: read_rows(published, f"SELECT count(*) FROM {t}") for t in schema.SEGMENTED_TABLES
    } == before
    # A file a run was writing when it died, named by nothing.
    (folder / "claims.000099.0badf11e.parquet.tmp").write_bytes(b"PAR1 half")

    monkeypatch.undo()
    assert run_pipeline(seeds_copy, published).success
    assert not (folder / "claims.000099.0badf11e.parquet.tmp").exists()
    assert sorted(os.listdir(folder)) == sorted(_named_everywhere(published))
    # The same tables a run that never crashed gives.
    clean = tmp_path / "clean" / "salvo.duckdb"
    assert run_pipeline(seeds_copy, clean).success
    recovered, reference = _checksums(published), _checksums(clean)
    differing = sorted(t for t in reference if recovered.get(t) != reference[t])
    assert differing == ["seed_files"]  # the clean run never saw the file that left


def _checksums(path: Path) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return warehouse.table_checksums(con)
    finally:
        con.close()


def test_the_folder_stays_within_one_and_a_half_copies_of_the_data(tmp_path: Path):
    """Ten publishes of a warehouse whose data is mostly in the large tables (as at scale:
    a warehouse of the seed articles is nearly all DuckDB's fixed cost per table), each
    adding a few documents (0.5% of the rows, as a day of a feed adds to a large
    warehouse), replacing one and removing one: the folder (working, published and
    previous small files, segment files) stays within 1.5x one plain DuckDB copy."""
    published = tmp_path / "wh" / "salvo.duckdb"
    working = warehouse.working_path_for(published)

    connect = _connector(working)

    live: dict[str, int] = {}
    for run in range(10):
        with connect() as con, warehouse.transaction(con):
            # New documents: many at first (the warehouse so far), a few in each run after.
            size = 50_000 if run == 0 else 2_000
            for n in range(80 if run == 0 else 5):
                doc = f"r{run}d{n}"
                warehouse.insert_frame(con, "passage_bands", _bands(doc, size, run << 40 | n << 30))
                live[doc] = size
            if run > 1:
                changed, gone = f"r{run - 1}d0", f"r{run - 1}d1"
                warehouse.replace_rows(con, "passage_bands", _bands(changed, 1_500, run), "doc_id")
                warehouse.delete_documents(con, [gone], tables=("passage_bands",))
                live[changed] = 1_500
                del live[gone]
        publish_run(connect, working, published)
        assert read_rows(published, "SELECT count(*) FROM passage_bands") == [(sum(live.values()),)]
        folder = segments.disk_usage(tmp_path / "wh")
        copy = _one_copy(published, tmp_path / f"one_{run}.duckdb")
        assert folder <= 1.5 * copy, (run, folder, copy)


READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
query = "SELECT count(*), sum(length(text)) FROM sentences"
print(con.execute(query).fetchall(), flush=True)
sys.stdin.readline()  # held open while the runs publish
print(con.execute(query).fetchall(), flush=True)
"""


def test_a_reader_in_another_process_keeps_its_snapshot_across_two_publishes(
    seeds_copy: Path, tmp_path: Path
):
    published = tmp_path / "wh" / "salvo.duckdb"
    assert run_pipeline(seeds_copy, published).success
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(published)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd="/",
    )
    try:
        assert reader.stdout is not None and reader.stdin is not None
        before = reader.stdout.readline()
        (seeds_copy / "004_7dfbcc733f420d24.txt").unlink()
        assert run_pipeline(seeds_copy, published).success
        assert run_pipeline(seeds_copy, published).success
        after, _ = reader.communicate("go\n", timeout=60)
    finally:
        reader.kill()
    assert reader.returncode == 0
    assert after.strip() == before.strip()
    now = read_rows(published, "SELECT count(*), sum(length(text)) FROM sentences")
    assert str(now) != before.strip()


def test_rows_of_documents_that_are_gone_leave_from_files_and_unpublished_rows(tmp_path: Path):
    con = _open(tmp_path / "w.duckdb")
    with warehouse.transaction(con):
        warehouse.insert_frame(
            con,
            "documents",
            schema.frame(
                "documents",
                [
                    {
                        "doc_id": "a",
                        "source_file": "a.txt",
                        "date_source": "unknown",
                        "clean_text": "x",
                        "ingested_at": dt.datetime(2025, 1, 1),
                        "characters": 1,
                    }
                ],
            ),
        )
    _write(con, "a", 2)
    _write(con, "gone", 3)
    segments.flush(con)
    _write(con, "also_gone", 1)  # not published yet
    with warehouse.transaction(con):
        warehouse.delete_orphans(con, ["passage_bands"])
    assert _bands_by_doc(con) == {"a": 2}
    con.close()


def test_a_file_copied_without_its_segments_folder_fails_plainly(tmp_path: Path):
    path = tmp_path / "one" / "w.duckdb"
    con = _open(path)
    _write(con, "a", 2)
    segments.flush(con)
    con.close()
    alone = tmp_path / "two" / "w.duckdb"
    alone.parent.mkdir()
    shutil.copy(path, alone)
    with pytest.raises(FileNotFoundError, match="copy or move the two together"):
        _open(alone)


@pytest.mark.parametrize(
    "point",
    [
        "pipeline.segments._register",  # a segment file written, not yet named
        "pipeline.segments._compact",  # the run's files named, not yet compacted
        "pipeline.publish.publish",  # the working file ready, not yet copied
        "pipeline.segments.collect",  # published, unnamed files not yet deleted
    ],
)
def test_a_publish_that_fails_at_any_point_leaves_the_snapshot_and_the_next_one_cleans(
    point: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    published = tmp_path / "wh" / "salvo.duckdb"
    working = warehouse.working_path_for(published)

    connect = _connector(working)

    def write(run: int, gone: str | None) -> None:
        with connect() as con:
            for n in range(3):
                _write(con, f"r{run}d{n}", 50, key=run * 100 + n)
            if gone:
                with warehouse.transaction(con):
                    warehouse.delete_documents(con, [gone], tables=("passage_bands",))

    for run in range(segments.MAX_FILES):
        write(run, f"r{run - 1}d0" if run else None)
        publish_run(connect, working, published)
    before = _checksums(published)
    write(99, "r7d1")

    def fail(*_args, **_kwargs):
        raise RuntimeError(f"killed at {point}")

    monkeypatch.setattr(point, fail)
    with pytest.raises(RuntimeError, match="killed at"):
        publish_run(connect, working, published)
    monkeypatch.undo()
    if point == "pipeline.segments.collect":
        assert _checksums(published) != before  # it had published
    else:
        assert _checksums(published) == before
    assert chaos_invariants.missing_segment_files(published) == []

    publish_run(connect, working, published)
    assert chaos_invariants.missing_segment_files(published) == []
    assert chaos_invariants.unnamed_segment_files(published) == []
    with connect() as con:
        expected = _bands_by_doc(con)
    assert (
        dict(read_rows(published, "SELECT doc_id, count(*) FROM passage_bands GROUP BY doc_id"))
        == expected
    )
    assert expected["r99d1"] == 50 and "r7d1" not in expected and "r7d0" in expected


@pytest.mark.parametrize("name", ["salvo.duckdb", "a.db", "warehouse"])
def test_a_published_file_and_its_working_file_share_one_segments_folder(tmp_path: Path, name):
    published = tmp_path / name
    folder = segments.folder_for(published)
    assert folder == segments.folder_for(warehouse.working_path_for(published))
    assert folder.parent == tmp_path and folder.name.endswith(segments.SEGMENTS_SUFFIX)
