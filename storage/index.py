"""The SQLite index: a cache of the JSON files, for fast listing, lookup and search.

Everything here can be rebuilt from the snapshot files (`reindex`). Writers update the
files first and the index second, so after a crash the index can only lag behind the
files, never run ahead of them; `Archive.verify` catches a lagging index up.
The tables are a documented, read-only public interface (docs/index.md): keep that page
in step with SCHEMA and bump INDEX_SCHEMA whenever a table changes.
"""
from __future__ import annotations

import errno
import json
import os
import sqlite3
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlencode

from .records import DocumentSummary

# Bump when the tables change: an index with another number is rebuilt from the files.
# 2: versions gain language, dates, author, categories, tags, text_id; categories; fulltext (FTS5).
# 3: indexes versions_fetched, versions_kind (newest changes first, of any or one kind),
#    documents_totals (per-language totals); versions_text and documents_latest covering search.
# 4: versions gain cause; attachments (one row per attachment of each version) and the
#    extracted text of each attachment body (attachment_texts, attachment_fulltext).
INDEX_SCHEMA = 4

# The full-text tokenizer. unicode61 folds case for Latin and Cyrillic (Kazakh letters
# included) and keeps ә ғ қ ң ө ұ ү һ і, ё and й distinct letters (its diacritic table
# covers Latin only); remove_diacritics 2 folds Latin accents (é -> e). No stemming: see
# docs/index.md and storage/stemming.py for how inflected Russian and Kazakh words are found.
FTS_TOKENIZE = "unicode61 remove_diacritics 2"

TABLES = f"""
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
    versions INTEGER NOT NULL,     -- number of versions = number of the latest version
    latest_sha256 TEXT NOT NULL,
    first_seen TEXT,
    last_seen TEXT,
    captures INTEGER NOT NULL,
    status TEXT NOT NULL,          -- 'live' or 'removed' (latest version is a tombstone)
    alternates TEXT NOT NULL       -- JSON object: hreflang -> URL, from the latest version
);
CREATE TABLE IF NOT EXISTS versions (
    doc_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    kind TEXT NOT NULL,            -- 'new', 'edit', 'tombstone', 'restored'
    fetched_at TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    changed_fields TEXT NOT NULL,  -- JSON array
    minor INTEGER NOT NULL,
    url TEXT NOT NULL,
    title TEXT,
    language TEXT,
    date_published TEXT,
    date_modified TEXT,
    author TEXT,
    categories TEXT NOT NULL DEFAULT '[]',  -- JSON array
    tags TEXT NOT NULL DEFAULT '[]',        -- JSON array
    text_id INTEGER NOT NULL,      -- rowid of its title and text in fulltext (shared by
                                   -- consecutive versions of a document with the same ones)
    cause TEXT NOT NULL DEFAULT 'site',  -- 'site' or 'extractor' (docs/archive-format.md)
    PRIMARY KEY (doc_id, version)
);
-- The attachments of every version, in page order.
CREATE TABLE IF NOT EXISTS attachments (
    doc_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    position INTEGER NOT NULL,     -- 0, 1, … in the order the post links them
    url TEXT NOT NULL,
    final_url TEXT,
    sha256 TEXT,                   -- NULL when it could not be fetched (error says why)
    bytes INTEGER,
    content_type TEXT,
    label TEXT,                    -- link text or alt text
    error TEXT,
    PRIMARY KEY (doc_id, version, position)
) WITHOUT ROWID;
-- The text extracted from each attachment body (once per content; rowid of its text).
CREATE TABLE IF NOT EXISTS attachment_texts (
    sha256 TEXT PRIMARY KEY,
    text_id INTEGER NOT NULL,      -- rowid in attachment_fulltext
    text_error TEXT                -- why the text is empty (encrypted, broken …), or NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS attachment_fulltext USING fts5(text, tokenize='{FTS_TOKENIZE}');
-- The categories of every version, one row each: filters and facets without JSON.
CREATE TABLE IF NOT EXISTS categories (
    doc_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,            -- as published ("Events", "События")
    key TEXT NOT NULL,             -- casefolded name, for case-insensitive matching
    PRIMARY KEY (doc_id, version, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS aliases (
    url_key TEXT PRIMARY KEY,      -- storage.urls.normalize_url of any URL of the post
    doc_id TEXT NOT NULL
);
-- Title and text of every version (rowid = versions.text_id). Its own content, so
-- snippet() works and the text stays out of the versions table that listings scan.
-- A version with the same title and text as the previous one shares its row.
CREATE VIRTUAL TABLE IF NOT EXISTS fulltext USING fts5(title, text, tokenize='{FTS_TOKENIZE}');
CREATE TRIGGER IF NOT EXISTS versions_delete AFTER DELETE ON versions BEGIN
    DELETE FROM fulltext WHERE rowid = old.text_id
        AND NOT EXISTS (SELECT 1 FROM versions WHERE doc_id = old.doc_id AND text_id = old.text_id);
    DELETE FROM categories WHERE doc_id = old.doc_id AND version = old.version;
    DELETE FROM attachments WHERE doc_id = old.doc_id AND version = old.version;
END;
"""
# Secondary indexes: separate, so a bulk rebuild creates them once, after loading.
INDEXES = """
CREATE INDEX IF NOT EXISTS documents_published ON documents(date_published);
CREATE INDEX IF NOT EXISTS documents_post ON documents(site, post_id);
CREATE INDEX IF NOT EXISTS documents_language ON documents(language, date_published);
CREATE INDEX IF NOT EXISTS documents_last_seen ON documents(last_seen);
CREATE INDEX IF NOT EXISTS documents_versions ON documents(versions);
CREATE INDEX IF NOT EXISTS documents_status ON documents(status);
CREATE INDEX IF NOT EXISTS categories_key ON categories(key);
-- Covering: a search joins every match to its version and that version's document from
-- these two indexes alone, without reading the rows (a third faster on common words).
CREATE INDEX IF NOT EXISTS versions_text ON versions(text_id, doc_id, version);
CREATE INDEX IF NOT EXISTS documents_latest ON documents(doc_id, versions);
-- The newest versions first (the feed of changes, "changed since"), without sorting them all.
CREATE INDEX IF NOT EXISTS versions_fetched ON versions(fetched_at);
CREATE INDEX IF NOT EXISTS versions_kind ON versions(kind, fetched_at);
-- Per-language documents, versions and removals from the index alone (facets, /metrics).
CREATE INDEX IF NOT EXISTS documents_totals ON documents(language, status, versions);
-- Which versions link an attachment body (search in attachments).
CREATE INDEX IF NOT EXISTS attachments_sha256 ON attachments(sha256);
"""
SCHEMA = TABLES + INDEXES

# Columns of `versions` that version_row fills (text_id is assigned when the text is stored).
VERSION_COLUMNS: tuple[str, ...] = (
    "doc_id", "version", "kind", "fetched_at", "content_sha256", "changed_fields", "minor", "url", "title",
    "language", "date_published", "date_modified", "author", "categories", "tags", "cause",
)
ATTACHMENT_COLUMNS: tuple[str, ...] = (
    "doc_id", "version", "position", "url", "final_url", "sha256", "bytes", "content_type", "label", "error",
)
INSERT_ATTACHMENT = (f"INSERT OR REPLACE INTO attachments ({', '.join(ATTACHMENT_COLUMNS)}) "
                     f"VALUES ({', '.join('?' * len(ATTACHMENT_COLUMNS))})")
INSERT_VERSION = (f"INSERT INTO versions ({', '.join(VERSION_COLUMNS)}, text_id) "
                  f"VALUES ({', '.join('?' * len(VERSION_COLUMNS))}, ?)")
DOCUMENT_COLUMNS: tuple[str, ...] = (
    "doc_id", "site", "post_id", "language", "url", "title", "date_published", "date_modified", "author",
    "categories", "tags", "versions", "latest_sha256", "first_seen", "last_seen", "captures", "status", "alternates",
)


def disk_full(exc: BaseException) -> bool:
    """Whether an error of SQLite (or the OS) says the disk is full."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    return isinstance(exc, sqlite3.OperationalError) and "disk is full" in str(exc)


def uri(path: Path, **params: str) -> str:
    """An SQLite `file:` URI for `path`, escaped: an archive path may hold `#`, `?`, `%`,
    spaces or any letter (unescaped, `#` and `?` cut the name short and `%20` is decoded)."""
    return Path(path).absolute().as_uri() + ("?" + urlencode(params) if params else "")


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection to the index: a writer's (WAL mode), or `readonly` (see open_readonly)."""
    if readonly:
        return open_readonly(path)[0]
    conn = sqlite3.connect(path, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    # 16 MiB of page cache (the default is 2 MiB): a crawl's writer keeps the full-text and
    # index pages it updates in memory instead of reading them back from the file.
    conn.execute("PRAGMA cache_size=-16384")
    conn.row_factory = sqlite3.Row
    return conn


def open_readonly(path: Path) -> tuple[sqlite3.Connection, bool]:
    """A read-only connection (SQLite `mode=ro`: it never writes the file and sees a
    writer's committed rows), and whether it had to be opened `immutable`.

    In a folder this process cannot write (read-only media, another user's archive) a WAL
    database whose `-shm` file is absent cannot be opened `mode=ro`: SQLite would have to
    create that file. Then no writer has the index open (a writer keeps `-shm` while it
    does), and it is opened `immutable=1`, which reads the file as it is, without shared
    memory; Archive reopens it normally once a writer appears (the `-shm` file exists).
    """
    try:
        conn = sqlite3.connect(uri(path, mode="ro"), uri=True, timeout=30)
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1")
        immutable = False
    except sqlite3.OperationalError:
        if not unwritable(Path(path).parent):
            raise
        conn = sqlite3.connect(uri(path, mode="ro", immutable="1"), uri=True, timeout=30)
        immutable = True
    conn.row_factory = sqlite3.Row
    return conn, immutable


def unwritable(folder: Path) -> bool:
    """Whether this process cannot create files in `folder` (read-only media, permissions)."""
    return not os.access(folder, os.W_OK)


def create(conn: sqlite3.Connection) -> None:
    # 16 KiB pages: the full text's rows are a few KiB; about a sixth faster to build and
    # smaller than with 4 KiB. Takes effect only in a new file (a rebuild), before WAL.
    conn.execute("PRAGMA page_size = 16384")
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
    # "Seen" means the post answered; a removal check that found it gone is not a sighting.
    seen = sorted(c["fetched_at"] for c in captures if c.get("fetched_at") and c.get("outcome") != "removed")
    return {
        "doc_id": doc_id,
        "site": latest.get("site") or "",
        "post_id": latest.get("post_id"),
        "language": latest.get("language"),
        "url": snapshot_url(latest),
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


def document_row_after(doc_id: str, latest: dict[str, Any], previous: Any,
                       capture_line: dict[str, Any] | None) -> dict[str, Any]:
    """`document_row` of a document whose previous row is `previous` (versions, captures,
    first_seen, last_seen) and whose capture log has grown by `capture_line`, without
    reading the log again. Only for a previous row that counts at least one capture."""
    row = document_row(doc_id, latest, latest["version"], [])
    first, last, captures = previous["first_seen"], previous["last_seen"], previous["captures"]
    if capture_line is not None:
        captures += 1
        seen = capture_line.get("fetched_at")
        if seen and capture_line.get("outcome") != "removed":
            first, last = min(filter(None, (first, seen))), max(filter(None, (last, seen)))
    row.update(first_seen=first, last_seen=last, captures=captures)
    return row


def snapshot_url(snapshot: dict[str, Any]) -> str:
    """The address a snapshot is listed under: canonical, else where the fetch ended, else asked."""
    return snapshot.get("canonical_url") or snapshot.get("final_url") or snapshot.get("url") or ""


def version_row(snapshot: dict[str, Any]) -> dict[str, Any]:
    """What the index keeps of one snapshot: the versions row (with its categories) and its full text."""
    return {
        "doc_id": snapshot["doc_id"],
        "version": snapshot["version"],
        "kind": snapshot.get("kind") or "new",
        "fetched_at": snapshot["fetched_at"],
        "content_sha256": snapshot["content_sha256"],
        "changed_fields": json.dumps(snapshot.get("changed_fields") or []),
        "minor": int(bool(snapshot.get("minor"))),
        "url": snapshot_url(snapshot),
        "title": snapshot.get("title"),
        "language": snapshot.get("language"),
        "date_published": snapshot.get("date_published"),
        "date_modified": snapshot.get("date_modified"),
        "author": snapshot.get("author"),
        "categories": json.dumps(snapshot.get("categories") or [], ensure_ascii=False),
        "tags": json.dumps(snapshot.get("tags") or [], ensure_ascii=False),
        "cause": snapshot.get("cause") or "site",
        # Not columns of `versions`: put_version sends the text to fulltext, the
        # attachments to their table.
        "text": snapshot.get("text") or "",
        "attachments": attachment_rows(snapshot),
    }


def attachment_rows(snapshot: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The attachments rows of one snapshot, in ATTACHMENT_COLUMNS order."""
    return [(snapshot["doc_id"], snapshot["version"], position, a.get("url") or "", a.get("final_url"), a.get("sha256"),
             a.get("bytes"), a.get("content_type"), a.get("label"), a.get("error"))
            for position, a in enumerate(snapshot.get("attachments") or [])]


def put_attachment_text(conn: sqlite3.Connection, sha256: str, text: str, error: str | None) -> None:
    """The extracted text of one attachment body, once (a body already indexed is kept)."""
    if conn.execute("SELECT 1 FROM attachment_texts WHERE sha256 = ?", (sha256,)).fetchone():
        return
    text_id = conn.execute("INSERT INTO attachment_fulltext (text) VALUES (?)", (text,)).lastrowid
    conn.execute("INSERT INTO attachment_texts (sha256, text_id, text_error) VALUES (?, ?, ?)", (sha256, text_id, error))


def _insert(conn: sqlite3.Connection, table: str, row: dict[str, Any]) -> None:
    names = ", ".join(row)
    marks = ", ".join(f":{name}" for name in row)
    conn.execute(f"INSERT OR REPLACE INTO {table} ({names}) VALUES ({marks})", row)


def put_document(conn: sqlite3.Connection, row: dict[str, Any]) -> None:
    _insert(conn, "documents", row)


def put_version(conn: sqlite3.Connection, row: dict[str, Any]) -> None:
    """Insert or replace one version: its versions row, its categories and its full text.

    The text is stored once for consecutive versions with the same title and text (an
    edit of the dates, categories or tags only), so the full-text index does not grow.
    """
    doc_id, version = row["doc_id"], row["version"]
    conn.execute("DELETE FROM versions WHERE doc_id = ? AND version = ?", (doc_id, version))
    title, text = row.get("title") or "", row.get("text") or ""
    previous = conn.execute(
        "SELECT f.rowid, f.title, f.text FROM versions v JOIN fulltext f ON f.rowid = v.text_id "
        "WHERE v.doc_id = ? AND v.version = ?", (doc_id, version - 1)
    ).fetchone()
    if previous is not None and (previous[1], previous[2]) == (title, text):
        text_id = previous[0]
    else:
        text_id = conn.execute("INSERT INTO fulltext (title, text) VALUES (?, ?)", (title, text)).lastrowid
    conn.execute(INSERT_VERSION, (*(row[c] for c in VERSION_COLUMNS), text_id))
    conn.executemany("INSERT OR IGNORE INTO categories (doc_id, version, name, key) VALUES (?, ?, ?, ?)",
                     category_rows(row))
    conn.executemany(INSERT_ATTACHMENT, row.get("attachments") or [])


def category_rows(row: dict[str, Any]) -> list[tuple[str, int, str, str]]:
    """The categories rows of a version_row."""
    return [(row["doc_id"], row["version"], name, label_key(name))
            for name in json.loads(row["categories"]) if isinstance(name, str) and name]


def label_key(name: str) -> str:
    """How a category is matched: case-insensitively (casefold, any script), spaces collapsed."""
    return " ".join(name.casefold().split())


def put_aliases(conn: sqlite3.Connection, doc_id: str, url_keys: Iterable[str]) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO aliases (url_key, doc_id) VALUES (?, ?)",
        [(key, doc_id) for key in url_keys if key],
    )


def document_summary(row: sqlite3.Row) -> DocumentSummary:
    """A documents row as the record `list` prints."""
    return DocumentSummary(
        doc_id=row["doc_id"], site=row["site"], post_id=row["post_id"], language=row["language"],
        url=row["url"], title=row["title"], date_published=row["date_published"],
        date_modified=row["date_modified"], versions=row["versions"],
        first_seen=row["first_seen"], last_seen=row["last_seen"], status=row["status"],
        author=row["author"], categories=json.loads(row["categories"]), tags=json.loads(row["tags"]),
        captures=row["captures"],
    )


def touch_document(conn: sqlite3.Connection, doc_id: str, fetched_at: str) -> None:
    conn.execute(
        "UPDATE documents SET last_seen = MAX(COALESCE(last_seen, ''), ?), captures = captures + 1 WHERE doc_id = ?",
        (fetched_at, doc_id),
    )
