"""The `probe` spider: translates between Scrapy and the prober (crawler/prober.py)."""
from __future__ import annotations

from typing import Any, AsyncIterator, Iterator

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.config import Section
from crawler.orders import Fetch, Step
from crawler.prober import Prober
from crawler.spiders.translate import ACCEPTED_STATUSES, classify, to_reply
from storage.urls import site_key


class ProbeSpider(scrapy.Spider):
    name = "probe"

    def __init__(self, seed: Section | None = None, checked_at: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        assert seed is not None, "the probe needs a seed section"
        self.prober = Prober(seed, checked_at)
        self.allowed_domains = [site_key(seed.url)]

    async def start(self) -> AsyncIterator[Any]:
        for request in self._emit(self.prober.start()):
            yield request

    def _emit(self, step: Step) -> Iterator[scrapy.Request]:
        for order in step.fetches:
            yield scrapy.Request(order.url, callback=self._reply, errback=self._failed, priority=order.priority,
                                 meta={"order": order, "handle_httpstatus_list": ACCEPTED_STATUSES},
                                 dont_filter=True)

    def _reply(self, response: Response) -> Iterator[scrapy.Request]:
        order: Fetch = response.meta["order"]
        yield from self._emit(self.prober.on_reply(order, to_reply(response)))

    def _failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        order: Fetch = failure.request.meta["order"]
        yield from self._emit(self.prober.on_failure(order, classify(failure)))
