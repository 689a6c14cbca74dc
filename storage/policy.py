"""Is this capture a new version, and what does recording it write? Pure functions of
(previous snapshot, new observation).

Only what the institute published counts as content: the fields below. Page chrome
(widgets, counters, nonces) never reaches these fields, so it can never make a version.
The `commit_*` functions build everything an observation writes (the new snapshot, the
capture-log line); storage.store only writes what they return.

Three things every new version carries, decided here: the chain (`previous_sha256`, the
SHA-256 of the previous version's file as stored), the cause (`site` when a crawl saw the
site publish something else, `extractor` when the same raw response reads differently) and
the attachments (merged with the previous version's when a fetch failed only for now).
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Any, Mapping

from .layout import raw_name
from .records import (CAUSE_EXTRACTOR, CAUSE_SITE, SCHEMA_VERSION, AttachmentRef, Capture, CaptureResult, RawRef,
                      Reextraction, Removal, Sighting, Snapshot, content_fields)

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
    "attachments",  # schema 2: what each linked file is (its URL and the SHA-256 of its body)
)
# The versioned fields each snapshot schema hashes into content_sha256.
VERSIONED_BY_SCHEMA: dict[int, tuple[str, ...]] = {1: VERSIONED_FIELDS[:8], 2: VERSIONED_FIELDS}
# What an attachment contributes to the content: which file, with which bytes. Its link
# text is part of the post's text already; its headers are the server's, not the post's.
ATTACHMENT_KEYS = ("url", "sha256")
# Attachment errors that say something about the site (the file is gone, or too large to
# keep); any other error (timeout, 5xx, refused) is only about this fetch.
_LASTING_ERRORS = ("HTTP 404", "HTTP 410", "larger than")

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


def attachment_content(entries: Any) -> list[dict[str, Any]]:
    """The versioned part of a list of attachments (AttachmentRef objects or their JSON)."""
    out = []
    for entry in entries or ():
        get = entry.get if isinstance(entry, Mapping) else lambda name, e=entry: getattr(e, name, None)
        out.append({key: get(key) for key in ATTACHMENT_KEYS})
    return out


def content_of(record: Any) -> dict[str, Any]:
    """The versioned fields of a capture or snapshot (object or mapping), normalised for comparison."""
    get = record.get if isinstance(record, Mapping) else lambda name: getattr(record, name, None)
    content: dict[str, Any] = {}
    for name in VERSIONED_FIELDS:
        value = get(name)
        if name in ("categories", "tags"):
            value = list(value or [])
        elif name == "attachments":
            value = attachment_content(value)
        content[name] = value
    return content


def content_sha256(content: Mapping[str, Any], schema: int = SCHEMA_VERSION) -> str:
    """Hash of the versioned fields of that snapshot schema: canonical JSON (sorted keys,
    compact, UTF-8)."""
    # Compact separators so `jq -jcS '{...}' | sha256sum` reproduces it (docs/archive-format.md).
    names = VERSIONED_BY_SCHEMA.get(schema, VERSIONED_FIELDS)
    payload = json.dumps({k: content.get(k) for k in names}, sort_keys=True, ensure_ascii=False,
                         separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def snapshot_digest(snapshot: Mapping[str, Any]) -> str:
    """content_sha256 of a stored snapshot, recomputed the way its schema defines it."""
    return content_sha256(content_of(snapshot), int(snapshot.get("schema_version") or 1))


def merge_attachments(previous: Any, captured: tuple[AttachmentRef, ...] | None) -> list[AttachmentRef]:
    """The attachments a new reading records: what was captured, except that a fetch that
    failed only for now (timeout, 5xx) keeps what the previous version had for that URL,
    so a passing failure never makes a version. `captured` None (not looked for) keeps the
    previous version's list as it was."""
    before = [a if isinstance(a, AttachmentRef) else AttachmentRef.from_json(a) for a in previous or ()]
    if captured is None:
        return before
    by_url = {a.url: a for a in before}
    merged = []
    for entry in captured:
        passing = entry.sha256 is None and entry.error and not entry.error.startswith(_LASTING_ERRORS)
        merged.append(by_url[entry.url] if passing and entry.url in by_url else entry)
    return merged


def changed_fields(previous: Mapping[str, Any] | None, current: Mapping[str, Any]) -> list[str]:
    """Names of the versioned fields that differ, in VERSIONED_FIELDS order."""
    if previous is None:
        return []
    return [name for name in VERSIONED_FIELDS
            if (paragraphs(previous.get(name)) != paragraphs(current.get(name)) if name == "text"
                else previous.get(name) != current.get(name))]


def paragraphs(text: Any) -> Any:
    """A text's paragraphs, however they were separated: versions written before 1 December
    2026 put one paragraph per line, later ones a blank line between them (the same text)."""
    return [line for line in text.split("\n") if line] if isinstance(text, str) else text


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


def cause_of(previous: Mapping[str, Any] | None, changed: tuple[str, ...] | list[str]) -> str:
    """Why a crawl's new version exists. The site's doing, unless every change is in a field
    the previous version's schema never recorded (attachments, before schema 2): then only
    the archive learnt to read more of the same page."""
    if previous is None or not changed:
        return CAUSE_SITE
    recorded = VERSIONED_BY_SCHEMA.get(int(previous.get("schema_version") or 1), VERSIONED_FIELDS)
    return CAUSE_EXTRACTOR if all(name not in recorded for name in changed) else CAUSE_SITE


@dataclass(frozen=True)
class Decision:
    store: bool  # write a new version?
    kind: str  # "new", "edit", "restored", "unchanged"
    changed_fields: tuple[str, ...]
    minor: bool
    content_sha256: str


def decide(previous: Mapping[str, Any] | None, capture: Any) -> Decision:
    """Decide what a capture is, given the latest stored snapshot (as a JSON mapping) or None.

    A capture's `attachments` are compared as given (merge_attachments first); None means
    the capture did not look for them, so they count as unchanged.
    """
    current = content_of(capture)
    if previous is not None and getattr(capture, "attachments", ()) is None:
        current["attachments"] = attachment_content(previous.get("attachments"))
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


def commit_capture(doc_id: str, previous: Mapping[str, Any] | None, capture: Capture, *,
                   previous_sha256: str | None = None) -> Commit:
    """A capture against the latest stored snapshot: a new version when its content differs.

    `previous_sha256` is the SHA-256 of the latest version's file (the chain link)."""
    attachments = merge_attachments((previous or {}).get("attachments"), capture.attachments)
    capture = replace(capture, attachments=tuple(attachments))
    decision = decide(previous, capture)
    if not decision.store:
        assert previous is not None
        version = previous["version"]
        # The version's own digest: equal by definition, and comparable across schemas.
        return Commit(CaptureResult(doc_id, "unchanged", version),
                      _capture_line(fetched_at=capture.fetched_at, url=capture.url, final_url=capture.final_url,
                                    http_status=capture.http_status, outcome="unchanged", version=version,
                                    digest=previous["content_sha256"], run_id=capture.run_id))
    version = 1 if previous is None else previous["version"] + 1
    raw = None
    if capture.raw_body:
        raw = RawRef(path=raw_name(version), sha256=hashlib.sha256(capture.raw_body).hexdigest(),
                     bytes=len(capture.raw_body), content_type=capture.raw_content_type)
    cause = cause_of(previous, decision.changed_fields)
    snapshot = Snapshot(
        **content_fields(capture), schema_version=SCHEMA_VERSION, doc_id=doc_id, version=version,
        kind=decision.kind, url=capture.url, final_url=capture.final_url, site=capture.site,
        content_sha256=decision.content_sha256, fetched_at=capture.fetched_at, http_status=capture.http_status,
        extractor=dict(capture.extractor), raw=raw, previous_version=previous["version"] if previous else None,
        changed_fields=list(decision.changed_fields), minor=decision.minor, run_id=capture.run_id,
        language_evidence=dict(capture.language_evidence), decoding=dict(capture.decoding),
        previous_sha256=previous_sha256 if previous else None, cause=cause,
        extractor_before=dict(previous.get("extractor") or {}) if previous and cause == CAUSE_EXTRACTOR else None,
        warc=capture.warc, attachments=attachments,
    )
    outcome = "new-document" if version == 1 else ("restored" if decision.kind == "restored" else "new-version")
    return Commit(CaptureResult(doc_id, outcome, version, decision.changed_fields),
                  _capture_line(fetched_at=capture.fetched_at, url=capture.url, final_url=capture.final_url,
                                http_status=capture.http_status, outcome=outcome, version=version,
                                digest=decision.content_sha256, run_id=capture.run_id),
                  snapshot, capture.raw_body)


def commit_removal(doc_id: str, previous: Mapping[str, Any], removal: Removal, *,
                   previous_sha256: str | None = None) -> Commit:
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
        # Same content as before: rehashed the way this schema defines it.
        content_sha256=content_sha256(content_of(previous)), previous_sha256=previous_sha256,
        cause=CAUSE_SITE, extractor_before=None, reextracted_from=None, warc=None,
    )
    return Commit(CaptureResult(doc_id, "removed", version),
                  _capture_line(fetched_at=removal.fetched_at, url=url, final_url=url,
                                http_status=removal.http_status, outcome="removed", version=version,
                                digest=tombstone.content_sha256, run_id=removal.run_id),
                  tombstone)


_FROM_HEADERS = ("post_id", "shortlink", "language")


def needs_reread(previous: Mapping[str, Any] | None, capture: Capture) -> bool:
    """Must the latest version's raw response be read again before this capture is judged?

    Only when the capture was read by another extractor than the latest version and its
    content differs from that version in a field the extractor produces: then reading the
    old response with the new extractor tells an extractor change from a site change.
    """
    if previous is None or previous.get("kind") == "tombstone" or not previous.get("raw"):
        return False
    if dict(previous.get("extractor") or {}) == dict(capture.extractor):
        return False
    decision = decide(previous, replace(capture, attachments=None))
    return decision.store


def commit_reextraction(doc_id: str, previous: Mapping[str, Any], reading: Reextraction, *,
                        previous_sha256: str | None = None) -> Commit:
    """A stored raw response read again: a new version with cause `extractor` when the
    installed extractor reads it differently from the latest version, else nothing.

    The new version keeps the fetch it was read from (URL, time, status, raw body, WARC
    record, attachments) and records the extractor before and after. A tombstone, or a
    version without a raw body, is never read again.
    """
    if previous.get("kind") == "tombstone" or not previous.get("raw"):
        return Commit(CaptureResult(doc_id, "unchanged", previous["version"]), None)
    before = Snapshot.from_json(previous)
    # What the HTTP headers said (the shortlink of the Link header, and the post id and
    # language read from it) is not in the raw body: a reading without it keeps the version's.
    read = {name: value for name, value in content_fields(reading).items()
            if value is not None or name not in _FROM_HEADERS}
    candidate = replace(before, **read)
    decision = decide(previous, candidate)
    if not decision.store:
        return Commit(CaptureResult(doc_id, "unchanged", before.version), None)
    version = before.version + 1
    snapshot = replace(
        candidate, schema_version=SCHEMA_VERSION, version=version, kind="edit",
        content_sha256=decision.content_sha256, extractor=dict(reading.extractor),
        previous_version=before.version, changed_fields=list(decision.changed_fields), minor=decision.minor,
        run_id=reading.run_id, language_evidence=dict(reading.language_evidence),
        decoding=dict(reading.decoding) or before.decoding, removal=None, previous_sha256=previous_sha256,
        cause=CAUSE_EXTRACTOR, extractor_before=dict(before.extractor), reextracted_from=reading.version,
    )
    return Commit(CaptureResult(doc_id, "reextracted", version, decision.changed_fields), None, snapshot)


def commit_sighting(doc_id: str, previous: Mapping[str, Any], sighting: Sighting, *,
                    previous_sha256: str | None = None) -> Commit:
    """A fetch that confirmed the stored content without a body: only the capture log grows."""
    return Commit(CaptureResult(doc_id, "unchanged", previous["version"]),
                  _capture_line(fetched_at=sighting.fetched_at, url=sighting.url, final_url=sighting.url,
                                http_status=sighting.http_status, outcome=sighting.reason,
                                version=previous["version"], digest=previous["content_sha256"],
                                run_id=sighting.run_id))
