"""Metadata from a WordPress page's own signals.

Each function reads one field from the markup WordPress core, classic and block themes and
the usual SEO plugins emit (canonical and shortlink links, hreflang alternates, <time>
elements, Open Graph and article:* metas, JSON-LD, rel="author"/"category tag"/"tag" links).
They return None (or empty) when the page says nothing; the caller falls back to
trafilatura's guesses only then.

What the whole page says about itself (its <head>, its JSON-LD, the site title in its header)
is read once, before the page is scoped to the post, into a ``PageSignals``; the post's own
fields (dates, author, terms, title) are read from the scoped, pruned post.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from lxml import etree
from lxml.html import HtmlElement
from w3lib.url import canonicalize_url

from storage.urls import normalize_url

from .extract_dom import class_tokens, has_class, iter_links, rel_tokens

logger = logging.getLogger(__name__)

# Title separators WordPress and SEO plugins put between the post title and the site name.
_TITLE_SEPARATORS = (" – ", " — ", " - ", " | ", " « ", " » ", " · ", " :: ")
# Languages written the wrong way round on real sites: "kz" is Kazakhstan, not a language.
_LANG_ALIASES = {"kz": "kk", "kaz": "kk", "rus": "ru", "eng": "en"}
_LANG_SPLIT = re.compile(r"[-_]")
_TWO_LETTERS = re.compile(r"[a-z]{2}")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_LINK_VALUE = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]+)*)")
_LINK_REL = re.compile(r"""rel\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s;,]+))""", re.I)
_ARTICLE_TYPES = frozenset(
    {"article", "newsarticle", "blogposting", "reportage", "event", "webpage", "report", "scholarlyarticle"}
)
_JSONLD_MAX_DEPTH = 6

# cheap candidate searches (one substring test per element); class tokens are checked in Python
_AUTHOR_CANDIDATES = etree.XPath(".//*[contains(@class, 'author') or contains(@class, 'byline')]")
_SITE_TITLE_CANDIDATES = etree.XPath("//*[contains(@class, 'site-title')]")

_BLOCK_DATE = frozenset({"wp-block-post-date"})
_AUTHOR, _FN, _BYLINE = frozenset({"author"}), frozenset({"fn"}), frozenset({"byline"})
_BLOCK_AUTHOR_NAME = frozenset({"wp-block-post-author-name"})
_POST_TITLE_CLASSES = frozenset({"entry-title", "wp-block-post-title", "post-title"})
_ARCHIVE_TITLE_CLASSES = frozenset({"page-title", "archive-title"})
_SITE_TITLE_CLASSES = frozenset({"site-title", "wp-block-site-title"})


def clean(value: str | None) -> str | None:
    "Whitespace-collapsed, NFC-normalized text, or None when nothing is left."
    if value is None:
        return None
    text = " ".join(unicodedata.normalize("NFC", value).split())
    return text or None


def element_text(element: HtmlElement) -> str | None:
    return clean(element.text_content())


# --- URLs ------------------------------------------------------------------------------------


def absolute_url(base: str, href: str | None) -> str | None:
    "An absolute http(s) URL for href, or None."
    if not href or not href.strip():
        return None
    try:
        joined = urljoin(base, href.strip())
        scheme = urlsplit(joined).scheme.lower()
    except ValueError:
        return None
    return joined if scheme in {"http", "https"} else None


def base_url(root: HtmlElement, url: str) -> str:
    "The URL relative links resolve against: <base href> if any, else the page URL."
    base = root.find(".//head/base[@href]")
    if base is not None:
        resolved = absolute_url(url, base.get("href"))
        if resolved:
            return resolved
    return url


def same_url(left: str | None, right: str | None) -> bool:
    """Equal once percent-escapes, query order and fragments are normalized, and a trailing
    slash ignored (WordPress permalinks are cited both with and without one)."""
    if not left or not right:
        return False
    try:
        return _url_key(left) == _url_key(right)
    except (ValueError, UnicodeError):
        return left == right


def _url_key(url: str) -> str:
    parts = urlsplit(canonicalize_url(url))
    return parts._replace(path=parts.path.rstrip("/") or "/").geturl()


def _links(root: HtmlElement, rel: str) -> Iterator[HtmlElement]:
    for link in root.iter("link"):
        if rel in rel_tokens(link) and link.get("href"):
            yield link


# (property, name, itemprop, content) of every <meta> with a content, in page order
MetaValues = tuple[tuple[str | None, str | None, str | None, str], ...]


def meta_values(root: HtmlElement) -> MetaValues:
    return tuple(
        (m.get("property"), m.get("name"), m.get("itemprop"), content)
        for m in root.iter("meta")
        if (content := m.get("content"))
    )


def meta_content(metas: HtmlElement | MetaValues, *keys: str) -> str | None:
    "The first non-empty content of <meta property|name|itemprop=key>, keys tried in order."
    values = meta_values(metas) if isinstance(metas, HtmlElement) else metas
    for key in keys:
        for prop, name, itemprop, content in values:
            if key in (prop, name, itemprop):
                if value := clean(content):
                    return value
    return None


def canonical_url(root: HtmlElement, base: str, metas: MetaValues | None = None) -> str | None:
    for link in _links(root, "canonical"):
        if resolved := absolute_url(base, link.get("href")):
            return resolved
    return absolute_url(base, meta_content(metas if metas is not None else root, "og:url"))


def parse_link_header(value: str | None) -> list[tuple[str, frozenset[str]]]:
    "The (url, rel tokens) pairs of an HTTP Link header."
    if not value:
        return []
    pairs = []
    for match in _LINK_VALUE.finditer(value):
        rel = _LINK_REL.search(match[2] or "")
        tokens = frozenset(next(g for g in rel.groups() if g is not None).lower().split()) if rel else frozenset()
        pairs.append((match[1].strip(), tokens))
    return pairs


def shortlink(root: HtmlElement | None, base: str, link_header: str | None) -> str | None:
    "The WordPress shortlink from <link rel=shortlink>, else from the Link header."
    if root is not None:
        for link in _links(root, "shortlink"):
            if resolved := absolute_url(base, link.get("href")):
                return resolved
    for target, rels in parse_link_header(link_header):
        if "shortlink" in rels and (resolved := absolute_url(base, target)):
            return resolved
    return None


def shortlink_post_id(link: str | None) -> int | None:
    "The post id in a shortlink (?p=ID, or ?page_id=ID)."
    if not link:
        return None
    query = parse_qs(urlsplit(link).query)
    for key in ("p", "page_id"):
        for value in query.get(key, ()):
            if value.isdigit() and value.isascii():
                return int(value)
    return None


def alternates(root: HtmlElement, base: str) -> dict[str, str]:
    """hreflang (lower-cased) -> absolute URL from <link rel=alternate hreflang>, x-default left
    out. A language named twice with different pages (an SEO plugin printing its own beside
    Polylang's) is left out too: neither can be told to be the translation."""
    found: dict[str, str] = {}
    conflicting: dict[str, set[str]] = {}
    for link in _links(root, "alternate"):
        hreflang = (link.get("hreflang") or "").strip().lower()
        if not hreflang or hreflang == "x-default":
            continue
        resolved = absolute_url(base, link.get("href"))
        if not resolved:
            continue
        if hreflang in found and normalize_url(found[hreflang]) != normalize_url(resolved):
            conflicting.setdefault(hreflang, {found[hreflang]}).add(resolved)
        found.setdefault(hreflang, resolved)
    for hreflang, urls in conflicting.items():
        logger.warning("%s: its hreflang=%s links name different pages (%s): neither is taken as the translation",
                       base, hreflang, ", ".join(sorted(u[:200] for u in urls)))
        del found[hreflang]
    return found


# --- language ---------------------------------------------------------------------------------


def language_code(value: str | None) -> str | None:
    "The two-letter primary subtag of a language tag or locale (en-US, ru_RU, kk; kz -> kk)."
    if not value:
        return None
    primary = _LANG_SPLIT.split(value.strip(), maxsplit=1)[0].lower()
    primary = _LANG_ALIASES.get(primary, primary)
    return primary if _TWO_LETTERS.fullmatch(primary) else None


def own_hreflang(found_alternates: dict[str, str], canonical: str | None, url: str) -> str | None:
    "The hreflang of the alternate that points at this page (its canonical URL, else its URL)."
    own_url = canonical or url
    for hreflang, href in found_alternates.items():
        if same_url(href, own_url):
            return hreflang
    return None


# --- JSON-LD ---------------------------------------------------------------------------------


def json_ld_objects(root: HtmlElement) -> list[dict[str, Any]]:
    "All JSON-LD objects of the page, @graph members flattened, articles first."
    objects: list[dict[str, Any]] = []
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text)
        except (ValueError, RecursionError):
            continue
        objects.extend(_flatten(data, 0))
    articles = [o for o in objects if _types(o) & _ARTICLE_TYPES]
    return articles + [o for o in objects if not _types(o) & _ARTICLE_TYPES]


def _flatten(data: Any, depth: int) -> Iterator[dict[str, Any]]:
    if depth > _JSONLD_MAX_DEPTH:
        return
    if isinstance(data, list):
        for item in data:
            yield from _flatten(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _flatten(data["@graph"], depth + 1)


def _types(obj: dict[str, Any]) -> set[str]:
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {k.lower() for k in kinds if isinstance(k, str)}


def _json_ld_strings(objects: Iterable[dict[str, Any]], key: str) -> Iterator[str]:
    for obj in objects:
        value = obj.get(key)
        if isinstance(value, str):
            yield value


# --- dates -----------------------------------------------------------------------------------


def normalize_date(value: str | None) -> str | None:
    """ISO 8601: UTC 'YYYY-MM-DDTHH:MM:SS+00:00' when a zone is known, the local time
    without offset when not, 'YYYY-MM-DD' for a bare date; None when unparseable."""
    if not value:
        return None
    text = value.strip()
    try:
        if _DATE_ONLY.fullmatch(text):
            return date.fromisoformat(text).isoformat()
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is not None and parsed.utcoffset() is not None:
        try:
            parsed = parsed.astimezone(timezone.utc)
        except OverflowError:
            return None
    return parsed.replace(microsecond=0).isoformat(timespec="seconds")


def pick_date(candidates: Iterable[str | None]) -> str | None:
    "The first candidate with a time zone, else the first parseable one."
    normalized = [d for d in (normalize_date(c) for c in candidates) if d]
    return next((d for d in normalized if d.endswith("+00:00")), normalized[0] if normalized else None)


# everything the dates of a post are read from, in one walk: <time>, itemprop, block post-date
_DATE_NODES = etree.XPath(
    ".//time | .//*[@itemprop='datePublished' or @itemprop='dateModified']"
    " | .//*[contains(@class, 'wp-block-post-date')]"
)


@dataclass(frozen=True)
class _PostDates:
    published: list[str]  # <time class="published">, then the block theme's post-date <time>
    updated: list[str]  # <time class="updated">
    entry: list[str]  # <time class="entry-date">
    itemprop: dict[str, list[str]]  # datePublished / dateModified: datetime or content


def _post_dates(container: HtmlElement | None) -> _PostDates:
    found = _PostDates([], [], [], {"datePublished": [], "dateModified": []})
    if container is None:
        return found
    block_times: dict[HtmlElement, None] = {}
    nodes = _DATE_NODES(container)
    for node in nodes:
        if (prop := node.get("itemprop")) in found.itemprop and (v := node.get("datetime") or node.get("content")):
            found.itemprop[prop].append(v)
        if node.tag == "time" and (value := node.get("datetime")) is not None:
            tokens = class_tokens(node)
            if "published" in tokens:
                found.published.append(value)
            if "updated" in tokens:
                found.updated.append(value)
            if "entry-date" in tokens:
                found.entry.append(value)
        if has_class(node, _BLOCK_DATE):
            block_times.update((t, None) for t in node.iterdescendants("time"))
    found.published.extend(v for t in block_times if (v := t.get("datetime")) is not None)
    return found


def date_published(page: PageSignals, container: HtmlElement | None, dates: _PostDates | None = None) -> str | None:
    """<time class="published"> (and the block theme's post-date) in the post, then the
    article:published_time meta, then JSON-LD datePublished, then any <time class="entry-date">."""
    dates = dates or _post_dates(container)
    metas = [meta_content(page.metas, "article:published_time", "og:published_time", "datePublished")]
    return pick_date(
        [*dates.published, *dates.itemprop["datePublished"], *metas, *_json_ld_strings(page.ld, "datePublished"),
         *dates.entry]
    )


def date_modified(page: PageSignals, container: HtmlElement | None, dates: _PostDates | None = None) -> str | None:
    "<time class=\"updated\"> in the post, then article:modified_time / og:updated_time, then JSON-LD."
    dates = dates or _post_dates(container)
    metas = [meta_content(page.metas, "article:modified_time", "og:updated_time", "dateModified")]
    return pick_date([*dates.updated, *dates.itemprop["dateModified"], *metas, *_json_ld_strings(page.ld, "dateModified")])


def post_dates(container: HtmlElement | None) -> _PostDates:
    "The date signals of a post, read once for date_published and date_modified."
    return _post_dates(container)


# --- author, title, terms --------------------------------------------------------------------


def author(page: PageSignals, container: HtmlElement | None) -> str | None:
    "rel=author link or byline in the post, then <meta name=author>, then JSON-LD author."
    if container is not None:
        for link in container.iterdescendants("a"):
            if "author" in rel_tokens(link) and (name := element_text(link)):
                return name
        for element in _author_names(container):
            if name := element_text(element):
                return name
    if name := meta_content(page.metas, "author"):
        return name
    for obj in page.ld:
        if name := _json_ld_author(obj.get("author")):
            return name
    return None


def _author_names(container: HtmlElement) -> list[HtmlElement]:
    """The byline's name elements, in page order: .fn inside .author, .author inside .byline,
    and the block theme's post-author-name."""
    found: dict[HtmlElement, None] = {}
    candidates = _AUTHOR_CANDIDATES(container)
    for element in candidates:
        if has_class(element, _BLOCK_AUTHOR_NAME):
            found.setdefault(element)
        for outer, inner in ((_AUTHOR, _FN), (_BYLINE, _AUTHOR)):
            if has_class(element, outer):
                found.update((d, None) for d in element.iterdescendants() if isinstance(d.tag, str) and has_class(d, inner))
    order = {e: n for n, e in enumerate(container.iter())} if len(found) > 1 else {}
    return sorted(found, key=lambda e: order.get(e, 0))


def _json_ld_author(value: Any) -> str | None:
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list):
        return next((n for n in (_json_ld_author(v) for v in value) if n), None)
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        return clean(value["name"])
    return None


def site_name(root: HtmlElement, ld: list[dict[str, Any]], metas: MetaValues | None = None) -> str | None:
    "og:site_name, else the JSON-LD WebSite name, else the theme's site title."
    if name := meta_content(metas if metas is not None else root, "og:site_name", "application-name"):
        return name
    for obj in ld:
        if "website" in _types(obj) and isinstance(obj.get("name"), str) and (name := clean(obj["name"])):
            return name
    for element in _SITE_TITLE_CANDIDATES(root):
        if has_class(element, _SITE_TITLE_CLASSES) and (name := element_text(element)):
            return name
    return None


def strip_site_suffix(title: str | None, site: str | None, *, guess: bool = False) -> str | None:
    """Remove a trailing " – Site Name" (or a leading "Site Name | "). Without a known site name
    and with guess=True, drop the part after the last " – " (WordPress's default separator)."""
    title = clean(title)
    if not title:
        return None
    if site:
        for separator in _TITLE_SEPARATORS:
            if title.endswith(separator + site) and len(title) > len(separator + site):
                return clean(title[: -len(separator + site)])
            if title.startswith(site + separator) and len(title) > len(site + separator):
                return clean(title[len(site + separator) :])
        return title
    if guess and " – " in title:
        head = title.rsplit(" – ", 1)[0]
        return clean(head) or title
    return title


def _h1s(container: HtmlElement | None, names: frozenset[str]) -> list[HtmlElement]:
    return [h1 for h1 in container.iterdescendants("h1") if has_class(h1, names)] if container is not None else []


def title(page: PageSignals, container: HtmlElement | None, listing: bool) -> str | None:
    "og:title, else the post's (or archive's) <h1>, else <title>; site-name suffix removed."
    if found := strip_site_suffix(meta_content(page.metas, "og:title"), page.site):
        return found
    for h1 in _h1s(container, _ARCHIVE_TITLE_CLASSES if listing else _POST_TITLE_CLASSES):
        if found := element_text(h1):
            return found
    if page.head_title is not None:
        return strip_site_suffix(page.head_title, page.site, guess=True)
    return None


def post_titles(container: HtmlElement | None) -> list[str]:
    "Every title the post shows, used to keep it out of the text."
    return [t for h1 in _h1s(container, _POST_TITLE_CLASSES) if (t := element_text(h1))]


def terms(container: HtmlElement | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(categories, tags) from rel~=category and rel~=tag links, in page order, de-duplicated.

    Classic themes emit rel="category tag" for categories and rel="tag" for tags; block themes
    (wp-block-post-terms) emit rel="tag" for both inside a taxonomy-category or
    taxonomy-post_tag wrapper. Links of other taxonomies are left out."""
    categories: dict[str, None] = {}
    tags: dict[str, None] = {}
    if container is None:
        return (), ()
    for link in container.iter("a"):
        rels = rel_tokens(link)
        if not rels & {"category", "tag"}:
            continue
        name = element_text(link)
        if not name:
            continue
        # block themes list every taxonomy with rel="tag"; the wrapper names the taxonomy
        taxonomy = _taxonomy(link)
        if taxonomy == "category" or (taxonomy is None and "category" in rels):
            categories.setdefault(name)
        elif taxonomy in (None, "post_tag"):
            tags.setdefault(name)
    return tuple(categories), tuple(tags)


def category_links(container: HtmlElement | None, base: str) -> tuple[str, ...]:
    "Absolute hrefs of the rel~=category links, in page order, each once."
    if container is None:
        return ()
    found = (absolute_url(base, link.get("href")) for link in iter_links(container, "category"))
    return tuple(dict.fromkeys(href for href in found if href))


def _taxonomy(link: HtmlElement) -> str | None:
    "The taxonomy named by an enclosing block-theme wrapper (class taxonomy-<name>), if any."
    for ancestor in link.iterancestors():
        for token in class_tokens(ancestor):
            if token.startswith("taxonomy-"):
                return token[len("taxonomy-") :]
    return None


# --- the whole page, read once ---------------------------------------------------------------


@dataclass(frozen=True)
class PageSignals:
    """What the whole page says about itself, read before it is scoped to the post."""

    url: str
    base: str
    metas: MetaValues
    ld: list[dict[str, Any]]
    canonical: str | None
    shortlink: str | None
    alternates: dict[str, str]
    site: str | None
    head_title: str | None  # the raw text of <title>
    html_lang: str | None  # <html lang> (or xml:lang), as written


def read_page(root: HtmlElement, url: str, link_header: str | None) -> PageSignals:
    "Read the page-wide signals: <head> links and metas, JSON-LD, the theme's site title."
    base = base_url(root, url)
    metas = meta_values(root)
    ld = json_ld_objects(root)
    head_title = root.find(".//head/title")
    if head_title is None:
        head_title = root.find(".//title")
    return PageSignals(
        url=url,
        base=base,
        metas=metas,
        ld=ld,
        canonical=canonical_url(root, base, metas),
        shortlink=shortlink(root, base, link_header),
        alternates=alternates(root, base),
        site=site_name(root, ld, metas),
        head_title=head_title.text_content() if head_title is not None else None,
        html_lang=root.get("lang") or root.get("xml:lang"),
    )
