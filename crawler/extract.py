"""Main text and metadata of one WordPress page: a pure function of (HTML, URL, Link header).

The spider and the storage depend on ``extract_page``, ``ExtractedPage`` and ``decode_html``.

How a page is read:

1. ``decode_html`` turns the response bytes into text (BOM, HTTP charset, <meta charset>,
   then strict UTF-8 with windows-1251 as the fallback for undeclared legacy pages).
2. The page is classified from WordPress's body classes (post, page, archive, unknown) and
   scoped: for a single post or page, a new document holding the original <head> and a copy
   of the post's own container only. Widgets, recent-post lists, counters and nonces elsewhere
   on the page therefore cannot change the result.
3. Noise (comments, sidebars, navigation, breadcrumbs, share buttons, view counters) is pruned;
   metadata is read from the page's own signals (see ``extract_meta``).
4. Page furniture (title, byline, category and tag lists) is pruned and trafilatura extracts
   the text, favouring precision, with the lowered size minimums of ``trafilatura.cfg``.
   When it still returns nothing, the text of ``.entry-content`` is used, with a warning.
   Archive pages are the exception: trafilatura keeps one excerpt of a listing, so their
   text is the pruned listing itself (post titles and excerpts), and no categories, tags,
   dates or author are taken from the posts they happen to list.
5. The text is normalized: NFC, one paragraph per line joined by "\\n", whitespace collapsed,
   no empty lines, no leading title or breadcrumb line, no view-counter lines.

Example::

    page = extract_page(html, "https://kisi.kz/en/some-event/", link_header=None)
    page.post_id, page.categories, page.text
"""

from __future__ import annotations

import logging
import re
import unicodedata
from codecs import getincrementaldecoder
from configparser import ConfigParser
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path

import trafilatura
from lxml.html import HtmlElement
from trafilatura.settings import use_config
from w3lib.encoding import html_to_unicode

from . import extract_dom as dom
from . import extract_meta as meta

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
_INVISIBLE = str.maketrans("", "", "\u200b\u2060\ufeff")
_VIEWS_LINE = re.compile(
    r"^(?:views|просмотр(?:ов|ы)?|қаралым(?:дар)?|қаралды)\s*[:\-–]?\s*[\d\s]+$",
    re.I,
)
_BREADCRUMB_LINE = re.compile(r"^(?:главная страница|главная|басты бет|басты парақ|home)\s*(?:»|›|>|/|→|\|)", re.I)
_BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd details div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tr ul".split()
)


def _load_config(path: Path = CONFIG_PATH) -> ConfigParser:
    # read once, at import: a missing shipped config fails loudly here, not page by page
    return use_config(str(path))


TRAFILATURA_CONFIG = _load_config()


@dataclass(frozen=True)
class ExtractedPage:
    title: str | None
    text: str
    canonical_url: str | None
    shortlink: str | None
    post_id: int | None
    language: str | None
    date_published: str | None
    date_modified: str | None
    author: str | None
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    alternates: dict[str, str]
    page_kind: str
    extractor: dict[str, str]
    warnings: tuple[str, ...]


def decode_html(body: bytes, content_type: str | None) -> str:
    """Decode a response body: BOM, then the HTTP charset, then <meta charset>, then UTF-8
    (windows-1251 when the bytes are not valid UTF-8). Never raises; undecodable bytes
    become U+FFFD.

    A BOM wins over the HTTP charset, as in browsers (WHATWG encoding sniffing) and
    w3lib: it cannot appear by accident, while server charsets are often a global default.
    """
    if not body:
        return ""
    if isinstance(content_type, bytes):  # Scrapy's header values are bytes
        content_type = content_type.decode("latin-1")
    _, text = html_to_unicode(content_type, body, default_encoding="utf-8", auto_detect_fun=_sniff_encoding)
    return text


def _sniff_encoding(body: bytes) -> str:
    # not final: a body cut inside a multi-byte sequence is still UTF-8
    try:
        getincrementaldecoder("utf-8")().decode(body, final=False)
    except UnicodeDecodeError:
        return "cp1251"  # the legacy encoding of Russian and Kazakh sites
    return "utf-8"


def extract_page(html: str, url: str, link_header: str | None = None) -> ExtractedPage:
    """Extract the main text and metadata of a WordPress page. Pure and deterministic;
    never raises: an empty, garbage or broken page gives text "" and a warning.

    ``url`` is the final URL of the response (relative links resolve against it);
    ``link_header`` the HTTP Link header, several headers joined with ", " (bytes accepted).
    """
    try:
        if isinstance(link_header, bytes):
            link_header = link_header.decode("latin-1")
        return _extract_page(html or "", url or "", link_header)
    except Exception as err:  # one bad page must never stop a crawl
        logger.error("extraction failed for %s: %r", url, err, exc_info=True)
        return _page_without_document(url, link_header, (f"{WARN_ERROR}: {type(err).__name__}",))


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


def _extract_page(html: str, url: str, link_header: str | None) -> ExtractedPage:
    if not html or not html.strip():
        return _page_without_document(url, link_header, (WARN_EMPTY,))
    if not dom.looks_like_html(html):
        return _page_without_document(url, link_header, (WARN_NOT_HTML,))
    root, truncated = dom.parse_html(html)
    if root is None:
        return _page_without_document(url, link_header, (WARN_UNPARSEABLE,))

    warnings: list[str] = [WARN_TRUNCATED] if truncated else []
    base = meta.base_url(root, url)
    classes = dom.body_classes(root)
    kind = dom.page_kind(classes)
    canonical = meta.canonical_url(root, base)
    link = meta.shortlink(root, base, link_header)
    post_id = meta.shortlink_post_id(link) or dom.body_class_id(classes)

    container = dom.find_post_container(root, post_id) if kind != dom.PAGE_ARCHIVE else None
    if container is None and kind in (dom.PAGE_POST, dom.PAGE_PAGE):
        warnings.append(WARN_NO_CONTAINER)
    if post_id is None and container is not None:
        post_id = dom.article_id(container)
    single = container is not None
    scope = container if single else dom.find_listing_container(root)
    doc = dom.scoped_document(root, scope if scope is not None else root)
    dom.prune(doc, dom.NOISE_XPATHS)
    meta_body = doc.find("body")
    post = meta_body if single else None

    ld = meta.json_ld_objects(root)
    found_alternates = meta.alternates(root, base)
    categories, tags = meta.terms(meta_body)

    text_doc = _text_document(doc, single)
    document = _run_trafilatura(text_doc, url, warnings)
    titles = [*meta.post_titles(post)]
    title = meta.title(root, meta_body, not single, ld) or _clean_attr(document, "title")
    if title:
        titles.insert(0, title)
    if kind == dom.PAGE_ARCHIVE:
        # trafilatura looks for one article and keeps a single excerpt of a listing: the
        # listing's own text (titles and excerpts, chrome pruned) is the faithful one
        text = normalize_text(block_text(text_doc.find("body")), titles)
    else:
        text = _main_text(document, text_doc, titles, warnings)

    modified = meta.date_modified(root, post, ld)
    published = meta.date_published(root, post, ld)
    if published is None and single:
        published = _fallback_date(document, modified)
    if single and not categories and not tags:
        categories = _dedup(getattr(document, "categories", None) or ())
        tags = tuple(t for t in _dedup(getattr(document, "tags", None) or ()) if t not in categories)
    elif not single:
        # a listing's terms are those of the posts it happens to show now, not its own
        categories, tags = (), ()

    if not text:
        warnings.append(WARN_NO_TEXT)
    if not title:
        warnings.append(WARN_NO_TITLE)
    return ExtractedPage(
        title=title,
        text=text,
        canonical_url=canonical,
        shortlink=link,
        post_id=post_id,
        language=meta.language(root, found_alternates, canonical, url)
        or meta.language_code(_clean_attr(document, "language")),
        date_published=published,
        date_modified=modified,
        author=meta.author(root, post, ld) or (_clean_attr(document, "author") if single else None),
        categories=categories,
        tags=tags,
        alternates=found_alternates,
        page_kind=kind,
        extractor=dict(EXTRACTOR),
        warnings=tuple(dict.fromkeys(warnings)),
    )


def _text_document(doc: HtmlElement, single: bool) -> HtmlElement:
    "A copy of the scoped document without the furniture around the body."
    text_doc = deepcopy(doc)
    dom.prune(text_doc, dom.CHROME_XPATHS)
    dom.prune_term_links(text_doc)
    dom.prune(text_doc, dom.TITLE_XPATHS if single else dom.ARCHIVE_TITLE_XPATHS)
    return text_doc


def _run_trafilatura(text_doc: HtmlElement, url: str, warnings: list[str]) -> trafilatura.settings.Document | None:
    try:
        return trafilatura.bare_extraction(
            text_doc,
            url=url or None,
            favor_precision=True,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            with_metadata=True,
            date_extraction_params=dict(_DATE_PARAMS),
            config=TRAFILATURA_CONFIG,
        )
    except Exception as err:  # trafilatura catches only its own ValueError/TypeError
        logger.warning("trafilatura failed on %s: %r", url, err)
        warnings.append(f"{WARN_TRAFILATURA_ERROR}: {type(err).__name__}")
        return None


def _main_text(document: object, text_doc: HtmlElement, titles: list[str], warnings: list[str]) -> str:
    text = normalize_text(getattr(document, "text", None) or "", titles)
    entry_text = normalize_text(_entry_content_text(text_doc), titles)
    if not text and entry_text:
        warnings.append(WARN_FALLBACK)
        return entry_text
    if text and len(text) < _SHORTER_RATIO * len(entry_text):
        warnings.append(WARN_SHORTER)
    return text


def _entry_content_text(text_doc: HtmlElement) -> str:
    "Block-separated text of the .entry-content containers left in the text document."
    return "\n".join(block_text(c) for c in dom.entry_contents(text_doc))


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


def normalize_text(text: str, titles: list[str] | tuple[str, ...] = ()) -> str:
    """One paragraph per line joined by "\\n": NFC, whitespace runs collapsed, no empty lines,
    no leading title or breadcrumb line, no view-counter line; "" when nothing is left that
    has a letter or digit."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line for line in lines if line and not _VIEWS_LINE.match(line)]
    title_keys = {_title_key(t) for t in titles if t}
    while lines and (_BREADCRUMB_LINE.match(lines[0]) or _title_key(lines[0]) in title_keys):
        lines.pop(0)
    text = "\n".join(lines)
    return text if any(ch.isalnum() for ch in text) else ""


def _title_key(value: str) -> str:
    return " ".join(value.casefold().split()).strip(" .:;!?–—-")


def _fallback_date(document: object, modified: str | None) -> str | None:
    """trafilatura's (htmldate's) publication date, unless it is only the modification day:
    htmldate falls back to article:modified_time when it finds no publication date."""
    found = meta.normalize_date(_clean_attr(document, "date"))
    if found and modified and modified.startswith(found):
        return None
    return found


def _clean_attr(document: object, name: str) -> str | None:
    value = getattr(document, name, None)
    return meta.clean(value) if isinstance(value, str) else None


def _dedup(values: object) -> tuple[str, ...]:
    names = (meta.clean(v) for v in values if isinstance(v, str))  # type: ignore[union-attr]
    return tuple(dict.fromkeys(n for n in names if n))
