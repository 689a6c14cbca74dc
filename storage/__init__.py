"""The snapshot store: a plain library (no Scrapy, Twisted, APScheduler or CLI imports).

JSON snapshot files are the source of truth; the SQLite index is a cache rebuilt from them.
"""
from __future__ import annotations

# The version of kisi-archive (one number for the whole project: the CLI, the User-Agent,
# the manifests and records it writes). Kept in the lowest layer so every layer can read it.
__version__ = "0.1.0"

from .errors import (CorruptSnapshot, IndexNotReady, NotAnArchive, ReadOnlyArchive, StorageError, UnknownDocument,
                     UnknownVersion)
from .policy import VERSIONED_FIELDS, decide
from .records import (SCHEMA_VERSION, Capture, CaptureResult, DocumentSummary, PostContent, Removal, Sighting, Snapshot,
                      VersionSummary, content_fields)
from .store import Archive, VerifyReport, document_id

__all__ = [
    "__version__",
    "Archive", "Capture", "CaptureResult", "CorruptSnapshot", "DocumentSummary", "IndexNotReady", "NotAnArchive", "PostContent",
    "ReadOnlyArchive", "Removal", "SCHEMA_VERSION", "Sighting", "Snapshot", "StorageError", "UnknownDocument", "UnknownVersion",
    "VERSIONED_FIELDS", "VerifyReport", "VersionSummary", "content_fields", "decide", "document_id",
]
