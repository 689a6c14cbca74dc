"""Finding the posts of a WordPress category: pure parsers of listings, feeds, sitemaps, REST.

Every function takes text or bytes already fetched and returns plain frozen dataclasses, so the
spider owns all I/O and these can be tested without a crawl. Nothing here imports Scrapy.

Malformed *structured* input (XML feeds and sitemaps, REST JSON) raises ``DiscoveryError``: the
spider should log which source failed and fall back to another. HTML never raises: browsers
render broken pages, lxml recovers them, and a page without articles is an empty ``Listing``.
"""
from __future__ import annotations

import gzip
import html as html_lib
import io
import itertools
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

from lxml import etree
from lxml import html as lxml_html
from w3lib.url import safe_url_string

from storage.urls import normalize_url, shortlink_post_id, site_key

from .extract_dom import has_class

__all__ = [
    "DiscoveryError", "FeedEntry", "Listing", "RestPost", "Sitemap", "SitemapEntry",
    "category_feed_url", "category_listing_url", "is_post_candidate", "parse_category_listing",
    "parse_feed", "parse_rest_category_id", "parse_rest_posts", "parse_sitemap", "to_utc_iso",
]

logger = logging.getLogger(__name__)


class DiscoveryError(ValueError):
    """A feed, sitemap or REST answer that cannot be read; the message names what was wrong."""


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Listing:
    post_urls: tuple[str, ...]  # absolute permalinks of the main loop's posts, page order, unique
    next_url: str | None  # the next (older) page of the listing, if the page links one


@dataclass(frozen=True)
class FeedEntry:
    url: str
    post_id: int | None
    published: str | None  # 'YYYY-MM-DDTHH:MM:SS+00:00'
    modified: str | None  # same form; RSS 2.0 from WordPress has none
    title: str | None
    categories: tuple[str, ...]


@dataclass(frozen=True)
class SitemapEntry:
    url: str
    lastmod: str | None  # normalised like feed dates; WordPress only sends it from 6.5


@dataclass(frozen=True)
class Sitemap:
    is_index: bool  # True: entries are sub-sitemaps; False: entries are pages
    entries: tuple[SitemapEntry, ...]
    listed: int = field(default=0, compare=False)  # entries the document holds, read or not (parse_sitemap's limit)


@dataclass(frozen=True)
class RestPost:
    id: int
    url: str
    slug: str
    date_gmt: str | None
    modified_gmt: str | None
    categories: tuple[int, ...]
    title: str | None
    language: str | None  # Polylang's "lang" or WPML's locale, primary subtag ("en")


# --------------------------------------------------------------------------- dates


def to_utc_iso(value: str | None) -> str | None:
    """An RFC 822 or ISO 8601 date as 'YYYY-MM-DDTHH:MM:SS+00:00'; None if absent or unreadable.

    A date without a zone is taken as UTC: that is what WordPress means by ``date_gmt`` and
    ``modified_gmt``, and what RFC 822's "-0000" says. Sub-second precision is dropped.

    >>> to_utc_iso("Tue, 05 Mar 2024 10:00:00 +0300")
    '2024-03-05T07:00:00+00:00'
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    parsed: datetime | None = None
    if text[:1].isdigit():
        # "Z" is accepted by fromisoformat from Python 3.11; the zone-less "T" form is REST's.
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            parsed = None
    if parsed is None:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            # A dateless or garbled value in one item must not cost the whole feed its entries.
            logger.debug("unreadable date %r", value)
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.astimezone(timezone.utc).replace(microsecond=0).isoformat()
    except (OverflowError, ValueError):  # e.g. year 9999 with a negative offset
        return None


# --------------------------------------------------------------------------- URLs


def category_listing_url(base_url: str, slug: str, page: int = 1, *, category_base: str = "category") -> str:
    """``base/category/slug/`` for page 1, ``base/category/slug/page/N/`` after.

    ``base_url`` is the site (or language) root, e.g. ``https://kisi.kz/en``; a trailing slash is
    optional. ``slug`` may be raw Cyrillic or already percent-encoded (it is never encoded twice),
    and may contain "/" for a child category (``parent/child``). ``category_base`` is the
    "Category base" of the site's permalink settings.
    """
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise ValueError(f"page must be an integer >= 1, not {page!r}")
    url = _category_url(base_url, slug, category_base)
    return url if page == 1 else f"{url}page/{page}/"


def category_feed_url(base_url: str, slug: str, *, category_base: str = "category") -> str:
    """``base/category/slug/feed/``: the category's RSS 2.0 feed (10 newest posts)."""
    return _category_url(base_url, slug, category_base) + "feed/"


def _category_url(base_url: str, slug: str, category_base: str) -> str:
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"base URL must be an absolute http(s) URL, not {base_url!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"base URL must not carry a query or fragment: {base_url!r}")
    slug = slug.strip().strip("/")
    category_base = category_base.strip().strip("/")
    if not slug:
        raise ValueError("category slug is empty")
    if not category_base:
        raise ValueError("category base is empty")
    # "%" is safe so an already-encoded slug (as WordPress stores Cyrillic ones) stays as it is.
    path = parts.path.rstrip("/") + "/" + quote(category_base, safe="/%") + "/" + quote(slug, safe="/%") + "/"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


# Path segments that start a non-post area when followed by something (/tag/x/, /category/x/).
_ARCHIVE_PREFIXES = frozenset({"tag", "category", "author"})
_WP_DIRS = frozenset({"wp-admin", "wp-content", "wp-includes", "wp-json"})
_NON_POST_LAST = frozenset({"feed", "embed", "trackback", "attachment"})
# Query variables that make WordPress show something other than one post.
_NON_POST_QUERY = frozenset({
    "attachment_id", "replytocom", "feed", "s", "cat", "tag", "author", "m", "paged", "year",
    "monthnum", "day", "preview",
})
_FILE_EXTENSIONS = frozenset({
    "jpg", "jpeg", "png", "gif", "webp", "svg", "bmp", "tif", "tiff", "ico", "avif", "heic",
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "rtf", "txt", "csv",
    "zip", "rar", "7z", "gz", "tar", "mp3", "mp4", "m4a", "wav", "ogg", "avi", "mov", "webm",
    "css", "js", "json", "xml", "xsl",
})
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:[-_][a-z]{2,4})?")
# A lone path segment is taken for a language's home page only from this list: a post may well
# have a two-letter slug ("/ai/"), and missing a post costs more than fetching a home page once.
_LANGUAGE_PREFIXES = frozenset({
    "en", "ru", "kk", "kz", "uz", "ky", "tg", "tk", "az", "hy", "ka", "uk", "be", "zh", "ja",
    "ko", "de", "fr", "es", "it", "pt", "pt-br", "pl", "tr", "ar", "fa", "he", "nl", "sv", "fi",
})
_YEAR = re.compile(r"(?:19|20)[0-9]{2}")
_MONTH_OR_DAY = re.compile(r"[0-3][0-9]")
_COMMENT_FRAGMENT = re.compile(r"comments?(?:-[0-9]+)?|respond|reply-title")


def is_post_candidate(url: str, site_base: str) -> bool:
    """Whether ``url`` may be a single post of the site at ``site_base``.

    Same site means the same host and explicit port, ignoring the scheme and a ``www.`` prefix
    (ports 80/443 count as no port). Rejected: wp-admin/wp-content/wp-json and other wp-* files,
    feeds, tag/category/author archives, ``/page/N/``, date archives (``/2024/``, ``/2024/03/``,
    ``/2024/03/05/``, also under a language prefix), attachments, uploads and other files by
    extension, comment links (``?replytocom=``, ``#comments``), search and other query-driven
    archives, the home page (of a language too) and ``site_base``'s own path (pass the site or
    language root, or the listing page being parsed). ``/?p=ID`` shortlinks are accepted. A
    relative ``url`` is resolved against ``site_base``. Never raises.
    """
    try:
        url = urljoin(site_base, url.strip())
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or _site_of(url) != _site_of(site_base):
            return False
    except ValueError:
        return False
    if _COMMENT_FRAGMENT.fullmatch(parts.fragment.lower()):
        return False
    query_keys = {unquote(piece.partition("=")[0]).lower() for piece in parts.query.split("&") if piece}
    if query_keys & _NON_POST_QUERY:
        return False
    segments = _path_segments(url)
    if segments[-1:] == ["index.php"]:
        segments.pop()  # "/index.php?p=5" is the front controller, as "/?p=5" is
    if not segments or segments == _path_segments(site_base) or (
        len(segments) == 1 and segments[0] in _LANGUAGE_PREFIXES
    ):
        # The home page (or a language's home) is a listing; only a shortlink there is a post.
        return shortlink_post_id(url) is not None
    last = segments[-1]
    if last in _NON_POST_LAST or _WP_DIRS & set(segments) or "attachment" in segments:
        return False
    if last.endswith(".php") or (last.startswith("wp-") and "." in last):
        return False  # wp-login.php, xmlrpc.php, wp-sitemap.xml …; "index.php" was popped above
    if "." in last and last.rsplit(".", 1)[1] in _FILE_EXTENSIONS:
        return False
    if "feed" in segments:
        return False
    for here, after in zip(segments, segments[1:]):
        if here in _ARCHIVE_PREFIXES:
            return False
        if here == "page" and after.isdigit():
            return False
    return not _is_date_archive(segments)


def _path_segments(url: str) -> list[str]:
    return [unquote(s).lower() for s in urlsplit(url.strip()).path.split("/") if s]


def _is_date_archive(segments: list[str]) -> bool:
    # Any language-looking prefix may precede a date archive: a year cannot be mistaken for one.
    if _LANGUAGE.fullmatch(segments[0]) and len(segments) > 1:
        segments = segments[1:]
    if not 1 <= len(segments) <= 3 or not _YEAR.fullmatch(segments[0]):
        return False
    return all(_MONTH_OR_DAY.fullmatch(s) for s in segments[1:])


def _site_of(url: str) -> tuple[str, int | None]:
    """(host without www, explicit non-default port): "same site" regardless of the scheme."""
    port = urlsplit(url.strip()).port
    return site_key(url), None if port in (None, 80, 443) else port


def _absolute_link(href: str, base: str) -> str | None:
    """``href`` resolved against ``base``, fragment dropped, safe to request; None if unusable."""
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    try:
        url = urljoin(base, href)
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    # Raw Cyrillic (or spaces) in an href becomes UTF-8 escapes; existing escapes are kept.
    return safe_url_string(urlunsplit(parts._replace(fragment="")), encoding="utf-8")


# --------------------------------------------------------------------------- category listings


def _has_class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def _has_rel(name: str) -> str:
    lowered = "translate(@rel, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
    return f"contains(concat(' ', normalize-space({lowered}), ' '), ' {name} ')"


# The main loop's items: classic themes print <article class="post-12 post type-post … hentry">,
# block themes <li class="wp-block-post post-12 post type-post … hentry">, custom post types have
# "hentry" but not "post".
# Both are found in one pass over the elements in Python, class tokens tested against sets:
# as XPath (a class token test is concat + normalize-space on every element) they cost 8 of
# a listing page's 12 ms.
_CANDIDATE_CLASSES = frozenset({"post", "hentry", "type-post"})
# Where themes put the main loop (twentyten … twentytwentyfive, Astra, GeneratePress, …).
_CONTAINER_IDS = frozenset({"content", "primary", "main"})
_CONTAINER_CLASSES = frozenset({"site-main", "content-area"})


def _candidates(root: Any) -> list[Any]:
    """Elements that may be the main loop's items, in document order."""
    return [e for e in root.iter() if e.tag == "article" or has_class(e, _CANDIDATE_CLASSES)]


def _has_container(root: Any) -> bool:
    return any(e.tag == "main" or e.get("role") == "main" or e.get("id") in _CONTAINER_IDS
               or has_class(e, _CONTAINER_CLASSES) for e in root.iter())


_TITLE_LINK = etree.XPath(
    f".//*[{_has_class('entry-title')} or {_has_class('post-title')} or {_has_class('wp-block-post-title')}]"
    "/descendant-or-self::a[@href]"
)
_BOOKMARK_LINK = etree.XPath(f".//a[@href][{_has_rel('bookmark')}]")
# Last resort for themes whose title is not a link: the_content()'s "Continue reading" link.
_MORE_LINK = etree.XPath(f".//a[@href][{_has_class('more-link')}]")
# In order of trust: core's paginate_links(), the Query Pagination block, the SEO plugins'
# <link rel="next">, the_posts_navigation()'s "Older posts" of older themes, any rel="next".
_NEXT_LINKS = (
    etree.XPath(f"//a[@href][{_has_class('next')}][{_has_class('page-numbers')}]"),
    etree.XPath(f"//a[@href][{_has_class('wp-block-query-pagination-next')}]"),
    etree.XPath(f"//link[@href][{_has_rel('next')}]"),
    etree.XPath(f"//*[{_has_class('nav-previous')}]/descendant-or-self::a[@href]"),
    etree.XPath(f"//a[@href][{_has_rel('next')}]"),
)
# Sidebars, menus and footers repeat links to *other* posts (Recent Posts, related posts).
_EXCLUDED_TAGS = frozenset({"aside", "nav", "footer"})
_SIDEBAR_TAGS = frozenset({"aside"})
_EXCLUDED_CLASSES = frozenset({
    "widget", "widget-area", "sidebar", "wp-block-latest-posts", "related-posts", "jp-relatedposts",
    "yarpp-related", "menu", "site-footer", "site-header",
})
_EXCLUDED_IDS = frozenset({"secondary", "sidebar", "colophon", "masthead"})
_TAXONOMY_RELS = frozenset({"tag", "category", "author"})


def parse_category_listing(html: str, page_url: str) -> Listing:
    """The posts of one page of a category (or any archive) listing, and the next page.

    Only the main loop counts: ``article`` (or ``.post``/``.hentry``) elements inside
    main/#content/#primary (the whole page if the theme has none of those), minus anything inside
    sidebars, widgets, menus and footers. Each contributes its ``.entry-title a`` link, else its
    first ``a[rel=bookmark]``, else its "Continue reading" ``a.more-link``. Links are made
    absolute against ``page_url`` (or ``<base href>``), stripped of fragments, made safe to
    request (raw Cyrillic escaped, existing escapes kept as they are), and kept only if
    ``is_post_candidate``; duplicates (by ``normalize_url``) keep their first position.
    Never raises on malformed HTML.
    """
    root = _parse_html(html)
    if root is None:
        return Listing(post_urls=(), next_url=None)
    base = page_url
    for href in root.xpath("//base/@href")[:1]:
        base = urljoin(page_url, str(href).strip())

    in_container = _has_container(root)
    post_urls: list[str] = []
    seen: set[str] = set()
    for item in _candidates(root):
        if _is_excluded(item) or (in_container and not _inside_container(item)):
            continue
        url = _item_link(item, base, page_url)
        if url is None:
            continue
        key = normalize_url(url)
        if key not in seen:
            seen.add(key)
            post_urls.append(url)
    return Listing(post_urls=tuple(post_urls), next_url=_next_url(root, base, page_url))


def _parse_html(html: str) -> Any:
    if not html or not html.strip():
        return None
    # Encode first: lxml refuses a str that carries an XML encoding declaration, and some themes
    # emit one. The bytes are UTF-8 whatever the declaration said, hence the explicit parser.
    parser = lxml_html.HTMLParser(encoding="utf-8", remove_comments=True)
    try:
        return lxml_html.document_fromstring(html.encode("utf-8", "surrogatepass"), parser=parser)
    except (etree.ParserError, ValueError):
        return None


def _is_excluded(element: Any, tags: frozenset[str] = _EXCLUDED_TAGS) -> bool:
    for node in element.iterancestors():
        if node.tag in tags:
            return True
        if _EXCLUDED_CLASSES.intersection((node.get("class") or "").split()):
            return True
        if node.get("id") in _EXCLUDED_IDS:
            return True
    return False


def _inside_container(element: Any) -> bool:
    for node in element.iterancestors():
        if node.tag == "main" or node.get("role") == "main" or node.get("id") in ("content", "primary", "main"):
            return True
        if {"site-main", "content-area"}.intersection((node.get("class") or "").split()):
            return True
    return False


def _item_link(item: Any, base: str, page_url: str) -> str | None:
    for query in (_TITLE_LINK, _BOOKMARK_LINK, _MORE_LINK):
        for anchor in query(item):
            if _TAXONOMY_RELS.intersection((anchor.get("rel") or "").lower().split()):
                continue
            url = _absolute_link(anchor.get("href", ""), base)
            # A "link" format post's title points off-site: it is not one of this site's posts.
            if url is not None and is_post_candidate(url, page_url):
                return url
            return None
    return None


def _next_url(root: Any, base: str, page_url: str) -> str | None:
    current = normalize_url(page_url)
    for query in _NEXT_LINKS:
        for element in query(root):
            # Pagination sits in a <nav>, so only sidebars disqualify a "next" link.
            if _is_excluded(element, tags=_SIDEBAR_TAGS):
                continue
            url = _absolute_link(element.get("href", ""), base)
            # A page pointing at itself would loop the crawl forever.
            if url is not None and normalize_url(url) != current:
                return url
    return None


# --------------------------------------------------------------------------- feeds

_ATOM = "http://www.w3.org/2005/Atom"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RSS1 = "http://purl.org/rss/1.0/"
_DC = "http://purl.org/dc/elements/1.1/"
_DCTERMS = "http://purl.org/dc/terms/"

# Largest document accepted after gunzip: sitemaps are capped at 50 MB by the protocol.
# An XML document read whole (a feed, a sitemap once unzipped): the sitemaps.org protocol's
# 50 MiB. A .xml.gz is inflated in steps and refused past it, never held inflated whole first.
_MAX_XML_BYTES = 50 * 1024 * 1024


def parse_feed(body: bytes, feed_url: str, limit: int | None = None) -> list[FeedEntry]:
    """Entries of an RSS 2.0, Atom or RSS 1.0 (RDF) feed, in feed order (WordPress: newest first).

    ``url`` is the item link resolved against ``feed_url`` (and Atom's xml:base); ``post_id``
    comes from a guid/id of the form ``…/?p=ID``; dates are normalised by ``to_utc_iso``;
    ``categories`` keep the feed's order, duplicates dropped. An item without any link is
    skipped. Raises DiscoveryError on malformed XML or a document that is not a feed. With
    `limit`, only the first `limit` items are read (a feed is the site's newest posts).
    """
    root = _parse_xml(body, feed_url, what="feed")
    tag = etree.QName(root)
    if tag.localname == "rss" and not tag.namespace:
        channel = root.find("channel")
        if channel is None:
            raise DiscoveryError(f"RSS document {feed_url} has no <channel>")
        entries = (_rss_entry(item, feed_url) for item in channel.iterfind("item"))
    elif tag.localname == "feed" and tag.namespace == _ATOM:
        entries = (_atom_entry(entry, feed_url) for entry in root.iterfind(f"{{{_ATOM}}}entry"))
    elif tag.localname == "RDF" and tag.namespace == _RDF:
        entries = (_rdf_entry(item, feed_url) for item in root.iterfind(f"{{{_RSS1}}}item"))
    else:
        raise DiscoveryError(f"{feed_url} is not a feed: its root element is <{tag.localname}>")
    return [entry for entry in itertools.islice(entries, limit) if entry is not None]


def _rss_entry(item: Any, feed_url: str) -> FeedEntry | None:
    guid_el = item.find("guid")
    guid = _text(guid_el)
    link = _text(item.find("link"))
    if not link and guid and (guid_el.get("isPermaLink") or "true").strip().lower() != "false":
        link = guid  # RSS 2.0: a guid is the permalink unless it says otherwise
    return _feed_entry(
        link=link, base=item.base or feed_url, feed_url=feed_url, id_source=guid or link,
        published=_text(item.find("pubDate")) or _text(item.find(f"{{{_DC}}}date")),
        modified=_text(item.find(f"{{{_ATOM}}}updated")) or _text(item.find(f"{{{_DCTERMS}}}modified")),
        title=_text(item.find("title")),
        categories=[_text(c) for c in item.iterfind("category")],
    )


def _atom_entry(entry: Any, feed_url: str) -> FeedEntry | None:
    link_el = None
    for candidate in entry.iterfind(f"{{{_ATOM}}}link"):
        if (candidate.get("rel") or "alternate") == "alternate" and candidate.get("href"):
            link_el = candidate
            break
    link = (link_el.get("href") or "").strip() if link_el is not None else None
    entry_id = _text(entry.find(f"{{{_ATOM}}}id"))
    return _feed_entry(
        link=link, base=(link_el.base if link_el is not None else None) or feed_url, feed_url=feed_url,
        id_source=entry_id or link,
        published=_text(entry.find(f"{{{_ATOM}}}published")) or _text(entry.find(f"{{{_ATOM}}}issued")),
        modified=_text(entry.find(f"{{{_ATOM}}}updated")) or _text(entry.find(f"{{{_ATOM}}}modified")),
        title=_atom_text(entry.find(f"{{{_ATOM}}}title")),
        categories=[(c.get("term") or c.get("label") or "").strip() for c in entry.iterfind(f"{{{_ATOM}}}category")],
    )


def _rdf_entry(item: Any, feed_url: str) -> FeedEntry | None:
    link = _text(item.find(f"{{{_RSS1}}}link")) or (item.get(f"{{{_RDF}}}about") or "").strip()
    return _feed_entry(
        link=link, base=item.base or feed_url, feed_url=feed_url, id_source=link,
        published=_text(item.find(f"{{{_DC}}}date")),
        modified=_text(item.find(f"{{{_DCTERMS}}}modified")),
        title=_text(item.find(f"{{{_RSS1}}}title")),
        categories=[_text(c) for c in item.iterfind(f"{{{_DC}}}subject")],
    )


def _feed_entry(
    *, link: str | None, base: str, feed_url: str, id_source: str | None, published: str | None,
    modified: str | None, title: str | None, categories: list[str | None],
) -> FeedEntry | None:
    url = _absolute_link(link, base) if link else None
    if url is None:
        logger.warning("feed %s: skipped an item without a usable link (%r)", feed_url, link)
        return None
    unique: dict[str, None] = {}
    for category in categories:
        if category:
            unique.setdefault(category, None)
    return FeedEntry(
        url=url,
        post_id=shortlink_post_id(id_source) if id_source else None,
        published=to_utc_iso(published),
        modified=to_utc_iso(modified),
        title=title or None,
        categories=tuple(unique),
    )


def _text(element: Any) -> str | None:
    if element is None:
        return None
    text = "".join(element.itertext()).strip()
    return text or None


def _atom_text(element: Any) -> str | None:
    """Text of an Atom text construct: type="html" carries escaped markup, "xhtml" a <div>."""
    if element is None:
        return None
    if (element.get("type") or "text").strip().lower() == "html":
        return _html_text(_text(element))
    return _text(element)


def _html_text(markup: str | None) -> str | None:
    """Plain text of an HTML fragment (entities decoded, tags dropped)."""
    if not markup or not markup.strip():
        return None
    if "<" not in markup:
        return html_lib.unescape(markup).strip() or None
    try:
        fragment = lxml_html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return html_lib.unescape(markup).strip() or None
    return fragment.text_content().strip() or None


def _gunzip(body: bytes, url: str, what: str) -> bytes:
    """A gzip body inflated, in steps of 1 MiB, refused as soon as it passes _MAX_XML_BYTES
    (a gzip bomb costs no more memory than the limit)."""
    inflated = bytearray()
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as stream:
            while chunk := stream.read(1 << 20):
                inflated += chunk
                if len(inflated) > _MAX_XML_BYTES:
                    raise DiscoveryError(f"{what} {url}: larger than {_MAX_XML_BYTES // (1 << 20)} MiB once "
                                         f"unzipped ({len(body)} bytes compressed): not read")
    except (OSError, EOFError) as exc:
        raise DiscoveryError(f"{what} {url}: broken gzip data ({exc})") from None
    return bytes(inflated)


def _parse_xml(body: bytes, url: str, *, what: str) -> Any:
    if not isinstance(body, (bytes, bytearray)):
        raise DiscoveryError(f"{what} {url}: expected bytes, got {type(body).__name__}")
    if body[:2] == b"\x1f\x8b":
        # A .xml.gz sitemap is served as a gzip file, not with Content-Encoding, so it arrives
        # still compressed.
        body = _gunzip(body, url, what)
    # A plugin that prints a blank line before "<?xml" is the most common WordPress feed bug;
    # the document is otherwise fine, so forgive it rather than lose the source.
    body = bytes(body).lstrip(b" \t\r\n")
    if not body:
        raise DiscoveryError(f"{what} {url}: empty body")
    # No entity expansion, no network: the document comes from the internet.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser=parser, base_url=url)
    except etree.XMLSyntaxError as exc:
        raise DiscoveryError(f"{what} {url}: malformed XML ({exc})") from None
    if root is None:
        raise DiscoveryError(f"{what} {url}: no root element")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype:
        # WordPress prints none; one with entities or an external DTD is an attack or a hijack.
        logger.warning("the %s %s declares a DOCTYPE (%s): its entities and DTD are neither resolved nor fetched",
                       what, url, (docinfo.system_url or "internal subset")[:200])
    return root


# --------------------------------------------------------------------------- sitemaps


def parse_sitemap(body: bytes, sitemap_url: str, limit: int | None = None) -> Sitemap:
    """A ``<sitemapindex>`` (is_index=True) or ``<urlset>``; gzipped bodies are accepted.

    Elements are matched by local name, since some generators omit or misspell the sitemaps.org
    namespace. Entries without ``<loc>`` are skipped; ``lastmod`` is normalised by
    ``to_utc_iso`` (None when absent, as before WordPress 6.5, or unreadable). Raises
    DiscoveryError on malformed XML or a root that is neither. With `limit`, only the first
    `limit` entries are read; `listed` counts them all.
    """
    root = _parse_xml(body, sitemap_url, what="sitemap")
    kind = etree.QName(root).localname
    if kind == "sitemapindex":
        child = "sitemap"
    elif kind == "urlset":
        child = "url"
    else:
        raise DiscoveryError(f"{sitemap_url} is not a sitemap: its root element is <{kind}>")
    entries: list[SitemapEntry] = []
    listed = 0
    for element in root:
        if not isinstance(element.tag, str) or etree.QName(element).localname != child:
            continue
        listed += 1
        if limit is not None and listed > limit:
            continue
        loc = lastmod = None
        for part in element:
            if not isinstance(part.tag, str):
                continue
            name = etree.QName(part).localname
            if name == "loc" and loc is None:
                loc = _text(part)
            elif name == "lastmod" and lastmod is None:
                lastmod = _text(part)
        url = _absolute_link(loc, sitemap_url) if loc else None
        if url is None:
            logger.warning("sitemap %s: skipped a <%s> without a usable <loc> (%r)", sitemap_url, child, loc)
            continue
        entries.append(SitemapEntry(url=url, lastmod=to_utc_iso(lastmod)))
    return Sitemap(is_index=kind == "sitemapindex", entries=tuple(entries), listed=listed)


# --------------------------------------------------------------------------- REST API


def parse_rest_posts(body: bytes) -> list[RestPost]:
    """Posts of a ``/wp-json/wp/v2/posts`` page, in answer order.

    Requires ``id`` (integer) and ``link`` (string) on every post; the other fields are optional
    so a request narrowed with ``_fields=`` still parses. ``date_gmt``/``modified_gmt`` carry no
    zone but are UTC; they come out as ``…+00:00``. ``title.rendered`` has its entities decoded
    and tags dropped. Raises DiscoveryError on bad JSON, on a WordPress error object (401/403
    when the API is closed to anonymous clients), or on a wrong shape.
    """
    data = _load_json(body, "REST posts")
    if not isinstance(data, list):
        raise DiscoveryError(f"REST posts: expected a JSON array, got {_describe(data)}")
    posts: list[RestPost] = []
    for index, item in enumerate(data):
        where = f"REST posts[{index}]"
        if not isinstance(item, dict):
            raise DiscoveryError(f"{where}: expected an object, got {type(item).__name__}")
        post_id = item.get("id")
        if isinstance(post_id, bool) or not isinstance(post_id, int) or post_id <= 0:
            raise DiscoveryError(f"{where}: 'id' must be a positive integer, got {post_id!r}")
        link = item.get("link")
        if not isinstance(link, str) or not link.strip():
            raise DiscoveryError(f"{where} (id {post_id}): 'link' must be a non-empty string, got {link!r}")
        categories = item.get("categories") or []
        if not isinstance(categories, list) or not all(
            isinstance(c, int) and not isinstance(c, bool) for c in categories
        ):
            raise DiscoveryError(f"{where} (id {post_id}): 'categories' must be a list of integers")
        slug = item.get("slug")
        posts.append(RestPost(
            id=post_id,
            url=link.strip(),
            slug=slug if isinstance(slug, str) else "",
            date_gmt=_rest_date(item.get("date_gmt")),
            modified_gmt=_rest_date(item.get("modified_gmt")),
            categories=tuple(categories),
            title=_rest_title(item.get("title")),
            language=_rest_language(item),
        ))
    return posts


def parse_rest_category_id(body: bytes, slug: str) -> int | None:
    """Id of the category with ``slug`` in a ``/wp-json/wp/v2/categories?slug=`` answer.

    Slugs are compared percent-decoded and case-insensitively, since WordPress stores Cyrillic
    slugs as lower-case escapes. None when no category matches (the answer is ``[]`` for an
    unknown slug); the first match when several do. Raises DiscoveryError on a wrong shape.
    """
    data = _load_json(body, "REST categories")
    if not isinstance(data, list):
        raise DiscoveryError(f"REST categories: expected a JSON array, got {_describe(data)}")
    wanted = _slug_key(slug)
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise DiscoveryError(f"REST categories[{index}]: expected an object, got {type(item).__name__}")
        if not isinstance(item.get("slug"), str) or _slug_key(item["slug"]) != wanted:
            continue
        category_id = item.get("id")
        if isinstance(category_id, bool) or not isinstance(category_id, int) or category_id <= 0:
            raise DiscoveryError(f"REST categories[{index}]: 'id' must be a positive integer, got {category_id!r}")
        return category_id
    return None


def _slug_key(slug: str) -> str:
    return unquote(slug.strip().strip("/")).lower()


def _load_json(body: bytes, what: str) -> Any:
    try:
        # json.loads detects UTF-8/16/32 and a BOM in bytes by itself.
        data = json.loads(body)
    except (TypeError, ValueError) as exc:
        snippet = bytes(body[:60]) if isinstance(body, (bytes, bytearray)) else body
        raise DiscoveryError(f"{what}: not JSON ({exc}); body starts {snippet!r}") from None
    if isinstance(data, dict) and "code" in data and "message" in data:
        # WordPress's error object, e.g. {"code": "rest_forbidden", "data": {"status": 401}}.
        status = data.get("data", {}).get("status") if isinstance(data.get("data"), dict) else None
        raise DiscoveryError(f"{what}: WordPress error {data['code']!r} (status {status}): {data['message']}")
    return data


def _describe(data: Any) -> str:
    return "an object" if isinstance(data, dict) else type(data).__name__


def _rest_date(value: Any) -> str | None:
    # Drafts and scheduled posts may have null; anything that is not a string is "unknown".
    return to_utc_iso(value) if isinstance(value, str) else None


def _rest_title(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("rendered")
    return _html_text(value) if isinstance(value, str) else None


def _rest_language(item: dict[str, Any]) -> str | None:
    # Polylang exposes "lang" ("en"); WPML exposes "wpml_current_locale" ("en_US"). Neither is in
    # core, so a missing value means "unknown", not "the site's language".
    for key in ("lang", "language", "wpml_current_locale"):
        value = item.get(key)
        if isinstance(value, str) and value.strip():
            return re.split(r"[-_]", value.strip(), maxsplit=1)[0].lower()
    return None
