"""Main text and metadata of one WordPress page: a pure function of (HTML, URL, Link header).

The spider and the storage depend on ``extract_page``, ``ExtractedPage`` and ``decode_html``
(``decode_html_ex`` also says how the body was decoded).

How a page is read:

1. ``decode_html`` turns the response bytes into text: BOM, HTTP charset, <meta charset>,
   then detection, each declaration checked against the bytes (see ``extract_encoding``).
2. The page is parsed once; what the whole page says about itself (<head>, JSON-LD, the
   site title) is read; the page is classified from WordPress's body classes (post, page,
   archive, unknown) and scoped in place: for a single post or page, the body keeps only the
   post's own container. Widgets, recent-post lists, counters and nonces elsewhere on the
   page therefore cannot change the result.
3. Noise (comments, sidebars, navigation, breadcrumbs, share buttons, view counters) is pruned;
   the post's metadata is read from its own signals (see ``extract_meta``).
4. Page furniture (title, byline, category and tag lists, theme labels, plain-text
   breadcrumbs, unrendered shortcodes) is pruned and trafilatura extracts the text, favouring
   precision, with the lowered size minimums of ``trafilatura.cfg``; its own metadata guesses
   are computed only when the page's signals leave a field empty.
   When it still returns nothing, the text of ``.entry-content`` is used, with a warning.
   Archive pages are the exception: trafilatura keeps one excerpt of a listing, so their
   text is the pruned listing itself (post titles and excerpts), and no categories, tags,
   dates or author are taken from the posts they happen to list.
5. The text is normalized: NFC, one paragraph per line joined by "\\n", whitespace collapsed,
   no empty lines, no leading title or breadcrumb line, no view-counter or theme-label lines.
6. The language is the declared one checked against the text's letters (see ``extract_lang``).

Example::

    page = extract_page(decode_html_ex(body, content_type), "https://kisi.kz/en/some-event/", link_header)
    page.post_id, page.categories, page.text
"""

from __future__ import annotations

import logging
import re
import unicodedata
from configparser import ConfigParser
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import trafilatura
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.settings import use_config

from storage.records import PostContent

from . import extract_dom as dom
from . import extract_lang as lang
from . import extract_meta as meta
from .extract_encoding import DecodedBody, decode_body
from .extract_links import ContentLink, asset_hosts, content_links

logger = logging.getLogger(__name__)

EXTRACTOR_NAME = "trafilatura"
EXTRACTOR = {"name": EXTRACTOR_NAME, "version": trafilatura.__version__}
CONFIG_PATH = Path(__file__).with_name("trafilatura.cfg")

# htmldate (trafilatura's date fallback) defaults max_date to today: a fixed bound keeps the
# result independent of when the page is processed; extensive search would read dates from
# the text (event dates are not publication dates).
_DATE_PARAMS = {"original_date": True, "extensive_search": False, "max_date": "2099-12-31"}

WARN_EMPTY = "empty-html"
WARN_NOT_HTML = "not-html"
WARN_UNPARSEABLE = "unparseable-html"
WARN_TRUNCATED = "html-nested-too-deep: truncated"
WARN_FALLBACK = "text-below-trafilatura-minimum: used fallback"
WARN_SHORTER = "text-much-shorter-than-entry-content"
WARN_NO_TEXT = "no-text"
WARN_NO_TITLE = "no-title"
WARN_NO_CONTAINER = "no-post-container"
WARN_TRAFILATURA_ERROR = "trafilatura-error"
WARN_ERROR = "extraction-error"

# a trafilatura text under this share of the .entry-content text is flagged (not replaced)
_SHORTER_RATIO = 0.5
_INVISIBLE = ("\u200b", "\u2060", "\ufeff")
_VIEWS_LINE = re.compile(
    r"^(?:views|просмотр(?:ов|ы)?|қаралым(?:дар)?|қаралды)\s*[:\-–]?\s*[\d\s]+$",
    re.I,
)
_VIEWS_MAX = 60
# a leading line that is a bullet before a category name ("• Events"), or a bullet alone
_BULLET = re.compile(r"^[•·▪►*]+\s*(.*)$")
_COUNT_ELEMENTS = etree.XPath("count(.//*)")
_COUNT_ITEMS = etree.XPath("count(.//li)")
_BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd details div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tr ul".split()
)


def _load_config(path: Path = CONFIG_PATH) -> ConfigParser:
    # read once, at import: a missing shipped config fails loudly here, not page by page
    return use_config(str(path))


TRAFILATURA_CONFIG = _load_config()


@dataclass(frozen=True, kw_only=True)
class ExtractedPage(PostContent):
    """What one page says (storage.PostContent: title, text, dates, author, terms, canonical
    URL, post id, language, shortlink, alternates) and how it was read."""

    page_kind: str = dom.PAGE_UNKNOWN
    extractor: dict[str, str] = field(default_factory=lambda: dict(EXTRACTOR))
    warnings: tuple[str, ...] = ()
    # absolute hrefs of the post's rel~="category" links, page order, each once (for the
    # spider's "is this post in the category?" check, without parsing the page again); on a
    # page without a post container, those of its main column; none on an archive page
    category_links: tuple[str, ...] = ()
    # how `language` was decided: declared sources, letter counts, decision, reason
    language_evidence: dict[str, Any] = field(default_factory=dict)
    # how the body was decoded (DecodedBody.as_dict()), when extract_page was given one
    decoding: dict[str, Any] = field(default_factory=dict)
    # every link and image of the post's own content (none outside a single post), and the
    # hosts the page loads WordPress's own files from: what crawler.attachments reads
    links: tuple[ContentLink, ...] = ()
    asset_hosts: tuple[str, ...] = ()


def decode_html(body: bytes, content_type: str | bytes | None) -> str:
    """Decode a response body: BOM, then the HTTP charset, then <meta charset>, then detection
    (UTF-8, legacy Cyrillic encodings, windows-1252), each declaration checked against the
    bytes. Never raises; undecodable bytes become U+FFFD."""
    return decode_body(body, content_type).text


def decode_html_ex(body: bytes, content_type: str | bytes | None) -> DecodedBody:
    """``decode_html`` that also says how: encoding, source (bom, http, meta, detected),
    what was declared, a confidence, the count of replaced bytes and warnings. Pass the
    result to ``extract_page`` to keep that on the page."""
    return decode_body(body, content_type)


def extract_page(html: str | DecodedBody, url: str, link_header: str | None = None) -> ExtractedPage:
    """Extract the main text and metadata of a WordPress page. Pure and deterministic;
    never raises: an empty, garbage or broken page gives text "" and a warning.

    ``html`` is the decoded text, or a ``DecodedBody`` (``decode_html_ex``), whose decoding
    is then recorded in ``decoding`` and its warnings in ``warnings``. ``url`` is the final
    URL of the response (relative links resolve against it); ``link_header`` the HTTP Link
    header, several headers joined with ", " (bytes accepted).
    """
    decoded = html if isinstance(html, DecodedBody) else None
    text = decoded.text if decoded is not None else html
    try:
        if isinstance(link_header, bytes):
            link_header = link_header.decode("latin-1")
        page = _extract_page(text or "", url or "", link_header)
    except Exception as err:  # one bad page must never stop a crawl
        logger.error("extraction failed for %s: %r", url, err, exc_info=True)
        page = _page_without_document(url, link_header, (f"{WARN_ERROR}: {type(err).__name__}",))
    if decoded is None:
        return page
    return _with_decoding(page, decoded)


def _with_decoding(page: ExtractedPage, decoded: DecodedBody) -> ExtractedPage:
    return replace(page, decoding=decoded.as_dict(), warnings=tuple(dict.fromkeys((*decoded.warnings, *page.warnings))))


def _page_without_document(url: str, link_header: str | None, warnings: tuple[str, ...]) -> ExtractedPage:
    "What the Link header alone says about a page whose HTML gave nothing."
    try:
        link = meta.shortlink(None, url, link_header)
    except Exception:  # noqa: BLE001 - a garbage header must not raise either
        link = None
    return ExtractedPage(
        title=None,
        text="",
        canonical_url=None,
        shortlink=link,
        post_id=meta.shortlink_post_id(link),
        language=None,
        date_published=None,
        date_modified=None,
        author=None,
        categories=(),
        tags=(),
        alternates={},
        page_kind=dom.PAGE_UNKNOWN,
        extractor=dict(EXTRACTOR),
        warnings=(*warnings, WARN_NO_TEXT, WARN_NO_TITLE),
    )


@dataclass(frozen=True)
class _PostFields:
    "What the pruned post says about itself, read before its furniture is removed."

    title: str | None
    titles: list[str]
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    category_links: tuple[str, ...]
    published: str | None
    modified: str | None
    author: str | None


def _extract_page(html: str, url: str, link_header: str | None) -> ExtractedPage:
    if not html or not html.strip():
        return _page_without_document(url, link_header, (WARN_EMPTY,))
    if not dom.looks_like_html(html):
        return _page_without_document(url, link_header, (WARN_NOT_HTML,))
    root, truncated = dom.parse_html(html)
    if root is None:
        return _page_without_document(url, link_header, (WARN_UNPARSEABLE,))

    warnings: list[str] = [WARN_TRUNCATED] if truncated else []
    signals = meta.read_page(root, url, link_header)  # before the page is scoped
    hosts = asset_hosts(root, signals.base)
    classes = dom.body_classes(root)
    kind = dom.page_kind(classes)
    post_id = meta.shortlink_post_id(signals.shortlink) or dom.body_class_id(classes)

    container = dom.find_post_container(root, post_id) if kind != dom.PAGE_ARCHIVE else None
    if container is None and kind in (dom.PAGE_POST, dom.PAGE_PAGE):
        warnings.append(WARN_NO_CONTAINER)
    if post_id is None and container is not None:
        post_id = dom.article_id(container)
    single = container is not None
    scope = container if single else dom.find_listing_container(root)
    body = dom.scope_to(root, scope if scope is not None else root)
    furniture = dom.classify(root, (root, root.find("head"), body, scope), single)
    dom.drop_all(furniture.noise)
    links = content_links(body, signals.base) if single else ()
    fields = _post_fields(signals, body, single)
    _drop_furniture(root, body, furniture)

    document = _run_trafilatura(root, url, warnings)
    fallback = _Fallback(root, url, document is not None, warnings)
    title = fields.title or fallback.attr("title")
    titles = [title, *fields.titles] if title else list(fields.titles)
    if kind == dom.PAGE_ARCHIVE:
        # trafilatura looks for one article and keeps a single excerpt of a listing: the
        # listing's own text (titles and excerpts, chrome pruned) is the faithful one
        text = normalize_text(block_text(body), titles)
    else:
        text = _main_text(document, root, titles, warnings, fields.categories)

    published = fields.published
    if published is None and single:
        published = _fallback_date(fallback.attr("date"), fields.modified)
    categories, tags = fields.categories, fields.tags
    if single and not categories and not tags:
        categories = _dedup(fallback.values("categories"))
        tags = tuple(t for t in _dedup(fallback.values("tags")) if t not in categories)
    elif not single:
        # a listing's terms are those of the posts it happens to show now, not its own
        categories, tags = (), ()
    author = fields.author or (fallback.attr("author") if single else None)

    language, evidence = lang.decide_language(_declared_languages(signals), f"{title or ''}\n{text}")
    if not text:
        warnings.append(WARN_NO_TEXT)
    if not title:
        warnings.append(WARN_NO_TITLE)
    return ExtractedPage(
        title=title,
        text=text,
        canonical_url=signals.canonical,
        shortlink=signals.shortlink,
        post_id=post_id,
        language=language,
        date_published=published,
        date_modified=fields.modified,
        author=author,
        categories=categories,
        tags=tags,
        alternates=signals.alternates,
        page_kind=kind,
        extractor=dict(EXTRACTOR),
        warnings=tuple(dict.fromkeys(warnings)),
        category_links=fields.category_links if kind != dom.PAGE_ARCHIVE else (),
        language_evidence=evidence,
        links=links,
        asset_hosts=hosts,
    )


def _post_fields(signals: meta.PageSignals, body: HtmlElement, single: bool) -> _PostFields:
    post = body if single else None
    categories, tags = meta.terms(body)
    dates = meta.post_dates(post)
    return _PostFields(
        title=meta.title(signals, body, not single),
        titles=meta.post_titles(post),
        categories=categories,
        tags=tags,
        category_links=meta.category_links(body, signals.base),
        published=meta.date_published(signals, post, dates),
        modified=meta.date_modified(signals, post, dates),
        author=meta.author(signals, post),
    )


def _drop_furniture(root: HtmlElement, body: HtmlElement, furniture: dom.Furniture) -> None:
    "The page furniture out of the tree, in place, in the order the rules expect."
    dom.drop_all(furniture.chrome)
    dom.prune_term_links(root)
    dom.drop_all(furniture.titles)
    dom.drop_all(furniture.breadcrumbs)
    dom.remove_shortcodes(body)


def _declared_languages(signals: meta.PageSignals) -> dict[str, str]:
    found = {
        "hreflang": meta.own_hreflang(signals.alternates, signals.canonical, signals.url),
        "url": lang.url_language(signals.canonical or signals.url),
        "html_lang": signals.html_lang,
        "og_locale": meta.meta_content(signals.metas, "og:locale"),
        "json_ld": lang.json_ld_language(signals.ld),
    }
    return {source: value for source, value in found.items() if value}


class _Fallback:
    """trafilatura's metadata guesses, computed only when a field needs them (they cost as
    much as a fifth of an extraction) and only when trafilatura found the text, as when
    bare_extraction computed them along with it."""

    def __init__(self, tree: HtmlElement, url: str, available: bool, warnings: list[str]) -> None:
        self._tree, self._url, self._available, self._warnings = tree, url, available, warnings
        self._document: object | None = None
        self._done = False

    def _get(self) -> object | None:
        if not self._done and self._available:
            self._done = True
            try:
                self._document = trafilatura.extract_metadata(self._tree, self._url or None, dict(_DATE_PARAMS), False)
            except Exception as err:  # noqa: BLE001 - its metadata code catches nothing
                logger.warning("trafilatura metadata failed on %s: %r", self._url, err)
                self._warnings.append(f"{WARN_TRAFILATURA_ERROR}: {type(err).__name__}")
        return self._document

    def attr(self, name: str) -> str | None:
        return _clean_attr(self._get(), name) if self._available else None

    def values(self, name: str) -> tuple[object, ...]:
        return tuple(getattr(self._get(), name, None) or ()) if self._available else ()


def _run_trafilatura(tree: HtmlElement, url: str, warnings: list[str]) -> trafilatura.settings.Document | None:
    """trafilatura's text of the pruned tree. It works on a copy, so the tree stays as it is;
    it is handed the tree without its <head>, which its text extraction deletes unread (its
    metadata, which reads the head, is computed apart when needed: see _Fallback)."""
    head = tree.find("head")
    if head is not None:
        tree.remove(head)
    try:
        return trafilatura.bare_extraction(
            tree,
            url=url or None,
            favor_precision=True,
            fast=True,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            with_metadata=False,  # the page's own signals first; see _Fallback
            date_extraction_params=dict(_DATE_PARAMS),
            config=TRAFILATURA_CONFIG,
        )
    except Exception as err:  # trafilatura catches only its own ValueError/TypeError
        logger.warning("trafilatura failed on %s: %r", url, err)
        warnings.append(f"{WARN_TRAFILATURA_ERROR}: {type(err).__name__}")
        return None
    finally:
        if head is not None:
            tree.insert(0, head)


def _main_text(document: object, tree: HtmlElement, titles: list[str], warnings: list[str],
               labels: tuple[str, ...] = ()) -> str:
    text = normalize_text(getattr(document, "text", None) or "", titles, labels)
    contents = dom.entry_contents(tree)
    if text and len(text) >= _SHORTER_RATIO * sum(_text_bound(c) for c in contents):
        return text  # cannot be much shorter than .entry-content: spare the walk
    entry_text = normalize_text("\n".join(block_text(c) for c in contents), titles, labels)
    if not text and entry_text:
        warnings.append(WARN_FALLBACK)
        return entry_text
    if text and len(text) < _SHORTER_RATIO * len(entry_text):
        warnings.append(WARN_SHORTER)
    return text


def _text_bound(element: HtmlElement) -> int:
    """An upper bound of the length of the element's normalized block text: its text, plus the
    "- " of each list item, a space per table cell and a line break per element."""
    return len(element.text_content()) + int(_COUNT_ITEMS(element)) * 2 + int(_COUNT_ELEMENTS(element)) * 2 + 2


def block_text(element: HtmlElement) -> str:
    "Text with a line break around each block element and '- ' before list items, like trafilatura."
    parts: list[str] = []
    _walk(element, parts)
    return "".join(parts)


def _walk(node: HtmlElement, parts: list[str]) -> None:
    tag = node.tag if isinstance(node.tag, str) else None
    if tag is None:  # comment or processing instruction: only its tail is text
        return
    block = tag in _BLOCK_TAGS
    if block:
        parts.append("\n")
    if tag == "li":
        parts.append("- ")
    elif tag in ("td", "th"):
        parts.append(" ")
    if node.text:
        parts.append(node.text)
    for child in node:
        _walk(child, parts)
        if child.tail:
            parts.append(child.tail)
    if block:
        parts.append("\n")


def normalize_text(text: str, titles: list[str] | tuple[str, ...] = (), labels: tuple[str, ...] = ()) -> str:
    """Paragraphs separated by a blank line ("\\n\\n"): NFC, whitespace runs collapsed, no empty lines,
    no unrendered shortcode, no view-counter or theme-label line ("Tags:", "Рубрики:"), no
    leading title, breadcrumb or category-bullet line ("• Events", for `labels` the post's
    categories); "" when nothing is left that has a letter or digit."""
    text = unicodedata.normalize("NFC", text)
    for invisible in _INVISIBLE:
        if invisible in text:
            text = text.replace(invisible, "")
    text = dom.strip_shortcodes(text)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line for line in lines
             if line and not (len(line) <= _VIEWS_MAX and _VIEWS_LINE.match(line)) and not _label_line(line)]
    title_keys = {_title_key(t) for t in titles if t}
    label_keys = {_title_key(t) for t in labels if t}
    while lines and (dom.breadcrumb_line(lines[0]) or _title_key(lines[0]) in title_keys
                     or _bullet_line(lines[0], label_keys)):
        lines.pop(0)
    text = "\n\n".join(lines)
    return text if any(ch.isalnum() for ch in text) else ""


def _label_line(line: str) -> bool:
    """Theme labels only ("Tags:", "Рубрики: ,", "Posted in"); a single bare word ("Author",
    "Теги") may be a heading of the post and stays."""
    return (any(mark in line for mark in ":,;") or " " in line) and dom.labels_only(line)


def _bullet_line(line: str, label_keys: set[str]) -> bool:
    "A bullet alone, or a bullet before one of the post's categories (\"• Events\")."
    match = _BULLET.match(line)
    return match is not None and (not match[1] or _title_key(match[1]) in label_keys)


def _title_key(value: str) -> str:
    return " ".join(value.casefold().split()).strip(" .:;!?–—-")


def _fallback_date(value: str | None, modified: str | None) -> str | None:
    """trafilatura's (htmldate's) publication date, unless it is only the modification day:
    htmldate falls back to article:modified_time when it finds no publication date."""
    found = meta.normalize_date(value)
    if found and modified and modified.startswith(found):
        return None
    return found


def _clean_attr(document: object, name: str) -> str | None:
    value = getattr(document, name, None)
    return meta.clean(value) if isinstance(value, str) else None


def _dedup(values: object) -> tuple[str, ...]:
    names = (meta.clean(v) for v in values if isinstance(v, str))  # type: ignore[union-attr]
    return tuple(dict.fromkeys(n for n in names if n))
