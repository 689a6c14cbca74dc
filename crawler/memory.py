"""What the crawler remembers between runs: typed, versioned, and read from older files.

Kept in ARCHIVE/state/crawl.json (working notes about the crawl, not archived content:
replaced atomically, never versioned). Schema 1 was an untyped dict written by the spider
of before the frontier; schema 2 kept the REST mark per section; schema 3 keeps what
belongs to a whole site (its structure, the REST mark and total, which sitemap answered)
per site. `CrawlMemory.from_json` reads all three; the next save writes schema 3.
Conditional-request validators used to live in the same dict; they are kept apart now
(crawler/conditional.py, state/validators.json), and `validators_of_v1` hands them over.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

MEMORY_SCHEMA = 3


@dataclass
class SectionMemory:
    """One section (a category of one language site) as the last runs left it."""

    category_id: int | None = None  # the category's REST id
    # Post ids the REST API listed in the category (ids of posts suspected removed stay until
    # the suspicion is settled, so the next run's enumeration still counts as evidence).
    members: list[int] = field(default_factory=list)
    listing_head: list[str] = field(default_factory=list)  # URL keys on the listing's first page
    feed_head: list[str] = field(default_factory=list)  # URL keys in the feed, when it last answered 200
    listing_members: list[str] = field(default_factory=list)  # URL keys of the last listing walked to its end

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SectionMemory:
        return cls(
            category_id=_int_or_none(data.get("category_id")),
            members=sorted(int(m) for m in data.get("members") or [] if _int_or_none(m) is not None),
            listing_head=[str(k) for k in data.get("listing_head") or []],
            feed_head=[str(k) for k in data.get("feed_head") or []],
            listing_members=sorted(str(k) for k in data.get("listing_members") or []),
        )


@dataclass
class SiteMemory:
    """One WordPress site (all its languages) as the last runs left it."""

    structure: dict[str, Any] | None = None  # crawler.structure.SiteStructure, as JSON
    rest: str | None = None  # what the REST API last said: "ok", "refused (401)", …
    high_water: str | None = None  # newest REST modification time handled in full
    rest_total: int | None = None  # X-WP-Total of the site's sections' categories together
    sitemap: str | None = None  # the sitemap index that answered

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SiteMemory:
        structure = data.get("structure")
        return cls(structure=dict(structure) if isinstance(structure, Mapping) else None,
                   rest=data.get("rest") or None, high_water=data.get("high_water") or None,
                   rest_total=_int_or_none(data.get("rest_total")), sitemap=data.get("sitemap") or None)


@dataclass
class PendingRemoval:
    """A post that looked removed, waiting for a later run (or the grace period) to confirm."""

    first_seen_missing: str
    run_id: str | None
    evidence: list[dict[str, Any]] = field(default_factory=list)  # one record per check, oldest first

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PendingRemoval:
        return cls(first_seen_missing=str(data.get("first_seen_missing") or ""), run_id=data.get("run_id"),
                   evidence=[dict(e) for e in data.get("evidence") or [] if isinstance(e, Mapping)])


@dataclass
class CrawlMemory:
    schema_version: int = MEMORY_SCHEMA
    sites: dict[str, SiteMemory] = field(default_factory=dict)  # by site root ("https://kisi.kz/")
    sections: dict[str, SectionMemory] = field(default_factory=dict)  # by section label (its listing URL)
    # "site:post_id" -> the modification time (REST modified_gmt, sitemap <lastmod> or the
    # page's own) of the post when it was last captured: a source naming another time is an edit.
    signals: dict[str, str] = field(default_factory=dict)
    pending_removals: dict[str, PendingRemoval] = field(default_factory=dict)  # by doc_id
    last_sweep: str | None = None
    sweep_requested: bool = False  # a run saw something that only a sweep can settle
    last_run: dict[str, Any] | None = None

    def section(self, label: str) -> SectionMemory:
        return self.sections.setdefault(label, SectionMemory())

    def site(self, root: str) -> SiteMemory:
        return self.sites.setdefault(root, SiteMemory())

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CrawlMemory:
        """Schema 3, 2, or the untyped schema-1 dict (which had no schema_version)."""
        if not isinstance(data, Mapping):
            return cls()
        version = data.get("schema_version", 1)
        if isinstance(version, int) and version > MEMORY_SCHEMA:
            raise ValueError(f"crawl state has schema {version}; this kisi-archive reads up to {MEMORY_SCHEMA}")
        sites = {str(k): SiteMemory.from_json(v) for k, v in (data.get("sites") or {}).items() if isinstance(v, Mapping)}
        if not isinstance(version, int) or version < 3:
            sites = _sites_of_old_sections(data.get("sections") or {})
        return cls(
            sites=sites,
            sections={str(k): SectionMemory.from_json(v) for k, v in (data.get("sections") or {}).items()
                      if isinstance(v, Mapping)},
            signals={str(k): str(v) for k, v in (data.get("signals") or {}).items() if v},
            pending_removals={str(k): PendingRemoval.from_json(v)
                              for k, v in (data.get("pending_removals") or {}).items() if isinstance(v, Mapping)},
            last_sweep=data.get("last_sweep") or None,
            sweep_requested=bool(data.get("sweep_requested")),
            last_run=dict(data["last_run"]) if isinstance(data.get("last_run"), Mapping) else None,
        )


def _sites_of_old_sections(sections: Mapping[str, Any]) -> dict[str, SiteMemory]:
    """Schemas 1 and 2 kept a REST mark per section: a site takes the earliest of its sections'
    (reading a little more once is safe; skipping an edit is not)."""
    from urllib.parse import urlsplit

    sites: dict[str, SiteMemory] = {}
    for label, section in sections.items():
        if not isinstance(section, Mapping) or "://" not in str(label):
            continue
        parts = urlsplit(str(label))
        site = sites.setdefault(f"{parts.scheme}://{parts.netloc}/", SiteMemory())
        mark = section.get("high_water")
        if mark and (site.high_water is None or str(mark) < site.high_water):
            site.high_water = str(mark)
    return sites


def validators_of_v1(data: Mapping[str, Any]) -> dict[str, dict[str, str | None]]:
    """The conditional-request validators a schema-1 crawl state kept inside itself."""
    if not isinstance(data, Mapping) or data.get("schema_version", 1) != 1:
        return {}
    found = data.get("validators") or {}
    return {str(k): dict(v) for k, v in found.items() if isinstance(v, Mapping)}


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
