"""What runs publish (the archive's Atom feed, the webhook), `daemon --serve`, and the viewer's
pure pieces (Memento headers, citations, the diff layout, webhook retries)."""
from __future__ import annotations

import json
import signal
import threading
import time
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from conftest import BIN, start_server, stop_server

ATOM = "{http://www.w3.org/2005/Atom}"


class Receiver:
    """A webhook receiver on 127.0.0.1 that answers the given statuses in turn (then 200)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[int, dict[str, Any]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver.received.append((status, body))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.e2e
def test_a_crawl_writes_the_feed_and_posts_the_webhook_with_retries(site, cli) -> None:
    with Receiver([503]) as receiver:
        cli.env.update(KISI_WEBHOOK=receiver.url, KISI_PUBLIC_URL="https://archive.example.org/")
        started = time.monotonic()
        summary = cli.crawl(site).json()
        assert time.monotonic() - started < 60
        assert [status for status, _ in receiver.received] == [503, 200]  # retried after the 503
        payload = receiver.received[-1][1]
        assert payload["run_id"] == summary["run_id"] and payload["outcome"] == "completed"
        documents = len(cli("list", "--json").json())
        assert payload["counts"]["new_documents"] == documents and len(payload["changes"]) == documents
        change = payload["changes"][0]
        assert change["kind"] == "new" and change["archive_url"].startswith("https://archive.example.org/doc/")
        assert payload["feed"] == "https://archive.example.org/changes.atom"
        # A run that changed nothing posts nothing.
        cli.crawl(site)
        assert len(receiver.received) == 2
    feed = ET.parse(cli.archive / "feeds" / "changes.atom").getroot()
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == documents and feed.find(f"{ATOM}link[@rel='self']").get("href") == \
        "https://archive.example.org/changes.atom"
    assert entries[0].find(f"{ATOM}link[@rel='alternate']").get("href").startswith("https://archive.example.org/doc/")


@pytest.mark.e2e
def test_daemon_serves_the_viewer_beside_its_schedule(site, cli) -> None:
    served = start_server([str(BIN), "daemon", "--every", "1h", "--run-now", "--jitter", "0", "--serve", "--port", "0",
                           "--site", f"{site.url}/en/", "--category", "events"], cli.env, marker="web viewer")
    try:
        deadline = time.monotonic() + 60
        while served.get("/healthz").status != 200:  # the run-now crawl completes
            assert time.monotonic() < deadline, "".join(served.stderr)
            time.sleep(0.3)
        assert served.get("/documents.json").json() and served.get("/").status == 200
        assert (cli.archive / "feeds" / "changes.atom").exists()
    finally:
        served.process.send_signal(signal.SIGTERM)
        assert stop_server(served) == 0


# -- pure pieces ---------------------------------------------------------------------------
def test_http_dates_and_accept_datetime() -> None:
    from scheduler.web.memento import http_date, parse_accept_datetime

    assert http_date("2001-09-11T20:36:10+00:00") == "Tue, 11 Sep 2001 20:36:10 GMT"
    assert http_date("2001-09-11T22:36:10+02:00") == "Tue, 11 Sep 2001 20:36:10 GMT"
    assert parse_accept_datetime("Tue, 11 Sep 2001 20:35:00 GMT") == "2001-09-11T20:35:00+00:00"
    for bad in ("2001-09-11", "Tue, 11 Sep 2001 20:35:00 +0200", "yesterday", ""):
        with pytest.raises(ValueError):
            parse_accept_datetime(bad)


def test_link_headers_are_ascii() -> None:
    from scheduler.web.memento import Link

    assert Link("https://kisi.kz/kk/сарапшылар/", "original").render() == \
        '<https://kisi.kz/kk/%D1%81%D0%B0%D1%80%D0%B0%D0%BF%D1%88%D1%8B%D0%BB%D0%B0%D1%80/>; rel="original"'
    assert Link("https://kisi.kz/kk/%D1%81/?p=1", "original").render() == '<https://kisi.kz/kk/%D1%81/?p=1>; rel="original"'


def test_memento_links_name_neighbours() -> None:
    from scheduler.web.memento import Memento, link_header, memento_links

    ms = [Memento(f"http://a/v{i}", f"2026-01-0{i}T00:00:00+00:00") for i in (1, 2, 3)]
    rendered = link_header(memento_links("https://kisi.kz/x/", "http://a/tg", "http://a/tm", ms, ms[1]))
    assert rendered.startswith('<https://kisi.kz/x/>; rel="original", <http://a/tg>; rel="timegate", '
                               '<http://a/tm>; rel="timemap"; type="application/link-format"; '
                               'from="Thu, 01 Jan 2026 00:00:00 GMT"; until="Sat, 03 Jan 2026 00:00:00 GMT"')
    assert '<http://a/v1>; rel="first prev memento"; datetime="Thu, 01 Jan 2026 00:00:00 GMT"' in rendered
    assert '<http://a/v3>; rel="last next memento"; datetime="Sat, 03 Jan 2026 00:00:00 GMT"' in rendered
    assert "http://a/v2>" not in rendered  # a memento does not list itself when it is neither first nor last


def test_citations_escape_and_name_both_addresses() -> None:
    from scheduler.web.cite import bibtex_citation, plain_citation

    snap = {"doc_id": "kisi.kz-ru-2369", "version": 3, "title": "Эксперты: 50% & {рост}_итоги", "site": "kisi.kz",
            "author": "Пресс-служба КИСИ", "date_published": "2025-03-12T07:00:00+00:00", "language": "ru",
            "canonical_url": "https://kisi.kz/ekspertyi/", "fetched_at": "2026-11-28T13:00:00+00:00", "kind": "edit"}
    text = plain_citation(snap, "https://archive.example.org/doc/kisi.kz-ru-2369/v3")
    assert text == ("Пресс-служба КИСИ. “Эксперты: 50% & {рост}_итоги.” kisi.kz, 2025-03-12. https://kisi.kz/ekspertyi/. "
                    "Archived version 3, captured 2026-11-28 13:00 UTC: https://archive.example.org/doc/kisi.kz-ru-2369/v3.")
    bib = bibtex_citation(snap, "https://archive.example.org/doc/kisi.kz-ru-2369/v3")
    assert bib.startswith("@online{kisi.kz-ru-2369-v3,\n")
    assert r"title = {{Эксперты: 50\% \& \{рост\}\_итоги}}" in bib
    assert "url = {https://archive.example.org/doc/kisi.kz-ru-2369/v3}" in bib and "langid = {russian}" in bib
    assert r"\url{https://kisi.kz/ekspertyi/}" in bib and bib.count("{") == bib.count("}")


def test_side_by_side_pairs_removed_with_added_lines() -> None:
    from scheduler.web.diffview import hunk_view
    from storage.diff import text_hunks

    old = "First paragraph.\n\nThe seminar was held in Astana.\n\nLast paragraph."
    new = "First paragraph.\n\nThe workshop was held in Astana.\n\nLast paragraph.\n\nA new paragraph."
    view = hunk_view(text_hunks(old, new)[0])
    rows = [(p.left.op if p.left else None, p.right.op if p.right else None) for p in view.pairs]
    assert rows == [(" ", " "), ("-", "+"), (" ", " "), (None, "+")]
    edited = view.pairs[1]
    assert [s.text for s in edited.left.segments if s.changed] == ["seminar"]
    assert [s.text for s in edited.right.segments if s.changed] == ["workshop"]
    assert view.pairs[3].right.whole and view.pairs[3].right.number == 7  # blank separator lines count
    assert [r.op for r in view.rows] == [" ", "-", "+", " ", "+"]


def test_webhook_retries_with_backoff_and_gives_up_on_refusal() -> None:
    from scheduler.webhook import Delivery, WebhookSender, backoff, should_retry

    assert [backoff(n) for n in (1, 2, 3)] == [1.0, 2.0, 4.0]
    assert should_retry(None) and should_retry(503) and should_retry(429) and not should_retry(404)
    answers: list[int | None] = [None, 502, 204]
    slept: list[float] = []
    sender = WebhookSender(post=lambda url, payload: answers.pop(0), sleep=slept.append)
    assert sender.deliver(Delivery("http://127.0.0.1:9/", {}, retries=5)) and slept == [1.0, 2.0]
    refusing = WebhookSender(post=lambda url, payload: 410, sleep=slept.append)
    assert not refusing.deliver(Delivery("http://127.0.0.1:9/", {}, retries=5)) and slept == [1.0, 2.0]
    failing = WebhookSender(post=lambda url, payload: 500, sleep=lambda s: None)
    failing.send("http://127.0.0.1:9/", {}, retries=2)  # in the background: never blocks the caller
    assert failing.drain(5)

