"""Hostile behaviours: what a broken, hacked, misconfigured or adversarial WordPress site serves.

The faithful site (render.py) answers as WordPress does. A hostile site is the same site with
some of these behaviours switched on. Each is data in the state file (`SiteState.hostile`:
its name -> its parameters, plain JSON), switched on by `install(state, name, **params)`,
which also publishes the post the behaviour needs, if any, and records its id.

The server asks `respond(state, request, ctx)` instead of `render`: the active behaviours run
as a chain around the faithful answer, and each one answers the request itself, changes the
faithful answer, or passes it through. Behaviours that need the socket (a hang, a reset, a
lying Content-Length) are named by `socket_fault()` and carried out by server.py; two use the
fault table the faithful site already has (`SiteState.fail`).

`BEHAVIOURS` is the table docs/RELIABILITY.md lists: each entry says what the site does and
what in the wild does it (`origin`), so a test of the crawler names a real threat, not a
made-up one. `offsite_copy()` builds the content of the off-site sink: a second server that
stands for another host and mirrors this site with its own titles and text, so any page the
crawler wrongly fetches from it would be visibly foreign.

Standard library only, like the rest of the fixture.
"""

from __future__ import annotations

import copy
import functools
import gzip
import hashlib
import json
import math
import re
from dataclasses import dataclass
from html import escape
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from .pages import Context, block_page, not_found_page
from .render import Request, render
from .response import HTML_UTF8, Response, html, redirect, wp_json
from .state import Post, SiteState

Handler = Callable[[Request], Response]

# A post id no signed 64-bit integer holds (SQLite's INTEGER is one): 2**63 + 7.
OVERFLOW_ID = 2**63 + 7
# What the off-site copy puts in every title and text, so foreign content is easy to spot.
OFFSITE_MARK = "Offsite copy"
OFFSITE_TEXT = "OFFSITE-COPY: this text belongs to another host and must never enter the archive."
GHOSTS = 100_000  # items of the feed, URLs of the sitemap that claim that many posts
REST_CLAIMED_PAGES = 100_000
REST_CLAIMED_TOTAL = 10_000_000
BOMB_MEGABYTES = 60  # what the gzip sitemap inflates to
HOPS = 30  # the redirect chain
NESTING = 10_000
# Shortlinks that WordPress answers with a 404 (or that are no id at all).
GARBAGE_SHORTLINKS = ("/?p=abc", "/?p=0", "/?p=-1", "/?p=1e3", "/?p=99999999999999999999999",
                      f"/?p={2**63}", "/en/?p=2368abc", "/?p=%32%33%36%38%00")


@dataclass(frozen=True)
class Behaviour:
    name: str
    summary: str  # what the site does, in one line
    origin: str  # what in the wild does it
    install: Callable[[SiteState, dict[str, Any]], dict[str, Any]]
    respond: Callable[[Call], Response] | None = None
    socket: str | None = None  # "hang" | "reset" | "short-body": carried out by server.py


@dataclass(frozen=True)
class Call:
    """One request as a behaviour sees it; `inner` is the rest of the chain (in the end, render)."""

    state: SiteState
    request: Request
    ctx: Context
    params: dict[str, Any]
    inner: Handler

    @property
    def path(self) -> str:
        return unquote(urlsplit(self.request.target).path or "/")

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.request.target).query, keep_blank_values=True)

    def passthrough(self) -> Response:
        return self.inner(self.request)

    def post(self) -> Post:
        post = self.state.post(int(self.params["post"]))
        assert post is not None, f"hostile post {self.params['post']} is not on the site"
        return post

    def is_post(self) -> bool:
        """Whether this request asks for the behaviour's post, by its permalink."""
        return "post" in self.params and _same_path(self.path, self.state.path_of(self.post()))

    def is_path(self, path: str) -> bool:
        return _same_path(self.path, path)

    def url(self, path: str) -> str:
        return self.ctx.root + path


@dataclass(frozen=True)
class SocketFault:
    kind: str  # "hang" | "reset" | "short-body"
    params: dict[str, Any]


# ----- the chain ------------------------------------------------------------------------------


def install(state: SiteState, name: str, **params: Any) -> dict[str, Any]:
    """Switch behaviour `name` on (publishing the post it needs); returns its stored parameters."""
    if name not in BEHAVIOURS:
        raise ValueError(f"unknown hostile behaviour {name!r}; known: {sorted(BEHAVIOURS)}")
    stored = BEHAVIOURS[name].install(state, dict(params))
    state.hostile[name] = stored
    return stored


def respond(state: SiteState, request: Request, ctx: Context) -> Response:
    """The answer of the site with its hostile behaviours: the faithful one when none is on."""
    handler: Handler = functools.partial(_faithful, state, ctx)
    for name, params in reversed(list(state.hostile.items())):
        behaviour = BEHAVIOURS.get(name)
        if behaviour is not None and behaviour.respond is not None:
            handler = functools.partial(_step, behaviour.respond, state, ctx, params, handler)
    return handler(request)


def _faithful(state: SiteState, ctx: Context, request: Request) -> Response:
    return render(state, request, ctx)


def _step(fn: Callable[[Call], Response], state: SiteState, ctx: Context, params: dict[str, Any],
          inner: Handler, request: Request) -> Response:
    return fn(Call(state, request, ctx, params, inner))


def socket_fault(state: SiteState, target: str) -> SocketFault | None:
    """The socket-level misbehaviour for this request target, if one is on."""
    path = unquote(urlsplit(target).path or "/")
    for name, params in state.hostile.items():
        behaviour = BEHAVIOURS.get(name)
        if behaviour is None or behaviour.socket is None:
            continue
        post = state.post(int(params["post"]))
        if post is not None and _same_path(path, state.path_of(post)):
            return SocketFault(behaviour.socket, params)
    return None


def post_of(state: SiteState, name: str, key: str = "post") -> Post:
    """The post a behaviour published (ground truth for tests)."""
    post = state.post(int(state.hostile[name][key]))
    assert post is not None
    return post


def offsite_copy(state: SiteState) -> SiteState:
    """The content of the off-site sink: this site's posts at the same addresses, every title
    and text its own, no hostile behaviour. Whatever the crawler fetches from it is foreign."""
    other = copy.deepcopy(state)
    other.hostile, other.faults, other.blocks, other.slow = {}, {}, {}, {}
    other.site_name = "Elsewhere"
    for post in other.posts:
        post.title = f"{OFFSITE_MARK}: {post.title}"
        post.content_html = f"<p>{OFFSITE_TEXT}</p>\n<p>{OFFSITE_TEXT}</p>\n" + post.content_html
        post.excerpt = ""
    return other


# ----- helpers ----------------------------------------------------------------------------------


def _same_path(a: str, b: str) -> bool:
    return unquote(a).rstrip("/") == unquote(b).rstrip("/")


def _events_slug(state: SiteState, lang: str) -> str:
    cat = state.events_category(lang)
    if cat is None:
        raise ValueError(f"the site has no events category in {lang!r}")
    return cat.slug


_TEXT = {
    "en": ("The Kazakhstan Institute for Strategic Studies held a round table on {topic}. Experts from "
           "Astana and Almaty discussed the regional agenda, the budget of the programme and the "
           "next steps of the working group, and agreed to publish their recommendations.",
           "The participants noted that the results of the meeting will be presented to the relevant "
           "ministries, and that the next session of the working group is planned for the autumn."),
    "ru": ("Казахстанский институт стратегических исследований провёл круглый стол по теме «{topic}». "
           "Эксперты из Астаны и Алматы обсудили региональную повестку, бюджет программы и дальнейшие "
           "шаги рабочей группы и договорились опубликовать свои рекомендации.",
           "Участники отметили, что итоги встречи будут представлены профильным министерствам, а "
           "следующее заседание рабочей группы запланировано на осень."),
}


def _content(lang: str, topic: str) -> str:
    first, second = _TEXT[lang]
    return f"<p>{escape(first.format(topic=topic))}</p>\n<p>{escape(second)}</p>"


def _publish(state: SiteState, name: str, *, lang: str = "en", topic: str | None = None, slug: str | None = None,
             title: str | None = None, category: str | None = None, group: str | None = None,
             content_html: str | None = None) -> Post:
    """A post of the events category (or `category`) that carries one behaviour."""
    topic = topic or f"the fixture behaviour {name}"
    post = Post(lang=lang, slug=slug or f"hostile-{name}",
                title=title if title is not None else (f"Round table on {topic}" if lang == "en" else f"Круглый стол: {topic}"),
                content_html=content_html if content_html is not None else _content(lang, topic),
                categories=[category or _events_slug(state, lang)], translation_group=group)
    return state.publish(post)


def _post_install(lang: str = "en", **fixed: Any) -> Callable[[SiteState, dict[str, Any]], dict[str, Any]]:
    """The usual install: publish one post of the events category and keep its id, or, given
    `post=ID`, turn an existing post (one already archived, say) hostile."""
    def install_post(state: SiteState, params: dict[str, Any]) -> dict[str, Any]:
        name = params.pop("_name")
        if "post" in params:
            if state.post(int(params["post"])) is None:
                raise ValueError(f"{name}: no post {params['post']} on the site")
            return {**fixed, **params, "post": int(params["post"])}
        post = _publish(state, name, lang=params.pop("lang", lang))
        return {**fixed, **params, "post": post.id}
    return install_post


def _named(name: str, install_fn: Callable[[SiteState, dict[str, Any]], dict[str, Any]]
           ) -> Callable[[SiteState, dict[str, Any]], dict[str, Any]]:
    def wrapped(state: SiteState, params: dict[str, Any]) -> dict[str, Any]:
        return install_fn(state, {**params, "_name": name})
    return wrapped


def _params_only(state: SiteState, params: dict[str, Any]) -> dict[str, Any]:
    params.pop("_name", None)
    return params


def _offsite(call: Call) -> str:
    return str(call.params["offsite"]).rstrip("/")


def _elsewhere(call: Call, path: str, name: str) -> str:
    """The same path on the other host, marked with the behaviour that sent the crawler there
    (`via=`), so the sink's request log says which behaviour leaked."""
    return f"{_offsite(call)}{path}?via={name}"


def _body(resp: Response) -> str:
    return resp.body.decode("utf-8")


def _with_body(resp: Response, text: str, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(resp.status, headers if headers is not None else list(resp.headers), text.encode("utf-8"))


def _inject_head(resp: Response, markup: str) -> Response:
    if resp.status != 200:
        return resp
    return _with_body(resp, _body(resp).replace("<head>\n", "<head>\n" + markup, 1))


def _is_rss(resp: Response) -> bool:
    return resp.status == 200 and (resp.header("Content-Type") or "").startswith("application/rss+xml")


def _is_rest_posts(call: Call) -> bool:
    route = call.path[len("/wp-json"):] if call.path.startswith("/wp-json/") else (
        (call.query.get("rest_route") or [""])[-1] if call.path == "/" else "")
    return route.rstrip("/") == "/wp/v2/posts"


def _set_headers(resp: Response, **values: str) -> Response:
    names = {k.replace("_", "-").lower(): (k.replace("_", "-"), v) for k, v in values.items()}
    headers = [(k, v) for k, v in resp.headers if k.lower() not in names]
    headers += list(names.values())
    return Response(resp.status, headers, resp.body)


def _retarget(request: Request, **query: Any) -> Request:
    split = urlsplit(request.target)
    values = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
    values.update({k: str(v) for k, v in query.items()})
    return Request(request.method, f"{split.path}?{urlencode(values)}", request.headers)


def _swap_ids(text: str, old: int, new: int) -> str:
    """Make a single post page claim another post id (body class, article, shortlink, REST link)."""
    for before in ("postid-", "post-", "?p=", "/posts/", "comment_post_ID' value='", "#comment-"):
        text = re.sub(re.escape(before) + str(old) + r"(?!\d)", before + str(new), text)
    return text


def _swap_response_ids(resp: Response, old: int, new: int) -> Response:
    headers = [(k, _swap_ids(v, old, new)) for k, v in resp.headers]
    return _with_body(resp, _swap_ids(_body(resp), old, new), headers)


def _pad(resp: Response, megabytes: float) -> Response:
    """The page with its post content repeated until the body is about that large."""
    text = _body(resp)
    marker = "</div><!-- .entry-content -->"
    paragraph = ("<p>The participants of the round table discussed the regional agenda, the budget of the "
                 "programme and the next steps of the working group in great detail.</p>\n")
    missing = int(megabytes * 1024 * 1024) - len(resp.body)
    filler = paragraph * max(0, missing // len(paragraph) + 1)
    return _with_body(resp, text.replace(marker, filler + marker, 1))


def _junk(size: int) -> bytes:
    """Deterministic binary junk (a SHA-256 chain), with NUL bytes in front."""
    out = bytearray(b"\x00" * 512)
    block = b"kisi-archive hostile fixture"
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])


def _listing_page(call: Call, lang: str) -> int | None:
    """The page number when this request is a page of `lang`'s events listing, else None."""
    cat = call.state.events_category(lang)
    if cat is None:
        return None
    base = unquote(call.state.category_path(cat)).rstrip("/")
    path = call.path.rstrip("/")
    if path == base:
        return 1
    m = re.fullmatch(re.escape(base) + r"/page/(\d+)", path)
    return int(m.group(1)) if m else None


def _listing_url(call: Call, lang: str, page: int) -> str:
    cat = call.state.events_category(lang)
    assert cat is not None
    return call.url(call.state.category_path(cat) if page == 1 else call.state.category_path(cat, f"page/{page}/"))


def _listing_pages(call: Call, lang: str) -> int:
    cat = call.state.events_category(lang)
    assert cat is not None
    return max(1, math.ceil(len(call.state.posts_in(cat)) / call.state.options.posts_per_page))


def _add_next(resp: Response, target: str) -> Response:
    """A "next page" link in both places a theme prints one: <head> and the pagination."""
    if resp.status != 200:
        return resp
    text = _body(resp).replace("<head>\n", f'<head>\n<link rel="next" href="{escape(target)}" />\n', 1)
    link = f'<a class="next page-numbers" href="{escape(target)}">Next</a>'
    if '<div class="nav-links">' in text:
        text = text.replace("</div></nav>", link + "</div></nav>", 1)
    else:
        text = text.replace("</main>", f'<nav class="navigation pagination"><div class="nav-links">{link}</div></nav>\n</main>', 1)
    return _with_body(resp, text)


# ----- off-site --------------------------------------------------------------------------------


def _redirect_offsite(call: Call) -> Response:
    if not call.is_post():
        return call.passthrough()
    return redirect(_elsewhere(call, call.state.path_of(call.post()), "redirect-offsite"))


def _meta_refresh_offsite(call: Call) -> Response:
    if not call.is_post():
        return call.passthrough()
    target = _elsewhere(call, call.state.path_of(call.post()), "meta-refresh-offsite")
    return _inject_head(call.passthrough(), f'<meta http-equiv="refresh" content="0; url={escape(target)}" />\n')


def _install_hreflang_offsite(state: SiteState, params: dict[str, Any]) -> dict[str, Any]:
    post = _publish(state, params.pop("_name"))
    target = next(p for p in state.published("post", "ru"))
    return {**params, "post": post.id, "target_path": state.path_of(target)}


def _hreflang_offsite(call: Call) -> Response:
    if not call.is_post():
        return call.passthrough()
    own = call.url(call.state.path_of(call.post()))
    other = _elsewhere(call, call.params["target_path"], "hreflang-offsite")
    return _inject_head(call.passthrough(), f'<link rel="alternate" href="{escape(own)}" hreflang="en" />\n'
                                            f'<link rel="alternate" href="{escape(other)}" hreflang="ru" />\n')


def _canonical_offsite(call: Call) -> Response:
    if not call.is_post():
        return call.passthrough()
    resp = call.passthrough()
    target = _elsewhere(call, call.state.path_of(call.post()), "canonical-offsite")
    return _with_body(resp, _replace_canonical(_body(resp), target))


def _replace_canonical(text: str, target: str) -> str:
    text = re.sub(r'<link rel="canonical" href="[^"]*" />', f'<link rel="canonical" href="{escape(target)}" />', text)
    return re.sub(r'<meta property="og:url" content="[^"]*" />', f'<meta property="og:url" content="{escape(target)}" />', text)


def _listing_next_offsite(call: Call) -> Response:
    if _listing_page(call, "en") != 1:
        return call.passthrough()
    resp = call.passthrough()
    page2 = _listing_url(call, "en", 2)
    target = _elsewhere(call, urlsplit(page2).path, "listing-next-offsite")
    return _with_body(resp, _body(resp).replace(f'href="{page2}"', f'href="{escape(target)}"'))


def _hreflang_listing_offsite(call: Call) -> Response:
    if _listing_page(call, "en") != 1:
        return call.passthrough()
    target = _elsewhere(call, urlsplit(_listing_url(call, "en", 1)).path, "hreflang-listing-offsite")
    return _inject_head(call.passthrough(), f'<link rel="alternate" href="{escape(target)}" hreflang="de" />\n')


def _hreflang_home_offsite(call: Call) -> Response:
    if not call.is_path(call.state.home_path("en")):
        return call.passthrough()
    target = _elsewhere(call, "/", "hreflang-home-offsite")
    return _inject_head(call.passthrough(), f'<link rel="alternate" href="{escape(target)}" hreflang="fr" />\n')


def _sitemap_index_offsite(call: Call) -> Response:
    if not call.is_path("/wp-sitemap.xml"):
        return call.passthrough()
    resp = call.passthrough()
    loc = _elsewhere(call, call.state.link("en", "/wp-sitemap-posts-post-1.xml"), "sitemap-index-offsite")
    return _with_body(resp, _body(resp).replace("</sitemapindex>", f"<sitemap><loc>{escape(loc)}</loc></sitemap></sitemapindex>", 1))


def _sitemap_offsite_urls(call: Call) -> Response:
    if not call.is_path(call.state.link("en", "/wp-sitemap-posts-post-1.xml")):
        return call.passthrough()
    resp = call.passthrough()
    if resp.status != 200:
        return resp
    entries = "".join(
        f"<url><loc>{escape(_elsewhere(call, call.state.path_of(p), 'sitemap-offsite-urls'))}</loc>"
        f"<lastmod>2026-03-01T10:00:00+05:00</lastmod></url>"
        for p in call.state.published("post", "en"))
    return _with_body(resp, _body(resp).replace("</urlset>", entries + "</urlset>", 1))


def _feed_offsite_items(call: Call) -> Response:
    resp = call.passthrough()
    if not _is_rss(resp):
        return resp
    post = call.state.published("post", "en")[0]
    link = _elsewhere(call, call.state.path_of(post), "feed-offsite-items")
    item = (f"\t<item>\n\t\t<title>{escape(post.title)}</title>\n\t\t<link>{escape(link)}</link>\n"
            f'\t\t<guid isPermaLink="false">{escape(_offsite(call))}/?p={post.id}</guid>\n'
            f"\t\t<pubDate>Sun, 01 Mar 2026 10:00:00 +0000</pubDate>\n\t</item>\n")
    return _with_body(resp, _insert_items(_body(resp), item))


def _insert_items(text: str, items: str) -> str:
    at = text.find("\t<item>")
    at = at if at >= 0 else text.find("\t</channel>")
    return text[:at] + items + text[at:]


def _rest_offsite_links(call: Call) -> Response:
    resp = call.passthrough()
    if not _is_rest_posts(call) or resp.status != 200:
        return resp
    data = json.loads(resp.body)
    if not isinstance(data, list):
        return resp
    events = [c.id for c in call.state.categories if c.translation_group == call.state.events_group]
    post = call.state.published("post", "en")[0]
    data.append({"id": 990001, "slug": "elsewhere", "date_gmt": "2026-03-01T10:00:00",
                 "modified_gmt": "2026-03-01T10:00:00", "categories": events,
                 "link": _elsewhere(call, call.state.path_of(post), "rest-offsite-links")})
    return Response(resp.status, resp.headers, wp_json(data))


def _feed_xxe(call: Call) -> Response:
    resp = call.passthrough()
    if not _is_rss(resp):
        return resp
    dtd, entity = _elsewhere(call, "/feed.dtd", "feed-xxe"), _elsewhere(call, "/xxe", "feed-xxe")
    doctype = f'<!DOCTYPE rss SYSTEM "{dtd}" [\n<!ENTITY xxe SYSTEM "{entity}">\n<!ENTITY passwd SYSTEM "file:///etc/passwd">\n]>\n'
    return _with_body(resp, _with_doctype(_body(resp), doctype, "&xxe;&passwd;"))


def _with_doctype(text: str, doctype: str, reference: str) -> str:
    declaration = '<?xml version="1.0" encoding="UTF-8"?>'
    text = text.replace(declaration, declaration + "\n" + doctype, 1)
    return text.replace("<description>", "<description>" + reference, 1)


# ----- bogus versions ------------------------------------------------------------------------------


def _install_ru(state: SiteState, params: dict[str, Any]) -> dict[str, Any]:
    name = params.pop("_name")
    post = _publish(state, name, lang="ru", topic=f"устойчивость архива ({name})")
    return {**params, "post": post.id}


def _cp1251_as_utf8(call: Call) -> Response:
    if not call.is_post():
        return call.passthrough()
    resp = call.passthrough()
    body = _body(resp).encode("cp1251", errors="xmlcharrefreplace")
    return Response(resp.status, _replace_type(resp.headers, "text/html; charset=UTF-8"), body)


def _koi8r_undeclared(call: Call) -> Response:
    if not call.is_post():
        return call.passthrough()
    resp = call.passthrough()
    text = _body(resp).replace('<meta charset="UTF-8">\n', "", 1)
    return Response(resp.status, _replace_type(resp.headers, "text/html"), text.encode("koi8_r", errors="xmlcharrefreplace"))


def _replace_type(headers: list[tuple[str, str]], content_type: str) -> list[tuple[str, str]]:
    return [(k, content_type if k.lower() == "content-type" else v) for k, v in headers]


def _install_two_urls(state: SiteState, params: dict[str, Any]) -> dict[str, Any]:
    params.pop("_name")
    first = _publish(state, "two-urls-one-id", topic="water resources of Central Asia", slug="hostile-two-urls-one-id")
    second = _publish(state, "two-urls-one-id-impostor", topic="the digital economy and e-government",
                      slug="hostile-two-urls-one-id-impostor")
    return {**params, "post": first.id, "impostor": second.id}


def _two_urls_one_id(call: Call) -> Response:
    impostor = call.state.post(int(call.params["impostor"]))
    if impostor is None or not call.is_path(call.state.path_of(impostor)):
        return call.passthrough()
    return _swap_response_ids(call.passthrough(), impostor.id, int(call.params["post"]))


def _unstable_post_id(call: Call) -> Response:
    if not call.is_post():
        return call.passthrough()
    # Every answer claims another id, like a page cache that mixes up its entries.
    return _swap_response_ids(call.passthrough(), call.post().id, 700_000 + call.ctx.views)


def _install_replacement_title(state: SiteState, params: dict[str, Any]) -> dict[str, Any]:
    params.pop("_name")
    post = _publish(state, "title-replacement-chars", title="\ufffd" * 8, slug="hostile-title-replacement-chars")
    return {**params, "post": post.id}


def _nul_binary(call: Call) -> Response:
    if not call.is_post():
        return call.passthrough()
    return Response(200, [("Content-Type", HTML_UTF8)], _junk(8192))


def _block_with_post_id(kind: str) -> Callable[[Call], Response]:
    def block(call: Call) -> Response:
        if not call.is_post():
            return call.passthrough()
        post_id = call.post().id
        page = block_page(kind, call.ctx)
        page = page.replace('<body class="', f'<body class="postid-{post_id} ', 1)
        page = page.replace("</head>", f"<link rel='shortlink' href='{call.ctx.root}/?p={post_id}' />\n</head>", 1)
        return html(200, page, [("Link", f"<{call.ctx.root}/?p={post_id}>; rel=shortlink")])
    return block


def _soft_404(call: Call) -> Response:
    if not call.is_post():
        return call.passthrough()
    return html(200, not_found_page(call.state, call.post().lang, call.ctx))


def _install_deep(state: SiteState, params: dict[str, Any]) -> dict[str, Any]:
    params.pop("_name")
    outer, inner = _TEXT["en"]
    content = (f"<p>{escape(outer.format(topic='deeply nested markup'))}</p>\n" + "<div>" * NESTING
               + f"<p>{escape(inner)} The nested part of the report ends here.</p>" + "</div>" * NESTING)
    post = _publish(state, "deep-nesting", topic="deeply nested markup", content_html=content)
    return {**params, "post": post.id}


def _canonical_to_listing(call: Call) -> Response:
    if not call.is_post():
        return call.passthrough()
    resp = call.passthrough()
    return _with_body(resp, _replace_canonical(_body(resp), _listing_url(call, "en", 1)))


def _install_cyrillic(state: SiteState, params: dict[str, Any]) -> dict[str, Any]:
    params.pop("_name")
    post = _publish(state, "cyrillic-slug-spellings", lang="ru", topic="три написания одного адреса",
                    slug="три-написания-одного-адреса")
    return {**params, "post": post.id}


def _cyrillic_slug_spellings(call: Call) -> Response:
    """The REST API links the post with upper-case escapes, the listing with raw Cyrillic; the
    sitemap and the page itself keep WordPress's lower-case escapes."""
    resp = call.passthrough()
    post = call.post()
    lower = call.url(call.state.path_of(post))
    if _is_rest_posts(call) and resp.status == 200:
        data = json.loads(resp.body)
        for item in data if isinstance(data, list) else []:
            if isinstance(item, dict) and item.get("id") == post.id:
                item["link"] = re.sub(r"%[0-9a-f]{2}", lambda m: m.group(0).upper(), lower)
        return Response(resp.status, resp.headers, wp_json(data))
    if _listing_page(call, "ru") is not None and resp.status == 200:
        raw = call.url(call.state.link("ru", f"/{post.slug}/"))
        return _with_body(resp, _body(resp).replace(f'href="{lower}"', f'href="{raw}"'))
    return resp


def _install_duplicate_hreflang(state: SiteState, params: dict[str, Any]) -> dict[str, Any]:
    params.pop("_name")
    group = "hostile-duplicate-hreflang"
    post = _publish(state, "duplicate-hreflang", topic="energy security", group=group)
    translation = _publish(state, "duplicate-hreflang-translation", lang="ru", topic="энергетическая безопасность",
                           slug="hostile-duplicate-hreflang-ru", group=group)
    decoy = _publish(state, "duplicate-hreflang-decoy", lang="ru", topic="новости института",
                     slug="hostile-duplicate-hreflang-decoy", category="новости")
    return {**params, "post": post.id, "translation": translation.id, "decoy": decoy.id}


def _duplicate_hreflang(call: Call) -> Response:
    if not call.is_post():
        return call.passthrough()
    decoy = call.state.post(int(call.params["decoy"]))
    assert decoy is not None
    # Printed before the plugin's own lines: an SEO plugin's hook with an earlier priority.
    return _inject_head(call.passthrough(), f'<link rel="alternate" href="{call.url(call.state.path_of(decoy))}" hreflang="ru" />\n')


def _hreflang_404(call: Call) -> Response:
    if not call.is_post():
        return call.passthrough()
    own = call.url(call.state.path_of(call.post()))
    return _inject_head(call.passthrough(), f'<link rel="alternate" href="{own}" hreflang="en" />\n'
                                            f'<link rel="alternate" href="{call.url(MISSING_TRANSLATION)}" hreflang="ru" />\n')


MISSING_TRANSLATION = "/hostile-missing-translation/"


def _shortlink_garbage(call: Call) -> Response:
    if _listing_page(call, "en") != 1:
        return call.passthrough()
    resp = call.passthrough()
    if resp.status != 200:
        return resp
    articles = "".join(
        f'<article class="post type-post status-publish format-standard hentry"><h2 class="entry-title">'
        f'<a href="{escape(call.url(href))}" rel="bookmark">Shortlink {escape(href)}</a></h2></article>\n'
        for href in GARBAGE_SHORTLINKS)
    return _with_body(resp, _body(resp).replace("</main>", articles + "</main>", 1))


LOOP_PARTNER = "/hostile-loop-partner/"


def _redirect_loop_self(call: Call) -> Response:
    if not call.is_post():
        return call.passthrough()
    return redirect(call.url(call.state.path_of(call.post())))


def _redirect_loop_pair(call: Call) -> Response:
    if call.is_post():
        return redirect(call.url(LOOP_PARTNER))
    if call.is_path(LOOP_PARTNER):
        return redirect(call.url(call.state.path_of(call.post())))
    return call.passthrough()


def _redirect_chain(call: Call) -> Response:
    if call.is_post():
        return redirect(call.url("/hostile-hop/1/"))
    m = re.fullmatch(r"/hostile-hop/(\d+)/?", call.path)
    if not m:
        return call.passthrough()
    hop = int(m.group(1))
    if hop < HOPS:
        return redirect(call.url(f"/hostile-hop/{hop + 1}/"))
    return call.inner(Request(call.request.method, call.state.path_of(call.post()), call.request.headers))


def _redirect_to(location: str) -> Callable[[Call], Response]:
    def redirect_scheme(call: Call) -> Response:
        if not call.is_post():
            return call.passthrough()
        return Response(301, [("Content-Type", HTML_UTF8), ("Location", location), ("X-Redirect-By", "WordPress")], b"")
    return redirect_scheme


def _padded(megabytes: float) -> Callable[[Call], Response]:
    def padded(call: Call) -> Response:
        if not call.is_post():
            return call.passthrough()
        return _pad(call.passthrough(), megabytes)
    return padded


def _install_fault(status: int, retry_after: int | None = None) -> Callable[[SiteState, dict[str, Any]], dict[str, Any]]:
    def install_fault(state: SiteState, params: dict[str, Any]) -> dict[str, Any]:
        post = _publish(state, params.pop("_name"))
        state.fail(state.path_of(post), status, 10**9, retry_after=retry_after)
        return {**params, "post": post.id}
    return install_fault


def _billion_laughs(call: Call) -> Response:
    resp = call.passthrough()
    if not _is_rss(resp):
        return resp
    lines = ['<!ENTITY lol "lol">']
    for n in range(1, 10):
        lines.append(f'<!ENTITY lol{n} "' + f"&lol{n - 1 if n > 1 else ''};" * 10 + '">')
    doctype = "<!DOCTYPE rss [\n" + "\n".join(lines) + "\n]>\n"
    return _with_body(resp, _with_doctype(_body(resp), doctype, "&lol9;"))


def _post_id_overflow(call: Call) -> Response:
    if not call.is_post():
        return call.passthrough()
    return _swap_response_ids(call.passthrough(), call.post().id, OVERFLOW_ID)


# ----- unbounded work ------------------------------------------------------------------------------


def _rest_total_pages_huge(call: Call) -> Response:
    if not _is_rest_posts(call):
        return call.passthrough()
    resp = call.passthrough()
    if resp.status == 400:
        # Past the real last page WordPress answers 400; this site answers that page again.
        first = call.inner(_retarget(call.request, page=1))
        last = int(first.header("X-WP-TotalPages") or 1)
        resp = call.inner(_retarget(call.request, page=max(1, last)))
    if resp.status != 200:
        return resp
    page = int((call.query.get("page") or ["1"])[-1] or 1)
    nxt = f'<{call.ctx.root}{_retarget(call.request, page=page + 1).target}>; rel="next"'
    return _set_headers(resp, X_WP_Total=str(REST_CLAIMED_TOTAL), X_WP_TotalPages=str(REST_CLAIMED_PAGES), Link=nxt)


def _rest_headers(total: str, pages: str) -> Callable[[Call], Response]:
    def rest_headers(call: Call) -> Response:
        resp = call.passthrough()
        if not _is_rest_posts(call) or resp.status != 200:
            return resp
        return _set_headers(resp, X_WP_Total=total, X_WP_TotalPages=pages)
    return rest_headers


def _rest_html(call: Call) -> Response:
    if not _is_rest_posts(call):
        return call.passthrough()
    home = call.inner(Request(call.request.method, call.state.home_path(call.state.default_language), call.request.headers))
    return Response(200, [("Content-Type", HTML_UTF8)], home.body)


def _rest_wrong_types(call: Call) -> Response:
    resp = call.passthrough()
    if not _is_rest_posts(call) or resp.status != 200:
        return resp
    data = json.loads(resp.body)
    for item in data if isinstance(data, list) else []:
        if isinstance(item, dict):
            item["id"] = str(item.get("id"))
            item["link"] = len(str(item.get("link", "")))
            item["categories"] = ",".join(str(c) for c in item.get("categories") or [])
            item["modified_gmt"] = {"raw": item.get("modified_gmt")}
    return Response(resp.status, resp.headers, wp_json(data))


def _listing_next(kind: str) -> Callable[[Call], Response]:
    def listing_next(call: Call) -> Response:
        lang = str(call.params.get("lang", "en"))
        page = _listing_page(call, lang)
        if page is None:
            return call.passthrough()
        last = _listing_pages(call, lang)
        resp = call.passthrough()
        if page != last:
            return resp
        target = {"first": 1, "pair": max(1, last - 1), "self": last}[kind]
        return _add_next(resp, _listing_url(call, lang, target))
    return listing_next


def _feed_ghosts(call: Call) -> Response:
    resp = call.passthrough()
    if not _is_rss(resp):
        return resp
    root = call.ctx.root
    items = "".join(f"\t<item><link>{root}/en/ghost-feed-{n}/</link></item>\n" for n in range(GHOSTS))
    return _with_body(resp, _insert_items(_body(resp), items))


def _sitemap_ghosts(call: Call) -> Response:
    if not call.is_path(call.state.link("en", "/wp-sitemap-posts-post-1.xml")):
        return call.passthrough()
    resp = call.passthrough()
    if resp.status != 200:
        return resp
    root = call.ctx.root
    entries = "".join(f"<url><loc>{root}/en/ghost-sitemap-{n}/</loc><lastmod>2026-03-01T10:00:00+05:00</lastmod></url>"
                      for n in range(GHOSTS))
    return _with_body(resp, _body(resp).replace("</urlset>", entries + "</urlset>", 1))


SELF_INDEX = "/en/wp-sitemap-posts-post-2.xml"
GZIP_PART = "/en/wp-sitemap-posts-post-9.xml.gz"


def _add_to_index(call: Call, path: str) -> Response:
    resp = call.passthrough()
    if resp.status != 200:
        return resp
    return _with_body(resp, _body(resp).replace("</sitemapindex>", f"<sitemap><loc>{call.url(path)}</loc></sitemap></sitemapindex>", 1))


def _sitemap_index_self(call: Call) -> Response:
    if call.is_path("/wp-sitemap.xml"):
        return _add_to_index(call, SELF_INDEX)
    if call.is_path(SELF_INDEX):
        doc = ('<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
               f"<sitemap><loc>{call.url(SELF_INDEX)}</loc></sitemap></sitemapindex>\n")
        return Response(200, [("Content-Type", "application/xml; charset=UTF-8")], doc.encode("utf-8"))
    return call.passthrough()


def _sitemap_gzip_bomb(call: Call) -> Response:
    if call.is_path("/wp-sitemap.xml"):
        return _add_to_index(call, GZIP_PART)
    if call.is_path(GZIP_PART):
        # A .xml.gz file: no Content-Encoding, so nothing below the crawler inflates it.
        return Response(200, [("Content-Type", "application/x-gzip")], _bomb(call.ctx.root, BOMB_MEGABYTES))
    return call.passthrough()


@functools.lru_cache(maxsize=2)
def _bomb(root: str, megabytes: int) -> bytes:
    """A gzip sitemap that inflates to `megabytes` of well-formed <url> entries (cached: it
    takes a second to build)."""
    head = b'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    entry = f"<url><loc>{root}/en/ghost-gzip/</loc></url>".encode("ascii")
    count = (megabytes * 1024 * 1024 - len(head)) // len(entry)
    return gzip.compress(head + entry * count + b"</urlset>\n", compresslevel=6)


# ----- the table ---------------------------------------------------------------------------------

_TABLE: list[Behaviour] = [
    # Content of other hosts stored or requested as the site's own.
    Behaviour("redirect-offsite", "a post's URL answers 301 to the same address on another host",
              "Page Links To (classes/plugin.php template_redirect(): wp_redirect($link, 301)); wp_redirect() "
              "takes any host, only wp_safe_redirect() checks",
              _post_install(), _redirect_offsite),
    Behaviour("meta-refresh-offsite", "a post carries <meta http-equiv=refresh> to another host",
              "the classic injected redirect of a compromised WordPress (SEO-spam hacks)",
              _post_install(), _meta_refresh_offsite),
    Behaviour("hreflang-offsite", "a post's hreflang names a page on another host",
              "Polylang's 'different domains' mode or an SEO plugin's hand-written hreflang",
              _install_hreflang_offsite, _hreflang_offsite),
    Behaviour("canonical-offsite", "a post's rel=canonical (and og:url) is on another host",
              "Yoast's per-post canonical field set to a syndication source (cross-domain canonical)",
              _post_install(), _canonical_offsite),
    Behaviour("listing-next-offsite", "the category listing's next-page links point to another host",
              "a wrong home/site URL in one layer (proxy, CDN, WP_HOME) rewriting pagination",
              _params_only, _listing_next_offsite),
    Behaviour("hreflang-listing-offsite", "the category listing's hreflang names a listing on another host",
              "Polylang with one language on another domain (links-domain.php)",
              _params_only, _hreflang_listing_offsite),
    Behaviour("hreflang-home-offsite", "the home page's hreflang names a home page on another host",
              "Polylang with one language on another domain (links-domain.php)",
              _params_only, _hreflang_home_offsite),
    Behaviour("sitemap-index-offsite", "the sitemap index lists a sub-sitemap on another host",
              "Yoast's wpseo_sitemap_index filter, documented for adding external sitemaps",
              _params_only, _sitemap_index_offsite),
    Behaviour("sitemap-offsite-urls", "a post sitemap lists URLs of another host",
              "Page Links To filters post_link, so the sitemap lists the external URL",
              _params_only, _sitemap_offsite_urls),
    Behaviour("feed-offsite-items", "the feed carries an item that links to another host",
              "feed aggregator plugins (WP RSS Aggregator, Feedzy) importing other sites' items",
              _params_only, _feed_offsite_items),
    Behaviour("rest-offsite-links", "the REST API names a post whose link is on another host",
              "Page Links To filters post_link, which the REST `link` field uses",
              _params_only, _rest_offsite_links),
    Behaviour("feed-xxe", "the feed declares external entities and an external DTD (another host, file:)",
              "an attacker-controlled or hijacked feed (XML external entity attack)",
              _params_only, _feed_xxe),
    # Bogus versions from nothing.
    Behaviour("cp1251-as-utf8", "a Russian post's bytes are windows-1251, declared UTF-8",
              "a legacy template or a database dump re-encoded by a migration",
              _install_ru, _cp1251_as_utf8),
    Behaviour("koi8r-undeclared", "a Russian post in KOI8-R with no charset anywhere",
              "very old Cyrillic hosting that strips the charset",
              _install_ru, _koi8r_undeclared),
    Behaviour("two-urls-one-id", "two URLs whose pages claim the same post id",
              "a page cache (or a broken duplicate-post plugin) serving one post's id on another",
              _install_two_urls, _two_urls_one_id),
    Behaviour("unstable-post-id", "a post whose claimed id changes on every request",
              "a page cache that mixes up its entries between requests",
              _post_install(), _unstable_post_id),
    Behaviour("title-replacement-chars", "a post whose title is only U+FFFD replacement characters",
              "a title mangled by a double conversion and saved so",
              _install_replacement_title),
    Behaviour("nul-binary", "a post URL answers 200 text/html with NUL bytes and binary junk",
              "a corrupt page cache or a file served in place of the page",
              _post_install(), _nul_binary),
    Behaviour("captcha-with-post-id", "a post URL answers 200 with a CAPTCHA page that names the post id",
              "an anti-bot layer (Cloudflare-like) whose challenge page keeps the theme's body class",
              _post_install(), _block_with_post_id("captcha")),
    Behaviour("login-with-post-id", "a post URL answers 200 with a login form that names the post id",
              "a members-only plugin serving wp-login inside the post's template",
              _post_install(), _block_with_post_id("login")),
    Behaviour("soft-404", "a post URL answers 200 with the theme's 'not found' page",
              "themes and caches that turn 404 into 200",
              _post_install(), _soft_404),
    Behaviour("deep-nesting", f"a post whose text sits inside {NESTING} nested <div>s",
              "a page builder's runaway markup, or an attack on recursive parsers",
              _install_deep),
    Behaviour("canonical-to-listing", "a post whose rel=canonical is the category listing",
              "an SEO plugin misconfigured to canonicalise posts to their archive",
              _post_install(), _canonical_to_listing),
    Behaviour("cyrillic-slug-spellings", "one Cyrillic slug spelt three ways (lower, upper escapes, raw)",
              "WordPress stores lower-case escapes; plugins, caches and editors spell them otherwise",
              _install_cyrillic, _cyrillic_slug_spellings),
    Behaviour("duplicate-hreflang", "two hreflang=ru links on one post, to different pages",
              "an SEO plugin printing its own hreflang beside Polylang's",
              _install_duplicate_hreflang, _duplicate_hreflang),
    Behaviour("hreflang-404", "a post's hreflang names a translation that answers 404",
              "a translation deleted without updating the links",
              _post_install(), _hreflang_404),
    Behaviour("shortlink-garbage", "the listing links ?p= shortlinks with ids that are no ids",
              "hand-made links and scanners' probes indexed by the theme",
              _params_only, _shortlink_garbage),
    Behaviour("redirect-file", "a post redirects to file:///etc/passwd",
              "a hostile Location header (open-redirect attacks on crawlers)",
              _post_install(), _redirect_to("file:///etc/passwd")),
    Behaviour("redirect-javascript", "a post redirects to javascript:",
              "a hostile Location header",
              _post_install(), _redirect_to("javascript:alert(document.domain)")),
    Behaviour("redirect-data", "a post redirects to a data: URL",
              "a hostile Location header",
              _post_install(), _redirect_to("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==")),
    Behaviour("redirect-loop-self", "a post's URL redirects to itself",
              "a redirect rule that matches its own target",
              _post_install(), _redirect_loop_self),
    Behaviour("redirect-loop-pair", "a post's URL redirects to another that redirects back (A→B→A)",
              "two redirect rules (plugin and server) undoing each other, e.g. trailing slash or www",
              _post_install(), _redirect_loop_pair),
    Behaviour("redirect-chain-30", f"a post's URL starts a chain of {HOPS} redirects",
              "years of slug changes and migrations, each adding a hop",
              _post_install(), _redirect_chain),
    Behaviour("body-20mb", "a post's page is 20 MB, over the crawler's 16 MiB limit",
              "a post with pasted images as data: URLs, or a runaway page builder",
              _post_install(), _padded(20)),
    Behaviour("hang", "a post's URL accepts the connection and never answers (longer than the timeout)",
              "an overloaded PHP worker pool", _post_install(seconds=6.0), socket="hang"),
    Behaviour("reset-mid-body", "a post's answer is cut by a TCP reset halfway through the body",
              "a proxy or PHP worker killed mid-response", _post_install(), socket="reset"),
    Behaviour("short-body", "a post's Content-Length is larger than the body sent",
              "a truncated response from a crashed worker behind a buffering proxy", _post_install(),
              socket="short-body"),
    Behaviour("retry-after-huge", "a post's URL answers 429 with Retry-After: 99999",
              "a rate limiter (Cloudflare, Wordfence) asking for a day's pause", _install_fault(429, 99999)),
    Behaviour("unavailable-forever", "a post's URL answers 503 to every request",
              "a maintenance mode or a dead backend", _install_fault(503)),
    Behaviour("billion-laughs", "the feed's DTD declares an exponential entity (billion laughs)",
              "an attacker-controlled feed (entity expansion attack)", _params_only, _billion_laughs),
    Behaviour("post-id-overflow", f"a post's page claims the id {OVERFLOW_ID}, above 2^63",
              "a corrupted or hostile page; SQLite's INTEGER holds at most 2^63-1",
              _post_install(), _post_id_overflow),
    # REST answers that lie.
    Behaviour("rest-total-pages-huge", "the REST API claims 100,000 pages and answers every page",
              "a caching or security plugin that rewrites REST headers and ignores the page number",
              _params_only, _rest_total_pages_huge),
    Behaviour("rest-totals-not-numbers", "the REST API sends X-WP-Total and X-WP-TotalPages: abc",
              "a plugin that overwrites the headers", _params_only, _rest_headers("abc", "abc")),
    Behaviour("rest-negative-totals", "the REST API sends X-WP-Total: -5, X-WP-TotalPages: -1",
              "a plugin that overwrites the headers", _params_only, _rest_headers("-5", "-1")),
    Behaviour("rest-html-instead-of-json", "the REST posts endpoint answers 200 with an HTML page",
              "security plugins that 'disable' the REST API by serving the home page", _params_only, _rest_html),
    Behaviour("rest-wrong-types", "REST posts with a string id, a number link, a string of categories",
              "a plugin that filters rest_prepare_post carelessly", _params_only, _rest_wrong_types),
    # Unbounded work.
    Behaviour("listing-next-first", "the listing's last page links 'next' back to page 1",
              "a theme's pagination bug (wrapping around)", _params_only, _listing_next("first")),
    Behaviour("listing-next-pair", "the listing's last page links 'next' to the page before (A→B→A)",
              "a theme's pagination bug (off by one)", _params_only, _listing_next("pair")),
    Behaviour("listing-next-self", "the listing's last page links 'next' to itself",
              "a theme's pagination bug", _params_only, _listing_next("self")),
    Behaviour("feed-ghost-items", f"the feed carries {GHOSTS:,} items linking posts that do not exist",
              "a hostile or broken feed (posts_per_rss set absurdly, or generated)", _params_only, _feed_ghosts),
    Behaviour("sitemap-ghost-urls", f"a post sitemap lists {GHOSTS:,} URLs that do not exist",
              "a sitemap plugin gone wrong", _params_only, _sitemap_ghosts),
    Behaviour("sitemap-index-self", "a post sub-sitemap is an index that lists itself",
              "a sitemap plugin gone wrong", _params_only, _sitemap_index_self),
    Behaviour("sitemap-gzip-bomb", f"a .xml.gz post sitemap that inflates to {BOMB_MEGABYTES} MB",
              "a gzip bomb; sitemaps may be gzipped files (sitemaps.org)", _params_only, _sitemap_gzip_bomb),
    Behaviour("page-15mb", "a post's page is 15 MB of text",
              "a post with a whole report pasted in, or a runaway page builder",
              _post_install(), _padded(15)),
]

BEHAVIOURS: dict[str, Behaviour] = {}
for _behaviour in _TABLE:
    BEHAVIOURS[_behaviour.name] = Behaviour(
        _behaviour.name, _behaviour.summary, _behaviour.origin, _named(_behaviour.name, _behaviour.install),
        _behaviour.respond, _behaviour.socket)
del _behaviour

__all__ = ["BEHAVIOURS", "Behaviour", "GARBAGE_SHORTLINKS", "MISSING_TRANSLATION", "OFFSITE_MARK", "OFFSITE_TEXT",
           "OVERFLOW_ID", "SocketFault", "install", "offsite_copy", "post_of", "respond", "socket_fault"]
