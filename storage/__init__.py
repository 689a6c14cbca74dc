"""The snapshot store: a plain library (no Scrapy, Twisted, APScheduler or CLI imports).

JSON snapshot files are the source of truth; the SQLite index is a cache rebuilt from them.
"""
from __future__ import annotations

from .errors import (CorruptSnapshot, IndexNotReady, NotAnArchive, ReadOnlyArchive, StorageError, UnknownDocument,
                     UnknownVersion)
from .policy import VERSIONED_FIELDS, decide
from .records import SCHEMA_VERSION, Capture, CaptureResult, DocumentSummary, Snapshot, VersionSummary
from .store import Archive, VerifyReport, document_id

__all__ = [
    "Archive", "Capture", "CaptureResult", "CorruptSnapshot", "DocumentSummary", "IndexNotReady", "NotAnArchive",
    "ReadOnlyArchive",
    "SCHEMA_VERSION", "Snapshot", "StorageError", "UnknownDocument", "UnknownVersion", "VERSIONED_FIELDS",
    "VerifyReport", "VersionSummary", "decide", "document_id",
]
