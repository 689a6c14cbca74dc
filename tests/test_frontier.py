"""The crawl's decisions as tables: fetches, walks, rechecks and removals, without a reactor.

Each test builds a Frontier from plain data (memory of earlier runs, known documents, a
fixed clock), tells it what the sources answered, and checks the orders and records that
come back. Answers are built the way WordPress shapes them (REST JSON with X-WP-Total,
RSS 2.0, core sitemaps, a theme's listing markup), small but real.
"""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from crawler import explorer as ex
from crawler import orders as o
from crawler import plan
from crawler.config import Section
from crawler.extract import ExtractedPage
from crawler.frontier import Frontier, Options
from crawler.known import Known, KnownDocuments
from crawler.memory import CrawlMemory, PendingRemoval, SectionMemory, SiteMemory, validators_of_v1
from crawler.orders import Fetch, FetchFailure, Reply, Step
from fixture_pages import answers as fixture_answers
from storage import Capture, Removal, Sighting

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
SITE = "https://kisi.kz"
SECTION = Section(f"{SITE}/en/", "events", "en")
LABEL = SECTION.label
DAY_AGO = plan.iso(NOW - timedelta(days=1))
HOURS_AGO = plan.iso(NOW - timedelta(hours=2))


# -- building blocks ------------------------------------------------------------------------------
def url(n: int) -> str:
    return f"{SITE}/en/event-{n}/"


def known(n: int, *, removed: bool = False, published: str = "2024-01-01T00:00:00+00:00",
          last_seen: str = DAY_AGO, text_length: int = 1200) -> Known:
    return Known(doc_id=f"kisi.kz-en-{n}", site="kisi.kz", post_id=n, language="en", url=url(n),
                 status="removed" if removed else "live", date_published=published, last_seen=last_seen,
                 text_length=text_length)


def memory(*, category_id: int | None = 12, high_water: str | None = "2026-11-20T00:00:00+00:00",
           members: list[int] | None = None, listing_head: list[int] | None = None,
           signals: dict[int, str] | None = None, last_sweep: str | None = HOURS_AGO, rest: str | None = "ok",
           **extra: Any) -> CrawlMemory:
    from storage.urls import normalize_url

    section = SectionMemory(category_id=category_id, members=sorted(members or []),
                            listing_head=[normalize_url(url(n)) for n in listing_head or []])
    site = SiteMemory(high_water=high_water, rest=rest)
    return CrawlMemory(sites={f"{SITE}/": site}, sections={LABEL: section},
                       signals={f"kisi.kz:{n}": t for n, t in (signals or {}).items()}, last_sweep=last_sweep, **extra)


def frontier(mem: CrawlMemory | None = None, docs: list[Known] = (), **options: Any) -> Frontier:
    # Rechecks are switched off unless a test asks for them: they would blur other tables.
    options.setdefault("recheck", plan.RecheckPolicy(min_interval=timedelta(days=3650),
                                                     max_interval=timedelta(days=3650)))
    options.setdefault("seed", SECTION)
    options.setdefault("discover", False)
    return Frontier(mem or memory(), KnownDocuments(docs), Options(run_id="run-2", **options), NOW)


def rest_posts(posts: list[tuple[int, str]], total: int | None = None, pages: int = 1) -> Reply:
    body = [{"id": n, "link": url(n), "slug": f"event-{n}", "date_gmt": "2024-01-01T00:00:00",
             "modified_gmt": modified, "categories": [12]} for n, modified in posts]
    headers = {"x-wp-total": str(len(posts) if total is None else total), "x-wp-totalpages": str(pages),
               "content-type": "application/json; charset=UTF-8"}
    return Reply(url=f"{SITE}/wp-json/wp/v2/posts", status=200, body=json.dumps(body).encode(), headers=headers)


def rss(numbers: list[int]) -> Reply:
    items = "".join(f"<item><title>Event {n}</title><link>{url(n)}</link>"
                    f"<guid isPermaLink=\"false\">{SITE}/?p={n}</guid>"
                    f"<pubDate>Tue, 05 Mar 2024 10:00:00 +0000</pubDate></item>" for n in numbers)
    body = f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>KazISS</title>{items}</channel></rss>'
    return Reply(url=f"{SITE}/en/category/events/feed/", status=200, body=body.encode(),
                 headers={"etag": '"abc"', "content-type": "application/rss+xml; charset=UTF-8"})


def listing(numbers: list[int], next_page: int | None = None, page: int = 1) -> Reply:
    articles = "".join(f'<article id="post-{n}" class="post-{n} post type-post hentry category-events">'
                       f'<h2 class="entry-title"><a href="{url(n)}" rel="bookmark">Event {n}</a></h2></article>'
                       for n in numbers)
    nav = (f'<nav class="navigation pagination"><a class="next page-numbers" '
           f'href="{SITE}/en/category/events/page/{next_page}/">Next</a></nav>' if next_page else "")
    body = (f'<html><body class="archive category category-events"><main id="content" class="site-main">'
            f'{articles}{nav}</main><aside class="widget-area"><a href="{url(999)}">Recent</a></aside></body></html>')
    path = "" if page == 1 else f"page/{page}/"
    return Reply(url=f"{SITE}/en/category/events/{path}", status=200, body=body.encode(),
                 headers={"content-type": "text/html; charset=UTF-8"})


def sitemap(entries: list[tuple[int, str | None]]) -> Reply:
    urls = "".join(f"<url><loc>{url(n)}</loc>" + (f"<lastmod>{m}</lastmod>" if m else "") + "</url>"
                   for n, m in entries)
    body = f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    return Reply(url=f"{SITE}/wp-sitemap-posts-post-1.xml", status=200, body=body.encode())


def sitemap_index() -> Reply:
    parts = "".join(f"<sitemap><loc>{SITE}/wp-sitemap-{name}-1.xml</loc></sitemap>"
                    for name in ("posts-post", "posts-page", "taxonomies-category", "users"))
    body = f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{parts}</sitemapindex>'
    return Reply(url=f"{SITE}/wp-sitemap.xml", status=200, body=body.encode())


def page(n: int, *, text: str = "Experts met. " * 100, post_id: int | None = None, kind: str = "post",
         alternates: dict[str, str] | None = None, modified: str = "2026-11-27T10:00:00+00:00",
         category_links: tuple[str, ...] = ()) -> ExtractedPage:
    return ExtractedPage(title=f"Event {n}", text=text, canonical_url=url(n), shortlink=f"{SITE}/?p={n}",
                         post_id=n if post_id is None else post_id, language="en", date_published="2024-01-01T00:00:00+00:00",
                         date_modified=modified, author="KazISS", categories=("Events",), tags=(),
                         alternates=alternates or {}, page_kind=kind, extractor={"name": "trafilatura", "version": "x"},
                         warnings=(), category_links=category_links)


def ok(order: Fetch, status: int = 200) -> Reply:
    return Reply(url=order.url, status=status, body=b"<html>...</html>" if status == 200 else b"",
                 headers={"content-type": "text/html; charset=UTF-8"}, requested_url=order.url)


def of_kind(step: Step, kind: str) -> list[Fetch]:
    return [f for f in step.fetches if f.kind == kind]


def post_urls(step: Step) -> list[str]:
    return [f.url for f in of_kind(step, o.POST)]


def first(step: Step, kind: str) -> Fetch:
    found = of_kind(step, kind)
    assert found, f"no {kind} fetch in {step.fetches}"
    return found[0]


def drive(front: Frontier, step: Step, answer: Any) -> list[Any]:
    """Run the frontier to the end: `answer(order)` gives (reply, page) or a FetchFailure for
    every fetch; returns every record the run produced."""
    records, queue = list(step.records), list(step.fetches)
    while True:
        while queue:
            order = queue.pop(0)
            result = answer(order)
            if isinstance(result, FetchFailure):
                out = front.on_failure(order, result)
            else:
                reply, extracted = result if isinstance(result, tuple) else (result, None)
                out = front.on_reply(order, reply, extracted)
            records += out.records
            queue += out.fetches
        more = front.idle()
        if not more.fetches:
            return records
        queue += more.fetches


# -- start ----------------------------------------------------------------------------------------
def test_a_first_run_looks_up_the_category_and_sweeps() -> None:
    step = frontier(CrawlMemory()).start()
    assert [f.kind for f in step.fetches] == [o.REST_CATEGORIES, o.FEED, o.LISTING, o.SITEMAP]
    assert "slug=events" in step.fetches[0].url and "lang=en" in step.fetches[0].url
    assert first(step, o.FEED).conditional and first(step, o.FEED).url == f"{SITE}/en/category/events/feed/"
    assert first(step, o.SITEMAP).url == f"{SITE}/wp-sitemap.xml"


def test_a_routine_run_reads_the_rest_head_feed_and_first_listing_page() -> None:
    step = frontier().start()
    assert [f.kind for f in step.fetches] == [o.REST_POSTS, o.FEED, o.LISTING]
    rest = step.fetches[0]
    assert rest.mode == o.HEAD and "orderby=modified" in rest.url and "categories=12" in rest.url
    assert "modified_after" not in rest.url  # the mark is applied by reading newest first


@pytest.mark.parametrize("full, last_sweep, sweep_requested, sweeps", [
    (False, DAY_AGO, False, True),  # a day since the last sweep (sweep_every 1d)
    (False, plan.iso(NOW - timedelta(hours=2)), False, False),
    (True, plan.iso(NOW - timedelta(hours=2)), False, True),
    (False, plan.iso(NOW - timedelta(hours=2)), True, True),
])
def test_when_a_run_sweeps(full: bool, last_sweep: str, sweep_requested: bool, sweeps: bool) -> None:
    front = frontier(memory(last_sweep=last_sweep, sweep_requested=sweep_requested), full=full)
    assert front.sweep is sweeps
    assert bool(of_kind(front.start(), o.SITEMAP)) is sweeps


# -- REST -----------------------------------------------------------------------------------------
MARK = "2026-11-20T00:00:00+00:00"


@pytest.mark.parametrize("posts, signals, docs, fetched, pages", [
    # A new post, newer than the mark: fetched.
    ([(7, "2026-11-27T10:00:00")], {}, [], [7], 1),
    # Known, its modification time as recorded at its capture: not fetched.
    ([(7, "2026-11-27T10:00:00")], {7: "2026-11-27T10:00:00+00:00"}, [7], [], 1),
    # Known, modified since: fetched.
    ([(7, "2026-11-27T10:00:00")], {7: "2026-11-21T10:00:00+00:00"}, [7], [7], 1),
    # Older than the mark: the head stops there, nothing fetched, the next page not read.
    ([(7, "2026-11-19T10:00:00"), (6, "2026-11-01T10:00:00")], {}, [6, 7], [], 2),
    # A whole page newer than the mark: the next page is read.
    ([(7, "2026-11-27T10:00:00"), (6, "2026-11-26T10:00:00")], {}, [], [6, 7], 2),
    # A removed post named again: fetched (it may be back).
    ([(7, "2026-11-27T10:00:00")], {7: "2026-11-27T10:00:00+00:00"}, [-7], [7], 1),
])
def test_rest_head(posts: list, signals: dict, docs: list[int], fetched: list[int], pages: int) -> None:
    front = frontier(memory(signals=signals), [known(abs(n), removed=n < 0) for n in docs])
    order = first(front.start(), o.REST_POSTS)
    step = front.on_reply(order, rest_posts(posts, total=len(posts) * pages, pages=pages))
    assert sorted(post_urls(step)) == sorted(url(n) for n in fetched)
    reads_on = pages > 1 and all(plan.parse_time(m) > plan.parse_time(MARK) for _n, m in posts)
    assert bool(of_kind(step, o.REST_POSTS)) is reads_on


def test_rest_full_enumeration_pages_to_the_end() -> None:
    front = frontier(CrawlMemory())
    lookup = first(front.start(), o.REST_CATEGORIES)
    step = front.on_reply(lookup, Reply(url=lookup.url, status=200, body=b'[{"id":12,"slug":"events"}]'))
    page1 = first(step, o.REST_POSTS)
    assert page1.mode == o.FULL and "per_page=100" in page1.url and "orderby=id" in page1.url
    step = front.on_reply(page1, rest_posts([(1, "2024-01-01T00:00:00")], total=2, pages=2))
    page2 = first(step, o.REST_POSTS)
    assert page2.page == 2
    # WordPress answers 400 past the last page (a post removed while paging): the walk ends.
    assert not front.on_reply(page2, Reply(url=page2.url, status=400, body=b'{"code":"rest_post_invalid_page_number"}')).fetches
    assert front.runs[LABEL].rest_enumerated


@pytest.mark.parametrize("status, report", [(401, "refused (401)"), (403, "refused (403)"), (404, "missing (404)")])
def test_without_rest_the_sitemap_is_read_once(status: int, report: str) -> None:
    other = Section(f"{SITE}/", "sobytiya", "ru")
    front = Frontier(memory(), KnownDocuments(), Options(seed=SECTION, sections=(other,), discover=False), NOW)
    step = front.start()
    sitemaps = []
    for order in of_kind(step, o.REST_POSTS) + of_kind(step, o.REST_CATEGORIES):
        sitemaps += of_kind(front.on_reply(order, Reply(url=order.url, status=status)), o.SITEMAP)
    assert [f.url for f in sitemaps] == [f"{SITE}/wp-sitemap.xml"]  # once per site, not per section
    assert front.report.sources["rest"].status == report


def test_a_rest_post_that_failed_holds_the_mark_back() -> None:
    front = frontier()
    order = first(front.start(), o.REST_POSTS)
    fetch = first(front.on_reply(order, rest_posts([(7, "2026-11-27T10:00:00"), (6, "2026-11-19T00:00:00")])), o.POST)
    front.on_failure(fetch, FetchFailure(o.UNREACHABLE, "TimeoutError: took too long"))
    mem, report = front.close(finished=True)
    assert mem.sites[f"{SITE}/"].high_water == "2026-11-27T09:59:59+00:00" and report.counts["errors"] == 1


def test_an_unfinished_run_keeps_the_mark() -> None:
    front = frontier()
    order = first(front.start(), o.REST_POSTS)
    front.on_reply(order, rest_posts([(7, "2026-11-27T10:00:00")]))
    assert front.close(finished=False)[0].sites[f"{SITE}/"].high_water == MARK


# -- feed and listing -----------------------------------------------------------------------------
def test_feed_304_names_nothing_and_200_names_the_unknown() -> None:
    front = frontier(docs=[known(1)])
    feed = first(front.start(), o.FEED)
    assert not front.on_reply(feed, Reply(url=feed.url, status=304)).fetches
    assert front.report.sources["feed"].status == "not modified"
    assert post_urls(front.on_reply(feed, rss([2, 1]))) == [url(2)]


@pytest.mark.parametrize("sweep, docs, shown, walks_on", [
    (False, [], [1, 2], True),  # unknown posts: the next page may hold more
    (False, [1, 2], [1, 2], False),  # only known posts: the walk stops
    (True, [1, 2], [1, 2], True),  # a sweep walks to the end
])
def test_listing_walk(sweep: bool, docs: list[int], shown: list[int], walks_on: bool) -> None:
    front = frontier(memory(last_sweep=None if sweep else plan.iso(NOW)), [known(n) for n in docs])
    order = first(front.start(), o.LISTING)
    step = front.on_reply(order, listing(shown, next_page=2))
    assert sorted(post_urls(step)) == sorted(url(n) for n in shown if n not in docs)
    assert url(999) not in post_urls(step)  # the sidebar's "recent posts" are not the category
    assert bool(of_kind(step, o.LISTING)) is walks_on


def test_the_listing_ends_at_the_404_after_its_last_page() -> None:
    front = frontier()
    order = first(front.start(), o.LISTING)
    page2 = first(front.on_reply(order, listing([1], next_page=2)), o.LISTING)
    front.on_reply(page2, Reply(url=page2.url, status=404))
    assert front.runs[LABEL].listing_complete


@pytest.mark.parametrize("answer, failure", [
    (Reply(url="x", status=404), "category not found"),
    (FetchFailure(o.UNREACHABLE, "ConnectionRefusedError: refused"), "site unreachable"),
    (FetchFailure(o.FORBIDDEN, "Forbidden by robots.txt"), "robots.txt forbids"),
])
def test_a_section_that_cannot_be_read_fails_the_run(answer: Any, failure: str) -> None:
    front = frontier(CrawlMemory())
    for order in front.start().fetches:
        if isinstance(answer, FetchFailure):
            front.on_failure(order, answer)
        else:
            front.on_reply(order, Reply(url=order.url, status=answer.status))
    assert failure in (front.close(finished=True)[1].failure or "")


# -- sitemap --------------------------------------------------------------------------------------
def test_sitemap_index_parts_and_lastmod() -> None:
    front = frontier(memory(last_sweep=None, signals={1: "2026-11-01T00:00:00+00:00", 2: "2026-11-01T00:00:00+00:00"}),
                     [known(1), known(2)])
    index = first(front.start(), o.SITEMAP)
    parts = of_kind(front.on_reply(index, sitemap_index()), o.SITEMAP)
    assert [p.url for p in parts] == [f"{SITE}/wp-sitemap-posts-post-1.xml"]  # not pages, terms or users
    step = front.on_reply(parts[0], sitemap([(1, "2026-11-01T00:00:00+00:00"), (2, "2026-11-25T00:00:00+00:00"),
                                             (3, "2026-11-25T00:00:00+00:00")]))
    assert post_urls(step) == [url(2)]  # changed; 1 unchanged; 3 is not ours to judge (any category)
    assert front.report.counts["covered_by_sitemap"] == 1


# -- posts ----------------------------------------------------------------------------------------
def post_order(front: Frontier, n: int, source: str = "feed") -> Fetch:
    run = front.runs[LABEL]
    return first(front._post(run, url(n), source), o.POST)


def test_a_new_post_in_the_category_is_captured_and_its_translations_followed() -> None:
    front = frontier()
    order = post_order(front, 7)
    ru = f"{SITE}/%d1%81%d0%be%d0%b1%d1%8b%d1%82%d0%b8%d0%b5/"
    step = front.on_reply(order, ok(order), page(7, alternates={"en": url(7), "ru": ru},
                                                 category_links=(f"{SITE}/en/category/events/",)))
    [capture] = step.records
    assert isinstance(capture, Capture) and capture.post_id == 7 and capture.fetched_at == plan.iso(NOW)
    assert capture.sources == ("feed",) and capture.run_id == "run-2" and capture.title == "Event 7"
    assert post_urls(step) == [ru] and of_kind(step, o.POST)[0].translation_of == url(7)


@pytest.mark.parametrize("extracted, outcome", [
    (page(7, category_links=(f"{SITE}/en/category/news/",)), "skipped_other_category"),
    (page(7, kind="page"), "skipped_not_post"),
    (replace(page(7, text="Just a moment... checking your browser"), post_id=None, title="Just a moment..."), "errors"),
])
def test_posts_that_are_not_archived(extracted: ExtractedPage, outcome: str) -> None:
    front = frontier()
    order = post_order(front, 7)
    step = front.on_reply(order, ok(order), extracted)
    assert not step.records and front.report.counts[outcome] == 1
    if outcome == "errors":
        assert step.forget == [order.url]  # a block page's validators must not make a 304 later


def test_a_304_confirms_the_stored_version() -> None:
    front = frontier(memory(), [known(7)])
    order = first(front._post(front.runs[LABEL], url(7), "rest", doc=known(7)), o.POST)
    assert order.conditional
    [record] = front.on_reply(order, Reply(url=url(7), status=304)).records
    assert isinstance(record, Sighting) and record.doc_id == "kisi.kz-en-7" and record.http_status == 304


def test_the_same_post_by_two_urls_is_captured_once() -> None:
    front = frontier()
    a = post_order(front, 7)
    b = first(front._post(front.runs[LABEL], f"{SITE}/?p=7", "feed", force=True), o.POST)
    assert front.on_reply(a, ok(a), page(7)).records
    assert not front.on_reply(b, ok(b), page(7)).records


def test_a_post_seen_first_in_a_feed_keeps_its_own_modification_time() -> None:
    front = frontier()
    order = post_order(front, 7, "feed")
    front.on_reply(order, ok(order), page(7, modified="2026-11-27T10:00:00+00:00"))
    assert front.close(finished=True)[0].signals["kisi.kz:7"] == "2026-11-27T10:00:00+00:00"


# -- rechecks -------------------------------------------------------------------------------------
@pytest.mark.parametrize("members, last_seen, rechecked", [
    ([], plan.iso(NOW - timedelta(days=90)), True),  # not covered, due
    ([], plan.iso(NOW - timedelta(hours=1)), False),  # not covered, just seen
    ([7], plan.iso(NOW - timedelta(days=90)), False),  # REST answered: its modifications would show
])
def test_rechecks(members: list[int], last_seen: str, rechecked: bool) -> None:
    front = frontier(memory(members=members), [known(7, last_seen=last_seen)], recheck=plan.RecheckPolicy())
    drive(front, front.start(), lambda order: rest_posts([], total=len(members)) if order.kind == o.REST_POSTS
          else Reply(url=order.url, status=304) if order.kind == o.FEED else listing([]) if order.kind == o.LISTING
          else ok(order))
    assert (front.report.counts["rechecks"] == 1) is rechecked


# -- removals -------------------------------------------------------------------------------------
def site_answers(*, live: set[int], gone: set[int] = frozenset(), rest: int | None = 200,
                 transient: set[int] = frozenset(), listing_posts: list[int] | None = None) -> Any:
    """A site where the posts `live` exist and `gone` answer 404 (URL and shortlink)."""
    def answer(order: Fetch) -> Any:
        if order.kind in (o.REST_POSTS, o.REST_CATEGORIES):
            if rest != 200:
                return Reply(url=order.url, status=rest or 500)
            return rest_posts([(n, "2024-01-01T00:00:00") for n in sorted(live)], total=len(live))
        if order.kind == o.FEED:
            return Reply(url=order.url, status=304)
        if order.kind == o.LISTING:
            return listing(sorted(live, reverse=True) if listing_posts is None else listing_posts)
        if order.kind == o.SITEMAP:
            return Reply(url=order.url, status=404)
        number = int(order.url.rstrip("/").rsplit("-", 1)[-1].replace(f"{SITE}/?p=", "") or 0) \
            if "event-" in order.url else int(order.url.split("?p=")[1])
        if number in transient:
            return Reply(url=order.url, status=503)
        if number in gone:
            return Reply(url=order.url, status=404)
        return ok(order), page(number)
    return answer


def test_a_post_trashed_between_routine_runs_is_pending_then_removed() -> None:
    # Run 1 after the trash: the category's REST total fell from 3 to 2.
    docs = [known(1), known(2), known(3)]
    front = frontier(memory(members=[1, 2, 3], listing_head=[3, 2, 1]), docs)
    records = drive(front, front.start(), site_answers(live={1, 3}, gone={2}))
    assert not [r for r in records if isinstance(r, Removal)]
    mem, report = front.close(finished=True)
    assert report.counts["pending_removals"] == 1 and report.counts["removal_checks"] == 1
    assert list(mem.pending_removals) == ["kisi.kz-en-2"] and 2 in mem.sections[LABEL].members

    # Run 2, routine, by another run: the REST enumeration confirms it.
    later = Frontier(mem, KnownDocuments(docs), Options(seed=SECTION, discover=False, run_id="run-3"),
                     NOW + timedelta(hours=6))
    records = drive(later, later.start(), site_answers(live={1, 3}, gone={2}))
    [removal] = [r for r in records if isinstance(r, Removal)]
    assert removal.doc_id == "kisi.kz-en-2"
    assert removal.evidence["url_status"] == 404 and removal.evidence["shortlink_status"] == 404
    # The REST enumeration (and the one-page listing, complete every run) left it out.
    assert "rest" in removal.evidence["sources_checked"] and len(removal.evidence["confirmations"]) == 2
    mem, _ = later.close(finished=True)
    assert not mem.pending_removals and mem.sections[LABEL].members == [1, 3]


def test_a_post_that_left_the_first_listing_page_is_checked_only_if_rest_leaves_it_out() -> None:
    docs = [known(n) for n in (1, 2, 3)]
    # The listing now shows 3 and 1: 2 left without anything newer pushing it out. REST still
    # lists all three (the total did not fall): the enumeration settles it, no removal check.
    front = frontier(memory(members=[1, 2, 3], listing_head=[3, 2, 1]), docs)
    drive(front, front.start(), site_answers(live={1, 2, 3}, listing_posts=[3, 1]))
    report = front.close(finished=True)[1]
    assert report.counts["removal_checks"] == 0 and front.runs[LABEL].rest_enumerated


def test_a_new_post_pushing_one_off_the_first_page_is_no_suspect() -> None:
    assert plan.departed(["c", "b", "a"], ["d", "c", "b"]) == []
    assert plan.departed(["c", "b", "a"], ["c", "a", "z"]) == ["b"]  # z moved up: something above left
    assert plan.departed(["c", "b", "a"], ["c", "b"]) == ["a"]
    assert plan.departed(None, ["a"]) == [] and plan.departed(["a"], None) == []


@pytest.mark.parametrize("status", [503, 429, 500])
def test_transient_failures_are_never_evidence(status: int) -> None:
    docs = [known(1), known(2)]
    front = frontier(memory(members=[1, 2]), docs)

    def answer(order: Fetch) -> Any:
        if order.kind == o.POST and "event-2" in order.url:
            return Reply(url=order.url, status=status)
        return site_answers(live={1})(order)

    records = drive(front, front.start(), answer)
    report = front.close(finished=True)[1]
    assert not [r for r in records if isinstance(r, Removal)] and report.counts["pending_removals"] == 0
    assert report.counts["removal_checks"] == 1 and report.counts["errors"] == 1


def test_a_timeout_on_the_shortlink_is_inconclusive() -> None:
    docs = [known(1), known(2)]
    front = frontier(memory(members=[1, 2]), docs)

    def answer(order: Fetch) -> Any:
        if order.kind == o.SHORTLINK:
            return FetchFailure(o.UNREACHABLE, "TimeoutError")
        return site_answers(live={1}, gone={2})(order)

    drive(front, front.start(), answer)
    report = front.close(finished=True)[1]
    assert report.counts["pending_removals"] == 0 and report.counts["inconclusive_removal_checks"] == 1


def test_without_a_complete_enumeration_a_404_asks_for_a_sweep() -> None:
    # REST refused, sitemap missing: a known post answering 404 cannot be proved gone this run.
    docs = [known(1), known(2)]
    front = frontier(memory(category_id=None, listing_head=[2, 1]), docs)
    drive(front, front.start(), site_answers(live={1}, gone={2}, rest=401))
    mem, report = front.close(finished=True)
    assert report.counts["removal_checks"] == 1 and not mem.pending_removals and mem.sweep_requested


def test_a_pending_post_that_answers_again_is_cleared() -> None:
    docs = [known(1), known(2)]
    pending = {"kisi.kz-en-2": PendingRemoval(first_seen_missing=DAY_AGO, run_id="run-1")}
    front = frontier(memory(members=[1, 2], pending_removals=pending), docs)
    drive(front, front.start(), site_answers(live={1, 2}))
    assert not front.close(finished=True)[0].pending_removals


def test_grace_period_zero_removes_at_once() -> None:
    docs = [known(1), known(2)]
    front = frontier(memory(members=[1, 2]), docs, removal_grace=timedelta(0))
    records = drive(front, front.start(), site_answers(live={1}, gone={2}))
    assert [r.doc_id for r in records if isinstance(r, Removal)] == ["kisi.kz-en-2"]


# -- memory ---------------------------------------------------------------------------------------
def test_schema_1_state_is_read_and_its_validators_handed_over() -> None:
    v1 = {"validators": {"https://kisi.kz/en/feed": {"etag": '"x"', "last_modified": None}},
          "sections": {LABEL: {"category_id": 12, "high_water": MARK, "members": [3, 1]}},
          "signals": {"kisi.kz:1": MARK}, "last_sweep": DAY_AGO, "sweep_requested": True,
          "pending_removals": {"kisi.kz-en-2": {"first_seen_missing": DAY_AGO, "run_id": "r",
                                                "evidence": [{"url_status": 404}]}}}
    mem = CrawlMemory.from_json(v1)
    assert mem.sections[LABEL].members == [1, 3] and mem.sections[LABEL].category_id == 12
    assert mem.pending_removals["kisi.kz-en-2"].evidence == [{"url_status": 404}] and mem.sweep_requested
    assert validators_of_v1(v1) == v1["validators"]
    again = CrawlMemory.from_json(json.loads(json.dumps(mem.to_json())))
    assert mem.sites[f"{SITE}/"].high_water == MARK  # the mark moved from the section to its site
    assert again == mem and again.schema_version == 3 and validators_of_v1(mem.to_json()) == {}


# -- several languages ----------------------------------------------------------------------------
RU = Section(f"{SITE}/", "%d1%81%d0%be%d0%b1%d1%8b%d1%82%d0%b8%d1%8f", "ru")
KK = Section(f"{SITE}/kz/", "events-kz", "kk")


def three_languages(**site: Any) -> CrawlMemory:
    """Three sections an earlier run crawled (their first listing pages remembered)."""
    mem = memory(listing_head=[1], **site)
    for section, category_id in ((RU, 3), (KK, 27)):
        mem.sections[section.label] = SectionMemory(category_id=category_id, listing_head=["https://kisi.kz/x"])
    return mem


def test_one_rest_request_reads_every_language_of_a_site() -> None:
    front = frontier(three_languages(), sections=(RU, KK))
    step = front.start()
    [rest] = of_kind(step, o.REST_POSTS)
    assert "categories=3%2C12%2C27" in rest.url and rest.mode == o.HEAD
    assert len(of_kind(step, o.FEED)) == 1  # the feed's validators are site-wide
    assert len(of_kind(step, o.LISTING)) == 3 and len(step.fetches) == 5


def test_a_rest_post_belongs_to_the_section_of_its_category() -> None:
    front = frontier(three_languages(), sections=(RU, KK))
    rest = first(front.start(), o.REST_POSTS)
    body = json.dumps([{"id": 9, "link": f"{SITE}/kz/zhana/", "modified_gmt": "2026-11-27T10:00:00", "categories": [27]}])
    step = front.on_reply(rest, Reply(url=rest.url, status=200, body=body.encode(),
                                      headers={"x-wp-total": "1", "x-wp-totalpages": "1"}))
    [fetch] = of_kind(step, o.POST)
    assert fetch.section == KK.label and front.runs[KK.label].rest_ids == {9}


def test_without_rest_a_304_feed_spares_the_listings_and_the_sitemap_enumerates() -> None:
    front = frontier(three_languages(rest="refused (401)"), sections=(RU, KK))
    step = front.start()
    assert not of_kind(step, o.REST_POSTS) and not of_kind(step, o.LISTING)
    assert [f.url for f in of_kind(step, o.SITEMAP)] == [f"{SITE}/wp-sitemap.xml"]
    feed = first(step, o.FEED)
    assert not front.on_reply(feed, Reply(url=feed.url, status=304)).fetches  # nothing changed on the site
    # A feed that answers 200 (something was published or edited) brings the listings in.
    again = frontier(three_languages(rest="refused (401)"), sections=(RU, KK))
    feed = first(again.start(), o.FEED)
    assert len(of_kind(again.on_reply(feed, rss([])), o.LISTING)) == 3


def test_first_contact_comes_first_and_its_sections_follow() -> None:
    front = frontier(CrawlMemory(), discover=True)
    step = front.start()
    assert {f.kind for f in step.fetches} == {ex.HOME, ex.SEED_LISTING, ex.PLL_LANGUAGES, ex.SEED_CATEGORY}
    from scheduler.demo_site import default_state

    answer = fixture_answers(default_state(), SITE)
    records: list = []
    queue = list(step.fetches)
    kinds = []
    while queue:
        order = queue.pop(0)
        kinds.append(order.kind)
        if order.kind == o.POST:
            continue
        out = front.on_reply(order, answer(order.url))
        queue += out.fetches
        records += out.records
    labels = {run.section.language: run.label for run in front.runs.values()}
    assert set(labels) == {"en", "ru", "kk"} and labels["kk"].endswith("/kz/category/events-kz/")
    assert kinds.index(o.FEED) > kinds.index(ex.SEED_LISTING)  # the sections start once first contact is done
    structure = front.memory.sites[f"{SITE}/"].structure
    assert {s["language"] for s in structure["sections"]} == {"en", "ru", "kk"}


def test_a_translation_in_a_language_without_a_section_brings_its_category() -> None:
    front = frontier(memory(), discover=True)
    front.memory.sites[f"{SITE}/"].structure = {"root": f"{SITE}/", "seed": SECTION.listing_url, "sections": [
        {"language": "en", "listing": SECTION.listing_url, "category": "events", "evidence": ["the configured category"]}]}
    front = Frontier(front.memory, KnownDocuments(), Options(seed=SECTION, discover=True, run_id="r"), NOW)
    order = first(front._post(front.runs[LABEL], f"{SITE}/kz/saraptamalyq/", "hreflang", translation_of=url(7)), o.POST)
    kazakh = replace(page(8, alternates={}), language="kk", canonical_url=f"{SITE}/kz/saraptamalyq/",
                     category_links=(f"{SITE}/kz/category/events-kz/",))
    step = front.on_reply(order, ok(order), kazakh)
    assert [r.language for r in step.records] == ["kk"]
    added = front.runs[f"{SITE}/kz/category/events-kz/"]
    assert added.section.language == "kk" and of_kind(step, o.LISTING)[0].section == added.label
    [found] = [s for s in front.memory.sites[f"{SITE}/"].structure["sections"] if s["language"] == "kk"]
    assert "a translation of" in found["evidence"][0]


def test_a_url_that_now_leads_to_another_post_is_gone_for_its_own() -> None:
    # WordPress's redirect_guess_404_permalink sends the URL of a trashed post to a post whose
    # slug starts the same: the URL no longer serves this post; its shortlink (404) decides.
    docs = [known(1), known(2)]
    front = frontier(memory(members=[1, 2]), docs)

    def answer(order: Fetch) -> Any:
        if order.kind == o.POST and "event-2" in order.url:
            return ok(order), page(20)  # /en/event-2/ -> 301 -> /en/event-20/
        if order.kind == o.SHORTLINK:
            return Reply(url=order.url, status=404)
        return site_answers(live={1})(order)

    drive(front, front.start(), answer)
    mem, report = front.close(finished=True)
    pending = mem.pending_removals["kisi.kz-en-2"]
    assert pending.evidence[-1]["url_led_to"].startswith("post 20 at") and report.counts["errors"] == 0


def test_a_check_that_did_not_conclude_keeps_the_post_in_the_enumeration() -> None:
    docs = [known(1), known(2)]
    front = frontier(memory(members=[1, 2]), docs)

    def answer(order: Fetch) -> Any:
        if order.kind == o.POST and "event-2" in order.url:
            return Reply(url=order.url, status=503)
        return site_answers(live={1})(order)

    drive(front, front.start(), answer)
    mem, _ = front.close(finished=True)
    assert mem.sections[LABEL].members == [1, 2]  # the next run's enumeration is evidence again
