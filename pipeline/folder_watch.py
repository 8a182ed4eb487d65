"""What the folder sensor compares between ticks: a fingerprint per file (size,
modification time, content hash), and the fingerprints the last run already ingested, read
from the ledger of the published warehouse so that a sensor starting fresh does not run
again for files a run has already ingested."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from pipeline import seeds, warehouse
from pipeline.documents import FINGERPRINT_STATE


def folder_fingerprints(
    folder: Path, previous: dict[str, list]
) -> tuple[dict[str, list], list[str]]:
    """Content hashes of the folder's files, re-hashing only files whose size or mtime
    moved; files still being written keep their old entry and are reported as settling."""
    now = time.time()
    state: dict[str, list] = {}
    settling: list[str] = []
    files = seeds.list_seed_files(folder)
    manifest = folder / seeds.MANIFEST_NAME
    entries = [(f.name, f.path, f.size, f.mtime_ns) for f in files if f.problem != "outside_seeds"]
    if manifest.is_file():
        stat = manifest.stat()
        entries.append((seeds.MANIFEST_NAME, manifest, stat.st_size, stat.st_mtime_ns))
    for name, path, size, mtime_ns in entries:
        old = previous.get(name)
        if old and old[0] == size and old[1] == mtime_ns:
            state[name] = old
            continue
        if now - mtime_ns / 1e9 < seeds.STABLE_SECONDS:
            settling.append(name)
            if old:
                state[name] = old
            continue
        try:
            digest = (
                seeds.content_hash(path.read_bytes())
                if size <= seeds.MAX_FILE_BYTES
                else f"size:{size}"
            )
        except OSError:
            continue
        state[name] = [size, mtime_ns, digest]
    return state, settling


def ingested_fingerprints(published: Path, folder: Path) -> dict[str, list]:
    """The fingerprints of the files the published warehouse's ledger says were read, in
    the form folder_fingerprints gives them, and the manifest's when the documents stage
    read the manifest as it is now. Empty when there is no published warehouse yet."""
    if not Path(published).is_file():
        return {}
    try:
        con = warehouse.connect(published, read_only=True)
    except (duckdb.Error, RuntimeError):
        return {}
    try:
        rows = con.execute(
            "SELECT source_file, size_bytes, mtime_ns, content_hash FROM seed_files "
            "WHERE status <> 'deleted' AND size_bytes IS NOT NULL AND mtime_ns IS NOT NULL"
        ).fetchall()
        stored = warehouse.get_state(con, FINGERPRINT_STATE)
    except duckdb.Error:
        return {}
    finally:
        con.close()
    state = {
        name: [size, mtime_ns, digest or f"size:{size}"] for name, size, mtime_ns, digest in rows
    }
    manifest = Path(folder) / seeds.MANIFEST_NAME
    text = seeds.read_manifest_text(folder)
    if stored and text is not None and manifest.is_file():
        if stored.endswith(":" + seeds.content_hash(text.encode())):
            stat = manifest.stat()
            digest = seeds.content_hash(manifest.read_bytes())
            state[seeds.MANIFEST_NAME] = [stat.st_size, stat.st_mtime_ns, digest]
    return state
