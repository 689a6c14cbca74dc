"""Scrapy settings derived from the one configuration (scheduler.config.Config)."""
from __future__ import annotations

import json
from typing import Any

from crawler.config import Config

# Settings that never vary: they are policy, not configuration.
STATIC: dict[str, Any] = {
    "BOT_NAME": "kisi-archive",
    "SPIDER_MODULES": ["crawler.spiders"],
    "NEWSPIDER_MODULE": "crawler.spiders",
    "ROBOTSTXT_OBEY": True,
    "COOKIES_ENABLED": False,
    "TELNETCONSOLE_ENABLED": False,
    "AUTOTHROTTLE_ENABLED": True,
    "AUTOTHROTTLE_MAX_DELAY": 60.0,
    "HTTPCACHE_ENABLED": False,  # the archive must know what the server actually said
    "ITEM_PIPELINES": {"crawler.pipelines.ArchivePipeline": 300},
    # Our retry waits for Retry-After and backs off; it replaces Scrapy's (same order slot).
    "DOWNLOADER_MIDDLEWARES": {
        "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
        "crawler.middlewares.PoliteRetryMiddleware": 550,
    },
    "RETRY_ENABLED": True,
    "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
    "LOG_LEVEL": "INFO",
    "DEFAULT_REQUEST_HEADERS": {
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "Accept-Language": "en,ru;q=0.8,kk;q=0.7",
    },
}


def build(config: Config, *, run_id: str | None = None) -> dict[str, Any]:
    """All Scrapy settings for a crawl with this configuration."""
    settings = dict(STATIC)
    settings.update(
        {
            "USER_AGENT": config.user_agent,
            "CONCURRENT_REQUESTS": config.concurrency,
            "CONCURRENT_REQUESTS_PER_DOMAIN": config.concurrency,
            "DOWNLOAD_DELAY": config.download_delay,
            "AUTOTHROTTLE_START_DELAY": max(config.download_delay, 0.1),
            "AUTOTHROTTLE_TARGET_CONCURRENCY": config.autothrottle_target,
            "DOWNLOAD_TIMEOUT": config.timeout,
            "RETRY_TIMES": config.retries,
            "DOWNLOAD_MAXSIZE": config.max_response_mb * 1024 * 1024,
            "DOWNLOAD_WARNSIZE": max(1, config.max_response_mb // 4) * 1024 * 1024,
            "LOG_LEVEL": config.log_level,
            "KISI_ARCHIVE_DIR": str(config.archive_dir),
            "KISI_SECTIONS": json.dumps([s.__dict__ for s in config.sections]),
            "KISI_FOLLOW_TRANSLATIONS": config.follow_translations,
            "KISI_MAX_LISTING_PAGES": config.max_listing_pages,
            "KISI_RUN_ID": run_id,
            "KISI_FULL": config.full,
            "KISI_RECHECK": json.dumps({"min": config.recheck_min, "max": config.recheck_max,
                                        "factor": config.recheck_factor}),
            "KISI_SWEEP_EVERY": config.sweep_every,
            "KISI_REMOVAL_GRACE": config.removal_grace,
            "KISI_RETRY_AFTER_MAX": config.retry_after_max,
            "KISI_RETRY_BACKOFF": config.retry_backoff,
            "KISI_NOW": config.now,
        }
    )
    return settings
