"""Is this capture a new version? A pure function of (previous snapshot, new capture).

Only what the institute published counts as content: the fields below. Page chrome
(widgets, counters, nonces) never reaches these fields, so it can never make a version.
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Mapping

# The fields whose change makes a new version, in the order `history` reports them.
VERSIONED_FIELDS: tuple[str, ...] = (
    "title",
    "text",
    "date_published",
    "date_modified",
    "author",
    "categories",
    "tags",
    "canonical_url",
)

# Typographic variants an editor's tooling swaps without changing meaning.
_TYPOGRAPHY = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
        "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2026": "...",
        "\u00a0": " ", "\u202f": " ", "\u2009": " ",
    }
)
_SPACE = re.compile(r"\s+")


def content_of(record: Any) -> dict[str, Any]:
    """The versioned fields of a capture or snapshot (object or mapping), normalised for comparison."""
    get = record.get if isinstance(record, Mapping) else lambda name: getattr(record, name, None)
    content: dict[str, Any] = {}
    for name in VERSIONED_FIELDS:
        value = get(name)
        if name in ("categories", "tags"):
            value = list(value or [])
        content[name] = value
    return content


def content_sha256(content: Mapping[str, Any]) -> str:
    """Hash of the versioned fields: canonical JSON (sorted keys, compact, UTF-8)."""
    # Compact separators so `jq -jcS '{...}' | sha256sum` reproduces it (docs/archive-format.md).
    payload = json.dumps({k: content.get(k) for k in VERSIONED_FIELDS}, sort_keys=True, ensure_ascii=False,
                         separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def changed_fields(previous: Mapping[str, Any] | None, current: Mapping[str, Any]) -> list[str]:
    """Names of the versioned fields that differ, in VERSIONED_FIELDS order."""
    if previous is None:
        return []
    return [name for name in VERSIONED_FIELDS if previous.get(name) != current.get(name)]


def _loose(value: Any) -> Any:
    if isinstance(value, str):
        value = unicodedata.normalize("NFKC", value).translate(_TYPOGRAPHY)
        return _SPACE.sub(" ", value).strip()
    return value


def is_minor(previous: Mapping[str, Any], current: Mapping[str, Any], changed: list[str]) -> bool:
    """True when every change is only whitespace or typographic punctuation.

    `date_modified` is left out of the judgement: WordPress bumps it on every save, so a
    typo fix always comes with it.
    """
    judged = [name for name in changed if name != "date_modified"]
    return bool(changed) and all(_loose(previous.get(n)) == _loose(current.get(n)) for n in judged)


@dataclass(frozen=True)
class Decision:
    store: bool  # write a new version?
    kind: str  # "new", "edit", "restored", "unchanged"
    changed_fields: tuple[str, ...]
    minor: bool
    content_sha256: str


def decide(previous: Mapping[str, Any] | None, capture: Any) -> Decision:
    """Decide what a capture is, given the latest stored snapshot (as a JSON mapping) or None."""
    current = content_of(capture)
    digest = content_sha256(current)
    if previous is None:
        return Decision(True, "new", (), False, digest)
    before = content_of(previous)
    changed = changed_fields(before, current)
    if previous.get("kind") == "tombstone":
        # The post is back: always a version, even with the content it had before removal.
        return Decision(True, "restored", tuple(changed), is_minor(before, current, changed), digest)
    if not changed:
        return Decision(False, "unchanged", (), False, digest)
    return Decision(True, "edit", tuple(changed), is_minor(before, current, changed), digest)
