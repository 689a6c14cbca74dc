"""The demo WordPress site: a real server subprocess, changed between requests via its state file.

Multilingual behaviour is checked against the plugins' source; each test names the upstream file
it reproduces (Polylang 3.8.7 `src/…`, WordPress 6.9 `wp-includes/…`, Yoast SEO `inc/sitemaps/…`,
WPML's sitepress-multilingual-cms as public sites vendor it). See docs/fixture-site.md.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from urllib.parse import quote

import pytest

from scheduler.demo_site import Post, SiteProcess, SiteState, default_state, stranger_state, wpml_state

PROJECT_ROOT = Path(__file__).resolve().parents[1]
POLITICAL = "/en/experts-discussed-the-process-of-political-transformation-in-kazakhstan/"
CYRILLIC_SLUG = "эксперты-обсудили-трансформацию"
RU_EVENTS = "/category/%d1%81%d0%be%d0%b1%d1%8b%d1%82%d0%b8%d1%8f/"  # События, as WordPress links it
KK_ONLY = "/kz/memlekettik-tildin-qoldanys-ayasy-talqylandy/"  # a Kazakh event with no translation
RU_ONLY_SLUG = "kruglyj-stol-kazahstan-i-evropejskij-soyuz"


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def fetch(site: SiteProcess, target: str, headers: dict[str, str] | None = None, method: str = "GET") -> Reply:
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
    try:
        conn.request(method, target, headers=headers or {})
        resp = conn.getresponse()
        return Reply(resp.status, resp.headers, resp.read())
    finally:
        conn.close()


def article_ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'<article id="post-(\d+)"', html)]


def hreflangs(html: str) -> dict[str, str]:
    """hreflang -> href of the <link rel="alternate"> tags of <head> (either attribute order)."""
    head = html.split("</head>")[0]
    out = {}
    for tag in re.findall(r'<link rel="alternate" [^>]*hreflang="[^"]+"[^>]*>', head):
        out[re.search(r'hreflang="([^"]+)"', tag).group(1)] = re.search(r'href="([^"]+)"', tag).group(1)
    return out


def switcher_items(html: str) -> list[str]:
    return re.findall(r'<li class="(lang-item [^"]*)">', html)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("demo_site")
    with SiteProcess(root / "site.json", root / "requests.jsonl") as running:
        yield running


@pytest.fixture
def fresh(site: SiteProcess) -> SiteProcess:
    """The shared server, reset to the seeded content (it re-reads the file per request)."""
    default_state().save(site.state_path)
    site.clear_requests()
    return site


# ----- state, without a server ---------------------------------------------------------------


def test_seed_has_the_promised_shape() -> None:
    state = default_state()
    events_en = state.posts_in(state.category("en", "events"))
    assert len(events_en) == 13
    events = state.events_by_language()
    assert {code: len(ids) for code, ids in events.items()} == {"ru": 12, "en": 13, "kk": 8}
    # Each language's Events is its own term: own id, own slug, linked as translations.
    terms = {code: state.events_category(code) for code in state.codes}
    assert {code: (c.id, c.slug) for code, c in terms.items()} == {
        "ru": (3, "события"), "en": (12, "events"), "kk": (27, "events-kz")}
    # As on kisi.kz, most Russian and Kazakh events have no translation.
    for code in ("ru", "kk"):
        alone = [i for i in events[code] if len(state.translations(state.post(i))) == 1]
        assert len(alone) > len(events[code]) / 2, code
    groups = {p.translation_group for p in state.posts if p.translation_group and p.post_type == "post"}
    sizes = {len(state.translations(next(p for p in state.posts if p.translation_group == g))) for g in groups}
    assert sizes == {2, 3}
    for code in state.codes:  # posts of other categories in every language
        assert any(p.lang == code and not set(p.categories) & {terms[code].slug} for p in state.published("post"))
    short = [p for p in events_en if len(p.content_html) < 300]
    assert [p.id for p in short] == [2440]
    assert all(len(p.content_html) >= 600 for p in events_en if p.id != 2440)
    assert {p.lang for p in state.posts if p.translation_group == "transformation"} == {"en", "ru", "kk"}
    assert state.post(2302).charset == "windows-1251"
    assert [(lang.code, lang.slug, lang.locale) for lang in state.languages] == [
        ("ru", "ru", "ru_RU"), ("en", "en", "en_US"), ("kk", "kz", "kk")]


def test_state_files_of_schema_1_still_load(tmp_path: Path) -> None:
    old = {"schema_version": 1, "languages": {"ru": "", "en": "/en", "kk": "/kk"},
           "posts": [{"id": 7, "lang": "kk", "slug": "x", "title": "X", "date_gmt": "2025-01-01T00:00:00",
                      "modified_gmt": "2025-01-01T00:00:00", "categories": ["is-sharalar"]}],
           "categories": [{"id": 27, "lang": "kk", "slug": "is-sharalar", "name": "Іс-шаралар"}],
           "options": {"rest": "open", "posts_per_page": 10}}
    (tmp_path / "old.json").write_text(json.dumps(old), "utf-8")
    state = SiteState.load(tmp_path / "old.json")
    assert state.default_language == "ru"
    assert [(lang.code, lang.slug, lang.locale) for lang in state.languages] == [
        ("ru", "ru", "ru_RU"), ("en", "en", "en_US"), ("kk", "kk", "kk")]
    assert state.path_of(state.post(7)) == "/kk/x/" and state.options.plugin == "polylang"
    state.save(tmp_path / "new.json")
    assert json.loads((tmp_path / "new.json").read_text("utf-8"))["schema_version"] == 2
    with pytest.raises(ValueError, match="schema_version 9"):
        SiteState.from_dict({"schema_version": 9})


def test_demo_site_imports_only_the_standard_library() -> None:
    # The fixture is a stand-in for a PHP site: nothing of ours (storage, crawler) may leak in.
    import ast

    for path in sorted((PROJECT_ROOT / "scheduler" / "demo_site").glob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in sys.stdlib_module_names | {"__future__"}, (path.name, name)


def test_mutators_use_a_deterministic_clock(tmp_path: Path) -> None:
    state = default_state()
    post = state.publish(Post(lang="en", title="A new event at KazISS", content_html="<p>x</p>", categories=["events"]))
    assert post.id == 2445 and post.slug == "a-new-event-at-kaziss"
    assert post.date_gmt == post.modified_gmt == "2026-02-01T10:00:00"
    state.rename(post.id, "renamed-event")
    assert post.old_slugs == ["a-new-event-at-kaziss"] and post.modified_gmt == "2026-02-01T11:00:00"
    state.edit(2368, now="2026-03-01T12:00:00Z", title="Changed")
    assert state.post(2368).modified_gmt == "2026-03-01T12:00:00"
    with pytest.raises(ValueError):
        state.set_option("rest", "closed")
    state.save(tmp_path / "s.json")
    assert SiteState.load(tmp_path / "s.json") == state


# ----- the server ------------------------------------------------------------------------------


def test_cli_prints_ready_line_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    state = tmp_path / "site.json"
    cmd = [sys.executable, "-m", "scheduler.demo_site.server"]
    subprocess.run([*cmd, "--init", str(state)], check=True, env=env, timeout=30)
    proc = subprocess.Popen([*cmd, "--state", str(state)], stdout=subprocess.PIPE, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        m = re.fullmatch(r"READY http://127\.0\.0\.1:(\d+)\n", line)
        assert m, line
        conn = http.client.HTTPConnection("127.0.0.1", int(m.group(1)), timeout=10)
        conn.request("GET", "/robots.txt")
        body = conn.getresponse().read().decode()
        conn.close()
        assert "Disallow: /wp-admin/" in body and f"Sitemap: http://127.0.0.1:{m.group(1)}/wp-sitemap.xml" in body
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
        proc.stdout.close()


def test_category_listing_paginates_and_ends_in_404(fresh: SiteProcess) -> None:
    page1 = fetch(fresh, "/en/category/events/")
    assert page1.status == 200
    ids1 = article_ids(page1.text)
    assert len(ids1) == 10 and 2440 == ids1[0]
    assert f'<link rel="next" href="{fresh.url}/en/category/events/page/2/"' in page1.text
    assert 'class="next page-numbers"' in page1.text
    # The sidebar links to posts of other categories; they are not articles of this listing.
    assert "/en/kaziss-launched-a-new-series-of-analytical-podcasts/" in page1.text and 2444 not in ids1
    page2 = fetch(fresh, "/en/category/events/page/2/")
    assert page2.status == 200 and len(article_ids(page2.text)) == 3
    assert 'rel="next"' not in page2.text
    assert fetch(fresh, "/en/category/events/page/3/").status == 404
    first = fetch(fresh, "/en/category/events/page/1/")
    assert first.status == 301 and first.headers["Location"] == f"{fresh.url}/en/category/events/"


def test_post_page_carries_wordpress_markers(fresh: SiteProcess) -> None:
    reply = fetch(fresh, POLITICAL)
    html = reply.text
    assert reply.status == 200
    assert f"<{fresh.url}/?p=2368>; rel=shortlink" in reply.headers.get_all("Link")
    assert reply.headers["ETag"] is None and reply.headers["Last-Modified"] is None
    assert f'<link rel="canonical" href="{fresh.url}{POLITICAL}" />' in html
    assert f"<link rel='shortlink' href='{fresh.url}/?p=2368' />" in html
    assert "postid-2368" in html and '<html lang="en-US">' in html
    assert set(hreflangs(html)) == {"en", "ru", "kk"}
    assert 'rel="category tag">Events</a>' in html
    assert '<time class="entry-date published" datetime="2025-03-12T06:30:00+00:00">' in html
    assert "Главная страница » Experts discussed" in html
    # Per-request noise: the nonce and the views counter never repeat.
    again = fetch(fresh, POLITICAL).text
    nonce = re.compile(r'name="_wpnonce" value="(\w+)"')
    assert nonce.search(html).group(1) != nonce.search(again).group(1)
    assert fetch(fresh, POLITICAL.rstrip("/")).headers["Location"] == fresh.url + POLITICAL


def test_widgets_change_when_another_post_is_published(fresh: SiteProcess) -> None:
    def content(html: str) -> str:
        return re.search(r'<div class="entry-content">(.*?)</div>', html, re.S).group(1)

    before = fetch(fresh, POLITICAL).text
    with fresh.modify() as state:
        state.publish(
            Post(lang="en", title="KazISS opened a new reading room", content_html="<p>Open daily.</p>",
                 categories=["news"]),
            now="2026-02-02T10:00:00",
        )
    after = fetch(fresh, POLITICAL).text
    assert "KazISS opened a new reading room" not in before
    assert "KazISS opened a new reading room" in after
    assert "February 2026" in after and content(before) == content(after)


def test_feed_validators_and_304(fresh: SiteProcess) -> None:
    feed = fetch(fresh, "/en/feed/")
    etag, modified = feed.headers["ETag"], feed.headers["Last-Modified"]
    assert feed.status == 200 and re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert feed.text.count("<item>") == 10 and "<content:encoded><![CDATA[" in feed.text
    assert f'<guid isPermaLink="false">{fresh.url}/?p=2444</guid>' in feed.text
    not_modified = fetch(fresh, "/en/feed/", {"If-None-Match": etag})
    assert not_modified.status == 304 and not_modified.body == b""
    assert fetch(fresh, "/en/category/events/feed/", {"If-Modified-Since": modified}).status == 304
    # Validators are site-wide: editing a Russian post changes the English feed's ETag.
    with fresh.modify() as state:
        state.edit(2302, title="Круглый стол (обновлено)")
    changed = fetch(fresh, "/en/feed/", {"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag
    log = [r for r in fresh.requests() if r["path"] == "/en/feed/"]
    assert [r["status"] for r in log] == [200, 304, 200] and log[1]["if_none_match"] == etag


def test_rename_redirects_old_url(fresh: SiteProcess) -> None:
    with fresh.modify() as state:
        state.rename(2368, "political-transformation-in-kazakhstan")
    old = fetch(fresh, POLITICAL)
    assert old.status == 301
    assert old.headers["Location"] == f"{fresh.url}/en/political-transformation-in-kazakhstan/"
    assert fetch(fresh, "/en/political-transformation-in-kazakhstan/").status == 200
    assert fetch(fresh, "/?p=2368").headers["Location"] == f"{fresh.url}/en/political-transformation-in-kazakhstan/"


def test_trash_makes_permalink_404_and_the_shortlink_lead_to_a_404(fresh: SiteProcess) -> None:
    with fresh.modify() as state:
        state.trash(2368)
    assert fetch(fresh, POLITICAL).status == 404
    # wp_trash_post() renames the slug (wp-includes/post.php, wp_add_trashed_suffix_to_post_name_for_post())
    # and redirect_canonical() still sends ?p= to get_permalink() (canonical.php): a 301 to a 404.
    shortlink = fetch(fresh, "/?p=2368")
    trashed = POLITICAL.rstrip("/") + "__trashed/"
    assert shortlink.status == 301 and shortlink.headers["Location"] == fresh.url + trashed
    assert fetch(fresh, trashed).status == 404
    assert fetch(fresh, "/?p=999999").status == 404
    assert 2368 not in article_ids(fetch(fresh, "/en/category/events/").text)
    assert "?p=2368<" not in fetch(fresh, "/en/feed/").text
    with fresh.modify() as state:
        state.restore(2368)
    assert fetch(fresh, POLITICAL).status == 200


def test_fault_answers_twice_then_recovers(fresh: SiteProcess) -> None:
    with fresh.modify() as state:
        state.fail("/en/feed/", 503, times=2, retry_after=7)
    first, second, third = (fetch(fresh, "/en/feed/") for _ in range(3))
    assert (first.status, second.status, third.status) == (503, 503, 200)
    assert first.headers["Retry-After"] == "7"
    assert fresh.state().faults["/en/feed/"].times_remaining == 0


def test_rest_api_open_then_401(fresh: SiteProcess) -> None:
    cats = json.loads(fetch(fresh, "/wp-json/wp/v2/categories?slug=events&lang=en").body)
    assert [(c["id"], c["slug"]) for c in cats] == [(12, "events")]
    page = fetch(fresh, "/wp-json/wp/v2/posts?categories=12&per_page=10&page=2")
    posts = json.loads(page.body)
    assert page.headers["X-WP-Total"] == "13" and page.headers["X-WP-TotalPages"] == "2" and len(posts) == 3
    assert {"id", "date_gmt", "modified_gmt", "slug", "link", "categories", "title", "content"} <= set(posts[0])
    beyond = fetch(fresh, "/wp-json/wp/v2/posts?categories=12&per_page=10&page=3")
    assert beyond.status == 400 and json.loads(beyond.body)["code"] == "rest_post_invalid_page_number"
    recent = json.loads(fetch(fresh, "/wp-json/wp/v2/posts?categories=12&modified_after=2025-12-01T00:00:00").body)
    assert [p["id"] for p in recent] == [2440, 2427]
    with fresh.modify() as state:
        state.set_option("rest", "401")
    denied = fetch(fresh, "/wp-json/wp/v2/posts?categories=12")
    assert denied.status == 401 and json.loads(denied.body)["code"] == "rest_forbidden"


def test_sitemap_lastmod_depends_on_wp_version(fresh: SiteProcess) -> None:
    index = fetch(fresh, "/wp-sitemap.xml").text
    assert f"<loc>{fresh.url}/en/wp-sitemap-posts-post-1.xml</loc>" in index
    posts = fetch(fresh, "/en/wp-sitemap-posts-post-1.xml").text
    # wp_date( DATE_W3C ) in class-wp-sitemaps-posts.php: the site's timezone (Asia/Almaty), not UTC.
    assert "<lastmod>2025-03-14T13:12:00+05:00</lastmod>" in posts
    # Posts appear ordered by id.
    assert posts.index("kaziss-hosted-a-round-table") < posts.index("central-asian") < posts.index("presentation-of")
    with fresh.modify() as state:
        state.set_option("wp_version", "6.4")
    assert "<lastmod>" not in fetch(fresh, "/en/wp-sitemap-posts-post-1.xml").text


def test_cyrillic_slug_with_either_escape_case(fresh: SiteProcess) -> None:
    upper = quote(CYRILLIC_SLUG)
    lower = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), upper)
    assert upper != lower
    for target in (f"/{upper}/", f"/{lower}/"):
        reply = fetch(fresh, target)
        assert reply.status == 200
        assert f'<link rel="canonical" href="{fresh.url}/{lower}/" />' in reply.text
        assert "Эксперты обсудили процесс политической трансформации" in reply.text


def test_windows_1251_post_is_declared_only_in_html(fresh: SiteProcess) -> None:
    reply = fetch(fresh, "/kruglyj-stol-po-voprosam-regionalnoj-bezopasnosti/")
    assert reply.headers["Content-Type"] == "text/html"
    assert b'<meta charset="windows-1251">' in reply.body
    assert "Круглый стол по вопросам региональной безопасности" in reply.body.decode("cp1251")
    with pytest.raises(UnicodeDecodeError):
        reply.body.decode("utf-8")


def test_block_page_and_slow_path(fresh: SiteProcess) -> None:
    with fresh.modify() as state:
        state.block(POLITICAL, "captcha")
        state.slow_down("/en/feed/", 0.3)
    blocked = fetch(fresh, POLITICAL)
    assert blocked.status == 200 and "Just a moment..." in blocked.text
    started = time.monotonic()
    assert fetch(fresh, "/en/feed/").status == 200
    assert time.monotonic() - started >= 0.3


def test_restart_on_the_same_port(tmp_path: Path) -> None:
    with SiteProcess(tmp_path / "site.json", tmp_path / "log.jsonl") as site:
        port = site.port
        assert site.url == f"http://127.0.0.1:{port}"
        assert fetch(site, "/en/").status == 200
        site.stop()
        with pytest.raises(ConnectionRefusedError):
            fetch(site, "/en/")
        site.start()
        assert site.port == port
        assert fetch(site, "/en/").status == 200
        assert [r["path"] for r in site.requests()] == ["/en/", "/en/"]


# ----- Polylang: languages, hreflang, switcher ---------------------------------------------------


def test_html_lang_is_the_locale_of_each_language(fresh: SiteProcess) -> None:
    # src/language-factory.php: w3c is the locale with '-'; WordPress prints it as <html lang>
    # (get_bloginfo('language')) once Polylang filters the locale (src/frontend/frontend-filters.php).
    # A Kazakh language with the URL slug 'kz' and the locale 'kk' says "kk", never "kz".
    assert '<html lang="ru-RU">' in fetch(fresh, "/").text
    assert '<html lang="en-US">' in fetch(fresh, "/en/").text
    kk = fetch(fresh, KK_ONLY).text
    assert '<html lang="kk">' in kk and "<language>kk</language>" in fetch(fresh, "/kz/feed/").text


def test_hreflang_only_on_translated_posts(fresh: SiteProcess) -> None:
    # src/frontend/frontend-filters-links.php, wp_head(): the links are printed only when there
    # is at least one translation besides the page itself; the country code is dropped unless
    # two languages share a language (ru-RU -> ru); no x-default while the default is hidden.
    translated = hreflangs(fetch(fresh, POLITICAL).text)
    assert translated == {
        "ru": f"{fresh.url}/{quote(CYRILLIC_SLUG).lower()}/",
        "en": fresh.url + POLITICAL,
        "kk": f"{fresh.url}/kz/sarapshylar-sayasi-transformaciya-uderisin-talqylady/",
    }
    pair = hreflangs(fetch(fresh, "/kisi-i-germanskij-fond-marshalla-proveli-ekspertnyj-dialog/").text)
    assert set(pair) == {"ru", "en"}
    assert hreflangs(fetch(fresh, KK_ONLY).text) == {}
    assert hreflangs(fetch(fresh, f"/{RU_ONLY_SLUG}/").text) == {}
    assert hreflangs(fetch(fresh, "/en/kaziss-hosted-a-round-table-on-the-future-of-the-eurasian-economic-union/").text) == {}


def test_hreflang_on_home_pages_and_the_first_page_of_translated_categories(fresh: SiteProcess) -> None:
    # src/frontend/frontend-links.php, get_translation_url(): every language's home; a category
    # links its translated terms (each with its own slug) when they have posts; is_paged() pages
    # print nothing (frontend-filters-links.php).
    assert hreflangs(fetch(fresh, "/kz/").text) == {"ru": f"{fresh.url}/", "en": f"{fresh.url}/en/",
                                                    "kk": f"{fresh.url}/kz/"}
    category = hreflangs(fetch(fresh, "/en/category/events/").text)
    assert category == {"ru": fresh.url + RU_EVENTS, "en": f"{fresh.url}/en/category/events/",
                        "kk": f"{fresh.url}/kz/category/events-kz/"}
    assert hreflangs(fetch(fresh, "/en/category/events/page/2/").text) == {}
    assert hreflangs(fetch(fresh, "/page/2/").text) == {}
    # Other archives (frontend-links.php, is_archive()): a language is linked if it has posts there.
    assert hreflangs(fetch(fresh, "/en/2025/03/").text) == {
        "ru": f"{fresh.url}/2025/03/", "en": f"{fresh.url}/en/2025/03/", "kk": f"{fresh.url}/kz/2025/03/"}
    assert hreflangs(fetch(fresh, "/en/2024/02/").text) == {}
    # A translated term without posts is left out (pll_hide_archive_translation_url).
    with fresh.modify() as state:
        for post in state.posts:
            if post.lang == "kk" and "zhanalyqtar" in post.categories:
                state.trash(post.id)
    assert set(hreflangs(fetch(fresh, "/en/category/news/").text)) == {"ru", "en"}


def test_language_switcher_markup(fresh: SiteProcess) -> None:
    # src/switcher.php get_elements() and src/walker-list.php start_el(): lang-item-<term id>,
    # lang-item-<slug>, current-lang, no-translation (linked to that language's home), lang-item-first;
    # lang and hreflang attributes carry the w3c locale; aria-current on the current language.
    html = fetch(fresh, KK_ONLY).text
    assert switcher_items(html) == [
        "lang-item lang-item-2 lang-item-ru no-translation lang-item-first",
        "lang-item lang-item-5 lang-item-en no-translation",
        "lang-item lang-item-9 lang-item-kz current-lang",
    ]
    assert f'<a lang="ru-RU" hreflang="ru-RU" href="{fresh.url}/">Русский</a>' in html
    assert f'<a lang="kk" hreflang="kk" href="{fresh.url}{KK_ONLY}" aria-current="true">Қазақ тілі</a>' in html
    assert 'class="widget widget_polylang"' in html
    translated = fetch(fresh, POLITICAL).text
    assert "no-translation" not in translated
    assert f'href="{fresh.url}/kz/sarapshylar-sayasi-transformaciya-uderisin-talqylady/">Қазақ тілі</a>' in translated


# ----- Polylang: URLs under the wrong language -----------------------------------------------------


def test_post_under_another_language_prefix_redirects_to_its_own(fresh: SiteProcess) -> None:
    # The rewrite rules of src/links-directory.php make /en/<slug>/ a query for an English post;
    # none exists, and core's redirect_guess_404_permalink() (wp-includes/canonical.php) finds
    # the post by name in any language.
    for wrong in (f"/en/{RU_ONLY_SLUG}/", f"/kz/{RU_ONLY_SLUG}/"):
        reply = fetch(fresh, wrong)
        assert reply.status == 301 and reply.headers["Location"] == f"{fresh.url}/{RU_ONLY_SLUG}/", wrong
    moved = fetch(fresh, KK_ONLY.replace("/kz/", "/en/"))
    assert moved.status == 301 and moved.headers["Location"] == fresh.url + KK_ONLY
    assert fetch(fresh, KK_ONLY.replace("/kz/", "/")).headers["Location"] == fresh.url + KK_ONLY
    assert fetch(fresh, "/en/no-such-post-anywhere/").status == 404


def test_category_under_another_language_prefix_redirects(fresh: SiteProcess) -> None:
    # src/frontend/canonical.php, check_canonical_url(): the queried term's own language decides.
    for wrong, right in (("/en/category/события/", RU_EVENTS), ("/kz/category/events/", "/en/category/events/"),
                         ("/category/events-kz/", "/kz/category/events-kz/"),
                         ("/en/category/события/feed/", RU_EVENTS + "feed/")):
        reply = fetch(fresh, quote(wrong))
        assert (reply.status, reply.headers["Location"], reply.headers["X-Redirect-By"]) == (
            301, fresh.url + right, "Polylang"), wrong
    assert fetch(fresh, "/en/category/no-such-category/").status == 404


def test_the_hidden_default_language_prefix_is_no_language(fresh: SiteProcess) -> None:
    # src/links-directory.php, rewrite_rules(): with hide_default, the default language gets no
    # prefix rule. /ru/ is then core's post named "ru" (a 404 here: no slug starts with "ru"),
    # /ru/<slug>/ core's attachment rule whose 404 guess redirects to the post, and /ru/feed/ the
    # comments feed of a post named "ru": 200 and empty, since WP::handle_404() never 404s a feed.
    assert fetch(fresh, "/ru/").status == 404
    assert fetch(fresh, "/ru/category/" + quote("события") + "/").status == 404
    reply = fetch(fresh, f"/ru/{RU_ONLY_SLUG}/")
    assert reply.status == 301 and reply.headers["Location"] == f"{fresh.url}/{RU_ONLY_SLUG}/"
    feed = fetch(fresh, "/ru/feed/")
    assert feed.status == 200 and "<item>" not in feed.text and "Comments on:" in feed.text


def test_shortlinks_redirect_from_any_prefix(fresh: SiteProcess) -> None:
    # Post ids are site-wide: redirect_canonical() sends ?p=ID to get_permalink() (canonical.php).
    for prefix in ("/", "/en/", "/kz/"):
        reply = fetch(fresh, f"{prefix}?p=2374")
        assert reply.status == 301, prefix
        assert reply.headers["Location"] == f"{fresh.url}/kz/sarapshylar-sayasi-transformaciya-uderisin-talqylady/"


def test_post_slugs_are_unique_across_languages(fresh: SiteProcess) -> None:
    # The free plugin does not share slugs between languages (that is Polylang Pro's share-slug
    # module), so wp_unique_post_slug() makes the English copy of "about" about-2.
    assert fetch(fresh, "/en/about-2/").status == 200
    state = default_state()
    post = state.publish(Post(lang="kk", title="x", slug="about", content_html="<p>x</p>"))
    assert post.slug == "about-3"


# ----- Polylang: feeds, sitemaps, REST ---------------------------------------------------------------


def test_feeds_per_language_and_category_with_site_wide_validators(fresh: SiteProcess) -> None:
    state = default_state()
    kk_feed = fetch(fresh, "/kz/feed/")
    guids = [int(x) for x in re.findall(r"\?p=(\d+)</guid>", kk_feed.text)]
    assert guids and all(state.post(i).lang == "kk" for i in guids)
    category = fetch(fresh, "/kz/category/events-kz/feed/")
    assert set(int(x) for x in re.findall(r"\?p=(\d+)</guid>", category.text)) <= set(state.events_by_language()["kk"])
    assert "<title>Іс-шаралар &#8211; KazISS</title>" in category.text
    # The validators come from the newest change anywhere (wp-includes/class-wp.php send_headers()).
    assert kk_feed.headers["ETag"] == category.headers["ETag"] == fetch(fresh, "/en/feed/").headers["ETag"]


def test_feed_of_a_category_that_does_not_exist_is_an_empty_200(fresh: SiteProcess) -> None:
    # wp-includes/class-wp.php, handle_404(): "Don't 404 for these queries either … is_feed()".
    for target in ("/en/category/no-such-category/feed/", "/category/no-such-category/feed/atom/"):
        reply = fetch(fresh, target)
        assert reply.status == 200, target
        assert "<item>" not in reply.text and "<entry>" not in reply.text
        assert reply.headers["ETag"]
    assert fetch(fresh, "/en/category/no-such-category/").status == 404


def test_core_sitemaps_are_split_per_language(fresh: SiteProcess) -> None:
    # src/modules/sitemaps/multilingual-sitemaps-provider.php: one index entry per language and
    # sub-type, the language added to the URL (nothing for the hidden default); src/modules/
    # sitemaps/sitemaps.php duplicates only the provider rules, so the index has no /en/ copy.
    state = default_state()
    index = fetch(fresh, "/wp-sitemap.xml").text
    locs = re.findall(r"<loc>([^<]+)</loc>", index)
    assert locs[:3] == [f"{fresh.url}/wp-sitemap-posts-post-1.xml", f"{fresh.url}/en/wp-sitemap-posts-post-1.xml",
                        f"{fresh.url}/kz/wp-sitemap-posts-post-1.xml"]
    assert f"{fresh.url}/kz/wp-sitemap-users-1.xml" in locs
    kk = fetch(fresh, "/kz/wp-sitemap-posts-post-1.xml").text
    kk_urls = re.findall(r"<loc>([^<]+)</loc>", kk)
    assert len(kk_urls) == len(state.published("post", "kk")) and all("/kz/" in u for u in kk_urls)
    pages = re.findall(r"<loc>([^<]+)</loc>", fetch(fresh, "/kz/wp-sitemap-posts-page-1.xml").text)
    assert pages == [f"{fresh.url}/kz/", f"{fresh.url}/kz/institut-turaly/"]
    assert fetch(fresh, "/en/wp-sitemap.xml").status == 404
    assert fetch(fresh, "/en/wp-sitemap-posts-post-2.xml").status == 404


def test_rest_categories_follow_lang_posts_do_not(fresh: SiteProcess) -> None:
    # src/rest-request.php set_language() + src/crud-terms.php terms_clauses(): terms follow
    # `lang`, which matches a slug or a locale ('kk' is the Kazakh locale) and falls back to the
    # default language; the free plugin neither filters posts nor adds a `lang` field to them.
    def cats(query: str) -> list[tuple[int, str]]:
        return [(c["id"], c["slug"]) for c in json.loads(fetch(fresh, f"/wp-json/wp/v2/categories?{query}").body)]

    assert cats("slug=events-kz&lang=kz") == [(27, "events-kz")]
    assert (27, "events-kz") in cats("lang=kk") and all(c[0] in (10, 27, 29, 31) for c in cats("lang=kk"))
    assert cats("slug=events&lang=xx") == []  # an unknown language is the default one: Russian
    assert cats("slug=events") == [(12, "events")]
    assert cats("lang=ru&slug=" + quote("события")) == [(3, "%d1%81%d0%be%d0%b1%d1%8b%d1%82%d0%b8%d1%8f")]
    everything = fetch(fresh, "/wp-json/wp/v2/posts?per_page=100&lang=kz")
    posts = json.loads(everything.body)
    assert int(everything.headers["X-WP-Total"]) == len(default_state().published("post"))
    assert "lang" not in posts[0] and "translations" not in posts[0]
    languages = json.loads(fetch(fresh, "/wp-json/pll/v1/languages").body)  # src/modules/REST/V1/Languages.php
    assert [(x["slug"], x["locale"], x["w3c"], x["is_default"]) for x in languages] == [
        ("ru", "ru_RU", "ru-RU", True), ("en", "en_US", "en-US", False), ("kz", "kk", "kk", False)]
    assert "pll/v1" in json.loads(fetch(fresh, "/wp-json/").body)["namespaces"]


def test_default_language_prefix_shown(fresh: SiteProcess) -> None:
    # hide_default off: src/frontend/choose-lang.php home_requested() sends / to the default
    # language's home with a 302 and Vary: Accept-Language; PLL_Canonical sends an unprefixed
    # post to its prefixed URL; the home pages print x-default (frontend-filters-links.php).
    state = default_state()
    state.set_option("hide_default", False)
    state.save(fresh.state_path)
    home = fetch(fresh, "/")
    assert (home.status, home.headers["Location"], home.headers["Vary"]) == (302, f"{fresh.url}/ru/", "Accept-Language")
    post = fetch(fresh, f"/{RU_ONLY_SLUG}/")
    assert post.status == 301 and post.headers["Location"] == f"{fresh.url}/ru/{RU_ONLY_SLUG}/"
    assert fetch(fresh, f"/ru/{RU_ONLY_SLUG}/").status == 200
    assert hreflangs(fetch(fresh, "/ru/").text)["x-default"] == f"{fresh.url}/"


# ----- WPML and Yoast -----------------------------------------------------------------------------


def test_wpml_site_puts_the_language_in_a_query_parameter(fresh: SiteProcess) -> None:
    wpml_state().save(fresh.state_path)
    post = fetch(fresh, "/experts-discussed-the-process-of-political-transformation-in-kazakhstan/?lang=en")
    assert post.status == 200 and '<html lang="en-US">' in post.text
    # classes/seo/class-wpml-seo-headlangs.php: hreflang before href, the language tag lower-cased,
    # x-default for the default language; printed for a post without translations too (itself).
    assert hreflangs(post.text) == {
        "ru-ru": f"{fresh.url}/{quote(CYRILLIC_SLUG).lower()}/",
        "en-us": f"{fresh.url}/experts-discussed-the-process-of-political-transformation-in-kazakhstan/?lang=en",
        "kk": f"{fresh.url}/sarapshylar-sayasi-transformaciya-uderisin-talqylady/?lang=kk",
        "x-default": f"{fresh.url}/{quote(CYRILLIC_SLUG).lower()}/",
    }
    assert re.search(r'<link rel="alternate" hreflang="en-us" href=', post.text)
    alone = fetch(fresh, "/memlekettik-tildin-qoldanys-ayasy-talqylandy/?lang=kk").text
    assert set(hreflangs(alone)) == {"kk"}
    # classes/language-switcher/class-wpml-ls-model-build.php + legacy-list-horizontal/template.twig
    assert '<div class="wpml-ls-statics-footer wpml-ls wpml-ls-legacy-list-horizontal">' in post.text
    assert ('<li class="wpml-ls-slot-footer wpml-ls-item wpml-ls-item-en wpml-ls-current-language '
            'wpml-ls-item-legacy-list-horizontal">') in post.text
    assert 'class="lang-item' not in post.text
    assert fetch(fresh, "/?lang=kk").status == 200
    listing = fetch(fresh, "/category/events-kz/?lang=kk")
    assert listing.status == 200 and 2374 in article_ids(listing.text)
    wrong = fetch(fresh, "/category/events-kz/")
    assert wrong.status == 301 and wrong.headers["Location"] == f"{fresh.url}/category/events-kz/?lang=kk"


def test_wpml_rest_follows_the_current_language(fresh: SiteProcess) -> None:
    # WPML filters every query by the current language: the default one unless `lang=` or the
    # `wpml_language` argument (WPML_REST_Extend_Args, an enum of the active codes) says otherwise.
    wpml_state().save(fresh.state_path)
    state = wpml_state()

    def ids(query: str) -> set[int]:
        return {p["id"] for p in json.loads(fetch(fresh, f"/wp-json/wp/v2/posts?per_page=100&{query}").body)}

    assert ids("") == {p.id for p in state.published("post", "ru")}
    assert ids("lang=kk") == ids("wpml_language=kk") == {p.id for p in state.published("post", "kk")}
    assert ids("categories=12") == set()  # an English term, asked in Russian
    assert ids("categories=12&lang=en") == set(state.events_by_language()["en"])
    bad = fetch(fresh, "/wp-json/wp/v2/posts?wpml_language=kz")
    assert bad.status == 400 and json.loads(bad.body)["code"] == "rest_invalid_param"
    assert "pll/v1" not in json.loads(fetch(fresh, "/wp-json/").body)["namespaces"]
    assert fetch(fresh, "/wp-json/pll/v1/languages").status == 404


def test_yoast_sitemaps_replace_core_ones(fresh: SiteProcess) -> None:
    # inc/sitemaps/class-sitemaps-router.php (routes, /sitemap.xml -> /sitemap_index.xml),
    # class-sitemaps-renderer.php (format), Polylang's src/integrations/wpseo/wpseo.php (all
    # languages in one sitemap, the other languages' home pages last).
    state = default_state()
    state.set_option("sitemap_plugin", "yoast")
    state.save(fresh.state_path)
    assert fetch(fresh, "/wp-sitemap.xml").status == 404
    moved = fetch(fresh, "/sitemap.xml")
    assert moved.status == 301 and moved.headers["Location"] == f"{fresh.url}/sitemap_index.xml"
    index = fetch(fresh, "/sitemap_index.xml")
    assert index.headers["Content-Type"] == "text/xml; charset=UTF-8"
    assert index.text.endswith("<!-- XML Sitemap generated by Yoast SEO -->")
    assert f"\t<sitemap>\n\t\t<loc>{fresh.url}/post-sitemap.xml</loc>\n\t\t<lastmod>" in index.text
    posts = re.findall(r"<loc>([^<]+)</loc>", fetch(fresh, "/post-sitemap.xml").text)
    assert posts[0] == f"{fresh.url}/" and posts[-2:] == [f"{fresh.url}/en/", f"{fresh.url}/kz/"]
    assert len(posts) == len(state.published("post")) + 3
    assert "<lastmod>2025-03-14T08:12:00+00:00</lastmod>" in fetch(fresh, "/post-sitemap.xml").text
    robots = fetch(fresh, "/robots.txt").text
    assert "# START YOAST BLOCK" in robots and f"Sitemap: {fresh.url}/sitemap_index.xml" in robots


# ----- a stranger site ----------------------------------------------------------------------------------


def test_stranger_sites_are_deterministic_and_varied() -> None:
    sites = [stranger_state(seed) for seed in range(12)]
    assert stranger_state(5).to_dict() == sites[5].to_dict()
    assert len({s.default_language for s in sites}) == 3
    assert {s.options.plugin for s in sites} == {"polylang", "wpml"}
    assert {s.options.sitemap_plugin for s in sites} == {"core", "yoast"}
    assert {s.options.rest for s in sites} == {"open", "401"}
    assert len({s.options.posts_per_page for s in sites}) > 3
    assert {lang.slug for s in sites for lang in s.languages if lang.code == "kk"} == {"kk", "kz"}
    assert any(any(ord(ch) > 127 for c in s.categories for ch in c.slug) for s in sites)
    for site in sites:
        events = site.events_by_language()
        for code in ("ru", "kk"):
            alone = [i for i in events[code] if len(site.translations(site.post(i))) == 1]
            assert len(alone) > len(events[code]) / 2, (code, events[code])
        slugs = [c.slug for c in site.categories]
        assert len(slugs) == len(set(slugs)) or site.options.plugin == "wpml"


@pytest.mark.parametrize("seed", [0, 1, 3])
def test_a_stranger_site_serves_its_ground_truth(fresh: SiteProcess, seed: int) -> None:
    # What events_by_language() promises is what the site lists, page after page, in each language.
    state = stranger_state(seed)
    state.save(fresh.state_path)
    for code, expected in state.events_by_language().items():
        first = state.category_path(state.events_category(code))
        seen: list[int] = []
        page = 1
        while True:
            target = first if page == 1 else state.link(code, f"/category/{quote(state.events_category(code).slug).lower()}/page/{page}/")
            reply = fetch(fresh, target)
            if reply.status == 404:
                break
            assert reply.status == 200, target
            seen += article_ids(reply.text)
            page += 1
        assert sorted(seen) == expected, code
        assert page - 1 == -(-len(expected) // state.options.posts_per_page)
    rest = fetch(fresh, "/wp-json/wp/v2/categories")
    assert rest.status == (401 if state.options.rest == "401" else 200)
