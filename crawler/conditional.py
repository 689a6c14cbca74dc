"""Conditional requests: the validators a server sent, to send back on the next request.

Pure bookkeeping (the Scrapy side is `crawler.middlewares.ConditionalRequestsMiddleware`),
kept apart from the crawl's decisions as Scrapy keeps its HTTP-cache policy apart from the
spider. Saved between runs as ARCHIVE/state/validators.json.
"""
from __future__ import annotations

from typing import Any, Mapping

from storage.urls import normalize_url


class Validators:
    """`ETag` and `Last-Modified` by URL, sent back exactly as received."""

    def __init__(self, entries: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self._entries: dict[str, dict[str, str | None]] = {
            str(key): {"etag": value.get("etag"), "last_modified": value.get("last_modified")}
            for key, value in (entries or {}).items()
        }

    def headers(self, url: str) -> dict[str, str]:
        """The conditional headers for a request of `url` ({} when the server sent none)."""
        saved = self._entries.get(normalize_url(url), {})
        headers = {}
        if saved.get("etag"):
            headers["If-None-Match"] = str(saved["etag"])
        if saved.get("last_modified"):
            headers["If-Modified-Since"] = str(saved["last_modified"])
        return headers

    def remember(self, url: str, etag: str | None, last_modified: str | None) -> None:
        """What a full (200) answer carried; an answer without validators forgets the old ones."""
        key = normalize_url(url)
        if etag or last_modified:
            self._entries[key] = {"etag": etag, "last_modified": last_modified}
        else:
            self._entries.pop(key, None)

    def forget(self, url: str) -> None:
        self._entries.pop(normalize_url(url), None)

    def to_json(self) -> dict[str, dict[str, str | None]]:
        return dict(sorted(self._entries.items()))

    def __len__(self) -> int:
        return len(self._entries)
