"""Attachment bodies, stored once per content: `attachments/sha256/<2 hex>/<sha256>`.

The body is kept exactly as fetched (PDFs and images are compressed already); beside it
`<sha256>.json` says what is known of it: size, content type, the URL it was first fetched
from, and its extracted text (PDFs) with the extractor that read it, or why there is none.
Both are written once (temp file, fsync, link): a blob is never replaced, so the same
file linked by many posts, or by the same post in many versions, is one file.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .files import AlreadyExists, dump_json, write_once
from .layout import Layout
from .records import AttachmentBlob

BLOB_SCHEMA = 1


def blob_meta(blob: AttachmentBlob) -> dict[str, Any]:
    """The `<sha256>.json` of a blob."""
    return {"schema_version": BLOB_SCHEMA, "sha256": blob.sha256, "bytes": len(blob.body),
            "content_type": blob.content_type, "first_url": blob.url, "first_fetched_at": blob.fetched_at,
            "text": blob.text, "text_extractor": dict(blob.text_extractor), "text_error": blob.text_error}


def put_blob(layout: Layout, blob: AttachmentBlob) -> bool:
    """Store a blob unless it is there already; True when it was written now."""
    if hashlib.sha256(blob.body).hexdigest() != blob.sha256:
        raise ValueError(f"attachment from {blob.url}: body does not match its sha256")
    path = layout.blob(blob.sha256)
    meta = layout.blob_meta(blob.sha256)
    if path.exists() and meta.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    written = False
    for target, data in ((path, blob.body), (meta, dump_json(blob_meta(blob)))):
        try:
            write_once(target, data)
            written = True
        except AlreadyExists:
            pass  # another writer stored the same content first: the same bytes
    return written


def read_blob_meta(layout: Layout, sha256: str) -> dict[str, Any] | None:
    try:
        return json.loads(layout.blob_meta(sha256).read_text("utf-8"))
    except (OSError, ValueError):
        return None


def stored_blobs(layout: Layout) -> list[str]:
    """The sha256 of every body under attachments/, sorted."""
    root = layout.attachments
    if not root.is_dir():
        return []
    found = []
    for folder in root.iterdir():
        if folder.is_dir():
            found.extend(p.name for p in folder.iterdir() if len(p.name) == 64 and "." not in p.name)
    return sorted(found)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
