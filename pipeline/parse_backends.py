"""Where the NLP stage's spaCy pass runs: worker processes on this machine (`local`, the
default) or the actors of a Ray cluster (`ray`). Either way the rows arrive at the stage's
BatchWriter as Parquet files of the tables' fixed columns, and are written by the same code
in the same transactions; only the parsing moves.

The Ray backend never lets a worker near the DuckDB file. The stage writes the documents to
parse, (doc_id, clean_text), as Parquet into a folder of its own in the lake (SALVO_LAKE);
Ray Data reads them, and one actor per CPU, each with its own spaCy model, parses a file at
a time and writes the rows as one Parquet file per table beside them; the stage reads back
only the files the finished actor calls name, and deletes its folder however the stage
ends. Ray is imported only by this backend (the `cluster` dependency group).

This module is outside `pipeline/nlp/` on purpose: every module there except the parse
machinery is hashed into the extractor version (pipeline/nlp/version.py), and where the
parse runs changes no row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pipeline import settings
from pipeline.ledger import Connect
from pipeline.nlp.pool import parse_with_workers
from pipeline.nlp.staging import BatchWriter

if TYPE_CHECKING:
    import pyarrow.fs as pafs


class ParseBackend(Protocol):
    """Parses the documents `todo` lists ((doc_id, characters), by doc_id) and hands
    their rows to `writer`, which stages and writes them; `writer.workers` says how many
    parsers ran, `writer.cpu_seconds` gets the CPU time of those that are not children of
    this process."""

    @property
    def name(self) -> str: ...

    def parse(
        self,
        connect: Connect,
        todo: list[tuple[str, int]],
        model: str,
        version: str,
        writer: BatchWriter,
    ) -> None: ...


@dataclass(frozen=True)
class LocalPool:
    """Forked worker processes on this machine (pipeline.nlp.pool)."""

    name: str = "local"

    def parse(self, connect, todo, model, version, writer) -> None:
        parse_with_workers(connect, todo, model, version, writer)


def from_settings(working: Path | str) -> ParseBackend:
    """The backend SALVO_NLP_BACKEND names, for the working database `working`."""
    if settings.nlp_backend() == "ray":
        from pipeline.ray_parse import RayCluster

        return RayCluster(
            address=settings.ray_address(),
            lake=settings.lake(),
            working=str(working),
            actors=settings.ray_actors(),
        )
    return LocalPool()


# --- the lake ----------------------------------------------------------------------------


def lake_filesystem(lake: str) -> tuple[pafs.FileSystem, str]:
    """A pyarrow filesystem and the base path within it, for a local folder or any URI
    pyarrow opens (s3://, gs://, hdfs://, file://); another fsspec URI goes through
    fsspec when its implementation is installed."""
    import pyarrow.fs as pafs

    if "://" not in lake:
        return pafs.LocalFileSystem(), str(Path(lake).resolve())
    try:
        filesystem, path = pafs.FileSystem.from_uri(lake)
    except ValueError:  # pyarrow.ArrowInvalid: a scheme pyarrow has no filesystem for
        import fsspec

        spec, path = fsspec.core.url_to_fs(lake)
        filesystem = pafs.PyFileSystem(pafs.FSSpecHandler(spec))
    return filesystem, path.rstrip("/")


def _is_local(filesystem: pafs.FileSystem) -> bool:
    import pyarrow.fs as pafs

    return isinstance(filesystem, pafs.LocalFileSystem)


def _warehouse_folder(base: str, working: str) -> str:
    """The lake folder of one warehouse: the staged files of its runs, one folder each."""
    key = hashlib.sha1(str(Path(working).resolve()).encode()).hexdigest()[:12]
    return f"{base}/salvo-nlp-{key}"


def iter_lake(lake: str, working: str) -> Iterator[str]:
    """Every file under the lake folder of a warehouse (tests and checks: a finished or
    failed stage leaves none)."""
    import pyarrow.fs as pafs

    filesystem, base = lake_filesystem(lake)
    selector = pafs.FileSelector(_warehouse_folder(base, working), recursive=True)
    selector.allow_not_found = True
    for info in filesystem.get_file_info(selector):
        if info.type == pafs.FileType.File:
            yield info.path
