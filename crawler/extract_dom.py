"""Parsing and scoping of WordPress pages, ahead of text extraction.

Pure helpers over lxml trees: parse an HTML string without ever raising, classify the page
from WordPress's body classes, find the post's own container, and prune the page chrome
(sidebars, widgets, comments, breadcrumbs, share buttons, category and tag lists) that must
never reach the archived text. Scoping to the post's container is what keeps the text stable
when widgets elsewhere on the page change.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from copy import deepcopy

from lxml import etree
from lxml.html import HtmlElement, HTMLParser, document_fromstring

logger = logging.getLogger(__name__)

# C0 controls (but tab, LF, CR), DEL and lone surrogates: libxml2 chokes on or drops them.
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# Something that starts like markup: without any, the input is not an HTML document.
_MARKUP = re.compile(r"<\s*(?:!doctype|html|head|body|meta|title|div|p|article|main|section|span|a|h[1-6])\b", re.I)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>", re.I)

PAGE_POST = "post"
PAGE_PAGE = "page"
PAGE_ARCHIVE = "archive"
PAGE_UNKNOWN = "unknown"

_POSTID_CLASS = re.compile(r"^postid-(\d+)$")
_PAGEID_CLASS = re.compile(r"^page-id-(\d+)$")
_ARTICLE_ID = re.compile(r"^post-(\d+)$")
_ARCHIVE_CLASSES = frozenset(
    {"archive", "category", "tag", "date", "author", "blog", "search", "search-results", "post-type-archive"}
)


def has_class(*names: str) -> str:
    "XPath predicate body: the element carries one of these whole class tokens."
    return " or ".join(f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')" for name in names)


def _class_contains(*fragments: str) -> str:
    "XPath predicate body: the class attribute contains one of these substrings."
    return " or ".join(f"contains(@class, '{fragment}')" for fragment in fragments)


def _xpaths(*expressions: str) -> tuple[etree.XPath, ...]:
    return tuple(etree.XPath(expression) for expression in expressions)


# Never part of the post itself, whatever the page kind: removed before metadata and text.
NOISE_XPATHS = _xpaths(
    "//script[not(@type='application/ld+json')] | //style | //noscript | //template | //form | //button | //input | //select | //textarea",
    # site header, menus and footer (not an inline <footer> of a quotation or figure)
    f"//header[@id='masthead' or {has_class('site-header', 'wp-block-template-part')}]",
    "//nav",
    f"//footer[@id='colophon' or {has_class('site-footer', 'wp-block-template-part')}]",
    f"//*[@id='colophon' or {has_class('site-footer', 'site-info')}]",
    # sidebars and widgets (whole "widget" token only: "elementor-widget" wraps real content)
    f"//aside[not(ancestor::*[{has_class('entry-content')}])]",
    f"//*[@id='secondary' or @id='sidebar' or {has_class('widget-area', 'sidebar', 'widget', 'widgets')}]",
    # comments and the reply form
    f"//*[@id='comments' or @id='respond' or {has_class('comments-area', 'comment-respond', 'comment-list', 'wp-block-comments', 'commentlist')}]",
    # breadcrumbs, skip links, language switchers
    f"//*[{_class_contains('breadcrumb')} or {_class_contains('crumbs')} or contains(@id, 'breadcrumb') or @typeof='BreadcrumbList']",
    f"//*[{has_class('skip-link', 'screen-reader-text', 'lang-switcher', 'language-switcher', 'wpml-ls', 'polylang-switcher')}]",
    # neighbouring posts, related posts, query loops and listing blocks
    f"//*[{has_class('post-navigation', 'posts-navigation', 'navigation', 'nav-links', 'pagination', 'wp-block-post-navigation-link', 'wp-block-query-pagination')}]",
    f"//*[{has_class('jp-relatedposts', 'related-posts', 'related', 'yarpp-related', 'crp_related')}]",
    f"//*[{has_class('wp-block-latest-posts', 'wp-block-archives', 'wp-block-categories', 'wp-block-tag-cloud', 'wp-block-latest-comments', 'wp-block-search', 'wp-block-calendar', 'wp-block-rss', 'wp-block-page-list')}]",
    # share buttons and view counters (plugins append both inside .entry-content)
    f"//*[{has_class('sharedaddy', 'addtoany_share_save_container', 'a2a_kit', 'ya-share2', 'wp-block-social-links', 'social-share', 'share-buttons', 'sharing')}"
    f" or {_class_contains('heateor', 'share-buttons', 'social-share')}]",
    f"//*[{has_class('pvc_stats', 'post-views', 'views', 'post-views-count')} or {_class_contains('post-views', 'postviews', 'views-count', 'view-count')}]",
)

# Page furniture around the post body: removed from the text only (metadata reads it first).
CHROME_XPATHS = _xpaths(
    f"//*[{has_class('entry-meta', 'post-meta', 'posted-on', 'byline', 'entry-date', 'wp-block-post-date', 'wp-block-post-author', 'wp-block-post-author-name')}]",
    f"//*[{has_class('cat-links', 'tags-links', 'tag-links', 'post-categories', 'entry-categories', 'post-tags', 'entry-tags', 'wp-block-post-terms')}]",
    "//footer[not(ancestor::blockquote) and not(ancestor::figure)]",
    f"//*[{has_class('entry-footer', 'post-footer', 'more-link', 'read-more')}]",
    "//aside",
)
# The post title, kept out of the text so it is not duplicated there (posts and pages only:
# in a listing the post titles are the content).
TITLE_XPATHS = _xpaths(f"//*[{has_class('entry-title', 'wp-block-post-title', 'page-title', 'post-title')}]")
ARCHIVE_TITLE_XPATHS = _xpaths(f"//*[{has_class('page-title', 'archive-title')}]")

_TERM_LINK = etree.XPath("//a[@rel]")
_LABEL_MAX = 40  # "Tagged", "Рубрики:", "Posted in": a label, not a sentence


def looks_like_html(html: str) -> bool:
    "Whether the string has any HTML markup at all (a document, not plain text or binary junk)."
    return bool(_MARKUP.search(html[:100_000]))


def parse_html(html: str) -> tuple[HtmlElement | None, bool]:
    """Parse an HTML string into a document tree, or None when there is nothing to parse;
    the flag says whether libxml2 cut the document at its nesting limit (256 levels).

    Never raises: control characters and lone surrogates are dropped, an XML declaration is
    ignored, and libxml2's recovery mode repairs unclosed tags. The nesting limit is kept
    on purpose: it bounds the recursion of everything downstream.
    """
    if not html or not html.strip():
        return None, False
    cleaned = _XML_DECLARATION.sub("", _BAD_CHARS.sub("", html), count=1)
    if not cleaned.strip():
        return None, False
    # bytes plus an explicit encoding: libxml2 then ignores any <meta charset> in the string,
    # which describes the bytes on the wire, not this already-decoded text
    parser = HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, recover=True)
    try:
        root = document_fromstring(cleaned.encode("utf-8"), parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as err:
        logger.debug("unparseable HTML: %s", err)
        return None, False
    if root is None or not isinstance(root, HtmlElement):
        return None, False
    truncated = any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log)
    return root, truncated


def body_classes(root: HtmlElement) -> tuple[str, ...]:
    body = root.find(".//body")
    return tuple((body.get("class") or "").split()) if body is not None else ()


def page_kind(classes: Iterable[str]) -> str:
    "Classify the page from WordPress's body classes."
    tokens = tuple(classes)
    if "single-post" in tokens or any(_POSTID_CLASS.match(token) for token in tokens):
        return PAGE_POST
    if any(_PAGEID_CLASS.match(token) for token in tokens) or "page" in tokens:
        return PAGE_PAGE
    if any(token in _ARCHIVE_CLASSES or token.startswith("tax-") for token in tokens):
        return PAGE_ARCHIVE
    return PAGE_UNKNOWN


def body_class_id(classes: Iterable[str]) -> int | None:
    "The post id WordPress writes into the body classes (postid-N, else page-id-N)."
    tokens = tuple(classes)
    for pattern in (_POSTID_CLASS, _PAGEID_CLASS):
        for token in tokens:
            if match := pattern.match(token):
                return int(match[1])
    return None


def article_id(element: HtmlElement | None) -> int | None:
    "The post id of a container with id='post-N'."
    if element is None:
        return None
    match = _ARTICLE_ID.match(element.get("id") or "")
    return int(match[1]) if match else None


_OUTSIDE_NOISE = (
    f"not(ancestor-or-self::*[@id='comments' or @id='secondary' or "
    f"{has_class('comments-area', 'comment-list', 'widget', 'widget-area', 'sidebar', 'related-posts', 'wp-block-query')}])"
)
_ARTICLES = etree.XPath(
    f"//article[{has_class('hentry', 'post', 'page', 'type-post', 'type-page', 'entry')} or starts-with(@id, 'post-')][{_OUTSIDE_NOISE}]"
)
_ENTRY_CONTENT = etree.XPath(f"//*[{has_class('entry-content', 'wp-block-post-content')}][{_OUTSIDE_NOISE}]")
_MAINS = etree.XPath("//main | //*[@id='main' or @id='primary' or @role='main']")


def find_post_container(root: HtmlElement, post_id: int | None) -> HtmlElement | None:
    """The element holding exactly one post (title, meta, body), or None on a listing.

    Tried in order: the element with id post-<post_id>; the only WordPress <article>; the
    <main> around the only .entry-content (block themes have no <article>); the parent of
    the only .entry-content.
    """
    if post_id is not None:
        found = root.xpath("//*[@id=$id]", id=f"post-{post_id}")
        if found:
            return found[0]
    articles = _ARTICLES(root)
    if len(articles) == 1:
        return articles[0]
    if len(articles) > 1:
        return None
    contents = entry_contents(root)
    if len(contents) != 1:
        return None
    content = contents[0]
    for main in _MAINS(root):
        if content in main.iterdescendants():
            return main
    parent = content.getparent()
    return parent if parent is not None and parent.tag != "body" else content


def entry_contents(tree: HtmlElement) -> list[HtmlElement]:
    "The outermost .entry-content containers outside comments and widgets, in page order."
    contents = _ENTRY_CONTENT(tree)
    # nested ones (block theme: .wp-block-post-content inside .entry-content) count once
    return [c for c in contents if not any(a in contents for a in c.iterancestors())]


def find_listing_container(root: HtmlElement) -> HtmlElement | None:
    "The main column of a listing page (archive, home), or the body."
    mains = _MAINS(root)
    if mains:
        return mains[0]
    return root.find(".//body")


def prune(tree: HtmlElement, xpaths: Iterable[etree.XPath]) -> HtmlElement:
    "Remove every element matched by the expressions, keeping the text that follows it."
    for xpath in xpaths:
        for element in xpath(tree):
            if element is tree or element.getparent() is None:
                continue
            _drop(element)
    return tree


def _drop(element: HtmlElement) -> None:
    parent = element.getparent()
    tail = element.tail
    if tail and tail.strip():
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def rel_tokens(element: HtmlElement) -> set[str]:
    return set((element.get("rel") or "").lower().split())


def prune_term_links(tree: HtmlElement) -> HtmlElement:
    """Remove category and tag links, and the inline container that only labels them.

    WordPress emits rel="category tag" and rel="tag"; themes wrap them in a span or paragraph
    with a short label ("Posted in", "Рубрики:") and separators that must not reach the text.
    """
    for link in _TERM_LINK(tree):
        if not rel_tokens(link) & {"tag", "category"} or link.getparent() is None:
            continue
        parent = link.getparent()
        _drop(link)
        if parent is tree or parent.getparent() is None or parent.tag in {"body", "article", "main"}:
            continue
        if parent.find(".//a") is None and len(" ".join(parent.text_content().split())) <= _LABEL_MAX:
            _drop(parent)
    return tree


def scoped_document(root: HtmlElement, container: HtmlElement) -> HtmlElement:
    """A new document with the original <html> attributes, a copy of <head> and a body
    holding only a copy of the container: nothing outside the container can influence
    the extraction."""
    html = document_fromstring("<html><head></head><body></body></html>")
    for name, value in root.attrib.items():
        html.set(name, value)
    head, new_head = root.find(".//head"), html.find("head")
    if head is not None:
        new_head.extend(deepcopy(child) for child in head)
    body, new_body = root.find(".//body"), html.find("body")
    if body is not None:
        for name, value in body.attrib.items():
            new_body.set(name, value)
    if container.tag == "body":
        new_body.text = container.text
        new_body.extend(deepcopy(child) for child in container)
    else:
        copied = deepcopy(container)
        copied.tail = None
        new_body.append(copied)
    return html
