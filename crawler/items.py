"""Items the spider yields besides `storage.Capture`: observations without a new body."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NotModified:
    """The server answered 304 to a conditional request for a known post."""

    doc_id: str
    url: str
    fetched_at: str
    run_id: str | None


@dataclass(frozen=True)
class Removal:
    """A post proved gone (confirmed): the pipeline writes a tombstone version."""

    doc_id: str
    evidence: dict[str, Any]
    fetched_at: str
    http_status: int | None
    run_id: str | None
