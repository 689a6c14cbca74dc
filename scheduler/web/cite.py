"""How to cite one archived version: a line of plain text and a BibTeX entry.

Both name the post (author, title, site, publication date), the original URL and the
archive's own, stable address of the version, with its capture time.
"""
from __future__ import annotations

import re
from typing import Any

from .memento import to_utc

_BIBTEX_SPECIAL = re.compile(r"([\\{}&%$#_^~])")
_BIBTEX_REPLACEMENTS = {"\\": r"\textbackslash{}", "^": r"\^{}", "~": r"\~{}"}


def bibtex_escape(text: str) -> str:
    return _BIBTEX_SPECIAL.sub(lambda m: _BIBTEX_REPLACEMENTS.get(m.group(1), "\\" + m.group(1)), text)


def citation_key(doc_id: str, version: int) -> str:
    return re.sub(r"[^A-Za-z0-9.:-]", "-", f"{doc_id}-v{version}")


def captured(snapshot: dict[str, Any]) -> str:
    return to_utc(snapshot["fetched_at"]).strftime("%Y-%m-%d %H:%M UTC")


def plain_citation(snapshot: dict[str, Any], archive_url: str) -> str:
    """'Author. “Title.” site, 2024-03-01. URL. Archived version 3, captured …: archive URL.'"""
    original = snapshot.get("canonical_url") or snapshot.get("final_url") or snapshot.get("url")
    author = snapshot.get("author") or snapshot.get("site") or ""
    title = (snapshot.get("title") or "(untitled)").rstrip(".")
    published = (snapshot.get("date_published") or "")[:10] or "n.d."
    parts = [f"{author}. " if author else "", f"“{title}.” {snapshot.get('site')}, {published}. {original}. ",
             f"Archived version {snapshot['version']}, captured {captured(snapshot)}: {archive_url}"]
    if snapshot.get("kind") == "tombstone":
        parts.append(" (records the post's removal)")
    return "".join(parts) + "."


def bibtex_citation(snapshot: dict[str, Any], archive_url: str) -> str:
    """A biblatex-friendly @online entry (also read by BibTeX as a misc entry with url/note)."""
    original = snapshot.get("canonical_url") or snapshot.get("final_url") or snapshot.get("url")
    fields: list[tuple[str, str]] = []
    if snapshot.get("author"):
        fields.append(("author", "{" + bibtex_escape(snapshot["author"]) + "}"))  # a body, not "Last, First"
    fields.append(("title", "{" + bibtex_escape(snapshot.get("title") or "(untitled)") + "}"))
    fields.append(("organization", bibtex_escape(str(snapshot.get("site") or ""))))
    if snapshot.get("date_published"):
        fields.append(("date", snapshot["date_published"][:10]))
        fields.append(("year", snapshot["date_published"][:4]))
    if snapshot.get("language"):
        fields.append(("langid", {"ru": "russian", "kk": "kazakh", "en": "english"}.get(snapshot["language"],
                                                                                        snapshot["language"])))
    fields.append(("url", archive_url))
    fields.append(("urldate", to_utc(snapshot["fetched_at"]).strftime("%Y-%m-%d")))
    fields.append(("note", f"Archived version {snapshot['version']} of \\url{{{original}}}, "
                           f"captured {bibtex_escape(captured(snapshot))} by kisi-archive"))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@online{{{citation_key(snapshot['doc_id'], snapshot['version'])},\n{body}\n}}\n"
