"""The `events` spider: translates between Scrapy and the frontier, nothing more.

Every decision (what to fetch, what a post's answer means, when a post counts as removed)
is the frontier's (crawler/frontier.py). The spider turns its `Fetch` orders into Scrapy
requests, every response into a `Reply` (posts answering 200 are extracted first) and
every failure into a `FetchFailure`, and yields the records the frontier returns to the
pipeline. When nothing is in flight it asks the frontier for the next phase.

Posts are extracted in worker processes (crawler/pool.py) while downloads go on: `_reply`
awaits the page's extraction; a page whose extraction fails twice (its worker died or
hung) is a page error, like a failed download. An attachment's text (a PDF's) is read
there too; one that fails twice is kept without its text, saying why.

Post fetches wait in the spider and are handed to Scrapy POSTS_IN_SCRAPY at a time: a first
crawl's REST enumeration orders every post of the site within seconds, and as a queued
Scrapy request (its headers, its meta) a post fetch took 1.5 KB, an order waiting here a
fifth of it. Scrapy's scheduler would pick posts in the same order (the lowest priority,
newest order first), and the run is idle only once none waits here.
"""
from __future__ import annotations

import logging
from collections import deque
from typing import Any, AsyncIterator, Iterator

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.python.failure import Failure

from crawler import orders
from crawler.config import extract_workers
from crawler.deferreds import on_reactor
from crawler.orders import Fetch, FetchFailure, Reply, Step
from crawler.pdftext import AttachmentText
from crawler.pool import AttachmentJob, ExtractionFailed, PageJob, WorkerPool
from crawler.session import CrawlSession, session_of
from crawler.spiders.translate import ACCEPTED_STATUSES, classify, to_reply
from storage.urls import site_key

logger = logging.getLogger(__name__)

POSTS_IN_SCRAPY = 64  # post requests handed to Scrapy at a time: 8 downloads for each of 8 slots


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
        spider.pool = WorkerPool(extract_workers(config.extract_workers),
                                 log_level=logging.getLevelName(config.log_level.upper()))
        if not spider.session.known:
            # A first crawl extracts every post it finds: its workers import extraction while
            # discovery fetches the first pages. A routine run starts them at its first post.
            spider.pool.start()
        spider.held = deque()  # post fetches ordered and not yet handed to Scrapy
        spider.posts_out = 0  # post requests handed to Scrapy and not yet answered
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
            if order.kind == orders.POST:
                self.held.append(order)
            else:
                yield self._request(order)
        yield from self._release()

    def _release(self) -> Iterator[scrapy.Request]:
        while self.held and self.posts_out < POSTS_IN_SCRAPY:
            self.posts_out += 1
            yield self._request(self.held.pop())  # the newest first, as Scrapy's queue would

    def _answered(self, order: Fetch) -> None:
        if order.kind == orders.POST:
            self.posts_out = max(0, self.posts_out - 1)

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

    async def _reply(self, response: Response) -> AsyncIterator[Any]:
        order: Fetch = response.meta["order"]
        self._answered(order)
        reply = to_reply(response)
        page = None
        if order.kind == orders.POST and reply.status == 200 and reply.body.strip():
            try:
                page = await self._extract(reply)
            except ExtractionFailed as exc:
                step = self.frontier.on_failure(order, FetchFailure(orders.ERROR, f"extraction failed: {exc}"))
                self._log_errors()
                for out in self._emit(step):
                    yield out
                return
        elif order.kind == orders.ATTACHMENT and reply.status == 200:
            try:
                page = await self._attachment_text(reply)
            except ExtractionFailed as exc:  # kept without its text, and the reason why
                page = AttachmentText(error=f"text extraction failed: {exc}")
        step = self.frontier.on_reply(order, reply, page)
        self._log_errors()
        for out in self._emit(step):
            yield out

    def _extract(self, reply: Reply) -> Any:
        """The page's extraction by the pool, as something a Scrapy coroutine can await."""
        job = PageJob(reply.body, reply.header("Content-Type"), reply.url, reply.header("Link"))
        return maybe_deferred_to_future(on_reactor(self.pool.submit(job)))

    def _attachment_text(self, reply: Reply) -> Any:
        """An attachment's text (a PDF's, crawler/pdftext.py) by the pool: PDFium is CPU work too."""
        job = AttachmentJob(reply.body, reply.header("Content-Type"), reply.url)
        return maybe_deferred_to_future(on_reactor(self.pool.submit(job)))

    def _failed(self, failure: Failure) -> Iterator[Any]:
        order: Fetch = failure.request.meta["order"]
        self._answered(order)
        step = self.frontier.on_failure(order, classify(failure))
        self._log_errors()
        yield from self._emit(step)

    def _log_errors(self) -> None:
        while self.frontier.errors:
            logger.error("page failed: %s", self.frontier.errors.pop(0))

    def _idle(self, spider: Any = None) -> None:
        if self.held:  # the phase is not over while post fetches wait here
            self.posts_out = 0  # Scrapy is idle: none of its requests is still out
            for request in self._release():
                self.crawler.engine.crawl(request)
            raise DontCloseSpider
        step = self.frontier.idle()
        for out in self._emit(step):
            self.crawler.engine.crawl(out)
        if step.fetches:
            raise DontCloseSpider

    def _closed(self, spider: Any = None, reason: str = "") -> None:
        self.pool.close()
        if self.pool.restarts or self.pool.failed:
            logger.warning("extraction: %d worker(s) replaced, %d page(s) failed", self.pool.restarts,
                           self.pool.failed)
        memory, self.report = self.frontier.close(finished=reason == "finished")
        if reason != "archive_error":
            self.session.save(memory)
        self.session.close()
        logger.info("sources: %s", self.report.source_line())

