"""The slice of the WordPress REST API (wp/v2) that crawlers use, as each multilingual plugin changes it.

Polylang (free): src/rest-request.php sets the language from a `lang` parameter (an unknown one
falls back to the default language); terms are filtered by it (src/crud-terms.php,
terms_clauses()), posts are not (filtering posts and the `lang`/`translations` fields are Polylang
Pro's). src/modules/REST/V1/Languages.php adds a public `pll/v1/languages` route.
WPML: every query follows the current language, the default one unless the request names
another (`lang=` in the URL, or the `wpml_language` argument that WPML_REST_Extend_Args adds
to every route with an enum of the active codes).
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from html import escape
from typing import Any, Callable
from urllib.parse import unquote, urlencode

from .pages import Context, excerpt_of, text
from .response import Response, json_response, rest_error
from .media import absolute_uploads
from .state import Category, Language, Post, SiteState, encode_slug, parse_iso, slugify

Query = dict[str, list[str]]

ORDERBY = ("date", "modified", "id", "title", "slug", "include")


class InvalidParam(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def handle(state: SiteState, route: str, query: Query, ctx: Context) -> Response:
    """Answer one REST route (the part after /wp-json). The caller applies the `rest` option."""
    route = "/" + route.strip("/") if route.strip("/") else "/"
    try:
        if route == "/":
            return json_response(200, _index(state, ctx))
        if route == "/wp/v2":
            return json_response(200, {"namespace": "wp/v2", "routes": _routes()})
        if state.options.plugin == "polylang" and route in ("/pll/v1/languages", "/pll/v1"):
            if route == "/pll/v1":
                return json_response(200, {"namespace": "pll/v1", "routes": _pll_routes()})
            return json_response(200, [language_json(state, lang, ctx) for lang in state.languages])
        if state.options.plugin == "wpml":
            _wpml_language_arg(state, query)
        m = re.fullmatch(r"/wp/v2/(posts|pages|categories)(?:/(\d+))?", route)
        if not m:
            return _no_route()
        kind, item_id = m.group(1), m.group(2)
        if kind == "categories":
            return _categories(state, query, ctx, int(item_id) if item_id else None, route)
        return _posts(state, "post" if kind == "posts" else "page", query, ctx, int(item_id) if item_id else None, route)
    except InvalidParam as exc:
        return rest_error(
            400, "rest_invalid_param", f"Invalid parameter(s): {exc.name}", params={exc.name: exc.message}
        )


def _no_route() -> Response:
    return rest_error(404, "rest_no_route", "No route was found matching the URL and request method.")


def _routes() -> dict[str, Any]:
    names = ["/wp/v2/posts", "/wp/v2/posts/(?P<id>[\\d]+)", "/wp/v2/pages", "/wp/v2/pages/(?P<id>[\\d]+)",
             "/wp/v2/categories", "/wp/v2/categories/(?P<id>[\\d]+)"]
    return {name: {"namespace": "wp/v2", "methods": ["GET"]} for name in names}


def _pll_routes() -> dict[str, Any]:
    names = ["/pll/v1/languages", "/pll/v1/languages/(?P<term_id>[\\d]+)", "/pll/v1/settings"]
    return {name: {"namespace": "pll/v1", "methods": ["GET"]} for name in names}


def _index(state: SiteState, ctx: Context) -> dict[str, Any]:
    namespaces = ["oembed/1.0", "wp/v2", "wp-site-health/v1"]
    routes = _routes()
    if state.options.plugin == "polylang":
        namespaces.insert(1, "pll/v1")
        routes = {**_pll_routes(), **routes}
    return {
        "name": state.site_name,
        "description": text(state.default_lang)["tagline"],
        "url": ctx.root,
        "home": ctx.root,
        "gmt_offset": state.options.gmt_offset,
        "timezone_string": "Asia/Almaty" if state.options.gmt_offset == 5 else "",
        "namespaces": namespaces,
        "authentication": [],
        "routes": routes,
    }


def language_json(state: SiteState, lang: Language, ctx: Context) -> dict[str, Any]:
    """A language as `GET /pll/v1/languages` shows it in the view context (PLL_Language::to_array())."""
    return {
        "term_id": lang.term_id,
        "name": lang.name,
        "slug": lang.slug,
        "locale": lang.locale,
        "w3c": lang.w3c,
        "facebook": text(lang.code).get("og_locale", lang.locale),
        "is_rtl": False,
        "term_group": state.languages.index(lang),
        "flag_code": {"ru": "ru", "en": "us", "kk": "kz"}.get(lang.code, lang.slug),
        "is_default": lang.code == state.default_language,
        "active": True,
        "home_url": ctx.root + state.home_path(lang.code),
        "search_url": ctx.root + state.home_path(lang.code),
        "host": "",
        "page_on_front": 0,
        "page_for_posts": 0,
        "fallbacks": [],
    }


# ----- parameters -------------------------------------------------------------------------------


def _one(query: Query, name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _int(query: Query, name: str, default: int, lo: int, hi: int | None = None) -> int:
    raw = _one(query, name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"\d+", raw.strip()):
        raise InvalidParam(name, f"{name} is not of type integer.")
    value = int(raw)
    if value < lo or (hi is not None and value > hi):
        bound = f"between {lo} (inclusive) and {hi} (inclusive)" if hi else f"greater than or equal to {lo}"
        raise InvalidParam(name, f"{name} must be {bound}")
    return value


def _int_list(query: Query, name: str) -> list[int] | None:
    raw = _one(query, name)
    if raw is None or raw == "":
        return None
    items = [x.strip() for x in raw.split(",") if x.strip()]
    if not all(re.fullmatch(r"\d+", x) for x in items):
        raise InvalidParam(name, f"{name}[0] is not of type integer.")
    return [int(x) for x in items]


def _date(query: Query, name: str) -> str | None:
    raw = _one(query, name)
    if raw is None or raw == "":
        return None
    try:
        dt = parse_iso(raw)
    except ValueError:
        raise InvalidParam(name, "Invalid date.") from None
    return dt.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S")


def request_language(state: SiteState, query: Query) -> str | None:
    """The language this REST request runs in (a language code), or None for "no language"."""
    if state.options.plugin == "wpml":
        # The current language: the `wpml_language` argument, else `lang=` in the URL, else the
        # default language. 'all' lifts the filter, as WPML's front end does.
        raw = _one(query, "wpml_language") or _one(query, "lang") or ""
        if raw == "all":
            return None
        lang = state.language_by_slug(raw)
        return lang.code if lang else state.default_language
    raw = _one(query, "lang")
    if not raw:
        return None
    # PLL_REST_Request::set_language(): get_language( sanitize_key( $lang ) ) matches a slug, a
    # locale or a w3c code (case-sensitive after sanitize_key() lower-cased it); anything else
    # falls back to the default language.
    key = re.sub(r"[^a-z0-9_\-]", "", raw.lower())
    for lang in state.languages:
        if key in (lang.slug, lang.locale, lang.w3c):
            return lang.code
    return state.default_language


def _wpml_language_arg(state: SiteState, query: Query) -> None:
    raw = _one(query, "wpml_language")
    if raw and state.language_by_slug(raw) is None:
        slugs = ", ".join(lang.slug for lang in state.languages)
        raise InvalidParam("wpml_language", f"wpml_language is not one of {slugs}.")


def _slugs(query: Query) -> set[str] | None:
    raw = _one(query, "slug")
    if not raw:
        return None
    # WordPress runs the value through sanitize_title, which keeps escaped octets: decoded and
    # encoded forms (either case) both match.
    return {encode_slug(slugify(unquote(s))) for s in raw.split(",") if s.strip()}


def _pick_fields(obj: dict[str, Any], fields_param: str | None) -> dict[str, Any]:
    """`_fields=id,title.rendered` keeps only those (nested) keys, in the object's own order."""
    if not fields_param:
        return obj
    wanted = [f.strip() for f in fields_param.split(",") if f.strip()]
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if key in wanted:
            out[key] = value
            continue
        subs = [w.split(".", 1)[1] for w in wanted if w.startswith(key + ".")]
        if subs and isinstance(value, dict):
            out[key] = _pick_fields(value, ",".join(subs))
    return out


def _paged(
    items: list[Any], query: Query, route: str, ctx: Context, render_item: Callable[[Any], dict[str, Any]],
    invalid_page_code: str,
) -> Response:
    per_page = _int(query, "per_page", 10, 1, 100)
    page = _int(query, "page", 1, 1)
    total = len(items)
    pages = math.ceil(total / per_page) if total else 0
    if page > pages and total > 0:
        return rest_error(
            400, invalid_page_code, "The page number requested is larger than the number of pages available."
        )
    shown = items[(page - 1) * per_page : page * per_page]
    fields_param = _one(query, "_fields")
    body = [_pick_fields(render_item(item), fields_param) for item in shown]
    headers = [("X-WP-Total", str(total)), ("X-WP-TotalPages", str(pages))]
    links = []
    base = {k: v[-1] for k, v in query.items() if k != "page"}
    if page > 1:
        links.append(f'<{ctx.root}/wp-json{route}?{urlencode({**base, "page": page - 1})}>; rel="prev"')
    if page < pages:
        links.append(f'<{ctx.root}/wp-json{route}?{urlencode({**base, "page": page + 1})}>; rel="next"')
    if links:
        headers.append(("Link", ", ".join(links)))
    headers.append(("Allow", "GET"))
    return json_response(200, body, headers)


# ----- categories ---------------------------------------------------------------------------------


def category_json(state: SiteState, cat: Category, ctx: Context) -> dict[str, Any]:
    return {
        "id": cat.id,
        "count": len(state.posts_in(cat)),
        "description": "",
        "link": ctx.root + state.category_path(cat),
        "name": cat.name,
        "slug": encode_slug(cat.slug),
        "taxonomy": "category",
        "parent": 0,
        "meta": [],
        "_links": {"self": [{"href": f"{ctx.root}/wp-json/wp/v2/categories/{cat.id}"}]},
    }


def _categories(state: SiteState, query: Query, ctx: Context, item_id: int | None, route: str) -> Response:
    if item_id is not None:
        cat = state.category_by_id(item_id)
        if cat is None:
            return rest_error(404, "rest_term_invalid", "Term does not exist.")
        return json_response(200, _pick_fields(category_json(state, cat, ctx), _one(query, "_fields")))
    lang = request_language(state, query)  # terms follow the request's language in both plugins
    slugs = _slugs(query)
    include = _int_list(query, "include")
    cats = [
        c
        for c in state.categories
        if (lang is None or c.lang == lang)
        and (slugs is None or encode_slug(c.slug) in slugs)
        and (include is None or c.id in include)
    ]
    if _one(query, "hide_empty") in ("1", "true"):
        cats = [c for c in cats if state.posts_in(c)]
    cats.sort(key=lambda c: c.name)  # core orders terms by name
    return _paged(cats, query, route, ctx, lambda c: category_json(state, c, ctx), "rest_invalid_page_number")


# ----- posts and pages ------------------------------------------------------------------------------


def _local(state: SiteState, iso: str) -> str:
    # `date`/`modified` are in the site's timezone, the *_gmt fields in UTC.
    return (datetime.fromisoformat(iso) + timedelta(hours=state.options.gmt_offset)).strftime("%Y-%m-%dT%H:%M:%S")


def author_ids(state: SiteState) -> dict[str, int]:
    # Stable ids from the sorted author names; user 1 is the admin who writes nothing.
    return {name: i for i, name in enumerate(sorted({p.author for p in state.posts}), start=2)}


def _tag_ids(state: SiteState) -> dict[str, int]:
    return {name: i for i, name in enumerate(sorted({t for p in state.posts for t in p.tags}), start=101)}


def post_json(state: SiteState, post: Post, ctx: Context) -> dict[str, Any]:
    kind = "posts" if post.post_type == "post" else "pages"
    cats = [c.id for c in (state.category(post.lang, s) for s in post.categories) if c]
    tag_ids = _tag_ids(state)
    obj: dict[str, Any] = {
        "id": post.id,
        "date": _local(state, post.date_gmt),
        "date_gmt": post.date_gmt,
        "guid": {"rendered": f"{ctx.root}/?p={post.id}"},
        "modified": _local(state, post.modified_gmt),
        "modified_gmt": post.modified_gmt,
        "slug": encode_slug(post.slug),  # stored encoded in wp_posts.post_name, so served encoded
        "status": "publish",
        "type": post.post_type,
        "link": ctx.root + state.path_of(post),
        "title": {"rendered": escape(post.title, quote=False)},
        "content": {"rendered": absolute_uploads(post.content_html, ctx.root) + "\n", "protected": False},
        "excerpt": {"rendered": f"<p>{excerpt_of(post)}</p>\n", "protected": False},
        "author": author_ids(state).get(post.author, 1),
        "featured_media": 0,
        "comment_status": "open" if post.post_type == "post" else "closed",
        "ping_status": "closed",
        "template": "",
        "meta": [],
    }
    if post.post_type == "post":
        obj.update(sticky=False, format="standard", categories=cats, tags=[tag_ids[t] for t in post.tags])
    else:
        obj.update(parent=0, menu_order=0)
    obj["_links"] = {
        "self": [{"href": f"{ctx.root}/wp-json/wp/v2/{kind}/{post.id}"}],
        "collection": [{"href": f"{ctx.root}/wp-json/wp/v2/{kind}"}],
    }
    return obj


def _sort_key(orderby: str, include: list[int] | None) -> Callable[[Post], Any]:
    if orderby == "modified":
        return lambda p: (p.modified_gmt, p.id)
    if orderby == "id":
        return lambda p: p.id
    if orderby == "title":
        return lambda p: (p.title.lower(), p.id)
    if orderby == "slug":
        return lambda p: (encode_slug(p.slug), p.id)
    if orderby == "include" and include:
        return lambda p: include.index(p.id) if p.id in include else len(include)
    return lambda p: (p.date_gmt, p.id)


def _posts(
    state: SiteState, post_type: str, query: Query, ctx: Context, item_id: int | None, route: str
) -> Response:
    if item_id is not None:
        post = state.post(item_id)
        if post is None or not post.is_published or post.post_type != post_type:
            return rest_error(404, "rest_post_invalid_id", "Invalid post ID.")
        return json_response(200, _pick_fields(post_json(state, post, ctx), _one(query, "_fields")))

    status = _one(query, "status")
    if status not in (None, "", "publish"):
        return rest_error(400, "rest_invalid_param", "Invalid parameter(s): status", params={"status": "Status is forbidden."})
    # Polylang's free plugin does not filter posts by language; WPML does.
    lang = request_language(state, query) if state.options.plugin == "wpml" else None
    categories = _int_list(query, "categories")
    include = _int_list(query, "include")
    exclude = _int_list(query, "exclude")
    slugs = _slugs(query)
    after, before = _date(query, "after"), _date(query, "before")
    mod_after, mod_before = _date(query, "modified_after"), _date(query, "modified_before")
    search = (_one(query, "search") or "").lower()
    orderby = _one(query, "orderby") or "date"
    if orderby not in ORDERBY:
        raise InvalidParam("orderby", f"orderby is not one of {', '.join(ORDERBY)}.")
    order = (_one(query, "order") or "desc").lower()
    if order not in ("asc", "desc"):
        raise InvalidParam("order", "order is not one of asc, desc.")

    def keep(p: Post) -> bool:
        if p.post_type != post_type or not p.is_published:
            return False
        if lang is not None and p.lang != lang:
            return False
        if categories is not None:
            ids = {c.id for c in (state.category(p.lang, s) for s in p.categories) if c}
            if not ids & set(categories):
                return False
        if include is not None and p.id not in include:
            return False
        if exclude is not None and p.id in exclude:
            return False
        if slugs is not None and encode_slug(p.slug) not in slugs:
            return False
        # WordPress's date_query bounds are exclusive.
        if after and not p.date_gmt > after:
            return False
        if before and not p.date_gmt < before:
            return False
        if mod_after and not p.modified_gmt > mod_after:
            return False
        if mod_before and not p.modified_gmt < mod_before:
            return False
        if search and search not in (p.title + " " + p.content_html).lower():
            return False
        return True

    items = sorted((p for p in state.posts if keep(p)), key=_sort_key(orderby, include), reverse=order == "desc")
    return _paged(items, query, route, ctx, lambda p: post_json(state, p, ctx), "rest_post_invalid_page_number")
