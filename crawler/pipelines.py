"""The only bridge from Scrapy into the archive: hands each Capture to `storage`."""
from __future__ import annotations

import logging
from typing import Any

from scrapy.utils.defer import deferred_from_coro

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
        if not isinstance(item, Capture) or self.archive is None or self.write_failed:
            return item
        try:
            result = self.archive.record_capture(item)
        except (StorageError, OSError) as exc:
            # A write error is not a page error: stop the run loudly rather than lose data.
            self.write_failed = f"archive write failed for {item.url}: {exc}"
            logger.critical(self.write_failed)
            self.stats.set_value("kisi/archive_error", self.write_failed)
            if self.crawler is not None and self.crawler.engine is not None:
                deferred_from_coro(self.crawler.engine.close_spider_async(reason="archive_error"))
            return item
        self.stats.inc_value(f"kisi/{result.outcome}")
        logger.info("%s %s v%d %s", result.outcome, result.doc_id, result.version,
                    ",".join(result.changed_fields) if result.changed_fields else "")
        return item
