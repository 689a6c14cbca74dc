"""Reading stored raw responses again with the installed extractor.

`reextract` (the `kisi-archive reextract` command) reads the raw response of the latest
version of each document again; a result that differs becomes a new version with cause
`extractor`, naming the extractors before and after (storage.policy.commit_reextraction).
The reading is done by the crawl's extraction pool (crawler/pool.py), one worker process
per CPU, each reading a chunk of documents from the archive itself (read-only); this
process writes, one document at a time under its lock, as every write does. A worker that
dies or hangs on a chunk is replaced and the chunk read once more; a chunk that fails
twice is reported as errors, one per document, and the others go on.

`reread` is the same reading for one version, which the crawl's pipeline hands to the
archive: a capture read by another extractor than the stored version is judged against
that version read again, so an extractor upgrade never passes for the site's edit.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from collections import deque
from itertools import chain, islice
from typing import Any, Callable, Iterable, Iterator

from storage import Archive, Snapshot, StorageError, content_fields
from storage.records import Reextraction
from storage.workers import cpu_count

from .extract import EXTRACTOR, decode_html_ex, extract_page
from .pool import ExtractionFailed, WorkerPool

logger = logging.getLogger(__name__)

_CHUNK = 16  # documents per piece of work given to a worker process
# Below this many documents the work stays in this process: a worker spends about a second
# importing trafilatura before its first page (bench/bench_reextract.py).
PARALLEL_FROM = 512


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def read_again(snapshot: Snapshot, body: bytes, *, at: str | None = None, run_id: str | None = None) -> Reextraction:
    """A stored version's raw body read by the installed extractor."""
    content_type = snapshot.raw.content_type if snapshot.raw else None
    page = extract_page(decode_html_ex(body, content_type), snapshot.final_url or snapshot.url)
    return Reextraction(**content_fields(page), doc_id=snapshot.doc_id, version=snapshot.version,
                        extractor=dict(page.extractor), fetched_at=at or _now(), run_id=run_id,
                        language_evidence=dict(page.language_evidence), decoding=dict(page.decoding))


def reread(snapshot: Snapshot, body: bytes) -> Reextraction | None:
    """What the pipeline hands to Archive.record: read_again, or None when the page is not a
    post any more for this extractor (nothing then to compare)."""
    reading = read_again(snapshot, body)
    return reading if reading.text or reading.title else None


def read_chunk(context: dict[str, Any], keys: list[list[Any]]) -> list[dict[str, Any] | str]:
    """Read some documents' latest versions again (the task a worker process runs): the
    Reextraction of each as plain values, or why it could not be read."""
    out: list[dict[str, Any] | str] = []
    with Archive.open(context["root"], readonly=True) as archive:
        for doc_id, version in keys:
            try:
                snapshot = archive.get(doc_id, version)
                body = archive.raw_body(doc_id, version)
            except (StorageError, OSError, EOFError) as exc:
                out.append(f"{doc_id} v{version}: raw response unreadable ({exc})")
                continue
            reading = read_again(snapshot, body, at=context["at"], run_id=context.get("run_id"))
            out.append({**content_fields(reading), "doc_id": reading.doc_id, "version": reading.version,
                        "extractor": reading.extractor, "fetched_at": reading.fetched_at, "run_id": reading.run_id,
                        "language_evidence": reading.language_evidence, "decoding": reading.decoding,
                        "categories": list(reading.categories), "tags": list(reading.tags),
                        "alternates": dict(reading.alternates)})
    return out


def read_job(job: tuple[dict[str, Any], list[list[Any]]]) -> list[dict[str, Any] | str]:
    """read_chunk as the pool's task (crawler/pool.py: one argument, the job)."""
    context, keys = job
    return read_chunk(context, keys)


@dataclass(frozen=True)
class _Unread:
    """A document whose chunk failed in the pool on every attempt."""

    message: str


def _readings(context: dict[str, Any], chunks: Iterator[list[list[Any]]],
              workers: int) -> Iterator[list[dict[str, Any] | str | _Unread]]:
    """read_chunk of every chunk, in order: by the pool, a few chunks ahead of the writer
    (memory stays bounded), or in this process below PARALLEL_FROM documents."""
    head = list(islice(chunks, max(2, PARALLEL_FROM // _CHUNK)))
    size = workers if workers > 1 and len(head) * _CHUNK >= PARALLEL_FROM else 0
    with WorkerPool(size, task="crawler.reextract:read_job") as pool:
        window: deque[tuple[list[list[Any]], Any]] = deque()
        for chunk in chain(head, chunks):
            window.append((chunk, pool.submit((context, chunk))))
            if len(window) > 2 * max(1, size):
                yield _result(*window.popleft())
        while window:
            yield _result(*window.popleft())


def _result(chunk: list[list[Any]], future: Any) -> list[dict[str, Any] | str | _Unread]:
    try:
        return future.result()
    except ExtractionFailed as exc:
        return [_Unread(f"{doc_id} v{version}: could not be read again ({exc})") for doc_id, version in chunk]


@dataclass
class ReextractReport:
    extractor: dict[str, str]
    documents: int = 0  # documents whose latest version was read again
    changed: list[dict[str, Any]] = field(default_factory=list)  # {doc_id, version, changed_fields, extractor_before}
    skipped: list[str] = field(default_factory=list)  # why some could not be read (tombstones are not counted)
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"extractor": self.extractor, "documents": self.documents, "changed": self.changed,
                "skipped": self.skipped, "errors": self.errors}


def _targets(archive: Archive, doc_ids: Iterable[str] | None) -> Iterable[tuple[str, int]]:
    ids = list(doc_ids) if doc_ids is not None else archive.layout.document_ids()
    for doc_id in ids:
        versions = archive.layout.versions_on_disk(doc_id)
        if not versions:
            continue
        latest = archive.get(doc_id, versions[-1])
        if latest.kind == "tombstone" or latest.raw is None:
            continue  # nothing to read again: the post is gone, or no body was kept
        yield doc_id, latest.version


def reextract(archive: Archive, doc_ids: Iterable[str] | None = None, *, workers: int | None = None,
              run_id: str | None = None, on_change: Callable[[dict[str, Any]], None] | None = None) -> ReextractReport:
    """Read the latest version of each document (all when `doc_ids` is None) again and
    record a version with cause `extractor` wherever the reading differs."""
    report = ReextractReport(extractor=dict(EXTRACTOR))
    keys = iter(_targets(archive, doc_ids))
    chunks = iter(lambda: [list(k) for k in islice(keys, _CHUNK)], [])
    count = cpu_count() if workers is None else workers
    context = {"root": str(archive.root), "at": _now(), "run_id": run_id}
    archive.conn  # the index exists before the workers open the archive read-only
    for results in _readings(context, chunks, count):
        for item in results:
            if isinstance(item, _Unread):
                report.errors.append(item.message)
                continue
            if isinstance(item, str):
                report.skipped.append(item)
                continue
            report.documents += 1
            reading = Reextraction(**item)
            before = archive.get(reading.doc_id, reading.version)
            try:
                result = archive.record(reading)
            except (StorageError, OSError) as exc:
                report.errors.append(f"{reading.doc_id}: {exc}")
                continue
            if result.outcome == "reextracted":
                change = {"doc_id": result.doc_id, "version": result.version, "changed_fields": list(result.changed_fields),
                          "extractor_before": before.extractor, "extractor_after": reading.extractor}
                report.changed.append(change)
                if on_change:
                    on_change(change)
    return report

