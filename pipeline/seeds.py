"""Which files of the seeds folder are articles, and how they are named in the ledger.

Policy (the README repeats it):
- every regular file under the folder is read, sub-folders included, except hidden files
  and hidden folders (a name starting with "."), and `manifest.csv` at the top, which is
  metadata;
- a symlink is followed only when its target stays inside the seeds folder;
- names are data: the ledger stores the path relative to the folder, with bytes that are
  not UTF-8 written as backslash escapes, and code never builds SQL from them.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

MANIFEST_NAME = "manifest.csv"
# Past this a file is not read at all: no news article is a quarter of a gigabyte.
MAX_FILE_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class SeedFile:
    name: str  # relative path as stored in the ledger
    path: Path
    size: int
    mtime_ns: int
    problem: str | None = None  # a quarantine reason found before reading


def ledger_name(relative: str) -> str:
    raw = os.fsencode(relative)
    return raw.decode("utf-8", errors="backslashreplace")


def list_seed_files(folder: Path) -> list[SeedFile]:
    """Every candidate article under `folder`, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"The seeds folder {folder} does not exist. Create it or point SALVO_SEEDS_DIR at a "
            "folder of articles."
        )
    root = folder.resolve()
    found: list[SeedFile] = []
    for current, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for filename in sorted(files):
            if filename.startswith("."):
                continue
            path = Path(current) / filename
            relative = os.path.relpath(path, folder)
            if relative == MANIFEST_NAME:
                continue
            name = ledger_name(relative)
            problem = None
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(root) or not target.is_file():
                    found.append(SeedFile(name, path, 0, 0, "outside_seeds"))
                    continue
            try:
                stat = path.stat()
            except OSError:
                continue  # vanished between listing and stat: the next run sees the truth
            if not path.is_file():
                continue
            if stat.st_size > MAX_FILE_BYTES:
                problem = "too_large"
            found.append(SeedFile(name, path, stat.st_size, stat.st_mtime_ns, problem))
    return sorted(found, key=lambda f: f.name)


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def document_id(text: str) -> str:
    """Same text, same id: a short hash of the decoded text."""
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()[:20]


def read_manifest_text(folder: Path) -> str | None:
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        return None
    return path.read_bytes().decode("utf-8-sig", errors="replace")
