"""Scrapy's side of the run's scope: ScopeMiddleware refuses every request outside it.

crawler/scope.py decides (the one allow-list of hosts of the run); this downloader
middleware only enforces it, on every request as it leaves, redirect hops and meta
refreshes included: those come back through the whole chain as new requests, and all of
ours are `dont_filter`, which Scrapy's own OffsiteMiddleware lets through. A request
outside is never sent (nor that host's robots.txt asked); it fails with OffsiteRequest,
whose message is the one sentence the log shows. (No Twisted import here: this module is
imported before Scrapy installs its reactor.)
"""
from __future__ import annotations

import logging
from typing import Any

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request

from .scope import Scope

logger = logging.getLogger(__name__)


class OffsiteRequest(IgnoreRequest):
    """A request outside the run's hosts: not sent (its message is the sentence)."""


class ScopeMiddleware:
    def __init__(self, scope: Scope, stats: Any = None) -> None:
        self.scope, self.stats = scope, stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> ScopeMiddleware:
        # From the configuration, as the frontier's own (not through the crawl session: the
        # probe uses this middleware too, and opens no archive).
        from .frontier import Options
        from .session import CONFIG_SETTING

        return cls(Options.from_config(crawler.settings.get(CONFIG_SETTING)).scope, crawler.stats)

    def process_request(self, request: Request, spider: Any = None) -> None:
        order = request.meta.get("order")
        cdn = getattr(order, "cdn_host", None)  # granted by the frontier to this attachment alone
        why = self.scope.why_not(request.url, attachment=getattr(order, "kind", None) == "attachment",
                                 granted=(cdn,) if cdn else ())
        if why is None:
            return
        hops = request.meta.get("redirect_urls") or []
        first = hops[0] if hops else getattr(order, "url", request.url)
        how = f"{'redirected' if hops else 'asked'} to {request.url[:300]}"
        message = f"{first}: {how}, {why}: not followed"
        logger.warning(message)
        if self.stats is not None:
            self.stats.inc_value("kisi/offsite_refused")
        raise OffsiteRequest(message)
