"""The changes feed in Atom (RFC 4287): one entry per new version, newest first.

Standard library only, so the crawl run can write ARCHIVE/feeds/changes.atom after every
run without importing the web stack. Entry ids are stable URNs (`urn:kisi-archive:<doc_id>:v<N>`),
the same in the served feed and the file, whatever URL the viewer is reached at.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable
from html import escape as _escape

from storage.changes import Change

ATOM_TYPE = "application/atom+xml"
KIND_LABELS = {"new": "New", "edit": "Edited", "removed": "Removed", "restored": "Restored"}
FIELD_LABELS = {"title": "title", "text": "text", "date_published": "publication date",
                "date_modified": "modification date", "author": "author", "categories": "categories",
                "tags": "tags", "canonical_url": "URL"}


# html.escape gives valid XML text and attribute values; xml.sax.saxutils would import
# urllib.request (25 ms more start-up for every command, since crawl runs render this).
def escape(text: str) -> str:
    return _escape(text, quote=False)


def quoteattr(value: str) -> str:
    return '"' + _escape(value, quote=True) + '"'


def entry_id(doc_id: str, version: int) -> str:
    return f"urn:kisi-archive:{doc_id}:v{version}"


def version_url(base_url: str, doc_id: str, version: int) -> str:
    return f"{base_url.rstrip('/')}/doc/{doc_id}/v{version}"


def summary(change: Change) -> str:
    if change.kind == "new":
        return "First archived version."
    if change.kind == "removed":
        return "The post was removed from the site (this version records the evidence)."
    fields = ", ".join(FIELD_LABELS.get(f, f) for f in change.changed_fields) or "nothing listed"
    lead = "Back on the site; changed: " if change.kind == "restored" else "Changed: "
    return lead + fields + (" (minor: whitespace or punctuation only)." if change.minor else ".")


def _element(name: str, text: str, **attrs: str) -> str:
    rendered = "".join(f" {key}={quoteattr(value)}" for key, value in attrs.items())
    return f"<{name}{rendered}>{escape(text)}</{name}>"


def render_feed(changes: Iterable[Change], *, feed_id: str, title: str, updated: datetime | None = None,
                self_url: str | None = None, base_url: str | None = None, generator_version: str = "") -> bytes:
    """The feed as UTF-8 bytes. Each entry links to the archived version when `base_url`
    (the viewer's address) is known, and to the post on the site (rel="related") always."""
    changes = list(changes)
    newest = max((c.fetched_at for c in changes), default=None)
    stamp = newest or (updated or datetime.now(timezone.utc)).replace(microsecond=0).isoformat()
    lines = ['<?xml version="1.0" encoding="utf-8"?>', '<feed xmlns="http://www.w3.org/2005/Atom">',
             _element("id", feed_id), _element("title", title), _element("updated", stamp),
             "<author><name>kisi-archive</name></author>",
             _element("generator", "kisi-archive", version=generator_version) if generator_version
             else _element("generator", "kisi-archive")]
    if self_url:
        lines.append(f'<link rel="self" type="{ATOM_TYPE}" href={quoteattr(self_url)}/>')
    if base_url:
        lines.append(f'<link rel="alternate" type="text/html" href={quoteattr(base_url.rstrip("/") + "/changes")}/>')
    for change in changes:
        lines.append(render_entry(change, base_url))
    lines.append("</feed>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def render_entry(change: Change, base_url: str | None) -> str:
    heading = f"{KIND_LABELS.get(change.kind, change.kind)}: {change.title or '(untitled)'}"
    parts = ["<entry>", _element("id", entry_id(change.doc_id, change.version)), _element("title", heading),
             _element("updated", change.fetched_at)]
    if base_url:
        parts.append(f'<link rel="alternate" type="text/html" href={quoteattr(version_url(base_url, change.doc_id, change.version))}/>')
        parts.append(f'<link rel="related" type="text/html" href={quoteattr(change.url)}/>')
    else:
        parts.append(f'<link rel="alternate" type="text/html" href={quoteattr(change.url)}/>')
    parts.append(f'<category term={quoteattr(change.kind)} label={quoteattr(KIND_LABELS.get(change.kind, change.kind))}/>')
    if change.language:
        parts.append(f'<category term={quoteattr("lang:" + change.language)}/>')
    parts.extend(f'<category term={quoteattr(name)}/>' for name in change.categories)
    parts.append(_element("summary", f"{change.doc_id} v{change.version}. {summary(change)}"))
    parts.append("</entry>")
    return "\n".join(parts)


def change_payload(change: Change, base_url: str | None) -> dict[str, Any]:
    """One change as the webhook sends it: the change plus the archived version's address."""
    data = change.to_json()
    data["archive_url"] = version_url(base_url, change.doc_id, change.version) if base_url else None
    return data
