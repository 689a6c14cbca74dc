"""What changed when: recent changes (feeds, webhooks), a post's URLs over time, the version
current at an instant (Memento), and how many versions of each kind there are.

Pure functions of an index connection (storage/index.py, docs/index.md), like storage.query;
they read only the index, never the snapshot files.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass
from typing import Any

from .query import BadQuery, Filters

# What a version records, as subscribers name it: a tombstone is a removal.
CHANGE_KINDS: dict[str, str] = {"new": "new", "edit": "edit", "tombstone": "removed", "restored": "restored"}
_VERSION_KINDS = {change: kind for kind, change in CHANGE_KINDS.items()}


@dataclass(frozen=True)
class Change:
    """One new version of a document: what a feed entry or a webhook item says."""

    doc_id: str
    version: int
    kind: str  # "new", "edit", "removed", "restored" (CHANGE_KINDS)
    fetched_at: str
    title: str | None
    url: str
    language: str | None
    categories: list[str]
    changed_fields: list[str]
    minor: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def recent_changes(conn: sqlite3.Connection, filters: Filters = Filters(), *, kinds: tuple[str, ...] = (),
                   since: str | None = None, limit: int = 50) -> list[Change]:
    """The newest versions first (by capture time), as changes.

    `kinds` keeps only these CHANGE_KINDS (any of them); `since` only versions captured at
    or after this ISO 8601 instant (as stored: UTC). Language, date and category filters
    apply to each version itself, as in `search --all-versions`.
    Example: ``recent_changes(archive.conn, kinds=("removed",), limit=20)``
    """
    unknown = [k for k in kinds if k not in _VERSION_KINDS]
    if unknown:
        raise BadQuery(f"unknown change kind {unknown[0]!r}; choose among {', '.join(_VERSION_KINDS)}")
    where, params = filters.sql(all_versions=True)
    if kinds:
        where += f" AND v.kind IN ({', '.join('?' * len(kinds))})"
        params += [_VERSION_KINDS[k] for k in kinds]
    if since:
        where += " AND v.fetched_at >= ?"
        params.append(since)
    rows = conn.execute(
        "SELECT v.doc_id, v.version, v.kind, v.fetched_at, v.title, v.url, v.language, v.categories, "
        f"v.changed_fields, v.minor FROM versions v JOIN documents d ON d.doc_id = v.doc_id WHERE {where} "
        "ORDER BY v.fetched_at DESC, v.doc_id, v.version DESC LIMIT ?",
        [*params, limit],
    ).fetchall()
    return [Change(doc_id=r["doc_id"], version=r["version"], kind=CHANGE_KINDS.get(r["kind"], r["kind"]),
                   fetched_at=r["fetched_at"], title=r["title"], url=r["url"], language=r["language"],
                   categories=json.loads(r["categories"]), changed_fields=json.loads(r["changed_fields"]),
                   minor=bool(r["minor"])) for r in rows]


@dataclass(frozen=True)
class UrlSpan:
    """One address a post was listed under, and which of its versions had it."""

    url: str
    first_version: int
    last_version: int
    first_seen: str  # capture time of first_version
    last_seen: str  # capture time of last_version

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def url_history(conn: sqlite3.Connection, doc_id: str) -> list[UrlSpan]:
    """A document's URLs over time, oldest first: one span per run of versions with one URL
    (a slug changed and changed back gives three spans). Empty for an unknown document."""
    spans: list[UrlSpan] = []
    for row in conn.execute("SELECT version, fetched_at, url FROM versions WHERE doc_id = ? ORDER BY version",
                            (doc_id,)):
        if spans and spans[-1].url == row["url"]:
            last = spans[-1]
            spans[-1] = UrlSpan(last.url, last.first_version, row["version"], last.first_seen, row["fetched_at"])
        else:
            spans.append(UrlSpan(row["url"], row["version"], row["version"], row["fetched_at"], row["fetched_at"]))
    return spans


def version_at(conn: sqlite3.Connection, doc_id: str, instant: str | None) -> int | None:
    """The version of a document current at `instant` (ISO 8601, UTC as stored): the last
    one captured at or before it; the first version when the instant is earlier than every
    capture; the latest when `instant` is None. None for an unknown document.

    This is a Memento TimeGate's choice (RFC 7089): the archive's best state for that moment.
    """
    if instant is not None:
        row = conn.execute("SELECT MAX(version) FROM versions WHERE doc_id = ? AND fetched_at <= ?",
                           (doc_id, instant)).fetchone()
        if row[0] is not None:
            return int(row[0])
        row = conn.execute("SELECT MIN(version) FROM versions WHERE doc_id = ?", (doc_id,)).fetchone()
    else:
        row = conn.execute("SELECT MAX(version) FROM versions WHERE doc_id = ?", (doc_id,)).fetchone()
    return int(row[0]) if row[0] is not None else None


def version_kinds(conn: sqlite3.Connection) -> dict[str, int]:
    """How many versions of each CHANGE_KINDS kind the archive holds (removals are tombstones)."""
    counts = {change: 0 for change in _VERSION_KINDS}
    for kind, count in conn.execute("SELECT kind, COUNT(*) FROM versions GROUP BY kind"):
        counts[CHANGE_KINDS.get(kind, kind)] = count
    return counts
