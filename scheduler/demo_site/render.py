"""Routing: (state, request, per-request context) -> Response, with no I/O.

The server adds what needs the outside world (the clock, randomness, sleeping, counting faults
down in the state file); everything a crawler can observe is decided here.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, quote, unquote, urlsplit

from . import feeds, rest
from .pages import (
    Context,
    Listing,
    block_page,
    fault_page,
    listing_page,
    month_label,
    not_found_page,
    single_page,
    text,
)
from .response import HTML_UTF8, Response, html, redirect, rest_error, xml
from .state import Fault, Post, SiteState, match_path, slugify

__all__ = ["Context", "Request", "Response", "render", "fault_response"]


@dataclass(frozen=True)
class Request:
    method: str = "GET"
    target: str = "/"  # raw request target: path and query, as received
    headers: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


def render(state: SiteState, request: Request, ctx: Context) -> Response:
    """The response WordPress would give; HEAD gets the GET response (the server drops the body)."""
    if request.method not in ("GET", "HEAD"):
        return Response(405, [("Content-Type", HTML_UTF8), ("Allow", "GET, HEAD")], b"")
    split = urlsplit(request.target)
    query = parse_qs(split.query, keep_blank_values=True)
    block = match_path(state.blocks, request.target)
    if block is not None:
        return html(200, block_page(state.blocks[block], ctx))
    path = unquote(split.path or "/")

    if path == "/robots.txt":
        return Response(
            200,
            [("Content-Type", "text/plain; charset=utf-8"), ("X-Robots-Tag", "noindex, follow")],
            feeds.robots(state, ctx).encode("utf-8"),
        )
    if path == "/wp-json" or path.startswith("/wp-json/"):
        return _rest(state, path[len("/wp-json") :], query, ctx)
    if path == "/" and "rest_route" in query:
        route = query.pop("rest_route")[-1]
        return _rest(state, route, query, ctx)
    m = re.fullmatch(r"/wp-sitemap(?:-([a-z]+-[a-z]+)-(\d+))?\.xml", path)
    if m:
        return _sitemap(state, m.group(1), m.group(2), ctx)
    response = _front(state, request, path, split.query, query, ctx)
    if state.options.page_validators and response.status == 200:
        response = _with_page_validators(state, request, response)
    return response


def _with_page_validators(state: SiteState, request: Request, response: Response) -> Response:
    """What a caching layer adds to a single post page: validators, and 304 when they match."""
    shortlink = next((v for k, v in response.headers if k == "Link" and v.endswith("rel=shortlink")), None)
    match = re.search(r"\?p=(\d+)>", shortlink or "")
    post = state.post(int(match.group(1))) if match else None
    if post is None:
        return response
    modified = post.modified_gmt or post.date_gmt
    etag = '"' + hashlib.md5(f"{post.id}:{modified}".encode("ascii")).hexdigest() + '"'
    validators = [("ETag", etag), ("Last-Modified", feeds.http_date(modified))]
    if _not_modified(request, etag, validators[1][1]):
        return Response(304, validators, b"")
    return Response(response.status, [*response.headers, *validators], response.body)


def fault_response(fault: Fault) -> Response:
    headers = [("Content-Type", "text/html")]
    if fault.retry_after is not None:
        headers.append(("Retry-After", str(fault.retry_after)))
    return Response(fault.status, headers, fault_page(fault.status).encode("utf-8"))


# ----- helpers ---------------------------------------------------------------------------------


def encode_path(path: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(path, safe="/-_.~"))


def _api_link(state: SiteState, ctx: Context) -> list[tuple[str, str]]:
    if state.options.rest == "404":
        return []
    return [("Link", f'<{ctx.root}/wp-json/>; rel="https://api.w.org/"')]


def not_found(state: SiteState, lang: str, ctx: Context) -> Response:
    # nocache_headers(): what WordPress sends with every 404.
    headers = [
        ("Expires", "Wed, 11 Jan 1984 05:00:00 GMT"),
        ("Cache-Control", "no-cache, must-revalidate, max-age=0, no-store, private"),
        *_api_link(state, ctx),
    ]
    return html(404, not_found_page(state, lang, ctx), headers)


def _split_lang(state: SiteState, path: str) -> tuple[str, str]:
    for lang, prefix in state.languages.items():
        if prefix and (path == prefix or path.startswith(prefix + "/")):
            return lang, path[len(prefix) :]
    return state.default_lang, path


# ----- REST and sitemaps -----------------------------------------------------------------------------


def _rest(state: SiteState, route: str, query: dict[str, list[str]], ctx: Context) -> Response:
    mode = state.options.rest
    if mode in ("401", "403"):
        return rest_error(int(mode), "rest_forbidden", "Sorry, you are not allowed to do that.")
    if mode == "404":
        return not_found(state, state.default_lang, ctx)
    return rest.handle(state, route, query, ctx)


def _sitemap(state: SiteState, name: str | None, page: str | None, ctx: Context) -> Response:
    if state.options.sitemap == "missing":
        return not_found(state, state.default_lang, ctx)
    if name is None:
        doc: str | None = feeds.sitemap_index(state, ctx)
    elif page != "1":
        doc = None
    else:
        doc = feeds.sitemap(state, name, ctx)
    if doc is None:
        return not_found(state, state.default_lang, ctx)
    if state.options.sitemap == "malformed":
        doc = feeds.break_xml(doc)
    resp = xml(doc, "application/xml")
    resp.headers.append(("X-Robots-Tag", "noindex, follow"))
    return resp


# ----- front end ---------------------------------------------------------------------------------


def _front(
    state: SiteState, request: Request, path: str, qs: str, query: dict[str, list[str]], ctx: Context
) -> Response:
    lang, rest_path = _split_lang(state, path)
    if rest_path in ("", "/") and ("p" in query or "page_id" in query):
        return _shortlink(state, query, lang, ctx)
    if rest_path == "":
        return redirect(f"{ctx.root}{state.prefix(lang)}/" + (f"?{qs}" if qs else ""))
    if not rest_path.endswith("/"):
        # redirect_canonical(): anything that resolves is re-addressed with a trailing slash.
        inner = _front(state, request, path + "/", qs, query, ctx)
        if inner.status == 200:
            return redirect(ctx.root + encode_path(path + "/") + (f"?{qs}" if qs else ""))
        return inner
    segs = [s for s in rest_path.split("/") if s]
    prefix = state.prefix(lang)
    t = text(lang)

    if not segs or segs[0] in ("page", "feed"):
        listing = Listing(
            lang=lang,
            heading=t["tagline"],
            body_class="home blog",
            base_path=f"{prefix}/",
            posts=state.published("post", lang),
            feed_path=f"{prefix}/feed/",
            feed_title=state.site_name,
        )
        return _listing(state, request, listing, segs, ctx)

    head, tail = segs[0], segs[1:]
    if head == "category" and tail:
        cat = state.category(lang, tail[0])
        if cat is None:
            others = [c for c in state.categories if c.slug == tail[0]]
            if others:
                return redirect(f"{ctx.root}{state.prefix(others[0].lang)}/category/{others[0].slug}/")
            return not_found(state, lang, ctx)
        base = f"{prefix}/category/{cat.slug}/"
        listing = Listing(
            lang=lang,
            heading=t["category"].format(cat.name),
            body_class=f"archive category category-{cat.slug} category-{cat.id} hfeed",
            base_path=base,
            posts=state.posts_in(cat),
            feed_path=f"{base}feed/",
            feed_title=f"{state.site_name} » {cat.name} Category Feed",
        )
        return _listing(state, request, listing, tail[1:], ctx)
    if head == "tag" and tail:
        posts = [p for p in state.published("post", lang) if any(slugify(x) == tail[0] for x in p.tags)]
        if not posts:
            return not_found(state, lang, ctx)
        name = next(x for x in posts[0].tags if slugify(x) == tail[0])
        listing = Listing(lang, t["tag"].format(name), f"archive tag tag-{tail[0]} hfeed",
                          f"{prefix}/tag/{tail[0]}/", posts, f"{prefix}/tag/{tail[0]}/feed/")
        return _listing(state, request, listing, tail[1:], ctx)
    if head == "author" and tail:
        posts = [p for p in state.published("post", lang) if slugify(p.author) == tail[0]]
        if not posts:
            return not_found(state, lang, ctx)
        listing = Listing(lang, t["author"].format(posts[0].author), f"archive author author-{tail[0]} hfeed",
                          f"{prefix}/author/{tail[0]}/", posts, f"{prefix}/author/{tail[0]}/feed/")
        return _listing(state, request, listing, tail[1:], ctx)
    if re.fullmatch(r"\d{4}", head):
        return _date_archive(state, request, lang, segs, ctx)
    if len(segs) == 1:
        return _singular(state, lang, segs[0], ctx)
    return not_found(state, lang, ctx)


def _date_archive(state: SiteState, request: Request, lang: str, segs: list[str], ctx: Context) -> Response:
    t = text(lang)
    prefix = state.prefix(lang)
    year = segs[0]
    if len(segs) > 1 and re.fullmatch(r"\d{2}", segs[1]) and 1 <= int(segs[1]) <= 12:
        month, tail = segs[1], segs[2:]
        stamp = f"{year}-{month}"
        heading = t["month"].format(month_label(int(year), int(month), lang))
        base = f"{prefix}/{year}/{month}/"
    else:
        stamp, tail = year, segs[1:]
        heading = t["year"].format(year)
        base = f"{prefix}/{year}/"
    posts = [p for p in state.published("post", lang) if p.date_gmt.startswith(stamp)]
    if not posts:
        return not_found(state, lang, ctx)
    listing = Listing(lang, heading, "archive date hfeed", base, posts, f"{base}feed/")
    return _listing(state, request, listing, tail, ctx)


def _listing(state: SiteState, request: Request, listing: Listing, tail: list[str], ctx: Context) -> Response:
    per_page = state.options.posts_per_page
    pages = max(1, math.ceil(len(listing.posts) / per_page))
    if not tail:
        page = 1
    elif len(tail) == 2 and tail[0] == "page" and tail[1].isdigit():
        page = int(tail[1])
        if page <= 1:
            return redirect(ctx.root + encode_path(listing.base_path))
    elif tail[0] == "feed" and len(tail) <= 2:
        fmt = tail[1] if len(tail) == 2 else "rss2"
        if fmt not in ("rss2", "rss", "atom"):
            return not_found(state, listing.lang, ctx)
        title = listing.feed_title or f"{state.site_name} » {listing.heading}"
        return _feed(state, request, listing, fmt, title, ctx)
    else:
        return not_found(state, listing.lang, ctx)
    if page > pages:
        return not_found(state, listing.lang, ctx)
    return html(200, listing_page(state, listing, page, pages, ctx), _api_link(state, ctx))


def _feed(state: SiteState, request: Request, listing: Listing, fmt: str, title: str, ctx: Context) -> Response:
    if state.options.feed == "missing":
        return not_found(state, listing.lang, ctx)
    etag, last_modified = feeds.feed_validators(state)
    validators = [("ETag", etag), ("Last-Modified", last_modified)]
    if _not_modified(request, etag, last_modified):
        return Response(304, validators, b"")
    self_path = listing.feed_path or f"{listing.base_path}feed/"
    if fmt == "atom":
        self_path += "atom/"
        doc = feeds.atom(state, listing.lang, listing.posts, self_path, listing.base_path, title, ctx)
        content_type = "application/atom+xml"
    else:
        doc = feeds.rss(state, listing.lang, listing.posts, self_path, listing.base_path, title, ctx)
        content_type = "application/rss+xml"
    if state.options.feed == "malformed":
        doc = feeds.break_xml(doc)
    return Response(200, [("Content-Type", f"{content_type}; charset=UTF-8"), *validators], doc.encode("utf-8"))


def _not_modified(request: Request, etag: str, last_modified: str) -> bool:
    """WordPress's send_headers(): with both validators both must match, with one that one must."""
    client_etag = request.header("If-None-Match")
    client_ims = request.header("If-Modified-Since")
    etag_match = False
    if client_etag:
        candidates = [c.strip().removeprefix("W/") for c in client_etag.split(",")]
        etag_match = etag in candidates or "*" in candidates
    ims_match = False
    if client_ims:
        try:
            ims_match = parsedate_to_datetime(client_ims) >= parsedate_to_datetime(last_modified)
        except (TypeError, ValueError):
            ims_match = False
    if client_etag and client_ims:
        return etag_match and ims_match
    return etag_match or ims_match


def _shortlink(state: SiteState, query: dict[str, list[str]], lang: str, ctx: Context) -> Response:
    raw = (query.get("p") or query.get("page_id") or [""])[-1]
    post = state.post(int(raw)) if raw.isdigit() else None
    if post is None or not post.is_published:
        return not_found(state, lang, ctx)
    return redirect(ctx.root + state.path_of(post))


def _singular(state: SiteState, lang: str, slug: str, ctx: Context) -> Response:
    post = state.find_slug(lang, slug)
    if post is not None:
        return _single_response(state, post, ctx)
    moved = state.find_old_slug(lang, slug)
    if moved is not None:  # wp_old_slug_redirect()
        return redirect(ctx.root + state.path_of(moved))
    elsewhere = [p for p in state.posts if p.is_published and p.slug == slug]
    if elsewhere:  # Polylang sends a post asked for under the wrong language to its own URL
        return redirect(ctx.root + state.path_of(elsewhere[0]))
    return not_found(state, lang, ctx)


def _single_response(state: SiteState, post: Post, ctx: Context) -> Response:
    body = single_page(state, post, ctx)
    headers: list[tuple[str, str]] = []
    if post.charset == "windows-1251":
        # A legacy template: bytes in cp1251, declared only by <meta charset>.
        headers.append(("Content-Type", "text/html"))
        data = body.encode("cp1251", errors="xmlcharrefreplace")
    else:
        headers.append(("Content-Type", HTML_UTF8))
        data = body.encode("utf-8")
    headers += _api_link(state, ctx)
    if state.options.rest != "404":
        kind = "posts" if post.post_type == "post" else "pages"
        headers.append(("Link", f'<{ctx.root}/wp-json/wp/v2/{kind}/{post.id}>; rel="alternate"; title="JSON"; type="application/json"'))
    headers.append(("Link", f"<{ctx.root}/?p={post.id}>; rel=shortlink"))
    return Response(200, headers, data)

