"""The only bridge from Scrapy into the archive: hands each record to `storage`."""
from __future__ import annotations

import logging
from typing import Any

from scrapy.utils.defer import deferred_from_coro

from crawler.items import NotModified, Removal
from storage import Archive, Capture, StorageError

logger = logging.getLogger(__name__)


class ArchivePipeline:
    def __init__(self, archive_dir: str, stats: Any, crawler: Any = None) -> None:
        self.archive_dir = archive_dir
        self.stats = stats
        self.crawler = crawler
        self.archive: Archive | None = None
        self.write_failed: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> ArchivePipeline:
        return cls(crawler.settings.get("KISI_ARCHIVE_DIR", "archive"), crawler.stats, crawler)

    def open_spider(self, spider: Any = None) -> None:
        self.archive = Archive.open(self.archive_dir, create=True)

    def close_spider(self, spider: Any = None) -> None:
        if self.archive is not None:
            self.archive.close()

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if self.archive is None or self.write_failed:
            return item
        try:
            self._record(self.archive, item)
        except (StorageError, OSError) as exc:
            # A write error is not a page error: stop the run loudly rather than lose data.
            self.write_failed = f"archive write failed for {getattr(item, 'url', getattr(item, 'doc_id', item))}: {exc}"
            logger.critical(self.write_failed)
            self.stats.set_value("kisi/archive_error", self.write_failed)
            if self.crawler is not None and self.crawler.engine is not None:
                deferred_from_coro(self.crawler.engine.close_spider_async(reason="archive_error"))
        return item

    def _record(self, archive: Archive, item: Any) -> None:
        if isinstance(item, Capture):
            result = archive.record_capture(item)
            logger.info("%s %s v%d %s", result.outcome, result.doc_id, result.version, ",".join(result.changed_fields))
        elif isinstance(item, NotModified):
            archive.mark_seen(item.doc_id, url=item.url, fetched_at=item.fetched_at, http_status=304,
                              run_id=item.run_id, reason="not-modified")
            logger.info("not-modified %s", item.doc_id)
            self.stats.inc_value("kisi/not-modified")
            return
        elif isinstance(item, Removal):
            result = archive.record_removal(item.doc_id, evidence=item.evidence, fetched_at=item.fetched_at,
                                            http_status=item.http_status, run_id=item.run_id)
            logger.warning("removed %s (tombstone v%d)", result.doc_id, result.version)
        else:
            return
        self.stats.inc_value(f"kisi/{result.outcome}")
