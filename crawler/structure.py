"""A multilingual WordPress site's structure, read from its own pages: pure parsers.

What a site says about its languages and the translations of a page:

- `<link rel="alternate" hreflang="…">` (Polylang on translated posts, home pages and the
  first page of a translated category listing; WPML on every page it can translate);
- the language switcher: Polylang's `li.lang-item` list (`lang-item-<slug>`,
  `current-lang`, `no-translation` for a language without a translation, whose link then
  goes to that language's home), WPML's `li.wpml-ls-item` (`wpml-ls-item-<code>`);
- `<html lang>`;
- Polylang's public REST route `/wp-json/pll/v1/languages` (slug, locale, home URL);
- the REST categories endpoint (`id`, `slug`, `name`, `link`, `count`), which Polylang and
  WPML filter by `?lang=`.

A language's code is normalised (`kz` -> `kk`, `ru-RU` -> `ru`, `en_US` -> `en`): URLs may say
`kz` where hreflang and `<html lang>` say `kk`. Everything here takes text already fetched and
returns plain data; nothing raises on a malformed page.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

from lxml import etree
from lxml import html as lxml_html

from storage.urls import normalize_url

from .extract_meta import language_code

# Names an events category goes by on the sites we archive (casefolded): the last resort
# when no page or API links a language's category to the seed's.
EVENT_NAMES = frozenset({
    "events", "event", "news and events", "мероприятия", "мероприятие", "события", "событие",
    "іс-шаралар", "іс-шара", "шаралар", "оқиғалар", "оқиға",
})


def normalize_language(tag: str | None) -> str | None:
    """The two-letter code of a language tag, locale or URL slug: `kz` -> `kk`, `ru-RU` -> `ru`."""
    return language_code(tag)


# -- pages ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PageLanguages:
    """What one page says about languages."""

    declared: str | None = None  # <html lang>, normalised
    alternates: dict[str, str] = field(default_factory=dict)  # code -> URL (hreflang; x-default left out)
    switcher: dict[str, str] = field(default_factory=dict)  # code -> URL the switcher links
    untranslated: frozenset[str] = frozenset()  # codes the switcher marks as having no translation
    current: str | None = None  # the switcher's current language
    plugin: str | None = None  # "polylang" or "wpml", from the switcher's markup


_SWITCHER_ITEMS = etree.XPath("//li[contains(concat(' ', normalize-space(@class), ' '), ' lang-item ')"
                              " or contains(concat(' ', normalize-space(@class), ' '), ' wpml-ls-item ')]")


def read_languages(html: str, url: str) -> PageLanguages:
    """hreflang alternates, switcher links and `<html lang>` of a page."""
    root = _parse(html)
    if root is None:
        return PageLanguages()
    base = url
    for href in root.xpath("//base/@href")[:1]:
        base = urljoin(url, str(href).strip())
    alternates: dict[str, str] = {}
    for link in root.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        tag = (link.get("hreflang") or "").strip()
        if "alternate" not in rels or not tag or tag.lower() == "x-default" or not link.get("href"):
            continue
        code = normalize_language(tag)
        if code and code not in alternates:
            alternates[code] = urljoin(base, link.get("href").strip())
    switcher: dict[str, str] = {}
    untranslated: set[str] = set()
    current, plugin = None, None
    for item in _SWITCHER_ITEMS(root):
        classes = (item.get("class") or "").split()
        anchor = next(iter(item.iter("a")), None)
        if anchor is None or not anchor.get("href"):
            continue
        plugin = plugin or ("wpml" if "wpml-ls-item" in classes else "polylang")
        code = _switcher_code(item, anchor, classes)
        if code is None or code in switcher:
            continue
        switcher[code] = urljoin(base, anchor.get("href").strip())
        if "no-translation" in classes:
            untranslated.add(code)
        if "current-lang" in classes or "wpml-ls-current-language" in classes:
            current = code
    declared = normalize_language(root.get("lang") or root.get("xml:lang"))
    return PageLanguages(declared, alternates, switcher, frozenset(untranslated), current, plugin)


def _switcher_code(item: Any, anchor: Any, classes: list[str]) -> str | None:
    # Polylang's <a lang hreflang> carry the locale; WPML names the code in its classes and
    # puts lang= on the native name.
    for value in (anchor.get("hreflang"), anchor.get("lang")):
        if code := normalize_language(value):
            return code
    for cls in classes:
        for prefix in ("wpml-ls-item-", "lang-item-"):
            if cls.startswith(prefix) and not cls[len(prefix):].isdigit() and cls[len(prefix):] not in (
                    "first", "legacy-list-horizontal", "legacy-list-vertical", "legacy-dropdown"):
                if code := normalize_language(cls[len(prefix):]):
                    return code
    for span in item.iter("span"):
        if code := normalize_language(span.get("lang")):
            return code
    return None


_CATEGORY_LINKS = etree.XPath("//a[@href]")


def category_links_by_name(html: str, url: str) -> list[tuple[str, str]]:
    """(name, absolute URL) of every link to a category archive on a page (menus, widgets)."""
    root = _parse(html)
    if root is None:
        return []
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    for anchor in _CATEGORY_LINKS(root):
        target = urljoin(url, anchor.get("href").strip())
        if "/category/" not in urlsplit(target).path.lower():
            continue
        name = " ".join(anchor.text_content().split())
        key = normalize_url(target)
        if name and key not in seen:
            seen.add(key)
            found.append((name, target))
    return found


def _parse(html: str) -> Any:
    if not html or not html.strip():
        return None
    try:
        return lxml_html.document_fromstring(html.encode("utf-8", "surrogatepass"),
                                             parser=lxml_html.HTMLParser(encoding="utf-8", remove_comments=True))
    except (etree.ParserError, ValueError):
        return None


# -- REST -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RestLanguage:
    code: str
    slug: str  # the language's URL slug (`kz`)
    locale: str
    home_url: str
    is_default: bool = False


def _objects(body: bytes) -> list[dict[str, Any]]:
    """The objects of a JSON array answer; [] when the answer is anything else."""
    try:
        data = json.loads(body)
    except (TypeError, ValueError):
        return []
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def parse_pll_languages(body: bytes) -> list[RestLanguage]:
    """Polylang's `/wp-json/pll/v1/languages`; [] when the answer is not that."""
    languages = []
    for item in _objects(body):
        if not isinstance(item.get("home_url"), str):
            continue
        code = normalize_language(item.get("locale")) or normalize_language(item.get("slug"))
        if code and item.get("active", True):
            languages.append(RestLanguage(code, str(item.get("slug") or code), str(item.get("locale") or ""),
                                          item["home_url"], bool(item.get("is_default"))))
    return languages


@dataclass(frozen=True)
class RestCategory:
    id: int
    slug: str
    name: str
    link: str
    count: int | None
    parent: int = 0


def parse_rest_categories(body: bytes) -> list[RestCategory]:
    """The categories of a `/wp-json/wp/v2/categories` answer; [] when it is not one."""
    found = []
    for item in _objects(body):
        category_id, link = item.get("id"), item.get("link")
        if isinstance(category_id, bool) or not isinstance(category_id, int) or not isinstance(link, str):
            continue
        count = item.get("count")
        found.append(RestCategory(category_id, str(item.get("slug") or ""), _plain(item.get("name")), link,
                                  count if isinstance(count, int) and not isinstance(count, bool) else None,
                                  item.get("parent") if isinstance(item.get("parent"), int) else 0))
    return found


def _plain(value: Any) -> str:
    text = value if isinstance(value, str) else ""
    return " ".join(re.sub(r"<[^>]+>", " ", text).replace("&amp;", "&").split())


def is_event_name(name: str) -> bool:
    return _name_key(name) in EVENT_NAMES


def _name_key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


# -- URLs -----------------------------------------------------------------------------------------
def category_slug_of(url: str) -> str | None:
    """The slug of a category archive URL (`…/category/<slug>/`, percent-escapes kept)."""
    segments = [s for s in urlsplit(url).path.split("/") if s]
    for here, after in zip(segments, segments[1:]):
        if here.lower() == "category":
            return after
    return None


def language_of_query(url: str) -> str | None:
    """The `lang` query parameter of a URL (WPML and Polylang's query mode), normalised."""
    for key, value in parse_qsl(urlsplit(url).query):
        if key == "lang":
            return normalize_language(value)
    return None


def listing_url(root: str, slug: str, category_base: str = "category") -> str:
    """The first listing page of category `slug` under a language root: `/en/category/x/`,
    or `/category/x/?lang=en` when the root selects its language by query."""
    parts = urlsplit(root)
    path = parts.path.rstrip("/") + f"/{category_base}/{quote(slug.strip('/'), safe='/%')}/"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def paged(url: str, page: int) -> str:
    """Page `page` of a listing whose first page is `url` (`…/page/N/`, any query kept)."""
    if page <= 1:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + f"/page/{page}/"))


def feed_of(url: str) -> str:
    """The RSS feed of a listing whose first page is `url` (`…/feed/`, any query kept)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/feed/"))


def is_post_sitemap(url: str) -> bool:
    """A sub-sitemap of posts: core's wp-sitemap-posts-post-N.xml (per language with Polylang),
    Yoast's and Rank Math's post-sitemapN.xml; not pages, terms, tags or users."""
    name = urlsplit(url).path.rsplit("/", 1)[-1].lower()
    return "post" in name and not any(word in name for word in ("page", "taxonom", "user", "tag", "categor"))


def site_root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def rest_url(root: str, route: str, query: dict[str, Any] | None = None) -> str:
    return f"{site_root(root)}wp-json/{route.strip('/')}" + (f"?{urlencode(query)}" if query else "")


def same_page(a: str, b: str) -> bool:
    return normalize_url(a) == normalize_url(b)


def first_of(values: Iterable[str | None]) -> str | None:
    return next((v for v in values if v), None)


# -- what discovery found -------------------------------------------------------------------------
@dataclass
class FoundLanguage:
    code: str
    root: str  # the language's home: https://kisi.kz/kz/, https://h/?lang=kk, https://kk.h/
    evidence: list[str] = field(default_factory=list)


@dataclass
class FoundSection:
    language: str
    listing: str  # the category's first listing page
    category: str  # its slug, as in the URL
    evidence: list[str] = field(default_factory=list)  # how it was found, strongest first
    category_id: int | None = None  # REST id, when the REST API said
    name: str | None = None
    posts: int | None = None  # REST count, when the REST API said


@dataclass
class SiteStructure:
    """A site's languages and the archived category in each of them, with the evidence."""

    root: str
    seed: str  # the listing discovery started from
    plugin: str | None = None  # "polylang", "wpml" or None (one language, or unknown)
    languages: list[FoundLanguage] = field(default_factory=list)
    sections: list[FoundSection] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)  # language -> why it has no section
    failure: str | None = None  # why nothing can be archived (the seed category does not exist)
    checked_at: str | None = None

    def section(self, language: str) -> FoundSection | None:
        return next((s for s in self.sections if s.language == language), None)

    def to_json(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> SiteStructure | None:
        if not isinstance(data, dict) or not data.get("root"):
            return None
        try:
            return cls(
                root=str(data["root"]), seed=str(data.get("seed") or ""), plugin=data.get("plugin"),
                languages=[FoundLanguage(**lang) for lang in data.get("languages") or []],
                sections=[FoundSection(**found) for found in data.get("sections") or []],
                missing={str(k): str(v) for k, v in (data.get("missing") or {}).items()},
                failure=data.get("failure"), checked_at=data.get("checked_at"))
        except TypeError:
            return None
