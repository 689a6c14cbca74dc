"""Scrapy's responses and failures in the frontier's terms (crawler/orders.py): shared by the
spiders, so each translates the same way."""
from __future__ import annotations

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectError, DNSLookupError, TCPTimedOutError, TimeoutError as TxTimeoutError
from twisted.python.failure import Failure

from crawler import orders
from crawler.orders import FetchFailure, Reply
from crawler.warc import REF_META as WARC_REF

try:  # Scrapy >= 2.14 wraps connection failures in its own exceptions
    from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError, DownloadTimeoutError
    _SCRAPY_UNREACHABLE: tuple[type[BaseException], ...] = (
        CannotResolveHostError, DownloadConnectionRefusedError, DownloadTimeoutError)
except ImportError:  # pragma: no cover
    _SCRAPY_UNREACHABLE = ()

UNREACHABLE = (DNSLookupError, ConnectError, TCPTimedOutError, TxTimeoutError, *_SCRAPY_UNREACHABLE)
# Every status reaches the frontier (a 404 is evidence, a 304 a confirmation), except the
# redirects, which Scrapy follows first.
ACCEPTED_STATUSES = [304, *range(400, 600)]


def to_reply(response: Response) -> Reply:
    headers = {name.decode("latin-1").lower(): ", ".join(v.decode("latin-1") for v in response.headers.getlist(name))
               for name in response.headers}
    return Reply(url=response.url, status=response.status, body=response.body, headers=headers,
                 requested_url=response.meta.get("redirect_urls", [response.url])[0],
                 warc=response.meta.get(WARC_REF))


def classify(failure: Failure) -> FetchFailure:
    """What went wrong without an HTTP answer, in the frontier's terms."""
    if failure.check(HttpError):
        return FetchFailure(orders.ERROR, f"HTTP {failure.value.response.status}")
    if failure.check(IgnoreRequest):
        message = str(failure.value) or "request ignored"
        return FetchFailure(orders.FORBIDDEN if "robots" in message.lower() else orders.ERROR, message)
    if failure.check(*UNREACHABLE):
        return FetchFailure(orders.UNREACHABLE, f"{failure.type.__name__}: {failure.getErrorMessage()}")
    return FetchFailure(orders.ERROR, f"{failure.type.__name__}: {failure.getErrorMessage()}")
