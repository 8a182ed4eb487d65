"""The atomic publish: the working database becomes the file users read.

The copy is made from the file the last publish replaced, kept under a hidden second name,
and only its blocks that differ from the working file are written; the rename over the
published name is atomic, so a reader sees the old file or the new one, never a mix.
Which blocks differ is told by the checksum DuckDB writes at the start of each block, so a
publish reads a few bytes per block instead of both files whole.

`publish_run` is the whole step of a run: the large tables' new rows written as Parquet
segment files first (`pipeline.segments`), so the file copied is the small one, and the
segment files no snapshot names any more deleted after.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import struct
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline import segments, warehouse

# Publishing rewrites only the blocks that differ from a spare copy, in DuckDB's block size:
# a run that adds one document changes a small share of the file (docs/performance.md).
PUBLISH_BLOCK = 256 * 1024
PUBLISH_THREADS = 2

# DuckDB's file layout: three 4 KiB headers (the file header with the magic bytes, then two
# database headers, each stating the block size), then blocks of that size, each starting
# with the 8-byte checksum of its content. Two blocks with the same checksum hold the same
# bytes; a file that does not have this layout is compared whole.
HEADERS = 3 * 4096
MAGIC = (8, b"DUCK")
BLOCK_SIZE_AT = 40  # in each database header: checksum, iteration, meta block, free list,
# block count, then the block size
CHECKSUM = 8


def _spare_path(published: Path) -> Path:
    return segments.previous_path_for(published)


def _open_here(path: Path) -> bool:
    """Whether this process has the file open (a DuckDB connection of its own to it)."""
    try:
        target = os.stat(path)
    except OSError:
        return False
    for fd in os.listdir("/proc/self/fd"):
        try:
            held = os.stat(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if (held.st_dev, held.st_ino) == (target.st_dev, target.st_ino):
            return True
    return False


def _read_into(fd: int, buffer: bytearray, offset: int) -> int:
    """Fill `buffer` from `offset`; return the bytes read, fewer only at the end of the
    file. Into a buffer kept for the whole copy: a new bytes object per read is fresh
    memory each time, and its page faults cost more than the reading."""
    view, got = memoryview(buffer), 0
    while got < len(buffer):
        part = os.preadv(fd, [view[got:]], offset + got)
        if not part:
            break
        got += part
    return got


def _patch_range(source: int, target: int, blocks: range) -> int:
    """Rewrite the blocks of `target` that differ from `source` at these offsets; return
    the bytes written. Block by block into two buffers: bytearrays compare with memcmp (a
    memoryview compares byte by byte, and slicing bytes copies them)."""
    new, old = bytearray(PUBLISH_BLOCK), bytearray(PUBLISH_BLOCK)
    written = 0
    for offset in blocks:
        length, before = _read_into(source, new, offset), _read_into(target, old, offset)
        if length == before == PUBLISH_BLOCK and new == old:
            continue
        if length < PUBLISH_BLOCK and new[:length] == old[:before]:
            continue  # the last, short block, unchanged
        os.pwrite(target, memoryview(new)[:length], offset)
        written += length
    return written


def _duckdb_blocks(fd: int, size: int) -> range | None:
    """The offsets of a DuckDB file's blocks when it has the layout described above at
    PUBLISH_BLOCK, else None."""
    head = os.pread(fd, HEADERS, 0)
    at, magic = MAGIC
    if size < HEADERS or head[at : at + len(magic)] != magic:
        return None
    for header in (4096, 8192):
        (block,) = struct.unpack_from("<Q", head, header + BLOCK_SIZE_AT)
        if block != PUBLISH_BLOCK:
            return None
    if (size - HEADERS) % PUBLISH_BLOCK:
        return None
    return range(HEADERS, size, PUBLISH_BLOCK)


def _patch_by_checksum(source: int, target: int, blocks: range) -> int:
    """Rewrite the blocks of `target` whose checksum differs from `source`'s at these
    offsets; return the bytes written."""
    written = 0
    for offset in blocks:
        if os.pread(source, CHECKSUM, offset) == os.pread(target, CHECKSUM, offset):
            continue
        block = os.pread(source, PUBLISH_BLOCK, offset)
        os.pwrite(target, block, offset)
        written += len(block)
    return written


def _patch(source: Path, target: Path, by_checksum: bool) -> int | None:
    """Make `target` a byte copy of `source` by rewriting only the blocks that differ;
    return the bytes written, or None when a reader may hold `target`.

    With `by_checksum`, blocks are compared by their DuckDB checksums: only for a target
    that is a whole DuckDB file (a file a killed publish was writing may hold a block whose
    first bytes are new and the rest old, and is compared byte by byte).

    `target` is an earlier published file. A DuckDB connection in another process holds a
    lock on the file it reads, so the lock taken here fails while one is open; a
    connection of this process is found among its open files. No new reader can open it
    meanwhile: it no longer has the published name."""
    if not os.path.exists("/proc/self/fd") or _open_here(target):
        return None
    with open(source, "rb", buffering=0) as src, open(target, "r+b", buffering=0) as dst:
        try:
            fcntl.lockf(dst.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return None
        size = os.fstat(src.fileno()).st_size
        blocks = _duckdb_blocks(src.fileno(), size) if by_checksum else None
        if blocks is None:
            blocks, patch, written = range(0, size, PUBLISH_BLOCK), _patch_range, 0
        else:
            # The headers are always written; each block is compared by its checksum.
            written = os.pwrite(dst.fileno(), os.pread(src.fileno(), HEADERS, 0), 0)
            patch = _patch_by_checksum
            for fd in (src.fileno(), dst.fileno()):
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)  # no read-ahead
        # Each thread compares its share of the blocks (a read releases the GIL).
        shares = [blocks[i::PUBLISH_THREADS] for i in range(PUBLISH_THREADS)]
        with ThreadPoolExecutor(PUBLISH_THREADS) as pool:
            written += sum(pool.map(lambda part: patch(src.fileno(), dst.fileno(), part), shares))
        os.ftruncate(dst.fileno(), size)
        os.fsync(dst.fileno())
    return written


@dataclass(frozen=True)
class Published:
    path: Path
    bytes_written: int  # what the publish wrote: the changed blocks, or the whole file
    patched: bool  # an earlier copy was rewritten where it differed (else a full copy)


def publish(working: Path | str, published: Path | str) -> Published:
    """Make a copy of the closed working database next to the published one, then rename
    it over the published file.

    The rename is atomic on POSIX: a reader that holds the old file open keeps reading a
    consistent old snapshot (its inode), and a new reader sees either the old or the new
    file, never a half-written one. The caller must have closed every connection to the
    working database (closing checkpoints it, so the file alone is complete).

    The copy is made from the file the last publish replaced, kept under a hidden second
    name (`.<name>.previous`) for this: only its blocks that differ are written. When a
    reader still holds that file (or there is none), the copy is a new file instead.
    """
    working, published = Path(working), Path(published)
    published.parent.mkdir(parents=True, exist_ok=True)
    staging = published.with_name(f".{published.name}.publishing")
    spare = _spare_path(published)
    if spare.exists() and published.exists() and os.path.samefile(spare, published):
        # A killed publish left the second name on the published file itself.
        spare.unlink()
    # A staging file a killed publish left is as good a start as the spare, when every
    # block is compared byte by byte.
    resumed = staging.exists()
    if spare.exists() and not resumed:
        os.replace(spare, staging)
    spare.unlink(missing_ok=True)
    written = _patch(working, staging, by_checksum=not resumed) if staging.exists() else None
    patched = written is not None
    if written is None:
        staging.unlink(missing_ok=True)  # a reader holding it keeps its bytes
        shutil.copyfile(working, staging)
        with open(staging, "rb+") as handle:
            os.fsync(handle.fileno())
        written = staging.stat().st_size
    try:
        os.link(published, spare)  # the next publish's starting point
    except OSError:  # the first publish, or a file system without hard links
        pass
    os.replace(staging, published)
    directory = os.open(published.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return Published(published, written, patched)


@dataclass(frozen=True)
class PublishedRun:
    published: Published
    counts: dict[str, int]  # rows of each table asked for, as published
    flushed: segments.Flushed  # segment files written, tables compacted
    rewritten: bool  # the working file was rewritten without its free blocks
    deleted: list[str]  # segment files no snapshot names any more, deleted


def publish_run(
    connect: Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]],
    working: Path | str,
    published: Path | str,
    tables: tuple[str, ...] = (),
) -> PublishedRun:
    """The publish step of a run: the segmented tables' new rows become segment files, the
    small working file is checkpointed (and rewritten when a flush left it mostly free
    blocks), copied and renamed over the published file; then the segment files named by
    none of the working, published and previous files are deleted.

    A crash before the rename leaves the last published file and every file it names; a
    crash after it leaves only files nothing needs, which a later publish deletes."""
    with connect() as con:
        flushed = segments.flush(con)
        # Everything in the file itself, so a byte copy is a complete database.
        con.execute("CHECKPOINT")
        counts = warehouse.table_counts(con, tables)
        sparse = segments.mostly_free(con)
    if sparse:
        segments.rewrite(working, warehouse.CONNECTION_CONFIG)
    done = publish(working, published)
    with connect() as con:
        deleted = segments.collect(con, published)
    return PublishedRun(done, counts, flushed, sparse, deleted)
