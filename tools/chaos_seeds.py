"""The two versions of a seeds folder `make chaos` switches between: every input format,
and files added, changed and deleted."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

# Files of the changed folder are dated this far back, so that the run does not wait for
# them to settle (pipeline.seeds.STABLE_SECONDS) and kill times stay comparable.
OLD_SECONDS = 3600


def _age(folder: Path) -> None:
    past = time.time() - OLD_SECONDS
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            os.utime(path, (past, past))


def _paragraphs(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def write_seed_versions(source: Path, first: Path, second: Path) -> None:
    """Two versions of a seeds folder made from the seed articles.

    The first holds four seed articles, the manifest, an HTML page, a JSONL dump of two
    records, a Markdown note, a duplicate, a cp1252 file and three files to quarantine.
    The second adds the fifth article back, appends a paragraph to one article, deletes
    another, changes one JSONL record and adds one, and turns the duplicate into a
    different article: ingestion, deletion, the NLP pass and every mart have work.
    """
    articles = sorted(p for p in source.glob("*.txt"))
    assert len(articles) >= 5, f"need the five seed articles in {source}"
    first.mkdir(parents=True)
    for article in articles[:4]:
        shutil.copy2(article, first / article.name)
    manifest = source / "manifest.csv"
    if manifest.exists():
        shutil.copy2(manifest, first / manifest.name)
    a, b = _paragraphs(articles[0]), _paragraphs(articles[1])
    page = "".join(f"<p>{p}</p>" for p in a[1:])
    (first / "page.html").write_text(
        f"<html><head><title>{a[0]}</title><meta property='og:site_name' content='Chaos "
        "Gazette'></head><body><nav>Home | World | Europe</nav><article>"
        f"<h1>{a[0]}</h1>{page}</article><footer>Subscribe to our newsletter</footer>"
        "</body></html>",
        encoding="utf-8",
    )
    records = [
        {"title": b[0], "text": "\n\n".join(b[:6]), "published": "2024-01-21", "site": "Wire"},
        {"title": "Second record", "body": "\n\n".join(b[6:]) or b[0], "date": "2024-02"},
    ]
    (first / "dump.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in records), encoding="utf-8"
    )
    (first / "note.md").write_text(
        "---\ntitle: Chaos note\ndate: 2024-03-01\n---\n# Chaos note\n\n"
        + "\n\n".join(f"**{p}**" for p in a[:4]),
        encoding="utf-8",
    )
    shutil.copy2(articles[2], first / "copy_of_article.txt")
    (first / "accents_cp1252.txt").write_bytes(
        (
            "\u201cOfficials\u201d put the cost at \u20ac3 million, the minist\u00e8re said.\n\n"
        ).encode("cp1252")
        + articles[3].read_text(encoding="utf-8").encode("cp1252", errors="replace")
    )
    (first / "empty.txt").write_bytes(b" \n\t\n")
    (first / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (first / "chrome_only.txt").write_text(
        "Subscribe to our newsletter\nAccept all cookies\n", encoding="utf-8"
    )

    shutil.copytree(first, second)
    shutil.copy2(articles[4], second / articles[4].name)
    (second / articles[0].name).write_text(
        articles[0].read_text(encoding="utf-8")
        + "\n\nIran also sent Shahed drones to Russia, officials said on Friday.\n",
        encoding="utf-8",
    )
    (second / articles[1].name).unlink()
    records[1]["body"] = "Russia received artillery shells from North Korea, Seoul said."
    records.append({"content": "Belarus bought Iskander missiles from Russia, Minsk said."})
    (second / "dump.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in records), encoding="utf-8"
    )
    (second / "copy_of_article.txt").write_text(
        "Ukraine received Patriot air defence systems from Germany, Berlin said.\n",
        encoding="utf-8",
    )
    _age(first)
    _age(second)
