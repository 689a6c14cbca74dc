"""Routing: (state, request, per-request context) -> Response, with no I/O.

The server adds what needs the outside world (the clock, randomness, sleeping, counting faults
down in the state file); everything a crawler can observe is decided here.

The front end follows WordPress core's rewrite rules for a `/%postname%/` permalink structure
(wp-includes/class-wp-rewrite.php) with the multilingual plugin's language in front:
Polylang adds a `(en|kz)/` prefix to every rule for the languages whose code is not hidden
(src/links-directory.php, rewrite_rules(): the hidden default language gets no prefix rule, so
`/ru/…` is read by core as a post named "ru" or an attachment); WPML in its "language as a
parameter" mode reads `?lang=en`.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from html import escape
from urllib.parse import parse_qs, quote, unquote, urlsplit

from . import feeds, media, rest
from .multilingual import View
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
from .state import Fault, Post, SiteState, encode_slug, match_path, parse_iso, slugify

__all__ = ["Context", "Request", "Response", "render", "fault_response"]

FEED_TYPES = ("rss2", "rss", "atom", "rdf")


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

    if path.startswith(media.UPLOADS):
        return _upload(state, request, path)
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
    lang, rest_path = request_language(state, path, query)
    sitemap = _sitemap(state, lang, rest_path, path, ctx)
    if sitemap is not None:
        return sitemap
    response = _front(state, request, lang, rest_path, split.query, query, ctx)
    if state.options.link_model == "directory" and not state.options.hide_default and rest_path == path:
        response = _add_default_prefix(state, lang, path, split.query, response, ctx)
    if state.options.page_validators and response.status == 200:
        response = _with_page_validators(state, request, response)
    return response


def request_language(state: SiteState, path: str, query: dict[str, list[str]]) -> tuple[str, str]:
    """(language code, path without the language) as the plugin reads the request.

    Directory: a first segment that is the slug of a language with a prefix (Polylang's
    get_language_from_url() knows every slug, but its rewrite rules have no prefix for the
    hidden default, so `/ru/…` stays a plain path in the default language). Query: `lang=`.
    """
    if state.options.link_model == "directory":
        first = path.lstrip("/").split("/", 1)[0]
        lang = state.language_by_slug(first)
        if lang is not None and not state.is_hidden(lang.code):
            return lang.code, path[len(first) + 1 :]
        return state.default_language, path
    raw = (query.get("lang") or [""])[-1]
    lang = state.language_by_slug(raw)
    return (lang.code if lang else state.default_language), path


def _add_default_prefix(
    state: SiteState, lang: str, path: str, qs: str, response: Response, ctx: Context
) -> Response:
    """With the default language's code shown, an address without any language is not canonical:
    the home page goes to the default language's home (PLL_Choose_Lang::home_requested(), a 302
    that depends on Accept-Language), anything else that resolves to its prefixed URL (PLL_Canonical)."""
    if response.status != 200:
        return response
    target = ctx.root + state.link(lang, encode_path(path)) + (f"?{qs}" if qs else "")
    if path == "/" and not qs:
        moved = redirect(target, status=302, by="Polylang")
        moved.headers.append(("Vary", "Accept-Language"))
        return moved
    return redirect(target, by=_canonical_by(state))


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


def _upload(state: SiteState, request: Request, path: str) -> Response:
    """A static file under the uploads folder, as nginx serves it (media.py)."""
    item = state.media_at(path)
    body = media.body_of(item, path) if item else None
    if item is None or body is None:
        return Response(404, [("Content-Type", "text/html"), ("Server", "nginx")], b"<html><body><h1>404 Not Found</h1></body></html>")
    last_modified = feeds.http_date(item.modified_gmt)
    mtime = int(parse_iso(item.modified_gmt).timestamp())
    etag = f'"{mtime:x}-{len(body):x}"'
    content_type = item.mime if path == item.path else "image/" + path.rsplit(".", 1)[-1].replace("jpg", "jpeg")
    headers = [("Content-Type", content_type), ("Last-Modified", last_modified), ("ETag", etag),
               ("Accept-Ranges", "bytes")]
    client_etag, client_ims = request.header("If-None-Match"), request.header("If-Modified-Since")
    if (client_etag and etag in [c.strip() for c in client_etag.split(",")]) or \
            (not client_etag and client_ims == last_modified):
        return Response(304, headers, b"")
    return Response(200, headers, body)


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


def _canonical_by(state: SiteState) -> str:
    """Who signs a redirect to a post's or term's own language (PLL_Canonical passes POLYLANG)."""
    return "Polylang" if state.options.plugin == "polylang" else "WPML"


# ----- REST and sitemaps -----------------------------------------------------------------------------


def _rest(state: SiteState, route: str, query: dict[str, list[str]], ctx: Context) -> Response:
    mode = state.options.rest
    if mode in ("401", "403"):
        return rest_error(int(mode), "rest_forbidden", "Sorry, you are not allowed to do that.")
    if mode == "404":
        return not_found(state, state.default_lang, ctx)
    return rest.handle(state, route, query, ctx)


CORE_SITEMAP = re.compile(r"/wp-sitemap-([a-z]+?)-(?:([a-z\d_-]+?)-)?(\d+?)\.xml")
YOAST_SITEMAP = re.compile(r"/([^/]+?)-sitemap([0-9]+)?\.xml")


def _sitemap(state: SiteState, lang: str, rest_path: str, path: str, ctx: Context) -> Response | None:
    """A sitemap response, or None when the path is no sitemap route."""
    if state.options.sitemap_plugin == "yoast":
        return _yoast_sitemap(state, path, ctx)
    if path == "/wp-sitemap.xml":
        return _sitemap_response(state, feeds.sitemap_index(state, ctx), "application/xml", ctx)
    m = CORE_SITEMAP.fullmatch(rest_path)
    if not m:
        return None
    provider, subtype, page = m.group(1), m.group(2) or "", m.group(3)
    # Polylang duplicates only the provider rules under a prefix (modules/sitemaps/sitemaps.php,
    # rewrite_rules()); the index stays at the root. Pages beyond 1 hold nothing here.
    doc = feeds.sitemap(state, lang, provider, subtype, ctx) if page == "1" else None
    if doc is None:
        return not_found(state, lang, ctx)
    return _sitemap_response(state, doc, "application/xml", ctx)


def _yoast_sitemap(state: SiteState, path: str, ctx: Context) -> Response | None:
    """Yoast SEO's routes (inc/sitemaps/class-sitemaps-router.php); core sitemaps are off."""
    if path == "/sitemap.xml":
        return redirect(f"{ctx.root}/sitemap_index.xml", by="Yoast SEO")
    if path == "/wp-sitemap.xml" or CORE_SITEMAP.fullmatch(path):
        return not_found(state, state.default_lang, ctx)  # WP_Sitemaps::render_sitemaps() when disabled
    if path == "/sitemap_index.xml":
        doc: str | None = feeds.yoast_index(state, ctx)
    else:
        m = YOAST_SITEMAP.fullmatch(path)
        if not m:
            return None
        doc = feeds.yoast_sitemap(state, m.group(1), int(m.group(2) or 1), ctx)
    if doc is None:
        return not_found(state, state.default_lang, ctx)
    return _sitemap_response(state, doc, "text/xml", ctx)


def _sitemap_response(state: SiteState, doc: str, content_type: str, ctx: Context) -> Response:
    if state.options.sitemap == "missing":
        return not_found(state, state.default_lang, ctx)
    if state.options.sitemap == "malformed":
        doc = feeds.break_xml(doc)
    resp = xml(doc, content_type)
    resp.headers.append(("X-Robots-Tag", "noindex, follow"))
    return resp


# ----- front end ---------------------------------------------------------------------------------


def _front(
    state: SiteState, request: Request, lang: str, path: str, qs: str, query: dict[str, list[str]], ctx: Context
) -> Response:
    if path in ("", "/") and ("p" in query or "page_id" in query):
        return _shortlink(state, query, lang, ctx)
    if path == "":
        return redirect(ctx.root + state.home_path(lang) + (f"?{qs}" if qs else ""))
    if not path.endswith("/"):
        # redirect_canonical(): anything that resolves is re-addressed with a trailing slash.
        inner = _front(state, request, lang, path + "/", qs, query, ctx)
        if inner.status == 200:
            full = state.link(lang, encode_path(path + "/"))
            return redirect(ctx.root + full.split("?")[0] + (f"?{qs}" if qs else ""))
        return inner
    segs = [s for s in path.split("/") if s]
    t = text(lang)

    if not segs or segs[0] in ("page", "feed"):
        listing = Listing(
            lang=lang,
            heading=t["tagline"],
            body_class="home blog",
            base_path="/",
            posts=state.published("post", lang),
            view=View("home", lang),
            feed_title=None,
        )
        return _listing(state, request, listing, segs, escape(state.site_name), ctx)

    head, tail = segs[0], segs[1:]
    if head == "category" and tail:
        return _category(state, request, lang, tail, ctx)
    if head == "tag" and tail:
        posts = [p for p in state.published("post", lang) if any(slugify(x) == tail[0] for x in p.tags)]
        name = next((x for x in posts[0].tags if slugify(x) == tail[0]), tail[0]) if posts else tail[0]
        base = f"/tag/{encode_slug(tail[0])}/"
        listing = Listing(lang, t["tag"].format(name), f"archive tag tag-{encode_slug(tail[0])} hfeed", base, posts,
                          View("tag", lang, archive_path=base), feed_title=f"{state.site_name} &raquo; {name} Tag Feed")
        return _listing(state, request, listing, tail[1:], f"{escape(name)} &#8211; {escape(state.site_name)}", ctx)
    if head == "author" and tail:
        author = tail[0]
        posts = [p for p in state.published("post", lang) if slugify(p.author) == author]
        name = posts[0].author if posts else author
        base = f"/author/{author}/"
        view = View("archive", lang, archive_path=base, archive_filter=lambda p: slugify(p.author) == author)
        listing = Listing(lang, t["author"].format(name), f"archive author author-{author} hfeed", base, posts, view,
                          feed_title=f"{state.site_name} &raquo; Posts by {name} Feed")
        return _listing(state, request, listing, tail[1:], f"{escape(name)} &#8211; {escape(state.site_name)}", ctx)
    if re.fullmatch(r"\d{4}", head):
        return _date_archive(state, request, lang, segs, ctx)
    if len(segs) == 1:
        return _singular(state, lang, segs[0], ctx)
    if len(segs) in (2, 3) and segs[1] == "feed" and (len(segs) == 2 or segs[2] in FEED_TYPES):
        # ([^/]+)/feed/(feed|rdf|rss|rss2|atom)/?$ : the comments feed of a post, 200 even when
        # no post has that name (WP::handle_404() never 404s a feed).
        return _comments_feed(state, request, lang, segs[0], ctx)
    if len(segs) == 2 and not segs[1].isdigit():
        # [^/]+/([^/]+)/?$ => attachment=$matches[1]: no such attachment, so a 404 that
        # redirect_guess_404_permalink() may still turn into a redirect (WP_Query copies the
        # attachment name into `name`).
        return _guess_or_404(state, lang, segs[1], ctx)
    return not_found(state, lang, ctx)


def _category(state: SiteState, request: Request, lang: str, tail: list[str], ctx: Context) -> Response:
    slug, rest_tail = tail[0], tail[1:]
    cat = state.category(lang, slug)
    if cat is None:
        others = state.categories_with_slug(slug)
        if others:
            # PLL_Canonical::check_canonical_url(): the term's own language decides its URL.
            suffix = "/".join(rest_tail) + "/" if rest_tail else ""
            return redirect(ctx.root + state.category_path(others[0], suffix), by=_canonical_by(state))
        if rest_tail and rest_tail[0] == "feed":
            # No such term: WP::handle_404() does not 404 a feed, the channel is just empty.
            empty = Listing(lang, "", "", f"/category/{encode_slug(slug)}/", [], View("not_found", lang))
            return _listing(state, request, empty, rest_tail, escape(state.site_name), ctx)
        return not_found(state, lang, ctx)
    t = text(lang)
    listing = Listing(
        lang=lang,
        heading=t["category"].format(cat.name),
        body_class=f"archive category category-{encode_slug(cat.slug)} category-{cat.id} hfeed",
        base_path=f"/category/{encode_slug(cat.slug)}/",
        posts=state.posts_in(cat),
        view=View("category", lang, category=cat),
        feed_title=f"{state.site_name} &raquo; {cat.name} Category Feed",
    )
    rss_title = f"{escape(cat.name)} &#8211; {escape(state.site_name)}"
    return _listing(state, request, listing, rest_tail, rss_title, ctx)


def _date_archive(state: SiteState, request: Request, lang: str, segs: list[str], ctx: Context) -> Response:
    t = text(lang)
    year = segs[0]
    if len(segs) > 1 and re.fullmatch(r"\d{2}", segs[1]) and 1 <= int(segs[1]) <= 12:
        month, tail = segs[1], segs[2:]
        stamp = f"{year}-{month}"
        label = month_label(int(year), int(month), lang)
        heading = t["month"].format(label)
        base = f"/{year}/{month}/"
    else:
        stamp, tail = year, segs[1:]
        label = year
        heading = t["year"].format(year)
        base = f"/{year}/"
    posts = [p for p in state.published("post", lang) if p.date_gmt.startswith(stamp)]
    view = View("archive", lang, archive_path=base, archive_filter=lambda p: p.date_gmt.startswith(stamp))
    listing = Listing(lang, heading, "archive date hfeed", base, posts, view)
    return _listing(state, request, listing, tail, f"{escape(label)} &#8211; {escape(state.site_name)}", ctx)


def _listing(
    state: SiteState, request: Request, listing: Listing, tail: list[str], rss_title: str, ctx: Context
) -> Response:
    per_page = state.options.posts_per_page
    pages = max(1, math.ceil(len(listing.posts) / per_page))
    if not tail:
        page = 1
    elif len(tail) == 2 and tail[0] == "page" and tail[1].isdigit():
        page = int(tail[1])
        if page <= 1:
            return redirect(ctx.root + listing.path(state))
    elif tail[0] == "feed" and len(tail) <= 2:
        fmt = tail[1] if len(tail) == 2 else "rss2"
        if fmt not in FEED_TYPES:
            return not_found(state, listing.lang, ctx)
        return _feed(state, request, listing.lang, listing.posts, "atom" if fmt == "atom" else "rss2", rss_title, ctx)
    else:
        return not_found(state, listing.lang, ctx)
    if not listing.posts and listing.view.kind in ("archive", "tag", "not_found"):
        return not_found(state, listing.lang, ctx)  # handle_404(): only terms that exist and home stay 200
    if page > pages:
        return not_found(state, listing.lang, ctx)
    return html(200, listing_page(state, listing, page, pages, ctx), _api_link(state, ctx))


def _feed(
    state: SiteState, request: Request, lang: str, posts: list[Post], fmt: str, title: str, ctx: Context
) -> Response:
    if state.options.feed == "missing":
        return not_found(state, lang, ctx)
    etag, last_modified = feeds.feed_validators(state)
    validators = [("ETag", etag), ("Last-Modified", last_modified)]
    if _not_modified(request, etag, last_modified):
        return Response(304, validators, b"")
    self_url = ctx.root + request.target  # self_link(): the address as requested
    if fmt == "atom":
        doc = feeds.atom(state, lang, posts, self_url, title, ctx)
        content_type = "application/atom+xml"
    else:
        doc = feeds.rss(state, lang, posts, self_url, title, ctx)
        content_type = "application/rss+xml"
    if state.options.feed == "malformed":
        doc = feeds.break_xml(doc)
    return Response(200, [("Content-Type", f"{content_type}; charset=UTF-8"), *validators], doc.encode("utf-8"))


def _comments_feed(state: SiteState, request: Request, lang: str, name: str, ctx: Context) -> Response:
    if state.options.feed == "missing":
        return not_found(state, lang, ctx)
    # Not a 404, so wp_old_slug_redirect() and the 404 guess never run for a feed.
    post = state.find_slug(lang, name)
    etag, last_modified = feeds.feed_validators(state)
    validators = [("ETag", etag), ("Last-Modified", last_modified)]
    if _not_modified(request, etag, last_modified):
        return Response(304, validators, b"")
    doc = feeds.comments_rss(state, lang, post, ctx.root + request.target, ctx)
    return Response(200, [("Content-Type", "application/rss+xml; charset=UTF-8"), *validators], doc.encode("utf-8"))


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
    """?p=ID from any language: redirect_canonical() sends it to get_permalink(), even for a
    trashed post (whose permalink then ends in '__trashed/' and answers 404)."""
    raw = (query.get("p") or query.get("page_id") or [""])[-1]
    post = state.post(int(raw)) if raw.isdigit() else None
    if post is None:
        return not_found(state, lang, ctx)
    return redirect(ctx.root + state.path_of(post))


def _singular(state: SiteState, lang: str, slug: str, ctx: Context) -> Response:
    post = state.find_slug(lang, slug)
    if post is not None:
        return _single_response(state, post, ctx)
    return _guess_or_404(state, lang, slug, ctx)


def _guess_or_404(state: SiteState, lang: str, name: str, ctx: Context) -> Response:
    """What a 404 with a post name becomes: wp_old_slug_redirect(), else core's guess by slug
    prefix (redirect_guess_404_permalink(), canonical.php), which finds posts of any language:
    that is how a post asked for under another language's prefix reaches its own URL."""
    moved = state.find_old_slug(name)
    if moved is not None:
        return redirect(ctx.root + state.path_of(moved))
    guess = state.guess_by_slug_prefix(name)
    if guess is not None:
        return redirect(ctx.root + state.path_of(guess))
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
