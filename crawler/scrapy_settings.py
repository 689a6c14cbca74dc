"""Scrapy settings derived from the one configuration (crawler.config.Config)."""
from __future__ import annotations

from typing import Any

from .config import Config
from .session import CONFIG_SETTING, RUN_ID_SETTING

# Settings that never vary: they are policy, not configuration.
STATIC: dict[str, Any] = {
    "BOT_NAME": "kisi-archive",
    "SPIDER_MODULES": ["crawler.spiders"],
    "NEWSPIDER_MODULE": "crawler.spiders",
    "ROBOTSTXT_OBEY": True,
    "COOKIES_ENABLED": False,
    # No control endpoints: Scrapy's telnet console and its remote-control HTTP server (on by
    # default in Scrapy 2.19: it runs any Python code sent with a token it writes under
    # ~/.local/state/scrapy/job_files/, a file a killed crawl leaves behind) are a way into a
    # process that writes the archive. A crawl listens on no port and writes nothing outside it.
    "TELNETCONSOLE_ENABLED": False,
    "REMOTE_CONTROL_ENABLED": False,
    # What is switched off is also left out, so that its module is not even imported: the
    # remote control imports aiohttp, the cookies middleware tldextract and requests, 8 MB
    # of the crawl process's memory for components that do nothing.
    "EXTENSIONS": {
        "scrapy.extensions.telnet.TelnetConsole": None,
        "scrapy.extensions.remote_control.RemoteControl": None,
        "scrapy.extensions.memdebug.MemoryDebugger": None,  # MEMDEBUG_ENABLED is off
        "scrapy.extensions.feedexport.FeedExporter": None,  # records go to the archive, no FEEDS
        "scrapy.extensions.spiderstate.SpiderState": None,  # no JOBDIR: the frontier keeps its own state
    },
    "AUTOTHROTTLE_MAX_DELAY": 60.0,
    "HTTPCACHE_ENABLED": False,  # the archive must know what the server actually said
    "ITEM_PIPELINES": {"crawler.pipelines.ArchivePipeline": 300},
    # Scrapy starts this many asyncio tasks for the output of every response (default 100);
    # a response yields a few records and requests, and one writer (crawler/writer.py) stores them in order.
    "CONCURRENT_ITEMS": 8,
    # Our retry waits for Retry-After and backs off; it replaces Scrapy's (same order slot).
    "DOWNLOADER_MIDDLEWARES": {
        # First of all (before robots.txt, 100): a request outside the run's hosts, a redirect
        # hop or a meta refresh included, is never sent, nor is that host's robots.txt asked.
        "crawler.offsite.ScopeMiddleware": 50,
        "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,  # COOKIES_ENABLED is off
        "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware": None,  # HTTPCACHE_ENABLED is off
        "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
        "crawler.middlewares.PoliteRetryMiddleware": 550,
        # The same meta refresh, without decoding every page that has none; just inside
        # Scrapy's slot (580), which it shared with the conditional requests below in this order.
        "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
        "crawler.middlewares.CheapMetaRefreshMiddleware": 575,
        # Outside the retry and redirect middlewares: it sees the request as it leaves and the
        # final answer as it comes back.
        "crawler.middlewares.ConditionalRequestsMiddleware": 580,
        # Nearer the downloader than redirects (600) and decompression (590), farther than
        # the downloader's stats (850): each hop as sent and answered, bodies as sent.
        "crawler.warc.WarcMiddleware": 800,
    },
    # WordPress itself needs one or two hops (an old slug, a trailing slash); Scrapy's 20 made
    # every redirect loop or chain 21 requests per URL per run.
    "REDIRECT_MAX_TIMES": 5,
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
            "AUTOTHROTTLE_ENABLED": config.autothrottle,
            "AUTOTHROTTLE_START_DELAY": max(config.download_delay, 0.1),
            "AUTOTHROTTLE_TARGET_CONCURRENCY": config.autothrottle_target,
            "DOWNLOAD_TIMEOUT": config.timeout,
            "RETRY_TIMES": config.retries,
            "DOWNLOAD_MAXSIZE": config.max_response_mb * 1024 * 1024,
            "DOWNLOAD_WARNSIZE": max(1, config.max_response_mb // 4) * 1024 * 1024,
            "LOG_LEVEL": config.log_level,
            "KISI_ARCHIVE_DIR": str(config.archive_dir),
            "KISI_RETRY_AFTER_MAX": config.retry_after_max,
            "KISI_RETRY_BACKOFF": config.retry_backoff,
            # The crawl's own settings travel as the typed Config (crawler/session.py reads it).
            CONFIG_SETTING: config,
            RUN_ID_SETTING: run_id,
        }
    )
    return settings
