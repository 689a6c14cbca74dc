"""Build an empty index from the snapshot files, fast: parallel reading, batched writes.

Reading and parsing the JSON files is done by worker processes (when there are enough
documents and more than one CPU); the calling process only writes, in large batches, into
tables without secondary indexes, which are created once at the end. The rows are exactly
those `index.put_version` / `index.put_document` write one capture at a time.
"""
from __future__ import annotations

import logging
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from . import index as idx
from .blobs import read_blob_meta
from .files import read_lines
from .errors import StorageError
from .layout import Layout
from .snapshots import read_snapshot
from .urls import normalize_url
from .workers import cpu_count, ordered_map, prefetch

logger = logging.getLogger(__name__)

# Below this many documents, starting worker processes costs more than it saves.
PARALLEL_FROM = 2000
_BATCH = 500  # documents per executemany batch
_URL_FIELDS = ("url", "final_url", "canonical_url", "shortlink")


@dataclass(frozen=True)
class DocumentRows:
    """Everything the index holds about one document, as tuples ready to insert (built in
    the worker processes, so the writing process only writes)."""

    doc_id: str
    versions: list[tuple[Any, ...]]  # in index.VERSION_COLUMNS order, oldest first
    texts: list[tuple[str, str]]  # (title, text) of each version
    categories: list[tuple[str, int, str, str]]
    aliases: list[str]
    document: tuple[Any, ...]  # in index.DOCUMENT_COLUMNS order
    attachments: list[tuple[Any, ...]] = field(default_factory=list)  # index.ATTACHMENT_COLUMNS order
    blob_texts: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # sha256 -> (text, error)

    def version_rows(self) -> Iterator[dict[str, Any]]:
        """The versions as index.version_row dicts (for index.put_version)."""
        for values, (title, text) in zip(self.versions, self.texts):
            row = {**dict(zip(idx.VERSION_COLUMNS, values)), "title": title or None, "text": text}
            row["attachments"] = [a for a in self.attachments if a[1] == row["version"]]
            yield row


def document_rows(root: str, doc_id: str) -> DocumentRows | str | None:
    """Read one document's files: its rows, an error message if a file is unusable, or
    None for a folder without any version (an interrupted first write).

    Files are read by storage.snapshots.read_snapshot, the reader every part of storage uses.
    """
    layout = Layout(Path(root))
    try:
        versions = layout.versions_on_disk(doc_id)
    except OSError as exc:
        return f"{doc_id}: unreadable folder ({exc})"
    if not versions:
        return None
    snapshots = []
    for version in versions:
        try:
            snapshots.append(read_snapshot(str(layout.documents), doc_id, version)[1])
        except StorageError as exc:  # unreadable, vanished or not what its name says
            return str(exc)
    captures, _ = read_lines(layout.captures(doc_id))
    urls = {snapshot.get(name) for snapshot in snapshots for name in _URL_FIELDS}
    latest = snapshots[-1]
    rows = [idx.version_row(snapshot) for snapshot in snapshots]
    document = idx.document_row(doc_id, latest, latest["version"], captures)
    attachments = [a for row in rows for a in row["attachments"]]
    blob_texts = {}
    for sha in sorted({a[5] for a in attachments if a[5]}):
        meta = read_blob_meta(layout, sha) or {}
        blob_texts[sha] = (meta.get("text") or "", meta.get("text_error"))
    return DocumentRows(
        doc_id=doc_id,
        versions=[tuple(row[c] for c in idx.VERSION_COLUMNS) for row in rows],
        texts=[(row["title"] or "", row["text"]) for row in rows],
        categories=[category for row in rows for category in idx.category_rows(row)],
        aliases=sorted({normalize_url(url) for url in urls if url}),
        document=tuple(document[c] for c in idx.DOCUMENT_COLUMNS),
        attachments=attachments,
        blob_texts=blob_texts,
    )


_CHUNK = 64  # documents per piece of work given to a worker process


def read_chunk(root: str, doc_ids: list[str]) -> list[DocumentRows | str | None]:
    """document_rows() of some documents (the task a worker process runs)."""
    documents = str(Layout(Path(root)).documents)
    paths = []
    for doc_id in doc_ids:
        folder = os.path.join(documents, doc_id)
        try:
            paths.extend(os.path.join(folder, name) for name in os.listdir(folder) if name.endswith((".json", ".jsonl")))
        except OSError:
            pass  # reported by document_rows
    prefetch(paths)
    return [document_rows(root, doc_id) for doc_id in doc_ids]


def _read_all(root: Path, doc_ids: list[str], workers: int) -> Iterator[DocumentRows | str | None]:
    """document_rows() of every document, in order, read by `workers` child processes
    (storage.workers), or here when there are few documents."""
    chunks = (doc_ids[i:i + _CHUNK] for i in range(0, len(doc_ids), _CHUNK))
    serial_below = max(1, -(-PARALLEL_FROM // _CHUNK))
    for rows in ordered_map("index-rows", str(root), chunks, workers=workers, serial_below=serial_below,
                            inflight=8):
        yield from rows


def default_workers() -> int:
    """Reading processes: one per CPU (the writing process often waits on SQLite, and
    reading is the larger half of the work); none on a single CPU."""
    count = cpu_count()
    return count if count > 1 else 0


def build(conn: sqlite3.Connection, root: Path, doc_ids: Iterable[str], *, workers: int | None = None) -> int:
    """Index every document's files into the index, normally an empty one just created.

    Holds the write lock throughout. Into an empty index, it loads in bulk (tables without
    secondary indexes, created at the end); if another process has already written rows
    (two processes opening an archive without an index at once), it replaces each
    document's rows one by one instead, as `Archive.verify` does when it catches up.
    Documents whose files cannot be read are logged and left out (`verify` names them).
    Returns the number of documents indexed.
    """
    doc_ids = list(doc_ids)
    workers = default_workers() if workers is None else workers
    if conn.in_transaction:
        conn.commit()
    conn.execute("PRAGMA synchronous=OFF")  # a rebuild that dies is simply rebuilt
    conn.execute("PRAGMA cache_size=-65536")
    conn.execute("BEGIN IMMEDIATE")
    count = 0
    try:
        bulk = conn.execute("SELECT NOT EXISTS (SELECT 1 FROM versions) AND NOT EXISTS (SELECT 1 FROM documents)"
                            ).fetchone()[0]
        if bulk:
            for (name,) in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").fetchall():
                conn.execute(f"DROP INDEX {name}")  # faster to build them once, at the end
            _fts_hashsize(conn, 64 << 20)  # fewer, larger segments while loading
        next_id = 1
        batch: list[DocumentRows] = []
        for rows in _read_all(root, doc_ids, workers):
            if rows is None:
                continue
            if isinstance(rows, str):
                logger.error("skipping %s", rows)
                continue
            count += 1
            if not bulk:
                _replace(conn, rows)
                continue
            batch.append(rows)
            if len(batch) >= _BATCH:
                next_id = _write(conn, batch, next_id)
                batch = []
        if bulk:
            _write(conn, batch, next_id)
            for statement in idx.INDEXES.strip().split(";"):
                if statement.strip():
                    conn.execute(statement)
            _fts_hashsize(conn, 1 << 20)  # FTS5's default again, for incremental writes
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.execute("PRAGMA synchronous=NORMAL")
    return count


def _replace(conn: sqlite3.Connection, rows: DocumentRows) -> None:
    conn.execute("DELETE FROM versions WHERE doc_id = ?", (rows.doc_id,))
    for row in rows.version_rows():
        idx.put_version(conn, row)
    idx.put_aliases(conn, rows.doc_id, rows.aliases)
    idx.put_document(conn, dict(zip(idx.DOCUMENT_COLUMNS, rows.document)))
    for sha, (text, error) in rows.blob_texts.items():
        idx.put_attachment_text(conn, sha, text, error)


def _fts_hashsize(conn: sqlite3.Connection, size: int) -> None:
    try:
        conn.execute("INSERT INTO fulltext (fulltext, rank) VALUES ('hashsize', ?)", (size,))
    except sqlite3.OperationalError:  # an SQLite without the option: only slower
        pass


_DOCUMENT_INSERT = (f"INSERT OR REPLACE INTO documents ({', '.join(idx.DOCUMENT_COLUMNS)}) "
                    f"VALUES ({', '.join('?' * len(idx.DOCUMENT_COLUMNS))})")


def _write(conn: sqlite3.Connection, batch: list[DocumentRows], next_id: int) -> int:
    """Insert a batch of documents; text ids from next_id on (as put_version shares them)."""
    versions, texts, categories, aliases, documents, attachments = [], [], [], [], [], []
    for rows in batch:
        previous = None
        for values, text in zip(rows.versions, rows.texts):
            if text != previous:
                texts.append((next_id, *text))
                next_id += 1
                previous = text
            versions.append((*values, next_id - 1))
        categories.extend(rows.categories)
        attachments.extend(rows.attachments)
        for sha, (text, error) in rows.blob_texts.items():
            idx.put_attachment_text(conn, sha, text, error)
        aliases.extend((key, rows.doc_id) for key in rows.aliases)
        documents.append(rows.document)
    conn.executemany(idx.INSERT_VERSION, versions)
    conn.executemany("INSERT INTO fulltext (rowid, title, text) VALUES (?, ?, ?)", texts)
    conn.executemany("INSERT OR IGNORE INTO categories (doc_id, version, name, key) VALUES (?, ?, ?, ?)", categories)
    conn.executemany("INSERT OR REPLACE INTO aliases (url_key, doc_id) VALUES (?, ?)", aliases)
    conn.executemany(_DOCUMENT_INSERT, documents)
    conn.executemany(idx.INSERT_ATTACHMENT, attachments)
    return next_id

