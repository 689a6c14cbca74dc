"""The `events` spider: translates between Scrapy and the frontier, nothing more.

Every decision (what to fetch, what a post's answer means, when a post counts as removed)
is the frontier's (crawler/frontier.py). The spider turns its `Fetch` orders into Scrapy
requests, every response into a `Reply` (posts answering 200 are extracted first) and
every failure into a `FetchFailure`, and yields the records the frontier returns to the
pipeline. When nothing is in flight it asks the frontier for the next phase.
"""
from __future__ import annotations

import logging
from typing import Any, AsyncIterator, Iterator

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler import orders
from crawler.extract import decode_html_ex, extract_page
from crawler.orders import Fetch, Step
from crawler.pdftext import attachment_text
from crawler.session import CrawlSession, session_of
from crawler.spiders.translate import ACCEPTED_STATUSES, classify, to_reply
from storage.urls import site_key

logger = logging.getLogger(__name__)


class EventsSpider(scrapy.Spider):
    name = "events"
    session: CrawlSession

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> EventsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.session = session_of(crawler)
        spider.frontier = spider.session.frontier
        config = spider.session.config
        spider.allowed_domains = sorted({site_key(s.url) for s in (config.seed, *config.sections)})
        crawler.signals.connect(spider._idle, signal=signals.spider_idle)
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        for out in self._emit(self.frontier.start()):
            yield out

    def _emit(self, step: Step) -> Iterator[Any]:
        self.session.maybe_checkpoint()
        for url in step.forget:
            self.session.validators.forget(url)
        yield from step.records
        for order in step.fetches:
            yield self._request(order)

    def _request(self, order: Fetch) -> scrapy.Request:
        # The frontier de-duplicates itself; Scrapy's filter would also drop rechecks.
        meta = {"order": order, "conditional": order.conditional, "handle_httpstatus_list": ACCEPTED_STATUSES}
        if order.kind == orders.ATTACHMENT:
            limit = self.session.config.max_attachment_mb * 1024 * 1024
            meta.update(download_maxsize=limit, download_warnsize=limit)
        elif order.kind in orders.MAX_MB:
            limit = min(self.session.config.max_response_mb, orders.MAX_MB[order.kind]) * 1024 * 1024
            meta.update(download_maxsize=limit, download_warnsize=limit // 2)
        return scrapy.Request(order.url, callback=self._reply, errback=self._failed, priority=order.priority,
                              meta=meta, dont_filter=True)

    def _reply(self, response: Response) -> Iterator[Any]:
        order: Fetch = response.meta["order"]
        reply = to_reply(response)
        page = None
        if order.kind == orders.POST and reply.status == 200 and reply.body.strip():
            page = extract_page(decode_html_ex(reply.body, reply.header("Content-Type")), reply.url,
                                reply.header("Link"))
        elif order.kind == orders.ATTACHMENT and reply.status == 200:
            page = attachment_text(reply.body, reply.header("Content-Type"), reply.url)
        step = self.frontier.on_reply(order, reply, page)
        self._log_errors()
        yield from self._emit(step)

    def _failed(self, failure: Failure) -> Iterator[Any]:
        order: Fetch = failure.request.meta["order"]
        step = self.frontier.on_failure(order, classify(failure))
        self._log_errors()
        yield from self._emit(step)

    def _log_errors(self) -> None:
        while self.frontier.errors:
            logger.error("page failed: %s", self.frontier.errors.pop(0))

    def _idle(self, spider: Any = None) -> None:
        step = self.frontier.idle()
        for out in self._emit(step):
            self.crawler.engine.crawl(out)
        if step.fetches:
            raise DontCloseSpider

    def _closed(self, spider: Any = None, reason: str = "") -> None:
        memory, self.report = self.frontier.close(finished=reason == "finished")
        if reason != "archive_error":
            self.session.save(memory)
        self.session.close()
        logger.info("sources: %s", self.report.source_line())
