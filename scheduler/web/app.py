"""The viewer's Starlette application: routes, content negotiation, errors, security headers.

Every page handler (scheduler/web/pages.py) returns a `Page`: the JSON twin's data (the
same fields as the CLI's --json) and what the HTML template needs. `respond` picks one:
JSON for a path ending in `.json` or a request that prefers `application/json`, HTML
otherwise. Handlers are plain functions: Starlette runs them in its thread pool, each
thread with its own read-only archive (reader.py).
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from storage import IndexNotReady, StorageError, UnknownDocument, UnknownVersion
from storage.query import MARK_END, MARK_START, BadQuery

from .. import __version__
from .ops import RunCache
from .reader import Reader

logger = logging.getLogger(__name__)

# The viewer's own pages: scripts, styles and frames from itself only. Raw archived pages
# get a stricter policy of their own (pages.raw_page).
PAGE_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-src 'self'; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'")
SECURITY_HEADERS = {
    "content-security-policy": PAGE_CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "SAMEORIGIN",
}
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "kk": "Қазақша", None: "unknown"}


@dataclass
class Page:
    template: str
    data: Any  # the JSON twin
    context: dict[str, Any] = field(default_factory=dict)
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


class Viewer:
    """What every handler shares: the archive reader, templates, settings."""

    def __init__(self, root: Path, *, public_url: str = "", stale_after: str = "2d") -> None:
        self.root = Path(root)
        self.reader = Reader(self.root)
        self.public_url = public_url.rstrip("/")
        self.stale_after = stale_after
        self.runs = RunCache(self.root)
        self.env = Environment(loader=PackageLoader("scheduler.web", "templates"),
                               autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
        self.env.filters.update(when=when, day=day, marks=marks, language=language_name)
        self.env.globals.update(version=__version__, qs=query_string)

    def archive(self) -> Any:
        return self.reader.archive()

    def base_url(self, request: Request) -> str:
        """The viewer's address for links that leave the page (citations, feeds, Memento)."""
        return self.public_url or str(request.base_url).rstrip("/")

    def render(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(**context)


# -- template filters ----------------------------------------------------------------------
def when(value: str | None) -> str:
    """An ISO 8601 instant as '2026-11-28 13:00 UTC' (as stored: UTC)."""
    if not value:
        return "–"
    text = value.replace("T", " ")
    if text.endswith("+00:00"):
        return text[:16] + " UTC"
    return text[:16] + " " + text[19:] if len(text) > 19 else text


def day(value: str | None) -> str:
    return (value or "")[:10] or "–"


def marks(snippet: str) -> Markup:
    """A search snippet with its matches in <mark>, everything else escaped."""
    return Markup(str(escape(snippet)).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))


def language_name(code: str | None) -> str:
    return LANGUAGE_NAMES.get(code, code or "unknown")


def query_string(params: Any, **changes: Any) -> str:
    """'?…' from a request's query parameters with some replaced (None removes, a list repeats)."""
    items = [(k, v) for k, v in params.multi_items() if k not in changes]
    for key, value in changes.items():
        if value is None or value is False or value == "":
            continue
        if isinstance(value, (list, tuple)):
            items.extend((key, str(v)) for v in value)
        else:
            items.append((key, "1" if value is True else str(value)))
    return "?" + urlencode(items) if items else "?"


# -- responses -----------------------------------------------------------------------------
def wants_json(request: Request) -> bool:
    if request.url.path.endswith(".json"):
        return True
    accept = request.headers.get("accept", "")
    if "application/json" not in accept:
        return False
    # JSON unless HTML is asked for at least as much (a browser's Accept lists text/html first).
    first = accept.split(",")[0].strip().split(";")[0]
    return first == "application/json" or "text/html" not in accept


class PrettyJSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return (json.dumps(content, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def respond(viewer: Viewer, request: Request, page: Page) -> Response:
    headers = {"vary": "Accept", **page.headers}
    if wants_json(request):
        return PrettyJSON(page.data, status_code=page.status, headers=headers)
    html = viewer.render(page.template, request=request, data=page.data, base=viewer.base_url(request), **page.context)
    return HTMLResponse(html, status_code=page.status, headers=headers)


def error_page(viewer: Viewer, request: Request, status: int, message: str, title: str) -> Response:
    page = Page("error.html", {"error": message, "status": status}, {"title": title, "message": message}, status)
    return respond(viewer, request, page)


def handler(viewer: Viewer, func: Callable[[Viewer, Request], Page | Response]) -> Callable[[Request], Response]:
    """A Starlette endpoint (run in the thread pool) from a page function; storage errors
    become 400/404/503 pages with one sentence, never a traceback."""

    def endpoint(request: Request) -> Response:
        try:
            result = func(viewer, request)
        except (UnknownDocument, UnknownVersion) as exc:
            return error_page(viewer, request, 404, str(exc), "Not in the archive")
        except BadQuery as exc:
            return error_page(viewer, request, 400, str(exc), "Bad request")
        except IndexNotReady as exc:
            return error_page(viewer, request, 503, str(exc), "The archive's index is not ready")
        except StorageError as exc:
            logger.error("%s: %s", request.url.path, exc)
            return error_page(viewer, request, 500, str(exc), "The archive could not be read")
        return result if isinstance(result, Response) else respond(viewer, request, result)

    endpoint.__name__ = func.__name__
    return endpoint


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items() if k.encode() not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ServerTiming:
    """Adds `Server-Timing: app;dur=<ms>` (the time until the response started) to every
    response: shown by a browser's developer tools, read by bench/bench_web.py."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def send_with_timing(message: Message) -> None:
            if message["type"] == "http.response.start":
                duration = (time.perf_counter() - started) * 1000
                message["headers"] = [*message.get("headers", []), (b"server-timing", f"app;dur={duration:.1f}".encode())]
            await send(message)

        await self.app(scope, receive, send_with_timing)


def create_app(root: str | Path, *, public_url: str = "", stale_after: str = "2d") -> Starlette:
    """The viewer of the archive at `root`, read-only.

    Example: ``uvicorn.run(create_app("archive"), host="127.0.0.1", port=8000)``
    """
    from . import pages

    viewer = Viewer(Path(root), public_url=public_url, stale_after=stale_after)

    def route(path: str, func: Callable[[Viewer, Request], Page | Response], **kw: Any) -> Route:
        return Route(path, handler(viewer, func), **kw)

    routes = [
        route("/", pages.documents), route("/documents", pages.documents), route("/documents.json", pages.documents),
        route("/search", pages.search), route("/search.json", pages.search),
        route("/changes", pages.changes), route("/changes.json", pages.changes),
        route("/changes.atom", pages.changes_feed),
        route("/go", pages.go),
        route("/doc/{doc_id}", pages.document),
        route("/doc/{doc_id}/v{version:int}", pages.version), route("/doc/{doc_id}/v{version:int}.json", pages.version),
        route("/doc/{doc_id}/v{version:int}/raw", pages.raw_page),
        route("/doc/{doc_id}/diff", pages.diff), route("/doc/{doc_id}/diff.json", pages.diff),
        route("/timegate/{original:path}", pages.timegate),
        route("/timemap/link/{original:path}", pages.timemap),
        route("/healthz", pages.healthz),
        route("/metrics", pages.metrics),
        Mount("/static", StaticFiles(packages=[("scheduler.web", "static")]), name="static"),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(ServerTiming)
    app.state.viewer = viewer
    return app
