"""Downloader middlewares: retries that wait, and conditional requests.

Scrapy's own RetryMiddleware retries at once and ignores Retry-After (scrapy/scrapy#3849).
PoliteRetryMiddleware keeps its decision (which statuses and exceptions are retried, how
often) and adds the wait before the retry is handed back. One exception: a host that has
not answered once this run and whose name does not resolve or which refuses the
connection is unreachable, not flaky. Retrying with backoff only delays the verdict (each
of a run's first requests failing three times took 27 s before "site unreachable"), so
that failure is not retried and every later request to the host fails the same way at
once. Once a host has answered, the same failures (a restart, a DNS blip) are retried as
before, and so are timeouts, 5xx and 429 always.

ConditionalRequestsMiddleware sends back the validators of the last full answer for the
requests the frontier marks `conditional`, and keeps those of every full answer
(crawler/conditional.py holds them; the crawl session saves them between runs).

CheapMetaRefreshMiddleware is Scrapy's MetaRefreshMiddleware, first ruling a refresh out
in the bytes (see its docstring).
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import reactor, task
from twisted.internet.error import ConnectionRefusedError, DNSLookupError

from .conditional import Validators

logger = logging.getLogger(__name__)


def retry_after_seconds(value: bytes | str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - now).total_seconds())


def backoff_seconds(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff for the n-th retry (1-based): base, 2·base, 4·base … at most cap."""
    return min(cap, base * (2 ** max(0, attempt - 1)))


def _unreachable_errors() -> tuple[type[BaseException], ...]:
    """No such host, or nothing listening: Twisted's errors and Scrapy's wrappings of them."""
    found: list[type[BaseException]] = [DNSLookupError, ConnectionRefusedError]
    try:
        from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError
    except ImportError:  # Scrapy before 2.14 raises Twisted's own
        return tuple(found)
    return (*found, CannotResolveHostError, DownloadConnectionRefusedError)


UNREACHABLE_ERRORS = _unreachable_errors()


class HostUnreachable:
    """Which hosts answered this run, and which failed before ever answering (pure bookkeeping)."""

    def __init__(self) -> None:
        self.answered: set[str] = set()
        self.failed: dict[str, BaseException] = {}

    def answer(self, host: str) -> None:
        self.answered.add(host)

    def fails_fast(self, host: str, exception: BaseException) -> bool:
        """Is this failure the host's verdict (not retried)? Remembers it for the host's next requests."""
        if host in self.answered or not isinstance(exception, UNREACHABLE_ERRORS):
            return False
        self.failed.setdefault(host, exception)
        return True

    def known_failure(self, host: str) -> BaseException | None:
        return None if host in self.answered else self.failed.get(host)


class PoliteRetryMiddleware(RetryMiddleware):
    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.backoff_base = settings.getfloat("KISI_RETRY_BACKOFF", 2.0)
        self.backoff_cap = settings.getfloat("KISI_RETRY_BACKOFF_MAX", 60.0)
        self.retry_after_max = settings.getfloat("KISI_RETRY_AFTER_MAX", 300.0)
        self.hosts = HostUnreachable()

    def process_request(self, request: Request, spider: Any = None) -> None:
        failure = self.hosts.known_failure(urlparse_cached(request).netloc)
        if failure is not None:
            # The same verdict, without touching the network or waiting for the download delay.
            raise failure.with_traceback(None)

    async def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:  # type: ignore[override]
        self.hosts.answer(urlparse_cached(request).netloc)
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        wait = retry_after_seconds(response.headers.get("Retry-After"), datetime.now(timezone.utc))
        if wait is not None and wait > self.retry_after_max:
            logger.warning("%s asks to retry after %.0f s, more than the %.0f s we wait: giving up for this run",
                           request.url, wait, self.retry_after_max)
            return response
        retry = super().process_response(request, response)
        if isinstance(retry, Request):
            delay = wait if wait is not None else backoff_seconds(retry.meta.get("retry_times", 1),
                                                                  self.backoff_base, self.backoff_cap)
            logger.info("HTTP %d for %s: retrying in %.1f s%s", response.status, request.url, delay,
                        " (Retry-After)" if wait is not None else "")
            await _sleep(delay)
        return retry

    async def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> Request | Response | None:  # type: ignore[override]
        host = urlparse_cached(request).netloc
        if self.hosts.known_failure(host) is not None:
            return None  # the host never answered and failed before: its verdict is in
        if self.hosts.fails_fast(host, exception):
            logger.info("%s for %s: %s has not answered this run, so it is taken as unreachable (not retried)",
                        type(exception).__name__, request.url, host)
            return None
        retry = super().process_exception(request, exception)
        if isinstance(retry, Request):
            delay = backoff_seconds(retry.meta.get("retry_times", 1), self.backoff_base, self.backoff_cap)
            logger.info("%s for %s: retrying in %.1f s", type(exception).__name__, request.url, delay)
            await _sleep(delay)
        return retry


async def _sleep(seconds: float) -> None:
    if seconds > 0:
        await maybe_deferred_to_future(task.deferLater(reactor, seconds, lambda: None))


class ConditionalRequestsMiddleware:
    def __init__(self, validators: Validators) -> None:
        self.validators = validators

    @classmethod
    def from_crawler(cls, crawler: Any) -> ConditionalRequestsMiddleware:
        from .session import session_of

        return cls(session_of(crawler).validators)

    def process_request(self, request: Request, spider: Any = None) -> None:
        if request.meta.get("conditional"):
            # A redirected request carries the headers of the URL it came from: replace them.
            for name in ("If-None-Match", "If-Modified-Since"):
                request.headers.pop(name, None)
            for name, value in self.validators.headers(request.url).items():
                request.headers[name] = value

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Response:
        if request.meta.get("conditional") and response.status == 200:
            self.validators.remember(response.url, _header(response, b"ETag"), _header(response, b"Last-Modified"))
        return response


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


# Scrapy looks for a refresh in the first 4,096 characters of the decoded page, which are
# at most 16,384 bytes in any encoding a web page uses (UTF-8 4 bytes a character at most,
# UTF-16 and UTF-32 ASCII letters spaced out by NUL bytes).
META_REFRESH_SCAN_BYTES = 4 * 4096


class CheapMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy's meta refresh, without decoding every page to find none.

    Scrapy's middleware decodes the whole body of every HTML answer (`response.text`, kept on
    the response while it is processed) to look at its first 4,096 characters: 0.3 ms and
    twice the body's size in memory for a 90 KB page, on the crawl's busiest thread. A page
    whose first 16 KB hold no "refresh" in any case, NUL bytes aside, cannot have one there;
    the others go through Scrapy's middleware unchanged."""

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:  # type: ignore[override]
        if isinstance(response, HtmlResponse) and not _may_refresh(response.body):
            return response
        return super().process_response(request, response)


def _may_refresh(body: bytes) -> bool:
    head = body[:META_REFRESH_SCAN_BYTES]
    return b"refresh" in head.replace(b"\0", b"").lower()
