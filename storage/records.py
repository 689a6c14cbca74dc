"""The records that cross the storage boundary.

`PostContent` is what a post says (its fields declared once); `Capture` is what a crawler
hands in: one fetch of one post, already extracted; `Snapshot` is one stored version,
exactly as it is written to disk. Both extend PostContent. `Sighting` and `Removal` are
the two observations without a new body. All are plain data: nothing here knows about Scrapy or the file layout.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping, Sequence

SCHEMA_VERSION = 1


@dataclass(frozen=True, kw_only=True)
class PostContent:
    """What the site published in one post, as extracted: declared once, inherited by the
    extractor's result (crawler.extract.ExtractedPage), the capture and the snapshot.

    The first eight fields are the versioned ones (policy.VERSIONED_FIELDS): a change in
    any of them is a new version. The others identify the post and link its translations.
    """

    title: str | None = None
    text: str = ""
    date_published: str | None = None
    date_modified: str | None = None
    author: str | None = None
    categories: Sequence[str] = ()
    tags: Sequence[str] = ()
    canonical_url: str | None = None
    post_id: int | None = None
    language: str | None = None
    shortlink: str | None = None
    alternates: Mapping[str, str] = field(default_factory=dict)  # hreflang -> URL


CONTENT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(PostContent))


def content_fields(record: Any) -> dict[str, Any]:
    """The PostContent fields of any record that has them (an extracted page, a capture,
    a snapshot), as keyword arguments for another: ``Capture(**content_fields(page), ...)``."""
    return {name: getattr(record, name) for name in CONTENT_FIELDS}


@dataclass(frozen=True, kw_only=True)
class Capture(PostContent):
    """One fetch of one post, as the crawler saw and extracted it."""

    url: str  # the URL that was requested
    final_url: str  # after redirects
    http_status: int
    fetched_at: str  # UTC, ISO 8601 ("2026-11-28T13:00:00+00:00")
    site: str  # host the post belongs to (see storage.urls.site_key)
    extractor: dict[str, str] = field(default_factory=dict)  # {"name": ..., "version": ...}
    raw_body: bytes = b""  # the response body exactly as received
    raw_content_type: str | None = None
    run_id: str | None = None
    sources: tuple[str, ...] = ()  # discovery sources that named this post
    language_evidence: dict[str, Any] = field(default_factory=dict)  # how `language` was decided
    decoding: dict[str, Any] = field(default_factory=dict)  # how the raw body was decoded


@dataclass(frozen=True, kw_only=True)
class Sighting:
    """A fetch that confirmed a stored document without a new body (e.g. HTTP 304)."""

    doc_id: str
    url: str
    fetched_at: str
    http_status: int
    run_id: str | None = None
    reason: str = "not-modified"


@dataclass(frozen=True, kw_only=True)
class Removal:
    """A post proved gone: a tombstone version records the evidence."""

    doc_id: str
    evidence: dict[str, Any]  # what the removal check saw (see docs/archive-format.md)
    fetched_at: str
    http_status: int | None
    run_id: str | None = None


@dataclass(frozen=True)
class RawRef:
    """Where the raw response of a version is kept, and how to check it."""

    path: str  # relative to the document folder
    sha256: str  # of the uncompressed body
    bytes: int
    content_type: str | None
    encoding: str = "gzip"


@dataclass(frozen=True, kw_only=True)
class Snapshot(PostContent):
    """One immutable version of one document (the JSON file on disk: every field at the top level)."""

    schema_version: int
    doc_id: str
    version: int
    kind: str  # "new", "edit", "tombstone" (removed), "restored" (back after removal)
    url: str
    final_url: str
    site: str
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
    # Provenance of the reading (absent from snapshots written before they were recorded).
    language_evidence: dict[str, Any] = field(default_factory=dict)
    decoding: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["categories"], data["tags"] = list(self.categories), list(self.tags)
        data["alternates"] = dict(sorted(self.alternates.items()))
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Snapshot:
        raw = data.get("raw")
        values = {name: data.get(name) for name in cls.__dataclass_fields__}
        values["raw"] = RawRef(**raw) if raw else None
        values["text"] = data.get("text") or ""
        values["categories"] = list(data.get("categories") or [])
        values["tags"] = list(data.get("tags") or [])
        values["alternates"] = dict(data.get("alternates") or {})
        values["changed_fields"] = list(data.get("changed_fields") or [])
        values["extractor"] = dict(data.get("extractor") or {})
        values["minor"] = bool(data.get("minor"))
        values["language_evidence"] = dict(data.get("language_evidence") or {})
        values["decoding"] = dict(data.get("decoding") or {})
        return cls(**values)


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
