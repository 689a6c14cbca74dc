"""The value every route returns, and the few ways WordPress shapes one."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

HTML_UTF8 = "text/html; charset=UTF-8"


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def html(status: int, text: str, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, [("Content-Type", HTML_UTF8), *(headers or [])], text.encode("utf-8"))


def redirect(location: str, status: int = 301, by: str = "WordPress") -> Response:
    # wp_redirect(): an absolute Location, an empty body and a signature header naming who
    # redirected ("WordPress" for core, "Polylang" for PLL_Canonical, "Yoast SEO").
    return Response(status, [("Content-Type", HTML_UTF8), ("Location", location), ("X-Redirect-By", by)], b"")


def wp_json(obj: Any) -> bytes:
    """wp_json_encode() defaults: ASCII-only with \\u escapes and escaped slashes."""
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode("ascii")


def json_response(status: int, obj: Any, headers: list[tuple[str, str]] | None = None) -> Response:
    base = [
        ("Content-Type", "application/json; charset=UTF-8"),
        ("X-Robots-Tag", "noindex"),
        ("X-Content-Type-Options", "nosniff"),
        ("Access-Control-Expose-Headers", "X-WP-Total, X-WP-TotalPages, Link"),
        ("Access-Control-Allow-Headers", "Authorization, X-WP-Nonce, Content-Disposition, Content-MD5, Content-Type"),
    ]
    return Response(status, base + list(headers or []), wp_json(obj))


def rest_error(status: int, code: str, message: str, **data: Any) -> Response:
    return json_response(status, {"code": code, "message": message, "data": {"status": status, **data}})


def xml(text: str, content_type: str) -> Response:
    return Response(200, [("Content-Type", f"{content_type}; charset=UTF-8")], text.encode("utf-8"))
