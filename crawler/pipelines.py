"""The only bridge from Scrapy into the archive: hands each record to `storage`."""
from __future__ import annotations

import logging
from typing import Any

from scrapy.utils.defer import deferred_from_coro

from storage import Archive, Sighting, StorageError

from .reextract import reread
from .session import session_of

logger = logging.getLogger(__name__)


class ArchivePipeline:
    def __init__(self, archive: Archive, stats: Any, crawler: Any = None, warc: Any = None) -> None:
        self.archive, self.stats, self.crawler, self.warc = archive, stats, crawler, warc
        self.write_failed: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> ArchivePipeline:
        session = session_of(crawler)
        if session.warc is not None:
            # The WARC record a version points to is on disk before the version.
            session.archive.before_version = session.warc.sync
        return cls(session.archive, crawler.stats, crawler, session.warc)

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if self.write_failed:
            return item
        try:
            # A capture read by another extractor than the stored version: that version's
            # raw response is read again first (crawler.reextract), cause "extractor".
            result = self.archive.record(item, reread=reread)
        except (StorageError, OSError) as exc:
            # A write error is not a page error: stop the run loudly rather than lose data.
            what = getattr(item, "url", None) or getattr(item, "doc_id", None) or type(item).__name__
            self.write_failed = f"archive write failed for {what}: {exc}"
            logger.critical(self.write_failed)
            self.stats.set_value("kisi/archive_error", self.write_failed)
            if self.crawler is not None and self.crawler.engine is not None:
                deferred_from_coro(self.crawler.engine.close_spider_async(reason="archive_error"))
            return item
        outcome = "not-modified" if isinstance(item, Sighting) else result.outcome
        self.stats.inc_value(f"kisi/{outcome}")
        log = logger.warning if outcome == "removed" else logger.info
        log("%s %s v%d %s", outcome, result.doc_id, result.version, ",".join(result.changed_fields))
        return item
