"""The documents the archive already holds, as the frontier sees them: by id, post and URL.

Loaded once per run from the index (crawler/session.py); plain data afterwards.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Mapping

from storage.urls import normalize_url, shortlink_post_id, site_key


@dataclass(frozen=True)
class Known:
    doc_id: str
    site: str
    post_id: int | None
    language: str | None
    url: str  # the address it is listed under (canonical, else final)
    status: str  # "live" or "removed"
    date_published: str | None = None
    last_seen: str | None = None
    text_length: int | None = None  # of the latest version's text

    @property
    def removed(self) -> bool:
        return self.status == "removed"

    @property
    def post_key(self) -> str | None:
        return post_key(self.site, self.post_id) if self.post_id is not None else None


MAX_POST_ID = 2**63 - 1  # SQLite's INTEGER (and MySQL's BIGINT UNSIGNED holds more, but no site has that many)


def valid_post_id(value: object) -> bool:
    """Whether a claimed post id can be a WordPress post's: a positive integer SQLite holds."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_POST_ID


def post_key(site: str, post_id: int) -> str:
    """How signals and listings name a post: "site:id" (post ids are per site)."""
    return f"{site}:{post_id}"


class KnownDocuments:
    def __init__(self, documents: Iterable[Known] = (), aliases: Mapping[str, str] | None = None) -> None:
        self._by_id = {doc.doc_id: doc for doc in documents}
        self._by_post = {(d.site, d.post_id): d for d in self._by_id.values() if d.post_id is not None}
        self._aliases = dict(aliases or {})  # normalize_url key -> doc_id
        for doc in self._by_id.values():
            self._aliases.setdefault(normalize_url(doc.url), doc.doc_id)

    def __iter__(self) -> Iterator[Known]:
        return iter(sorted(self._by_id.values(), key=lambda d: d.doc_id))

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, doc_id: str | None) -> Known | None:
        return self._by_id.get(doc_id) if doc_id else None

    def by_post(self, site: str, post_id: int | None) -> Known | None:
        return self._by_post.get((site, post_id)) if post_id is not None else None

    def by_url(self, url: str) -> Known | None:
        """The document any URL of it names: permalink, old URL, final URL or shortlink."""
        doc_id = self._aliases.get(normalize_url(url))
        if doc_id:
            return self._by_id.get(doc_id)
        post_id = shortlink_post_id(url)
        return self.by_post(site_key(url), post_id) if post_id is not None else None

    def find(self, url: str | None = None, site: str | None = None, post_id: int | None = None) -> Known | None:
        """By post id first (the stable identity), then by URL."""
        if site is not None and post_id is not None:
            found = self.by_post(site, post_id)
            if found:
                return found
        return self.by_url(url) if url else None
