"""The links and images of a post's own content, and the hosts its page loads its own assets
from: the raw material crawler.attachments decides attachments from.

Read from the tree extract.py has already parsed and scoped to the post's container (noise
pruned), so a widget's, a sidebar's or a comment's links are never among them. Cost,
measured on the golden pages: 0.4–0.6 ms of the 8 ms an extraction takes (docs/performance.md).
Reading them in crawler/attachments.py instead would cost a second parse (0.14 ms there,
more on larger pages) and, above all, finding the post's container and its noise again,
with a second copy of those rules. Nothing is decided here: every <a href> and every <img>
(its src, its srcset candidates, its classes such as WordPress's `wp-image-N`) is listed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import etree
from lxml.html import HtmlElement

from .extract_meta import absolute_url

_LINKS = etree.XPath(".//a[@href] | .//img")
_HEAD_ASSETS = etree.XPath("//head/link[@href]/@href | //head/script[@src]/@src | //link[@rel='stylesheet']/@href")
# The paths only a WordPress site's own theme, core and media library are served under.
_OWN_ASSET = re.compile(r"/wp-(?:content|includes)/")
_SRCSET_ITEM = re.compile(r"\s*(\S+)(?:\s+(\d+(?:\.\d+)?)([wx]))?\s*(?:,|$)")
_MAX_LINKS = 500  # a page with more is a listing, not a post


@dataclass(frozen=True)
class ContentLink:
    """One <a href> or <img> of the post's content, URLs absolute."""

    tag: str  # "a" or "img"
    url: str  # href, or the image's src
    text: str = ""  # the link's text, or the image's alt
    srcset: tuple[tuple[str, int], ...] = ()  # (URL, width) of each srcset candidate (x descriptors: 0)
    classes: str = ""


def _srcset(value: str | None, base: str) -> tuple[tuple[str, int], ...]:
    out = []
    for match in _SRCSET_ITEM.finditer(value or ""):
        url = absolute_url(base, match.group(1))
        if url:
            width = int(float(match.group(2))) if match.group(3) == "w" else 0
            out.append((url, width))
    return tuple(out)


def content_links(container: HtmlElement | None, base: str) -> tuple[ContentLink, ...]:
    """Every link and image of the post's container, in page order."""
    if container is None:
        return ()
    found: list[ContentLink] = []
    for element in _LINKS(container):
        if len(found) >= _MAX_LINKS:
            break
        if element.tag == "a":
            href = element.get("href") or ""
            if href.startswith(("#", "javascript:", "mailto:", "tel:")):
                continue
            url = absolute_url(base, href)
            if url:
                found.append(ContentLink("a", url, " ".join(element.text_content().split()), (),
                                         element.get("class") or ""))
            continue
        src = element.get("src") or element.get("data-src")
        url = absolute_url(base, src) if src else None
        srcset = _srcset(element.get("srcset") or element.get("data-srcset"), base)
        if url or srcset:
            found.append(ContentLink("img", url or srcset[-1][0], " ".join((element.get("alt") or "").split()), srcset,
                                     element.get("class") or ""))
    return tuple(found)


def asset_hosts(root: HtmlElement, base: str) -> tuple[str, ...]:
    """Hosts from which the page's <head> loads WordPress's own files (theme, core,
    uploads): the site itself, and a CDN serving its media, when it has one."""
    hosts = []
    for value in _HEAD_ASSETS(root):
        if "/wp-" not in value:
            continue  # most of a head: no URL to resolve
        url = absolute_url(base, str(value))
        if url and _OWN_ASSET.search(urlsplit(url).path):
            host = (urlsplit(url).hostname or "").lower()
            if host:
                hosts.append(host)
    return tuple(dict.fromkeys(hosts))
