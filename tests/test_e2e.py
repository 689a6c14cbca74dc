"""End to end through the `kisi-archive` command against the fixture site on 127.0.0.1."""
from __future__ import annotations

from pathlib import Path

import pytest

from scheduler.demo_site import Post

pytestmark = pytest.mark.e2e

from seeded import EVENTS, OTHER_POSTS, PAGES


def post_ids(listing: list[dict]) -> set[int]:
    return {doc["post_id"] for doc in listing}


def test_crawl_inspect_recrawl_edit_publish(site, cli) -> None:
    # First crawl, given the English category only: every event in every language, nothing else.
    summary = cli.crawl(site).json()
    assert summary["outcome"] == "completed"
    counts = summary["counts"]
    assert counts["new_documents"] == len(EVENTS)
    assert counts["errors"] == 0
    listing = cli("list", "--json").json()
    assert post_ids(listing) == EVENTS
    assert not post_ids(listing) & (OTHER_POSTS | PAGES)
    for doc in listing:
        assert {"doc_id", "post_id", "url", "title", "language", "date_published", "versions", "last_seen"} <= set(doc)
        assert doc["versions"] == 1
    by_id = {doc["post_id"]: doc for doc in listing}
    assert by_id[2369]["language"] == "ru" and by_id[2374]["language"] == "kk"
    first_seen = by_id[2368]["last_seen"]

    # show: by doc id, by shortlink, by slug URL without slash, by upper-case escapes.
    doc_id = by_id[2368]["doc_id"]
    shown = cli("show", doc_id, "--json").json()
    assert shown["title"] == "Experts discussed the process of political transformation in Kazakhstan"
    assert shown["post_id"] == 2368 and shown["language"] == "en" and shown["categories"] == ["Events"]
    assert shown["extractor"]["name"] == "trafilatura"
    assert "Recent Posts" not in shown["text"] and "Skip to content" not in shown["text"]
    assert "Главная страница" not in shown["text"]
    assert cli("show", f"{site.url}/?p=2368", "--json").json()["doc_id"] == doc_id
    assert cli("show", shown["canonical_url"].rstrip("/"), "--json").json()["doc_id"] == doc_id
    ru = by_id[2369]
    assert cli("show", ru["url"].upper().replace("HTTP://127.0.0.1", "http://127.0.0.1"), "--json").json()["post_id"] == 2369
    ru_text = cli("show", ru["doc_id"], "--json").json()["text"]
    assert "Эксперты" in ru_text or "эксперт" in ru_text.lower()
    readable = cli("show", doc_id).out
    assert "Experts discussed" in readable and "version 1 of 1" in readable

    # Unchanged re-crawl: incremental, it fetches no post at all.
    again = cli.crawl(site).json()["counts"]
    assert again["new_versions"] == 0 and again["new_documents"] == 0 and again["fetched"] == 0
    # A full re-crawl fetches every post again (new nonces, counters): still no new version.
    again = cli.crawl(site, "--full").json()["counts"]
    assert again["new_versions"] == 0 and again["new_documents"] == 0
    assert again["unchanged"] == len(EVENTS)
    assert all(doc["versions"] == 1 for doc in cli("list", "--json").json())

    # Edit one post's text: exactly one new version, and history names the field.
    with site.modify() as state:
        post = state.post(2342)
        state.edit(2342, content_html=post.content_html.replace("</p>", " An added sentence.</p>", 1))
    edited = cli.crawl(site).json()["counts"]
    assert edited["new_versions"] == 1
    listing = cli("list", "--json").json()
    assert {d["post_id"]: d["versions"] for d in listing if d["versions"] > 1} == {2342: 2}
    history = cli("history", f"{site.url}/?p=2342", "--json").json()
    assert [h["version"] for h in history] == [1, 2]
    assert "text" in history[1]["changed_fields"]
    assert all({"version", "fetched_at", "content_sha256", "changed_fields"} <= set(h) for h in history)
    assert history[0]["content_sha256"] != history[1]["content_sha256"]
    assert "text" in cli("history", f"{site.url}/?p=2342").out

    # Publish an unrelated post (other category): widgets change on every page, no new version.
    with site.modify() as state:
        state.publish(Post(lang="en", title="Institute news of the week", slug="institute-news-of-the-week",
                           content_html="<p>" + "News that is not an event. " * 30 + "</p>", categories=["news"]))
    unrelated = cli.crawl(site, "--full").json()["counts"]
    assert unrelated["new_versions"] == 0 and unrelated["new_documents"] == 0
    listing = cli("list", "--json").json()
    assert post_ids(listing) == EVENTS
    assert {d["post_id"]: d["versions"] for d in listing if d["versions"] > 1} == {2342: 2}
    assert next(d for d in listing if d["post_id"] == 2368)["last_seen"] >= first_seen

    # verify passes; deleting the index and reindexing gives the same listing.
    assert "OK" in cli("verify").out
    (cli.archive / "index.sqlite").unlink()
    cli("reindex")
    assert cli("list", "--json").json() == listing
    assert cli("verify", "--json").json()["ok"] is True


def test_russian_category_with_cyrillic_slug_and_windows_1251(site, cli) -> None:
    # The Russian Events term's slug is Cyrillic (события), named as its URLs carry it.
    summary = cli.crawl(site, path="/", category="%d1%81%d0%be%d0%b1%d1%8b%d1%82%d0%b8%d1%8f").json()
    assert summary["outcome"] == "completed", summary
    listing = cli("list", "--json").json()
    ids = post_ids(listing)
    assert {2369, 2302, 2336, 2423} <= ids
    cp1251 = cli("show", next(d["doc_id"] for d in listing if d["post_id"] == 2302), "--json").json()
    assert cp1251["language"] == "ru"
    assert any("а" <= ch <= "я" for ch in cp1251["text"].lower())
    assert "Ð" not in cp1251["text"] and "�" not in cp1251["text"]


# The same category named as an editor sees it: the decoded Cyrillic slug.
def test_russian_category_named_by_its_decoded_cyrillic_slug(site, cli) -> None:
    summary = cli.crawl(site, path="/", category="события").json()
    assert {2369, 2302, 2336, 2423} <= post_ids(cli("list", "--json").json()), summary


def test_a_new_post_in_the_category_becomes_a_new_document(site, cli) -> None:
    cli.crawl(site)
    with site.modify() as state:
        new = state.publish(Post(lang="en", title="A new expert round table", slug="a-new-expert-round-table",
                                 content_html="<p>" + "Experts met to discuss the region. " * 25 + "</p>",
                                 categories=["events"]))
    counts = cli.crawl(site).json()["counts"]
    assert counts["new_documents"] == 1 and counts["new_versions"] == 0
    assert new.id in post_ids(cli("list", "--json").json())


def test_failing_pages_are_counted_and_change_nothing(site, cli) -> None:
    cli.crawl(site)
    before = cli("show", f"{site.url}/?p=2368", "--json").json()
    with site.modify() as state:
        state.fail("/en/experts-discussed-the-process-of-political-transformation-in-kazakhstan/", 500, times=10)
        state.block("/en/kaziss-presented-its-annual-report-on-risks-and-opportunities-for-kazakhstan/", "empty")
    result = cli.crawl(site, "--full")
    summary = result.json()
    assert result.code == 0 and summary["outcome"] == "completed"
    assert summary["counts"]["errors"] >= 2
    assert cli("show", f"{site.url}/?p=2368", "--json").json() == before
    assert all(doc["versions"] == 1 for doc in cli("list", "--json").json())
    log = Path(summary["log_path"]).read_text("utf-8")
    assert "experts-discussed-the-process-of-political-transformation-in-kazakhstan" in log and "HTTP 500" in log
    assert cli("verify").code == 0


# The faithful site answers 200 with an empty channel for the feed of a category that does not
# exist (WP::handle_404() never 404s a feed): an empty feed is no proof that the category exists.
def test_missing_category_exits_3_with_one_line(site, cli) -> None:
    missing = cli.crawl(site, category="no-such-category", check=False)
    assert missing.code == 3 and "category not found" in missing.err
    assert "Traceback" not in missing.err


def test_site_that_cannot_be_crawled_exits_3_with_one_line(site, cli, tmp_path) -> None:
    with site.modify() as state:
        state.set_option("robots_disallow", ["/"])
    forbidden = cli.crawl(site, check=False)
    assert forbidden.code == 3 and "robots.txt forbids" in forbidden.err

    site.stop()
    down = cli.crawl(site, check=False)
    assert down.code == 3 and "unreachable" in down.err
    assert "Traceback" not in down.err + forbidden.err


def test_inspecting_commands_fail_cleanly(cli, tmp_path) -> None:
    nothing = cli("list", "--archive", str(tmp_path / "nowhere"), check=False)
    assert nothing.code == 1 and nothing.err.startswith("error:") and "Traceback" not in nothing.err
    empty = tmp_path / "not-an-archive"
    empty.mkdir()
    (empty / "x.txt").write_text("x")
    assert "not a kisi-archive archive" in cli("list", "--archive", str(empty), check=False).err


def test_every_command_has_help_with_an_example(cli) -> None:
    top = cli("--help").out
    assert "Example" in top
    commands = [line.split()[0] for line in top.split("Commands:")[1].splitlines() if line.strip()]
    assert {"crawl", "list", "show", "history", "verify", "reindex", "demo"} <= set(commands)
    for command in commands:
        text = cli(command, "--help").out
        assert "Example" in text, command
        assert "kisi-archive " + command in text, command


def test_reindex_reports_documents_it_could_not_read(cli) -> None:
    from storage import Archive
    from tests.test_storage import capture

    with Archive.open(cli.archive, create=True) as archive:
        archive.record_capture(capture())
        archive.record_capture(capture(post_id=2400))
        archive.layout.snapshot("kisi.kz-en-2400", 1).write_text("{ not json", "utf-8")
    result = cli("reindex", check=False)
    assert result.code == 1 and "1 document(s) could not be indexed" in result.err
    assert [d["post_id"] for d in cli("list", "--json").json()] == [2368]
    assert cli("verify", check=False).code == 1


def test_scrapy_crawl_from_the_project_root_writes_the_same_archive(site, cli) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    env = dict(cli.env, KISI_SITE=f"{site.url}/en/", KISI_CATEGORY="events")
    scrapy = Path(sys.executable).parent / "scrapy"
    proc = subprocess.run([str(scrapy), "crawl", "events", "-L", "WARNING"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert post_ids(cli("list", "--json").json()) == EVENTS
    # The command sees what scrapy stored: an unchanged crawl adds nothing.
    assert cli.crawl(site, "--full").json()["counts"]["new_versions"] == 0
    # A crawl that fails exits as `kisi-archive crawl` does (3: the site could not be crawled).
    env = dict(env, KISI_CATEGORY="no-such-category")
    proc = subprocess.run([str(scrapy), "crawl", "events", "-L", "ERROR"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3 and "category not found" in proc.stdout, (proc.stdout, proc.stderr)
