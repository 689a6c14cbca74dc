"""URL identity for the archive: canonical keys, WordPress shortlink ids, site keys.

Standard library only: the storage package must not depend on Scrapy, lxml or w3lib.

A post of a WordPress site is reached by many spellings of the same address: http or https,
with or without ``www.``, upper- or lower-case percent-escapes of a Cyrillic slug (or the raw
characters), with or without the trailing slash, with campaign parameters appended by whoever
shared the link. ``normalize_url`` folds those spellings into one key so the archive recognises
them as one post. The key is only ever compared, never fetched: it may not be a URL the server
would answer (the scheme is always ``https``, for instance).
"""
from __future__ import annotations

import functools
import re
import string
from urllib.parse import unquote, urlsplit

__all__ = ["TRACKING_PARAMS", "normalize_url", "shortlink_post_id", "site_key"]

# RFC 3986 "unreserved": the only characters whose escaped and raw forms are equivalent
# everywhere, so the only ones an escape may be decoded to.
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
# Characters that may stand raw in a path or a query (unreserved, sub-delims, ":@/?"), so they
# must be left as they are: escaping or unescaping any of them can change what the URL means.
_ALLOWED_RAW = _UNRESERVED | frozenset("!$&'()*+,;=:@/?")
_HEX = frozenset(string.hexdigits)

# Parameters added by link shorteners, ad networks and newsletters. They never select content on
# a WordPress site, yet a shared link carrying them would otherwise look like a different post.
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
    "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "li_fat_id",
})
_TRACKING_PREFIXES = ("utm_",)

# Ports every client fills in by itself. Both are dropped whatever the scheme: the key folds http
# into https, so keeping ":443" on an http URL would make the key of a key differ from the key.
_DEFAULT_PORTS = frozenset({80, 443})

_POST_ID = re.compile(r"[0-9]+")


# A crawl asks for the key of the same URL some thirty times (each source that names a post,
# the frontier's checks, the conditional-request cache), at 10-50 microseconds a time (more
# for an escaped Cyrillic slug): the recent keys are kept. The function is pure, and a few
# thousand keys are a megabyte or two.
@functools.lru_cache(maxsize=4096)
def normalize_url(url: str) -> str:
    """Canonical key of ``url``: two URLs of the same post give the same string.

    - scheme and host lower-case, ``http`` folded into ``https``, a leading ``www.`` and a
      trailing dot of the host dropped, ports 80 and 443 dropped (others kept), user info dropped;
    - percent-escapes normalised: escapes of unreserved characters decoded, every other escape in
      upper-case hex, raw non-ASCII characters UTF-8 encoded, so ``%d0%b0``, ``%D0%B0`` and ``а``
      agree;
    - ``.``/``..`` path segments resolved, trailing slashes removed (the root stays ``/``), an
      empty path becomes ``/``;
    - query parameters sorted, empty ones and tracking ones (``utm_*``, ``fbclid``, ``gclid`` …)
      dropped; the others are kept because some of them (``p``, ``page_id``) select the post;
    - fragment dropped.

    Never raises: the archive keys whatever URLs it was given. A URL without a host (relative, or
    empty) is normalised as far as it goes, so it still compares equal to its own spellings.

    >>> normalize_url("HTTP://www.Kisi.kz:80/en/%d0%b0/?utm_source=x#top")
    'https://kisi.kz/en/%D0%B0'
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        # urlsplit rejects only malformed IPv6 brackets; keep such a URL comparable to itself.
        return _normalize_escapes(url)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https") or (not scheme and parts.netloc):
        # Scheme-relative links ("//kisi.kz/x") are web links too.
        scheme = "https"
    netloc = _normalized_netloc(parts.netloc)
    path = _normalize_path(parts.path, absolute=bool(netloc))
    query = _normalize_query(parts.query)
    out = f"{scheme}:" if scheme else ""
    if netloc or scheme == "https":
        out += f"//{netloc}"
    out += path
    if query:
        out += f"?{query}"
    return out


def shortlink_post_id(url: str) -> int | None:
    """WordPress post id carried by ``url`` as ``?p=ID`` (or ``?page_id=ID``), else None.

    WordPress resolves the ``p`` query variable on any path (``/?p=2368``, ``/en/?p=2368``), and
    uses the same form for feed guids, so the path is not checked. ``p`` wins over ``page_id``.

    >>> shortlink_post_id("https://kisi.kz/?p=2368")
    2368
    """
    try:
        query = urlsplit(url.strip()).query
    except ValueError:
        return None
    values: dict[str, str] = {}
    for piece in query.split("&"):
        key, _, value = piece.partition("=")
        # The first occurrence wins, so parameters appended later (by a redirect, a share
        # button) cannot change the id.
        values.setdefault(unquote(key).strip().lower(), unquote(value).strip())
    for key in ("p", "page_id"):
        value = values.get(key, "")
        if _POST_ID.fullmatch(value) and int(value) > 0:
            return int(value)
    return None


def site_key(url: str) -> str:
    """Host of ``url`` in lower case, without port, trailing dot or leading ``www.``.

    Used in document ids, so ``https://www.kisi.kz:8443/x`` and ``http://kisi.kz/`` share one.
    Raises ValueError for a URL without a host: an id must never be built from nothing.

    >>> site_key("https://www.KISI.kz:8443/en/")
    'kisi.kz'
    """
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError as exc:
        raise ValueError(f"cannot read the host of URL {url!r}: {exc}") from None
    if not host:
        raise ValueError(f"URL {url!r} has no host")
    return _normalize_host(host)


def _normalized_netloc(netloc: str) -> str:
    """``host[:port]`` of a netloc, user info dropped, default ports dropped."""
    if not netloc:
        return ""
    hostport = netloc.rpartition("@")[2]
    if hostport.startswith("["):
        # IPv6 literal: the port, if any, follows the closing bracket.
        host, _, rest = hostport[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
        host = f"[{host.lower()}]"
    else:
        host, _, port = hostport.partition(":")
        host = _normalize_host(host)
    port = port.strip()
    if port.isdigit() and int(port) in _DEFAULT_PORTS:
        port = ""
    elif port.isdigit():
        port = str(int(port))  # ":08080" and ":8080" are the same port
    # A non-numeric port is kept verbatim: the URL is broken, but its key should still be stable.
    return f"{host}:{port}" if port else host


def _normalize_host(host: str) -> str:
    host = unquote(host).lower().rstrip(".")
    if not host.isascii():
        # An internationalised host and its punycode form name the same server.
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            pass
    if host.startswith("www."):
        host = host[4:]
    return host


def _normalize_path(path: str, *, absolute: bool) -> str:
    path = _remove_dot_segments(_normalize_escapes(path))
    stripped = path.rstrip("/")
    if stripped:
        return stripped
    # Root (or nothing) of an absolute URL is "/"; a relative URL with no path stays empty.
    return "/" if absolute or path else ""


def _normalize_query(query: str) -> str:
    params: list[tuple[str, str]] = []
    for piece in query.split("&"):
        if not piece:
            continue
        key, eq, value = piece.partition("=")
        key = _normalize_escapes(key)
        name = unquote(key).lower()
        if name in TRACKING_PARAMS or name.startswith(_TRACKING_PREFIXES):
            continue
        params.append((key, eq + _normalize_escapes(value)))
    return "&".join(key + rest for key, rest in sorted(params))


def _normalize_escapes(text: str) -> str:
    """Decode escapes of unreserved characters, upper-case the others, escape what must be."""
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char == "%" and i + 2 < n and text[i + 1] in _HEX and text[i + 2] in _HEX:
            decoded = chr(int(text[i + 1:i + 3], 16))
            out.append(decoded if decoded in _UNRESERVED else "%" + text[i + 1:i + 3].upper())
            i += 3
            continue
        if char in _ALLOWED_RAW:
            out.append(char)
        else:
            # Raw non-ASCII, spaces, quotes, a lone "%": escape the UTF-8 bytes, as a browser does.
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
        i += 1
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4: "/a/./b/../c" is "/a/c"."""
    if "." not in path:
        return path
    output: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if len(output) > 1 or (output and output[0] != ""):
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    result = "/".join(output)
    if path.startswith("/") and not result.startswith("/"):
        result = "/" + result
    return result
