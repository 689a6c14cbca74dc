"""Parsing and scoping of WordPress pages, ahead of text extraction.

Pure helpers over lxml trees: parse an HTML string without ever raising, classify the page
from WordPress's body classes, find the post's own container, scope the tree to it, and prune
the page chrome (sidebars, widgets, comments, breadcrumbs, share buttons, category and tag
lists) that must never reach the archived text. Scoping to the post's container is what keeps
the text stable when widgets elsewhere on the page change.

Cost matters here (a crawl parses every page once): the tree is parsed once and changed in
place, never copied; which elements are chrome is decided from their tag, id and class tokens
against sets, in one pass over the (already scoped) tree, rather than with XPath predicates
that rebuild every element's class string once per class name.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HtmlProcessingInstruction, document_fromstring

logger = logging.getLogger(__name__)

# C0 controls (but tab, LF, CR) and DEL: libxml2 chokes on or drops them. Deleted from the
# UTF-8 bytes (they are single bytes there, never part of a multi-byte character), where
# bytes.translate does in 0.1 ms what a regular expression over the text does in 0.6.
_BAD_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
# Something that starts like markup: without any, the input is not an HTML document.
_MARKUP = re.compile(r"<\s*(?:!doctype|html|head|body|meta|title|div|p|article|main|section|span|a|h[1-6])\b", re.I)
_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*>", re.I)
# Every element an lxml.html HtmlElement (what trafilatura requires), looked up in C: lxml.html's
# own lookup calls a Python method for every element Python touches, to make <form>, <input>,
# <select>, <textarea> and <label> special classes this code never uses (forms are noise).
_HTML_CLASSES = etree.ElementDefaultClassLookup(
    element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity
)
# HTML splits class lists on ASCII whitespace (XPath's normalize-space() on space, tab, CR, LF)
_ASCII_SPACE = re.compile(r"[\t\n\f\r ]+")

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
# WordPress writes a post's terms into its classes (category-<slug>, tag-<slug>): a post tagged
# "social share" carries "tag-social-share", which names the post, not a share widget.
_TERM_CLASS_PREFIXES = ("category-", "tag-")


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --- what is noise: never part of the post itself, whatever the page kind --------------------
# Removed before metadata and text are read.
_NOISE_TAGS = _names("style noscript template form button input select textarea nav")
_NOISE_IDS = _names("colophon secondary sidebar comments respond")
# header/footer elements that are the site's own (not the inline <footer> of a quotation)
_SITE_HEADER_IDS, _SITE_FOOTER_IDS = _names("masthead"), _names("colophon")
_SITE_PART_CLASSES = _names("site-header wp-block-template-part")
_SITE_FOOTER_CLASSES = _names("site-footer wp-block-template-part")
_NOISE_CLASSES = _names(
    # site footer
    "site-footer site-info "
    # sidebars and widgets (whole "widget" token only: "elementor-widget" wraps real content)
    "widget-area sidebar widget widgets "
    # comments and the reply form
    "comments-area comment-respond comment-list wp-block-comments commentlist "
    # skip links, language switchers
    "skip-link screen-reader-text lang-switcher language-switcher wpml-ls polylang-switcher "
    # neighbouring posts, related posts, query loops and listing blocks
    "post-navigation posts-navigation navigation nav-links pagination wp-block-post-navigation-link "
    "wp-block-query-pagination jp-relatedposts related-posts related yarpp-related crp_related "
    "wp-block-latest-posts wp-block-archives wp-block-categories wp-block-tag-cloud wp-block-latest-comments "
    "wp-block-search wp-block-calendar wp-block-rss wp-block-page-list "
    # share buttons and view counters (plugins append both inside .entry-content)
    "sharedaddy addtoany_share_save_container a2a_kit ya-share2 wp-block-social-links social-share "
    "share-buttons sharing pvc_stats post-views views post-views-count"
)
# class names that are noise wherever they appear inside a token (breadcrumbs of every plugin,
# share and view-counter plugins that prefix their classes)
_NOISE_CLASS_PARTS = ("breadcrumb", "crumbs", "heateor", "share-buttons", "social-share", "post-views", "postviews",
                      "views-count", "view-count")

# --- page furniture around the post body: removed from the text only -------------------------
# (metadata reads it first)
_CHROME_CLASSES = _names(
    "entry-meta post-meta posted-on byline entry-date wp-block-post-date wp-block-post-author "
    "wp-block-post-author-name "
    "cat-links tags-links tag-links post-categories entry-categories post-tags entry-tags wp-block-post-terms "
    "entry-footer post-footer more-link read-more"
)
# The post title, kept out of the text so it is not duplicated there (posts and pages only:
# in a listing the post titles are the content).
_TITLE_CLASSES = _names("entry-title wp-block-post-title page-title post-title")
_ARCHIVE_TITLE_CLASSES = _names("page-title archive-title")

_ENTRY_CONTENT_CLASSES = _names("entry-content wp-block-post-content")
_ARTICLE_CLASSES = _names("hentry post page type-post type-page entry")
# a post container is never inside these (comments, widgets, related-post blocks)
_OUTSIDE_IDS = _names("comments secondary")
_OUTSIDE_CLASSES = _names("comments-area comment-list widget widget-area sidebar related-posts wp-block-query")
_MAIN_IDS = _names("main primary")

_LABEL_MAX = 40  # "Tagged", "Рубрики:", "Posted in": a label, not a sentence
# The words themes print around term and author links ("Posted in … by … Tags:"), in the
# site's three languages; a line or an element made of these and punctuation only is chrome.
THEME_LABELS = (
    "posted in", "posted on", "posted by", "published in", "published on", "published by", "filed under",
    "categories", "category", "tagged with", "tagged", "tags", "tag", "by", "in", "on", "and", "author",
    "рубрики", "рубрика", "категории", "категория", "метки", "метка", "теги", "тег", "автор", "опубликовано",
    "опубликовано в", "размещено в", "в рубрике", "санаттар", "санат", "белгілер", "тегтер", "жарияланған", "авторы",
)
_LABELS_ONLY = re.compile(
    r"^(?:[\s\W_]*(?:" + "|".join(re.escape(label) for label in sorted(THEME_LABELS, key=len, reverse=True))
    + r")(?![^\W\d_]))+[\s\W_]*$",
    re.I,
)
_LABELS_LINE_MAX = 100  # longer than any label list; bounds the regular expression's work


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
    # lone surrogates cannot be encoded: "ignore" drops them
    data = html.encode("utf-8", "ignore").translate(None, _BAD_BYTES)
    data = _XML_DECLARATION.sub(b"", data, count=1)
    if len(data) < 1024 and not data.decode("utf-8", "ignore").strip():
        return None, False
    # bytes plus an explicit encoding: libxml2 then ignores any <meta charset> in the string,
    # which describes the bytes on the wire, not this already-decoded text
    parser = etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, recover=True)
    parser.set_element_class_lookup(_HTML_CLASSES)
    try:
        root = document_fromstring(data, parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as err:
        logger.debug("unparseable HTML: %s", err)
        return None, False
    if root is None or not isinstance(root, HtmlElement):
        return None, False
    truncated = any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log)
    return root, truncated


# --- classes, ids, rel -----------------------------------------------------------------------


def class_tokens(element: HtmlElement) -> list[str]:
    "The element's class names (split on ASCII whitespace, as HTML does)."
    value = element.get("class")
    if not value:
        return []
    return value.split() if value.isascii() else [t for t in _ASCII_SPACE.split(value) if t]


def has_class(element: HtmlElement, names: frozenset[str]) -> bool:
    "Whether the element carries one of these whole class names."
    value = element.get("class")
    return bool(value) and not names.isdisjoint(class_tokens(element))


def rel_tokens(element: HtmlElement) -> set[str]:
    return set((element.get("rel") or "").lower().split())


def _inside(element: HtmlElement, names: frozenset[str]) -> bool:
    return any(has_class(a, names) for a in element.iterancestors())


def body_of(root: HtmlElement) -> HtmlElement | None:
    body = root.find("body")
    return body if body is not None else root.find(".//body")


def body_classes(root: HtmlElement) -> tuple[str, ...]:
    body = body_of(root)
    return tuple(class_tokens(body)) if body is not None else ()


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


# --- finding the post ------------------------------------------------------------------------

# libxml2 indexes HTML ids as it parses: id() is a lookup, //*[@id=…] a walk of the whole page
_ID_LOOKUP = etree.XPath("id($id)")
_BY_ID = etree.XPath("//*[@id=$id]")
# Cheap candidate searches: the class tests run in Python on the few elements these return.
_ARTICLE_CANDIDATES = etree.XPath("//article")
_CLASS_CANDIDATES = etree.XPath("//*[contains(@class, 'entry-content') or contains(@class, 'wp-block-post-content')]")
_MAINS = etree.XPath("//main | //*[@id='main' or @id='primary' or @role='main']")


def _outside_noise(element: HtmlElement) -> bool:
    "Not a comment, a widget, a sidebar or a related-posts block, nor inside one."
    for node in (element, *element.iterancestors()):
        if node.get("id") in _OUTSIDE_IDS or has_class(node, _OUTSIDE_CLASSES):
            return False
    return True


def _is_article(element: HtmlElement) -> bool:
    return has_class(element, _ARTICLE_CLASSES) or (element.get("id") or "").startswith("post-")


def find_post_container(root: HtmlElement, post_id: int | None) -> HtmlElement | None:
    """The element holding exactly one post (title, meta, body), or None on a listing.

    Tried in order: the element with id post-<post_id>; the only WordPress <article>; the
    <main> around the only .entry-content (block themes have no <article>); the parent of
    the only .entry-content.
    """
    if post_id is not None:
        wanted = f"post-{post_id}"
        found = _ID_LOOKUP(root, id=wanted)
        if not found or found[0].get("id") != wanted:  # HTML's id() also answers <a name=…>
            found = _BY_ID(root, id=wanted)
        if found:
            return found[0]
    articles = [a for a in _ARTICLE_CANDIDATES(root) if _is_article(a) and _outside_noise(a)]
    if len(articles) == 1:
        return articles[0]
    if len(articles) > 1:
        return None
    contents = entry_contents(root)
    if len(contents) != 1:
        return None
    content = contents[0]
    ancestors = set(content.iterancestors())
    for main in _MAINS(root):
        if main in ancestors:
            return main
    parent = content.getparent()
    return parent if parent is not None and parent.tag != "body" else content


def entry_contents(tree: HtmlElement) -> list[HtmlElement]:
    "The outermost .entry-content containers outside comments and widgets, in page order."
    contents = [c for c in _CLASS_CANDIDATES(tree) if has_class(c, _ENTRY_CONTENT_CLASSES) and _outside_noise(c)]
    # nested ones (block theme: .wp-block-post-content inside .entry-content) count once
    found = set(contents)
    return [c for c in contents if found.isdisjoint(c.iterancestors())]


def find_listing_container(root: HtmlElement) -> HtmlElement | None:
    "The main column of a listing page (archive, home), or the body."
    mains = _MAINS(root)
    if mains:
        return mains[0]
    return body_of(root)


def scope_to(root: HtmlElement, container: HtmlElement) -> HtmlElement:
    """Change the document in place so that its body holds only the container (the <html>
    and <body> attributes and the <head> stay): nothing outside the container can influence
    the extraction. Moves the container, copies nothing; returns the body. A container that
    is not inside the body (an id on <html>) leaves the body as it is."""
    body = body_of(root)
    if body is None:  # libxml2 always builds one; keep the promise anyway
        body = etree.SubElement(root, "body")
    if container is body or body not in set(container.iterancestors()):
        return body
    container.getparent().remove(container)  # lxml keeps the tail with the element: drop it
    container.tail = None
    for child in list(body):
        body.remove(child)
    body.text = None
    body.append(container)
    return body


# --- pruning ---------------------------------------------------------------------------------


def _noise(element: HtmlElement, tag: str) -> bool:
    "Whether the element is page chrome that is never part of a post (see the sets above)."
    if tag in _NOISE_TAGS:
        return True
    if tag == "script":
        return element.get("type") != "application/ld+json"
    ident = element.get("id")
    if ident is not None and (ident in _NOISE_IDS or "breadcrumb" in ident):
        return True
    value = element.get("class")
    tokens = class_tokens(element) if value else []
    if tokens and not _NOISE_CLASSES.isdisjoint(tokens):
        return True
    if tag == "header" and (ident in _SITE_HEADER_IDS or not _SITE_PART_CLASSES.isdisjoint(tokens)):
        return True
    if tag == "footer" and (ident in _SITE_FOOTER_IDS or not _SITE_FOOTER_CLASSES.isdisjoint(tokens)):
        return True
    if tag == "aside" and not _inside(element, _ENTRY_CONTENT_CLASSES):
        return True
    if value and any(part in value for part in _NOISE_CLASS_PARTS):
        terms = [token for token in tokens if not token.startswith(_TERM_CLASS_PREFIXES)]
        if any(part in token for token in terms for part in _NOISE_CLASS_PARTS):
            return True
    return element.get("typeof") == "BreadcrumbList"


def _chrome(element: HtmlElement, tag: str) -> bool:
    "Whether the element is the furniture around a post body (byline, term lists, its footer)."
    if tag == "aside":
        return True
    if tag == "footer" and not any(a.tag in ("blockquote", "figure") for a in element.iterancestors()):
        return True
    return has_class(element, _CHROME_CLASSES)


@dataclass
class Furniture:
    """What one pass over the scoped tree found: the elements to drop, in their order."""

    noise: list[HtmlElement] = field(default_factory=list)
    chrome: list[HtmlElement] = field(default_factory=list)
    titles: list[HtmlElement] = field(default_factory=list)
    breadcrumbs: list[HtmlElement] = field(default_factory=list)


def classify(tree: HtmlElement, keep: Iterable[HtmlElement], single: bool) -> Furniture:
    """One pass over the tree: noise, chrome, titles (of a post, or of an archive when not
    single) and plain-text breadcrumbs. Elements in `keep` (the document, its head and body,
    the post container) are never classified: dropping them would drop the post."""
    kept = set(keep)
    found = Furniture()
    title_classes = _TITLE_CLASSES if single else _ARCHIVE_TITLE_CLASSES
    for element in tree.iter(etree.Element):
        if element in kept:
            continue
        tag = element.tag
        if tag in _PLAIN_TAGS and not element.attrib:
            # most of a post: paragraphs, links, emphasis without any attribute; only a
            # breadcrumb can hide in one
            if tag in _BREADCRUMB_TAGS and _may_start_breadcrumb(element) and _starts_like_breadcrumb(element):
                found.breadcrumbs.append(element)
            continue
        if _noise(element, tag):
            found.noise.append(element)
            continue
        if _chrome(element, tag):
            found.chrome.append(element)
        if has_class(element, title_classes):
            found.titles.append(element)
        if tag in _BREADCRUMB_TAGS and _may_start_breadcrumb(element) and _starts_like_breadcrumb(element):
            found.breadcrumbs.append(element)
    return found


# tags that are never noise, chrome or a title by themselves (their attributes decide)
_PLAIN_TAGS = _names("p a span strong em b i u br li ul ol div td tr th tbody table h2 h3 h4 h5 h6 blockquote img sup sub small")


def drop_all(elements: Iterable[HtmlElement]) -> None:
    "Remove every element, keeping the text that follows it."
    for element in elements:
        if element.getparent() is not None:
            drop(element)


def drop(element: HtmlElement) -> None:
    "Remove one element, keeping its tail text (whitespace included: words must not run together)."
    parent = element.getparent()
    tail = element.tail
    if tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def prune_term_links(tree: HtmlElement) -> HtmlElement:
    """Remove category and tag links, and the inline container that only labels them.

    WordPress emits rel="category tag" and rel="tag"; themes wrap them in a span or paragraph
    with a short label ("Posted in", "Рубрики:") and separators that must not reach the text.
    A container left with theme labels only ("Posted in … by … Tags:") goes too, with any
    author link in it.
    """
    for link in list(tree.iter("a")):
        if not rel_tokens(link) & {"tag", "category"} or link.getparent() is None:
            continue
        parent = link.getparent()
        drop(link)
        if parent is tree or parent.getparent() is None or parent.tag in {"body", "article", "main"}:
            continue
        if has_class(parent, _ENTRY_CONTENT_CLASSES) or _holds_content(parent):
            continue
        text = " ".join(parent.text_content().split())
        if (parent.find(".//a") is None and len(text) <= _LABEL_MAX) or _labels_only(parent):
            drop(parent)
    return tree


def _holds_content(element: HtmlElement) -> bool:
    "Whether the element wraps a post body (never dropped as a label container)."
    return any(has_class(e, _ENTRY_CONTENT_CLASSES) for e in element.iterdescendants())


def _labels_only(element: HtmlElement) -> bool:
    """Theme labels, separators and author links only: "Posted in by admin Tags: ,"."""
    parts = [element.text or ""]
    for child in element:
        if not (child.tag == "a" and "author" in rel_tokens(child)):
            parts.append(child.text_content())
        parts.append(child.tail or "")
    return labels_only(" ".join(" ".join(parts).split()))


def labels_only(text: str) -> bool:
    "Whether a line of text is theme labels and punctuation only (\"Tags:\", \"Рубрики: ,\")."
    return len(text) <= _LABELS_LINE_MAX and bool(_LABELS_ONLY.match(text))


# --- breadcrumbs printed as plain text -------------------------------------------------------

# The first item of a breadcrumb trail on WordPress themes in the site's languages; the old
# kisi.kz theme prints "Home »", the current one "Main page »" (once "Главная страница »").
HOME_LABELS = ("main page", "home page", "home", "главная страница", "главная", "басты бет", "басты парақ")
BREADCRUMB_SEPARATORS = "»›>/→|"
_BREADCRUMB_TAGS = _names("div p span nav ol ul li")
_BREADCRUMB_MAX = 300


def breadcrumb_line(text: str) -> bool:
    """Whether a line is a breadcrumb trail: a home label, then a separator ("Main page » …",
    "Home » Events » …", "Главная страница > …"), or a home label alone."""
    line = " ".join(text.split()).casefold()
    for label in HOME_LABELS:
        if line.startswith(label):
            rest = line[len(label) :].lstrip()
            return not rest or rest[0] in BREADCRUMB_SEPARATORS
    return False


_HOME_INITIALS = frozenset(label[0] for label in HOME_LABELS)


def _may_start_breadcrumb(element: HtmlElement) -> bool:
    "A cheap first test: the element's first text (or first link's) starts like a home label."
    lead = element.text
    if lead is None or not lead.strip():
        lead = element[0].text if len(element) and element[0].tag == "a" else None
    lead = lead.lstrip() if lead else ""
    return bool(lead) and lead[0].casefold() in _HOME_INITIALS


def _starts_like_breadcrumb(element: HtmlElement) -> bool:
    "A block that begins with a home label (its own text or its first link) and reads as a trail."
    lead = (element.text or "").strip()
    if not lead and len(element) and element[0].tag == "a":
        lead = (element[0].text or "").strip()
    if not lead or not lead.casefold().startswith(HOME_LABELS):
        return False
    text = " ".join(element.text_content().split())
    return len(text) <= _BREADCRUMB_MAX and breadcrumb_line(text) and not _holds_content(element)


# --- WordPress shortcodes left as text -------------------------------------------------------

# A shortcode whose plugin is gone is printed as typed: "[bws_pdfprint display='pdf,print']".
# Recognised: a name with attributes, or a plugin-style name (with "_" or "-") alone; never
# "[1]", "[sic]" or "[…]" of real prose.
_SHORTCODE = re.compile(
    r"\[(?P<name>[A-Za-z][\w-]*)(?:\s+[\w-]+\s*=\s*(?:'[^'\]]*'|\"[^\"\]]*\"|[^\s'\"\]]+))+\s*/?\]"
    r"|\[(?P<plugin>[A-Za-z][A-Za-z0-9]*[_-][\w-]*)\s*/?\]"
)
_CLOSING_SHORTCODE = re.compile(r"\[/([A-Za-z][\w-]*)\]")


def strip_shortcodes(text: str, names: set[str] | None = None) -> str:
    """The text without unrendered shortcodes, and without the closing tags of those it
    removed (or of the names given, which it adds to)."""
    if "[" not in text:
        return text
    names = set() if names is None else names

    def opening(match: re.Match[str]) -> str:
        names.add(match["name"] or match["plugin"])
        return ""

    text = _SHORTCODE.sub(opening, text)
    if names and "[/" in text:
        text = _CLOSING_SHORTCODE.sub(lambda m: "" if m[1] in names else m[0], text)
    return text


def remove_shortcodes(tree: HtmlElement) -> None:
    """Remove unrendered shortcodes from the text nodes of the tree, in place; a closing tag
    ("[/caption]") goes when its opening tag went, wherever in the tree that was."""
    nodes = [e for e in tree.iter(etree.Element) if "[" in (e.text or "") or "[" in (e.tail or "")]
    if not nodes:
        return
    names: set[str] = set()
    for _ in range(2):  # the second round removes closing tags met before their opening tag's name was known
        for element in nodes:
            if element.text and "[" in element.text:
                element.text = strip_shortcodes(element.text, names)
            if element.tail and "[" in element.tail:
                element.tail = strip_shortcodes(element.tail, names)


def iter_links(tree: HtmlElement, rel: str) -> Iterator[HtmlElement]:
    "The <a> elements whose rel names this relation, in document order."
    for link in tree.iter("a"):
        if rel in rel_tokens(link):
            yield link
