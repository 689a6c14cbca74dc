"""The `events` spider: wires discovery, extraction and the crawl plan to Scrapy.

A run has two phases.

1. Discovery. Per section (a site and a category): the REST API first (changed posts only,
   via `modified_after`, unless this run sweeps), then the category feed (conditional
   request), the category listing (stopping at the first page that holds only known
   posts, unless this run sweeps or is --full) and, when the REST API does not answer or
   the run sweeps, the sitemap. Posts that are new, or whose modification signal changed,
   are fetched; so are their hreflang translations the archive does not know yet.
2. At the first idle moment: age-based rechecks of posts no signal covered, and, in a
   sweep, removal checks of posts that every fully enumerated source left out.

Every source is optional. What each contributed is counted in `self.sources` and logged.
Decisions live in crawler/plan.py and crawler/guards.py; records go to the pipeline.
"""
from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Iterable
from urllib.parse import urlencode, urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectError, DNSLookupError, TCPTimedOutError, TimeoutError as TxTimeoutError
from twisted.python.failure import Failure

from crawler import plan
from crawler.discovery import (DiscoveryError, category_feed_url, category_listing_url, is_post_candidate,
                               parse_category_listing, parse_feed, parse_rest_category_id, parse_rest_posts,
                               parse_sitemap)
from crawler.extract import ExtractedPage, decode_html, extract_page
from crawler.guards import suspicious
from crawler.items import NotModified, Removal
from storage import Archive, DocumentSummary, StorageError, UnknownDocument
from storage.records import Capture
from storage.urls import normalize_url, site_key

try:  # Scrapy >= 2.14 wraps connection failures in its own exceptions
    from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError, DownloadTimeoutError
    _SCRAPY_UNREACHABLE: tuple[type[BaseException], ...] = (
        CannotResolveHostError, DownloadConnectionRefusedError, DownloadTimeoutError)
except ImportError:  # pragma: no cover
    _SCRAPY_UNREACHABLE = ()

logger = logging.getLogger(__name__)

UNREACHABLE = (DNSLookupError, ConnectError, TCPTimedOutError, TxTimeoutError, *_SCRAPY_UNREACHABLE)
STATE_NAME = "crawl"
REST_PAGE_SIZE = 100
REST_FIELDS = "id,link,slug,date_gmt,modified_gmt,categories,lang"


@dataclass
class SourceReport:
    """What one discovery source did this run (for the summary and the log)."""

    status: str = "not used"  # ok, not modified, refused (401), missing (404), malformed, error, not used
    requests: int = 0
    posts: int = 0  # posts it named
    fetches: int = 0  # post fetches it caused
    complete: bool = False  # enumerated in full (evidence for removals)

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "requests": self.requests, "posts": self.posts, "fetches": self.fetches,
                "complete": self.complete}


@dataclass
class SectionRun:
    """Per-section progress of this run."""

    section: dict[str, Any]
    label: str
    rest_ok: bool = False
    rest_seen: list[str] = field(default_factory=list)  # modified times of posts REST named
    rest_failed: list[str] = field(default_factory=list)  # ... of those whose fetch failed
    rest_members: set[int] = field(default_factory=set)
    state: str = "pending"  # ok, not-found, unreachable, forbidden, error
    detail: str = ""


class EventsSpider(scrapy.Spider):
    name = "events"

    def __init__(self, sections: str | list[dict[str, Any]] | None = None, follow_translations: bool | str = True,
                 max_listing_pages: int | str = 500, run_id: str | None = None, archive_dir: str | None = None,
                 full: bool | str = False, recheck: str | dict[str, Any] | None = None, sweep_every: str = "1d",
                 removal_grace: str = "", now: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(sections, str):
            sections = json.loads(sections)
        self.sections: list[dict[str, Any]] = list(sections or [])
        self.follow_translations = _truthy(follow_translations)
        self.max_listing_pages = int(max_listing_pages)
        self.run_id = run_id
        self.archive_dir = archive_dir
        self.full = _truthy(full)
        recheck = json.loads(recheck) if isinstance(recheck, str) else (recheck or {})
        self.recheck_policy = plan.RecheckPolicy(
            min_interval=plan.parse_duration(recheck.get("min", "1d")) or plan.RecheckPolicy.min_interval,
            max_interval=plan.parse_duration(recheck.get("max", "60d")) or plan.RecheckPolicy.max_interval,
            factor=float(recheck.get("factor", 0.1)),
        )
        self.sweep_every = plan.parse_duration(sweep_every)
        self.removal_grace = plan.parse_duration(removal_grace)
        self._fixed_now = plan.parse_time(now) if now else None
        self.allowed_domains = sorted({urlsplit(s["url"]).hostname or "" for s in self.sections})
        self.counts: Counter[str] = Counter()
        self.sources: dict[str, SourceReport] = {name: SourceReport() for name in ("rest", "feed", "sitemap", "listing", "hreflang")}
        self.section_runs = {self._label(s): SectionRun(s, self._label(s)) for s in self.sections}
        self._requested: set[str] = set()  # normalized URLs of post fetches scheduled
        self._fetched_docs: set[str] = set()  # doc ids captured (or confirmed) this run
        self._captured_ids: set[tuple[str, int]] = set()
        self._listed_keys: dict[str, set[str]] = {}  # complete source -> URL keys / post keys it named
        self._phase = "discovery"
        self._covered: set[str] = set()  # doc ids whose modification signal this run showed unchanged
        self._listing_complete: set[str] = set()  # sections whose listing was walked to its end
        self._sitemap_lastmod: dict[str, str] = {}  # URL key -> <lastmod> seen this run
        self._signalled: set[str] = set()  # post keys whose signal was recorded from a fetch this run
        self._captured_posts: dict[str, set[str]] = {}  # post key -> URL keys of its capture this run
        # Filled from the archive when the spider opens.
        self.known: dict[str, DocumentSummary] = {}
        self.by_post: dict[tuple[str, int], DocumentSummary] = {}
        self.state: dict[str, Any] = {}
        self.sweep = False
        self._archive: Archive | None = None

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> EventsSpider:
        s = crawler.settings
        kwargs.setdefault("sections", s.get("KISI_SECTIONS"))
        kwargs.setdefault("follow_translations", s.getbool("KISI_FOLLOW_TRANSLATIONS", True))
        kwargs.setdefault("max_listing_pages", s.getint("KISI_MAX_LISTING_PAGES", 500))
        kwargs.setdefault("run_id", s.get("KISI_RUN_ID"))
        kwargs.setdefault("archive_dir", s.get("KISI_ARCHIVE_DIR"))
        kwargs.setdefault("full", s.getbool("KISI_FULL", False))
        kwargs.setdefault("recheck", s.get("KISI_RECHECK"))
        kwargs.setdefault("sweep_every", s.get("KISI_SWEEP_EVERY", "1d"))
        kwargs.setdefault("removal_grace", s.get("KISI_REMOVAL_GRACE", ""))
        kwargs.setdefault("now", s.get("KISI_NOW", ""))
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._idle, signal=signals.spider_idle)
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        return spider

    # -- clock and archive -------------------------------------------------------------------
    def now(self) -> datetime:
        return self._fixed_now or datetime.now(timezone.utc)

    def now_iso(self) -> str:
        return plan.iso(self.now())

    def _load_archive(self) -> None:
        if not self.archive_dir:
            return
        self._archive = Archive.open(self.archive_dir, create=True)
        for doc in self._archive.list_documents():
            self.known[doc.doc_id] = doc
            if doc.post_id is not None:
                self.by_post[(doc.site, doc.post_id)] = doc
        self.state = self._archive.load_state(STATE_NAME)
        self.state.setdefault("validators", {})
        self.state.setdefault("sections", {})
        self.state.setdefault("signals", {})
        self.state.setdefault("pending_removals", {})
        self.sweep = plan.sweep_due(self.state.get("last_sweep"), self.sweep_every, self.now(), full=self.full,
                                    pending_removals=bool(self.state["pending_removals"]) or bool(self.state.get("sweep_requested")))
        logger.info("archive holds %d documents; this run %s", len(self.known),
                    "sweeps every source (removal check)" if self.sweep else "is incremental")

    def _known_doc(self, url: str | None = None, post_id: int | None = None, site: str | None = None) -> DocumentSummary | None:
        if post_id is not None and site is not None:
            doc = self.by_post.get((site, post_id))
            if doc:
                return doc
        if url and self._archive is not None:
            try:
                return self.known.get(self._archive.resolve(url))
            except (UnknownDocument, StorageError):
                return None
        return None

    # -- start ---------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        self._load_archive()
        for run in self.section_runs.values():
            for request in self._section_start(run):
                yield request

    def _section_start(self, run: SectionRun) -> Iterable[scrapy.Request]:
        section = run.section
        remembered = self.state["sections"].get(run.label, {})
        if remembered.get("category_id"):
            yield self._rest_posts_request(run, int(remembered["category_id"]), page=1)
        else:
            query = {"slug": section["category"]}
            if section.get("language"):
                query["lang"] = section["language"]
            yield self._source_request(f"{_root(section['url'])}wp-json/wp/v2/categories?{urlencode(query)}", "rest",
                                       self.parse_rest_category, self.rest_failed, run)
        yield self._source_request(category_feed_url(section["url"], section["category"]), "feed",
                                   self.parse_feed, self.feed_failed, run, conditional=True)
        if self.sweep:
            yield self._sitemap_request(run)

    def _source_request(self, url: str, source: str, callback: Any, errback: Any, run: SectionRun, *,
                        conditional: bool = False, meta: dict[str, Any] | None = None, priority: int = 20) -> scrapy.Request:
        self.sources[source].requests += 1
        headers = self._validators(url) if conditional else {}
        full_meta = {"run": run.label, "source": source, "handle_httpstatus_list": [304] if headers else []}
        full_meta.update(meta or {})
        return scrapy.Request(url, callback=callback, errback=errback, headers=headers, meta=full_meta,
                              priority=priority, dont_filter=True)

    @staticmethod
    def _label(section: dict[str, Any]) -> str:
        return f"{section['url'].rstrip('/')}/category/{section['category']}/"

    # -- conditional requests ------------------------------------------------------------------
    def _validators(self, url: str) -> dict[str, str]:
        saved = self.state.get("validators", {}).get(normalize_url(url), {})
        headers = {}
        if saved.get("etag"):
            headers["If-None-Match"] = saved["etag"]  # sent back exactly as received
        if saved.get("last_modified"):
            headers["If-Modified-Since"] = saved["last_modified"]
        return headers

    def _remember_validators(self, response: Response) -> None:
        etag = response.headers.get("ETag")
        modified = response.headers.get("Last-Modified")
        key = normalize_url(response.url)
        if etag or modified:
            self.state["validators"][key] = {
                "etag": etag.decode("latin-1") if etag else None,
                "last_modified": modified.decode("latin-1") if modified else None,
            }
        else:
            self.state["validators"].pop(key, None)

    # -- REST API --------------------------------------------------------------------------
    def parse_rest_category(self, response: Response) -> Iterable[scrapy.Request]:
        run = self.section_runs[response.meta["run"]]
        try:
            category_id = parse_rest_category_id(response.body, run.section["category"])
        except DiscoveryError as exc:
            yield from self._rest_unavailable(run, "malformed", str(exc))
            return
        if category_id is None:
            yield from self._rest_unavailable(run, "no such category", f"category {run.section['category']!r} unknown to the REST API")
            return
        self.state["sections"].setdefault(run.label, {})["category_id"] = category_id
        yield self._rest_posts_request(run, category_id, page=1)

    def _rest_posts_request(self, run: SectionRun, category_id: int, page: int) -> scrapy.Request:
        remembered = self.state["sections"].get(run.label, {})
        query: dict[str, Any] = {"categories": category_id, "per_page": REST_PAGE_SIZE, "page": page,
                                 "orderby": "modified", "order": "desc", "_fields": REST_FIELDS}
        if run.section.get("language"):
            query["lang"] = run.section["language"]
        incremental = not self.sweep and remembered.get("high_water")
        if incremental:
            query["modified_after"] = remembered["high_water"]
        url = f"{_root(run.section['url'])}wp-json/wp/v2/posts?{urlencode(query)}"
        return self._source_request(url, "rest", self.parse_rest_posts, self.rest_failed, run,
                                    meta={"category_id": category_id, "page": page, "incremental": bool(incremental)},
                                    priority=30)

    def parse_rest_posts(self, response: Response) -> Iterable[scrapy.Request]:
        run = self.section_runs[response.meta["run"]]
        try:
            posts = parse_rest_posts(response.body)
        except DiscoveryError as exc:
            yield from self._rest_unavailable(run, "malformed", str(exc))
            return
        report = self.sources["rest"]
        report.status = "ok"
        report.posts += len(posts)
        site = site_key(run.section["url"])
        for post in posts:
            run.rest_members.add(post.id)
            self._note_listed("rest", f"{site}:{post.id}")
            if post.modified_gmt:
                run.rest_seen.append(post.modified_gmt)
            doc = self._known_doc(post.url, post.id, site)
            key = f"{site}:{post.id}"
            if doc is None or doc.status == "removed" or self.full or plan.needs_fetch(self.state["signals"].get(key), post.modified_gmt):
                yield from self._post_request(post.url, run, source="rest", signal=(key, post.modified_gmt),
                                              force=doc is not None)
        page = response.meta["page"]
        total_pages = _int(response.headers.get("X-WP-TotalPages"))
        if posts and total_pages and page < total_pages:
            yield self._rest_posts_request(run, response.meta["category_id"], page + 1)
            return
        run.rest_ok = True
        if not response.meta["incremental"]:
            self.state["sections"].setdefault(run.label, {})["members"] = sorted(run.rest_members)
        logger.info("REST API for %s: %d posts named", run.label, len(run.rest_members))
        yield from self._after_rest(run)

    def rest_failed(self, failure: Failure) -> Iterable[scrapy.Request]:
        run = self.section_runs[failure.request.meta["run"]]
        status = failure.value.response.status if failure.check(HttpError) else None
        if status == 400 and failure.request.meta.get("page", 1) > 1:
            # WordPress answers 400 rest_post_invalid_page_number past the last page.
            run.rest_ok = True
            yield from self._after_rest(run)
            return
        kind = {401: "refused (401)", 403: "refused (403)", 404: "missing (404)"}.get(status or 0, _describe(failure))
        yield from self._rest_unavailable(run, kind, _describe(failure))

    def _rest_unavailable(self, run: SectionRun, status: str, detail: str) -> Iterable[scrapy.Request]:
        logger.info("REST API unavailable for %s: %s", run.label, detail)
        if self.sources["rest"].status != "ok":
            self.sources["rest"].status = status
        self.state["sections"].get(run.label, {}).pop("category_id", None)
        run.rest_ok = False
        yield from self._after_rest(run)

    def _after_rest(self, run: SectionRun) -> Iterable[scrapy.Request]:
        """The REST answer (or its absence) decides what else this section needs."""
        yield self._listing_request(run, category_listing_url(run.section["url"], run.section["category"]), 1)
        if not run.rest_ok and not self.sweep:
            # Without the REST API, the sitemap's <lastmod> is the best edit signal left.
            yield self._sitemap_request(run)

    # -- feed --------------------------------------------------------------------------------
    def parse_feed(self, response: Response) -> Iterable[scrapy.Request]:
        run = self.section_runs[response.meta["run"]]
        report = self.sources["feed"]
        if response.status == 304:
            report.status = "not modified"
            logger.info("feed %s: not modified", response.url)
            return
        try:
            entries = parse_feed(response.body, response.url)
        except DiscoveryError as exc:
            report.status = "malformed"
            logger.warning("feed %s unusable: %s", response.url, exc)
            return
        self._remember_validators(response)
        report.status = "ok"
        report.posts += len(entries)
        site = site_key(run.section["url"])
        for entry in entries:
            doc = self._known_doc(entry.url, entry.post_id, site)
            if doc is None or doc.status == "removed" or self.full:
                yield from self._post_request(entry.url, run, source="feed", force=doc is not None)

    def feed_failed(self, failure: Failure) -> None:
        status = failure.value.response.status if failure.check(HttpError) else None
        self.sources["feed"].status = "missing (404)" if status == 404 else _describe(failure)
        logger.info("feed %s unavailable: %s", failure.request.url, _describe(failure))

    # -- sitemap -------------------------------------------------------------------------------
    def _sitemap_request(self, run: SectionRun) -> scrapy.Request:
        url = f"{_root(run.section['url'])}wp-sitemap.xml"
        return self._source_request(url, "sitemap", self.parse_sitemap, self.sitemap_failed, run,
                                    conditional=not self.sweep, meta={"sitemap_parts": None})

    def parse_sitemap(self, response: Response) -> Iterable[scrapy.Request]:
        run = self.section_runs[response.meta["run"]]
        report = self.sources["sitemap"]
        if response.status == 304:
            report.status = report.status if report.status == "ok" else "not modified"
            return
        try:
            sitemap = parse_sitemap(response.body, response.url)
        except DiscoveryError as exc:
            report.status = "malformed"
            report.complete = False
            self._listed_keys.pop("sitemap", None)
            logger.warning("sitemap %s unusable: %s", response.url, exc)
            return
        self._remember_validators(response)
        if sitemap.is_index:
            parts = [e.url for e in sitemap.entries if "post" in e.url.rsplit("/", 1)[-1] and "page" not in e.url.rsplit("/", 1)[-1]
                     and "taxonom" not in e.url and "user" not in e.url]
            self.counts["sitemap_parts"] = len(parts)
            if not parts:
                report.status = "ok"
            for part in parts:
                yield self._source_request(part, "sitemap", self.parse_sitemap, self.sitemap_failed, run,
                                           conditional=not self.sweep, meta={"sitemap_part": True})
            return
        report.status = "ok"
        report.posts += len(sitemap.entries)
        self.counts["sitemap_parts_done"] += 1
        if self.sweep and self.counts["sitemap_parts_done"] >= self.counts["sitemap_parts"] and not report.status.startswith("malformed"):
            report.complete = True
        site = site_key(run.section["url"])
        for entry in sitemap.entries:
            self._note_listed("sitemap", normalize_url(entry.url))
            if entry.lastmod:
                self._sitemap_lastmod[normalize_url(entry.url)] = entry.lastmod
            doc = self._known_doc(entry.url)
            if doc is None or doc.post_id is None:
                continue  # the sitemap lists every post of the site; only known ones concern us
            key = f"{site}:{doc.post_id}"
            self._note_listed("sitemap", key)
            if entry.lastmod:
                if doc.status == "removed" or plan.needs_fetch(self.state["signals"].get(key), entry.lastmod):
                    yield from self._post_request(entry.url, run, source="sitemap", signal=(key, entry.lastmod), force=True)
                else:
                    self.counts["covered_by_sitemap"] += 1
                    self._covered.add(doc.doc_id)

    def sitemap_failed(self, failure: Failure) -> None:
        status = failure.value.response.status if failure.check(HttpError) else None
        self.sources["sitemap"].status = "missing (404)" if status == 404 else _describe(failure)
        self.sources["sitemap"].complete = False
        self._listed_keys.pop("sitemap", None)
        logger.info("sitemap %s unavailable: %s", failure.request.url, _describe(failure))

    # -- category listing ---------------------------------------------------------------------
    def _listing_request(self, run: SectionRun, url: str, page: int) -> scrapy.Request:
        return self._source_request(url, "listing", self.parse_listing, self.listing_failed, run,
                                    meta={"page": page}, priority=10)

    def parse_listing(self, response: Response) -> Iterable[scrapy.Request]:
        run = self.section_runs[response.meta["run"]]
        page = response.meta["page"]
        run.state = "ok"
        report = self.sources["listing"]
        report.status = "ok"
        listing = parse_category_listing(_text(response), response.url)
        report.posts += len(listing.post_urls)
        site = site_key(run.section["url"])
        unknown = 0
        for url in listing.post_urls:
            self._note_listed("listing", normalize_url(url))
            doc = self._known_doc(url)
            if doc is not None and doc.post_id is not None:
                self._note_listed("listing", f"{site}:{doc.post_id}")
            if doc is None or doc.status == "removed" or self.full:
                unknown += 1
                yield from self._post_request(url, run, source="listing", force=doc is not None)
        logger.info("listing page %d of %s: %d posts, %d to fetch", page, run.label, len(listing.post_urls), unknown)
        walk_on = self.full or self.sweep or unknown > 0
        if listing.next_url and walk_on and page < self.max_listing_pages:
            yield self._listing_request(run, response.urljoin(listing.next_url), page + 1)
        elif not listing.next_url:
            self._listing_complete.add(run.label)
        elif not walk_on:
            logger.info("listing of %s: page %d holds only known posts, stopping", run.label, page)

    def listing_failed(self, failure: Failure) -> None:
        run = self.section_runs[failure.request.meta["run"]]
        page = failure.request.meta["page"]
        status = failure.value.response.status if failure.check(HttpError) else None
        if status == 404 and page > 1:
            logger.info("listing of %s ends at page %d", run.label, page - 1)
            self._listing_complete.add(run.label)
            return
        reason = _describe(failure)
        if page == 1:
            # The run's one-line failure reason reports this; the log keeps the detail.
            run.state, run.detail = _section_failure(failure), reason
            logger.info("cannot read the category listing %s: %s", failure.request.url, reason)
            if run.state == "not-found" and self.sources["rest"].status == "ok":
                run.state = "ok"  # some themes have no listing; the REST API answered
        else:
            logger.error("listing page %s failed: %s", failure.request.url, reason)
        if self.sources["listing"].status != "ok":
            self.sources["listing"].status = "error"
        self.counts["errors"] += 1 if page > 1 else 0

    # -- posts ---------------------------------------------------------------------------------
    def _post_request(self, url: str, run: SectionRun, *, source: str, signal: tuple[str, str | None] | None = None,
                      force: bool = False, translation_of: str | None = None, purpose: str = "discovery",
                      doc: DocumentSummary | None = None) -> Iterable[scrapy.Request]:
        if translation_of is None and not is_post_candidate(url, run.section["url"]):
            logger.debug("not a post URL, skipped: %s", url)
            return
        key = normalize_url(url)
        if key in self._requested:
            return
        self._requested.add(key)
        self.counts["discovered"] += 1
        self.sources[source].fetches += 1
        headers = self._validators(url)
        meta = {"run": run.label, "source": source, "signal": signal, "translation_of": translation_of,
                "purpose": purpose, "doc_id": doc.doc_id if doc else None,
                "handle_httpstatus_list": [304, *plan.GONE_STATUSES] if headers else list(plan.GONE_STATUSES)}
        # We de-duplicate by normalised URL ourselves; Scrapy's filter would also drop rechecks.
        yield scrapy.Request(url, callback=self.parse_post, errback=self.post_failed, meta=meta, headers=headers,
                             dont_filter=True)

    def parse_post(self, response: Response) -> Iterable[Any]:
        run = self.section_runs[response.meta["run"]]
        purpose = response.meta.get("purpose")
        if response.status == 304:
            doc = self._known_doc(response.url) or self.known.get(response.meta.get("doc_id") or "")
            if doc is not None:
                self._confirmed(doc.doc_id, response.meta.get("signal"))
                yield NotModified(doc.doc_id, response.url, self.now_iso(), self.run_id)
                self.counts["not_modified"] += 1
            return
        if response.status in plan.GONE_STATUSES:
            yield from self._gone(response, run)
            return
        if not response.body.strip():
            self._page_error(response, f"empty body (HTTP {response.status})")
            return
        if not isinstance(response, TextResponse) and b"<html" not in response.body[:2048].lower():
            self._page_error(response, f"not an HTML page ({response.headers.get('Content-Type', b'').decode('latin-1')})")
            return
        self.counts["fetched"] += 1
        page = extract_page(_text(response), response.url, _link_header(response))
        if page.page_kind in ("page", "archive"):
            logger.info("page skipped: %s: not a single post (page kind %r)", response.url, page.page_kind)
            self.counts["skipped_not_post"] += 1
            return
        site = site_key(run.section["url"])
        expected = self.known.get(response.meta.get("doc_id") or "")  # a recheck of a document we hold
        if page.post_id is not None:
            known = self.by_post.get((site, page.post_id)) or expected
        else:
            known = expected or self._known_doc(response.url)
        problem = suspicious(page, expected_post_id=expected.post_id if expected else None,
                             previous_text_length=self._previous_text_length(known))
        if problem:
            self._page_error(response, problem)
            return
        # A new post must belong to the category; documents we already hold (translations
        # included) are followed wherever a source names them.
        if (known is None and response.meta.get("translation_of") is None and purpose == "discovery"
                and not self._in_category(response, run.section)):
            logger.info("skipped %s: not in category %r", response.url, run.section["category"])
            self.counts["skipped_other_category"] += 1
            return
        self._remember_validators(response)
        if page.post_id is not None:
            if (site, page.post_id) in self._captured_ids:
                return  # the same post reached by another URL in this run
            self._captured_ids.add((site, page.post_id))
        capture = self._capture(response, page, run.section, site)
        if page.post_id is not None:
            self._captured_posts[f"{site}:{page.post_id}"] = {
                normalize_url(u) for u in (capture.url, capture.final_url, capture.canonical_url) if u}
        if known is not None:
            self._confirmed(known.doc_id, response.meta.get("signal"))
        else:
            self._remember_signal(response.meta.get("signal"))
        yield capture
        yield from self._translations(page, run, response)

    def _confirmed(self, doc_id: str, signal: tuple[str, str | None] | None) -> None:
        """A known post answered: remember its signal, forget any suspicion of removal."""
        self._fetched_docs.add(doc_id)
        if self.state["pending_removals"].pop(doc_id, None):
            logger.info("%s answered again: no longer suspected removed", doc_id)
        self._remember_signal(signal)

    def _remember_signal(self, signal: tuple[str, str | None] | None) -> None:
        if signal and signal[1]:
            self.state["signals"][signal[0]] = signal[1]
            self._signalled.add(signal[0])

    def _translations(self, page: ExtractedPage, run: SectionRun, response: Response) -> Iterable[scrapy.Request]:
        if not self.follow_translations:
            return
        own = normalize_url(page.canonical_url or response.url)
        for _lang, url in sorted(page.alternates.items()):
            if not url or normalize_url(url) == own:
                continue
            doc = self._known_doc(url)
            if doc is None or doc.status == "removed" or self.full:
                yield from self._post_request(url, run, source="hreflang", translation_of=page.canonical_url or response.url,
                                              force=doc is not None)
                self.sources["hreflang"].status = "ok"
                self.sources["hreflang"].posts += 1

    def _previous_text_length(self, doc: DocumentSummary | None) -> int | None:
        if doc is None or self._archive is None:
            return None
        try:
            return len(self._archive.get(doc.doc_id).text)
        except StorageError:
            return None

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
            fetched_at=self.now_iso(),
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
        request = failure.request
        reason = _describe(failure)
        self.counts["errors"] += 1
        logger.error("page failed: %s: %s", request.url, reason)
        signal = request.meta.get("signal")
        if signal and request.meta.get("source") == "rest" and signal[1]:
            self.section_runs[request.meta["run"]].rest_failed.append(signal[1])

    def _page_error(self, response: Response, reason: str) -> None:
        self.counts["errors"] += 1
        logger.error("page failed: %s: %s", response.url, reason)
        signal = response.meta.get("signal")
        if signal and response.meta.get("source") == "rest" and signal[1]:
            self.section_runs[response.meta["run"]].rest_failed.append(signal[1])

    # -- removals ------------------------------------------------------------------------------
    def _gone(self, response: Response, run: SectionRun) -> Iterable[Any]:
        """A post URL answered 404/410: evidence only within a removal check."""
        doc = self.known.get(response.meta.get("doc_id") or "") or self._known_doc(response.url)
        if doc is None:
            self._page_error(response, f"HTTP {response.status}")
            return
        if response.meta.get("purpose") != "removal-check":
            # Not yet evidence: the next run sweeps every source and checks it properly.
            logger.warning("%s (%s) answers %d: it will be checked for removal", response.url, doc.doc_id, response.status)
            self.counts["gone_seen"] += 1
            self.state["sweep_requested"] = True
            return
        shortlink = self._shortlink(doc)
        if shortlink and normalize_url(shortlink) != normalize_url(response.url):
            yield scrapy.Request(shortlink, callback=self.parse_shortlink, errback=self.removal_check_failed,
                                 meta={"run": run.label, "doc_id": doc.doc_id, "url": response.url,
                                       "url_status": response.status, "handle_httpstatus_list": [404, 410]},
                                 dont_filter=True)
            return
        yield from self._judge_removal(doc, response.url, response.status, None, None)

    def parse_shortlink(self, response: Response) -> Iterable[Any]:
        doc = self.known[response.meta["doc_id"]]
        if response.status in plan.GONE_STATUSES:
            yield from self._judge_removal(doc, response.meta["url"], response.meta["url_status"], response.url,
                                           response.status)
            return
        # The shortlink still leads to a page: the post lives at another address.
        logger.warning("%s: its URL answers %d but its shortlink does not; not removed", doc.doc_id,
                       response.meta["url_status"])
        self._fetched_docs.add(doc.doc_id)
        self.state["pending_removals"].pop(doc.doc_id, None)

    def removal_check_failed(self, failure: Failure) -> None:
        logger.warning("removal check of %s inconclusive: %s (not evidence of removal)",
                       failure.request.meta.get("doc_id"), _describe(failure))

    def _judge_removal(self, doc: DocumentSummary, url: str, url_status: int, shortlink: str | None,
                       shortlink_status: int | None) -> Iterable[Any]:
        checked = tuple(sorted(self._complete_sources()))
        evidence = plan.Evidence(url, url_status, shortlink, shortlink_status, checked, self.now_iso())
        pending = self.state["pending_removals"].get(doc.doc_id)
        decision = plan.removal_decision(evidence, pending, self.run_id, self.removal_grace, self.now())
        if decision.action == "tombstone":
            record = evidence.to_json()
            record["first_seen_missing"] = decision.first_seen_missing
            record["confirmations"] = [*(pending or {}).get("evidence", []), evidence.to_json()]
            self.state["pending_removals"].pop(doc.doc_id, None)
            self.counts["removed"] += 1
            yield Removal(doc.doc_id, record, self.now_iso(), url_status, self.run_id)
        elif decision.action == "pending":
            self.counts["pending_removals"] += 1
            self.state["pending_removals"][doc.doc_id] = {
                "first_seen_missing": decision.first_seen_missing, "run_id": (pending or {}).get("run_id", self.run_id),
                "evidence": [*(pending or {}).get("evidence", []), evidence.to_json()],
            }
            logger.warning("%s answers %d and is missing from %s: removal pending confirmation", doc.doc_id,
                           url_status, ", ".join(checked))

    def _shortlink(self, doc: DocumentSummary) -> str | None:
        if doc.post_id is None:
            return None
        section = next((s for s in self.sections if site_key(s["url"]) == doc.site), None)
        root = _root(section["url"]) if section else _root(doc.url)
        return f"{root}?p={doc.post_id}"

    def _complete_sources(self) -> set[str]:
        """Sources enumerated in full this run: only their silence about a post is evidence."""
        complete = set()
        runs = self.section_runs.values()
        if self.sweep and runs and all(run.rest_ok for run in runs):
            complete.add("rest")
        if self.sources["sitemap"].complete:
            complete.add("sitemap")
        if runs and all(run.label in self._listing_complete for run in runs):
            complete.add("listing")
        return complete

    def _note_listed(self, source: str, key: str) -> None:
        self._listed_keys.setdefault(source, set()).add(key)

    # -- phase two: rechecks and removal checks at the first idle moment -------------------------
    def _idle(self, spider: Any = None) -> None:
        if self._phase != "discovery":
            return
        self._phase = "checks"
        requests = list(self._checks())
        for request in requests:
            self.crawler.engine.crawl(request)
        if requests:
            raise DontCloseSpider

    def _checks(self) -> Iterable[scrapy.Request]:
        now = self.now()
        complete = self._complete_sources()
        rest_members = {(site_key(run.section["url"]), m) for run in self.section_runs.values() if run.rest_ok
                        for m in self.state["sections"].get(run.label, {}).get("members", [])}
        run_for_site = {site_key(run.section["url"]): run for run in self.section_runs.values()}
        for doc in sorted(self.known.values(), key=lambda d: d.doc_id):
            run = run_for_site.get(doc.site)
            if run is None or doc.status == "removed" or doc.doc_id in self._fetched_docs:
                continue
            if normalize_url(doc.url) in self._requested:
                continue
            if self.sweep and complete and self._absent(doc, complete):
                self.counts["removal_checks"] += 1
                yield from self._post_request(doc.url, run, source="listing", purpose="removal-check", doc=doc, force=True)
                continue
            covered = (doc.site, doc.post_id) in rest_members or doc.doc_id in self._covered
            # --full re-fetches every document, including those no source named this run.
            if self.full or (not covered and self.recheck_policy.due(doc.date_published, doc.last_seen, now)):
                self.counts["rechecks"] += 1
                yield from self._post_request(doc.url, run, source="listing", purpose="recheck", doc=doc, force=True)

    def _absent(self, doc: DocumentSummary, complete: set[str]) -> bool:
        keys = {normalize_url(doc.url)}
        if doc.post_id is not None:
            keys.add(f"{doc.site}:{doc.post_id}")
        return all(not keys & self._listed_keys.get(source, set()) for source in complete)

    # -- end ---------------------------------------------------------------------------------
    def _closed(self, spider: Any = None, reason: str = "") -> None:
        finished = reason == "finished"
        # Posts captured without a signal in hand take the sitemap's <lastmod> as theirs,
        # so the next run can tell whether they changed since.
        for key, url_keys in self._captured_posts.items():
            lastmod = next((self._sitemap_lastmod[u] for u in url_keys if u in self._sitemap_lastmod), None)
            if lastmod and key not in self._signalled:
                self.state["signals"][key] = lastmod
        for run in self.section_runs.values():
            remembered = self.state["sections"].setdefault(run.label, {})
            # Only a run that finished has fetched everything its REST answer named.
            if run.rest_ok and finished:
                remembered["high_water"] = plan.high_water(remembered.get("high_water"), run.rest_seen, run.rest_failed)
        if self.sweep and self._complete_sources() and finished:
            self.state["last_sweep"] = self.now_iso()
            self.state.pop("sweep_requested", None)
        self.state["last_run"] = {"run_id": self.run_id, "at": self.now_iso(), "reason": reason}
        if self._archive is not None and reason != "archive_error":
            try:
                self._archive.save_state(STATE_NAME, self.state)
            except OSError as exc:
                logger.error("could not save the crawl state: %s", exc)
            self._archive.close()
        summary = ", ".join(f"{name} {rep.status}" + (f" ({rep.posts} named, {rep.fetches} fetched)" if rep.posts else "")
                            for name, rep in self.sources.items())
        logger.info("sources: %s", summary)

    def failure_reason(self) -> str | None:
        """Why the site could not be crawled at all, or None when at least one section was read."""
        states = {label: run.state for label, run in self.section_runs.items()}
        if not states or any(state == "ok" for state in states.values()):
            return None
        if self.sources["rest"].status == "ok" or self.sources["feed"].status == "ok":
            return None
        labels = ", ".join(states)
        values = set(states.values())
        if values == {"forbidden"}:
            return f"robots.txt forbids crawling {labels}"
        if values == {"unreachable"}:
            detail = next((run.detail for run in self.section_runs.values() if run.detail), "")
            return f"site unreachable ({labels}: {detail})"
        if values == {"not-found"}:
            return f"category not found: {labels} answered 404"
        return f"site could not be crawled ({', '.join(f'{k}: {v}' for k, v in states.items())})"

    def source_report(self) -> dict[str, Any]:
        complete = self._complete_sources()
        for name, rep in self.sources.items():
            rep.complete = name in complete
        return {name: rep.to_json() for name, rep in self.sources.items()}


def _truthy(value: Any) -> bool:
    return value not in (False, None, "", "0", "false", "False")


def _int(value: bytes | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


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
