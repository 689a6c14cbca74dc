"""What the multilingual plugin prints on a page: translation links, hreflang, the switcher.

Polylang (the free plugin, 3.8) is modelled on its source:
- which page has a translation in which language: src/frontend/frontend-links.php,
  PLL_Frontend_Links::get_translation_url();
- the hreflang links: src/frontend/frontend-filters-links.php, wp_head();
- the switcher: src/switcher.php (get_elements) and src/walker-list.php (start_el), inside the
  widget of src/widget-languages.php.
WPML is closed source; its behaviour comes from the copy of sitepress-multilingual-cms that
public sites vendor: classes/seo/class-wpml-seo-headlangs.php (hreflang) and
classes/language-switcher/class-wpml-ls-model-build.php with
templates/language-switchers/legacy-list-horizontal/template.twig (the footer switcher).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from .i18n import language_name_in
from .state import Category, Post, SiteState


@dataclass(frozen=True)
class View:
    """What a front-end page shows, as far as translations are concerned."""

    kind: str  # 'single' | 'home' | 'category' | 'archive' | 'tag' | 'not_found'
    lang: str
    page: int = 1
    post: Post | None = None
    category: Category | None = None
    # Date and author archives: the archive's path without language, and which posts it holds.
    archive_path: str = ""
    archive_filter: Callable[[Post], bool] | None = None


def translation_urls(state: SiteState, view: View) -> dict[str, str]:
    """Site-relative URL of this page in each language that has one, in the site's order."""
    if state.options.plugin == "wpml":
        return _wpml_urls(state, view)
    return _polylang_urls(state, view)


def _polylang_urls(state: SiteState, view: View) -> dict[str, str]:
    urls: dict[str, str] = {}
    for code in state.codes:
        url: str | None = None
        if view.kind == "single" and view.post is not None:
            translation = state.translations(view.post).get(code)
            url = state.path_of(translation) if translation else None
        elif view.kind == "category" and view.category is not None:
            # The translated term is linked only when it has posts (pll_hide_archive_translation_url).
            term = state.category_translations(view.category).get(code)
            if term is not None and (term is view.category or state.posts_in(term)):
                url = state.category_path(term)
        elif view.kind == "tag":
            # Tags are translated terms too; ours are never translated: only the page itself.
            url = state.link(code, view.archive_path) if code == view.lang else None
        elif view.kind == "archive" and view.archive_filter is not None:
            # is_archive(): the same archive in the other language if it would list any post.
            if any(view.archive_filter(p) for p in state.published("post", code)):
                url = state.link(code, view.archive_path)
        elif view.kind == "home":
            url = state.home_path(code)
        if url:
            urls[code] = url
    return urls


def _wpml_urls(state: SiteState, view: View) -> dict[str, str]:
    # get_ls_languages(skip_missing): posts and terms list only their existing translations;
    # the home page and other archives exist in every language.
    if view.kind == "single" and view.post is not None:
        return {code: state.path_of(p) for code, p in state.translations(view.post).items()}
    if view.kind == "category" and view.category is not None:
        return {code: state.category_path(c) for code, c in state.category_translations(view.category).items()}
    if view.kind in ("archive", "tag"):
        return {code: state.link(code, view.archive_path) for code in state.codes}
    if view.kind == "home":
        return {code: state.home_path(code) for code in state.codes}
    return {}


def hreflang_links(state: SiteState, view: View, root: str) -> str:
    """The <link rel="alternate" hreflang> lines of <head>, exactly as the plugin prints them."""
    if view.page > 1 or view.kind == "not_found":
        return ""  # neither plugin prints them on paged archives (nor does a 404 have any)
    urls = translation_urls(state, view)
    if state.options.plugin == "wpml":
        return _wpml_hreflang(state, view, urls, root)
    return _polylang_hreflang(state, view, urls, root)


def _polylang_hreflang(state: SiteState, view: View, urls: dict[str, str], root: str) -> str:
    if len(urls) < 2:
        return ""  # "Outputs the section only if there are translations"
    locales = {code: state.language(code).w3c for code in urls}
    primary = {code: locale.split("-")[0] for code, locale in locales.items()}
    shared = Counter(primary.values())
    lines = []
    for code, url in urls.items():
        # The country code only when two languages share the language part: ru-RU -> ru, kk -> kk.
        attr = locales[code] if shared[primary[code]] > 1 else primary[code]
        lines.append(f'<link rel="alternate" href="{escape(root + url)}" hreflang="{attr}" />\n')
    if view.kind == "home" and not state.options.hide_default:
        lines.append(f'<link rel="alternate" href="{escape(root)}/" hreflang="x-default" />\n')
    return "".join(lines)


def _wpml_hreflang(state: SiteState, view: View, urls: dict[str, str], root: str) -> str:
    if not urls:
        return ""
    lines = []
    default_url = None
    for code, url in urls.items():
        # get_hreflang_code(): the language tag, '_' to '-', lower-cased (en-us, ru-ru, kk).
        attr = state.language(code).w3c.lower()
        lines.append(f'<link rel="alternate" hreflang="{attr}" href="{escape(root + url)}" />\n')
        if code == state.default_language:
            default_url = url
    if default_url is not None:
        lines.append(f'<link rel="alternate" hreflang="x-default" href="{escape(root + default_url)}" />\n')
    return "".join(lines)


def switcher(state: SiteState, view: View, root: str) -> str:
    if state.options.plugin == "wpml":
        return _wpml_switcher(state, view, root)
    return _polylang_switcher(state, view, root)


def _polylang_switcher(state: SiteState, view: View, root: str) -> str:
    urls = translation_urls(state, view)
    items = []
    first = True
    for lang in state.languages:
        # hide_if_empty (on by default): a language without any published post or page is left out.
        if not any(p.is_published and p.lang == lang.code for p in state.posts):
            continue
        classes = ["lang-item", f"lang-item-{lang.term_id}", f"lang-item-{lang.slug}"]
        current = lang.code == view.lang
        if current:
            classes.append("current-lang")
        url = urls.get(lang.code)
        if url is None:
            classes.append("no-translation")
            url = state.home_path(lang.code)  # "If the page is not translated, link to the home page"
        if first:
            classes.append("lang-item-first")
            first = False
        aria = ' aria-current="true"' if current else ""
        items.append(
            f'\t<li class="{" ".join(classes)}"><a lang="{lang.w3c}" hreflang="{lang.w3c}" '
            f'href="{escape(root + url)}"{aria}>{escape(lang.name)}</a></li>\n'
        )
    return (
        '<section id="polylang-2" class="widget widget_polylang"><nav aria-label="Choose a language">'
        "<ul>\n" + "".join(items) + "</ul>\n</nav></section>\n"
    )


def _wpml_switcher(state: SiteState, view: View, root: str) -> str:
    urls = translation_urls(state, view)
    codes = [code for code in state.codes if code in urls]
    items = []
    for i, code in enumerate(codes):
        lang = state.language(code)
        classes = ["wpml-ls-slot-footer", "wpml-ls-item", f"wpml-ls-item-{lang.slug}"]
        current = code == view.lang
        if current:
            classes.append("wpml-ls-current-language")
        if i == 0:
            classes.append("wpml-ls-first-item")
        if i == len(codes) - 1:
            classes.append("wpml-ls-last-item")
        classes.append("wpml-ls-item-legacy-list-horizontal")
        if current:
            label = f'<span class="wpml-ls-native">{escape(lang.name)}</span>'
        else:
            label = (
                f'<span class="wpml-ls-native" lang="{lang.slug}">{escape(lang.name)}</span>'
                f'<span class="wpml-ls-display"><span class="wpml-ls-bracket"> (</span>'
                f'{escape(language_name_in(view.lang, code))}<span class="wpml-ls-bracket">)</span></span>'
            )
        items.append(
            f'<li class="{" ".join(classes)}">\n\t\t\t\t<a href="{escape(root + urls[code])}" class="wpml-ls-link">'
            f"{label}</a>\n\t\t\t</li>"
        )
    return (
        '<div class="wpml-ls-statics-footer wpml-ls wpml-ls-legacy-list-horizontal">\n\t<ul>'
        + "".join(items)
        + "</ul>\n</div>\n"
    )
