"""Is this capture a new version, and what does recording it write? Pure functions of
(previous snapshot, new observation).

Only what the institute published counts as content: the fields below. Page chrome
(widgets, counters, nonces) never reaches these fields, so it can never make a version.
The `commit_*` functions build everything an observation writes (the new snapshot, the
capture-log line); storage.store only writes what they return.
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Any, Mapping

from .layout import raw_name
from .records import SCHEMA_VERSION, Capture, CaptureResult, RawRef, Removal, Sighting, Snapshot, content_fields

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
    """True when the edit only touched whitespace or typographic punctuation.

    Every changed field other than `date_modified` must differ only in whitespace or
    typography, and at least one such field must have changed. `date_modified` is left out
    of the judgement (WordPress bumps it on every save, so a typo fix always comes with it),
    but a change of `date_modified` alone is not minor: it is an edit WordPress recorded.
    """
    judged = [name for name in changed if name != "date_modified"]
    return bool(judged) and all(_loose(previous.get(n)) == _loose(current.get(n)) for n in judged)


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
        # The post is back: always a version, even with the content it had before removal,
        # and never a minor one (its coming back is the news).
        return Decision(True, "restored", tuple(changed), False, digest)
    if not changed:
        return Decision(False, "unchanged", (), False, digest)
    return Decision(True, "edit", tuple(changed), is_minor(before, current, changed), digest)


# -- what an observation writes ---------------------------------------------------------
@dataclass(frozen=True)
class Commit:
    """What recording one observation writes: perhaps a new version, always a capture line."""

    result: CaptureResult
    capture_line: dict[str, Any] | None  # one line of captures.jsonl (None: nothing to write)
    snapshot: Snapshot | None = None  # the new version, when there is one
    raw_body: bytes = b""  # its raw response, when it has one


def _capture_line(*, fetched_at: str, url: str, final_url: str, http_status: int | None, outcome: str,
                  version: int, digest: str, run_id: str | None) -> dict[str, Any]:
    return {"fetched_at": fetched_at, "url": url, "final_url": final_url, "http_status": http_status,
            "outcome": outcome, "version": version, "content_sha256": digest, "run_id": run_id}


def commit_capture(doc_id: str, previous: Mapping[str, Any] | None, capture: Capture) -> Commit:
    """A capture against the latest stored snapshot: a new version when its content differs."""
    decision = decide(previous, capture)
    if not decision.store:
        assert previous is not None
        version = previous["version"]
        return Commit(CaptureResult(doc_id, "unchanged", version),
                      _capture_line(fetched_at=capture.fetched_at, url=capture.url, final_url=capture.final_url,
                                    http_status=capture.http_status, outcome="unchanged", version=version,
                                    digest=decision.content_sha256, run_id=capture.run_id))
    version = 1 if previous is None else previous["version"] + 1
    raw = None
    if capture.raw_body:
        raw = RawRef(path=raw_name(version), sha256=hashlib.sha256(capture.raw_body).hexdigest(),
                     bytes=len(capture.raw_body), content_type=capture.raw_content_type)
    snapshot = Snapshot(
        **content_fields(capture), schema_version=SCHEMA_VERSION, doc_id=doc_id, version=version,
        kind=decision.kind, url=capture.url, final_url=capture.final_url, site=capture.site,
        content_sha256=decision.content_sha256, fetched_at=capture.fetched_at, http_status=capture.http_status,
        extractor=dict(capture.extractor), raw=raw, previous_version=previous["version"] if previous else None,
        changed_fields=list(decision.changed_fields), minor=decision.minor, run_id=capture.run_id,
        language_evidence=dict(capture.language_evidence), decoding=dict(capture.decoding),
    )
    outcome = "new-document" if version == 1 else ("restored" if decision.kind == "restored" else "new-version")
    return Commit(CaptureResult(doc_id, outcome, version, decision.changed_fields),
                  _capture_line(fetched_at=capture.fetched_at, url=capture.url, final_url=capture.final_url,
                                http_status=capture.http_status, outcome=outcome, version=version,
                                digest=decision.content_sha256, run_id=capture.run_id),
                  snapshot, capture.raw_body)


def commit_removal(doc_id: str, previous: Mapping[str, Any], removal: Removal) -> Commit:
    """A tombstone: the last known content (so `show` still says what was removed), the
    removal evidence, no raw body. Recording a removal twice writes nothing."""
    if previous.get("kind") == "tombstone":
        return Commit(CaptureResult(doc_id, "unchanged", previous["version"]), None)
    before = Snapshot.from_json(previous)
    version = before.version + 1
    url = removal.evidence.get("url") or before.url
    tombstone = replace(
        before, schema_version=SCHEMA_VERSION, version=version, kind="tombstone", url=url,
        final_url=removal.evidence.get("url") or before.final_url, fetched_at=removal.fetched_at,
        http_status=removal.http_status or 0, raw=None, previous_version=before.version, changed_fields=[],
        minor=False, run_id=removal.run_id, removal=dict(removal.evidence),
    )
    return Commit(CaptureResult(doc_id, "removed", version),
                  _capture_line(fetched_at=removal.fetched_at, url=url, final_url=url,
                                http_status=removal.http_status, outcome="removed", version=version,
                                digest=before.content_sha256, run_id=removal.run_id),
                  tombstone)


def commit_sighting(doc_id: str, previous: Mapping[str, Any], sighting: Sighting) -> Commit:
    """A fetch that confirmed the stored content without a body: only the capture log grows."""
    return Commit(CaptureResult(doc_id, "unchanged", previous["version"]),
                  _capture_line(fetched_at=sighting.fetched_at, url=sighting.url, final_url=sighting.url,
                                http_status=sighting.http_status, outcome=sighting.reason,
                                version=previous["version"], digest=previous["content_sha256"],
                                run_id=sighting.run_id))
