"""What the site actually sent, end to end against the fixture site on 127.0.0.1: WARC files
(warcio check and index, replay in pywb), attachments (stored once, searchable, a replaced
PDF makes one version), causes (an extractor change is never a site change), tampering,
WACZ."""
from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path
from typing import Iterator

import pytest

from scheduler.demo_site import SiteProcess, default_state
from scheduler.demo_site.seed import KK_REPORT
from tests.conftest import Cli, make_cli

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
WARCIO = Path(sys.executable).parent / "warcio"
EXTRACTOR_B = Path(__file__).parent / "extractor_b"
RU_EVENTS = "события"


def pywb_bin() -> Path | None:
    """pywb's own virtualenv (.ci/run makes it: its pinned dependencies stay out of ours)."""
    for folder in (os.environ.get("KISI_PYWB_BIN"), ROOT / ".venv-pywb" / "bin"):
        if folder and (Path(folder) / "wayback").exists():
            return Path(folder)
    return None


class Crawled:
    def __init__(self, site: SiteProcess, cli: Cli) -> None:
        self.site, self.cli = site, cli

    @property
    def archive(self) -> Path:
        return self.cli.archive

    def snapshot(self, doc_id: str, version: int = 1) -> dict:
        return json.loads((self.archive / "documents" / doc_id / f"v{version:04d}.json").read_text("utf-8"))

    def warcs(self) -> list[Path]:
        return sorted((self.archive / "warc").glob("*.warc.gz"))


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    root = tmp_path_factory.mktemp("warc")
    default_state().save(root / "site.json")
    with SiteProcess(root / "site.json", root / "requests.log") as site:
        cli = make_cli(root)
        cli.crawl(site)
        cli.crawl(site, path="/", category=RU_EVENTS)
        yield Crawled(site, cli)


def test_every_exchange_is_in_a_warc_that_warcio_checks_and_indexes(crawled: Crawled) -> None:
    warcs = crawled.warcs()
    assert len(warcs) == 2  # one per run
    checked = subprocess.run([str(WARCIO), "check", "-v", *map(str, warcs)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "digest pass" in checked.stdout
    index = subprocess.run([str(WARCIO), "index", "-f", "warc-type,warc-target-uri,http:status,warc-profile",
                            str(warcs[0])], capture_output=True, text=True, check=True)
    entries = [json.loads(line) for line in index.stdout.splitlines()]
    assert entries[0]["warc-type"] == "warcinfo"
    types = {e["warc-type"] for e in entries}
    assert {"warcinfo", "response", "request"} <= types
    uris = " ".join(e.get("warc-target-uri", "") for e in entries)
    for part in ("/robots.txt", "/wp-json/wp/v2/categories", "/wp-json/wp/v2/posts", "/feed/", "wp-sitemap",
                 "/category/events/", "/wp-content/uploads/", "/en/"):
        assert part in uris, part
    assert any(e.get("http:status") == "404" for e in entries)  # errors are kept too
    responses = sum(1 for e in entries if e["warc-type"] in ("response", "revisit"))
    assert responses == sum(1 for e in entries if e["warc-type"] == "request")
    # The warcinfo record names the software, its versions and the configuration.
    with gzip.open(warcs[0], "rb") as handle:
        head = handle.read(4096).decode("utf-8", "replace")
    assert "software: kisi-archive/" in head and "trafilatura" in head and "configuration: {" in head
    assert "WARC/1.1" in head


def test_each_snapshot_points_to_its_response_record(crawled: Crawled) -> None:
    from storage.records import WarcRef
    from storage.warcfiles import read_record

    snapshot = crawled.snapshot("127.0.0.1-en-2368")
    ref = WarcRef.from_json(snapshot["warc"])
    assert ref is not None and ref.record_type == "response" and ref.file.startswith("warc/")
    headers, payload = read_record(crawled.archive, ref)
    assert headers["WARC-Record-ID"] == ref.record_id and headers["WARC-Type"] == "response"
    assert headers["WARC-Payload-Digest"] == ref.payload_digest
    assert headers["WARC-Target-URI"] == snapshot["final_url"]
    body = gzip.decompress((crawled.archive / "documents" / "127.0.0.1-en-2368" / "v0001.html.gz").read_bytes())
    assert payload == body  # the fixture does not compress: the payload is the body as stored


def test_a_second_run_writes_revisits_for_what_did_not_change(crawled: Crawled) -> None:
    crawled.cli.crawl(crawled.site, "--full")
    newest = crawled.warcs()[-1]
    index = subprocess.run([str(WARCIO), "index", "-f", "warc-type,warc-target-uri,warc-profile", str(newest)],
                           capture_output=True, text=True, check=True)
    entries = [json.loads(line) for line in index.stdout.splitlines()]
    profiles = {e.get("warc-profile", "").rsplit("/", 1)[-1] for e in entries if e["warc-type"] == "revisit"}
    assert {"server-not-modified", "identical-payload-digest"} <= profiles
    uploads = [e for e in entries if "/wp-content/uploads/" in e.get("warc-target-uri", "")
               and e["warc-type"] != "request"]
    assert uploads and all(e["warc-type"] == "revisit" for e in uploads if "climate" not in e["warc-target-uri"])
    assert subprocess.run([str(WARCIO), "check", str(newest)]).returncode == 0
    assert crawled.cli("verify").code == 0


def test_attachments_are_stored_once_listed_and_searchable(crawled: Crawled) -> None:
    ru = crawled.snapshot("127.0.0.1-ru-2369")
    kinds = [(a["content_type"], a["label"]) for a in ru["attachments"]]
    assert kinds == [("image/png", "Участники круглого стола в зале КИСИ"), ("image/png", "Спикеры круглого стола"),
                     ("application/pdf", "Доклад «Политическая трансформация в Казахстане» (PDF)")]
    # The largest rendition of each image, not its resized copies; another site's PDF is not fetched.
    assert not any(re.search(r"-\d+x\d+\.", a["url"]) for a in ru["attachments"])
    assert not any("127.0.0.2" in a["url"] for a in ru["attachments"])
    en = crawled.snapshot("127.0.0.1-en-2368")
    assert en["attachments"][0]["sha256"] == ru["attachments"][0]["sha256"]  # one photo, two posts
    blobs = [p for p in (crawled.archive / "attachments" / "sha256").rglob("*") if p.is_file() and "." not in p.name]
    named = {a["sha256"] for d in (crawled.archive / "documents").iterdir() for v in d.glob("v*.json")
             for a in json.loads(v.read_text("utf-8")).get("attachments", []) if a.get("sha256")}
    assert len(blobs) == len(named)  # stored once each
    requested = [r["path"] for r in crawled.site.requests()]
    assert not any("partner-report" in path for path in requested)
    # Searchable: Russian and Kazakh words of the PDFs' text.
    hits = crawled.cli("search", "трансформац*", "--in", "attachments", "--json").json()["hits"]
    assert {h["doc_id"] for h in hits} == {"127.0.0.1-ru-2369", "127.0.0.1-kk-2374"}
    kk = crawled.cli("search", "баяндама", "--in", "attachments", "--json").json()["hits"]
    assert [h["doc_id"] for h in kk] == ["127.0.0.1-kk-2374"] and "**баяндама**" in kk[0]["snippet"]
    # An encrypted PDF and a damaged one are kept, their text empty, the reason recorded.
    reasons = {}
    for meta in (crawled.archive / "attachments" / "sha256").rglob("*.json"):
        data = json.loads(meta.read_text("utf-8"))
        reasons[data["first_url"].rsplit("/", 1)[-1]] = data["text_error"]
    assert reasons["demograficheskie-tendencii-2050.pdf"].startswith("encrypted")
    assert reasons["parliamentary-reform-expert-session.pdf"].startswith("unreadable PDF")
    assert reasons["bayandama-sayasi-transformaciya.pdf"] is None


def test_the_wacz_export_is_valid_and_lists_the_pages(crawled: Crawled, tmp_path: Path) -> None:
    out = tmp_path / "kisi.wacz"
    result = crawled.cli("export", "--format", "wacz", "--out", str(out), "--json").json()
    assert result["warc_files"] == len(crawled.warcs()) and result["pages"] >= 17
    with zipfile.ZipFile(out) as zipped:
        names = zipped.namelist()
        package = json.loads(zipped.read("datapackage.json"))
        for info in zipped.infolist():
            if info.filename.startswith("archive/"):
                assert info.compress_type == zipfile.ZIP_STORED  # replay tools seek into them
        pages = [json.loads(line) for line in zipped.read("pages/pages.jsonl").splitlines()]
    assert {"datapackage.json", "datapackage-digest.json", "indexes/index.cdxj", "pages/pages.jsonl"} <= set(names)
    assert package["wacz_version"] == "1.1.1" and all(r["hash"].startswith("sha256:") for r in package["resources"])
    assert pages[0]["format"] == "json-pages-1.0" and {"url", "ts", "title"} <= set(pages[1])
    tools = pywb_bin()
    if tools is not None and (tools / "wacz").exists():
        checked = subprocess.run([str(tools / "wacz"), "validate", "-f", str(out)], capture_output=True, text=True)
        assert "Validation succeeded" in checked.stdout, checked.stdout + checked.stderr
    # The other exports keep working.
    assert crawled.cli("export", "--format", "csv").out.startswith('"doc_id"')


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_pywb_replays_the_warcs(crawled: Crawled, tmp_path: Path) -> None:
    tools = pywb_bin()
    if tools is None:
        pytest.skip("pywb is not installed (.ci/run installs it into .venv-pywb; or set KISI_PYWB_BIN)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KISI_")}
    subprocess.run([str(tools / "wb-manager"), "init", "kisi"], cwd=tmp_path, env=env, check=True, capture_output=True)
    subprocess.run([str(tools / "wb-manager"), "add", "kisi", *map(str, crawled.warcs())], cwd=tmp_path, env=env,
                   check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen([str(tools / "wayback"), "-p", str(port), "-b", "127.0.0.1"], cwd=tmp_path, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        from storage.records import WarcRef
        from storage.warcfiles import read_record

        snapshot = crawled.snapshot("127.0.0.1-kk-2374")
        # The instant of the response record itself: later runs captured the same URL too.
        headers, _payload = read_record(crawled.archive, WarcRef.from_json(snapshot["warc"]))
        stamp = "".join(ch for ch in headers["WARC-Date"] if ch.isdigit())[:14]
        body = gzip.decompress((crawled.archive / "documents" / "127.0.0.1-kk-2374" / "v0001.html.gz").read_bytes())
        page = _get(f"http://127.0.0.1:{port}/kisi/{stamp}id_/{snapshot['final_url']}")
        assert page == body
        pdf = next(a for a in snapshot["attachments"] if a["content_type"] == "application/pdf")
        replayed = _get(f"http://127.0.0.1:{port}/kisi/{stamp}id_/{pdf['url']}")
        assert replayed.startswith(b"%PDF") and len(replayed) == pdf["bytes"]
    finally:
        server.terminate()
        server.wait(10)


def _get(url: str, attempts: int = 40) -> bytes:
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - 127.0.0.1 only
                return response.read()
        except (ConnectionError, urllib.error.URLError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.25)
    raise AssertionError("unreachable")


# -- what changed, and why -------------------------------------------------------------------
def changed(cli: Cli) -> dict[str, int]:
    return {d["doc_id"]: d["versions"] for d in cli("list", "--changed", "--json").json()}


def test_a_replaced_pdf_and_an_extractor_change(site: SiteProcess, tmp_path: Path) -> None:
    cli = make_cli(tmp_path)
    cli.crawl(site)
    # The Kazakh report is replaced at the same URL (the post itself is not edited).
    with site.modify() as state:
        report = state.media_item(KK_REPORT)
        state.replace_media(KK_REPORT, pdf={**report.pdf, "paragraphs": [*report.pdf["paragraphs"], "Екінші басылым."]})
    counts = cli.crawl(site, "--full").json()["counts"]
    assert counts["new_versions"] == 1
    assert changed(cli) == {"127.0.0.1-kk-2374": 2}
    history = cli("history", "127.0.0.1-kk-2374", "--json").json()
    assert history[1]["changed_fields"] == ["attachments"] and history[1]["cause"] == "site"

    # An extractor upgrade (tests/extractor_b): reextract makes cause-extractor versions only.
    patched = Cli(cli.archive, {**cli.env, "PYTHONPATH": str(EXTRACTOR_B)})
    report = patched("reextract", "--all", "--json").json()
    assert report["extractor"]["version"].endswith("+b") and report["changed"]
    assert all(c["extractor_before"]["version"] + "+b" == c["extractor_after"]["version"] for c in report["changed"])
    after = changed(cli)
    assert set(after) == {c["doc_id"] for c in report["changed"]} | {"127.0.0.1-kk-2374"}
    for change in report["changed"]:
        snapshot = json.loads((cli.archive / "documents" / change["doc_id"] / f"v{change['version']:04d}.json").read_text())
        assert snapshot["cause"] == "extractor" and snapshot["changed_fields"] == ["text"]
    # list --changed --cause site leaves the extractor-only changes out.
    assert {d["doc_id"] for d in cli("list", "--changed", "--cause", "site", "--json").json()} == {"127.0.0.1-kk-2374"}
    assert "extractor" in cli("history", report["changed"][0]["doc_id"]).out
    assert "Cause: extractor" in cli("diff", report["changed"][0]["doc_id"]).out
    # A crawl with the new extractor finds no site change.
    counts = patched.crawl(site, "--full").json()["counts"]
    assert counts["new_versions"] == 0 and changed(cli) == after
    # Back to the installed extractor without reextract: the crawl reads the stored response
    # again first, so the difference is the extractor's, never the site's.
    counts = cli.crawl(site, "--full").json()["counts"]
    assert counts["new_versions"] == 0
    causes = {v["cause"] for doc in after for v in cli("history", doc, "--json").json()[1:]}
    assert causes == {"site", "extractor"}
    site_versions = [(doc, v["version"]) for doc in changed(cli) for v in cli("history", doc, "--json").json()[1:]
                     if v["cause"] == "site"]
    assert site_versions == [("127.0.0.1-kk-2374", 2)]
    assert cli("verify").code == 0


def test_tampering_makes_verify_fail_naming_the_file(crawled: Crawled, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(crawled.archive, root)
    env = {**crawled.cli.env, "KISI_ARCHIVE_DIR": str(root)}
    tampered = Cli(root, env)
    assert tampered("verify").code == 0
    warc = sorted((root / "warc").glob("*.warc.gz"))[0]
    data = bytearray(warc.read_bytes())
    data[len(data) // 2] ^= 0xFF
    warc.write_bytes(bytes(data))
    blob = next(p for p in (root / "attachments" / "sha256").rglob("*") if p.is_file() and "." not in p.name)
    blob.write_bytes(blob.read_bytes() + b" ")
    result = tampered("verify", "--json", check=False)
    assert result.code == 1
    paths = {p["path"] for p in result.json()["problems"] if p["severity"] == "error"}
    assert f"warc/{warc.name}" in paths
    assert str(blob.relative_to(root)) in paths
