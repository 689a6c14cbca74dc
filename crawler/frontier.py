"""The crawl's decisions: told what each source said, the frontier answers what to fetch.

Pure: no Scrapy, no Twisted, no I/O. It is built from the crawler's memory of earlier runs
(crawler/memory.py), the documents the archive holds (crawler/known.py), the run's options
and `now`; the spider hands it every answer (`on_reply`) and every failure (`on_failure`)
and sends whatever `Fetch` orders come back; the records it returns go to the archive.
`close()` gives the memory for the next run and the run's report.

A run goes in phases, each started when the previous one has nothing left in flight
(`idle()`):

1. discovery, per section (a category of one language site): the REST API (the newest
   modifications down to the last run's mark, or every post in a sweep), the category feed
   (conditional), the category listing (walked while it shows unknown posts, or to its end
   in a sweep), and the sitemap when the REST API does not answer or in a sweep (once per
   site). New posts and posts whose modification time changed are fetched, and so are their
   hreflang translations the archive does not know yet.
2. checks: age-based rechecks of posts no signal covered; and "suspects", known posts that
   may have been removed (their section's REST total fell, they left the first listing page
   or the feed without newer posts pushing them out, a complete enumeration left them out,
   or their URL answered 404): where the REST API answers, one enumeration of the
   category's ids settles which are really missing.
3. removals: each suspect still missing is fetched; a 404/410 on its URL and on its
   shortlink, with the complete enumerations of this run that did not name it, is
   evidence (crawler.plan.removal_decision decides: pending, or a tombstone when a later
   run or the grace period confirms it).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Iterable, Sequence
from urllib.parse import urlencode, urlsplit

from storage import Capture, Removal, Sighting
from storage.records import AttachmentRef
from storage.records import content_fields
from storage.urls import normalize_url, site_key

from . import attachments as att
from . import orders as o
from . import plan
from .config import Config, Section
from .discovery import (DiscoveryError, category_feed_url, category_listing_url, is_post_candidate,
                        parse_category_listing, parse_feed, parse_rest_category_id, parse_rest_posts, parse_sitemap)
from .extract import WARN_NOT_HTML, ExtractedPage, decode_html
from .guards import suspicious
from .known import Known, KnownDocuments, post_key
from .memory import CrawlMemory, PendingRemoval
from .orders import Fetch, FetchFailure, Reply, Step
from .report import ERROR, FORBIDDEN, NOT_FOUND, OK, PENDING, UNREACHABLE, RunReport, SectionReport

REST_HEAD_PAGE = 20  # posts per page when reading only the newest modifications
REST_FULL_PAGE = 100  # … when enumerating the category (WordPress's maximum)
REST_FIELDS = "id,link,slug,date_gmt,modified_gmt,categories"
# Priorities: posts first (they are what the run is for), then the sources that name them.
PRIORITY = {o.REST_CATEGORIES: 30, o.REST_POSTS: 30, o.FEED: 20, o.SITEMAP: 20, o.LISTING: 10,
            o.POST: 0, o.SHORTLINK: 0, o.ATTACHMENT: 5}
DISCOVERY, CHECKS, REMOVALS, DONE = "discovery", "checks", "removals", "done"


@dataclass(frozen=True)
class Options:
    full: bool = False  # re-fetch every post, walk every listing to its end
    follow_translations: bool = True
    max_listing_pages: int = 500
    recheck: plan.RecheckPolicy = plan.RecheckPolicy()
    sweep_every: timedelta | None = timedelta(days=1)
    removal_grace: timedelta | None = None
    run_id: str | None = None
    attachments: bool = True  # fetch what posts link and embed (crawler/attachments.py)

    @classmethod
    def from_config(cls, config: Config, run_id: str | None = None) -> Options:
        recheck = plan.RecheckPolicy(
            min_interval=plan.parse_duration(config.recheck_min) or plan.RecheckPolicy.min_interval,
            max_interval=plan.parse_duration(config.recheck_max) or plan.RecheckPolicy.max_interval,
            factor=config.recheck_factor)
        return cls(full=config.full, follow_translations=config.follow_translations,
                   max_listing_pages=config.max_listing_pages, recheck=recheck,
                   sweep_every=plan.parse_duration(config.sweep_every),
                   removal_grace=plan.parse_duration(config.removal_grace), run_id=run_id,
                   attachments=config.attachments)


@dataclass
class _Section:
    """One section's progress in this run."""

    section: Section
    report: SectionReport = field(default_factory=SectionReport)
    rest_ok: bool = False  # the REST API answered all this run asked of it
    rest_enumerated: bool = False  # … including every post id of the category
    rest_enumerating: bool = False
    rest_total: int | None = None
    rest_ids: set[int] = field(default_factory=set)
    rest_seen: list[str] = field(default_factory=list)  # modification times REST named
    rest_failed: list[str] = field(default_factory=list)  # … of posts whose fetch failed
    listing_complete: bool = False
    listing_missing: bool = False
    listing_head: list[str] | None = None
    feed_head: list[str] | None = None
    feed_empty: bool = False

    @property
    def label(self) -> str:
        return self.section.label

    @property
    def site(self) -> str:
        return site_key(self.section.url)

    @property
    def root(self) -> str:
        parts = urlsplit(self.section.url)
        return f"{parts.scheme}://{parts.netloc}/"


class Frontier:
    def __init__(self, sections: Sequence[Section], memory: CrawlMemory, known: KnownDocuments,
                 options: Options, now: datetime, *, attachment_memory: dict[str, Any] | None = None) -> None:
        self.memory, self.known, self.options, self.now = memory, known, options, now
        self.attachments = att.AttachmentFetches(memory=att.known_refs(attachment_memory or {}))
        self.runs = {s.label: _Section(s) for s in sections}
        self.report = RunReport(sections={label: run.report for label, run in self.runs.items()})
        self.sweep = plan.sweep_due(memory.last_sweep, options.sweep_every, now, full=options.full,
                                    pending_removals=memory.sweep_requested)
        self.report.sweep = self.sweep
        self.phase = DISCOVERY
        self._requested: set[str] = set()  # URL keys of post fetches ordered this run
        self._answered: set[str] = set()  # doc ids that answered (or were captured) this run
        self._captured: dict[tuple[str, int], set[str]] = {}  # (site, post id) -> its URL keys
        self._listed: dict[tuple[str, str], set[str]] = {}  # (source, section or site) -> keys it named
        self._covered: set[str] = set()  # doc ids whose modification signal showed no change
        self._sitemap_lastmod: dict[str, str] = {}  # URL key -> <lastmod> seen this run
        self._sitemaps: dict[str, dict[str, int]] = {}  # site root -> {"parts", "done", "failed"}
        self._suspects: dict[str, str] = {}  # doc id -> why it may be gone
        self._gone_seen: set[str] = set()  # doc ids whose URL answered 404/410 outside a removal check
        # What the last runs' enumerations held: a post they held and this run's leave out is missing.
        self._members = {label: set(self.memory.section(label).members) for label in self.runs}
        self._listing_members = {label: set(self.memory.section(label).listing_members) for label in self.runs}
        self.errors: list[str] = []  # page errors of this run, "URL: reason", for the log
        self._wants_sweep = False  # something this run saw can only be settled by a sweep

    # -- the clock and small helpers --------------------------------------------------------
    def _now_iso(self) -> str:
        return plan.iso(self.now)

    def _fetch(self, kind: str, url: str, run: _Section, **fields: Any) -> Fetch:
        source = {o.REST_CATEGORIES: "rest", o.REST_POSTS: "rest"}.get(kind, kind)
        if kind != o.POST and source in self.report.sources:
            self.report.sources[source].requests += 1
        return Fetch(url=url, kind=kind, section=run.label, priority=PRIORITY[kind], **fields)

    def _source(self, name: str, status: str) -> None:
        report = self.report.sources[name]
        if report.status != "ok":
            report.status = status

    def _note_listed(self, source: str, scope: str, url: str, doc: Known | None) -> None:
        keys = self._listed.setdefault((source, scope), set())
        keys.add(normalize_url(url))
        if doc is not None:
            keys.add(doc.doc_id)

    def _section_of(self, doc: Known) -> _Section | None:
        """The section a known document belongs to: its site's section in its language, else
        the first section of its site."""
        same_site = [run for run in self.runs.values() if run.site == doc.site]
        return next((r for r in same_site if r.section.language and r.section.language == doc.language),
                    same_site[0] if same_site else None)

    # -- start ----------------------------------------------------------------------------
    def start(self) -> Step:
        step = Step()
        for run in self.runs.values():
            remembered = self.memory.sections.get(run.label)
            if remembered and remembered.category_id:
                step.fetches.append(self._rest_posts(run, remembered.category_id, 1, self._rest_mode(run)))
            else:
                query = {"slug": run.section.category}
                if run.section.language:
                    query["lang"] = run.section.language
                step.fetches.append(self._fetch(o.REST_CATEGORIES,
                                                f"{run.root}wp-json/wp/v2/categories?{urlencode(query)}", run))
            step.fetches.append(self._fetch(o.FEED, category_feed_url(run.section.url, run.section.category), run,
                                            conditional=True))
            step.fetches.append(self._listing(run, category_listing_url(run.section.url, run.section.category), 1))
            if self.sweep:
                step.extend(self._sitemap(run))
        return step

    def _rest_mode(self, run: _Section) -> str:
        remembered = self.memory.sections.get(run.label)
        if self.sweep or self.options.full or not remembered or not remembered.high_water:
            return o.FULL
        return o.HEAD

    def _rest_posts(self, run: _Section, category_id: int, page: int, mode: str) -> Fetch:
        query: dict[str, Any] = {"categories": category_id, "page": page, "_fields": REST_FIELDS}
        if mode == o.FULL:
            # Ordered by id, so paging is stable while posts are edited during the walk.
            query.update(per_page=REST_FULL_PAGE, orderby="id", order="asc")
        else:
            query.update(per_page=REST_HEAD_PAGE, orderby="modified", order="desc")
        return self._fetch(o.REST_POSTS, f"{run.root}wp-json/wp/v2/posts?{urlencode(query)}", run, page=page,
                           mode=mode, doc_id=str(category_id))

    def _listing(self, run: _Section, url: str, page: int) -> Fetch:
        return self._fetch(o.LISTING, url, run, page=page)

    def _sitemap(self, run: _Section) -> Step:
        """The site's sitemap index, once per site and run."""
        if run.root in self._sitemaps:
            return Step()
        self._sitemaps[run.root] = {"parts": 0, "done": 0, "failed": 0}
        return Step([self._fetch(o.SITEMAP, f"{run.root}wp-sitemap.xml", run)])

    # -- every answer ------------------------------------------------------------------------
    def on_reply(self, order: Fetch, reply: Reply, page: ExtractedPage | None = None) -> Step:
        """An HTTP answer to `order`. For a post answering 200, `page` is its extraction."""
        run = self.runs[order.section]
        if order.kind == o.ATTACHMENT:
            return self.on_attachment(run, order, reply, page)
        handler = {o.REST_CATEGORIES: self.on_rest_categories, o.REST_POSTS: self.on_rest_posts,
                   o.FEED: self.on_feed, o.LISTING: self.on_listing, o.SITEMAP: self.on_sitemap,
                   o.SHORTLINK: self.on_shortlink}.get(order.kind)
        if handler is not None:
            return handler(run, order, reply)
        return self.on_post(run, order, reply, page)

    def on_failure(self, order: Fetch, failure: FetchFailure) -> Step:
        """No HTTP answer to `order` (timeout, refused connection, robots.txt …): never
        evidence about a post; a source that failed this way is reported so."""
        run = self.runs[order.section]
        if order.kind == o.ATTACHMENT:
            return self.on_attachment_failure(order, failure)
        if order.kind in (o.REST_CATEGORIES, o.REST_POSTS):
            return self._rest_unavailable(run, failure.detail)
        if order.kind == o.FEED:
            self._source("feed", failure.detail)
        elif order.kind == o.LISTING:
            self._listing_failed(run, order, failure.kind, failure.detail)
        elif order.kind == o.SITEMAP:
            self._sitemap_failed(run, failure.detail)
        elif order.kind == o.SHORTLINK:
            self.report.counts["inconclusive_removal_checks"] += 1
        else:
            self._post_error(run, order, failure.detail)
        return Step()

    # -- REST API -----------------------------------------------------------------------------
    def on_rest_categories(self, run: _Section, order: Fetch, reply: Reply) -> Step:
        if reply.status != 200:
            return self._rest_unavailable(run, _status_text(reply.status), status=reply.status)
        try:
            category_id = parse_rest_category_id(reply.body, run.section.category)
        except DiscoveryError as exc:
            return self._rest_unavailable(run, f"malformed: {exc}", status_text="malformed")
        if category_id is None:
            run.report.detail = f"the REST API knows no category {run.section.category!r}"
            return self._rest_unavailable(run, run.report.detail, status_text="no such category")
        self.memory.section(run.label).category_id = category_id
        return Step([self._rest_posts(run, category_id, 1, o.FULL)])

    def on_rest_posts(self, run: _Section, order: Fetch, reply: Reply) -> Step:
        if reply.status == 400 and order.page > 1:
            # WordPress answers 400 rest_post_invalid_page_number past the last page.
            return self._rest_done(run, order)
        if reply.status != 200:
            return self._rest_unavailable(run, _status_text(reply.status), status=reply.status)
        try:
            posts = parse_rest_posts(reply.body)
        except DiscoveryError as exc:
            return self._rest_unavailable(run, f"malformed: {exc}", status_text="malformed")
        report = self.report.sources["rest"]
        report.status = "ok"
        report.posts += len(posts)
        run.rest_total = _int(reply.header("X-WP-Total"))
        mark = plan.parse_time(self.memory.section(run.label).high_water) if order.mode == o.HEAD else None
        step = Step()
        reached_mark = False
        for post in posts:
            run.rest_ids.add(post.id)
            doc = self.known.find(post.url, run.site, post.id)
            self._note_listed("rest", run.label, post.url, doc)
            modified = plan.parse_time(post.modified_gmt)
            if mark is not None and modified is not None and modified <= mark:
                reached_mark = True
                continue
            if post.modified_gmt:
                run.rest_seen.append(post.modified_gmt)
            key = post_key(run.site, post.id)
            changed = plan.needs_fetch(self.memory.signals.get(key), post.modified_gmt)
            if doc is None or doc.removed or self.options.full or changed:
                step.extend(self._post(run, post.url, "rest", doc=doc, signal=post.modified_gmt))
            elif doc is not None:
                self._covered.add(doc.doc_id)
        total_pages = _int(reply.header("X-WP-TotalPages"))
        if posts and not reached_mark and total_pages and order.page < total_pages:
            step.fetches.append(self._rest_posts(run, int(order.doc_id or 0), order.page + 1, order.mode))
            return step
        return step.extend(self._rest_done(run, order))

    def _rest_done(self, run: _Section, order: Fetch) -> Step:
        run.rest_ok = True
        if order.mode == o.FULL:
            run.rest_enumerated, run.rest_enumerating = True, False
        if run.rest_total is not None:
            self.memory.section(run.label).rest_total = run.rest_total
        return Step()

    def _rest_unavailable(self, run: _Section, detail: str, *, status: int | None = None,
                          status_text: str | None = None) -> Step:
        text = status_text or {401: "refused (401)", 403: "refused (403)", 404: "missing (404)"}.get(status or 0, detail)
        self._source("rest", text)
        self.memory.section(run.label).category_id = None
        run.rest_ok = run.rest_enumerating = False
        # Without the REST API, the sitemap's <lastmod> is the best edit signal left.
        return self._sitemap(run)

    # -- feed ---------------------------------------------------------------------------------
    def on_feed(self, run: _Section, order: Fetch, reply: Reply) -> Step:
        if reply.status == 304:
            self._source("feed", "not modified")
            return Step()
        if reply.status != 200:
            self._source("feed", _status_text(reply.status))
            return Step()
        try:
            entries = parse_feed(reply.body, reply.url)
        except DiscoveryError:
            self._source("feed", "malformed")
            return Step()
        self.report.sources["feed"].status = "ok"
        self.report.sources["feed"].posts += len(entries)
        run.feed_empty = not entries
        run.feed_head = [normalize_url(e.url) for e in entries]
        step = Step()
        for entry in entries:
            doc = self.known.find(entry.url, run.site, entry.post_id)
            if doc is None or doc.removed or self.options.full:
                step.extend(self._post(run, entry.url, "feed", doc=doc))
        return step

    # -- listing ------------------------------------------------------------------------------
    def on_listing(self, run: _Section, order: Fetch, reply: Reply) -> Step:
        if reply.status in plan.GONE_STATUSES:
            if order.page > 1:  # the page after the last one: the listing ends here
                run.listing_complete = True
                return Step()
            run.listing_missing = True
            self._listing_failed(run, order, NOT_FOUND, f"{order.url} answered {reply.status}")
            return Step()
        if reply.status != 200:
            self._listing_failed(run, order, ERROR, f"{order.url} answered {reply.status}")
            return Step()
        listing = parse_category_listing(decode_html(reply.body, reply.header("Content-Type")), reply.url)
        run.report.state = OK
        self.report.sources["listing"].status = "ok"
        self.report.sources["listing"].posts += len(listing.post_urls)
        if order.page == 1:
            run.listing_head = [normalize_url(u) for u in listing.post_urls]
        step = Step()
        unknown = 0
        for url in listing.post_urls:
            doc = self.known.by_url(url)
            self._note_listed("listing", run.label, url, doc)
            if doc is None or doc.removed or self.options.full:
                unknown += 1
                step.extend(self._post(run, url, "listing", doc=doc))
        walk_on = self.options.full or self.sweep or unknown > 0
        if listing.next_url is None:
            run.listing_complete = True
        elif walk_on and order.page < self.options.max_listing_pages:
            step.fetches.append(self._listing(run, listing.next_url, order.page + 1))
        return step

    def _listing_failed(self, run: _Section, order: Fetch, state: str, detail: str) -> None:
        if order.page == 1:
            run.report.state, run.report.detail = state, detail
        else:
            self.report.counts["errors"] += 1
        self._source("listing", "error" if state != NOT_FOUND else "missing (404)")

    # -- sitemap ------------------------------------------------------------------------------
    def on_sitemap(self, run: _Section, order: Fetch, reply: Reply) -> Step:
        progress = self._sitemaps[run.root]
        if reply.status != 200:
            return self._sitemap_failed(run, _status_text(reply.status))
        try:
            sitemap = parse_sitemap(reply.body, reply.url)
        except DiscoveryError:
            return self._sitemap_failed(run, "malformed")
        if sitemap.is_index:
            parts = [e.url for e in sitemap.entries if _is_post_sitemap(e.url)]
            progress["parts"] += len(parts)
            if not parts:
                self._source("sitemap", "ok")
            return Step([self._fetch(o.SITEMAP, url, run) for url in parts])
        progress["done"] += 1
        self.report.sources["sitemap"].status = "ok"
        self.report.sources["sitemap"].posts += len(sitemap.entries)
        step = Step()
        for entry in sitemap.entries:
            key = normalize_url(entry.url)
            doc = self.known.by_url(entry.url)
            self._note_listed("sitemap", run.root, entry.url, doc)
            if entry.lastmod:
                self._sitemap_lastmod[key] = entry.lastmod
            if doc is None or doc.post_key is None or not entry.lastmod:
                continue  # the sitemap lists every post of the site; only known ones concern us
            if doc.removed or plan.needs_fetch(self.memory.signals.get(doc.post_key), entry.lastmod):
                owner = self._section_of(doc) or run
                step.extend(self._post(owner, entry.url, "sitemap", doc=doc, signal=entry.lastmod, force=True))
            else:
                self.report.counts["covered_by_sitemap"] += 1
                self._covered.add(doc.doc_id)
        return step

    def _sitemap_failed(self, run: _Section, detail: str) -> Step:
        self._sitemaps.setdefault(run.root, {"parts": 0, "done": 0, "failed": 0})["failed"] += 1
        self._source("sitemap", detail)
        return Step()

    def _sitemap_complete(self, root: str) -> bool:
        progress = self._sitemaps.get(root)
        return bool(progress) and not progress["failed"] and progress["done"] >= progress["parts"] > 0

    # -- posts --------------------------------------------------------------------------------
    def _post(self, run: _Section, url: str, source: str, *, doc: Known | None = None, signal: str | None = None,
              purpose: str = o.DISCOVERY, translation_of: str | None = None, force: bool = False) -> Step:
        """Order a post fetch, once per URL and run; only URLs that can be single posts."""
        if translation_of is None and not force and not is_post_candidate(url, run.section.url):
            return Step()
        key = normalize_url(url)
        if key in self._requested:
            return Step()
        self._requested.add(key)
        self.report.counts["discovered"] += 1
        if source in self.report.sources:
            self.report.sources[source].fetches += 1
        # Conditional (validators sent back when a caching layer gave some), except where the
        # status itself is the evidence.
        return Step([self._fetch(o.POST, url, run, source=source, purpose=purpose, doc_id=doc.doc_id if doc else None,
                                 signal=signal, translation_of=translation_of,
                                 conditional=purpose != o.REMOVAL_CHECK)])

    def on_post(self, run: _Section, order: Fetch, reply: Reply, page: ExtractedPage | None) -> Step:
        expected = self.known.get(order.doc_id)
        if reply.status == 304:
            doc = expected or self.known.by_url(reply.url)
            if doc is None:
                return Step()
            self._confirmed(doc, order.signal)
            self.report.counts["not_modified"] += 1
            return Step(records=[Sighting(doc_id=doc.doc_id, url=reply.url, fetched_at=self._now_iso(), http_status=304,
                                          run_id=self.options.run_id)])
        if reply.status in plan.GONE_STATUSES:
            return self._gone(run, order, reply)
        if reply.status != 200:
            return self._post_error(run, order, _status_text(reply.status))
        if page is None or not reply.body.strip():
            return self._post_error(run, order, f"empty body (HTTP {reply.status})")
        if WARN_NOT_HTML in page.warnings:
            return self._post_error(run, order, f"not an HTML page ({reply.header('Content-Type') or 'no type'})")
        self.report.counts["fetched"] += 1
        if page.page_kind in ("page", "archive"):
            self.report.counts["skipped_not_post"] += 1
            return Step()
        known = self.known.by_post(run.site, page.post_id) or expected
        if known is None and page.post_id is None:
            known = self.known.by_url(reply.url)
        problem = suspicious(page, expected_post_id=expected.post_id if expected else None,
                             previous_text_length=known.text_length if known else None)
        if problem:
            # Whatever the server said about this answer must not make the next one a 304.
            return self._post_error(run, order, problem).forgetting(reply.url)
        # A new post must belong to the category; documents we already hold (translations
        # included) are followed wherever a source names them.
        if (known is None and order.translation_of is None and order.purpose == o.DISCOVERY
                and not _in_category(page.category_links, run.section.category)):
            self.report.counts["skipped_other_category"] += 1
            return Step()
        if page.post_id is not None:
            if (run.site, page.post_id) in self._captured:
                return Step()  # the same post reached by another URL in this run
            self._captured[(run.site, page.post_id)] = {
                normalize_url(u) for u in (reply.requested_url, reply.url, page.canonical_url) if u}
        signal = order.signal or self._sitemap_signal(reply, page) or page.date_modified
        if known is not None:
            self._confirmed(known, signal, page.post_id)
        elif page.post_id is not None and signal:
            self.memory.signals[post_key(run.site, page.post_id)] = signal
        capture = Capture(
            **content_fields(page), url=reply.requested_url or reply.url, final_url=reply.url,
            http_status=reply.status, fetched_at=self._now_iso(), site=run.site, extractor=dict(page.extractor),
            raw_body=reply.body, raw_content_type=reply.header("Content-Type"), run_id=self.options.run_id,
            sources=(order.source,) if order.source else (), language_evidence=dict(page.language_evidence),
            decoding=dict(page.decoding), warc=reply.warc,
        )
        if capture.language is None and run.section.language:
            capture = replace(capture, language=run.section.language)
        return self._with_attachments(run, capture, page).extend(self._translations(run, page, reply))

    def _sitemap_signal(self, reply: Reply, page: ExtractedPage) -> str | None:
        for url in (reply.requested_url, reply.url, page.canonical_url):
            if url and normalize_url(url) in self._sitemap_lastmod:
                return self._sitemap_lastmod[normalize_url(url)]
        return None

    def _confirmed(self, doc: Known, signal: str | None, post_id: int | None = None) -> None:
        """A known post answered: remember its signal, forget any suspicion of removal."""
        self._answered.add(doc.doc_id)
        self._suspects.pop(doc.doc_id, None)
        if self.memory.pending_removals.pop(doc.doc_id, None):
            self.report.counts["removals_cleared"] += 1
        key = doc.post_key or (post_key(doc.site, post_id) if post_id is not None else None)
        if key and signal:
            self.memory.signals[key] = signal

    def _translations(self, run: _Section, page: ExtractedPage, reply: Reply) -> Step:
        step = Step()
        if not self.options.follow_translations:
            return step
        own = normalize_url(page.canonical_url or reply.url)
        for _lang, url in sorted(page.alternates.items()):
            if not url or normalize_url(url) == own:
                continue
            doc = self.known.by_url(url)
            if doc is None or doc.removed or self.options.full:
                named = self._post(run, url, "hreflang", doc=doc, translation_of=page.canonical_url or reply.url)
                if named.fetches:
                    self.report.sources["hreflang"].status = "ok"
                    self.report.sources["hreflang"].posts += 1
                step.extend(named)
        return step

    def _post_error(self, run: _Section, order: Fetch, reason: str) -> Step:
        """One page failed: logged and counted; it changes nothing that is stored."""
        self.report.counts["errors"] += 1
        self.errors.append(f"{order.url}: {reason}")
        if order.source == "rest" and order.signal:
            run.rest_failed.append(order.signal)
        return Step()

    # -- attachments (crawler/attachments.py decides which; here the capture waits for them) ----
    def _with_attachments(self, run: _Section, capture: Capture, page: ExtractedPage) -> Step:
        """The capture, once its attachments have answered: fetches for them now, and the
        capture when it has nothing to wait for."""
        if not self.options.attachments:
            return Step(records=[capture])
        wanted = att.select(page.links, capture.final_url, page.asset_hosts)
        fetches, ready = self.attachments.hold(
            capture, wanted, lambda url, conditional: self._fetch(o.ATTACHMENT, url, run, conditional=conditional))
        return Step(fetches=fetches, records=list(ready))

    def on_attachment(self, run: _Section, order: Fetch, reply: Reply, text: Any = None) -> Step:
        """An attachment answered: its body to store (once per content), and the captures
        that now have all of theirs. A 304 means the body the memory names."""
        blob = None
        if reply.status == 304:
            ref = self.attachments.not_modified(order.url, reply.url)
            if ref is None:  # validators without a remembered body: ask again, in full
                return Step([replace(order, conditional=False)]).forgetting(order.url)
        else:
            ref, blob = att.answer(order.url, reply.status, reply.body, reply.header("Content-Type"), reply.url,
                                   self._now_iso(), text)
        self.report.counts["attachments"] += 1
        return Step(records=[blob] if blob else []).extend(Step(records=list(self.attachments.answered(order.url, ref))))

    def on_attachment_failure(self, order: Fetch, failure: FetchFailure) -> Step:
        self.report.counts["attachment_errors"] += 1
        ref = AttachmentRef(url=order.url, error=att.failure_text(failure.detail))
        return Step(records=list(self.attachments.answered(order.url, ref)))

    # -- removals -----------------------------------------------------------------------------
    def _gone(self, run: _Section, order: Fetch, reply: Reply) -> Step:
        """A post URL answered 404/410: a suspect, and within a removal check, evidence."""
        doc = self.known.get(order.doc_id) or self.known.by_url(reply.url)
        if doc is None:
            return self._post_error(run, order, f"HTTP {reply.status}")
        if order.purpose != o.REMOVAL_CHECK:
            self._gone_seen.add(doc.doc_id)
            self._suspects.setdefault(doc.doc_id, f"its URL answered {reply.status}")
            return Step()
        shortlink = self._shortlink(doc)
        if shortlink and normalize_url(shortlink) != normalize_url(reply.url):
            return Step([self._fetch(o.SHORTLINK, shortlink, run, doc_id=doc.doc_id, url_status=reply.status)])
        return self._judge(doc, reply.url, reply.status, None, None)

    def on_shortlink(self, run: _Section, order: Fetch, reply: Reply) -> Step:
        doc = self.known.get(order.doc_id)
        assert doc is not None and order.url_status is not None
        if reply.status in plan.GONE_STATUSES:
            return self._judge(doc, doc.url, order.url_status, order.url, reply.status)
        if reply.status == 200:
            # The shortlink still leads to a page: the post lives at another address.
            self._confirmed(doc, None)
        else:
            self.report.counts["inconclusive_removal_checks"] += 1
        return Step()

    def _shortlink(self, doc: Known) -> str | None:
        if doc.post_id is None:
            return None
        run = self._section_of(doc)
        root = run.root if run else f"{urlsplit(doc.url).scheme}://{urlsplit(doc.url).netloc}/"
        return f"{root}?p={doc.post_id}"

    def _coverage(self, doc: Known) -> list[tuple[str, str]]:
        """The complete enumerations of this run that would have named `doc` were it there:
        its sections' REST enumerations and listing walks (where the last ones held it) and
        its site's sitemap; as (source, scope) pairs."""
        found = []
        for run in self.runs.values():
            if run.site != doc.site:
                continue
            if run.rest_enumerated and doc.post_id in self._members[run.label]:
                found.append(("rest", run.label))
            if run.listing_complete and normalize_url(doc.url) in self._listing_members[run.label]:
                found.append(("listing", run.label))
            if self._sitemap_complete(run.root) and ("sitemap", run.root) not in found:
                found.append(("sitemap", run.root))
        return found

    def _named(self, doc: Known, scopes: Iterable[tuple[str, str]] | None = None) -> bool:
        keys = {doc.doc_id, normalize_url(doc.url)}
        lists = (self._listed.get(scope, set()) for scope in scopes) if scopes is not None else self._listed.values()
        return any(keys & named for named in lists)

    def _absent_from(self, doc: Known) -> tuple[str, ...]:
        """The sources that enumerated `doc`'s category in full this run and left it out
        (empty when none did, or when any source named it)."""
        coverage = self._coverage(doc)
        if not coverage or self._named(doc, coverage):
            return ()
        return tuple(sorted({source for source, _scope in coverage}))

    def _judge(self, doc: Known, url: str, url_status: int, shortlink: str | None,
               shortlink_status: int | None) -> Step:
        evidence = plan.Evidence(url, url_status, shortlink, shortlink_status, self._absent_from(doc),
                                 self._now_iso())
        if not evidence.sources_checked:
            # Gone by its URLs, but no complete enumeration this run: a sweep will settle it.
            self._wants_sweep = True
            return Step()
        pending = self.memory.pending_removals.get(doc.doc_id)
        pending_json = ({"first_seen_missing": pending.first_seen_missing, "run_id": pending.run_id}
                        if pending else None)
        decision = plan.removal_decision(evidence, pending_json, self.options.run_id, self.options.removal_grace,
                                         self.now)
        history = [*(pending.evidence if pending else []), evidence.to_json()]
        if decision.action == "tombstone":
            self.memory.pending_removals.pop(doc.doc_id, None)
            self.report.counts["removed"] += 1
            record = {**evidence.to_json(), "first_seen_missing": decision.first_seen_missing,
                      "confirmations": history}
            return Step(records=[Removal(doc_id=doc.doc_id, evidence=record, fetched_at=self._now_iso(),
                                         http_status=url_status, run_id=self.options.run_id)])
        if decision.action == "pending":
            self.report.counts["pending_removals"] += 1
            self.memory.pending_removals[doc.doc_id] = PendingRemoval(
                first_seen_missing=decision.first_seen_missing or self._now_iso(),
                run_id=pending.run_id if pending else self.options.run_id, evidence=history)
        return Step()

    # -- later phases -------------------------------------------------------------------------
    def idle(self) -> Step:
        """Nothing in flight: the next phase's fetches, or nothing when the run is over."""
        while self.phase != DONE:
            self.phase = {DISCOVERY: CHECKS, CHECKS: REMOVALS, REMOVALS: DONE}[self.phase]
            step = self._checks() if self.phase == CHECKS else self._removal_checks() if self.phase == REMOVALS else Step()
            if step.fetches:
                return step
        return Step()

    def _checks(self) -> Step:
        """Phase 2: settle suspicions cheaply (one REST enumeration of a category whose
        total fell or that has suspects), and recheck what no signal covered."""
        step = Step()
        self._early_suspects()
        suspected = {owner.label for doc_id in self._suspects
                     if (doc := self.known.get(doc_id)) and (owner := self._section_of(doc))}
        for run in self.runs.values():
            remembered = self.memory.section(run.label)
            total_fell = run.rest_total is not None and bool(self._members[run.label]) and \
                run.rest_total < len(self._members[run.label] | run.rest_ids)
            if (total_fell or run.label in suspected) and run.rest_ok and not run.rest_enumerated \
                    and remembered.category_id:
                run.rest_enumerating = True
                step.fetches.append(self._rest_posts(run, remembered.category_id, 1, o.FULL))
        for doc in self.known:
            run = self._section_of(doc)
            if run is None or doc.removed or doc.doc_id in self._answered or doc.doc_id in self._suspects:
                continue
            if normalize_url(doc.url) in self._requested:
                continue
            covered = doc.doc_id in self._covered or (run.rest_ok and doc.post_id in self._members[run.label])
            # --full re-fetches every document, including those no source named this run.
            due = self.options.recheck.due(doc.date_published, doc.last_seen, self.now)
            if self.options.full or (not covered and due):
                self.report.counts["rechecks"] += 1
                step.extend(self._post(run, doc.url, "listing", doc=doc, purpose=o.RECHECK, force=True))
        return step

    def _early_suspects(self) -> None:
        """Known posts that may have gone: pending removals, and posts that left the first
        listing page or the feed without newer posts pushing them out."""
        for doc_id in self.memory.pending_removals:
            self._suspects.setdefault(doc_id, "removal pending confirmation")
        for run in self.runs.values():
            remembered = self.memory.section(run.label)
            for previous, current, where in ((remembered.listing_head, run.listing_head, "the listing's first page"),
                                             (remembered.feed_head, run.feed_head, "the feed")):
                for key in plan.departed(previous, current):
                    doc = self.known.by_url(key)
                    if doc is not None and not doc.removed and doc.doc_id not in self._answered:
                        self._suspects.setdefault(doc.doc_id, f"it left {where}")

    def _removal_checks(self) -> Step:
        """Phase 3: fetch every suspect no source named this run, and every post a complete
        enumeration left out; their answers are the evidence."""
        step = Step()
        for doc in self.known:
            if doc.removed or doc.doc_id in self._answered:
                continue
            if self._absent_from(doc):
                self._suspects.setdefault(doc.doc_id, "a complete enumeration left it out")
            if doc.doc_id not in self._suspects:
                continue
            if self._named(doc) and doc.doc_id not in self._gone_seen:
                # A source named it this run: it is there.
                if self.memory.pending_removals.pop(doc.doc_id, None):
                    self.report.counts["removals_cleared"] += 1
                continue
            run = self._section_of(doc)
            if run is None:
                continue
            self.report.counts["removal_checks"] += 1
            self._requested.discard(normalize_url(doc.url))
            step.extend(self._post(run, doc.url, "listing", doc=doc, purpose=o.REMOVAL_CHECK, force=True))
        return step

    # -- end ----------------------------------------------------------------------------------
    def close(self, finished: bool) -> tuple[CrawlMemory, RunReport]:
        """The memory for the next run and this run's report. Only a run that finished
        moves the REST mark (it fetched everything its REST answers named)."""
        for run in self.runs.values():
            remembered = self.memory.section(run.label)
            if run.rest_ok and finished:
                remembered.high_water = plan.high_water(remembered.high_water, run.rest_seen, run.rest_failed)
            if run.listing_head is not None:
                remembered.listing_head = run.listing_head
            if run.feed_head is not None:
                remembered.feed_head = run.feed_head
            unsettled = self._unsettled(run)
            if run.rest_enumerated:
                remembered.members = sorted(run.rest_ids | {d.post_id for d in unsettled if d.post_id is not None})
            elif run.rest_ids:
                remembered.members = sorted(self._members[run.label] | run.rest_ids)
            if run.listing_complete:
                named = self._listed.get(("listing", run.label), set())
                remembered.listing_members = sorted({k for k in named if "://" in k} |
                                                    {normalize_url(d.url) for d in unsettled})
            self._settle_section(run)
        if finished and self.sweep and any(self._sweep_complete(run) for run in self.runs.values()):
            self.memory.last_sweep = self._now_iso()
            self.memory.sweep_requested = False
        self.memory.sweep_requested = self.memory.sweep_requested or self._wants_sweep
        self.memory.last_run = {"run_id": self.options.run_id, "at": self._now_iso(), "finished": finished}
        for name, rep in self.report.sources.items():
            rep.complete = any((name == "rest" and r.rest_enumerated) or (name == "listing" and r.listing_complete)
                               or (name == "sitemap" and self._sitemap_complete(r.root)) for r in self.runs.values())
        self.report.failure = self._failure()
        return self.memory, self.report

    def _unsettled(self, run: _Section) -> list[Known]:
        """This section's posts whose removal is still pending: they stay in the section's
        remembered enumerations, so the next run's enumeration is evidence about them."""
        return [doc for doc_id in self.memory.pending_removals if (doc := self.known.get(doc_id))
                and self._section_of(doc) is run]

    def _sweep_complete(self, run: _Section) -> bool:
        return run.rest_enumerated or run.listing_complete or self._sitemap_complete(run.root)

    def _settle_section(self, run: _Section) -> None:
        report = run.report
        if run.rest_ok and report.state in (PENDING, NOT_FOUND) and not run.listing_missing:
            report.state = OK
        elif run.rest_ok and run.listing_missing:
            report.state = OK  # some themes have no listing; the REST API answered
        if report.state == PENDING and self.report.sources["feed"].status == "ok" and not run.feed_empty:
            report.state = OK

    def _failure(self) -> str | None:
        """Why the site could not be crawled at all, or None when at least one section was read."""
        states = {label: run.report.state for label, run in self.runs.items()}
        if not states or OK in states.values():
            return None
        labels = ", ".join(states)
        values = set(states.values())
        if values == {FORBIDDEN}:
            return f"robots.txt forbids crawling {labels}"
        if values == {UNREACHABLE}:
            detail = next((run.report.detail for run in self.runs.values() if run.report.detail), "")
            return f"site unreachable ({labels}: {detail})"
        if values == {NOT_FOUND}:
            return f"category not found: {labels} answered 404"
        return f"site could not be crawled ({', '.join(f'{k}: {v}' for k, v in states.items())})"


def _status_text(status: int) -> str:
    return {401: "refused (401)", 403: "refused (403)", 404: "missing (404)"}.get(status, f"HTTP {status}")


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _is_post_sitemap(url: str) -> bool:
    name = url.rsplit("/", 1)[-1]
    return "post" in name and "page" not in name and "taxonom" not in url and "user" not in url


def _in_category(category_links: Iterable[str], slug: str) -> bool:
    """Posts are discovered from the category, but the page has the last word when it says.
    Slugs compare in one spelling (a Cyrillic slug raw, or escaped in either case)."""
    links = list(category_links)
    if not links:
        return True
    wanted = _path_key(f"https://host/category/{slug.strip('/')}")
    return any(wanted in _path_key(link) for link in links)


def _path_key(url: str) -> str:
    return urlsplit(normalize_url(url)).path.lower() + "/"
