"""`kisi-archive probe`: what a crawl would find on first contact, asked politely, pure.

The prober runs the explorer (crawler/explorer.py: languages, roots, the category in each
language) and, beside it, a handful of requests that tell how the site can be crawled:
robots.txt (its rules and `Sitemap:` lines), the REST index (`/wp-json/`), whether the
posts endpoint filters by `?lang=`, each section's feed and REST post count, the sitemap
flavour (core `wp-sitemap.xml`, per language or not; Yoast or Rank Math's
`sitemap_index.xml`), and whether a single post sends validators (`ETag`,
`Last-Modified`). Like the frontier it hands out `Fetch` orders and is told the answers;
`report()` gives a `ProbeReport`. It writes nothing anywhere.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from . import explorer as ex
from .config import Section
from .discovery import DiscoveryError, parse_category_listing, parse_feed, parse_sitemap
from .extract import decode_html
from .orders import Fetch, FetchFailure, Reply, Step
from .structure import feed_of, is_post_sitemap, parse_rest_categories, rest_url, site_root

ROBOTS = "robots"
REST_INDEX = "rest-index"
REST_FILTER = "rest-filter"
FEED = "probe-feed"
SECTION_CATEGORY = "probe-category"
SITEMAP = "probe-sitemap"
POST = "probe-post"
_GENERATOR = re.compile(r'<meta[^>]+name=["\']generator["\'][^>]+content=["\']WordPress\s*([\d.]+)', re.I)


@dataclass
class ProbeReport:
    site: str
    wordpress: bool | None = None
    wordpress_version: str | None = None
    plugin: str | None = None
    languages: list[dict[str, Any]] = field(default_factory=list)  # code, root, evidence
    sections: list[dict[str, Any]] = field(default_factory=list)  # language, url, how found, posts, feed
    missing: dict[str, str] = field(default_factory=dict)
    failure: str | None = None
    rest: str = "not asked"  # open, refused (401), missing (404), …
    rest_filters_language: bool | None = None  # whether /wp/v2/posts?lang= filters posts
    sitemap: dict[str, Any] = field(default_factory=dict)  # flavour, url, parts, per_language
    robots: dict[str, Any] = field(default_factory=dict)  # status, rules, sitemaps
    page_validators: dict[str, Any] = field(default_factory=dict)  # url, etag, last_modified
    requests: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Prober:
    def __init__(self, seed: Section, checked_at: str) -> None:
        self.seed = seed
        self.root = site_root(seed.url)
        self.explorer = ex.Explorer(seed, checked_at)
        self.result = ProbeReport(site=self.root)
        self._in_flight = 0
        self._sitemaps_tried: set[str] = set()
        self._first_post: str | None = None
        self._section_feeds: dict[str, dict[str, Any]] = {}
        self._rest_totals: dict[str, int | None] = {}
        self._explored = False
        self._rest_probed = False

    @property
    def done(self) -> bool:
        return self._explored and self._in_flight == 0

    def _fetch(self, kind: str, url: str, **fields: Any) -> Fetch:
        self._in_flight += 1
        self.result.requests += 1
        return Fetch(url=url, kind=kind, section=self.seed.label, priority=40, **fields)

    def start(self) -> Step:
        step = self.explorer.start()
        self.result.requests += len(step.fetches)
        step.fetches += [self._fetch(ROBOTS, f"{self.root}robots.txt"),
                         self._fetch(REST_INDEX, rest_url(self.root, "")),
                         self._fetch(SITEMAP, f"{self.root}wp-sitemap.xml")]
        self._sitemaps_tried.add(f"{self.root}wp-sitemap.xml")
        return step

    def on_reply(self, order: Fetch, reply: Reply) -> Step:
        if order.kind in ex.KINDS:
            if order.kind == ex.HOME and reply.status == 200:
                self._home(reply)
            if order.kind == ex.SEED_LISTING and reply.status == 200:
                listing = parse_category_listing(decode_html(reply.body, reply.header("Content-Type")), reply.url)
                self._first_post = listing.post_urls[0] if listing.post_urls else None
            return self._explorer_step(self.explorer.on_reply(order, reply))
        self._in_flight -= 1
        handler = {ROBOTS: self._robots, REST_INDEX: self._rest_index, REST_FILTER: self._rest_filter,
                   FEED: self._feed, SECTION_CATEGORY: self._section_category, SITEMAP: self._sitemap,
                   POST: self._post}[order.kind]
        return handler(order, reply)

    def on_failure(self, order: Fetch, failure: FetchFailure) -> Step:
        if order.kind in ex.KINDS:
            if order.kind == ex.SEED_LISTING and failure.kind != "error":
                self.result.failure = failure.detail
            return self._explorer_step(self.explorer.on_failure(order, failure))
        self._in_flight -= 1
        if order.kind == ROBOTS:
            self.result.robots = {"status": failure.detail}
        elif order.kind == FEED:
            self._section_feeds[order.doc_id or ""] = {"status": failure.detail}
        return Step()

    def _explorer_step(self, step: Step) -> Step:
        self.result.requests += len(step.fetches)
        if not self.explorer.done or self._explored:
            return step
        self._explored = True
        structure = self.explorer.result()
        self.result.plugin = structure.plugin
        self.result.failure = self.result.failure or structure.failure
        self.result.languages = [asdict(lang) for lang in structure.languages]
        self.result.missing = dict(structure.missing)
        self.result.sections = [asdict(found) for found in structure.sections]
        for found in structure.sections:
            step.fetches.append(self._fetch(FEED, feed_of(found.listing), doc_id=found.listing))
        if self._first_post:
            step.fetches.append(self._fetch(POST, self._first_post))
        return step.extend(self._rest_probes())

    def _rest_probes(self) -> Step:
        """Once the structure is known and the REST index said it is open: each section's post
        count, and whether the posts endpoint filters by ?lang=."""
        step = Step()
        if not self._explored or self.result.rest != "open" or self._rest_probed:
            return step
        self._rest_probed = True
        for found in self.result.sections:
            if found.get("posts") is None:
                query = {"slug": found["category"], "lang": found["language"], "_fields": "id,slug,name,link,count"}
                step.fetches.append(self._fetch(SECTION_CATEGORY, rest_url(self.root, "wp/v2/categories", query),
                                                doc_id=found["listing"]))
        codes = [lang["code"] for lang in self.result.languages]
        if len(codes) > 1:
            for lang in ("", codes[-1]):
                query = {"per_page": 1, "_fields": "id", **({"lang": lang} if lang else {})}
                step.fetches.append(self._fetch(REST_FILTER, rest_url(self.root, "wp/v2/posts", query), doc_id=lang))
        return step

    # -- answers ---------------------------------------------------------------------------------
    def _home(self, reply: Reply) -> None:
        html = decode_html(reply.body, reply.header("Content-Type"))
        match = _GENERATOR.search(html)
        if match:
            self.result.wordpress, self.result.wordpress_version = True, match.group(1)
        elif "/wp-content/" in html or "/wp-includes/" in html:
            self.result.wordpress = True

    def _robots(self, order: Fetch, reply: Reply) -> Step:
        text = reply.body.decode("utf-8", "replace") if reply.status == 200 else ""
        lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
        rules = [line for line in lines if line and ":" in line]
        sitemaps = [line.split(":", 1)[1].strip() for line in rules if line.lower().startswith("sitemap:")]
        self.result.robots = {"status": reply.status, "rules": [r for r in rules if not r.lower().startswith("sitemap:")],
                              "sitemaps": sitemaps}
        step = Step()
        for url in sitemaps:
            if url not in self._sitemaps_tried and len(self._sitemaps_tried) < 4:
                self._sitemaps_tried.add(url)
                step.fetches.append(self._fetch(SITEMAP, url))
        return step

    def _rest_index(self, order: Fetch, reply: Reply) -> Step:
        if reply.status in (401, 403):
            self.result.rest = f"refused ({reply.status})"
            return Step()
        if reply.status != 200:
            self.result.rest = f"missing ({reply.status})" if reply.status == 404 else f"HTTP {reply.status}"
            return Step()
        try:
            index = json.loads(reply.body)
        except ValueError:
            self.result.rest = "malformed"
            return Step()
        namespaces = index.get("namespaces", []) if isinstance(index, dict) else []
        self.result.rest = "open" if "wp/v2" in namespaces else "open, without wp/v2"
        self.result.wordpress = self.result.wordpress or "wp/v2" in namespaces
        return self._rest_probes()

    def _rest_filter(self, order: Fetch, reply: Reply) -> Step:
        self._rest_totals[order.doc_id or ""] = int(reply.header("X-WP-Total") or -1) if reply.status == 200 else None
        if len(self._rest_totals) == 2 and None not in self._rest_totals.values():
            everything, one = self._rest_totals[""], next(v for k, v in self._rest_totals.items() if k)
            self.result.rest_filters_language = one != everything
        return Step()

    def _feed(self, order: Fetch, reply: Reply) -> Step:
        entry: dict[str, Any] = {"url": order.url, "status": reply.status}
        if reply.status == 200:
            try:
                entry["items"] = len(parse_feed(reply.body, reply.url))
            except DiscoveryError as exc:
                entry["status"] = f"malformed ({exc})"
            entry["validators"] = bool(reply.header("ETag") or reply.header("Last-Modified"))
        self._section_feeds[order.doc_id or ""] = entry
        for section in self.result.sections:
            if section["listing"] == order.doc_id:
                section["feed"] = entry
        return Step()

    def _section_category(self, order: Fetch, reply: Reply) -> Step:
        for category in parse_rest_categories(reply.body) if reply.status == 200 else []:
            for section in self.result.sections:
                if section["listing"] == order.doc_id:
                    section["posts"], section["category_id"] = category.count, category.id
        return Step()

    def _sitemap(self, order: Fetch, reply: Reply) -> Step:
        if reply.status != 200:
            if order.url.endswith("wp-sitemap.xml") and f"{self.root}sitemap_index.xml" not in self._sitemaps_tried:
                self._sitemaps_tried.add(f"{self.root}sitemap_index.xml")
                return Step([self._fetch(SITEMAP, f"{self.root}sitemap_index.xml")])
            return Step()
        try:
            sitemap = parse_sitemap(reply.body, reply.url)
        except DiscoveryError as exc:
            self.result.sitemap.setdefault("problems", []).append(f"{order.url}: {exc}")
            return Step()
        if self.result.sitemap.get("url"):
            return Step()
        text = reply.body[:2048].decode("utf-8", "replace").lower()
        flavour = ("yoast" if "yoast" in text else "rank math" if "rank math" in text or "rank-math" in text
                   else "core" if order.url.endswith("wp-sitemap.xml") else "other")
        parts = [e.url for e in sitemap.entries] if sitemap.is_index else []
        posts = [p for p in parts if is_post_sitemap(p)]
        per_language = sorted({urlsplit(p).path.strip("/").split("/")[0] for p in posts if urlsplit(p).path.count("/") > 1})
        self.result.sitemap = {"flavour": flavour, "url": order.url, "index": sitemap.is_index, "parts": len(parts),
                               "post_parts": len(posts), "per_language": per_language}
        return Step()

    def _post(self, order: Fetch, reply: Reply) -> Step:
        self.result.page_validators = {"url": order.url, "status": reply.status, "etag": reply.header("ETag"),
                                       "last_modified": reply.header("Last-Modified")}
        return Step()

    def report(self) -> ProbeReport:
        return self.result
