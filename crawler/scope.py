"""The run's scope: the one allow-list of hosts a crawl may ask anything of.

Pure: no Scrapy, no I/O. The hosts are those of the configuration's seed and pinned
sections, with or without `www.`, and their subdomains; a seed on a subdomain
(en.example.org) also brings its parent domain (example.org) and the parent's subdomains:
Polylang can set the language from the subdomain, with the default language on the parent
domain. Plus, for attachments only, the hosts the configuration names, and the CDN host a
post's own page loads WordPress's files from (`/wp-content/`, `/wp-includes/`), granted to
that post's attachment fetches alone (a redirect from there to a third host is refused). Nothing else is fetched, stored or made an address of a document, whatever
a page, a feed, a sitemap, the REST API or a redirect names: the frontier asks `allows`
before it orders a fetch or keeps a URL, and crawler.middlewares.ScopeMiddleware enforces it
on every request and every redirect hop (Scrapy's own OffsiteMiddleware never looks at our
requests: they are all `dont_filter`).

The port is no part of a host here, as it is no part of a document's site key
(storage.urls.site_key).
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Iterable
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList

SCHEMES = ("http", "https")


def bare_host(host: str) -> str:
    """A host name as the scope compares it: lower case, without a leading `www.` or a
    trailing dot."""
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def host_of(url: str) -> str:
    try:
        return bare_host(urlsplit(url).hostname or "")
    except ValueError:  # an invalid port or IPv6 literal
        return ""


# The Public Suffix List (bundled with the package, no network): under which names anyone
# can register a domain (co.uk, github.io). "Two labels or more" would have taken a seed on
# foo.co.uk for the whole of co.uk.
_SUFFIXES = PublicSuffixList()


def family(host: str) -> str:
    """The domain whose subdomains count as one site with `host`: the registrable domain
    (en.example.org → example.org, a.foo.co.uk → foo.co.uk), or the host itself when it
    has none (an IP address, localhost, a public suffix)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return host
    except ValueError:
        pass
    return _SUFFIXES.privatesuffix(host) or host


@dataclass(frozen=True)
class Scope:
    hosts: frozenset[str]  # the site's own
    attachment_hosts: frozenset[str] = frozenset()  # … and, for attachments only, these

    @classmethod
    def of(cls, urls: Iterable[str], attachment_hosts: Iterable[str] = ()) -> Scope:
        """The scope of a crawl of these URLs (the seed's and the sections')."""
        return cls(frozenset(family(h) for u in urls if (h := host_of(u))),
                   frozenset(h for a in attachment_hosts if (h := bare_host(a.strip()))))

    def _within(self, host: str, hosts: frozenset[str]) -> bool:
        return host in hosts or any(host.endswith("." + own) for own in hosts)

    def allows(self, url: str, *, attachment: bool = False, granted: Iterable[str] = ()) -> bool:
        """Whether a request for `url` stays within the run's hosts. `granted`: hosts this
        one attachment may also come from (the CDN its post's page loads the site's own
        files from, crawler/attachments.py)."""
        try:
            scheme = urlsplit(url).scheme.lower()
        except ValueError:
            return False
        host = host_of(url)
        if scheme not in SCHEMES or not host:
            return False
        if self._within(host, self.hosts):
            return True
        return attachment and (self._within(host, self.attachment_hosts) or host in {bare_host(g) for g in granted})

    def why_not(self, url: str, *, attachment: bool = False, granted: Iterable[str] = ()) -> str | None:
        """None when `url` is in scope, else why not, in words (for one sentence of the log)."""
        if self.allows(url, attachment=attachment, granted=granted):
            return None
        scheme = urlsplit(url).scheme.lower() if "://" in url or ":" in url else ""
        if scheme and scheme not in SCHEMES:
            return f"with the scheme {scheme}:, not http(s)"
        host = host_of(url)
        if not host:
            return "without a host"
        return f"on another host ({host}), not the site's ({', '.join(sorted(self.hosts))})"

    def keep(self, url: str | None) -> str | None:
        """`url` when it is in scope, else None: for addresses a page claims (canonical,
        shortlink) that must never become another host's alias of a document."""
        return url if url and self.allows(url) else None


__all__ = ["Scope", "bare_host", "host_of"]
