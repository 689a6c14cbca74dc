"""The SQLite index: a cache of the JSON files, for fast listing and lookup.

Everything here can be rebuilt from the snapshot files (`reindex`). Writers update the
files first and the index second, so after a crash the index can only lag behind the
files, never run ahead of them; `Archive.verify` catches a lagging index up.
The tables are a documented, read-only public interface (docs/index.md).
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, Iterable

# Bump when the tables change: an index with another number is rebuilt from the files.
INDEX_SCHEMA = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    post_id INTEGER,
    language TEXT,
    url TEXT NOT NULL,
    title TEXT,
    date_published TEXT,
    date_modified TEXT,
    author TEXT,
    categories TEXT NOT NULL,      -- JSON array
    tags TEXT NOT NULL,            -- JSON array
    versions INTEGER NOT NULL,
    latest_sha256 TEXT NOT NULL,
    first_seen TEXT,
    last_seen TEXT,
    captures INTEGER NOT NULL,
    status TEXT NOT NULL,          -- 'live' or 'removed' (latest version is a tombstone)
    alternates TEXT NOT NULL       -- JSON object: hreflang -> URL, from the latest version
);
CREATE INDEX IF NOT EXISTS documents_published ON documents(date_published);
CREATE INDEX IF NOT EXISTS documents_post ON documents(site, post_id);
CREATE TABLE IF NOT EXISTS versions (
    doc_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    kind TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    changed_fields TEXT NOT NULL,  -- JSON array
    minor INTEGER NOT NULL,
    url TEXT NOT NULL,
    title TEXT,
    PRIMARY KEY (doc_id, version)
);
CREATE TABLE IF NOT EXISTS aliases (
    url_key TEXT PRIMARY KEY,      -- storage.urls.normalize_url of any URL of the post
    doc_id TEXT NOT NULL
);
"""


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    else:
        conn = sqlite3.connect(path, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.row_factory = sqlite3.Row
    return conn


def create(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('index_schema', ?)", (str(INDEX_SCHEMA),))
    conn.commit()


def schema_of(conn: sqlite3.Connection) -> int | None:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key='index_schema'").fetchone()
    except sqlite3.DatabaseError:
        return None
    return int(row[0]) if row else None


def document_row(doc_id: str, latest: dict[str, Any], versions: int, captures: list[dict[str, Any]]) -> dict[str, Any]:
    """The documents row for a document, derived from its latest snapshot and capture log."""
    seen = sorted(c["fetched_at"] for c in captures if c.get("fetched_at"))
    return {
        "doc_id": doc_id,
        "site": latest.get("site") or "",
        "post_id": latest.get("post_id"),
        "language": latest.get("language"),
        "url": latest.get("canonical_url") or latest.get("final_url") or latest.get("url") or "",
        "title": latest.get("title"),
        "date_published": latest.get("date_published"),
        "date_modified": latest.get("date_modified"),
        "author": latest.get("author"),
        "categories": json.dumps(latest.get("categories") or [], ensure_ascii=False),
        "tags": json.dumps(latest.get("tags") or [], ensure_ascii=False),
        "versions": versions,
        "latest_sha256": latest.get("content_sha256") or "",
        "first_seen": seen[0] if seen else latest.get("fetched_at"),
        "last_seen": seen[-1] if seen else latest.get("fetched_at"),
        "captures": len(captures),
        "status": "removed" if latest.get("kind") == "tombstone" else "live",
        "alternates": json.dumps(latest.get("alternates") or {}, ensure_ascii=False, sort_keys=True),
    }


def version_row(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {
        "doc_id": snapshot["doc_id"],
        "version": snapshot["version"],
        "kind": snapshot.get("kind") or "new",
        "fetched_at": snapshot["fetched_at"],
        "content_sha256": snapshot["content_sha256"],
        "changed_fields": json.dumps(snapshot.get("changed_fields") or []),
        "minor": int(bool(snapshot.get("minor"))),
        "url": snapshot.get("canonical_url") or snapshot.get("final_url") or snapshot.get("url") or "",
        "title": snapshot.get("title"),
    }


def _insert(conn: sqlite3.Connection, table: str, row: dict[str, Any]) -> None:
    names = ", ".join(row)
    marks = ", ".join(f":{name}" for name in row)
    conn.execute(f"INSERT OR REPLACE INTO {table} ({names}) VALUES ({marks})", row)


def put_document(conn: sqlite3.Connection, row: dict[str, Any]) -> None:
    _insert(conn, "documents", row)


def put_version(conn: sqlite3.Connection, row: dict[str, Any]) -> None:
    _insert(conn, "versions", row)


def put_aliases(conn: sqlite3.Connection, doc_id: str, url_keys: Iterable[str]) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO aliases (url_key, doc_id) VALUES (?, ?)",
        [(key, doc_id) for key in url_keys if key],
    )


def touch_document(conn: sqlite3.Connection, doc_id: str, fetched_at: str) -> None:
    conn.execute(
        "UPDATE documents SET last_seen = MAX(COALESCE(last_seen, ''), ?), captures = captures + 1 WHERE doc_id = ?",
        (fetched_at, doc_id),
    )
