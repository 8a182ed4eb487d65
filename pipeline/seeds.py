"""Which files of the seeds folder are articles, how they are named in the ledger, and how
they are read safely while users keep dropping files in.

Policy (the README repeats it):
- every regular file under the folder is an input, sub-folders included, except hidden
  files and hidden folders (a name starting with "."), editor and download leftovers
  (names ending in "~", ".part", ".crdownload", ".download", ".tmp", ".partial"), and
  `manifest.csv` (at the top it is the metadata; in a sub-folder it is skipped);
- a symlink to a file is followed only when its target stays inside the seeds folder;
  otherwise it is quarantined as `outside_seeds` (`broken_link` when its target does not
  exist). Symlinked folders are not entered, and sockets, FIFOs and devices are never
  opened;
- names are data: the ledger stores the path relative to the folder (sub-folders joined
  with "/"), exactly as the file system spells it (no Unicode normalisation, so NFC and
  NFD twins are two files), with bytes that are not UTF-8 written as backslash escapes.
  Should an escaped name collide with a real one, the escaped file is quarantined as
  `bad_name` under a name that says so. Code never builds SQL from names;
- a file modified less than STABLE_SECONDS ago may still be being written: it is watched
  for that long and skipped by this run if it keeps changing (see `settle`).
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Callable
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

MANIFEST_NAME = "manifest.csv"
# Past this a file is not read at all: no news article is a quarter of a gigabyte.
MAX_FILE_BYTES = 256 * 1024 * 1024
# A file changed more recently than this may still be being written (a copy in progress,
# an editor saving). The sensor waits the same time (assets/automation.py).
STABLE_SECONDS = 2.0
# Partial downloads and editor backups: the finished file arrives under another name.
LEFTOVER_SUFFIXES = ("~", ".part", ".crdownload", ".download", ".tmp", ".partial")


class SeedFile(NamedTuple):
    """One file of the listing; a tuple, the cheapest record to build per file."""

    name: str  # relative path as stored in the ledger
    location: str  # the file's path; a string, cheaper than a Path per file
    size: int
    mtime_ns: int
    problem: str | None = None  # a quarantine reason found before reading
    escaped: bool = False  # the name had bytes that are not UTF-8

    @property
    def path(self) -> Path:
        return Path(self.location)


def ledger_name(relative: str) -> str:
    raw = os.fsencode(relative)
    return raw.decode("utf-8", errors="backslashreplace")


def _is_utf8(relative: str) -> bool:
    try:
        os.fsencode(relative).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _link_problem(path: Path, root: Path) -> str | None:
    """Why a symlink cannot be read as a seed, or None when it can."""
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):  # dangling, or a loop of links
        return "broken_link"
    return None if target.is_relative_to(root) else "outside_seeds"


def _unique_names(found: list[SeedFile]) -> list[SeedFile]:
    """Make ledger names unique: an escaped non-UTF-8 name that equals a real name (or
    another escaped one) is quarantined as bad_name under a suffixed name."""
    taken: set[str] = set()
    result: list[SeedFile] = []
    # Real UTF-8 names claim theirs first, so an escaped twin is the one renamed.
    for seed in sorted(found, key=lambda f: (f.escaped, f.name)):
        name, number = seed.name, 1
        while name in taken:
            number += 1
            name = f"{seed.name} [bad_name {number}]"
        taken.add(name)
        result.append(seed if name == seed.name else seed._replace(name=name, problem="bad_name"))
    return result


def list_seed_files(folder: Path) -> list[SeedFile]:
    """Every candidate article under `folder`, sorted by ledger name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"The seeds folder {folder} does not exist. Create it or point SALVO_SEEDS_DIR at a "
            "folder of articles."
        )
    root = folder.resolve()
    found: list[SeedFile] = []
    # (folder path, its path relative to the seeds folder), walked with scandir: the kind
    # of an entry comes with the listing, one lstat per file gives its size and time.
    pending = [(os.fspath(folder), "")]
    while pending:
        current, prefix = pending.pop()
        try:
            entries = os.scandir(current)
        except OSError:
            continue  # unreadable or vanished folder: as os.walk, skipped
        with entries:
            for entry in entries:
                filename = entry.name
                if filename.startswith("."):
                    continue  # hidden file or folder
                relative = f"{prefix}{filename}"
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                if is_dir:
                    # A symlinked folder is not entered, nor listed.
                    if not entry.is_symlink():
                        pending.append((entry.path, f"{relative}{os.sep}"))
                    continue
                if filename.endswith(LEFTOVER_SUFFIXES) or filename == MANIFEST_NAME:
                    continue
                location = entry.path
                # Most names are ASCII, their own ledger name: nothing to encode.
                if relative.isascii():
                    name, escaped = relative, False
                else:
                    name, escaped = ledger_name(relative), not _is_utf8(relative)
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue  # vanished between listing and stat: the next run sees the truth
                if stat.S_ISLNK(info.st_mode):
                    if problem := _link_problem(Path(location), root):
                        found.append(SeedFile(name, location, 0, 0, problem, escaped))
                        continue
                    try:
                        info = os.stat(location)
                    except OSError:
                        continue
                if not stat.S_ISREG(info.st_mode):
                    continue  # FIFOs, sockets, devices: opening one could block the run
                problem = "too_large" if info.st_size > MAX_FILE_BYTES else None
                found.append(
                    SeedFile(name, location, info.st_size, info.st_mtime_ns, problem, escaped)
                )
    # Paths are unique: only an escaped name can take another's.
    if any(f.escaped for f in found):
        found = _unique_names(found)
    found.sort(key=itemgetter(0))  # by name
    return found


def settle(
    files: list[SeedFile],
    stable_seconds: float = STABLE_SECONDS,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[list[SeedFile], list[SeedFile]]:
    """Split files into (stable, still being written).

    A file whose modification time is older than `stable_seconds` is stable. Younger files
    are watched until the youngest is that old (at most `stable_seconds` of waiting): those
    whose size or modification time moved meanwhile are still being written and left for
    the next run; the others are stable, so a file dropped just before a run still lands.
    """
    now = clock()
    since_ns = (now - stable_seconds) * 1e9
    young = [f for f in files if f.mtime_ns > since_ns and f.problem is None]
    if not young:
        return files, []
    youngest = max(f.mtime_ns for f in young) / 1e9
    sleep(min(stable_seconds, max(0.0, stable_seconds - (now - youngest))))
    moving = set()
    for seed in young:
        try:
            info = seed.path.stat()
        except OSError:
            moving.add(seed.name)  # gone or replaced meanwhile: look again next run
            continue
        if (info.st_size, info.st_mtime_ns) != (seed.size, seed.mtime_ns):
            moving.add(seed.name)
    return [f for f in files if f.name not in moving], [f for f in files if f.name in moving]


class ChangedWhileReading(Exception):
    """The file changed between listing and the end of reading: it is still being written."""


def read_seed(seed: SeedFile, folder: Path) -> bytes:
    """The bytes of a listed seed file, read without following a link out of the folder.

    Raises:
        ChangedWhileReading: the size or modification time moved while we read.
        OSError: the file cannot be read (permissions, vanished, not a regular file).
    """
    root = Path(folder).resolve()
    target = seed.path
    if seed.path.is_symlink():
        # Resolve again at read time: the link may have been changed since the listing.
        target = seed.path.resolve(strict=True)
        if not target.is_relative_to(root):
            raise PermissionError(f"{seed.name} now points outside the seeds folder")
    # O_NOFOLLOW: the final component must not be a (new) link; O_NONBLOCK: a FIFO swapped
    # in after the listing cannot hang the run (it fails the regular-file test below).
    fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        before = os.fstat(handle.fileno())
        if not stat.S_ISREG(before.st_mode):
            raise OSError(f"{seed.name} is not a regular file")
        if (before.st_size, before.st_mtime_ns) != (seed.size, seed.mtime_ns):
            raise ChangedWhileReading(seed.name)
        data = handle.read()  # one buffer sized from fstat: peak memory is the file's size
        after = os.fstat(handle.fileno())
    if (after.st_size, after.st_mtime_ns) != (seed.size, seed.mtime_ns) or len(data) != seed.size:
        raise ChangedWhileReading(seed.name)
    return data


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def document_id(text: str) -> str:
    """Same text, same id: a short hash of the decoded text."""
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()[:20]


def read_manifest_text(folder: Path) -> str | None:
    """The manifest's text, or None when there is none (or it is a link out of the folder,
    or not a regular file)."""
    path = Path(folder) / MANIFEST_NAME
    if path.is_symlink() and _link_problem(path, Path(folder).resolve()):
        return None
    if not path.is_file():
        return None
    try:
        return path.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError:
        return None
