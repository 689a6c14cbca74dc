"""Exports: the snapshot files streamed as JSON Lines or CSV, and written to a file with
its manifest.

An export reads the snapshot files themselves, the source of truth, in the order the
index gives, so a corrupt file is reported and skipped without stopping the others. A file
export is written like every durable file here: temp file, fsync, rename, and its manifest
the same way, so a crash leaves either the old file or the whole new one.
"""
from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import stat
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Iterator

from .errors import StorageError, UnknownVersion
from .files import atomic_output, dump_json
from .layout import snapshot_name
from .query import BadQuery, Filters
from .records import SCHEMA_VERSION
from .snapshots import read_snapshot
from .workers import cpu_count, ordered_map, prefetch

if TYPE_CHECKING:
    from .store import Archive

logger = logging.getLogger(__name__)

EXPORT_FORMATS = ("jsonl", "csv")
# CSV columns, in this order, always: the snapshot fields of docs/archive-format.md, with
# arrays joined by "; ", alternates as "lang=url; …", raw and warc flattened to two columns
# each, attachments as "url sha256; …".
CSV_COLUMNS: tuple[str, ...] = (
    "doc_id", "version", "kind", "previous_version", "changed_fields", "minor", "post_id", "language", "site",
    "title", "date_published", "date_modified", "author", "categories", "tags", "url", "final_url",
    "canonical_url", "shortlink", "alternates", "content_sha256", "fetched_at", "http_status", "extractor",
    "raw_path", "raw_sha256", "run_id", "schema_version", "cause", "previous_sha256", "warc_file", "warc_offset",
    "attachments", "text",
)
LIST_SEPARATOR = "; "


@dataclass
class ExportResult:
    count: int = 0
    skipped: list[str] = field(default_factory=list)
    sha256: str = ""
    bytes: int = 0


def export_keys(conn: sqlite3.Connection, filters: Filters = Filters(), *, all_versions: bool = False,
                page: int = 2000) -> Iterator[tuple[str, int]]:
    """(doc_id, version) of what an export holds, in doc_id then version order.

    Read in pages (keyset pagination), so memory stays flat and no read transaction stays
    open while the files are read.
    """
    where, params = filters.sql(all_versions=all_versions)
    if all_versions:
        sql = (f"SELECT v.doc_id, v.version FROM versions v JOIN documents d ON d.doc_id = v.doc_id "
               f"WHERE {where} AND (v.doc_id, v.version) > (?, ?) ORDER BY v.doc_id, v.version LIMIT ?")
    else:
        sql = (f"SELECT d.doc_id, d.versions FROM documents d "
               f"WHERE {where} AND (d.doc_id, d.versions) > (?, ?) ORDER BY d.doc_id LIMIT ?")
    after: tuple[str, int] = ("", 0)
    while True:
        rows = conn.execute(sql, [*params, *after, page]).fetchall()
        for row in rows:
            yield row[0], row[1]
        if len(rows) < page:
            return
        after = (rows[-1][0], rows[-1][1])


def compact_line(raw: bytes) -> bytes:
    """A valid JSON document (as the snapshot files are) on one line.

    JSON strings never contain a raw line break, so every line break, and the indentation
    after it, lies between tokens: removing them keeps the same value.
    """
    return b"".join(line.strip() for line in raw.splitlines()) + b"\n"


def _joined(values: Any) -> str:
    return LIST_SEPARATOR.join(str(v) for v in values or ())


def csv_row(snapshot: dict[str, Any]) -> list[Any]:
    """One snapshot as a CSV row, in CSV_COLUMNS order (spelled out: this runs per version)."""
    get = snapshot.get
    raw = get("raw") or {}
    warc = get("warc") or {}
    extractor = get("extractor") or {}
    return [
        get("doc_id"), get("version"), get("kind"), get("previous_version"), _joined(get("changed_fields")),
        "true" if get("minor") else "false", get("post_id"), get("language"), get("site"), get("title"),
        get("date_published"), get("date_modified"), get("author"), _joined(get("categories")),
        _joined(get("tags")), get("url"), get("final_url"), get("canonical_url"), get("shortlink"),
        _joined(f"{k}={v}" for k, v in sorted((get("alternates") or {}).items())),
        get("content_sha256"), get("fetched_at"), get("http_status"),
        " ".join(str(extractor[k]) for k in ("name", "version") if extractor.get(k)),
        raw.get("path"), raw.get("sha256"), get("run_id"), get("schema_version"), get("cause") or "site",
        get("previous_sha256"), warc.get("file"), warc.get("offset"),
        _joined(f"{a.get('url')} {a.get('sha256') or '-'}" for a in get("attachments") or ()), get("text"),
    ]


class _Sink:
    """Writes to a binary stream in blocks of about 64 KiB, hashing and counting the bytes."""

    def __init__(self, target: BinaryIO) -> None:
        self.target = target
        self.digest = hashlib.sha256()
        self.size = 0
        self.pending: list[bytes] = []
        self.pending_size = 0

    def write(self, data: bytes) -> None:
        self.pending.append(data)
        self.pending_size += len(data)
        if self.pending_size >= 1 << 16:
            self.flush(sync=False)

    def flush(self, sync: bool = True) -> None:
        block = self.pending[0] if len(self.pending) == 1 else b"".join(self.pending)
        self.pending, self.pending_size = [], 0
        if block:
            self.target.write(block)
            self.digest.update(block)
            self.size += len(block)
        if sync:
            self.target.flush()


def csv_line(values: list[Any] | tuple[Any, ...]) -> bytes:
    """One CSV record, UTF-8: every field quoted, inner quotes doubled (RFC 4180), so line
    breaks in a text stay inside its field; None is empty; "\n" ends the record."""
    return (",".join(['"' + ("" if v is None else str(v)).replace('"', '""') + '"' for v in values])
            + "\n").encode("utf-8")


def _csv_record(raw: bytes, data: dict[str, Any]) -> bytes:
    return csv_line(csv_row(data))


_EXPORT_CHUNK = 64  # versions per piece of work given to a worker process


def _default_workers() -> int:
    count = cpu_count()
    return count if count > 1 else 0


def encode_chunk(context: dict[str, str], keys: list[list[Any]]) -> tuple[bytes, int, list[str]]:
    """Read and encode some snapshots (the task a worker process runs): the lines or CSV
    records as one block, how many, and why any file could not be read."""
    encode: Callable[[bytes, dict[str, Any]], bytes]
    if context["fmt"] == "csv":
        encode = _csv_record
    else:
        encode = lambda raw, data: compact_line(raw)  # noqa: E731 - the file's own bytes
    lines: list[bytes] = []
    errors: list[str] = []
    prefetch(os.path.join(context["documents"], doc_id, snapshot_name(version)) for doc_id, version in keys)
    for doc_id, version in keys:
        try:
            raw, data = read_snapshot(context["documents"], doc_id, version)
        except UnknownVersion:
            path = os.path.join(context["documents"], doc_id, snapshot_name(version))
            errors.append(f"{path}: missing (the index lists it; run `kisi-archive verify`)")
            continue
        except StorageError as exc:
            errors.append(str(exc))
            continue
        lines.append(encode(raw, data))
    return b"".join(lines), len(lines), errors


def export(archive: Archive, sink: BinaryIO, fmt: str = "jsonl", filters: Filters = Filters(), *,
           all_versions: bool = False, on_skip: Callable[[str], None] | None = None,
           workers: int | None = None) -> ExportResult:
    """Stream snapshots to `sink` as JSON Lines or CSV, in doc_id then version order.

    JSON Lines: each line is the snapshot file's JSON, compact, fields as documented in
    docs/archive-format.md. CSV: a header, then CSV_COLUMNS. A file that cannot be read is
    reported through `on_skip` and in `ExportResult.skipped`; the export goes on.
    The files are read and encoded by `workers` child processes (default: one per CPU;
    storage.workers), a few hundred versions at a time, so memory stays flat.
    Example: ``export(archive, sys.stdout.buffer, "csv", Filters(languages=("kk",)))``
    """
    if fmt not in EXPORT_FORMATS:
        raise BadQuery(f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    result = ExportResult()
    out = _Sink(sink)
    if fmt == "csv":
        out.write(csv_line(CSV_COLUMNS))
    keys = export_keys(archive.conn, filters, all_versions=all_versions)
    chunks = iter(lambda: list(islice(keys, _EXPORT_CHUNK)), [])
    context = {"documents": str(archive.layout.documents), "fmt": fmt}
    workers = _default_workers() if workers is None else workers
    for block, count, errors in ordered_map("export-lines", context, chunks, workers=workers, inflight=2):
        out.write(block)
        result.count += count
        for error in errors:
            result.skipped.append(error)
            if on_skip:
                on_skip(error)
    out.flush()
    result.sha256 = out.digest.hexdigest()
    result.bytes = out.size
    return result


class ExportTargetError(StorageError):
    """The export cannot be written where it was asked (the message says why)."""


def manifest_path(out: Path) -> Path:
    return out.with_name(out.name + ".manifest.json")


def check_target(out: Path) -> None:
    """An export replaces only a regular file (or creates one): never a device, a FIFO, a
    directory, or whatever a symbolic link points to."""
    try:
        info = os.lstat(out)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise ExportTargetError(f"{out} is a symbolic link; name the file itself")
    if not stat.S_ISREG(info.st_mode):
        raise ExportTargetError(f"{out} exists and is not a regular file; choose another path")


def export_to_file(archive: Archive, out: Path, fmt: str = "jsonl", filters: Filters = Filters(), *,
                   all_versions: bool = False, on_skip: Callable[[str], None] | None = None,
                   generator: str = "kisi-archive") -> tuple[ExportResult, dict[str, Any]]:
    """Export into `out` (atomically, fsynced) and write `out.manifest.json` beside it (the
    same way); returns the result and the manifest. Example:
    ``export_to_file(archive, Path("all.csv"), "csv", all_versions=True)``
    """
    check_target(out)
    check_target(manifest_path(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(out) as handle:
        result = export(archive, handle, fmt, filters, all_versions=all_versions, on_skip=on_skip)
    manifest = {
        "file": out.name,
        "format": fmt,
        "count": result.count,
        "bytes": result.bytes,
        "sha256": result.sha256,
        "all_versions": all_versions,
        "filters": filters.to_json(),
        "schema_version": SCHEMA_VERSION,
        "columns": list(CSV_COLUMNS) if fmt == "csv" else None,
        "skipped": result.skipped,
        "archive": str(archive.root.resolve()),
        "created_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "generator": generator,
    }
    with atomic_output(manifest_path(out)) as handle:
        handle.write(dump_json(manifest))
    return result, manifest
