"""The reliability suite: a hostile WordPress site, and what the archive must do with it.

The fixture site (scheduler/demo_site) serves the hostile behaviours of hostile.py for real,
over HTTP, beside an off-site sink: a second server on another loopback address that stands
for another host and mirrors the site with foreign titles and text. Each group of behaviours
is crawled once by the real `kisi-archive crawl` (module-scoped fixtures), and the tests check
what a user needs: nothing from another host requested (the sink sees 0 requests) or stored,
no bogus version, no traceback (in the crawl or in `verify`/`reindex`), bounded requests and
memory, a run cut short that does not repeat its work, and one sentence in the run's log for
each bad input.

A test the crawler fails today is marked xfail (strict) with one line saying what the crawler
does wrong: each is a bug report that turns into a failure (XPASS) the moment it is fixed.
The promises and the table of behaviours are in docs/RELIABILITY.md.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from conftest import BIN, Cli, Result, make_cli
from scheduler.demo_site import Post, SiteProcess, SiteState, default_state
from scheduler.demo_site.hostile import (GARBAGE_SHORTLINKS, GZIP_PART, MISSING_TRANSLATION, OFFSITE_MARK,
                                         OFFSITE_TEXT, OVERFLOW_ID, SELF_INDEX, install, offsite_copy, post_of)
from storage.urls import normalize_url

pytestmark = pytest.mark.e2e

# Another host by every measure the crawler has: storage.urls.site_key drops the port (so
# 127.0.0.1:OTHER would be "the same site" for doc ids) and Scrapy's OffsiteMiddleware compares
# host names only. Any 127.0.0.0/8 address is loopback on Linux without setup.
SINK_HOST = "127.0.0.2"
PEAK_RSS_MB = 300  # whatever a response holds
REDIRECT_HOPS = 5  # followed for one URL; WordPress itself needs 1-2 (old slug, trailing slash)
REST_PAGES = 5  # REST posts requests of one run of a 33-post site, whatever the headers claim
COMMAND = [str(BIN)] if BIN.exists() else [sys.executable, "-m", "scheduler.cli"]
# The crawl runs as a child of `kisi-archive`: a wrapper reads the largest RSS of its tree.
MEASURED = ("import resource, subprocess, sys; code = subprocess.call(sys.argv[2:]); "
            "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
            "sys.exit(code)")
LOG_LINE = re.compile(r"^\S+ \S+ \[([^\]]+)\] (WARNING|ERROR|CRITICAL): (.*)$")


# ----- the harness ---------------------------------------------------------------------------------


@dataclass
class Hostile:
    """A hostile site, its off-site sink, an archive, and every crawl of it."""

    site: SiteProcess
    sink: SiteProcess | None
    cli: Cli
    state: SiteState  # as installed: the ground truth
    runs: list[Result] = field(default_factory=list)
    requests: list[list[dict[str, Any]]] = field(default_factory=list)  # the site's, per run
    peak_rss_mb: list[float] = field(default_factory=list)
    cut: list[bool] = field(default_factory=list)  # whether each run was cut short by the test
    _versions: list[dict[str, Any]] | None = None

    def crawl(self, *extra: str, until: Callable[[Hostile], bool] | None = None, deadline: float = 150) -> Result:
        """One `kisi-archive crawl`. It is cut short (its crawl child killed, as by a power cut)
        as soon as `until` holds, or after `deadline` seconds: a test whose bug shows early
        need not wait for the whole of an endless crawl."""
        self.site.clear_requests()
        rss = self.cli.archive.parent / f"rss-{len(self.runs)}"
        command = [sys.executable, "-c", MEASURED, str(rss), *COMMAND, "crawl", "--site", self.site.url + self.seed_path,
                   "--category", "events", "--json", *extra]
        proc = subprocess.Popen(command, env=self.cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started, cut = time.monotonic(), False
        while True:
            try:
                out, err = proc.communicate(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                pass
            late = time.monotonic() - started > deadline
            if not cut and (late or (until is not None and until(self))):
                cut = self.kill_crawl()
            if late and time.monotonic() - started > deadline + 60:
                proc.kill()
        self.runs.append(Result(proc.returncode, out, err))
        self.cut.append(cut)
        self.requests.append(self.site.requests())
        self.peak_rss_mb.append(int(rss.read_text() or 0) / 1024 if rss.exists() else 0.0)
        self._versions = None
        return self.runs[-1]

    def child_pid(self) -> int | None:
        try:
            holder = json.loads((self.cli.archive / "crawl.lock").read_text("utf-8") or "{}")
        except (OSError, ValueError):
            return None
        return int(holder["child_pid"]) if holder.get("child_pid") else None

    def kill_crawl(self) -> bool:
        """SIGKILL the running crawl child (the `kisi-archive` parent then records the run)."""
        pid = self.child_pid()
        if pid is None:
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        return True

    def child_rss_mb(self) -> float:
        pid = self.child_pid()
        try:
            status = Path(f"/proc/{pid}/status").read_text() if pid else ""
        except OSError:
            return 0.0
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        return int(found.group(1)) / 1024 if found else 0.0

    @property
    def seed_path(self) -> str:
        return self.state.home_path("en")

    def record(self, run: int = -1) -> dict[str, Any]:
        result = self.runs[run]
        try:
            return json.loads(result.out)
        except ValueError:
            raise AssertionError(f"crawl printed no run record (exit {result.code}):\n{result.out}\n{result.err}") from None

    def log(self, run: int = -1) -> str:
        path = self.record(run).get("log_path")
        return Path(path).read_text("utf-8", "replace") if path else ""

    def diagnostics(self) -> list[str]:
        """Every sentence a user is shown about the runs: stderr, the log's warnings and errors,
        the run records' warnings and source statuses."""
        lines: list[str] = []
        for n, result in enumerate(self.runs):
            lines += result.err.splitlines()
            log = self.log(n).splitlines()
            # A line that a traceback follows, or a dump of a whole record, is no sentence.
            lines += [m.group(3) for line, after in zip(log, [*log[1:], ""])
                      if (m := LOG_LINE.match(line)) and not after.startswith("Traceback") and len(line) < 600]
            record = self.record(n)
            details = record.get("sources") or {}
            lines += details.get("warnings") or []
            lines += [f"source {name}: {v.get('status')}" for name, v in (details.get("sources") or {}).items()]
            lines += [record.get("reason") or ""]
        return lines

    def said(self, *alternatives: tuple[str, ...]) -> bool:
        """Whether one diagnostic line holds every string of one of the alternatives."""
        return any(all(s in line for s in alt) for line in self.diagnostics() for alt in alternatives)

    def tracebacks(self) -> list[str]:
        found = []
        for n, result in enumerate(self.runs):
            for where, text in (("stderr", result.err), ("log", self.log(n))):
                if "Traceback (most recent call last)" in text:
                    at = text.index("Traceback (most recent call last)")
                    found.append(f"run {n} {where}: {text[max(0, at - 300):at + 1500]}")
        return found

    def versions(self) -> list[dict[str, Any]]:
        """Every stored version (the snapshots, with their text)."""
        if self._versions is None:
            out = self.cli("export", "--all-versions").out
            self._versions = [json.loads(line) for line in out.splitlines() if line.strip()]
        return self._versions

    def documents(self) -> dict[str, list[dict[str, Any]]]:
        docs: dict[str, list[dict[str, Any]]] = {}
        for version in self.versions():
            docs.setdefault(version["doc_id"], []).append(version)
        return docs

    def post(self, name: str, key: str = "post") -> Post:
        return post_of(self.state, name, key)

    def url(self, post: Post) -> str:
        return self.site.url + self.state.path_of(post)

    def stored_for(self, post: Post) -> list[dict[str, Any]]:
        """The versions that hold this post: by its id, or by its URL."""
        key = normalize_url(self.url(post))
        return [v for v in self.versions() if v.get("post_id") == post.id
                or key in {normalize_url(v.get(f) or "") for f in ("url", "final_url", "canonical_url")}]

    def site_requests(self, run: int = -1) -> list[dict[str, Any]]:
        return self.requests[run]

    def count(self, fragment: str, run: int = -1) -> int:
        return sum(fragment in r["path"] for r in self.requests[run])

    def sink_requests(self, via: str | None = None) -> list[dict[str, Any]]:
        assert self.sink is not None
        return [r for r in self.sink.requests() if via is None or f"via={via}" in r["path"]]


def serve(root: Path, state: SiteState, name: str, host: str = "127.0.0.1") -> SiteProcess:
    path = root / f"{name}.json"
    state.save(path)
    return SiteProcess(path, root / f"{name}-requests.log", host=host).start()


@contextlib.contextmanager
def hostile_site(root: Path, behaviours: list[tuple[str, dict[str, Any]]], *, state: SiteState | None = None,
                 sink: bool = False, **env: str) -> Iterator[Hostile]:
    """Serve a site with these behaviours on (and, with `sink`, the off-site sink they name)."""
    state = state if state is not None else default_state()
    sink_process = serve(root, default_state(), "sink", SINK_HOST) if sink else None
    site_process: SiteProcess | None = None
    try:
        for name, params in behaviours:
            if sink_process is not None and params.pop("offsite", False):
                params["offsite"] = sink_process.url
            install(state, name, **params)
        if sink_process is not None:
            offsite_copy(state).save(sink_process.state_path)
            sink_process.clear_requests()
        site_process = serve(root, state, "site")
        cli = make_cli(root)
        cli.env.update(env)
        yield Hostile(site_process, sink_process, cli, state)
    finally:
        for process in (site_process, sink_process):
            if process is not None:
                process.stop()


def small_state() -> SiteState:
    """A one-language site (English at the root) with four events: for the groups where only
    one behaviour and the crawl's own cost matter."""
    state = default_state()
    keep = set(state.events_by_language()["en"][:4])
    state.posts = [p for p in state.posts if p.id in keep]
    for post in state.posts:
        post.translation_group = None
    state.languages = [lang for lang in state.languages if lang.code == "en"]
    state.default_language = "en"
    state.categories = [c for c in state.categories if c.lang == "en"]
    return state


def path_of(h: Hostile, name: str, key: str = "post") -> str:
    return h.state.path_of(h.post(name, key))


def xfail(reason: str) -> Any:
    return pytest.mark.xfail(strict=True, reason=reason)


# ----- 1. nothing from another host ------------------------------------------------------------------

OFFSITE = [
    ("redirect-offsite", {"offsite": True}),
    ("meta-refresh-offsite", {"offsite": True}),
    ("hreflang-offsite", {"offsite": True}),
    ("canonical-offsite", {"offsite": True}),
    ("listing-next-offsite", {"offsite": True}),
    ("hreflang-listing-offsite", {"offsite": True}),
    ("hreflang-home-offsite", {"offsite": True}),
    ("sitemap-index-offsite", {"offsite": True}),
    ("sitemap-offsite-urls", {"offsite": True}),
    ("feed-offsite-items", {"offsite": True}),
    ("rest-offsite-links", {"offsite": True}),
    ("feed-xxe", {"offsite": True}),
    ("rest-negative-totals", {}),
]


@pytest.fixture(scope="module")
def offsite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    with hostile_site(tmp_path_factory.mktemp("offsite"), [(n, dict(p)) for n, p in OFFSITE], sink=True) as h:
        h.crawl()
        yield h


def test_the_offsite_sink_saw_no_request(offsite: Hostile) -> None:
    seen = [r["path"] for r in offsite.sink_requests()]
    assert seen == [], f"{len(seen)} requests reached the other host:\n" + "\n".join(seen[:40])




@pytest.mark.parametrize("name", [name for name, params in OFFSITE if params.get("offsite")])
def test_no_request_reaches_the_other_host(offsite: Hostile, name: str) -> None:
    assert [r["path"] for r in offsite.sink_requests(name)] == []


def test_nothing_of_the_other_host_is_stored(offsite: Hostile) -> None:
    foreign = [(v["doc_id"], v["version"], v.get("url"), v.get("title")) for v in offsite.versions()
               if v.get("site") != "127.0.0.1" or OFFSITE_MARK in (v.get("title") or "") or OFFSITE_TEXT in (v.get("text") or "")]
    assert foreign == [], f"{len(foreign)} versions hold another host's content:\n" + "\n".join(map(str, foreign[:40]))


@pytest.mark.parametrize("name", ["redirect-offsite", "meta-refresh-offsite"])
def test_a_post_that_leads_elsewhere_keeps_none_of_it(offsite: Hostile, name: str) -> None:
    stored = offsite.stored_for(offsite.post(name))
    assert [v["title"] for v in stored if OFFSITE_MARK in (v.get("title") or "")] == []


def test_a_canonical_on_another_host_is_no_alias(offsite: Hostile) -> None:
    target = f"{offsite.sink.url}{path_of(offsite, 'canonical-offsite')}?via=canonical-offsite"  # type: ignore[union-attr]
    shown = offsite.cli("show", target, check=False)
    assert shown.code == 1 and "no document" in shown.err


def test_the_feed_and_rest_were_read_despite_what_they_carry(offsite: Hostile) -> None:
    # The feed (external entities, an item elsewhere) and REST (an item elsewhere, negative
    # totals) still name the site's own posts: the test above are meaningful only if so.
    sources = offsite.record()["sources"]["sources"]
    assert sources["feed"]["status"] == "ok" and sources["feed"]["posts"] > 0
    assert sources["rest"]["status"] == "ok" and sources["rest"]["posts"] > 0
    assert "root:x:0:0" not in json.dumps(offsite.versions())


def test_every_site_post_is_still_archived(offsite: Hostile) -> None:
    expected = {(lang, i) for lang, ids in offsite.state.events_by_language().items() for i in ids
                if not any(i == int(p.get("post", 0)) for p in offsite.state.hostile.values())}
    stored = {(v["language"], v["post_id"]) for v in offsite.versions()}
    assert expected - stored == set()


OFFSITE_SAID = {
    "redirect-offsite": lambda h: [(path_of(h, "redirect-offsite"), SINK_HOST)],
    "meta-refresh-offsite": lambda h: [(path_of(h, "meta-refresh-offsite"), SINK_HOST)],
    "hreflang-offsite": lambda h: [(path_of(h, "hreflang-offsite"), SINK_HOST), ("hreflang", SINK_HOST)],
    "canonical-offsite": lambda h: [(path_of(h, "canonical-offsite"), SINK_HOST)],
    "listing-next-offsite": lambda h: [("page/2", SINK_HOST)],
    "hreflang-listing-offsite": lambda h: [("category", SINK_HOST)],
    "hreflang-home-offsite": lambda h: [("hreflang", SINK_HOST), ("fr", SINK_HOST)],
    "sitemap-index-offsite": lambda h: [("wp-sitemap.xml", SINK_HOST)],
    "sitemap-offsite-urls": lambda h: [("wp-sitemap-posts-post-1.xml", SINK_HOST)],
    "feed-offsite-items": lambda h: [("feed", SINK_HOST)],
    "rest-offsite-links": lambda h: [("wp-json", SINK_HOST), ("REST", SINK_HOST)],
    "feed-xxe": lambda h: [("feed", "entit"), ("feed", "DTD"), ("feed", "DOCTYPE")],
    "rest-negative-totals": lambda h: [("X-WP-Total",), ("X-WP-TotalPages",)],
}
OFFSITE_SILENT = {
}


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=[xfail(OFFSITE_SILENT[name])] if name in OFFSITE_SILENT else []) for name in OFFSITE_SAID])
def test_each_offsite_input_is_named_in_one_sentence(offsite: Hostile, name: str) -> None:
    assert offsite.said(*OFFSITE_SAID[name](offsite)), "\n".join(offsite.diagnostics())


def test_no_traceback_with_offsite_input(offsite: Hostile) -> None:
    assert offsite.tracebacks() == []


# ----- 2. no bogus version; one page never breaks the archive ------------------------------------------

CONTENT = [
    ("cp1251-as-utf8", {}), ("koi8r-undeclared", {}), ("two-urls-one-id", {}), ("unstable-post-id", {}),
    ("title-replacement-chars", {}), ("nul-binary", {}), ("captcha-with-post-id", {}), ("login-with-post-id", {}),
    ("soft-404", {}), ("deep-nesting", {}), ("canonical-to-listing", {}), ("cyrillic-slug-spellings", {}),
    ("duplicate-hreflang", {}), ("hreflang-404", {}), ("shortlink-garbage", {}), ("redirect-file", {}),
    ("redirect-javascript", {}), ("redirect-data", {}), ("redirect-loop-self", {}), ("redirect-loop-pair", {}),
    ("redirect-chain-30", {}), ("body-20mb", {}), ("hang", {}), ("reset-mid-body", {}), ("short-body", {}),
    ("retry-after-huge", {}), ("unavailable-forever", {}), ("billion-laughs", {}),
]
TIMEOUT = 3  # seconds; the hang lasts 6
MOVED_AWAY = 2368  # an archived post that, by the second run, redirects to another host


@pytest.fixture(scope="module")
def content(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    """Crawled twice: once, then with --full (every post fetched again). In between, one
    archived post starts redirecting to another host; nothing else changes."""
    with hostile_site(tmp_path_factory.mktemp("content"), [(n, dict(p)) for n, p in CONTENT], sink=True,
                      KISI_TIMEOUT=str(TIMEOUT), KISI_RETRIES="1") as h:
        h.crawl()
        assert h.sink is not None
        with h.site.modify() as state:
            install(state, "redirect-offsite", offsite=h.sink.url, post=MOVED_AWAY)
        h.crawl("--full")
        yield h


def test_an_archived_post_that_moves_to_another_host_keeps_its_versions(content: Hostile) -> None:
    versions = [(v["version"], v.get("title")) for v in content.versions() if v.get("post_id") == MOVED_AWAY
                and v.get("language") == "en"]
    assert versions and all(OFFSITE_MARK not in (title or "") for _, title in versions), versions
    assert content.sink_requests() == []


REFUSED = {
    "nul-binary": None,
    "title-replacement-chars": None,
    "captcha-with-post-id": None,
    "login-with-post-id": None,
    "soft-404": None,
    "redirect-file": None,
    "redirect-javascript": None,
    "redirect-data": None,
    "redirect-loop-self": None,
    "redirect-loop-pair": None,
    "redirect-chain-30": None,
    "body-20mb": None,
    "hang": None,
    "reset-mid-body": None,
    "short-body": None,
    "retry-after-huge": None,
    "unavailable-forever": None,
}


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=[xfail(reason)] if reason else []) for name, reason in REFUSED.items()])
def test_a_page_that_is_not_the_post_stores_nothing(content: Hostile, name: str) -> None:
    post = content.post(name)
    assert [(v["doc_id"], v["version"], v.get("title")) for v in content.stored_for(post)] == []


@pytest.mark.parametrize("name", ["cp1251-as-utf8", "koi8r-undeclared"])
def test_a_misdeclared_encoding_is_read_right_or_refused(content: Hostile, name: str) -> None:
    post = content.post(name)
    stored = content.stored_for(post)
    truth = "Казахстанский институт стратегических исследований провёл круглый стол"
    assert all(truth in (v.get("text") or "") for v in stored), [v.get("text", "")[:120] for v in stored]
    assert len({v["doc_id"] for v in stored}) <= 1 and all(v["version"] == 1 for v in stored)
    if not stored:
        assert content.said((path_of(content, name),))


def test_deep_nesting_is_kept_whole_or_refused(content: Hostile) -> None:
    stored = content.stored_for(content.post("deep-nesting"))
    assert all("The nested part of the report ends here" in (v.get("text") or "") for v in stored)
    if not stored:
        assert content.said((path_of(content, "deep-nesting"),))


def test_two_urls_claiming_one_id_do_not_overwrite_each_other(content: Hostile) -> None:
    real, impostor = content.post("two-urls-one-id"), content.post("two-urls-one-id", "impostor")
    holding = [v for v in content.versions() if v.get("post_id") == real.id]
    assert [(v["version"], v["title"]) for v in holding] == [(1, real.title)]
    assert all(impostor.title != v.get("title") for v in content.versions() if v.get("post_id") == real.id)


def test_a_post_id_that_changes_between_requests_is_not_believed(content: Hostile) -> None:
    post = content.post("unstable-post-id")
    stored = content.stored_for(post) + [v for v in content.versions() if v.get("title") == post.title]
    assert len({v["doc_id"] for v in stored}) <= 1, sorted({v["doc_id"] for v in stored})
    assert {v.get("post_id") for v in stored} <= {post.id}, sorted({v.get("post_id") for v in stored})


def test_three_spellings_of_a_cyrillic_slug_are_one_document(content: Hostile) -> None:
    stored = content.stored_for(content.post("cyrillic-slug-spellings"))
    assert [(v["version"]) for v in stored] == [1], [(v["doc_id"], v["url"]) for v in stored]


def test_conflicting_hreflang_archives_no_decoy(content: Hostile) -> None:
    decoy = content.post("duplicate-hreflang", "decoy")
    assert content.stored_for(decoy) == []


def test_a_translation_that_answers_404_stores_nothing(content: Hostile) -> None:
    key = normalize_url(content.site.url + MISSING_TRANSLATION)
    assert [v for v in content.versions() if normalize_url(v.get("url") or "") == key] == []


def test_a_canonical_pointing_at_the_listing_is_no_alias(content: Hostile) -> None:
    cat = content.state.events_category("en")
    assert cat is not None
    shown = content.cli("show", content.site.url + content.state.category_path(cat), check=False)
    assert shown.code == 1, shown.out[:300]


def test_shortlinks_with_garbage_ids_store_nothing(content: Hostile) -> None:
    asked = [g for g in GARBAGE_SHORTLINKS if content.count(g, 0)]
    assert asked, "none of the garbage shortlinks was followed: the test proves nothing"
    assert [v["post_id"] for v in content.versions() if (v.get("post_id") or 0) > 2**62] == []


def test_redirect_loops_and_chains_are_cut_short(content: Hostile) -> None:
    counts = {name: [content.count(path_of(content, name), run) + content.count(extra, run) for run in (0, 1)]
              for name, extra in (("redirect-loop-self", "\0"), ("redirect-loop-pair", "/hostile-loop-partner/"),
                                  ("redirect-chain-30", "/hostile-hop/"))}
    assert all(n <= 2 * (REDIRECT_HOPS + 1) for runs in counts.values() for n in runs), counts


def test_a_transport_failure_is_retried_a_bounded_number_of_times(content: Hostile) -> None:
    counts = {name: [content.count(path_of(content, name), run) for run in (0, 1)]
              for name in ("hang", "reset-mid-body", "short-body", "retry-after-huge", "unavailable-forever", "body-20mb")}
    # One attempt and one retry (KISI_RETRIES=1); a Retry-After longer than we wait is not retried.
    assert all(n <= 2 for runs in counts.values() for n in runs), counts
    assert counts["retry-after-huge"] == [1, 1], counts


def test_an_entity_bomb_in_the_feed_costs_no_memory(content: Hostile) -> None:
    # libxml2 refuses the document (its entity amplification limit), even without expansion.
    assert max(content.peak_rss_mb) < PEAK_RSS_MB


def test_every_real_post_is_still_archived_once(content: Hostile) -> None:
    hostile_ids = {int(v) for p in content.state.hostile.values() for k, v in p.items() if k in ("post", "impostor", "decoy")}
    expected = {i for ids in content.state.events_by_language().values() for i in ids} - hostile_ids
    stored: dict[int, set[str]] = {}
    for v in content.versions():
        stored.setdefault(v.get("post_id"), set()).add(v["doc_id"])
    assert sorted(expected - set(stored)) == []
    assert {i: docs for i, docs in stored.items() if i in expected and len(docs) > 1} == {}


def test_an_otherwise_unchanged_site_gives_no_new_version(content: Hostile) -> None:
    second = content.record(1)["run_id"]
    new = [(v["doc_id"], v["version"]) for v in content.versions()
           if v.get("run_id") == second and v.get("post_id") != MOVED_AWAY]
    assert new == []


def test_no_traceback_with_bad_content(content: Hostile) -> None:
    assert content.tracebacks() == []


def test_verify_and_reindex_stay_clean_after_bad_content(content: Hostile) -> None:
    for command in ("verify", "reindex", "verify"):
        result = content.cli(command, check=False)
        assert result.code == 0 and "Traceback" not in result.err, (command, result.out[-500:], result.err[-2000:])


CONTENT_SAID = {
    **{name: (lambda name: lambda h: [(path_of(h, name),)])(name) for name in REFUSED},
    "unstable-post-id": lambda h: [(path_of(h, "unstable-post-id"),)],
    "two-urls-one-id": lambda h: [(path_of(h, "two-urls-one-id", "impostor"),)],
    "canonical-to-listing": lambda h: [(path_of(h, "canonical-to-listing"), "canonical")],
    "duplicate-hreflang": lambda h: [(path_of(h, "duplicate-hreflang"), "hreflang")],
    "hreflang-404": lambda h: [(MISSING_TRANSLATION.strip("/"),)],
    "shortlink-garbage": lambda h: [("?p=99999999999999999999999",)],
    "billion-laughs": lambda h: [("feed", "entit"), ("feed", "DOCTYPE")],
}
CONTENT_SILENT = {
}


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=[xfail(CONTENT_SILENT[name])] if name in CONTENT_SILENT else []) for name in CONTENT_SAID])
def test_each_bad_page_is_named_in_one_sentence(content: Hostile, name: str) -> None:
    assert content.said(*CONTENT_SAID[name](content)), "\n".join(content.diagnostics()[-80:])


# ----- 3. a page claiming a post id above 2^63 ------------------------------------------------------------


@pytest.fixture(scope="module")
def overflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    with hostile_site(tmp_path_factory.mktemp("overflow"),
                      [("post-id-overflow", {}), ("rest-totals-not-numbers", {})], state=small_state()) as h:
        h.crawl()
        yield h


def test_a_huge_post_id_crawls_without_traceback(overflow: Hostile) -> None:
    assert overflow.tracebacks() == []
    assert [r.code for r in overflow.runs] == [0]


def test_a_huge_post_id_never_breaks_verify_or_reindex(overflow: Hostile) -> None:
    for command in ("verify", "reindex", "verify"):
        result = overflow.cli(command, check=False)
        assert result.code == 0 and "Traceback" not in result.err, (command, result.out[-500:], result.err[-2000:])


def test_a_huge_post_id_is_stored_right_or_refused_in_one_sentence(overflow: Hostile) -> None:
    stored = overflow.stored_for(overflow.post("post-id-overflow"))
    assert all(v.get("post_id") in (None, OVERFLOW_ID) for v in stored)
    if not stored:
        assert overflow.said((path_of(overflow, "post-id-overflow"),))


def test_rest_totals_that_are_no_numbers_are_named(overflow: Hostile) -> None:
    assert overflow.said(("X-WP-Total",), ("X-WP-TotalPages",)), "\n".join(overflow.diagnostics())


# ----- 4. bounded work -------------------------------------------------------------------------------
# An endless source makes an endless crawl, so each is crawled apart (the crawler serves REST
# (priority 30) and sitemaps (20) before listings (10) and posts (0): one endless source starves
# the others and would hide their bugs), and each crawl is cut short as soon as its bug shows.
# A crawler that bounds its work ends these crawls by itself, well before the backstop.

BACKSTOP = 60  # seconds after which a crawl is cut short whatever happened


def over(fragment: str, bound: int) -> Callable[[Hostile], bool]:
    """Cut the crawl once more than `bound` requests hold `fragment`: the bound is broken."""
    return lambda h: sum(fragment in r["path"] for r in h.site.requests()) > bound


@pytest.fixture(scope="module")
def endless_rest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    with hostile_site(tmp_path_factory.mktemp("endless-rest"), [("rest-total-pages-huge", {})], state=small_state()) as h:
        h.crawl(until=over("/wp-json/wp/v2/posts", 3 * REST_PAGES), deadline=BACKSTOP)
        yield h


@pytest.fixture(scope="module")
def endless_sitemap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    with hostile_site(tmp_path_factory.mktemp("endless-sitemap"), [("sitemap-index-self", {})], state=small_state()) as h:
        h.crawl(until=over(SELF_INDEX, 5), deadline=BACKSTOP)
        yield h


def test_rest_paging_is_bounded_by_what_the_site_holds(endless_rest: Hostile) -> None:
    assert endless_rest.count("/wp-json/wp/v2/posts") <= REST_PAGES
    assert not endless_rest.cut[0]


def test_a_sitemap_index_that_lists_itself_is_read_once(endless_sitemap: Hostile) -> None:
    assert endless_sitemap.count(SELF_INDEX) <= 1
    assert not endless_sitemap.cut[0]


LOOPS = [("listing-next-first", {"lang": "en"}), ("listing-next-pair", {"lang": "ru"}),
         ("listing-next-self", {"lang": "kk"})]


def listing_reads(h: Hostile, lang: str) -> list[str]:
    cat = h.state.events_category(lang)
    assert cat is not None
    base = h.state.category_path(cat)
    return [r["path"] for r in h.site.requests() if r["path"].startswith(base) and "/feed" not in r["path"]]


def listing_pages(h: Hostile, lang: str) -> int:
    cat = h.state.events_category(lang)
    assert cat is not None
    return math.ceil(len(h.state.posts_in(cat)) / h.state.options.posts_per_page)


def loops_shown(h: Hostile) -> bool:
    return all(len(listing_reads(h, lang)) > listing_pages(h, lang) + 4 for lang in ("en", "ru"))


@pytest.fixture(scope="module")
def loops(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    state = default_state()
    state.options.posts_per_page = 4  # en 4 listing pages, ru 3, kk 2
    with hostile_site(tmp_path_factory.mktemp("loops"), [(n, dict(p)) for n, p in LOOPS], state=state) as h:
        h.crawl(until=loops_shown, deadline=BACKSTOP)
        yield h


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_a_listing_whose_next_link_loops_is_read_once(loops: Hostile, lang: str) -> None:
    reads = listing_reads(loops, lang)
    assert reads, f"the {lang} listing was never read: the test proves nothing"
    # Page 1 is read twice by design (first contact, then the section).
    assert len(reads) <= listing_pages(loops, lang) + 1, reads[:20]


# Seconds: a crawl of this five-post site ends whatever its feed or sitemap holds: 12-15 s
# with the sitemap of 100,000 URLs on the idle 2-CPU machine (reading 50,000 of them),
# past 20 s once under the whole suite beside other work; fetching them would take hours.
GHOSTS_BACKSTOP = 60
SITEMAP_MAX_URLS = 50_000  # per sitemap file: the sitemaps.org protocol's own limit


@pytest.fixture(scope="module")
def ghost_feed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    with hostile_site(tmp_path_factory.mktemp("ghost-feed"), [("feed-ghost-items", {})], state=small_state()) as h:
        h.crawl(until=over("/ghost-feed-", 10), deadline=GHOSTS_BACKSTOP)
        yield h


@pytest.fixture(scope="module")
def ghost_sitemap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    with hostile_site(tmp_path_factory.mktemp("ghost-sitemap"), [("sitemap-ghost-urls", {})], state=small_state()) as h:
        h.crawl(until=over("/ghost-sitemap-", 0), deadline=GHOSTS_BACKSTOP)
        yield h


def test_a_feed_of_100000_items_fetches_a_bounded_number_of_them(ghost_feed: Hostile) -> None:
    assert ghost_feed.count("/ghost-feed-") <= 10
    assert not ghost_feed.cut[0], f"the crawl of a five-post site had not ended after {GHOSTS_BACKSTOP} s"


def test_a_sitemap_of_100000_urls_fetches_none_of_them(ghost_sitemap: Hostile) -> None:
    assert ghost_sitemap.count("/wp-sitemap-posts-post-1.xml") >= 1, "the sitemap was never read: the test proves nothing"
    assert ghost_sitemap.count("/ghost-sitemap-") == 0


def test_a_sitemap_of_100000_urls_is_read_up_to_the_protocol_limit(ghost_sitemap: Hostile) -> None:
    assert not ghost_sitemap.cut[0], f"the crawl of a five-post site had not ended after {GHOSTS_BACKSTOP} s"
    assert ghost_sitemap.record()["sources"]["sources"]["sitemap"]["posts"] <= SITEMAP_MAX_URLS


UNBOUNDED_SAID = {
    "rest-total-pages-huge": ("endless_rest", [("X-WP-TotalPages",), ("wp-json", "pages")]),
    "sitemap-index-self": ("endless_sitemap", [(SELF_INDEX.rsplit("/", 1)[1],)]),
    "listing-next-first": ("loops", [("category/events", "next")]),
    "listing-next-pair": ("loops", [("%d1%81%d0%be%d0%b1%d1%8b%d1%82%d0%b8%d1%8f", "next")]),
    "feed-ghost-items": ("ghost_feed", [("feed", "100000"), ("feed", "100,000"), ("feed", "items")]),
    "sitemap-ghost-urls": ("ghost_sitemap", [("wp-sitemap-posts-post-1.xml", "50")]),
}


@pytest.mark.parametrize("name", list(UNBOUNDED_SAID))
def test_each_unbounded_source_is_named_in_one_sentence(request: pytest.FixtureRequest, name: str) -> None:
    group, needles = UNBOUNDED_SAID[name]
    h: Hostile = request.getfixturevalue(group)
    assert h.said(*needles), "\n".join(h.diagnostics()[-60:])


@pytest.mark.parametrize("group", ["endless_rest", "endless_sitemap", "loops", "ghost_feed", "ghost_sitemap"])
def test_no_traceback_with_unbounded_sources(request: pytest.FixtureRequest, group: str) -> None:
    assert request.getfixturevalue(group).tracebacks() == []


# ----- 5. bounded memory ------------------------------------------------------------------------------


def rss_over(h: Hostile) -> bool:
    return h.child_rss_mb() > PEAK_RSS_MB


@pytest.fixture(scope="module")
def big_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    with hostile_site(tmp_path_factory.mktemp("big-page"), [("page-15mb", {}), ("rest-wrong-types", {})],
                      state=small_state()) as h:
        h.crawl(until=rss_over, deadline=BACKSTOP)
        yield h


@pytest.fixture(scope="module")
def gzip_bomb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    with hostile_site(tmp_path_factory.mktemp("gzip-bomb"), [("sitemap-gzip-bomb", {}), ("rest-html-instead-of-json", {})],
                      state=small_state()) as h:
        h.crawl(until=rss_over, deadline=BACKSTOP)
        yield h


def test_a_15_mb_page_keeps_the_crawl_under_300_mb(big_page: Hostile) -> None:
    assert big_page.peak_rss_mb[0] < PEAK_RSS_MB and not big_page.cut[0]


def test_a_gzip_sitemap_bomb_keeps_the_crawl_under_300_mb(gzip_bomb: Hostile) -> None:
    assert gzip_bomb.peak_rss_mb[0] < PEAK_RSS_MB and not gzip_bomb.cut[0]
    assert gzip_bomb.count(GZIP_PART) <= 1


def test_a_gzip_sitemap_bomb_is_named(gzip_bomb: Hostile) -> None:
    assert gzip_bomb.said(("xml.gz",)), "\n".join(gzip_bomb.diagnostics())


def test_rest_answers_of_the_wrong_shape_are_named(big_page: Hostile, gzip_bomb: Hostile) -> None:
    assert big_page.said(("wp-json",), ("REST", "id")), "\n".join(big_page.diagnostics())
    assert gzip_bomb.said(("wp-json",), ("REST", "JSON")), "\n".join(gzip_bomb.diagnostics())


def test_no_traceback_with_big_answers(big_page: Hostile, gzip_bomb: Hostile) -> None:
    assert big_page.tracebacks() + gzip_bomb.tracebacks() == []


# ----- 6. a run cut short does not repeat its work ----------------------------------------------------------

SLOW_REST = 0.7  # seconds per REST posts page
GENERATED = 250  # events, so the REST enumeration has three pages of 100


def rest_pages(requests: list[dict[str, Any]]) -> list[str]:
    return [r["path"] for r in requests if r["path"].startswith("/wp-json/wp/v2/posts") and r["status"] == 200]


def read_a_while_ago(pages: int, seconds: float = 0.5) -> Callable[[Hostile], bool]:
    """Whether `pages` REST pages were answered, the last one `seconds` ago (so the crawl had
    the time to take it in: a page still in flight at the kill is not one it had read)."""
    def read(h: Hostile) -> bool:
        answered = [r for r in h.site.requests() if r["path"].startswith("/wp-json/wp/v2/posts") and r["status"] == 200]
        if len(answered) < pages:
            return False
        at = datetime.fromisoformat(answered[pages - 1]["time"])
        return (datetime.now(timezone.utc) - at).total_seconds() >= seconds
    return read


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    """Killed (SIGKILL, as by a power cut) once two of three REST pages are read; then run
    again until its first REST page is in."""
    state = small_state()
    for n in range(GENERATED):
        state.publish(Post(lang="en", title=f"Seminar number {n} on regional cooperation", slug=f"seminar-{n}",
                           content_html=f"<p>Seminar {n} of the series on regional cooperation discussed trade, "
                                        "transport corridors and water. The materials will be published.</p>",
                           categories=["events"]))
    state.slow_down("/wp-json/wp/v2/posts", SLOW_REST)
    with hostile_site(tmp_path_factory.mktemp("interrupted"), [], state=state) as h:
        h.crawl(until=read_a_while_ago(2), deadline=BACKSTOP)
        h.crawl(until=lambda h: len(rest_pages(h.site.requests())) >= 1, deadline=BACKSTOP)
        yield h


def test_the_killed_run_is_recorded_as_failed(interrupted: Hostile) -> None:
    assert interrupted.cut[0] and len(rest_pages(interrupted.requests[0])) >= 2
    runs = interrupted.cli("runs", "--json").json()
    assert any(r["outcome"] in ("failed", "interrupted") for r in runs), runs
    assert "Traceback" not in interrupted.runs[0].err


def test_the_next_run_does_not_read_again_the_rest_pages_already_read(interrupted: Hostile) -> None:
    again = set(rest_pages(interrupted.requests[1])) & set(rest_pages(interrupted.requests[0]))
    assert again == set(), sorted(again)


def test_the_killed_run_lost_no_version(interrupted: Hostile) -> None:
    result = interrupted.cli("verify", check=False)
    assert result.code == 0, result.out[-1000:] + result.err[-1000:]


# ----- the fixture itself ---------------------------------------------------------------------------------


def test_the_fixture_misbehaves_on_the_socket_as_it_says(tmp_path: Path) -> None:
    import http.client

    behaviours: list[tuple[str, dict[str, Any]]] = [("hang", {"seconds": 2.0}), ("reset-mid-body", {}), ("short-body", {})]
    with hostile_site(tmp_path, behaviours, state=small_state()) as h:
        def get(name: str) -> tuple[int, int, bytes]:
            conn = http.client.HTTPConnection("127.0.0.1", h.site.port, timeout=1)
            try:
                conn.request("GET", path_of(h, name))
                resp = conn.getresponse()
                return resp.status, int(resp.headers["Content-Length"]), resp.read()
            finally:
                conn.close()

        with pytest.raises(TimeoutError):
            get("hang")
        with pytest.raises((http.client.IncompleteRead, ConnectionResetError)):
            get("reset-mid-body")
        with pytest.raises(http.client.IncompleteRead) as cut:
            get("short-body")
        assert cut.value.partial and cut.value.expected > 0  # part of the body, less than announced
        assert [r.get("socket") for r in h.site.requests()] == ["hang", "reset", "short-body"]


def test_an_unknown_behaviour_is_refused_in_one_sentence() -> None:
    with pytest.raises(ValueError, match="unknown hostile behaviour 'no-such-thing'"):
        install(default_state(), "no-such-thing")


def test_a_site_without_hostile_behaviours_is_the_faithful_one() -> None:
    from scheduler.demo_site.hostile import respond
    from scheduler.demo_site.pages import Context
    from scheduler.demo_site.render import Request, render

    state, ctx = default_state(), Context(root="http://127.0.0.1:1", nonce="n", views=1)
    for target in ("/en/", "/en/category/events/", "/wp-json/wp/v2/posts?per_page=5", "/wp-sitemap.xml", "/en/feed/"):
        assert respond(state, Request("GET", target), ctx) == render(state, Request("GET", target), ctx)
