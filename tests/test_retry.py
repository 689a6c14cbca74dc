"""Which failures are retried: an unreachable host fails fast, a flaky one is retried."""
from __future__ import annotations

import pytest
from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError, DownloadTimeoutError
from twisted.internet.error import ConnectionRefusedError, DNSLookupError

from crawler.middlewares import HostUnreachable


@pytest.mark.parametrize("answered, error, fast", [
    (False, DownloadConnectionRefusedError("refused"), True),  # nothing listens: the site is down
    (False, ConnectionRefusedError(), True),
    (False, CannotResolveHostError("no such host"), True),  # the name does not resolve
    (False, DNSLookupError("no such host"), True),
    (False, DownloadTimeoutError("took too long"), False),  # slow is not gone: retried
    (True, DownloadConnectionRefusedError("refused"), False),  # it answered before: a restart, retried
    (True, CannotResolveHostError("blip"), False),
])
def test_only_a_host_that_never_answered_fails_fast(answered: bool, error: Exception, fast: bool) -> None:
    hosts = HostUnreachable()
    if answered:
        hosts.answer("example.org")
    assert hosts.fails_fast("example.org", error) is fast
    assert (hosts.known_failure("example.org") is error) is fast
    assert hosts.known_failure("other.example.org") is None


def test_a_host_that_answers_later_is_no_longer_failed() -> None:
    hosts = HostUnreachable()
    refused = DownloadConnectionRefusedError("refused")
    assert hosts.fails_fast("example.org", refused)
    hosts.answer("example.org")
    assert hosts.known_failure("example.org") is None


def _refresh_page(head: str, encoding: str = "utf-8") -> bytes:
    return f"<html><head>{head}</head><body><p>текст</p></body></html>".encode(encoding)


REFRESH = '<meta http-equiv="refresh" content="0; url=/elsewhere/">'


@pytest.mark.parametrize("body", [
    _refresh_page(REFRESH),
    _refresh_page(REFRESH.upper().replace("/ELSEWHERE/", "/elsewhere/")),
    _refresh_page("<title>" + "Событие " * 500 + "</title>" + REFRESH),  # within 4,096 characters, beyond 4,096 bytes
    _refresh_page("<title>" + "Событие " * 600 + "</title>" + REFRESH),  # beyond 4,096 characters: Scrapy ignores it
    _refresh_page(REFRESH, "utf-16"),
    _refresh_page("<title>no refresh here</title>"),
    _refresh_page("<title>Fresh news</title>"),
], ids=["plain", "upper-case", "far-in-bytes", "too-far", "utf-16", "the-word", "none"])
def test_the_cheap_meta_refresh_decides_as_scrapys(body: bytes) -> None:
    from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
    from scrapy.http import HtmlResponse, Request
    from scrapy.utils.test import get_crawler

    from crawler.middlewares import CheapMetaRefreshMiddleware

    def outcome(middleware: MetaRefreshMiddleware) -> str:
        request = Request("https://example.org/post/")
        response = HtmlResponse(request.url, body=body, request=request,
                                headers={"Content-Type": "text/html; charset=utf-16" if body[:2] in (b"\xff\xfe", b"\xfe\xff") else "text/html"})
        result = middleware.process_response(request, response)
        return result.url if isinstance(result, Request) else "kept"

    crawler = get_crawler()
    assert outcome(CheapMetaRefreshMiddleware.from_crawler(crawler)) == outcome(MetaRefreshMiddleware.from_crawler(crawler))
