"""From a thread's concurrent.futures.Future to a Deferred on the reactor, for Scrapy code."""
from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from twisted.internet.defer import Deferred

from .pool import ExtractionFailed


def on_reactor(future: Future[Any]) -> Deferred[Any]:
    """A Deferred fired on the reactor thread when `future` (resolved in a pool thread) is done."""
    from twisted.internet import reactor

    deferred: Deferred[Any] = Deferred()

    def fire(done: Future[Any]) -> None:
        if done.cancelled():
            deferred.errback(ExtractionFailed("cancelled: the crawl is closing"))
            return
        error = done.exception()
        if error is not None:
            deferred.errback(error)
        else:
            deferred.callback(done.result())

    future.add_done_callback(lambda done: reactor.callFromThread(fire, done))
    return deferred
