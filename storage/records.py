"""The records that cross the storage boundary.

`PostContent` is what a post says (its fields declared once); `Capture` is what a crawler
hands in: one fetch of one post, already extracted; `Snapshot` is one stored version,
exactly as it is written to disk. Both extend PostContent. `Sighting` and `Removal` are
the two observations without a new body; `Reextraction` is a stored raw response read again
by another extractor; `AttachmentBlob` is the body of one attachment, stored by its content.
All are plain data: nothing here knows about Scrapy or the file layout.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping, Sequence

# 2: snapshots gain previous_sha256 (the chain), cause, extractor_before, reextracted_from,
#    warc (the WARC response record) and attachments (a versioned field); see
#    docs/archive-format.md, "Schema 2 and the upgrade from schema 1".
SCHEMA_VERSION = 2
READABLE_SCHEMAS = (1, 2)

# Why a version exists: the site changed what it published, or the archive read the same
# response differently (another extractor, or one that records more, such as attachments).
CAUSE_SITE = "site"
CAUSE_EXTRACTOR = "extractor"


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


@dataclass(frozen=True, kw_only=True)
class WarcRef:
    """Where the HTTP response of a capture is kept: one record of a gzip WARC file of the
    archive (`file` relative to the archive root; offset and length of the gzip member)."""

    file: str
    offset: int
    length: int
    record_id: str  # WARC-Record-ID of the record that holds the payload
    payload_digest: str  # WARC-Payload-Digest ("sha1:<base32>")
    record_type: str = "response"  # "response", or "revisit" (the payload is the refers-to record's)
    refers_to: str | None = None  # revisit: WARC-Record-ID of the response with the payload

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> WarcRef | None:
        if not data:
            return None
        return cls(**{name: data.get(name) for name in cls.__dataclass_fields__ if name in data})


@dataclass(frozen=True, kw_only=True)
class AttachmentRef:
    """One file a post links or embeds (a PDF, an office document, an image), as fetched.

    `sha256` names the stored body (attachments/sha256/<2 hex>/<64 hex>); None when it could
    not be fetched, and `error` then says why (e.g. "HTTP 404", "larger than 100 MB").
    """

    url: str  # as the post links it (absolute)
    final_url: str | None = None  # after redirects
    sha256: str | None = None
    bytes: int | None = None
    content_type: str | None = None
    label: str = ""  # the link text, or the image's alt text
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if data["error"] is None:
            del data["error"]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AttachmentRef:
        return cls(**{name: data.get(name) for name in cls.__dataclass_fields__ if name in data})


@dataclass(frozen=True, kw_only=True)
class AttachmentBlob:
    """The body of one attachment, with its extracted text: stored once per content."""

    sha256: str
    body: bytes
    content_type: str | None
    url: str  # where it was first fetched from
    fetched_at: str
    text: str = ""  # extracted text (PDFs), "" when none
    text_extractor: dict[str, str] = field(default_factory=dict)
    text_error: str | None = None  # why the text is empty (encrypted, broken, not a PDF …)


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
    warc: WarcRef | None = None  # the WARC record of this response, when the crawl wrote one
    attachments: tuple[AttachmentRef, ...] | None = None  # None: not looked for (an older crawler)


@dataclass(frozen=True, kw_only=True)
class Reextraction(PostContent):
    """The raw response of a stored version read again by the installed extractor
    (`kisi-archive reextract`, or a crawl whose extractor differs from the version's)."""

    doc_id: str
    version: int  # the version whose raw response was read
    extractor: dict[str, str]
    fetched_at: str  # when it was read again
    run_id: str | None = None
    language_evidence: dict[str, Any] = field(default_factory=dict)
    decoding: dict[str, Any] = field(default_factory=dict)


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
    # Schema 2. The chain: SHA-256 of the previous version's JSON file, as stored.
    previous_sha256: str | None = None
    cause: str = CAUSE_SITE  # CAUSE_SITE or CAUSE_EXTRACTOR (schema 1: every version was the site's)
    extractor_before: dict[str, str] | None = None  # cause extractor: the previous version's extractor
    reextracted_from: int | None = None  # cause extractor: the version whose raw response was read again
    warc: WarcRef | None = None
    attachments: list[AttachmentRef] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["categories"], data["tags"] = list(self.categories), list(self.tags)
        data["alternates"] = dict(sorted(self.alternates.items()))
        data["warc"] = self.warc.to_json() if self.warc else None
        data["attachments"] = [a.to_json() for a in self.attachments]
        if self.schema_version < 2:
            # A schema-1 snapshot read back: the fields it never had stay out.
            for name in SCHEMA_2_FIELDS:
                data.pop(name, None)
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
        values["cause"] = data.get("cause") or CAUSE_SITE
        values["warc"] = WarcRef.from_json(data.get("warc"))
        values["attachments"] = [AttachmentRef.from_json(a) for a in data.get("attachments") or []]
        values["schema_version"] = int(data.get("schema_version") or 1)
        return cls(**values)


SCHEMA_2_FIELDS = ("previous_sha256", "cause", "extractor_before", "reextracted_from", "warc", "attachments")


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
    cause: str = CAUSE_SITE

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
