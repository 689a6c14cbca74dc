"""The records that cross the storage boundary.

`Capture` is what a crawler hands in: one fetch of one post, already extracted.
`Snapshot` is one stored version, exactly as it is written to disk.
Both are plain data: nothing here knows about Scrapy or the file layout.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Capture:
    """One fetch of one post, as the crawler saw and extracted it."""

    url: str  # the URL that was requested
    final_url: str  # after redirects
    http_status: int
    fetched_at: str  # UTC, ISO 8601 ("2026-11-28T13:00:00+00:00")
    site: str  # host the post belongs to (see storage.urls.site_key)
    post_id: int | None
    language: str | None
    canonical_url: str | None
    shortlink: str | None
    title: str | None
    text: str
    date_published: str | None
    date_modified: str | None
    author: str | None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    alternates: dict[str, str] = field(default_factory=dict)  # hreflang -> URL
    extractor: dict[str, str] = field(default_factory=dict)  # {"name": ..., "version": ...}
    raw_body: bytes = b""  # the response body exactly as received
    raw_content_type: str | None = None
    run_id: str | None = None
    sources: tuple[str, ...] = ()  # discovery sources that named this post


@dataclass(frozen=True)
class RawRef:
    """Where the raw response of a version is kept, and how to check it."""

    path: str  # relative to the document folder
    sha256: str  # of the uncompressed body
    bytes: int
    content_type: str | None
    encoding: str = "gzip"


@dataclass(frozen=True)
class Snapshot:
    """One immutable version of one document (the JSON file on disk)."""

    schema_version: int
    doc_id: str
    version: int
    kind: str  # "new", "edit", "tombstone" (removed), "restored" (back after removal)
    url: str
    final_url: str
    canonical_url: str | None
    shortlink: str | None
    post_id: int | None
    language: str | None
    site: str
    title: str | None
    date_published: str | None
    date_modified: str | None
    author: str | None
    categories: list[str]
    tags: list[str]
    text: str
    alternates: dict[str, str]
    content_sha256: str
    fetched_at: str
    http_status: int
    extractor: dict[str, str]
    raw: RawRef | None
    previous_version: int | None
    changed_fields: list[str]
    minor: bool
    run_id: str | None
    # Only on tombstones (kind "tombstone"): why the post counts as removed.
    removal: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Snapshot:
        raw = data.get("raw")
        fields = {name: data.get(name) for name in cls.__dataclass_fields__}
        fields["raw"] = RawRef(**raw) if raw else None
        fields["categories"] = list(data.get("categories") or [])
        fields["tags"] = list(data.get("tags") or [])
        fields["alternates"] = dict(data.get("alternates") or {})
        fields["changed_fields"] = list(data.get("changed_fields") or [])
        fields["minor"] = bool(data.get("minor"))
        return cls(**fields)


@dataclass(frozen=True)
class CaptureResult:
    """What recording a capture did."""

    doc_id: str
    outcome: str  # "new-document", "new-version", "restored", "removed", "unchanged"
    version: int
    changed_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class DocumentSummary:
    """One row of the listing (from the index)."""

    doc_id: str
    site: str
    post_id: int | None
    language: str | None
    url: str
    title: str | None
    date_published: str | None
    date_modified: str | None
    versions: int
    first_seen: str | None
    last_seen: str | None
    status: str
    author: str | None = None
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    captures: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class VersionSummary:
    """One row of a document's history (from the index)."""

    doc_id: str
    version: int
    kind: str
    fetched_at: str
    content_sha256: str
    changed_fields: list[str]
    minor: bool
    url: str
    title: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
