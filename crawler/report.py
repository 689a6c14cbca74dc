"""What one crawl run did, as the frontier reports it when it closes (typed, JSON-ready)."""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

SOURCES = ("rest", "feed", "sitemap", "listing", "hreflang")

# Section states: how far a section got this run.
PENDING = "pending"  # nothing answered yet
OK = "ok"
NOT_FOUND = "not-found"  # the category does not exist (404, no such REST category, empty feed)
UNREACHABLE = "unreachable"
FORBIDDEN = "forbidden"  # robots.txt
ERROR = "error"


@dataclass
class SourceReport:
    """What one discovery source did this run (for the summary and the log)."""

    status: str = "not used"  # ok, not modified, refused (401), missing (404), malformed, error, not used
    requests: int = 0
    posts: int = 0  # posts it named
    fetches: int = 0  # post fetches it caused
    complete: bool = False  # enumerated in full (evidence for removals)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SectionReport:
    state: str = PENDING
    detail: str = ""  # why it failed, one line


@dataclass
class RunReport:
    counts: Counter[str] = field(default_factory=Counter)
    sources: dict[str, SourceReport] = field(default_factory=lambda: {name: SourceReport() for name in SOURCES})
    sections: dict[str, SectionReport] = field(default_factory=dict)
    sweep: bool = False
    failure: str | None = None  # why the site could not be crawled at all; None when it could
    structures: dict[str, dict[str, Any]] = field(default_factory=dict)  # site root -> what first contact found
    warnings: list[str] = field(default_factory=list)  # a language without a section, a section that named nothing

    def source_line(self) -> str:
        return ", ".join(f"{name} {rep.status}" + (f" ({rep.posts} named, {rep.fetches} fetched)" if rep.posts else "")
                         for name, rep in self.sources.items())

    def to_json(self) -> dict[str, Any]:
        return {
            "counts": dict(self.counts),
            "sources": {name: rep.to_json() for name, rep in self.sources.items()},
            "sections": {label: rep.state for label, rep in self.sections.items()},
            "sweep": self.sweep,
            "failure": self.failure,
            "structures": self.structures,
            "warnings": self.warnings,
        }
