"""What the frontier and the spider say to each other: fetch orders, and what came back.

The frontier (crawler/frontier.py) hands out `Fetch` orders; the spider turns each into a
Scrapy request and hands back, for each, either a `Reply` (any HTTP status) or a
`FetchFailure` (no HTTP answer: timeout, refused connection, robots.txt, ...). Plain data,
no Scrapy: the frontier's tests build these by hand.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

# Kinds of fetch. The sources of discovery are named after them in the run report.
REST_CATEGORIES = "rest-categories"  # /wp-json/wp/v2/categories?slug=… : the category's REST id
REST_POSTS = "rest-posts"  # /wp-json/wp/v2/posts?categories=ID … : posts with modification times
FEED = "feed"  # …/category/<slug>/feed/ (conditional)
LISTING = "listing"  # …/category/<slug>/, page/2/, …
SITEMAP = "sitemap"  # /wp-sitemap.xml and its post sub-sitemaps
POST = "post"  # a single post page
SHORTLINK = "shortlink"  # /?p=ID of a post whose URL answered 404/410 (removal evidence)
ATTACHMENT = "attachment"  # a PDF, document or image a post links or embeds (crawler/attachments.py)

# Why a post is fetched.
DISCOVERY = "discovery"  # a source named it as new or changed
RECHECK = "recheck"  # no source covers it and it is due (crawler.plan.RecheckPolicy)
REMOVAL_CHECK = "removal-check"  # it looks removed: its URL's status is evidence

# REST paging modes: the newest modifications until the remembered mark, or everything.
HEAD = "head"
FULL = "full"


@dataclass(frozen=True)
class Fetch:
    """One order: fetch `url`, for this section, for this reason."""

    url: str
    kind: str
    section: str  # the label of the section it serves (crawler.config.Section.label)
    page: int = 1
    mode: str = ""  # REST_POSTS: HEAD or FULL
    conditional: bool = False  # send back the validators of the last answer
    purpose: str = DISCOVERY  # POST: DISCOVERY, RECHECK or REMOVAL_CHECK
    source: str = ""  # POST: the discovery source that named it
    doc_id: str | None = None  # POST, SHORTLINK: the document it concerns, when known
    signal: str | None = None  # POST: the modification time that made it worth fetching
    translation_of: str | None = None  # POST: the URL of the post whose hreflang named it
    url_status: int | None = None  # SHORTLINK: what the post's own URL answered
    url_led_to: str | None = None  # SHORTLINK: the other post the URL now leads to
    priority: int = 0


@dataclass(frozen=True)
class Reply:
    """An HTTP answer, whatever its status (redirects already followed)."""

    url: str  # where the answer came from, after redirects
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    requested_url: str = ""  # the first URL asked for, before redirects
    warc: Any = None  # where the crawl's WARC file keeps this answer (storage.WarcRef), if it does

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


# Kinds of failure without an HTTP answer.
UNREACHABLE = "unreachable"  # DNS, refused or reset connection, timeout
FORBIDDEN = "forbidden"  # robots.txt forbids it
ERROR = "error"  # anything else


@dataclass(frozen=True)
class FetchFailure:
    kind: str  # UNREACHABLE, FORBIDDEN or ERROR
    detail: str  # one line: what happened


@dataclass
class Step:
    """What the frontier answers to one event: more fetches, and records for the archive."""

    fetches: list[Fetch] = field(default_factory=list)
    records: list[Any] = field(default_factory=list)  # storage.Capture, storage.Sighting, storage.Removal
    forget: list[str] = field(default_factory=list)  # URLs whose validators must not be sent back

    def extend(self, other: Step) -> Step:
        self.fetches.extend(other.fetches)
        self.records.extend(other.records)
        self.forget.extend(other.forget)
        return self

    def forgetting(self, url: str) -> Step:
        self.forget.append(url)
        return self
