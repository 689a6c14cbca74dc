"""`scrapy crawl events` with kisi-archive's exit status.

Scrapy's own `crawl` exits 0 whatever happened to the crawl. This one exits as
`kisi-archive crawl` does: 1 when the archive could not be written, 3 when the site could
not be crawled, 130 when stopped by a signal. It is still the bare spider: no crawl lock,
no run record (use `kisi-archive crawl` for those).
"""
from __future__ import annotations

import argparse

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from crawler.run import ending


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("name one spider: scrapy crawl events")
        assert self.crawler_process
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed or crawler.spider is None:
            self.exitcode = 1
            return
        outcome, reason, self.exitcode = ending(crawler.spider.report, crawler.stats.get_stats())
        if reason:
            print(f"crawl {outcome}: {reason}")
