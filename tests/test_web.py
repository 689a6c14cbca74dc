"""The web viewer over HTTP: a real `kisi-archive serve` process on a crawled archive.

Pages and their JSON twins (the same fields as the CLI's --json), Memento (RFC 7089), the
Atom feed, /healthz, /metrics, the sandbox headers of raw pages, and that serving never
writes the archive. The browser tests are in test_web_browser.py.
"""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote

import pytest

from conftest import EDITED, REMOVED, RENAMED, SCRIPTED, Served, WebArchive

pytestmark = pytest.mark.e2e

ATOM = "{http://www.w3.org/2005/Atom}"


def tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}


# -- pages and JSON twins ------------------------------------------------------------------
def test_every_page_answers_html_and_its_json_twin(web_archive: WebArchive, viewer: Served) -> None:
    edited = web_archive.doc(EDITED)
    for path in ("/", "/documents?lang=ru", "/search?q=experts", f"/doc/{edited}", f"/doc/{edited}/v1",
                 f"/doc/{edited}/v2", f"/doc/{edited}/diff", "/changes", "/?groups=1"):
        page = viewer.get(path)
        assert page.status == 200, (path, page.text[:300])
        assert page.headers["content-type"].startswith("text/html") and "<!doctype html>" in page.text
        assert "content-security-policy" in page.headers and page.headers["x-content-type-options"] == "nosniff"
        if path.startswith(("/?", "/documents")) or path == "/":
            twin_path = "/documents.json" + path.partition("?")[1] + path.partition("?")[2]
        elif "?" in path:
            twin_path = path.replace("?", ".json?", 1)
        else:
            twin_path = path + ".json"
        twin = viewer.get(twin_path)
        assert twin.status == 200 and twin.headers["content-type"].startswith("application/json"), twin_path
        assert viewer.get(path, {"Accept": "application/json"}).json() == twin.json(), path


def test_json_twins_match_the_cli(web_archive: WebArchive, viewer: Served) -> None:
    cli, edited = web_archive.cli, web_archive.doc(EDITED)
    assert viewer.get("/documents.json?limit=500").json() == cli("list", "--json").json()
    assert viewer.get("/documents.json?lang=ru&changed=1&sort=title").json() == \
        cli("list", "--lang", "ru", "--changed", "--sort", "title", "--json").json()
    assert viewer.get("/documents.json?groups=1&limit=500").json() == cli("list", "--groups", "--json").json()
    assert viewer.get(f"/doc/{edited}/v1.json").json() == cli("show", edited, "--version", "1", "--json").json()
    assert viewer.get(f"/doc/{edited}.json").json()["versions"] == cli("history", edited, "--json").json()
    assert viewer.get(f"/doc/{edited}/diff.json").json() == cli("diff", edited, "--json").json()
    search = viewer.get("/search.json?q=" + quote("экспер*") + "&lang=ru").json()
    assert search == cli("search", "экспер*", "--lang", "ru", "--json").json() and search["total"] >= 1
    stemmed = viewer.get("/search.json?q=" + quote("экспертами") + "&stem=1").json()
    assert stemmed == cli("search", "экспертами", "--stem", "--json").json()


def test_documents_filters_paging_and_language_counts(web_archive: WebArchive, viewer: Served) -> None:
    listing = web_archive.cli("list", "--json").json()
    page = viewer.get("/documents.json?limit=5&page=2")
    assert len(page.json()) == 5 and page.headers["x-total-count"] == str(len(listing))
    assert 'rel="next"' in page.headers["link"] and 'rel="prev"' in page.headers["link"]
    html = viewer.get("/?lang=en").text
    counts = dict(re.findall(r'data-lang="(\w+)">(\d+)<', html))
    by_language: dict[str, int] = {}
    for doc in listing:
        by_language[doc["language"]] = by_language.get(doc["language"], 0) + 1
    assert counts == {lang: str(n) for lang, n in by_language.items()}  # counts ignore the language filter itself
    removed = viewer.get("/documents.json?removed=1").json()
    assert [d["doc_id"] for d in removed] == [web_archive.doc(REMOVED)]
    assert viewer.get("/documents.json?since=2025&until=2025-06&lang=en").json() == \
        web_archive.cli("list", "--since", "2025", "--until", "2025-06", "--lang", "en", "--json").json()
    bad = viewer.get("/documents?since=yesterday")
    assert bad.status == 400 and "YYYY" in bad.text
    assert viewer.get("/documents.json?sort=sideways").json()["error"].startswith("unknown sort")


def test_groups_show_translations_side_by_side(web_archive: WebArchive, viewer: Served) -> None:
    html = viewer.get("/?groups=1").text
    row = next(r for r in html.split("<tr>") if f"/doc/{web_archive.doc(RENAMED)}" in r)
    assert f"/doc/{web_archive.doc(2369, 'ru')}" in row and f"/doc/{web_archive.doc(2374, 'kk')}" in row


def test_document_page_has_timeline_urls_over_time_and_tombstone(web_archive: WebArchive, viewer: Served) -> None:
    renamed = viewer.get(f"/doc/{web_archive.doc(RENAMED)}.json").json()
    assert [u["url"].rsplit("/", 2)[-2] for u in renamed["urls"]] == [
        "experts-discussed-the-process-of-political-transformation-in-kazakhstan",
        "experts-on-political-transformation-in-kazakhstan"]
    assert renamed["translations"] == {"kk": web_archive.doc(2374, "kk"), "ru": web_archive.doc(2369, "ru")}
    removed = viewer.get(f"/doc/{web_archive.doc(REMOVED)}.json").json()
    assert removed["document"]["status"] == "removed" and removed["removal"]["url_status"] == 404
    assert [v["kind"] for v in removed["versions"]] == ["new", "tombstone"]
    html = viewer.get(f"/doc/{web_archive.doc(REMOVED)}").text
    assert "removed" in html and "url status" in html and "sources checked" in html
    edited = viewer.get(f"/doc/{web_archive.doc(EDITED)}").text
    assert "title, text, date_modified, tags" in edited and f"/doc/{web_archive.doc(EDITED)}/v2" in edited


def test_any_url_of_a_post_finds_its_document(web_archive: WebArchive, viewer: Served) -> None:
    site, doc = web_archive.site.url, web_archive.doc(RENAMED)
    old = f"{site}/en/experts-discussed-the-process-of-political-transformation-in-kazakhstan/"
    for ref in (f"{site}/?p={RENAMED}", old, old.rstrip("/"), old.replace("http://", "HTTP://")):
        reply = viewer.get("/search?q=" + quote(ref, safe=""))
        assert reply.status == 303 and reply.headers["location"] == f"/doc/{doc}", ref
    kk = web_archive.cli("show", web_archive.doc(2374, "kk"), "--json").json()["canonical_url"]
    # The Kazakh post's Cyrillic slug, escapes in upper or lower case.
    for spelling in (kk, re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), kk)):
        assert viewer.get("/go?url=" + quote(spelling, safe="")).headers["location"] == f"/doc/{web_archive.doc(2374, 'kk')}"
    assert viewer.get("/go?url=" + quote(f"{site}/en/no-such-post/", safe="")).status == 404


def test_version_page_provenance_and_citation(web_archive: WebArchive, viewer: Served) -> None:
    doc = web_archive.doc(EDITED)
    page = viewer.get(f"/doc/{doc}/v2")
    snap = viewer.get(f"/doc/{doc}/v2.json").json()
    for value in (snap["fetched_at"], snap["url"], snap["final_url"], snap["content_sha256"], snap["raw"]["sha256"],
                  snap["run_id"], str(snap["http_status"])):
        assert value in page.text
    address = f"{viewer.url}/doc/{doc}/v2"
    assert f'<link rel="canonical" href="{address}">' in page.text
    assert "@online{127.0.0.1-en-2357-v2," in page.text and f"url = {{{address}}}" in page.text
    assert snap["canonical_url"] in page.text.split("Cite this")[1]  # the original URL is cited too
    assert f'src="/doc/{doc}/v2/raw" sandbox' in page.text
    assert viewer.get(f"/doc/{doc}/v9").status == 404 and viewer.get(f"/doc/{doc}/v9.json").json()["error"]


def test_raw_page_is_sandboxed(web_archive: WebArchive, viewer: Served) -> None:
    raw = viewer.get(f"/doc/{web_archive.doc(SCRIPTED)}/v2/raw")
    assert raw.status == 200 and b"data-pwned" in raw.body  # served as archived, scripts and all…
    csp = raw.headers["content-security-policy"]
    assert csp.startswith("sandbox;") and "default-src 'none'" in csp and "script-src" not in csp  # …never run
    assert raw.headers["x-content-type-options"] == "nosniff" and raw.headers["referrer-policy"] == "no-referrer"
    assert viewer.get(f"/doc/{web_archive.doc(REMOVED)}/v2/raw").status == 404  # a tombstone has no raw page


def test_diff_between_versions_and_between_languages(web_archive: WebArchive, viewer: Served) -> None:
    doc = web_archive.doc(EDITED)
    diff = viewer.get(f"/doc/{doc}/diff.json?from=1&to=2").json()
    assert diff["changed_fields"] == ["title", "text", "date_modified", "tags"]
    tags = next(f for f in diff["fields"] if f["field"] == "tags")
    assert tags["added"] == ["e-government"]
    html = viewer.get(f"/doc/{doc}/diff?from=1&to=2").text
    assert "<del>seminar</del>" in html and "<ins>workshop</ins>" in html
    inline = viewer.get(f"/doc/{doc}/diff?view=inline").text
    assert 'class="inline"' in inline and "<ins>workshop</ins>" in inline
    backwards = viewer.get(f"/doc/{doc}/diff.json?from=2&to=1").json()
    assert backwards["from_version"] == 2 and backwards["to_version"] == 1
    en, ru = web_archive.doc(RENAMED), web_archive.doc(2369, "ru")
    across = viewer.get(f"/doc/{en}/diff.json?with={ru}").json()
    assert across["from_doc_id"] == en and across["to_doc_id"] == ru and "title" in across["changed_fields"]
    assert viewer.get(f"/doc/{web_archive.doc(2291)}/diff.json").json()["message"].endswith("nothing to compare yet.")
    assert viewer.get(f"/doc/{doc}/diff?view=sideways").status == 400


# -- Memento (RFC 7089) ----------------------------------------------------------------------
HTTP_DATE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
                       r"\d{2}:\d{2}:\d{2} GMT$")


def links(header: str) -> dict[str, dict[str, str]]:
    """A Link header (or a TimeMap) by rel: {rel: {"url": …, other attributes}}."""
    found: dict[str, dict[str, str]] = {}
    for match in re.finditer(r'<([^>]*)>((?:\s*;\s*[\w-]+="[^"]*")*)', header):
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', match.group(2)))
        found.setdefault(attrs.get("rel", ""), {"url": match.group(1), **attrs})
    return found


def test_timegate_negotiates_datetime_as_rfc_7089_shows(web_archive: WebArchive, viewer: Served) -> None:
    doc, site = web_archive.doc(EDITED), web_archive.site.url
    original = web_archive.cli("show", doc, "--json").json()["canonical_url"]
    history = web_archive.cli("history", doc, "--json").json()
    # RFC 7089 section 4.2.1's example request: a date before any capture gets the first memento.
    reply = viewer.get(f"/timegate/{original}", {"Accept-Datetime": "Tue, 11 Sep 2001 20:35:00 GMT"})
    assert reply.status == 302 and reply.headers["vary"].lower() == "accept-datetime"
    assert reply.headers["location"] == f"{viewer.url}/doc/{doc}/v1"
    rels = links(reply.headers["link"])
    assert rels["original"]["url"] == original
    assert rels["timemap"]["url"] == f"{viewer.url}/timemap/link/{original}"
    assert rels["timemap"]["type"] == "application/link-format"
    assert HTTP_DATE.match(rels["timemap"]["from"]) and HTTP_DATE.match(rels["timemap"]["until"])
    # Without Accept-Datetime: the most recent memento. Far in the future: the latest too.
    assert viewer.get(f"/timegate/{original}").headers["location"].endswith("/v2")
    assert viewer.get(f"/timegate/{original}", {"Accept-Datetime": "Fri, 01 Jan 2100 00:00:00 GMT"}
                      ).headers["location"].endswith("/v2")
    # At the second version's capture time exactly: that version.
    from scheduler.web.memento import http_date

    at_v2 = viewer.get(f"/timegate/{original}", {"Accept-Datetime": http_date(history[1]["fetched_at"])})
    assert at_v2.headers["location"].endswith("/v2")
    # Not an HTTP-date: 400 (section 4.5.3). An unknown URI-R: 404.
    assert viewer.get(f"/timegate/{original}", {"Accept-Datetime": "2001-09-11"}).status == 400
    assert viewer.get(f"/timegate/{site}/en/never-published/").status == 404
    # Any spelling of the URI-R: shortlink (its query kept), the old slug, a percent-encoded whole URL.
    assert viewer.get(f"/timegate/{site}/?p={EDITED}").headers["location"].endswith(f"/doc/{doc}/v2")
    renamed = web_archive.doc(RENAMED)
    old = f"{site}/en/experts-discussed-the-process-of-political-transformation-in-kazakhstan/"
    assert viewer.get(f"/timegate/{old}").headers["location"].endswith(f"/doc/{renamed}/v2")
    assert viewer.get("/timegate/" + quote(old, safe="")).headers["location"].endswith(f"/doc/{renamed}/v2")
    assert viewer.get(f"/timegate/{original}", method="HEAD").status == 302


def test_mementos_carry_memento_datetime_and_links(web_archive: WebArchive, viewer: Served) -> None:
    doc = web_archive.doc(EDITED)
    history = web_archive.cli("history", doc, "--json").json()
    original = web_archive.cli("show", doc, "--json").json()["canonical_url"]
    from scheduler.web.memento import http_date

    first = viewer.get(f"/doc/{doc}/v1")
    assert first.headers["memento-datetime"] == http_date(history[0]["fetched_at"])
    assert HTTP_DATE.match(first.headers["memento-datetime"])
    rels = links(first.headers["link"])
    assert rels["original"]["url"] == original
    assert rels["timegate"]["url"] == f"{viewer.url}/timegate/{original}"
    assert rels["timemap"]["type"] == "application/link-format"
    assert rels["first memento"]["url"] == f"{viewer.url}/doc/{doc}/v1"
    assert rels["last next memento"]["url"] == f"{viewer.url}/doc/{doc}/v2"
    second = links(viewer.get(f"/doc/{doc}/v2").headers["link"])
    assert second["first prev memento"]["url"].endswith("/v1") and second["last memento"]["url"].endswith("/v2")


def test_timemap_lists_every_memento(web_archive: WebArchive, viewer: Served) -> None:
    doc = web_archive.doc(EDITED)
    original = web_archive.cli("show", doc, "--json").json()["canonical_url"]
    reply = viewer.get(f"/timemap/link/{original}")
    assert reply.status == 200 and reply.headers["content-type"].startswith("application/link-format")
    entries = [line.strip() for line in reply.text.strip().split(",\n")]
    assert entries[0] == f'<{original}>; rel="original"'
    assert entries[1].startswith(f'<{viewer.url}/timemap/link/{original}>; rel="self"; type="application/link-format"; from="')
    assert entries[2] == f'<{viewer.url}/timegate/{original}>; rel="timegate"'
    mementos = [links(e) for e in entries[3:]]
    assert [next(iter(m)) for m in mementos] == ["first memento", "last memento"]
    assert all(HTTP_DATE.match(next(iter(m.values()))["datetime"]) for m in mementos)
    assert viewer.get(f"/timemap/link/{web_archive.site.url}/?p={EDITED}").text == reply.text
    assert viewer.get(f"/timemap/link/{web_archive.site.url}/en/never-published/").status == 404


# -- the feed, health, metrics ---------------------------------------------------------------
def test_atom_feed_served_and_written_into_the_archive(web_archive: WebArchive, viewer: Served) -> None:
    feed = ET.fromstring(viewer.get("/changes.atom").body)
    entries = feed.findall(f"{ATOM}entry")
    kinds = [e.find(f"{ATOM}category").get("term") for e in entries]
    assert {"new", "edit", "removed"} <= set(kinds)
    removed = ET.fromstring(viewer.get("/changes.atom?kind=removed").body).findall(f"{ATOM}entry")
    assert len(removed) == 1 and web_archive.doc(REMOVED) in removed[0].find(f"{ATOM}id").text
    link = removed[0].find(f"{ATOM}link[@rel='alternate']").get("href")
    assert link == f"{viewer.url}/doc/{web_archive.doc(REMOVED)}/v2" and viewer.get(link[len(viewer.url):]).status == 200
    assert {e.find(f"{ATOM}category").get("term") for e in
            ET.fromstring(viewer.get("/changes.atom?lang=ru&kind=new&kind=edit").body).findall(f"{ATOM}entry")} <= {"new", "edit"}
    # The same feed, written into the archive after every run, for subscribers without a server.
    written = ET.parse(web_archive.cli.archive / "feeds" / "changes.atom").getroot()
    assert [e.find(f"{ATOM}id").text for e in written.findall(f"{ATOM}entry")] == \
        [e.find(f"{ATOM}id").text for e in entries]
    assert viewer.get("/changes.json?kind=removed").json()["changes"][0]["doc_id"] == web_archive.doc(REMOVED)
    assert viewer.get("/changes.atom?kind=deleted").status == 400


def test_healthz_and_metrics(web_archive: WebArchive, viewer: Served) -> None:
    health = viewer.get("/healthz")
    assert health.status == 200 and health.json()["status"] == "ok"
    assert 0 <= health.json()["last_success_age_seconds"] < 3600 and health.json()["stale_after_seconds"] == 2 * 86400
    from prometheus_client.parser import text_string_to_metric_families

    metrics = viewer.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain; version=")
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(metrics.text) for s in family.samples}
    assert samples[("kisi_archive_runs_total", (("outcome", "completed"),))] >= 4
    assert samples[("kisi_archive_documents", (("language", "en"),))] == 13
    assert samples[("kisi_archive_removed_documents", (("language", "en"),))] == 1
    assert samples[("kisi_archive_removals_total", ())] == 1
    assert samples[("kisi_archive_last_success_timestamp_seconds", ())] > 1.7e9
    assert samples[("kisi_archive_last_run_responses", (("status", "200"),))] >= 1


def test_health_turns_stale() -> None:
    from datetime import datetime, timezone

    from scheduler.web.ops import health
    from scheduler.ledger import RunRecord

    runs = [RunRecord("r2", "schedule", "2026-11-28T12:00:00+00:00", "2026-11-28T12:01:00+00:00", "failed"),
            RunRecord("r1", "schedule", "2026-11-27T12:00:00+00:00", "2026-11-27T12:05:00+00:00", "completed")]
    ok, report = health(runs, datetime(2026, 11, 28, 13, 0, tzinfo=timezone.utc), "2d")
    assert ok and report["last_success_age_seconds"] == 89700 and report["last_run"]["outcome"] == "failed"
    stale, report = health(runs, datetime(2026, 11, 30, 13, 0, tzinfo=timezone.utc), "2d")
    assert not stale and report["status"] == "stale" and "more than 2d" in report["message"]
    assert health([], datetime(2026, 11, 30, tzinfo=timezone.utc), "2d")[1]["message"] == "no successful run recorded yet"


# -- read-only, and alive while the archive changes ------------------------------------------
def test_serving_writes_nothing_and_sees_new_versions_at_once(web_archive: WebArchive, viewer: Served) -> None:
    root = web_archive.cli.archive
    before = tree(root)
    for path in ("/", "/search?q=experts", f"/doc/{web_archive.doc(EDITED)}/v2", "/changes.atom", "/metrics",
                 "/healthz", f"/timegate/{web_archive.site.url}/?p={EDITED}"):
        assert viewer.get(path).status in (200, 302)
    assert tree(root) == before
    # A crawl (another process) writes a new version while the server runs: it is there at once.
    post = 2412
    with web_archive.site.modify() as state:
        state.edit(post, title="Round table on climate policy, updated")
    web_archive.cli.crawl(web_archive.site)
    assert [v["version"] for v in viewer.get(f"/doc/{web_archive.doc(post)}.json").json()["versions"]][-1] == 3
    assert viewer.get(f"/doc/{web_archive.doc(post)}/v3").status == 200
    # A reindex swaps the index file: the server reopens it.
    web_archive.cli("reindex")
    assert viewer.get(f"/doc/{web_archive.doc(post)}/v3.json").json()["title"] == "Round table on climate policy, updated"


# -- the command -----------------------------------------------------------------------------
def test_serve_refuses_a_missing_index_and_a_busy_port(tmp_path: Path, web_archive: WebArchive, viewer: Served) -> None:
    from conftest import make_cli

    empty = make_cli(tmp_path)
    (tmp_path / "archive").mkdir()
    (tmp_path / "archive" / "kisi-archive.json").write_text(json.dumps({"format": "kisi-archive", "schema_version": 1}))
    result = empty("serve", "--port", "0", check=False, timeout=30)
    assert result.code == 1 and "reindex" in result.err and "Traceback" not in result.err
    port = viewer.url.rsplit(":", 1)[1]
    busy = web_archive.cli("serve", "--port", port, check=False, timeout=30)
    assert busy.code == 1 and "already in use" in busy.err and "Traceback" not in busy.err


def test_serve_warns_when_not_on_loopback(web_archive: WebArchive) -> None:
    from conftest import BIN, start_server, stop_server

    served = start_server([str(BIN), "serve", "--host", "0.0.0.0", "--port", "0"], web_archive.cli.env, marker="Serving")
    try:
        assert any("not loopback" in line for line in served.stderr)
    finally:
        stop_server(served)


def test_serve_starts_fast(web_archive: WebArchive) -> None:
    """Start-up is measured in bench/bench_web.py; here only that it is announced and answers."""
    from conftest import BIN, start_server, stop_server

    served = start_server([str(BIN), "serve", "--port", "0"], web_archive.cli.env, timeout=10)
    try:
        assert served.get("/healthz").status == 200
    finally:
        assert stop_server(served) == 0


def test_the_viewer_imports_no_crawler_and_serve_has_help(web_archive: WebArchive) -> None:
    import subprocess
    import sys

    code = ("import sys, scheduler.cli_serve, scheduler.web.app, scheduler.web.pages, scheduler.web.server; "
            "heavy = {'scrapy', 'twisted', 'trafilatura', 'apscheduler', 'lxml'} & {m.split('.')[0] for m in sys.modules}; "
            "sys.exit(', '.join(sorted(heavy)) or 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    text = web_archive.cli("serve", "--help").out
    assert "Examples" in text and "kisi-archive serve" in text and "127.0.0.1" in text
