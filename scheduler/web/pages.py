"""What each page of the viewer shows: the data of its JSON twin and its template's context.

Everything is read through storage's public API (Archive, storage.query, storage.changes,
storage.diff, scheduler.ledger): the viewer never writes and never builds SQL of its own.
The JSON twins carry the same fields as the CLI's --json (docs/commands.md).
"""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from storage import Snapshot, UnknownDocument, UnknownVersion
from storage.changes import CHANGE_KINDS, recent_changes, url_history, version_at, version_kinds
from storage.query import (DEFAULT_SORT, SEARCH_SORTS, SORT_CHOICES, BadQuery, Filters, by_language,
                           count_documents, get_documents, list_documents, search as run_search)

from .app import Page, Viewer
from .atom import ATOM_TYPE, render_feed
from .cite import bibtex_citation, plain_citation
from .memento import LINK_FORMAT, Memento, http_date, link_header, memento_links, parse_accept_datetime
from .memento import timemap as render_timemap

LANGUAGE_ORDER = ("en", "ru", "kk")
# Issue C adds `cause` ("site" or "extractor") to versions: shown when the records carry it.
CAUSE_IN_SNAPSHOTS = "cause" in Snapshot.__dataclass_fields__
# Raw archived pages: no scripts (sandbox), no requests anywhere (default-src 'none'), only
# their own inline styles and data: images; framed only by the viewer.
RAW_CSP = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
           "media-src data:; form-action 'none'; base-uri 'none'; frame-ancestors 'self'")
_META_REFRESH = re.compile(rb"http-equiv\s*=\s*([\"']?)refresh\1", re.IGNORECASE)


# -- parameters ------------------------------------------------------------------------------
def _int(request: Request, name: str, default: int, low: int, high: int | None = None) -> int:
    value = request.query_params.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        raise BadQuery(f"{name}={value!r} is not a whole number") from None
    if number < low or (high is not None and number > high):
        raise BadQuery(f"{name}={number} is out of range ({low}–{high if high is not None else '…'})")
    return number


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("1", "true", "yes", "on")


def _filters(request: Request) -> Filters:
    params = request.query_params
    langs = tuple(v.strip().lower() for v in params.getlist("lang") if v.strip())
    cats = tuple(v.strip() for v in params.getlist("category") if v.strip())
    return Filters(languages=langs, since=params.get("since") or None, until=params.get("until") or None,
                   categories=cats, changed=_flag(request, "changed"), removed=_flag(request, "removed"))


def _doc_ref(request: Request) -> str:
    ref = request.path_params["doc_id"]
    return ref[: -len(".json")] if ref.endswith(".json") else ref


def _paging_headers(request: Request, total: int, offset: int, shown: int, limit: int, page: int) -> dict[str, str]:
    from .app import query_string

    links = []
    if offset + shown < total:
        links.append(f'<{request.url.path}{query_string(request.query_params, page=page + 1)}>; rel="next"')
    if page > 1:
        links.append(f'<{request.url.path}{query_string(request.query_params, page=page - 1)}>; rel="prev"')
    headers = {"x-total-count": str(total)}
    if links:
        headers["link"] = ", ".join(links)
    return headers


def _order_languages(codes: set[str | None]) -> list[str | None]:
    return sorted(codes, key=lambda c: (LANGUAGE_ORDER.index(c) if c in LANGUAGE_ORDER else len(LANGUAGE_ORDER), c or ""))


# -- documents -------------------------------------------------------------------------------
def documents(viewer: Viewer, request: Request) -> Page:
    """The listing: `list`'s filters, sort and paging; language counts; translation groups."""
    archive = viewer.archive()
    filters = _filters(request)
    sort = request.query_params.get("sort") or DEFAULT_SORT
    if sort not in SORT_CHOICES:
        raise BadQuery(f"unknown sort {sort!r}; choose one of {', '.join(SORT_CHOICES)}")
    limit = _int(request, "limit", 50, 1, 500)
    page = _int(request, "page", 1, 1)
    offset = (page - 1) * limit
    groups = _flag(request, "groups")
    conn = archive.conn
    docs = list(list_documents(conn, filters, sort=sort, limit=limit, offset=offset))
    total = count_documents(conn, filters)
    translations = {d.doc_id: archive.translations(d.doc_id) for d in docs}
    data = [{**d.to_json(), **({"translations": translations[d.doc_id]} if groups else {})} for d in docs]
    facets = by_language(conn, replace(filters, languages=()))
    context: dict[str, Any] = {
        "docs": docs, "translations": translations, "filters": filters, "sort": sort, "sorts": SORT_CHOICES,
        "total": total, "page": page, "limit": limit, "offset": offset, "groups": groups, "facets": facets,
        "pages": max(1, -(-total // limit)), "title": "Documents",
    }
    if groups:
        context["group_rows"], context["group_languages"] = _groups(conn, docs, translations)
    return Page("documents.html", data, context, headers=_paging_headers(request, total, offset, len(docs), limit, page))


def _groups(conn: Any, docs: list[Any], translations: dict[str, dict[str, str]]) -> tuple[list[dict[str, Any]], list[Any]]:
    """Translation groups in listing order: one row each, language -> document summary."""
    wanted = {doc_id for t in translations.values() for doc_id in t.values()} - {d.doc_id for d in docs}
    known = {d.doc_id: d for d in docs} | get_documents(conn, wanted)
    rows: list[dict[str, Any]] = []
    done: set[str] = set()
    for d in docs:
        if d.doc_id in done:
            continue
        members = {d.doc_id, *translations[d.doc_id].values()}
        done |= members
        row: dict[str | None, Any] = {}
        for doc_id in sorted(members, key=lambda m: (m != d.doc_id, m)):
            summary = known.get(doc_id)
            if summary is not None:
                row.setdefault(summary.language, summary)
        rows.append(row)
    languages = _order_languages({lang for row in rows for lang in row})
    return rows, languages


# -- search ----------------------------------------------------------------------------------
def search(viewer: Viewer, request: Request) -> Page | Response:
    """Full-text search, the engine of `search`; a URL goes straight to its document."""
    archive = viewer.archive()
    query = request.query_params.get("q", "").strip()
    filters = _filters(request)
    limit = _int(request, "limit", 20, 1, 200)
    page = _int(request, "page", 1, 1)
    offset = (page - 1) * limit
    sort = request.query_params.get("sort") or "rank"
    if sort not in SEARCH_SORTS:
        raise BadQuery(f"unknown sort {sort!r}; choose one of {', '.join(SEARCH_SORTS)}")
    all_versions, stemmed = _flag(request, "all_versions"), _flag(request, "stem")
    context: dict[str, Any] = {"query": query, "filters": filters, "sort": sort, "sorts": SEARCH_SORTS,
                               "all_versions": all_versions, "stemmed": stemmed, "page": page, "limit": limit,
                               "offset": offset, "title": f"Search: {query}" if query else "Search",
                               "result": None, "not_found": None}
    if not query:
        if request.url.path.endswith(".json"):
            raise BadQuery("give the search query as ?q=…")
        return Page("search.html", {"query": "", "total": 0, "hits": []}, context)
    if re.match(r"https?://", query, re.IGNORECASE):
        try:
            suffix = ".json" if request.url.path.endswith(".json") else ""
            return RedirectResponse(f"/doc/{archive.resolve(query)}{suffix}", status_code=303)
        except UnknownDocument as exc:
            context["not_found"] = str(exc)
            return Page("search.html", {"query": query, "total": 0, "hits": [], "error": str(exc)}, context, 404)
    result = run_search(archive.conn, query, filters, all_versions=all_versions, stemmed=stemmed, limit=limit,
                        offset=offset, sort=sort)
    data = {"query": result.query, "fts_query": result.fts_query, "total": result.total, "limit": limit,
            "offset": offset, "all_versions": all_versions, "filters": filters.to_json(),
            "hits": [hit.to_json() for hit in result.hits]}
    context.update(result=result, pages=max(1, -(-result.total // limit)))
    return Page("search.html", data, context,
                headers=_paging_headers(request, result.total, offset, len(result.hits), limit, page))


def go(viewer: Viewer, request: Request) -> Response:
    """/go?url=… (or ?ref=): any URL of a post, or a document id, to its document page."""
    ref = request.query_params.get("url") or request.query_params.get("ref") or ""
    if not ref.strip():
        raise BadQuery("give a URL of a post as ?url=…")
    return RedirectResponse(f"/doc/{viewer.archive().resolve(ref)}", status_code=303)


# -- one document ----------------------------------------------------------------------------
def document(viewer: Viewer, request: Request) -> Page | Response:
    """A document: its versions as a timeline, translations, URLs over time, removal evidence."""
    archive = viewer.archive()
    ref = _doc_ref(request)
    doc_id = archive.resolve(ref)
    if doc_id != ref:
        suffix = ".json" if request.path_params["doc_id"].endswith(".json") else ""
        return RedirectResponse(f"/doc/{doc_id}{suffix}", status_code=301)
    summary = get_documents(archive.conn, [doc_id])[doc_id]
    versions = archive.versions(doc_id)
    translations = archive.translations(doc_id)
    others = get_documents(archive.conn, translations.values())
    urls = url_history(archive.conn, doc_id)
    latest = archive.get(doc_id) if summary.status == "removed" else None
    timeline = [v.to_json() for v in versions]
    for item in timeline:
        cause = _cause(archive, doc_id, item)
        if cause:
            item["cause"] = cause
    data = {"document": summary.to_json(), "translations": translations, "versions": timeline,
            "urls": [u.to_json() for u in urls], "removal": latest.removal if latest else None}
    context = {"doc": summary, "timeline": list(reversed(timeline)), "translations": translations,
               "others": others, "urls": urls, "removal": data["removal"], "title": summary.title or doc_id,
               "removed_at": latest.fetched_at if latest else None}
    return Page("document.html", data, context)


def _cause(archive: Any, doc_id: str, item: dict[str, Any]) -> str | None:
    if "cause" in item:
        return item["cause"]
    if not CAUSE_IN_SNAPSHOTS:
        return None
    return getattr(archive.get(doc_id, item["version"]), "cause", None)


def _mementos(base: str, doc_id: str, versions: list[Any]) -> list[Memento]:
    return [Memento(f"{base}/doc/{doc_id}/v{v.version}", v.fetched_at) for v in versions]


def _memento_urls(base: str, original: str) -> tuple[str, str]:
    return f"{base}/timegate/{original}", f"{base}/timemap/link/{original}"


def version(viewer: Viewer, request: Request) -> Page:
    """One version at its citable address: text, metadata, provenance, citation, raw page."""
    archive = viewer.archive()
    doc_id, number = _doc_ref(request), request.path_params["version"]
    versions = archive.versions(doc_id)
    if not 1 <= number <= len(versions):
        raise UnknownVersion(f"{doc_id} has versions 1–{len(versions)}; there is no version {number}")
    snapshot = archive.get(doc_id, number)
    data = snapshot.to_json()
    summary = get_documents(archive.conn, [doc_id])[doc_id]
    base = viewer.base_url(request)
    address = f"{base}/doc/{doc_id}/v{number}"
    mementos = _mementos(base, doc_id, versions)
    timegate, timemap_url = _memento_urls(base, summary.url)
    headers = {
        "memento-datetime": http_date(snapshot.fetched_at),
        "link": link_header(memento_links(summary.url, timegate, timemap_url, mementos, mementos[number - 1])),
    }
    context = {"snap": snapshot, "doc": summary, "versions": versions, "total": len(versions), "address": address,
               "plain_citation": plain_citation(data, address), "bibtex": bibtex_citation(data, address),
               "translations": archive.translations(doc_id), "timemap": timemap_url,
               "cause": getattr(snapshot, "cause", None), "title": f"{snapshot.title or doc_id} (v{number})",
               "paragraphs": [p for p in snapshot.text.split("\n") if p.strip()]}
    return Page("version.html", data, context, headers=headers)


def raw_page(viewer: Viewer, request: Request) -> Response:
    """The page exactly as fetched, for a sandboxed frame: no scripts, no requests anywhere."""
    archive = viewer.archive()
    doc_id, number = _doc_ref(request), request.path_params["version"]
    snapshot = archive.get(doc_id, number)
    if snapshot.raw is None:
        raise UnknownVersion(f"{doc_id} v{number} has no raw page (a removal records none)")
    try:
        body = archive.raw_body(doc_id, number)
    except FileNotFoundError:
        raise UnknownVersion(f"{doc_id} v{number}: its raw page file is missing (`kisi-archive verify`)") from None
    # A <meta http-equiv="refresh"> would navigate the frame to the site: disarm it.
    body = _META_REFRESH.sub(b'http-equiv="x-disabled-refresh"', body)
    content_type = snapshot.raw.content_type or "text/html"
    if not content_type.startswith(("text/html", "application/xhtml")):
        content_type = "text/plain; charset=utf-8"
    return Response(body, media_type=None, headers={
        "content-type": content_type, "content-security-policy": RAW_CSP, "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer", "cache-control": "public, max-age=31536000, immutable",
        "cross-origin-resource-policy": "same-origin"})


# -- diff ------------------------------------------------------------------------------------
def diff(viewer: Viewer, request: Request) -> Page:
    """Two versions of a document, or two languages of one post: fields, then the text word by word."""
    from storage.diff import diff_snapshots

    from .diffview import hunk_views

    archive = viewer.archive()
    doc_id = archive.resolve(_doc_ref(request))
    count = len(archive.versions(doc_id))
    other_ref = request.query_params.get("with", "").strip()
    context_lines = _int(request, "context", 3, 0, 100000)
    view = request.query_params.get("view") or "side"
    if view not in ("side", "inline"):
        raise BadQuery(f"view={view!r}: choose side or inline")
    from_given, to_given = request.query_params.get("from"), request.query_params.get("to")
    other = archive.resolve(other_ref) if other_ref else doc_id
    other_count = len(archive.versions(other)) if other != doc_id else count
    base_context: dict[str, Any] = {"doc_id": doc_id, "other": other if other != doc_id else None, "count": count,
                                    "other_count": other_count, "view": view, "context_lines": context_lines,
                                    "translations": archive.translations(doc_id)}
    if other == doc_id and count == 1 and not from_given and not to_given:
        message = f"{doc_id} has only one version: nothing to compare yet."
        data = {"doc_id": doc_id, "versions": 1, "from_version": None, "to_version": 1, "identical": True,
                "message": message, "changed_fields": [], "fields": [], "text": {"changed": False, "unified": "", "hunks": []}}
        return Page("diff.html", data, {**base_context, "message": message, "result": None, "title": "Compare"})
    if other != doc_id:
        old_number = _int(request, "from", count, 1, count)
        new_number = _int(request, "to", other_count, 1, other_count)
    else:
        new_number = _int(request, "to", count, 1, count)
        old_number = _int(request, "from", max(new_number - 1, 1), 1, count)
    old, new = archive.get(doc_id, old_number), archive.get(other, new_number)
    result = diff_snapshots(old.to_json(), new.to_json(), context=context_lines)
    data = {**result.to_json(), "versions": count}
    if other != doc_id:
        data.update(from_doc_id=doc_id, to_doc_id=other)
    context = {**base_context, "result": result, "hunks": hunk_views(result.hunks), "old": old, "new": new,
               "removal": new.removal if result.to_kind == "tombstone" else None, "message": None,
               "title": f"Compare {doc_id} v{old_number} → {other} v{new_number}"}
    return Page("diff.html", data, context)


# -- changes and the feed --------------------------------------------------------------------
def _change_query(request: Request) -> tuple[Filters, tuple[str, ...], int]:
    kinds = tuple(k.strip() for k in request.query_params.getlist("kind") if k.strip())
    return _filters(request), kinds, _int(request, "limit", 50, 1, 500)


def changes(viewer: Viewer, request: Request) -> Page:
    """The newest changes (the feed as a page): new, edited, removed and restored posts."""
    filters, kinds, limit = _change_query(request)
    found = recent_changes(viewer.archive().conn, filters, kinds=kinds, limit=limit)
    data = {"filters": filters.to_json(), "kinds": list(kinds), "changes": [c.to_json() for c in found]}
    return Page("changes.html", data, {"changes": found, "filters": filters, "kinds": kinds, "all_kinds": CHANGE_KINDS.values(),
                                       "limit": limit, "title": "Changes"})


def changes_feed(viewer: Viewer, request: Request) -> Response:
    """/changes.atom: the same changes as an Atom feed, for feed readers."""
    from .. import __version__

    filters, kinds, limit = _change_query(request)
    found = recent_changes(viewer.archive().conn, filters, kinds=kinds, limit=limit)
    base = viewer.base_url(request)
    label = " · ".join([*filters.languages, *filters.categories, *kinds])
    body = render_feed(found, feed_id="urn:kisi-archive:changes" + (f"?{request.url.query}" if request.url.query else ""),
                       title="kisi-archive: changes" + (f" ({label})" if label else ""),
                       self_url=f"{base}{request.url.path}" + (f"?{request.url.query}" if request.url.query else ""),
                       base_url=base, generator_version=__version__)
    return Response(body, media_type=ATOM_TYPE + "; charset=utf-8")


# -- Memento ---------------------------------------------------------------------------------
def _original(request: Request, prefix: str) -> str:
    """The URI-R of a /timegate/… or /timemap/link/… request, exactly as sent (escapes kept,
    the query string included: /timegate/https://kisi.kz/?p=2368)."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    path = raw.decode("latin-1").split("?", 1)[0]
    original = path[len(prefix):] if path.startswith(prefix) else request.path_params["original"]
    if re.match(r"https?%3A", original, re.IGNORECASE):  # the whole URL percent-encoded
        original = unquote(original)
    original = re.sub(r"^(https?:)/(?!/)", r"\1//", original)  # a proxy merged the slashes
    query = request.scope.get("query_string", b"").decode("latin-1")
    return original + (f"?{query}" if query else "")


def timegate(viewer: Viewer, request: Request) -> Response:
    """RFC 7089 TimeGate: 302 to the version current at Accept-Datetime (the latest without it)."""
    archive = viewer.archive()
    original = _original(request, "/timegate/")
    vary = {"vary": "accept-datetime"}
    try:
        doc_id = archive.resolve(original)
    except UnknownDocument as exc:
        return PlainTextResponse(f"{exc}\n", status_code=404, headers=vary)
    accept = request.headers.get("accept-datetime")
    try:
        instant = parse_accept_datetime(accept) if accept is not None else None
    except ValueError as exc:
        return PlainTextResponse(f"{exc}\n", status_code=400, headers=vary)
    number = version_at(archive.conn, doc_id, instant)
    base = viewer.base_url(request)
    summary = get_documents(archive.conn, [doc_id])[doc_id]
    mementos = _mementos(base, doc_id, archive.versions(doc_id))
    gate, timemap_url = _memento_urls(base, summary.url)
    links = [link for link in memento_links(summary.url, gate, timemap_url, mementos) if link.rel != "timegate"]
    return Response(b"", status_code=302, headers={
        **vary, "location": f"{base}/doc/{doc_id}/v{number}", "link": link_header(links)}, media_type="text/plain")


def timemap(viewer: Viewer, request: Request) -> Response:
    """RFC 7089 TimeMap (application/link-format): every version of the post."""
    archive = viewer.archive()
    original = _original(request, "/timemap/link/")
    try:
        doc_id = archive.resolve(original)
    except UnknownDocument as exc:
        return PlainTextResponse(f"{exc}\n", status_code=404)
    base = viewer.base_url(request)
    summary = get_documents(archive.conn, [doc_id])[doc_id]
    gate, self_url = _memento_urls(base, summary.url)
    body = render_timemap(summary.url, self_url, gate, _mementos(base, doc_id, archive.versions(doc_id)))
    return Response(body, media_type=LINK_FORMAT)


# -- operations ------------------------------------------------------------------------------
def healthz(viewer: Viewer, request: Request) -> Response:
    """200 while the last successful run is younger than stale_after, else 503; ages in JSON."""
    from .app import PrettyJSON
    from .ops import health

    healthy, report = health(viewer.runs.runs(), datetime.now(timezone.utc), viewer.stale_after)
    return PrettyJSON(report, status_code=200 if healthy else 503, headers={"cache-control": "no-store"})


def metrics(viewer: Viewer, request: Request) -> Response:
    """Prometheus text format: runs by outcome, documents and versions by language, removals,
    last success, responses by status of the last run."""
    from .ops import metrics_text

    conn = viewer.archive().conn
    body, content_type = metrics_text(viewer.runs.runs(), by_language(conn), version_kinds(conn))
    return Response(body, headers={"content-type": content_type, "cache-control": "no-store"})
