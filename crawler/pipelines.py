"""The only bridge from Scrapy into the archive: hands each record to `storage`.

Records are written by the archive writer, a process of its own (crawler/writer.py, run
through crawler.pool): one record at a time, in the order they come (the next few already
in its pipe). A new version costs several fsyncs (raw body, snapshot, their folder, the
capture log) and a few milliseconds of CPU; on the reactor thread the crawl's downloads
waited for every one of them, and in a thread of the crawl's process every system call
waited for the interpreter lock. The pipeline awaits each write, so Scrapy finishes a
response only once its records are stored, and the crawl closes (and saves what it learnt)
only after the last one. If the writer process cannot be started, the pool writes in a
thread of this process instead.
"""
from __future__ import annotations

import errno
import logging
import sqlite3
from typing import Any

from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future

from storage import Archive, Sighting, StorageError
from storage.records import AttachmentBlob

from .deferreds import on_reactor
from .pool import ExtractionFailed, WorkerPool
from .session import session_of
from .writer import TASK, WriteFailed, WriteJob, reread_lazily

logger = logging.getLogger(__name__)

LANGUAGE_STATS = "kisi/lang/"  # kisi/lang/<code>/<outcome>: the run's counts per language
WRITE_TIMEOUT = 600.0  # seconds one write may take (a version read again by a new extractor included)
# Records the writer holds at once, in its pipe: the next is there as soon as one is stored,
# without a round trip through this process (whose threads share one interpreter lock).
WRITER_DEPTH = 8


def language_of(item: Any, doc_id: str) -> str:
    """A record's language: the capture's own, else the one in its document id (site-lang-id)."""
    language = getattr(item, "language", None)
    if language:
        return str(language)
    parts = doc_id.rsplit("-", 2)
    return parts[1] if len(parts) == 3 else "und"


# The outcomes that stored a version (tombstones and restorations included).
VERSION_OUTCOMES = ("new-document", "new-version", "restored", "removed", "reextracted")


def stored_versions(stats: Any) -> int:
    return sum(int(stats.get_value(f"kisi/{outcome}", 0) or 0) for outcome in VERSION_OUTCOMES)


def write_failure(what: str, exc: BaseException, stored: int) -> str:
    """The one sentence a run that could not write the archive ends with."""
    full = (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)) or (
        isinstance(exc, sqlite3.OperationalError) and "full" in str(exc))
    if full:
        # Every write is temp file + fsync + rename/link: what failed left nothing half-written.
        return (f"disk full writing {what}; {stored} version(s) stored before it; nothing lost "
                "(free some space and crawl again)")
    return f"archive write failed for {what}: {exc}"


class ArchivePipeline:
    def __init__(self, archive: Archive, stats: Any, crawler: Any = None, warc: Any = None) -> None:
        self.archive, self.stats, self.crawler, self.warc = archive, stats, crawler, warc
        self.write_failed: str | None = None
        self._writer: WorkerPool | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> ArchivePipeline:
        session = session_of(crawler)
        if session.warc is not None:
            # The WARC record a version points to is on disk before the version (when this
            # process writes; the writer process fsyncs the file itself, crawler/writer.py).
            session.archive.before_version = session.warc.sync
        return cls(session.archive, crawler.stats, crawler, session.warc)

    def open_spider(self, spider: Any = None) -> None:
        from twisted.internet import reactor

        level = self.crawler.settings.get("LOG_LEVEL", "INFO") if self.crawler is not None else "INFO"
        self._writer = WorkerPool(1, task=TASK, timeout=WRITE_TIMEOUT, log_level=logging.getLevelName(level),
                                  name="archive writer", depth=WRITER_DEPTH)
        self._writer.start()  # ready by the first record
        # A forced stop (a second SIGTERM) stops the reactor without closing the spider: the
        # writer must still end (it finishes the record it holds and commits its index
        # batch), or the process would never exit.
        reactor.addSystemEventTrigger("during", "shutdown", self._stop_writer)

    async def close_spider(self, spider: Any = None) -> None:
        if self._writer is None:
            return
        try:
            await self._write(None)  # the end: the writer commits its index batch and closes
        except (StorageError, OSError, sqlite3.Error, ExtractionFailed) as exc:
            logger.error("the archive writer could not close the archive: %s", exc)
        self._stop_writer()

    def _stop_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            # The records queued are written too: they were fetched and extracted, and a
            # forced stop should not cost the next run their fetches.
            writer.close(timeout=WRITE_TIMEOUT, drain=True)

    async def process_item(self, item: Any, spider: Any = None) -> Any:
        if self.write_failed:
            return item
        try:
            # A capture read by another extractor than the stored version: that version's
            # raw response is read again first (crawler.reextract), cause "extractor".
            result = await self._write(item) if self._writer else self.archive.record(item, reread=reread_lazily)
        except (StorageError, OSError, sqlite3.Error, ExtractionFailed) as exc:
            # A write error is not a page error: stop the run loudly rather than lose data.
            what = getattr(item, "url", None) or getattr(item, "doc_id", None) or type(item).__name__
            if isinstance(exc, ExtractionFailed):  # the writer process died on it, twice
                exc = OSError(str(exc))
            self.write_failed = write_failure(what, exc, stored_versions(self.stats))
            logger.critical(self.write_failed)
            self.stats.set_value("kisi/archive_error", self.write_failed)
            if self.crawler is not None and self.crawler.engine is not None:
                deferred_from_coro(self.crawler.engine.close_spider_async(reason="archive_error"))
            return item
        outcome = "not-modified" if isinstance(item, Sighting) else result.outcome
        self.stats.inc_value(f"kisi/{outcome}")
        if not isinstance(item, AttachmentBlob):  # documents have a language; an attachment's body has not
            self.stats.inc_value(f"{LANGUAGE_STATS}{language_of(item, result.doc_id)}/{outcome}")
        log = logger.warning if outcome == "removed" else logger.info
        log("%s %s v%d %s", outcome, result.doc_id, result.version, ",".join(result.changed_fields))
        return item

    async def _write(self, record: Any) -> Any:
        """Store one record by the writer (None: the end of the writing); its CaptureResult."""
        assert self._writer is not None
        warc = str(self.warc.path) if self.warc is not None else None
        job = WriteJob(str(self.archive.root), record, warc)
        result = await maybe_deferred_to_future(on_reactor(self._writer.submit(job)))
        if isinstance(result, WriteFailed):
            raise result.exception()
        return result
