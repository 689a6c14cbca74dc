"""Every kind of change, recorded as what it is (issue 3), through the `kisi-archive` command."""
from __future__ import annotations

import pytest

from seeded import EVENT_GROUPS, EVENTS

pytestmark = pytest.mark.e2e

POST = 2357
POST_PATH = "/en/a-seminar-on-digital-transformation-of-public-administration-took-place-at-kaziss/"


def doc(cli, ref: str) -> dict:
    return cli("show", ref, "--json").json()


def versions(cli, ref: str) -> list[dict]:
    return cli("history", ref, "--json").json()


def test_edit_is_found_by_the_rest_api_without_fetching_other_posts(site, cli) -> None:
    cli.crawl(site)
    site.clear_requests()
    with site.modify() as state:
        state.edit(POST, title="A seminar on digital transformation took place at KazISS")
    counts = cli.crawl(site).json()["counts"]
    assert counts["new_versions"] == 1 and counts["fetched"] == 1
    pages = [r for r in site.requests() if r["path"].startswith("/en/") and "/category/" not in r["path"]]
    assert [r["path"] for r in pages] == [POST_PATH]
    history = versions(cli, f"{site.url}/?p={POST}")
    assert history[-1]["changed_fields"][:1] == ["title"] and "date_modified" in history[-1]["changed_fields"]


def test_rename_and_rename_back_keep_one_document(site, cli) -> None:
    cli.crawl(site)
    old_url = f"{site.url}{POST_PATH}"
    with site.modify() as state:
        state.rename(POST, "digital-public-administration-seminar")
    assert cli.crawl(site).json()["counts"]["new_versions"] == 1
    new_url = f"{site.url}/en/digital-public-administration-seminar/"
    renamed = doc(cli, new_url)
    assert renamed["doc_id"] == doc(cli, old_url)["doc_id"] == doc(cli, f"{site.url}/?p={POST}")["doc_id"]
    assert renamed["canonical_url"] == new_url and renamed["version"] == 2
    assert "canonical_url" in versions(cli, old_url)[-1]["changed_fields"]

    with site.modify() as state:
        state.rename(POST, POST_PATH.strip("/").split("/")[-1])
    assert cli.crawl(site).json()["counts"]["new_versions"] == 1
    back = doc(cli, new_url)
    assert back["canonical_url"] == old_url and back["version"] == 3
    assert len(cli("list", "--json").json()) == len(EVENTS)


def test_removal_needs_confirmation_then_restore(site, cli) -> None:
    cli.crawl(site)
    with site.modify() as state:
        state.trash(POST)
    first = cli.crawl(site, "--full").json()
    assert first["counts"]["pending_removals"] == 1 and first["counts"]["removed"] == 0
    listed = {d["post_id"]: d for d in cli("list", "--json").json()}
    assert listed[POST]["status"] == "live" and listed[POST]["versions"] == 1

    second = cli.crawl(site).json()  # a routine run confirms the pending removal, cheaply
    assert second["counts"]["removed"] == 1
    listed = {d["post_id"]: d for d in cli("list", "--json").json()}
    assert listed[POST]["status"] == "removed" and listed[POST]["versions"] == 2
    tombstone = doc(cli, f"{site.url}/?p={POST}")
    assert tombstone["kind"] == "tombstone"
    evidence = tombstone["removal"]
    assert evidence["url_status"] == 404 and evidence["shortlink_status"] == 404
    # The --full run enumerated every source; the routine run that confirmed it, the REST API's
    # list of the category (one request), not the whole listing.
    assert set(evidence["confirmations"][0]["sources_checked"]) >= {"rest", "listing", "sitemap"}
    assert evidence["sources_checked"] == ["rest"]
    assert len(evidence["confirmations"]) == 2 and evidence["first_seen_missing"]
    assert tombstone["title"]  # the tombstone still says what was removed
    # Nothing else was touched.
    assert all(d["versions"] == 1 for d in listed.values() if d["post_id"] != POST)

    with site.modify() as state:
        state.restore(POST)
    third = cli.crawl(site).json()
    assert third["counts"]["restored"] == 1
    history = versions(cli, f"{site.url}/?p={POST}")
    assert [h["kind"] for h in history] == ["new", "tombstone", "restored"]
    assert cli("list", "--json").json() and {d["post_id"]: d["status"] for d in cli("list", "--json").json()}[POST] == "live"
    assert cli("verify").code == 0


def test_transient_failures_are_never_evidence_of_removal(site, cli) -> None:
    cli.crawl(site)
    with site.modify() as state:
        state.trash(POST)
        state.fail(POST_PATH, 503, times=100)
        state.fail(f"/?p={POST}", 503, times=100)
    for _ in range(2):
        summary = cli.crawl(site, "--full").json()
        assert summary["counts"]["removed"] == 0 and summary["counts"]["pending_removals"] == 0
    listed = {d["post_id"]: d for d in cli("list", "--json").json()}
    assert listed[POST]["status"] == "live" and listed[POST]["versions"] == 1


def test_a_post_answering_503_twice_is_fetched_on_the_third_try(site, cli) -> None:
    cli.crawl(site)
    with site.modify() as state:
        state.edit(POST, title="Edited while the server was struggling")
        state.fail(POST_PATH, 503, times=2)
    counts = cli.crawl(site).json()["counts"]
    assert counts["new_versions"] == 1 and counts["errors"] == 0 and counts["removed"] == 0


def test_retry_after_is_honoured(site, cli) -> None:
    cli.crawl(site)
    with site.modify() as state:
        state.edit(POST, title="Edited behind a rate limit")
        state.fail(POST_PATH, 429, times=1, retry_after=1)
    site.clear_requests()
    counts = cli.crawl(site).json()["counts"]
    assert counts["new_versions"] == 1
    hits = [r for r in site.requests() if r["path"] == POST_PATH]
    assert [r["status"] for r in hits] == [429, 200]
    from datetime import datetime
    waited = datetime.fromisoformat(hits[1]["time"]) - datetime.fromisoformat(hits[0]["time"])
    assert waited.total_seconds() >= 0.9


def test_block_page_is_not_a_version(site, cli) -> None:
    cli.crawl(site)
    with site.modify() as state:
        state.block(POST_PATH, "captcha")
    summary = cli.crawl(site, "--full").json()
    assert summary["counts"]["errors"] == 1 and summary["counts"]["new_versions"] == 0
    assert versions(cli, f"{site.url}/?p={POST}")[-1]["version"] == 1
    with site.modify() as state:
        state.block(POST_PATH, "login")
    assert cli.crawl(site, "--full").json()["counts"]["new_versions"] == 0


def test_sources_fail_independently(site, cli) -> None:
    with site.modify() as state:
        state.set_option("rest", "401")
        state.set_option("feed", "missing")
        state.set_option("sitemap", "malformed")
    summary = cli.crawl(site).json()
    assert summary["outcome"] == "completed"
    sources = summary["sources"]["sources"]
    assert sources["rest"]["status"] == "refused (401)"
    assert sources["feed"]["status"] == "missing (404)"
    assert sources["sitemap"]["status"] == "malformed"
    assert sources["listing"]["status"] == "ok"
    assert summary["counts"]["new_documents"] == len(EVENTS)


def test_without_rest_an_unchanged_recrawl_fetches_almost_nothing(site, cli) -> None:
    with site.modify() as state:
        state.set_option("rest", "401")
    cli.crawl(site)
    summary = cli.crawl(site).json()
    assert summary["counts"]["fetched"] <= 2 and summary["counts"]["new_versions"] == 0
    # An edit is still found, through the sitemap's <lastmod>.
    with site.modify() as state:
        state.edit(POST, title="Edited without a REST API")
    counts = cli.crawl(site).json()["counts"]
    assert counts["new_versions"] == 1


def test_typographic_only_change_is_minor(site, cli) -> None:
    cli.crawl(site)
    with site.modify() as state:
        post = state.post(POST)
        # Curly quotes become straight ones: the editor's tooling, not a new statement.
        state.edit(POST, content_html=post.content_html.replace("&#8220;", '"').replace("&#8221;", '"'))
    assert cli.crawl(site).json()["counts"]["new_versions"] == 1
    history = versions(cli, f"{site.url}/?p={POST}")
    assert "text" in history[-1]["changed_fields"] and history[-1]["minor"] is True
    assert "minor" in cli("history", f"{site.url}/?p={POST}").out
    with site.modify() as state:
        state.edit(POST, content_html=state.post(POST).content_html.replace("seminar", "conference", 1))
    cli.crawl(site)
    assert versions(cli, f"{site.url}/?p={POST}")[-1]["minor"] is False


def test_translations_form_a_group(site, cli) -> None:
    cli.crawl(site)
    english = doc(cli, f"{site.url}/?p=2368")
    assert set(english["alternates"]) == {"en", "ru", "kk"}
    ru_id, kk_id = english["doc_id"].replace("-en-2368", "-ru-2369"), english["doc_id"].replace("-en-2368", "-kk-2374")
    assert f"Translations: kk {kk_id}, ru {ru_id}" in cli("show", english["doc_id"]).out
    assert f"en {english['doc_id']}" in cli("history", ru_id).out
    listed = {d["doc_id"]: d for d in cli("list", "--groups", "--json").json()}
    assert listed[english["doc_id"]]["translations"] == {"kk": kk_id, "ru": ru_id}
    assert listed[kk_id]["translations"] == {"en": english["doc_id"], "ru": ru_id}
    grouped = cli("list", "--groups").out
    line = next(line for line in grouped.splitlines() if english["doc_id"] in line)
    assert ru_id in line and kk_id in line
    assert len(grouped.splitlines()) == EVENT_GROUPS  # each translation group is one line


def test_pages_with_validators_cost_a_304(site, cli) -> None:
    with site.modify() as state:
        state.set_option("page_validators", True)  # a caching layer in front of WordPress
    cli.crawl(site)
    before = {d["doc_id"]: d["last_seen"] for d in cli("list", "--json").json()}
    site.clear_requests()
    counts = cli.crawl(site, "--full").json()["counts"]
    assert counts["not_modified"] == len(EVENTS) and counts["fetched"] == 0 and counts["new_versions"] == 0
    pages = [r for r in site.requests() if r["status"] == 304 and "/feed/" not in r["path"]]
    assert len(pages) == len(EVENTS) and all(r["if_none_match"] for r in pages)
    after = cli("list", "--json").json()
    assert all(d["versions"] == 1 and d["last_seen"] >= before[d["doc_id"]] for d in after)
    with site.modify() as state:
        state.edit(POST, title="Edited behind a cache")
    counts = cli.crawl(site, "--full").json()["counts"]
    assert counts["new_versions"] == 1 and counts["not_modified"] == len(EVENTS) - 1


def test_posts_no_signal_covers_are_rechecked_as_they_age(site, cli) -> None:
    from scheduler.demo_site import Post

    with site.modify() as state:
        state.set_option("rest", "401")
        state.set_option("sitemap", "missing")  # no modification signal at all
        fresh = state.publish(Post(lang="en", title="Yesterday's round table", slug="yesterdays-round-table",
                                   content_html="<p>" + "Experts met yesterday. " * 30 + "</p>", categories=["events"],
                                   date_gmt="2026-10-31T10:00:00"))

    cli.env["KISI_SWEEP_EVERY"] = "1000d"  # keep removal sweeps out of this count

    def crawl_at(now: str) -> dict:
        cli.env["KISI_NOW"] = now
        return cli.crawl(site).json()["counts"]

    assert crawl_at("2026-11-01T00:00:00+00:00")["new_documents"] == len(EVENTS) + 1
    assert crawl_at("2026-11-01T12:00:00+00:00")["fetched"] == 0  # nothing is due yet
    next_day = crawl_at("2026-11-02T06:00:00+00:00")
    assert next_day["rechecks"] == 1 and next_day["fetched"] == 1  # only the day-old post
    assert {d["post_id"]: d["last_seen"] for d in cli("list", "--json").json()}[fresh.id] == "2026-11-02T06:00:00+00:00"
    months_later = crawl_at("2027-03-01T00:00:00+00:00")
    assert months_later["rechecks"] == len(EVENTS) + 1 and months_later["new_versions"] == 0


@pytest.mark.parametrize("rest", ["open", "401"])
def test_a_sweep_refetches_nothing_unchanged(site, cli, rest: str) -> None:
    # Posts first seen through the feed, the listing or hreflang keep the modification time
    # their page gave, so the daily sweep's REST or sitemap dates find nothing changed.
    with site.modify() as state:
        state.set_option("rest", rest)
    cli.crawl(site)
    cli.env["KISI_SWEEP_EVERY"] = "0s"  # every run sweeps
    swept = cli.crawl(site).json()
    assert swept["sweep"] is True
    assert swept["counts"]["fetched"] == 0 and swept["counts"]["removal_checks"] == 0, swept["counts"]


def test_a_post_trashed_between_routine_runs_is_removed_by_the_second(site, cli) -> None:
    cli.crawl(site)
    with site.modify() as state:
        state.trash(POST)
    first = cli.crawl(site).json()["counts"]
    assert first["pending_removals"] == 1 and first["removed"] == 0 and first["removal_checks"] == 1
    second = cli.crawl(site).json()["counts"]
    assert second["removed"] == 1
    assert {d["post_id"]: d["status"] for d in cli("list", "--json").json()}[POST] == "removed"
