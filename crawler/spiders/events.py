"""The `events` spider: wires discovery and extraction to Scrapy.

For each configured section (a site and a category) it reads the category feed and walks
the category listing, fetches each post it names once, extracts it and yields a
`storage.Capture`. Translations named by hreflang links are followed. Everything that
goes wrong is logged with its URL and counted; nothing here decides about versions.
"""
from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Iterable
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectError, DNSLookupError, TCPTimedOutError, TimeoutError as TxTimeoutError

try:  # Scrapy >= 2.14 wraps connection failures in its own exceptions
    from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError, DownloadTimeoutError
    _SCRAPY_UNREACHABLE: tuple[type[BaseException], ...] = (
        CannotResolveHostError, DownloadConnectionRefusedError, DownloadTimeoutError)
except ImportError:  # pragma: no cover
    _SCRAPY_UNREACHABLE = ()
from twisted.python.failure import Failure

from crawler.discovery import DiscoveryError, category_feed_url, category_listing_url, is_post_candidate, parse_category_listing, parse_feed
from crawler.extract import ExtractedPage, decode_html, extract_page
from storage.records import Capture
from storage.urls import normalize_url, site_key

logger = logging.getLogger(__name__)

UNREACHABLE = (DNSLookupError, ConnectError, TCPTimedOutError, TxTimeoutError, *_SCRAPY_UNREACHABLE)


def utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


class EventsSpider(scrapy.Spider):
    name = "events"
    # Listing 404s and post errors are handled by the errbacks, not dropped silently.
    custom_settings: dict[str, Any] = {}

    def __init__(self, sections: str | list[dict[str, Any]] | None = None, follow_translations: bool | str = True,
                 max_listing_pages: int | str = 500, run_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(sections, str):
            sections = json.loads(sections)
        self.sections: list[dict[str, Any]] = list(sections or [])
        self.follow_translations = follow_translations not in (False, "0", "false", "False")
        self.max_listing_pages = int(max_listing_pages)
        self.run_id = run_id
        self.allowed_domains = sorted({urlsplit(s["url"]).hostname or "" for s in self.sections})
        self.counts: Counter[str] = Counter()
        self.source_counts: Counter[str] = Counter()  # "feed:<section>" -> posts named
        self.section_state: dict[str, str] = {}  # section label -> ok / not-found / unreachable / forbidden
        self.section_detail: dict[str, str] = {}  # section label -> why its listing failed
        self._requested: set[str] = set()  # normalized post URLs already requested
        self._captured_ids: set[tuple[str, int]] = set()

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> EventsSpider:
        settings = crawler.settings
        kwargs.setdefault("sections", settings.get("KISI_SECTIONS"))
        kwargs.setdefault("follow_translations", settings.getbool("KISI_FOLLOW_TRANSLATIONS", True))
        kwargs.setdefault("max_listing_pages", settings.getint("KISI_MAX_LISTING_PAGES", 500))
        kwargs.setdefault("run_id", settings.get("KISI_RUN_ID"))
        return super().from_crawler(crawler, *args, **kwargs)

    # -- start ---------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self.start_requests_list():
            yield request

    def start_requests_list(self) -> list[scrapy.Request]:
        requests = []
        for section in self.sections:
            label = self._label(section)
            self.section_state[label] = "pending"
            meta = {"section": section, "page": 1}
            requests.append(scrapy.Request(category_listing_url(section["url"], section["category"]), callback=self.parse_listing,
                                           errback=self.listing_failed, meta=meta, priority=10))
            requests.append(scrapy.Request(category_feed_url(section["url"], section["category"]), callback=self.parse_feed,
                                           errback=self.feed_failed, meta={"section": section}, priority=20))
        return requests

    @staticmethod
    def _label(section: dict[str, Any]) -> str:
        return f"{section['url'].rstrip('/')}/category/{section['category']}/"

    # -- discovery -----------------------------------------------------------------------
    def parse_listing(self, response: Response) -> Iterable[scrapy.Request]:
        section, page = response.meta["section"], response.meta["page"]
        self.section_state[self._label(section)] = "ok"
        listing = parse_category_listing(_text(response), response.url)
        self.counts["listing_pages"] += 1
        self.source_counts["listing"] += len(listing.post_urls)
        logger.info("listing page %d of %s: %d posts", page, self._label(section), len(listing.post_urls))
        for url in listing.post_urls:
            yield from self._post_request(url, section, source="listing")
        if listing.next_url and page < self.max_listing_pages:
            yield response.follow(listing.next_url, callback=self.parse_listing, errback=self.listing_failed,
                                  meta={"section": section, "page": page + 1}, priority=10)
        elif listing.next_url:
            logger.warning("stopped at listing page %d (max_listing_pages)", page)

    def listing_failed(self, failure: Failure) -> None:
        request = failure.request
        section, page = request.meta["section"], request.meta["page"]
        label = self._label(section)
        status = failure.value.response.status if failure.check(HttpError) else None
        if status == 404 and page > 1:
            logger.info("listing of %s ends at page %d", label, page - 1)
            return
        reason = _describe(failure)
        if page == 1:
            # The run's one-line failure reason reports this; the log keeps the detail.
            self.section_state[label] = _section_failure(failure)
            logger.info("cannot read the category listing %s: %s", request.url, reason)
            self.section_detail[label] = reason
        else:
            logger.error("listing page %s failed: %s", request.url, reason)
        self.counts["errors"] += 1

    def parse_feed(self, response: Response) -> Iterable[scrapy.Request]:
        section = response.meta["section"]
        try:
            entries = parse_feed(response.body, response.url)
        except DiscoveryError as exc:
            logger.warning("feed %s unusable: %s", response.url, exc)
            self.counts["source_errors"] += 1
            return
        self.source_counts["feed"] += len(entries)
        logger.info("feed %s: %d posts", response.url, len(entries))
        for entry in entries:
            yield from self._post_request(entry.url, section, source="feed")

    def feed_failed(self, failure: Failure) -> None:
        logger.info("feed %s unavailable: %s", failure.request.url, _describe(failure))
        self.counts["source_errors"] += 1

    def _post_request(self, url: str, section: dict[str, Any], *, source: str,
                      translation_of: str | None = None) -> Iterable[scrapy.Request]:
        if not is_post_candidate(url, section["url"]) and translation_of is None:
            logger.debug("not a post URL, skipped: %s", url)
            return
        key = normalize_url(url)
        if key in self._requested:
            return
        self._requested.add(key)
        self.counts["discovered"] += 1
        yield scrapy.Request(url, callback=self.parse_post, errback=self.post_failed,
                             meta={"section": section, "source": source, "translation_of": translation_of})

    # -- posts ---------------------------------------------------------------------------
    def parse_post(self, response: Response) -> Iterable[Any]:
        section = response.meta["section"]
        if not response.body.strip():
            self._page_error(response.url, f"empty body (HTTP {response.status})")
            return
        if not isinstance(response, TextResponse) and b"<html" not in response.body[:2048].lower():
            self._page_error(response.url, f"not an HTML page ({response.headers.get('Content-Type', b'').decode('latin-1')})")
            return
        self.counts["fetched"] += 1
        page = extract_page(_text(response), response.url, _link_header(response))
        translation_of = response.meta.get("translation_of")
        if page.page_kind in ("page", "archive"):
            logger.info("page skipped: %s: not a single post (page kind %r)", response.url, page.page_kind)
            self.counts["skipped_not_post"] += 1
            return
        if not page.text.strip():
            self._page_error(response.url, "nothing extractable (empty main text; " + ", ".join(page.warnings) + ")")
            return
        if translation_of is None and not self._in_category(response, section):
            logger.info("skipped %s: not in category %r", response.url, section["category"])
            self.counts["skipped_other_category"] += 1
            return
        site = site_key(section["url"])
        if page.post_id is not None:
            if (site, page.post_id) in self._captured_ids:
                return  # the same post reached by another URL in this run
            self._captured_ids.add((site, page.post_id))
        yield self._capture(response, page, section, site)
        if self.follow_translations:
            for lang, url in sorted(page.alternates.items()):
                if url and normalize_url(url) != normalize_url(page.canonical_url or response.url):
                    yield from self._post_request(url, section, source="hreflang", translation_of=page.canonical_url or response.url)

    def _in_category(self, response: Response, section: dict[str, Any]) -> bool:
        """Posts are discovered from the category, but the page has the last word when it says."""
        hrefs = response.xpath("//a[contains(concat(' ', normalize-space(@rel), ' '), ' category ')]/@href").getall()
        if not hrefs:
            return True
        slug = section["category"].strip("/").lower()
        return any(f"/category/{slug}/" in normalize_url(h).lower() + "/" for h in hrefs)

    def _capture(self, response: Response, page: ExtractedPage, section: dict[str, Any], site: str) -> Capture:
        return Capture(
            url=response.meta.get("redirect_urls", [response.url])[0],
            final_url=response.url,
            http_status=response.status,
            fetched_at=utc_now(),
            site=site,
            post_id=page.post_id,
            language=page.language or section.get("language"),
            canonical_url=page.canonical_url,
            shortlink=page.shortlink,
            title=page.title,
            text=page.text,
            date_published=page.date_published,
            date_modified=page.date_modified,
            author=page.author,
            categories=tuple(page.categories),
            tags=tuple(page.tags),
            alternates=dict(page.alternates),
            extractor=dict(page.extractor),
            raw_body=response.body,
            raw_content_type=response.headers.get("Content-Type", b"").decode("latin-1") or None,
            run_id=self.run_id,
            sources=(response.meta.get("source") or "",),
        )

    def post_failed(self, failure: Failure) -> None:
        self._page_error(failure.request.url, _describe(failure))

    def _page_error(self, url: str, reason: str) -> None:
        self.counts["errors"] += 1
        logger.error("page failed: %s: %s", url, reason)

    # -- end -----------------------------------------------------------------------------
    def failure_reason(self) -> str | None:
        """Why the site could not be crawled at all, or None when at least one section was read."""
        states = list(self.section_state.values())
        if any(state == "ok" for state in states) or not states:
            return None
        labels = ", ".join(self.section_state)
        if all(state == "forbidden" for state in states):
            return f"robots.txt forbids crawling {labels}"
        if all(state == "unreachable" for state in states):
            detail = next(iter(self.section_detail.values()), "")
            return f"site unreachable ({labels}: {detail})"
        if all(state == "not-found" for state in states):
            return f"category not found: {labels} answered 404"
        return f"site could not be crawled ({', '.join(f'{k}: {v}' for k, v in self.section_state.items())})"


def _link_header(response: Response) -> str | None:
    values = [v.decode("latin-1") for v in response.headers.getlist("Link")]
    return ", ".join(values) or None


def _text(response: Response) -> str:
    return decode_html(response.body, response.headers.get("Content-Type", b"").decode("latin-1") or None)


def _section_failure(failure: Failure) -> str:
    if failure.check(HttpError):
        return "not-found" if failure.value.response.status in (404, 410) else "http-error"
    if failure.check(IgnoreRequest) and "robots" in str(failure.value).lower():
        return "forbidden"
    if failure.check(*UNREACHABLE):
        return "unreachable"
    return "error"


def _describe(failure: Failure) -> str:
    if failure.check(HttpError):
        return f"HTTP {failure.value.response.status}"
    if failure.check(IgnoreRequest):
        return str(failure.value) or "request ignored"
    return f"{failure.type.__name__}: {failure.getErrorMessage()}"
