"""The crawl's decisions: told what each source said, the frontier answers what to fetch.

Pure: no Scrapy, no Twisted, no I/O. It is built from the crawler's memory of earlier runs
(crawler/memory.py), the documents the archive holds (crawler/known.py), the run's options
(what to archive: a seed category and pinned sections) and `now`; the spider hands it every
answer (`on_reply`) and every failure (`on_failure`) and sends whatever `Fetch` orders come
back; the records it returns go to the archive. `close()` gives the memory for the next run
and the run's report.

A run goes in phases, each started when the previous one has nothing left in flight
(`idle()`):

1. discovery. First contact, when the site's structure is not known yet or this run sweeps:
   the explorer (crawler/explorer.py) finds the site's languages and the seed category in
   each of them; every such category is a section. Then per site: the REST API, read for
   all the site's sections at once (the newest modifications down to the last run's mark,
   or every post in a sweep), one conditional feed (WordPress's validators are site-wide),
   each section's first listing page (walked on while it shows unknown posts, or to its end
   in a sweep), and the sitemap when the REST API does not answer or in a sweep. Without
   the REST API, a feed answering 304 means nothing was published or edited on the site,
   and the listings are not read. New posts and posts whose modification time changed are
   fetched, and so are their hreflang translations the archive does not know yet; a
   translation in a language that has no section yet brings its category in as one.
2. checks: age-based rechecks of posts no signal covered; and "suspects", known posts that
   may have been removed (the site's REST total fell, they left the first listing page or
   the feed without newer posts pushing them out, or their URL answered 404): where the
   REST API answers, one enumeration of the categories' post ids settles which are missing.
3. removals: each suspect still missing, and each post a complete enumeration of this run
   left out, is fetched; a 404/410 on its URL and on its shortlink, with the complete
   enumerations that did not name it, is evidence (crawler.plan.removal_decision decides:
   pending, or a tombstone when a later run or the grace period confirms it).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping
from urllib.parse import urlencode, urlsplit

from storage import Capture, Removal, Sighting
from storage.records import AttachmentRef
from storage.records import content_fields
from storage.urls import normalize_url, shortlink_post_id, site_key

from . import attachments as att
from . import explorer as ex
from . import orders as o
from . import plan
from .config import Config, Section
from .discovery import (DiscoveryError, is_post_candidate, parse_category_listing, parse_feed, parse_rest_category_id,
                        parse_rest_posts, parse_sitemap)
from .extract import WARN_NOT_HTML, ExtractedPage, decode_html
from .guards import suspicious
from .known import Known, KnownDocuments, post_key, valid_post_id
from .memory import CrawlMemory, PendingRemoval
from .orders import Fetch, FetchFailure, Reply, Step
from .scope import Scope, bare_host, host_of
from .report import ERROR, FORBIDDEN, NOT_FOUND, OK, PENDING, UNREACHABLE, RunReport, SectionReport
from .structure import FoundSection, SiteStructure, category_slug_of, feed_of, is_post_sitemap, same_page, site_root

logger = logging.getLogger(__name__)

REST_HEAD_PAGE = 20  # posts per page when reading only the newest modifications
REST_FULL_PAGE = 100  # … when enumerating the categories (WordPress's maximum)
REST_FIELDS = "id,link,slug,date_gmt,modified_gmt,categories"
# Priorities (Scrapy fetches higher numbers first): the sources that name posts go before the
# posts they name, the REST API first, then the feed and sitemaps, then listings; attachments
# go before the next posts, and posts last.
PRIORITY = {o.REST_CATEGORIES: 30, o.REST_POSTS: 30, o.FEED: 20, o.SITEMAP: 20, o.LISTING: 10,
            o.POST: 0, o.SHORTLINK: 0, o.ATTACHMENT: 5}
SITEMAPS = ("wp-sitemap.xml", "sitemap_index.xml")  # WordPress core's, then Yoast's and Rank Math's
# Bounds on what one answer can make the run do, whatever it claims (docs/RELIABILITY.md):
SITEMAP_MAX_URLS = 50_000  # per sitemap file or index: the sitemaps.org protocol's own limit
FEED_MAX_ITEMS = 100  # read of a feed: WordPress shows 10 (Settings > Reading, posts_per_rss)
FEED_MAX_FETCHES = 10  # unknown posts fetched from the feed in a run: the listings and REST name the rest
DISCOVERY, CHECKS, REMOVALS, DONE = "discovery", "checks", "removals", "done"


@dataclass(frozen=True)
class Options:
    seed: Section | None = None  # the category discovery starts from
    sections: tuple[Section, ...] = ()  # pinned: crawled as given
    discover: bool = True  # find the seed category in the site's other languages
    full: bool = False  # re-fetch every post, walk every listing to its end
    follow_translations: bool = True
    max_listing_pages: int = 500
    recheck: plan.RecheckPolicy = plan.RecheckPolicy()
    sweep_every: timedelta | None = timedelta(days=1)
    removal_grace: timedelta | None = None
    run_id: str | None = None
    attachments: bool = True  # fetch what posts link and embed (crawler/attachments.py)
    attachment_hosts: tuple[str, ...] = ()  # hosts besides the site's that attachments may come from

    @property
    def scope(self) -> Scope:
        """The one allow-list of hosts of the run (crawler/scope.py)."""
        urls = [s.url for s in (self.seed, *self.sections) if s is not None]
        return Scope.of(urls, self.attachment_hosts)

    @classmethod
    def from_config(cls, config: Config, run_id: str | None = None) -> Options:
        recheck = plan.RecheckPolicy(
            min_interval=plan.parse_duration(config.recheck_min) or plan.RecheckPolicy.min_interval,
            max_interval=plan.parse_duration(config.recheck_max) or plan.RecheckPolicy.max_interval,
            factor=config.recheck_factor)
        return cls(seed=config.seed, sections=tuple(config.sections), discover=config.discover, full=config.full,
                   follow_translations=config.follow_translations, max_listing_pages=config.max_listing_pages,
                   recheck=recheck, sweep_every=plan.parse_duration(config.sweep_every),
                   removal_grace=plan.parse_duration(config.removal_grace), run_id=run_id,
                   attachments=config.attachments, attachment_hosts=tuple(config.attachment_hosts))


@dataclass
class _Section:
    """One section's progress in this run."""

    section: Section
    report: SectionReport = field(default_factory=SectionReport)
    category_id: int | None = None
    rest_enumerated: bool = False  # a REST enumeration of this run held every post id of it
    rest_ids: set[int] = field(default_factory=set)  # post ids REST named for it this run
    listing_complete: bool = False
    listing_missing: bool = False
    listing_head: list[str] | None = None
    feed_head: list[str] | None = None
    feed_empty: bool = False
    listing_read: set[str] = field(default_factory=set)  # URL keys of the listing pages ordered this run

    @property
    def label(self) -> str:
        return self.section.label

    @property
    def site(self) -> str:
        return site_key(self.section.url)

    @property
    def root(self) -> str:
        return site_root(self.section.url)


@dataclass
class _Site:
    """One WordPress site's progress in this run: what its sections share."""

    root: str
    sections: list[_Section] = field(default_factory=list)
    explorer: ex.Explorer | None = None
    rest_ok: bool = False  # the REST API answered all this run asked of it
    rest_down: bool = False  # … it did not answer (refused, missing, broken)
    rest_enumerating: bool = False
    rest_total: int | None = None
    rest_ids: set[int] = field(default_factory=set)
    rest_seen: list[str] = field(default_factory=list)  # modification times REST named
    rest_failed: list[str] = field(default_factory=list)  # … of posts whose fetch failed
    feed_section: _Section | None = None
    feed_answer: str | None = None  # "200", "304" or "error"
    waiting: list[_Section] = field(default_factory=list)  # listings to read unless the feed says 304

    @property
    def key(self) -> str:
        return site_key(self.root)


class Frontier:
    def __init__(self, memory: CrawlMemory, known: KnownDocuments, options: Options, now: datetime, *,
                 attachment_memory: dict[str, Any] | None = None, resume: Mapping[str, Any] | None = None) -> None:
        self.memory, self.known, self.options, self.now = memory, known, options, now
        self.attachments = att.AttachmentFetches(memory=att.known_refs(attachment_memory or {}))
        self.scope = options.scope
        self._offsite_said: set[str] = set()  # "where: host" already named this run
        self.report = RunReport()
        self.sweep = plan.sweep_due(memory.last_sweep, options.sweep_every, now, full=options.full,
                                    pending_removals=memory.sweep_requested)
        self.report.sweep = self.sweep
        self.phase = DISCOVERY
        self.sites: dict[str, _Site] = {}
        self.runs: dict[str, _Section] = {}
        self.errors: list[str] = []  # page errors of this run, "URL: reason", for the log
        self._requested: set[str] = set()  # URL keys of post fetches ordered this run
        self._answered: set[str] = set()  # doc ids that answered (or were captured) this run
        self._captured: dict[tuple[str, int], set[str]] = {}  # (site, post id) -> its URL keys
        self._rest_walks: dict[str, set[int]] = {}  # "mode:categories" -> post ids its pages named this run
        self._sitemaps_read: set[str] = set()  # URL keys of the sitemaps ordered this run
        self._said: set[str] = set()  # bounds already named this run (one sentence each)
        self._ids_named: dict[str, tuple[int, str]] = {}
        # Resuming what a run cut short had under way (its checkpoint, see `checkpoint`):
        resume = resume if isinstance(resume, Mapping) else {}
        self._resume_walks = {str(w["categories"]): w for w in resume.get("walks") or []
                              if isinstance(w, Mapping) and w.get("categories") and isinstance(w.get("next_page"), int)}
        # (a post left over from a checkpoint already carried once, its section never started, is dropped)
        self._resume_posts = [p for p in resume.get("posts") or []
                              if isinstance(p, Mapping) and p.get("url") and not p.get("carried")]
        self._walks_open: dict[str, dict[str, Any]] = {}  # categories -> the full REST walk under way
        self._pending: dict[str, dict[str, Any]] = {}  # URL key -> a post fetch ordered, not answered yet
        self.checkpoint_due = False  # the walk moved on: worth saving now  # URL key -> (post id, source) REST or a feed gave it
        self._listed: dict[tuple[str, str], set[str]] = {}  # (source, section or site) -> keys it named
        self._covered: set[str] = set()  # doc ids whose modification signal showed no change
        self._sitemap_lastmod: dict[str, str] = {}  # URL key -> <lastmod> seen this run
        self._sitemaps: dict[str, dict[str, int]] = {}  # site root -> {"parts", "done", "failed"}
        self._suspects: dict[str, str] = {}  # doc id -> why it may be gone
        self._gone_seen: set[str] = set()  # doc ids whose URL answered 404/410 outside a removal check
        self._wants_sweep = False  # something this run saw can only be settled by a sweep
        self._settled: set[str] = set()  # doc ids whose removal check concluded this run (pending or tombstone)
        # What the last runs' enumerations held: a post they held and this run's leave out is missing.
        self._members: dict[str, set[int]] = {}
        self._listing_members: dict[str, set[str]] = {}
        self._plan_sites()

    # -- what to crawl --------------------------------------------------------------------------------
    def _plan_sites(self) -> None:
        seed, pinned = self.options.seed, list(self.options.sections)
        for section in pinned:
            self._add_section(section)
        if seed is None:
            return
        site = self._site(site_root(seed.url))
        remembered = SiteStructure.from_json(self.memory.site(site.root).structure)
        fresh = remembered is not None and remembered.seed == seed.listing_url and not remembered.failure
        if self.options.discover and (not fresh or self.sweep):
            site.explorer = ex.Explorer(seed, plan.iso(self.now), in_scope=self._in_scope)
        if self.options.discover and fresh and remembered is not None:
            # Known from an earlier run: crawl it now; a sweep checks it again on the side.
            for section in ex.sections_of(remembered, seed):
                self._add_section(section)
        elif not self.options.discover:
            self._add_section(seed)

    def _site(self, root: str) -> _Site:
        return self.sites.setdefault(root, _Site(root))

    def _add_section(self, section: Section) -> _Section | None:
        if any(same_page(section.label, label) for label in self.runs):
            return None
        run = _Section(section, category_id=self.memory.section(section.label).category_id)
        self.runs[run.label] = run
        self.report.sections[run.label] = run.report
        self._members[run.label] = set(self.memory.section(run.label).members)
        self._listing_members[run.label] = set(self.memory.section(run.label).listing_members)
        self._site(run.root).sections.append(run)
        return run

    # -- small helpers --------------------------------------------------------------------------------
    def _now_iso(self) -> str:
        return plan.iso(self.now)

    def _fetch(self, kind: str, url: str, run: _Section, **fields: Any) -> Fetch:
        source = {o.REST_CATEGORIES: "rest", o.REST_POSTS: "rest"}.get(kind, kind)
        if kind != o.POST and source in self.report.sources:
            self.report.sources[source].requests += 1
        return Fetch(url=url, kind=kind, section=run.label, priority=PRIORITY[kind], **fields)

    def _in_scope(self, urls: Iterable[str], where: str, *, attachment: bool = False,
                  granted: Iterable[str] = ()) -> list[str]:
        """The URLs within the run's hosts; the others are counted, and named in one sentence
        per source and host (a sitemap of 50,000 foreign URLs is one line, not 50,000)."""
        kept: list[str] = []
        refused: dict[str, list[str]] = {}  # why not -> those URLs
        for url in urls:
            why = self.scope.why_not(url, attachment=attachment, granted=granted)
            if why is None:
                kept.append(url)
            else:
                refused.setdefault(why, []).append(url)
        for why, those in refused.items():
            self.report.counts["offsite"] += len(those)
            said = f"{where}: {why}"
            if said not in self._offsite_said:
                self._offsite_said.add(said)
                logger.warning("%s names %d URL%s %s: not fetched, not kept (%s)", where, len(those),
                               "" if len(those) == 1 else "s", why, those[0][:300])
        return kept

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

    def _rest_usable(self, site: _Site) -> bool:
        remembered = self.memory.site(site.root).rest
        return not site.rest_down and (remembered in (None, "ok") or self.sweep)

    # -- start ----------------------------------------------------------------------------------------
    def start(self) -> Step:
        step = Step()
        for site in self.sites.values():
            if site.explorer is not None:
                step.extend(site.explorer.start())
            step.extend(self._start_sections(site, list(site.sections), first=True))
        return step

    def _start_sections(self, site: _Site, runs: list[_Section], *, first: bool = False) -> Step:
        """Start reading these sections' sources. The first batch of a run reads the REST
        API's newest modifications (all the site's categories in one request); sections added
        later in the run (found by first contact, or through a translation) are enumerated."""
        step = Step()
        if not runs:
            return step
        step.extend(self._resumed_posts(runs))
        remembered = self.memory.site(site.root)
        if self._rest_usable(site):
            with_id = [r for r in runs if r.category_id]
            if with_id:
                head = first and not (self.sweep or self.options.full or not remembered.high_water)
                step.fetches.append(self._rest_posts(site, with_id, 1, o.HEAD if head else o.FULL))
            for run in runs:
                if not run.category_id:
                    step.fetches.append(self._rest_lookup(run))
        if site.feed_section is None:
            site.feed_section = runs[0]
            step.fetches.append(self._fetch(o.FEED, feed_of(runs[0].section.listing_url), runs[0], conditional=True))
        for run in runs:
            new = run.label not in self.memory.sections or not self.memory.sections[run.label].listing_head
            if self._rest_usable(site) or self.options.full or self.sweep or new or site.feed_answer not in (None, "304"):
                step.fetches.append(self._listing(run, run.section.listing_url, 1))
            else:
                site.waiting.append(run)  # read unless the feed says nothing changed on the site
        if self.sweep or not self._rest_usable(site):
            step.extend(self._sitemap(site))
        return step

    def _resumed_posts(self, runs: list[_Section]) -> Step:
        """The post fetches a run cut short had ordered and not seen answered: ordered again."""
        step, left = Step(), []
        labels = {run.label: run for run in runs}
        for pending in self._resume_posts:
            run = labels.get(str(pending.get("section")))
            if run is None:
                left.append(pending)
                continue
            url = str(pending["url"])
            signal = pending.get("signal") if isinstance(pending.get("signal"), str) else None
            step.extend(self._post(run, url, str(pending.get("source") or "listing"), doc=self.known.by_url(url),
                                   signal=signal, force=True))
        self._resume_posts = left
        return step

    def checkpoint(self) -> dict[str, Any]:
        """What a run cut short now would leave undone, for the next run to resume: the full
        REST walks under way (their next page, the ids their pages named) and the post
        fetches ordered and not answered. Saved as the run goes (crawler/session.py)."""
        self.checkpoint_due = False
        posts = list(self._pending.values()) + [{**p, "carried": True} for p in self._resume_posts
                                                if normalize_url(str(p["url"])) not in self._pending]
        return {"run_id": self.options.run_id, "walks": list(self._walks_open.values()), "posts": posts}

    def _rest_lookup(self, run: _Section) -> Fetch:
        query = {"slug": run.section.category}
        if run.section.language:
            query["lang"] = run.section.language
        return self._fetch(o.REST_CATEGORIES, f"{run.root}wp-json/wp/v2/categories?{urlencode(query)}", run)

    def _rest_posts(self, site: _Site, runs: list[_Section], page: int, mode: str) -> Fetch:
        ids = ",".join(str(r.category_id) for r in sorted(runs, key=lambda r: r.category_id or 0))
        resumed = self._resume_walks.pop(ids, None) if mode == o.FULL and page == 1 else None
        if resumed is not None and resumed["next_page"] > 1:
            # Ordered by id, a walk's earlier pages stay earlier: what they named is kept.
            named = {str(k): {int(i) for i in v if isinstance(i, int)} for k, v in (resumed.get("ids") or {}).items()}
            for run in runs:
                run.rest_ids |= named.get(run.label, set())
                site.rest_ids |= named.get(run.label, set())
            self._rest_walks[f"{mode}:{ids}"] = set().union(*named.values()) if named else set()
            page = int(resumed["next_page"])
            logger.info("the REST enumeration of categories %s resumes at page %d, where a run cut short left it", ids,
                        page)
        query: dict[str, Any] = {"categories": ids, "page": page, "_fields": REST_FIELDS}
        if mode == o.FULL:
            # Ordered by id, so paging is stable while posts are edited during the walk.
            query.update(per_page=REST_FULL_PAGE, orderby="id", order="asc")
        else:
            query.update(per_page=REST_HEAD_PAGE, orderby="modified", order="desc")
        return self._fetch(o.REST_POSTS, f"{site.root}wp-json/wp/v2/posts?{urlencode(query)}", runs[0], page=page,
                           mode=mode, doc_id=ids)

    def _listing(self, run: _Section, url: str, page: int) -> Fetch:
        run.listing_read.add(normalize_url(url))
        return self._fetch(o.LISTING, url, run, page=page)

    def _say_once(self, key: str, message: str, *args: Any) -> None:
        """One warning per bound and source in a run (a loop would say it on every turn)."""
        if key not in self._said:
            self._said.add(key)
            logger.warning(message, *args)

    def _sitemap(self, site: _Site, name: str | None = None) -> Step:
        """The site's sitemap index, once per run (core's, else Yoast's / Rank Math's)."""
        if site.root in self._sitemaps and name is None:
            return Step()
        self._sitemaps[site.root] = {"parts": 0, "done": 0, "failed": 0}
        url = f"{site.root}{name}" if name else (self.memory.site(site.root).sitemap or f"{site.root}{SITEMAPS[0]}")
        self._sitemaps_read.add(normalize_url(url))
        return Step([self._fetch(o.SITEMAP, url, site.sections[0], page=0)])

    # -- every answer ---------------------------------------------------------------------------------
    def on_reply(self, order: Fetch, reply: Reply, page: ExtractedPage | None = None) -> Step:
        """An HTTP answer to `order`. For a post answering 200, `page` is its extraction."""
        if order.kind in ex.KINDS:
            return self._explored(order, self._explorer_of(order).on_reply(order, reply))
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
        if order.kind in ex.KINDS:
            return self._explored(order, self._explorer_of(order).on_failure(order, failure), failure)
        run = self.runs[order.section]
        if failure.kind == o.OFFSITE:
            # Named by the middleware that refused it; for a post, not an error of the page
            # but no evidence about it either.
            self.report.counts["offsite"] += 1
            if order.kind == o.POST and order.source == "rest" and order.signal:
                self.sites[run.root].rest_failed.append(order.signal)
            if order.kind == o.POST:
                self._pending.pop(normalize_url(order.url), None)
                return Step()
        if order.kind == o.ATTACHMENT:
            return self.on_attachment_failure(order, failure)
        site = self.sites[run.root]
        if order.kind in (o.REST_CATEGORIES, o.REST_POSTS):
            return self._rest_unavailable(site, failure.detail)
        if order.kind == o.FEED:
            self._source("feed", failure.detail)
            return self._feed_answered(site, "error")
        if order.kind == o.LISTING:
            self._listing_failed(run, order, failure.kind, failure.detail)
        elif order.kind == o.SITEMAP:
            self._sitemap_failed(site, failure.detail)
        elif order.kind == o.SHORTLINK:
            self.report.counts["inconclusive_removal_checks"] += 1
        else:
            self._pending.pop(normalize_url(order.url), None)
            self._post_error(run, order, failure.detail)
        return Step()

    # -- first contact --------------------------------------------------------------------------------
    def _explorer_of(self, order: Fetch) -> ex.Explorer:
        return next(site.explorer for site in self.sites.values()
                    if site.explorer is not None and site.explorer.seed.label == order.section)

    def _explored(self, order: Fetch, step: Step, failure: FetchFailure | None = None) -> Step:
        explorer = self._explorer_of(order)
        if not explorer.done:
            return step
        site = self._site(site_root(explorer.seed.url))
        site.explorer = None
        found = explorer.result()
        remembered = SiteStructure.from_json(self.memory.site(site.root).structure)
        if found.failure:
            if remembered is not None and not remembered.failure and not found.failure.startswith("category not found"):
                # A transient failure of a re-check: keep what an earlier run found.
                logger.warning("site structure not re-checked (%s): keeping the one found on %s", found.failure,
                               remembered.checked_at)
                return step
            return step.extend(self._seed_failed(site, explorer.seed, found.failure, failure))
        self._compare(remembered, found)
        self.memory.site(site.root).structure = found.to_json()
        self.report.structures[site.root] = found.to_json()
        for code, why in found.missing.items():
            self.report.warnings.append(f"{site.root}: no section for language {code}: {why}")
        new = [run for section in ex.sections_of(found, explorer.seed) if (run := self._add_section(section))]
        for run in new:
            details = self._found(found, run.section)
            if details and details.category_id and not run.category_id:
                run.category_id = self.memory.section(run.label).category_id = details.category_id
        return step.extend(self._start_sections(site, new))

    def _found(self, structure: SiteStructure, section: Section) -> FoundSection | None:
        return next((s for s in structure.sections if same_page(s.listing, section.label)), None)

    def _compare(self, before: SiteStructure | None, after: SiteStructure) -> None:
        if before is None:
            return
        old = {s.language: s.listing for s in before.sections}
        for section in after.sections:
            if section.language in old and not same_page(old[section.language], section.listing):
                logger.warning("the %s category moved: %s is now %s", section.language, old[section.language],
                               section.listing)
        for code in sorted(set(old) - {s.language for s in after.sections}):
            self.report.warnings.append(f"the {code} category {old[code]} is no longer linked from the site")

    def _seed_failed(self, site: _Site, seed: Section, why: str, failure: FetchFailure | None) -> Step:
        run = self._add_section(seed) or self.runs[seed.label]
        run.report.state = (failure.kind if failure else NOT_FOUND if why.startswith("category not found") else ERROR)
        run.report.detail = why
        run.listing_missing = True
        return Step()

    def _adopt_translation_category(self, run: _Section, page: ExtractedPage, reply: Reply,
                                    translation_of: str) -> Step:
        """A translation of an archived event, in a language without a section: the category
        it sits in is that language's section (evidence: the translation)."""
        language = page.language
        site = self.sites[run.root]
        if (not self.options.discover or not language or self.options.seed is None
                or any(r.section.language == language for r in site.sections)):
            return Step()
        links = [link for link in page.category_links if category_slug_of(link) and self.scope.allows(link)]
        seed_slug = self.options.seed.category.lower()
        link = next((u for u in links if (category_slug_of(u) or "").lower().startswith(seed_slug)), None)
        link = link or (links[0] if links else None)
        if link is None:
            return Step()
        root = link.split("/category/")[0] + "/"
        added = self._add_section(Section(root, category_slug_of(link) or "", language, link))
        if added is None:
            return Step()
        evidence = f"the category of {reply.url}, a translation of {translation_of}"
        structure = SiteStructure.from_json(self.memory.site(site.root).structure)
        if structure is not None:
            structure.sections.append(FoundSection(language, link, added.section.category, [evidence]))
            structure.missing.pop(language, None)
            self.memory.site(site.root).structure = structure.to_json()
            self.report.structures[site.root] = structure.to_json()
        self.report.warnings = [w for w in self.report.warnings if f"for language {language}:" not in w]
        logger.info("section %s (%s) found through %s", link, language, evidence)
        return self._start_sections(site, [added])

    # -- REST API -------------------------------------------------------------------------------------
    def on_rest_categories(self, run: _Section, order: Fetch, reply: Reply) -> Step:
        site = self.sites[run.root]
        if reply.status != 200:
            return self._rest_unavailable(site, _status_text(reply.status), status=reply.status)
        try:
            category_id = parse_rest_category_id(reply.body, run.section.category)
        except DiscoveryError as exc:
            logger.warning("the REST answer %s is not what WordPress sends: %s", order.url, str(exc)[:300])
            return self._rest_unavailable(site, f"malformed: {exc}", status_text="malformed")
        if category_id is None:
            run.report.detail = f"the REST API knows no category {run.section.category!r}"
            return Step()
        run.category_id = self.memory.section(run.label).category_id = category_id
        return Step([self._rest_posts(site, [run], 1, o.FULL)])

    def on_rest_posts(self, run: _Section, order: Fetch, reply: Reply) -> Step:
        site = self.sites[run.root]
        if reply.status == 400 and order.page > 1:
            # WordPress answers 400 rest_post_invalid_page_number past the last page.
            return self._rest_done(site, order)
        if reply.status != 200:
            return self._rest_unavailable(site, _status_text(reply.status), status=reply.status)
        try:
            posts = parse_rest_posts(reply.body)
        except DiscoveryError as exc:
            logger.warning("the REST answer %s is not what WordPress sends: %s", order.url, str(exc)[:300])
            return self._rest_unavailable(site, f"malformed: {exc}", status_text="malformed")
        report = self.report.sources["rest"]
        report.status = "ok"
        report.posts += len(posts)
        if order.mode == o.HEAD:
            site.rest_total = _int(reply.header("X-WP-Total"))
        owners = self._sections_of_categories(site, order.doc_id or "")
        mark = plan.parse_time(self.memory.site(site.root).high_water) if order.mode == o.HEAD else None
        step = Step()
        reached_mark = False
        own = set(self._in_scope([p.url for p in posts], f"the REST answer {order.url}"))
        for post in posts:
            if post.url not in own:
                continue
            if not valid_post_id(post.id):
                logger.warning("the REST answer %s names post id %s for %s, which no WordPress post can have: "
                               "skipped", order.url, post.id, post.url[:300])
                continue
            self._ids_named.setdefault(normalize_url(post.url), (post.id, "the REST API"))
            mine = [r for r in owners if r.category_id in post.categories] or owners[:1]
            site.rest_ids.add(post.id)
            doc = self.known.find(post.url, site.key, post.id)
            for owner in mine:
                owner.rest_ids.add(post.id)
                self._note_listed("rest", owner.label, post.url, doc)
            modified = plan.parse_time(post.modified_gmt)
            if mark is not None and modified is not None and modified <= mark:
                reached_mark = True
                continue
            if post.modified_gmt:
                site.rest_seen.append(post.modified_gmt)
            changed = plan.needs_fetch(self.memory.signals.get(post_key(site.key, post.id)), post.modified_gmt)
            if doc is None or doc.removed or self.options.full or changed:
                step.extend(self._post(mine[0], post.url, "rest", doc=doc, signal=post.modified_gmt))
            elif doc is not None:
                self._covered.add(doc.doc_id)
        total_pages = self._rest_total_pages(order, reply)
        walk = self._rest_walks.setdefault(f"{order.mode}:{order.doc_id}", set())
        if order.page == 1:
            walk.clear()
        fresh = {p.id for p in posts} - walk
        walk.update(p.id for p in posts)
        if posts and not fresh:
            self._say_once(f"rest-repeat:{order.doc_id}", "the REST API answers %s with posts its earlier pages named "
                           "(X-WP-TotalPages: %s is not believed): paging stops here", order.url,
                           reply.header("X-WP-TotalPages"))
            return step.extend(self._rest_done(site, order))
        if posts and not reached_mark and total_pages and order.page < total_pages:
            step.fetches.append(self._rest_posts(site, owners, order.page + 1, order.mode))
            if order.mode == o.FULL:
                self._walks_open[order.doc_id or ""] = {"categories": order.doc_id, "next_page": order.page + 1,
                                                        "ids": {r.label: sorted(r.rest_ids) for r in owners}}
                self.checkpoint_due = True
            return step
        return step.extend(self._rest_done(site, order))

    def _rest_total_pages(self, order: Fetch, reply: Reply) -> int | None:
        """X-WP-TotalPages, when it is a number of pages; any other value is named (once) and
        ends the paging, as no header would."""
        for name in ("X-WP-Total", "X-WP-TotalPages"):
            value = reply.header(name)
            if value is not None and not value.strip().isdigit():
                self._say_once(f"rest-header:{name}", "the REST answer %s says %s: %r, not a count: %s", order.url,
                               name, value[:40], "paging stops here" if name == "X-WP-TotalPages" else "ignored")
        return _int(reply.header("X-WP-TotalPages"))

    def _sections_of_categories(self, site: _Site, ids: str) -> list[_Section]:
        wanted = {int(i) for i in ids.split(",") if i.isdigit()}
        return [r for r in site.sections if r.category_id in wanted]

    def _rest_done(self, site: _Site, order: Fetch) -> Step:
        site.rest_ok = True
        if self._walks_open.pop(order.doc_id or "", None) is not None:
            self.checkpoint_due = True
        if order.mode == o.FULL:
            site.rest_enumerating = False
            for run in self._sections_of_categories(site, order.doc_id or ""):
                run.rest_enumerated = True
        return Step()

    def _rest_unavailable(self, site: _Site, detail: str, *, status: int | None = None,
                          status_text: str | None = None) -> Step:
        text = status_text or {401: "refused (401)", 403: "refused (403)", 404: "missing (404)"}.get(status or 0, detail)
        self._source("rest", text)
        self.memory.site(site.root).rest = text
        if site.rest_down:
            return Step()
        site.rest_ok, site.rest_down, site.rest_enumerating = False, True, False
        # Without the REST API, the sitemap's <lastmod> is the best edit signal left, and the
        # listings are what names new posts.
        step = self._sitemap(site)
        for run in site.waiting:
            step.fetches.append(self._listing(run, run.section.listing_url, 1))
        site.waiting.clear()
        return step

    # -- feed -----------------------------------------------------------------------------------------
    def on_feed(self, run: _Section, order: Fetch, reply: Reply) -> Step:
        site = self.sites[run.root]
        if reply.status == 304:
            self._source("feed", "not modified")
            return self._feed_answered(site, "304")
        if reply.status != 200:
            self._source("feed", _status_text(reply.status))
            return self._feed_answered(site, "error")
        try:
            entries = parse_feed(reply.body, reply.url, limit=FEED_MAX_ITEMS + 1)
        except DiscoveryError as exc:
            logger.warning("the feed %s cannot be read: %s", order.url, str(exc)[:300])
            self._source("feed", "malformed")
            return self._feed_answered(site, "error")
        if len(entries) > FEED_MAX_ITEMS:
            logger.warning("the feed %s holds more than %d items (WordPress shows 10 by default): only its first %d "
                           "are read", order.url, FEED_MAX_ITEMS, FEED_MAX_ITEMS)
            entries = entries[:FEED_MAX_ITEMS]
        self.report.sources["feed"].status = "ok"
        self.report.sources["feed"].posts += len(entries)
        run.feed_empty = not entries
        run.feed_head = [normalize_url(e.url) for e in entries]
        step = self._feed_answered(site, "200")
        own = set(self._in_scope([e.url for e in entries], f"the feed {order.url}"))
        for entry in entries:
            if entry.url not in own:
                continue
            if entry.post_id is not None and not valid_post_id(entry.post_id):
                entry = replace(entry, post_id=None)
            if entry.post_id is not None:
                self._ids_named.setdefault(normalize_url(entry.url), (entry.post_id, "the feed"))
            doc = self.known.find(entry.url, run.site, entry.post_id)
            if doc is None or doc.removed or self.options.full:
                if len(step.fetches) >= FEED_MAX_FETCHES:
                    self._say_once(f"feed-fetches:{order.url}", "the feed %s names more than %d posts to fetch: "
                                   "only the first %d are fetched from it (the listings and the REST API name the "
                                   "rest)", order.url, FEED_MAX_FETCHES, FEED_MAX_FETCHES)
                    break
                step.extend(self._post(run, entry.url, "feed", doc=doc))
        return step

    def _feed_answered(self, site: _Site, answer: str) -> Step:
        """WordPress's feed validators are site-wide: a 304 says nothing was published or edited
        anywhere on the site, so the listings waiting for it need not be read."""
        site.feed_answer = answer
        step = Step()
        if answer != "304":
            for run in site.waiting:
                step.fetches.append(self._listing(run, run.section.listing_url, 1))
        site.waiting.clear()
        return step

    # -- listing --------------------------------------------------------------------------------------
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
        next_url = listing.next_url
        if next_url is not None and not self._in_scope([next_url], f"the next-page link of the listing {order.url}"):
            next_url = None  # the walk stops short of the end: not a complete enumeration
        if next_url is not None and normalize_url(next_url) in run.listing_read:
            self._say_once(f"listing-loop:{run.label}", "the next-page link of the listing %s leads back to %s, "
                           "already read this run: the walk ends here", order.url, next_url)
            next_url = None
        for url in self._in_scope(listing.post_urls, f"the listing {order.url}"):
            doc = self.known.by_url(url)
            self._note_listed("listing", run.label, url, doc)
            if doc is None or doc.removed or self.options.full:
                unknown += 1
                step.extend(self._post(run, url, "listing", doc=doc))
        walk_on = self.options.full or self.sweep or unknown > 0
        if listing.next_url is None:
            run.listing_complete = True
        elif next_url is not None and walk_on and order.page < self.options.max_listing_pages:
            step.fetches.append(self._listing(run, next_url, order.page + 1))
        return step

    def _listing_failed(self, run: _Section, order: Fetch, state: str, detail: str) -> None:
        if order.page == 1:
            run.report.state, run.report.detail = state, detail
        else:
            self.report.counts["errors"] += 1
        self._source("listing", "error" if state != NOT_FOUND else "missing (404)")

    # -- sitemap --------------------------------------------------------------------------------------
    def on_sitemap(self, run: _Section, order: Fetch, reply: Reply) -> Step:
        site = self.sites[run.root]
        progress = self._sitemaps[site.root]
        if reply.status in plan.GONE_STATUSES and order.page == 0 and order.url.endswith(SITEMAPS[0]):
            return self._sitemap(site, SITEMAPS[1])  # no core sitemap: an SEO plugin's, perhaps
        if reply.status != 200:
            return self._sitemap_failed(site, _status_text(reply.status))
        try:
            sitemap = parse_sitemap(reply.body, reply.url, limit=SITEMAP_MAX_URLS)
        except DiscoveryError as exc:
            logger.warning("the sitemap %s cannot be read: %s", order.url, str(exc)[:300])
            return self._sitemap_failed(site, "malformed")
        if sitemap.listed > SITEMAP_MAX_URLS:
            logger.warning("the sitemap %s lists %d entries, more than the %d a sitemap may hold (sitemaps.org): "
                           "only the first %d are read", order.url, sitemap.listed, SITEMAP_MAX_URLS, SITEMAP_MAX_URLS)
            progress["failed"] += 1  # not a complete enumeration
        if sitemap.is_index:
            self.memory.site(site.root).sitemap = order.url
            parts = self._in_scope([e.url for e in sitemap.entries if is_post_sitemap(e.url)],
                                   f"the sitemap index {order.url}")
            again = [u for u in parts if normalize_url(u) in self._sitemaps_read]
            if again:
                self._say_once(f"sitemap-again:{order.url}", "the sitemap index %s lists %s, already read this run: "
                               "not read again", order.url, again[0])
                parts = [u for u in parts if u not in again]
            self._sitemaps_read.update(normalize_url(u) for u in parts)
            progress["parts"] += len(parts)
            if not parts:
                self._source("sitemap", "ok")
            return Step([self._fetch(o.SITEMAP, url, run, page=1) for url in parts])
        progress["done"] += 1
        self.report.sources["sitemap"].status = "ok"
        self.report.sources["sitemap"].posts += len(sitemap.entries)
        step = Step()
        own = set(self._in_scope([e.url for e in sitemap.entries], f"the sitemap {order.url}"))
        for entry in sitemap.entries:
            if entry.url not in own:
                continue
            key = normalize_url(entry.url)
            doc = self.known.by_url(entry.url)
            self._note_listed("sitemap", site.root, entry.url, doc)
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

    def _sitemap_failed(self, site: _Site, detail: str) -> Step:
        self._sitemaps.setdefault(site.root, {"parts": 0, "done": 0, "failed": 0})["failed"] += 1
        self._source("sitemap", detail)
        return Step()

    def _sitemap_complete(self, root: str) -> bool:
        progress = self._sitemaps.get(root)
        return bool(progress) and not progress["failed"] and progress["done"] >= progress["parts"] > 0

    # -- posts ----------------------------------------------------------------------------------------
    def _post(self, run: _Section, url: str, source: str, *, doc: Known | None = None, signal: str | None = None,
              purpose: str = o.DISCOVERY, translation_of: str | None = None, force: bool = False) -> Step:
        """Order a post fetch, once per URL and run; only URLs that can be single posts, on
        the run's hosts."""
        if not self._in_scope([url], f"the {source} source"):
            return Step()
        if translation_of is None and not force and not is_post_candidate(url, run.section.url):
            return Step()
        key = normalize_url(url)
        if key in self._requested:
            return Step()
        self._requested.add(key)
        if purpose == o.DISCOVERY and translation_of is None:
            self._pending[key] = {"url": url, "section": run.label, "source": source, "signal": signal}
        self.report.counts["discovered"] += 1
        if source in self.report.sources:
            self.report.sources[source].fetches += 1
        # Conditional (validators sent back when a caching layer gave some), except where the
        # status itself is the evidence.
        return Step([self._fetch(o.POST, url, run, source=source, purpose=purpose, doc_id=doc.doc_id if doc else None,
                                 signal=signal, translation_of=translation_of,
                                 conditional=purpose != o.REMOVAL_CHECK)])

    def on_post(self, run: _Section, order: Fetch, reply: Reply, page: ExtractedPage | None) -> Step:
        # Answered: no longer under way, unless its capture waits for attachments (below).
        pending = self._pending.pop(normalize_url(order.url), None)
        step = self._on_post(run, order, reply, page)
        held = {normalize_url(c.url) for c in self.attachments.held_captures()} if pending else set()
        if pending and normalize_url(order.url) in held:
            self._pending[normalize_url(order.url)] = pending
        return step

    def _on_post(self, run: _Section, order: Fetch, reply: Reply, page: ExtractedPage | None) -> Step:
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
        page = self._own_addresses(self._checked_id(page, reply), reply)
        conflict = self._id_conflict(page, reply)
        if conflict:
            self.report.counts["id_conflicts"] += 1
            logger.warning("%s", conflict)
            return Step().forgetting(reply.url)
        if page.page_kind in ("page", "archive"):
            self.report.counts["skipped_not_post"] += 1
            return Step()
        if expected is not None and expected.post_id is not None and page.post_id not in (None, expected.post_id):
            return self._led_elsewhere(run, order, reply, expected, page)
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
            urls = {normalize_url(u) for u in (reply.requested_url, reply.url, page.canonical_url) if u}
            earlier = self._captured.get((run.site, page.post_id))
            if earlier is not None:
                if not earlier & urls:
                    self.report.counts["id_conflicts"] += 1
                    logger.warning("%s claims post id %d, which %s claimed earlier in this run: a conflict, "
                                   "not a version (not archived)", reply.url, page.post_id, sorted(earlier)[0])
                return Step()  # the same post reached by another URL in this run
            self._captured[(run.site, page.post_id)] = urls
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
        step = self._with_attachments(run, capture, page)
        if order.translation_of:
            step.extend(self._adopt_translation_category(run, page, reply, order.translation_of))
        return step.extend(self._translations(run, page, reply))

    def _checked_id(self, page: ExtractedPage, reply: Reply) -> ExtractedPage:
        """The page with its claimed post id, or without one that no post can have (zero,
        negative, above what SQLite holds): then it is archived under its URL's identity."""
        if page.post_id is None or valid_post_id(page.post_id):
            return page
        logger.warning("%s claims post id %s, which no WordPress post can have (a positive integer below 2^63): "
                       "archived by its URL instead", reply.url, page.post_id)
        self.report.counts["invalid_post_ids"] += 1
        shortlink = page.shortlink if page.shortlink and valid_post_id(shortlink_post_id(page.shortlink)) else None
        return replace(page, post_id=None, shortlink=shortlink)

    def _id_conflict(self, page: ExtractedPage, reply: Reply) -> str | None:
        """Why the page's claimed post id cannot be believed, or None: a source of this run
        (the REST API, the feed's guid) gives the URL that answered another id."""
        if page.post_id is None:
            return None
        keys = [normalize_url(reply.url)]
        if reply.requested_url and same_page(reply.requested_url, reply.url):
            keys.append(normalize_url(reply.requested_url))
        named = next((self._ids_named[k] for k in keys if k in self._ids_named), None)
        if named is None or named[0] == page.post_id:
            return None
        return (f"{reply.url} claims post id {page.post_id}, but {named[1]} gives that URL the id {named[0]}: "
                "a conflict, not a version (not archived)")

    def _own_addresses(self, page: ExtractedPage, reply: Reply) -> ExtractedPage:
        """The page with only the addresses it claims that can be the post's: a canonical URL
        on another host or of a listing (never an alias: `show` would resolve it to the post),
        and a shortlink or hreflang alternates on another host, are dropped."""
        canonical = page.canonical_url
        if canonical and not same_page(canonical, reply.url):
            why = self.scope.why_not(canonical)
            if why is not None:
                self.report.counts["offsite"] += 1
            elif not is_post_candidate(canonical, reply.url):
                why = "not the address of a single post (a listing, an archive or a file)"
            if why is not None:
                logger.warning("%s: its canonical URL %s is %s: not kept as an address of the post", reply.url,
                               canonical[:300], why)
                canonical = None
        own = set(self._in_scope([u for u in page.alternates.values() if u], f"the hreflang links of {reply.url}"))
        alternates = {lang: url for lang, url in page.alternates.items() if url in own}
        shortlink = self.scope.keep(page.shortlink)
        if (canonical, shortlink, alternates) == (page.canonical_url, page.shortlink, dict(page.alternates)):
            return page
        return replace(page, canonical_url=canonical, shortlink=shortlink, alternates=alternates)

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
        for _lang, url in sorted(page.alternates.items()):  # on the site's hosts (see _own_addresses)
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
            self.sites[run.root].rest_failed.append(order.signal)
        return Step()

    # -- attachments (crawler/attachments.py decides which; here the capture waits for them) ----
    def _with_attachments(self, run: _Section, capture: Capture, page: ExtractedPage) -> Step:
        """The capture, once its attachments have answered: fetches for them now, and the
        capture when it has nothing to wait for."""
        if not self.options.attachments:
            return Step(records=[capture])
        wanted = att.select(page.links, capture.final_url, page.asset_hosts)
        # A CDN the page loads the site's own files from serves its uploads (issue 10): its
        # files are the site's, for this post's attachment fetches only.
        cdn = {host_of(w.url) for w in wanted} & {bare_host(h) for h in page.asset_hosts}
        allowed = set(self._in_scope([w.url for w in wanted], f"the attachments of {capture.final_url}",
                                     attachment=True, granted=cdn))
        wanted = [w for w in wanted if w.url in allowed]

        def fetch(url: str, conditional: bool) -> Fetch:
            granted = host_of(url) if host_of(url) in cdn and not self.scope.allows(url, attachment=True) else None
            return self._fetch(o.ATTACHMENT, url, run, conditional=conditional, cdn_host=granted)

        fetches, ready = self.attachments.hold(capture, wanted, fetch)
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
        released = list(self.attachments.answered(order.url, ref))
        self._released(released)
        return Step(records=[blob] if blob else []).extend(Step(records=released))

    def _released(self, captures: Iterable[Capture]) -> None:
        for capture in captures:
            self._pending.pop(normalize_url(capture.url), None)

    def on_attachment_failure(self, order: Fetch, failure: FetchFailure) -> Step:
        self.report.counts["attachment_errors"] += 1
        ref = AttachmentRef(url=order.url, error=att.failure_text(failure.detail))
        released = list(self.attachments.answered(order.url, ref))
        self._released(released)
        return Step(records=released)

    # -- removals -------------------------------------------------------------------------------------
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

    def _led_elsewhere(self, run: _Section, order: Fetch, reply: Reply, doc: Known, page: ExtractedPage) -> Step:
        """A known post's URL now serves another post: WordPress's guess for a URL whose post
        is gone (a 301 to a post whose slug starts the same). Its shortlink says the rest."""
        elsewhere = f"post {page.post_id} at {reply.url}"
        logger.warning("%s (%s) now leads to %s: it will be checked for removal", order.url, doc.doc_id, elsewhere)
        if order.purpose != o.REMOVAL_CHECK:
            self._gone_seen.add(doc.doc_id)
            self._suspects.setdefault(doc.doc_id, f"its URL now leads to {elsewhere}")
            return Step()
        shortlink = self._shortlink(doc)
        if not shortlink:
            return Step()
        return Step([self._fetch(o.SHORTLINK, shortlink, run, doc_id=doc.doc_id, url_status=reply.status,
                                 url_led_to=elsewhere)])

    def on_shortlink(self, run: _Section, order: Fetch, reply: Reply) -> Step:
        doc = self.known.get(order.doc_id)
        assert doc is not None and order.url_status is not None
        if reply.status in plan.GONE_STATUSES:
            return self._judge(doc, doc.url, order.url_status, order.url, reply.status, order.url_led_to)
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
        return f"{run.root if run else site_root(doc.url)}?p={doc.post_id}"

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
               shortlink_status: int | None, url_led_to: str | None = None) -> Step:
        evidence = plan.Evidence(url, url_status, shortlink, shortlink_status, self._absent_from(doc),
                                 self._now_iso(), url_led_to)
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
        if decision.action in ("tombstone", "pending"):
            self._settled.add(doc.doc_id)
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

    # -- later phases ---------------------------------------------------------------------------------
    def idle(self) -> Step:
        """Nothing in flight: the next phase's fetches, or nothing when the run is over."""
        while self.phase != DONE:
            self.phase = {DISCOVERY: CHECKS, CHECKS: REMOVALS, REMOVALS: DONE}[self.phase]
            step = self._checks() if self.phase == CHECKS else self._removal_checks() if self.phase == REMOVALS else Step()
            if step.fetches:
                return step
        return Step()

    def _checks(self) -> Step:
        """Phase 2: settle suspicions cheaply (one REST enumeration of a site whose total fell
        or that has suspects), and recheck what no signal covered."""
        step = Step()
        self._early_suspects()
        suspected = {owner.root for doc_id in self._suspects
                     if (doc := self.known.get(doc_id)) and (owner := self._section_of(doc))}
        for site in self.sites.values():
            ids = [r for r in site.sections if r.category_id]
            members = set().union(*(self._members[r.label] for r in ids)) if ids else set()
            total_fell = site.rest_total is not None and bool(members) and site.rest_total < len(members | site.rest_ids)
            enumerated = all(r.rest_enumerated for r in ids)
            if (total_fell or site.root in suspected) and site.rest_ok and ids and not enumerated:
                site.rest_enumerating = True
                step.fetches.append(self._rest_posts(site, ids, 1, o.FULL))
            elif site.root in suspected and site.rest_down and not self._sitemap_complete(site.root):
                step.extend(self._sitemap(site))  # the enumeration that can settle them without REST
        for doc in self.known:
            run = self._section_of(doc)
            if run is None or doc.removed or doc.doc_id in self._answered or doc.doc_id in self._suspects:
                continue
            if normalize_url(doc.url) in self._requested:
                continue
            covered = doc.doc_id in self._covered or (self.sites[run.root].rest_ok and doc.post_id in self._members[run.label])
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

    # -- end ------------------------------------------------------------------------------------------
    def close(self, finished: bool) -> tuple[CrawlMemory, RunReport]:
        """The memory for the next run and this run's report. Only a run that finished
        moves the REST mark (it fetched everything its REST answers named)."""
        for site in self.sites.values():
            remembered = self.memory.site(site.root)
            if site.rest_ok:
                remembered.rest = "ok"
                if finished:
                    remembered.high_water = plan.high_water(remembered.high_water, site.rest_seen, site.rest_failed)
                if site.rest_total is not None:
                    remembered.rest_total = site.rest_total
        for run in self.runs.values():
            remembered_section = self.memory.section(run.label)
            if run.listing_head is not None:
                remembered_section.listing_head = run.listing_head
            if run.feed_head is not None:
                remembered_section.feed_head = run.feed_head
            unsettled = self._unsettled(run)
            if run.rest_enumerated:
                remembered_section.members = sorted(run.rest_ids | {d.post_id for d in unsettled if d.post_id is not None})
            elif run.rest_ids:
                remembered_section.members = sorted(self._members[run.label] | run.rest_ids)
            if run.listing_complete:
                named = self._listed.get(("listing", run.label), set())
                remembered_section.listing_members = sorted({k for k in named if "://" in k} |
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
        """This section's posts whose removal is still open (pending, or a check that did not
        conclude: a 503, a timeout): they stay in the section's remembered enumerations, so
        the next run's enumeration is evidence about them again."""
        open_ids = set(self.memory.pending_removals) | {d for d in self._suspects if d not in self._settled
                                                         and d not in self._answered}
        return [doc for doc_id in sorted(open_ids) if (doc := self.known.get(doc_id)) and not doc.removed
                and self._section_of(doc) is run]

    def _sweep_complete(self, run: _Section) -> bool:
        return run.rest_enumerated or run.listing_complete or self._sitemap_complete(run.root)

    def _settle_section(self, run: _Section) -> None:
        report = run.report
        site = self.sites[run.root]
        named = any(self._listed.get((source, run.label)) for source in ("rest", "listing"))
        if site.rest_ok and run.category_id and report.state in (PENDING, NOT_FOUND) and not (
                run.listing_missing and not named):
            report.state = OK  # the REST API answered for its category (some themes have no listing)
        if report.state == PENDING and (site.feed_answer == "304" or (run.feed_head and not run.feed_empty)):
            report.state = OK  # nothing changed on the site since the last run, which read it
        if report.state == OK and not named and run.listing_head == [] and not run.feed_head:
            self.report.warnings.append(f"{run.label}: the section named no post this run")

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
            details = [run.report.detail for run in self.runs.values() if run.report.detail]
            if len(details) == 1 and details[0].startswith("category not found"):
                return details[0]
            return f"category not found: {labels} answered 404"
        return f"site could not be crawled ({', '.join(f'{k}: {v}' for k, v in states.items())})"


def _status_text(status: int) -> str:
    return {401: "refused (401)", 403: "refused (403)", 404: "missing (404)"}.get(status, f"HTTP {status}")


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


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


__all__ = ["Frontier", "Options"]
