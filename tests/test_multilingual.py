"""Every event in every language, found by the crawler itself (issue 9), end to end.

Each test serves a fixture site (scheduler/demo_site: Polylang from its source, the WPML
variant, generated "stranger" sites) on 127.0.0.1 and runs the real `kisi-archive`
command given only the address of one language root and one category slug. What was
archived is compared with the site's own ground truth (`events_by_language()`), never with
slugs or counts written here.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest

from conftest import Cli
from crawler.spiders.events import POSTS_IN_SCRAPY
from scheduler.demo_site import Post, SiteProcess, SiteState, default_state
from scheduler.demo_site.seed import wpml_state
from scheduler.demo_site.state import encode_slug
from scheduler.demo_site.stranger import stranger_state

pytestmark = pytest.mark.e2e


def serve(tmp_path: Path, state: SiteState) -> SiteProcess:
    path = tmp_path / "site.json"
    state.save(path)
    return SiteProcess(path, tmp_path / "requests.log")


def archived(cli: Cli) -> dict[int, dict]:
    return {d["post_id"]: d for d in cli("list", "--json").json()}


def events(state: SiteState) -> dict[int, str]:
    return {post_id: code for code, ids in state.events_by_language().items() for post_id in ids}


def assert_every_event_in_every_language(cli: Cli, state: SiteState) -> None:
    docs = archived(cli)
    truth = events(state)
    assert set(docs) == set(truth), (sorted(set(truth) - set(docs)), sorted(set(docs) - set(truth)))
    assert {post_id: doc["language"] for post_id, doc in docs.items()} == truth


@pytest.fixture
def polylang(tmp_path: Path) -> Iterator[tuple[SiteProcess, SiteState]]:
    state = default_state()
    with serve(tmp_path, state) as site:
        yield site, state


def test_given_the_english_category_every_event_in_every_language(polylang, cli: Cli) -> None:
    site, state = polylang
    summary = cli.crawl(site).json()
    assert summary["outcome"] == "completed"
    assert_every_event_in_every_language(cli, state)
    # Counts per language, and the structure found, with its evidence.
    languages = summary["sources"]["languages"]
    assert {code: counts["new_documents"] for code, counts in languages.items()} == \
        {code: len(ids) for code, ids in state.events_by_language().items()}
    [structure] = summary["sources"]["structures"].values()
    found = {s["language"]: s for s in structure["sections"]}
    assert set(found) == set(state.codes) and not structure["missing"] and summary["sources"]["warnings"] == []
    assert found["kk"]["listing"].endswith("/kz/category/events-kz/")  # the URL says kz, the language is kk
    assert any("hreflang" in e for e in found["ru"]["evidence"])
    # Translation groups link the languages of one event.
    english = cli("show", f"{site.url}/?p=2368", "--json").json()
    group = cli("list", "--groups", "--json").json()
    translations = next(d["translations"] for d in group if d["doc_id"] == english["doc_id"])
    assert set(translations) == {"ru", "kk"} and all(f"-{code}-" in doc for code, doc in translations.items())


def test_more_posts_than_the_spider_hands_scrapy_at_once_are_all_archived(tmp_path: Path, cli: Cli) -> None:
    # The spider hands Scrapy POSTS_IN_SCRAPY post requests at a time and keeps the others;
    # the run must not end (nor its discovery phase: removals are decided after it) while any wait.
    state = default_state()
    events_in = {lang: next(c.slug for c in state.categories if c.lang == lang and c.translation_group == state.events_group)
                 for lang in ("en", "ru")}
    bodies = {lang: max((p.content_html for p in state.published(lang=lang)), key=len) for lang in ("en", "ru")}
    for n in range(POSTS_IN_SCRAPY):
        for lang in ("en", "ru"):
            said = f"Round table number {n}" if lang == "en" else f"Круглый стол номер {n}"
            state.publish(Post(lang=lang, slug=f"many-{lang}-{n}", title=said, categories=[events_in[lang]],
                               content_html=f"<p>{said}.</p>" + bodies[lang], translation_group=f"many-{n}"))
    with serve(tmp_path, state) as site:
        summary = cli.crawl(site).json()
    assert summary["outcome"] == "completed" and summary["counts"]["errors"] == 0
    assert summary["counts"]["new_documents"] > 2 * POSTS_IN_SCRAPY
    assert_every_event_in_every_language(cli, state)


def test_a_routine_run_of_three_languages_costs_at_most_five_requests(polylang, cli: Cli) -> None:
    site, state = polylang
    cli.crawl(site)
    site.clear_requests()
    unchanged = cli.crawl(site).json()["counts"]
    requests = [r for r in site.requests() if r["path"] != "/robots.txt"]
    assert unchanged["fetched"] == 0 and len(requests) <= 5, [r["path"] for r in requests]
    # A Russian-only edit costs its one page besides those.
    russian_only = next(p for p in sorted(state.events_by_language()["ru"])
                        if len(state.translations(state.post(p))) == 1)
    with site.modify() as live:
        live.edit(russian_only, title="Круглый стол: заголовок исправлен")
    site.clear_requests()
    edited = cli.crawl(site).json()["counts"]
    requests = [r for r in site.requests() if r["path"] != "/robots.txt"]
    assert edited["new_versions"] == 1 and edited["fetched"] == 1
    assert len(requests) <= 6 and state.path_of(state.post(russian_only)) in [r["path"] for r in requests]


def test_a_category_that_does_not_exist_exits_3_with_a_sentence(polylang, cli: Cli) -> None:
    site, _state = polylang
    missing = cli.crawl(site, category="no-such-category", check=False)
    assert missing.code == 3 and "category not found: 'no-such-category'" in missing.err
    assert "Traceback" not in missing.err and missing.err.count("\n") == 1


def test_a_pinned_section_with_a_wrong_slug_is_an_error_of_that_section(polylang, cli: Cli, tmp_path: Path) -> None:
    site, state = polylang
    config = tmp_path / "kisi.toml"
    config.write_text(f'site = "{site.url}/en/"\ncategory = "events"\n'
                      f'[[sections]]\nurl = "{site.url}/"\ncategory = "sobytiya"\nlanguage = "ru"\n', "utf-8")
    summary = cli("crawl", "--config", str(config), "--json").json()
    assert summary["outcome"] == "completed"
    assert summary["sources"]["sections"][f"{site.url}/category/sobytiya/"] == "not-found"
    assert_every_event_in_every_language(cli, state)


def test_wpml_with_the_language_in_the_query(tmp_path: Path, cli: Cli) -> None:
    state = wpml_state()
    with serve(tmp_path, state) as site:
        assert cli.crawl(site, path="/?lang=en").json()["outcome"] == "completed"
    assert_every_event_in_every_language(cli, state)


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_a_site_the_tests_do_not_know(tmp_path: Path, cli: Cli, seed: int) -> None:
    # Given only the address of one language (not the default one) and its category's slug.
    state = stranger_state(seed)
    start = next(code for code in state.codes if code != state.default_language)
    category = state.events_category(start)
    with serve(tmp_path, state) as site:
        summary = cli.crawl(site, path=state.home_path(start), category=encode_slug(category.slug)).json()
    assert summary["outcome"] == "completed", summary["reason"]
    assert_every_event_in_every_language(cli, state)


def test_probe_prints_the_structure(polylang, cli: Cli) -> None:
    site, state = polylang
    text = cli("probe", f"{site.url}/en/").out
    assert "multilingual plugin: polylang" in text and "WordPress 6" in text
    for code in state.codes:
        assert f"\n  {code} " in text
    assert "/kz/category/events-kz/" in text and "REST API: open" in text and "robots.txt: 200" in text
    report = json.loads(cli("probe", f"{site.url}/en/", "--json").out)
    assert {s["language"] for s in report["sections"]} == set(state.codes)
    assert report["rest"] == "open" and report["rest_filters_language"] is False
    assert report["sitemap"]["flavour"] == "core" and report["sitemap"]["per_language"]
    assert report["page_validators"]["etag"] is None and report["robots"]["status"] == 200
    assert not cli.archive.exists()  # the probe writes nothing
    missing = cli("probe", f"{site.url}/en/", "--category", "nope", check=False)
    assert missing.code == 3 and "not found" in missing.err
