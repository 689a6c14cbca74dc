"""First contact as tables (crawler/explorer.py, crawler/structure.py), without a reactor.

The pages are those the fixture site renders (scheduler/demo_site: Polylang and WPML from
their source, generated stranger sites), answered through its own routing function, plus a
few written here for what the fixture does not show (one language, no hreflang on the
listing, REST refused and a menu).
"""
from __future__ import annotations

import json
from typing import Callable

import pytest

from crawler import explorer as ex
from crawler.config import Section
from fixture_pages import answers as fixture_answers
from crawler.orders import FetchFailure, Reply
from crawler.structure import (category_slug_of, is_post_sitemap, language_of_query, listing_url,
                               normalize_language, read_languages)
from scheduler.demo_site import default_state
from scheduler.demo_site.seed import wpml_state
from scheduler.demo_site.state import SiteState, encode_slug
from scheduler.demo_site.stranger import stranger_state

ROOT = "http://site.test"
NOW = "2026-12-01T00:00:00+00:00"


def fixture(state: SiteState) -> Callable[[str], Reply]:
    return fixture_answers(state, ROOT)


def explore(seed: Section, answer: Callable[[str], Reply | FetchFailure]) -> tuple[ex.Explorer, int]:
    explorer = ex.Explorer(seed, NOW)
    queue, asked = list(explorer.start().fetches), 0
    while queue:
        order = queue.pop(0)
        asked += 1
        result = answer(order.url)
        step = explorer.on_failure(order, result) if isinstance(result, FetchFailure) else explorer.on_reply(order, result)
        queue += step.fetches
    assert explorer.done
    return explorer, asked


def truth(state: SiteState) -> dict[str, str]:
    return {code: encode_slug(state.events_category(code).slug) for code in state.codes}


def found(explorer: ex.Explorer) -> dict[str, str]:
    return {s.language: s.category for s in explorer.result().sections}


# -- the fixture's sites -------------------------------------------------------------------------
@pytest.mark.parametrize("state, seed", [
    (default_state(), Section(f"{ROOT}/en/", "events")),
    (default_state(), Section(f"{ROOT}/", encode_slug("события"))),  # started from the default language
    (wpml_state(), Section(f"{ROOT}/?lang=en", "events")),
], ids=["polylang-from-en", "polylang-from-ru", "wpml-query"])
def test_first_contact_finds_the_category_in_every_language(state: SiteState, seed: Section) -> None:
    explorer, asked = explore(seed, fixture(state))
    structure = explorer.result()
    assert found(explorer) == truth(state) and not structure.missing and structure.failure is None
    # home, listing, Polylang's languages, the seed's REST category; then the REST categories
    # of each other language, which confirm the links and give each category's id and size
    assert asked == 4 + len(state.codes) - 1
    assert structure.plugin == state.options.plugin
    for section in structure.sections:
        category = state.events_category(section.language)
        assert (section.category_id, section.posts) == (category.id, len(state.posts_in(category)))
        if section.evidence[0] != "the configured category":
            assert any(e.startswith(f"REST categories in {section.language}") for e in section.evidence)
    roots = {lang.code: lang.root for lang in structure.languages}
    assert set(roots) == set(state.codes)
    for section in structure.sections:
        assert section.evidence, section


@pytest.mark.parametrize("seed", range(1, 9))
def test_sites_the_tests_do_not_know(seed: int) -> None:
    state = stranger_state(seed)
    start = next(code for code in state.codes if code != state.default_language)
    explorer, _asked = explore(Section(ROOT + state.home_path(start), encode_slug(state.events_category(start).slug)),
                               fixture(state))
    assert found(explorer) == truth(state)


def test_kz_in_the_url_is_kk() -> None:
    explorer, _ = explore(Section(f"{ROOT}/en/", "events"), fixture(default_state()))
    roots = {lang.code: lang.root for lang in explorer.result().languages}
    assert roots["kk"] == f"{ROOT}/kz/" and roots["ru"] == f"{ROOT}/"


def test_a_seed_category_that_does_not_exist() -> None:
    explorer, asked = explore(Section(f"{ROOT}/en/", "no-such-category"), fixture(default_state()))
    structure = explorer.result()
    assert structure.failure == (f"category not found: 'no-such-category' ({ROOT}/en/category/no-such-category/ "
                                 "answered 404)")
    assert asked == 4  # nothing more is asked once the seed is known missing


def test_an_unreachable_site() -> None:
    explorer, _ = explore(Section(f"{ROOT}/en/", "events"), lambda url: FetchFailure("unreachable", "refused"))
    assert explorer.result().failure.startswith("the category listing") and not explorer.result().sections


# -- pages written here ----------------------------------------------------------------------------
def page(body: str, status: int = 200, lang: str = "en-US") -> Reply:
    return Reply(url="", status=status, body=f'<html lang="{lang}"><head></head><body>{body}</body></html>'.encode())


def answers(pages: dict[str, Reply]) -> Callable[[str], Reply]:
    def answer(url: str) -> Reply:
        reply = pages.get(url, Reply(url=url, status=404, body=b""))
        return Reply(url=url, status=reply.status, body=reply.body, headers=reply.headers, requested_url=url)
    return answer


def test_a_single_language_site_is_one_section() -> None:
    pages = {f"{ROOT}/": page("<h1>News</h1>"), f"{ROOT}/category/events/": page("<article>…</article>"),
             f"{ROOT}/wp-json/wp/v2/categories?slug=events&_fields=id%2Cslug%2Cname%2Clink%2Ccount%2Cparent":
                 Reply(url="", status=200, body=json.dumps([{"id": 7, "slug": "events", "name": "Events",
                                                            "link": f"{ROOT}/category/events/", "count": 4}]).encode())}
    explorer, _ = explore(Section(f"{ROOT}/", "events"), answers(pages))
    structure = explorer.result()
    assert [(s.language, s.category, s.category_id, s.posts) for s in structure.sections] == [("en", "events", 7, 4)]
    assert structure.plugin is None and not structure.missing


def test_without_hreflang_the_rest_categories_of_the_language_name_it() -> None:
    switcher = ('<ul><li class="lang-item lang-item-3 lang-item-en current-lang"><a lang="en-US" hreflang="en-US" '
                f'href="{ROOT}/en/">English</a></li><li class="lang-item lang-item-5 lang-item-ru no-translation">'
                f'<a lang="ru-RU" hreflang="ru-RU" href="{ROOT}/">Русский</a></li></ul>')
    ru_categories = [{"id": 3, "slug": "%d1%81%d0%be%d0%b1%d1%8b%d1%82%d0%b8%d1%8f", "name": "События",
                      "link": f"{ROOT}/category/%d1%81%d0%be%d0%b1%d1%8b%d1%82%d0%b8%d1%8f/", "count": 9},
                     {"id": 4, "slug": "novosti", "name": "Новости", "link": f"{ROOT}/category/novosti/", "count": 2},
                     # a category under another language's root: not the Russian one
                     {"id": 12, "slug": "events", "name": "Events", "link": f"{ROOT}/en/category/events/"}]
    pages = {f"{ROOT}/en/": page(switcher), f"{ROOT}/en/category/events/": page(switcher),
             f"{ROOT}/wp-json/wp/v2/categories?slug=events&_fields=id%2Cslug%2Cname%2Clink%2Ccount%2Cparent":
                 Reply(url="", status=200, body=b'[{"id":12,"slug":"events","name":"Events","link":"x"}]'),
             f"{ROOT}/wp-json/wp/v2/categories?lang=ru&per_page=100&hide_empty=1&_fields=id%2Cslug%2Cname%2Clink%2Ccount%2Cparent":
                 Reply(url="", status=200, body=json.dumps(ru_categories).encode())}
    explorer, asked = explore(Section(f"{ROOT}/en/", "events"), answers(pages))
    section = next(s for s in explorer.result().sections if s.language == "ru")
    assert section.category_id == 3 and section.posts == 9 and section.name == "События"
    assert section.evidence == ["REST categories in ru: named 'События'"] and asked == 5


def test_without_rest_the_home_page_menu_names_it() -> None:
    switcher = ('<ul><li class="lang-item lang-item-kk"><a hreflang="kk" href="' + ROOT + '/kz/">Қазақша</a></li>'
                '<li class="lang-item lang-item-en current-lang"><a hreflang="en-US" href="' + ROOT + '/en/">EN</a></li></ul>')
    menu = (f'<nav><a href="{ROOT}/kz/category/zhanalyqtar/">Жаңалықтар</a>'
            f'<a href="{ROOT}/kz/category/is-sharalar/">Іс-шаралар</a>'
            f'<a href="{ROOT}/en/category/events/">Events</a></nav>')
    refused = Reply(url="", status=401, body=b'{"code":"rest_forbidden","message":"no","data":{"status":401}}')
    pages = {f"{ROOT}/en/": page(switcher), f"{ROOT}/en/category/events/": page(switcher),
             f"{ROOT}/kz/": page(menu, lang="kk"),
             f"{ROOT}/wp-json/wp/v2/categories?slug=events&_fields=id%2Cslug%2Cname%2Clink%2Ccount%2Cparent": refused,
             f"{ROOT}/wp-json/pll/v1/languages": refused}
    explorer, _ = explore(Section(f"{ROOT}/en/", "events"), answers(pages))
    section = next(s for s in explorer.result().sections if s.language == "kk")
    assert section.listing == f"{ROOT}/kz/category/is-sharalar/" and section.evidence == [
        "menu of the kk home page: 'Іс-шаралар'"]


def test_sources_that_disagree_are_noted_and_the_strongest_wins() -> None:
    candidates = [ex._Candidate(f"{ROOT}/kz/category/b/", "rest-name", "REST categories in kk: named 'Іс-шаралар'"),
                  ex._Candidate(f"{ROOT}/kz/category/a/", "hreflang", "hreflang on the en listing")]
    chosen = ex._choose("kk", candidates)
    assert chosen.listing == f"{ROOT}/kz/category/a/" and chosen.evidence[0] == "hreflang on the en listing"
    assert "names another listing" in chosen.evidence[1]


# -- the parsers ------------------------------------------------------------------------------------
@pytest.mark.parametrize("tag, code", [("kz", "kk"), ("kk", "kk"), ("ru-RU", "ru"), ("en_US", "en"), ("x-default", None),
                                       ("", None), ("KK-kz", "kk")])
def test_language_codes(tag: str, code: str | None) -> None:
    assert normalize_language(tag) == code


def test_read_languages_of_a_polylang_and_a_wpml_page() -> None:
    polylang = fixture(default_state())(f"{ROOT}/en/category/events/")
    found_languages = read_languages(polylang.body.decode(), polylang.url)
    assert found_languages.declared == "en" and found_languages.current == "en" and found_languages.plugin == "polylang"
    assert found_languages.alternates["kk"] == f"{ROOT}/kz/category/events-kz/"
    wpml = fixture(wpml_state())(f"{ROOT}/?lang=en")
    found_languages = read_languages(wpml.body.decode(), wpml.url)
    assert found_languages.plugin == "wpml" and set(found_languages.switcher) == {"ru", "en", "kk"}
    assert "x-default" not in found_languages.alternates and found_languages.alternates["kk"] == f"{ROOT}/?lang=kk"


@pytest.mark.parametrize("url, expected", [
    (f"{ROOT}/kz/category/events-kz/", "events-kz"), (f"{ROOT}/category/%d1%81/page/2/", "%d1%81"),
    (f"{ROOT}/category/events/?lang=kk", "events"), (f"{ROOT}/en/some-post/", None)])
def test_category_slug_of(url: str, expected: str | None) -> None:
    assert category_slug_of(url) == expected


def test_listing_urls_of_directory_and_query_roots() -> None:
    assert listing_url(f"{ROOT}/en/", "events") == f"{ROOT}/en/category/events/"
    assert listing_url(f"{ROOT}/?lang=en", "events") == f"{ROOT}/category/events/?lang=en"
    assert listing_url(f"{ROOT}/", "события") == f"{ROOT}/category/%D1%81%D0%BE%D0%B1%D1%8B%D1%82%D0%B8%D1%8F/"
    assert language_of_query(f"{ROOT}/category/x/?lang=kz") == "kk"


@pytest.mark.parametrize("url, posts", [
    (f"{ROOT}/wp-sitemap-posts-post-1.xml", True), (f"{ROOT}/en/wp-sitemap-posts-post-2.xml", True),
    (f"{ROOT}/post-sitemap.xml", True), (f"{ROOT}/post-sitemap2.xml", True), (f"{ROOT}/wp-sitemap-posts-page-1.xml", False),
    (f"{ROOT}/wp-sitemap-taxonomies-post_tag-1.xml", False), (f"{ROOT}/post_tag-sitemap.xml", False),
    (f"{ROOT}/category-sitemap.xml", False), (f"{ROOT}/wp-sitemap-users-1.xml", False)])
def test_post_sitemaps(url: str, posts: bool) -> None:
    assert is_post_sitemap(url) is posts


def test_languages_on_subdomains() -> None:
    head = ('<link rel="alternate" href="http://site.test/" hreflang="ru" />'
            '<link rel="alternate" href="http://en.site.test/" hreflang="en" />')
    listing_head = ('<link rel="alternate" href="http://site.test/category/sobytiya/" hreflang="ru" />'
                    '<link rel="alternate" href="http://en.site.test/category/events/" hreflang="en" />')

    def page_with(links: str, lang: str) -> Reply:
        return Reply(url="", status=200, body=f'<html lang="{lang}"><head>{links}</head><body></body></html>'.encode())

    pages = {"http://en.site.test/": page_with(head, "en-US"),
             "http://en.site.test/category/events/": page_with(listing_head, "en-US")}
    explorer, _ = explore(Section("http://en.site.test/", "events"), answers(pages))
    structure = explorer.result()
    assert {lang.code: lang.root for lang in structure.languages} == {"en": "http://en.site.test/",
                                                                       "ru": "http://site.test/"}
    assert found(explorer) == {"en": "events", "ru": "sobytiya"}
