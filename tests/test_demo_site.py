"""The demo WordPress site: a real server subprocess, changed between requests via its state file."""

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

from scheduler.demo_site import Post, SiteProcess, SiteState, default_state

PROJECT_ROOT = Path(__file__).resolve().parents[1]
POLITICAL = "/en/experts-discussed-the-process-of-political-transformation-in-kazakhstan/"
CYRILLIC_SLUG = "эксперты-обсудили-трансформацию"


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
    assert len(state.posts_in(state.category("ru", "sobytiya"))) == 4
    assert len(state.posts_in(state.category("kk", "is-sharalar"))) == 1
    short = [p for p in events_en if len(p.content_html) < 300]
    assert [p.id for p in short] == [2440]
    assert all(len(p.content_html) >= 600 for p in events_en if p.id != 2440)
    assert {p.lang for p in state.posts if p.translation_group == "transformation"} == {"en", "ru", "kk"}
    assert state.post(2302).charset == "windows-1251"


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
    assert set(re.findall(r'hreflang="(\w\w)"', html)) == {"en", "ru", "kk"}
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


def test_trash_makes_permalink_and_shortlink_404(fresh: SiteProcess) -> None:
    with fresh.modify() as state:
        state.trash(2368)
    assert fetch(fresh, POLITICAL).status == 404
    assert fetch(fresh, "/?p=2368").status == 404
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
    assert [(c["id"], c["slug"], c["lang"]) for c in cats] == [(12, "events", "en")]
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
    assert f"<loc>{fresh.url}/wp-sitemap-posts-post-1.xml</loc>" in index
    posts = fetch(fresh, "/wp-sitemap-posts-post-1.xml").text
    assert "<lastmod>2025-03-14T08:12:00+00:00</lastmod>" in posts
    # Posts appear ordered by id, whatever their language.
    assert posts.index("kaziss-hosted-a-round-table") < posts.index("kruglyj-stol") < posts.index("central-asian")
    with fresh.modify() as state:
        state.set_option("wp_version", "6.4")
    assert "<lastmod>" not in fetch(fresh, "/wp-sitemap-posts-post-1.xml").text


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
