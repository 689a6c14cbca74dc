"""The WARC writer as a downloader middleware: every HTTP exchange of the crawl, as sent and
as answered, into the run's WARC file (storage.warcfiles.WarcLog, opened by the session).

It sits between the redirect and compression middlewares and the downloader (order 800:
Scrapy calls process_response from the downloader outwards), so it sees each hop of a
redirect, each answer a retry replaces, robots.txt, and every body before Scrapy decodes
its Content-Encoding: what the site sent. The request is recorded with the headers it
left with (User-Agent, Accept-Encoding, conditional validators). The record's place in
the file travels on in `response.meta["warc_ref"]`, and from there into the capture.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Callable

from scrapy.http import Request, Response

from storage.warcfiles import Exchange, WarcLog

logger = logging.getLogger(__name__)

REF_META = "warc_ref"


def exchange_of(request: Request, response: Response, now: datetime) -> Exchange:
    """A Scrapy request and its response as a plain Exchange (headers in their order)."""
    request_headers = [(name.decode("latin-1"), value.decode("latin-1"))
                       for name, values in request.headers.items() for value in values]
    response_headers = [(name.decode("latin-1"), value.decode("latin-1"))
                        for name, values in response.headers.items() for value in values]
    protocol = response.protocol or "HTTP/1.1"
    return Exchange(url=response.url, method=request.method, request_headers=request_headers,
                    status=response.status, response_headers=response_headers, body=response.body, fetched_at=now,
                    protocol=protocol if protocol.startswith("HTTP/") else f"HTTP/{protocol}",
                    request_body=request.body or b"",
                    ip_address=str(response.ip_address) if response.ip_address is not None else None)


class WarcMiddleware:
    def __init__(self, log: WarcLog | None, clock: Callable[[], datetime] | None = None) -> None:
        self.log = log
        self.clock = clock or (lambda: datetime.now(timezone.utc))

    @classmethod
    def from_crawler(cls, crawler: Any) -> WarcMiddleware:
        from .session import session_of

        return cls(session_of(crawler).warc)

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Response:
        if self.log is None:
            return response
        try:
            request.meta[REF_META] = self.log.write(exchange_of(request, response, self.clock()))
        except OSError as exc:
            # The WARC is a record of the crawl, the snapshots its result: a full disk stops
            # the run at the archive write that follows, loudly; here it is said once more.
            logger.error("could not write %s to the WARC file: %s", response.url, exc)
            request.meta.pop(REF_META, None)
        return response
