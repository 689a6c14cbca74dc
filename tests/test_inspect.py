"""Inspecting the archive through the `kisi-archive` command (issue 5): list filters, diff,
search, export, stats, and bad input, on an archive built by crawling the fixture site with
real edits and a removal between crawls."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from conftest import Cli
from seeded import EVENTS_BY_LANGUAGE
from scheduler.demo_site import SiteProcess, default_state
from storage.export import CSV_COLUMNS

pytestmark = pytest.mark.e2e

EDITED = 2342  # edited twice: v1 -> v2 (title, text, tags) -> v3 (a paragraph added)
KK_EDITED = 2374  # the Kazakh translation, edited once
REMOVED = 2357  # trashed: pending after the second crawl, a tombstone after the third
NEW_TITLE = "Scholars assessed the results of the parliamentary reform at an expert round table"
ADDED = "The materials of the session will be published in a special issue of the journal."


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SiteProcess, Cli]]:
    tmp = tmp_path_factory.mktemp("inspect")
    state = tmp / "site.json"
    default_state().save(state)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KISI_")}
    env.update(KISI_ARCHIVE_DIR=str(tmp / "archive"), KISI_DOWNLOAD_DELAY="0", KISI_TIMEOUT="10",
               KISI_CONTACT="https://example.org/kisi-archive-tests")
    cli = Cli(tmp / "archive", env)
    with SiteProcess(state, tmp / "requests.log") as site:
        cli.crawl(site)
        with site.modify() as s:
            post = s.post(EDITED)
            s.edit(EDITED, title=NEW_TITLE, tags=[*post.tags, "elections"],
                   content_html=post.content_html.replace("had grown noticeably", "had grown considerably"))
            kk = s.post(KK_EDITED)
            s.edit(KK_EDITED, content_html=kk.content_html + "\n<p>Ұсыныстар мемлекеттік органдарға жіберілді.</p>")
            s.trash(REMOVED)
        cli.crawl(site, "--full")
        with site.modify() as s:
            post = s.post(EDITED)
            s.edit(EDITED, content_html=post.content_html + f"\n<p>{ADDED}</p>")
        cli.crawl(site)
        yield site, cli


@pytest.fixture(scope="module")
def cli(world: tuple[SiteProcess, Cli]) -> Cli:
    return world[1]


@pytest.fixture(scope="module")
def listing(cli: Cli) -> list[dict]:
    return cli("list", "--json").json()


def by_post(listing: list[dict]) -> dict[int, dict]:
    return {d["post_id"]: d for d in listing}


def post_ids(docs: list[dict]) -> list[int]:
    return [d["post_id"] for d in docs]


def no_traceback(result) -> None:
    assert "Traceback" not in result.err and "Traceback" not in result.out


# -- the archive the crawls built ----------------------------------------------------------------
def test_the_crawls_recorded_edits_and_a_removal(listing: list[dict]) -> None:
    docs = by_post(listing)
    assert docs[EDITED]["versions"] == 3 and docs[KK_EDITED]["versions"] == 2
    assert docs[REMOVED]["status"] == "removed" and docs[REMOVED]["versions"] == 2
    assert {d["post_id"] for d in listing if d["versions"] > 1} == {EDITED, KK_EDITED, REMOVED}
    for doc in listing:
        assert {"doc_id", "post_id", "url", "title", "language", "date_published", "versions", "last_seen",
                "first_seen", "status", "categories", "tags", "author", "captures"} <= set(doc)


# -- list ----------------------------------------------------------------------------------------
def test_list_filters(cli: Cli, listing: list[dict]) -> None:
    def listed(*args: str) -> list[int]:
        return post_ids(cli("list", "--json", *args).json())

    def expect(pred) -> list[int]:
        return [d["post_id"] for d in listing if pred(d)]

    assert listed("--lang", "ru") == expect(lambda d: d["language"] == "ru")
    assert len(listed("--lang", "ru")) == len(EVENTS_BY_LANGUAGE["ru"])
    assert listed("--lang", "kk", "--lang", "RU") == expect(lambda d: d["language"] in ("kk", "ru"))
    assert listed("--since", "2025") == expect(lambda d: d["date_published"] >= "2025")
    assert listed("--until", "2024-06") == expect(lambda d: d["date_published"] < "2024-07")
    assert listed("--since", "2025-03-12", "--until", "2025-03-13") == expect(
        lambda d: "2025-03-12" <= d["date_published"][:10] <= "2025-03-13")
    assert sorted(listed("--changed")) == sorted([EDITED, KK_EDITED, REMOVED])
    assert listed("--removed") == [REMOVED]
    assert listed("--category", "events") == expect(lambda d: "Events" in d["categories"])
    kazakh_events = listed("--category", "іс-шаралар")  # Kazakh name, any case
    assert KK_EDITED in kazakh_events and kazakh_events == expect(lambda d: "Іс-шаралар" in d["categories"])
    assert {by_post(listing)[i]["language"] for i in kazakh_events} == {"kk"}
    assert listed("--category", "События", "--lang", "ru", "--changed") == []
    assert listed("--lang", "en", "--changed", "--since", "2024", "--until", "2024") == [EDITED]


def test_list_sorting_and_paging(cli: Cli, listing: list[dict]) -> None:
    oldest = post_ids(cli("list", "--json", "--sort", "published").json())
    assert oldest == post_ids(sorted(listing, key=lambda d: (d["date_published"], d["doc_id"])))
    by_versions = cli("list", "--json", "--sort", "-versions").json()
    assert post_ids(by_versions)[0] == EDITED
    titles = [d["title"].lower() for d in cli("list", "--json", "--sort", "title").json()]
    assert titles == sorted(titles)
    assert len(cli("list", "--json", "--sort", "-last-seen").json()) == len(listing)
    assert post_ids(cli("list", "--json", "--limit", "5").json()) == post_ids(listing[:5])
    assert post_ids(cli("list", "--json", "--limit", "5", "--offset", "5").json()) == post_ids(listing[5:10])
    assert post_ids(cli("list", "--json", "--limit", "5", "--page", "2").json()) == post_ids(listing[5:10])
    page = cli("list", "--limit", "4", "--page", "2")
    assert page.out.count("\n") == 5  # header + 4 rows
    assert f"Documents 5–8 of {len(listing)}; next: --offset 8" in page.err
    assert "[removed]" in cli("list", "--removed").out


def test_list_bad_filters_are_usage_errors(cli: Cli) -> None:
    for args in (["--since", "2024-13"], ["--until", "last year"], ["--sort", "size"], ["--limit", "0"]):
        result = cli("list", *args, check=False)
        assert result.code == 2, args
        assert result.err.startswith("error: ") and result.err.strip().count("\n") == 0
        no_traceback(result)


# -- show, history -------------------------------------------------------------------------------
def test_show_and_history_of_edited_and_removed(cli: Cli, listing: list[dict]) -> None:
    doc_id = by_post(listing)[EDITED]["doc_id"]
    assert cli("show", doc_id, "--json").json()["title"] == NEW_TITLE
    assert cli("show", doc_id, "--version", "1", "--json").json()["version"] == 1
    out_of_range = cli("show", doc_id, "--version", "9", check=False)
    assert out_of_range.code == 1 and "has versions 1–3; there is no version 9" in out_of_range.err
    no_traceback(out_of_range)
    removed = by_post(listing)[REMOVED]["doc_id"]
    assert "removed from the site" in cli("show", removed).out
    assert "(removed from the site)" in cli("history", removed).out


# -- diff ----------------------------------------------------------------------------------------
def test_diff_defaults_to_the_last_two_versions(cli: Cli, listing: list[dict]) -> None:
    doc_id = by_post(listing)[EDITED]["doc_id"]
    data = cli("diff", doc_id, "--json").json()
    assert (data["from_version"], data["to_version"], data["versions"]) == (2, 3, 3)
    assert data["text"]["changed"] and "text" in data["changed_fields"]
    assert f"+{ADDED}" in data["text"]["unified"].splitlines()
    assert {f["field"] for f in data["fields"]} <= {"date_modified"}


def test_diff_field_by_field_and_word_level(cli: Cli, listing: list[dict]) -> None:
    doc_id = by_post(listing)[EDITED]["doc_id"]
    data = cli("diff", doc_id, "--from", "1", "--to", "2", "--json").json()
    fields = {f["field"]: f for f in data["fields"]}
    assert fields["title"]["to"] == NEW_TITLE and fields["title"]["from"].endswith("at an expert session")
    assert fields["tags"]["added"] == ["elections"] and fields["tags"]["removed"] == []
    assert "date_modified" in fields
    lines = [line for hunk in data["text"]["hunks"] for line in hunk["lines"] if line["op"] != " "]
    plus = next(line for line in lines if line["op"] == "+")
    assert [w["text"].strip() for w in plus["words"] if w["changed"]] == ["considerably"]
    minus = next(line for line in lines if line["op"] == "-")
    assert [w["text"].strip() for w in minus["words"] if w["changed"]] == ["noticeably"]

    plain = cli("diff", doc_id, "--from", "1", "--to", "2")
    assert "\x1b[" not in plain.out  # not a terminal: no colour codes
    assert "Title:" in plain.out and "Tags:" in plain.out and "+ elections" in plain.out
    assert f"--- {doc_id} v1" in plain.out and f"+++ {doc_id} v2" in plain.out and "@@ -" in plain.out
    coloured = cli("diff", doc_id, "--from", "1", "--to", "2", "--color").out
    assert "\x1b[" in coloured and "\x1b[7m" in coloured  # changed words in reverse video
    backwards = cli("diff", doc_id, "--from", "3", "--to", "1", "--json").json()
    assert backwards["from_version"] == 3 and backwards["to_version"] == 1


def test_diff_edge_cases(cli: Cli, listing: list[dict]) -> None:
    single = next(d for d in listing if d["versions"] == 1)["doc_id"]
    one = cli("diff", single)
    assert one.code == 0 and "has only one version: nothing to compare" in one.out
    data = cli("diff", single, "--json").json()
    assert data["from_version"] is None and data["to_version"] == 1 and data["identical"] is True
    bad = cli("diff", by_post(listing)[EDITED]["doc_id"], "--from", "0", check=False)
    assert bad.code == 1 and bad.err.startswith("error:") and "no version 0" in bad.err
    no_traceback(bad)
    unknown = cli("diff", "kisi.kz-en-999999", check=False)
    assert unknown.code == 1 and "no document matches" in unknown.err
    removed = cli("diff", by_post(listing)[REMOVED]["doc_id"])
    assert "records that the post was removed" in removed.out and "same content" in removed.out
    assert cli("diff", by_post(listing)[REMOVED]["doc_id"], "--json").json()["to_kind"] == "tombstone"


# -- search --------------------------------------------------------------------------------------
def search(cli: Cli, *args: str) -> dict:
    return cli("search", *args, "--json").json()


def test_search_json_and_snippets(cli: Cli, listing: list[dict]) -> None:
    data = search(cli, "parliamentary")
    assert data["total"] >= 1 and data["all_versions"] is False
    hit = next(h for h in data["hits"] if h["doc_id"] == by_post(listing)[EDITED]["doc_id"])
    assert {"doc_id", "version", "latest", "status", "language", "title", "date_published", "url", "categories",
            "snippet", "score"} <= set(hit)
    assert hit["version"] == 3 and hit["latest"] is True and "**parliamentary**" in hit["snippet"].lower()
    text = cli("search", "parliamentary")
    assert "**parliamentary**" in text.out.lower() and "Results 1–" in text.err
    assert "\x1b[" in cli("search", "parliamentary", "--color").out


def test_search_latest_or_all_versions(cli: Cli, listing: list[dict]) -> None:
    assert search(cli, "noticeably")["hits"] == []  # edited away
    old = search(cli, "noticeably", "--all-versions")["hits"]
    assert [(h["doc_id"], h["version"], h["latest"]) for h in old] == [(by_post(listing)[EDITED]["doc_id"], 1, False)]
    every = search(cli, "considerably", "--all-versions")["hits"]
    assert sorted(h["version"] for h in every) == [2, 3]


def test_search_filters(cli: Cli, listing: list[dict]) -> None:
    everywhere = {h["doc_id"] for h in search(cli, "transformation*", "--limit", "100")["hits"]}
    english = {h["doc_id"] for h in search(cli, "transformation*", "--lang", "en", "--limit", "100")["hits"]}
    assert english and english <= everywhere and all("-en-" in d for d in english)
    since = search(cli, "KazISS", "--since", "2025", "--limit", "100")["hits"]
    assert since and all(h["date_published"] >= "2025" for h in since)
    until = search(cli, "KazISS", "--until", "2024", "--limit", "100")["hits"]
    assert until and all(h["date_published"] < "2025" for h in until)
    events = search(cli, "reform*", "--category", "EVENTS", "--limit", "100")["hits"]
    assert events and all("Events" in h["categories"] for h in events)
    assert search(cli, "reform*", "--category", "no such category")["hits"] == []
    limited = search(cli, "KazISS", "--limit", "2")
    assert len(limited["hits"]) == 2 and limited["total"] > 2
    second = search(cli, "KazISS", "--limit", "2", "--offset", "2")["hits"]
    assert not {h["doc_id"] for h in second} & {h["doc_id"] for h in limited["hits"]}
    by_date = search(cli, "KazISS", "--sort", "-published", "--limit", "100")["hits"]
    assert [h["date_published"] for h in by_date] == sorted((h["date_published"] for h in by_date), reverse=True)


def test_search_russian_and_kazakh(cli: Cli, listing: list[dict]) -> None:
    ru = by_post(listing)[2369]["doc_id"]
    kk = by_post(listing)[KK_EDITED]["doc_id"]
    assert ru in {h["doc_id"] for h in search(cli, "Эксперты")["hits"]}
    assert ru in {h["doc_id"] for h in search(cli, "эксперты", "--lang", "ru")["hits"]}
    assert ru not in {h["doc_id"] for h in search(cli, "экспертами")["hits"]}  # another form: no stemming
    assert ru in {h["doc_id"] for h in search(cli, "экспертами", "--stem")["hits"]}
    assert ru in {h["doc_id"] for h in search(cli, "трансформац*")["hits"]}
    assert [h["doc_id"] for h in search(cli, "ҚАЗАҚСТАНДАҒЫ")["hits"]] == [kk]
    assert search(cli, "Казакстандагы")["hits"] == []  # қ, ғ are not folded into к, г
    assert [h["doc_id"] for h in search(cli, "органдарға")["hits"]] == [kk]  # only in the edited version
    assert kk in {h["doc_id"] for h in search(cli, "Іс-шараға", "--lang", "kk")["hits"]}
    assert kk in {h["doc_id"] for h in search(cli, "сарапшылардың", "--stem")["hits"]}


def test_search_bad_queries(cli: Cli) -> None:
    for query in ("(unclosed", "experts AND", "OR", "NEAR(a b, x)", '"', 'round "table'):
        result = cli("search", query, check=False)
        assert result.code == 2, query  # what the user typed: a usage error
        assert result.err.startswith("error: malformed search query") and result.err.count("\n") == 1
        no_traceback(result)
    empty = cli("search", " - ", check=False)
    assert empty.code == 2 and "has no words" in empty.err
    nothing = cli("search", "zzyzzyx")
    assert nothing.code == 0 and nothing.out == "" and "No results" in nothing.err


# -- export --------------------------------------------------------------------------------------
def test_export_jsonl_to_stdout(cli: Cli, listing: list[dict]) -> None:
    latest = [json.loads(line) for line in cli("export").out.splitlines()]
    assert [r["doc_id"] for r in latest] == sorted(d["doc_id"] for d in listing)
    doc_id = by_post(listing)[EDITED]["doc_id"]
    record = next(r for r in latest if r["doc_id"] == doc_id)
    assert record == cli("show", doc_id, "--json").json()  # the snapshot file, unchanged
    every = [json.loads(line) for line in cli("export", "--all-versions").out.splitlines()]
    assert len(every) == sum(d["versions"] for d in listing)
    ru = [json.loads(line) for line in cli("export", "--lang", "ru").out.splitlines()]
    assert {r["language"] for r in ru} == {"ru"} and len(ru) == len(EVENTS_BY_LANGUAGE["ru"])
    changed = [json.loads(line) for line in cli("export", "--changed", "--all-versions").out.splitlines()]
    assert len(changed) == 3 + 2 + 2


def test_export_csv_to_a_file_with_manifest(cli: Cli, listing: list[dict], tmp_path: Path) -> None:
    out = tmp_path / "exports" / "all.csv"
    result = cli("export", "--all-versions", "--format", "csv", "--out", str(out), "--category", "Events")
    assert f"to {out}" in result.out
    body = out.read_bytes()
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8"), newline="")))
    assert list(rows[0]) == list(CSV_COLUMNS)
    events = [d for d in listing if "Events" in d["categories"]]
    assert len(rows) == sum(d["versions"] for d in events)
    edited = [r for r in rows if r["doc_id"] == by_post(listing)[EDITED]["doc_id"]]
    assert [r["version"] for r in edited] == ["1", "2", "3"]
    assert edited[-1]["tags"] == "political reform; parliament; elections" and ADDED in edited[-1]["text"]
    manifest = json.loads((tmp_path / "exports" / "all.csv.manifest.json").read_text("utf-8"))
    assert manifest["count"] == len(rows) and manifest["format"] == "csv" and manifest["all_versions"] is True
    assert manifest["sha256"] == hashlib.sha256(body).hexdigest() and manifest["bytes"] == len(body)
    assert manifest["filters"]["categories"] == ["Events"] and manifest["schema_version"] == 2
    assert manifest["created_at"] and manifest["skipped"] == [] and manifest["columns"] == list(CSV_COLUMNS)
    again = cli("export", "--out", str(tmp_path / "latest.jsonl"), "--json").json()
    assert again["count"] == len(listing) and again["format"] == "jsonl"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_export_writes_only_regular_files(cli: Cli, listing: list[dict], tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    target = tmp_path / "precious.txt"
    target.write_text("keep me", "utf-8")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    for out, why in ((fifo, "not a regular file"), (link, "symbolic link"), (Path("/dev/null"), "not a regular file")):
        result = cli("export", "--out", str(out), check=False)
        assert result.code == 1 and why in result.err and "Traceback" not in result.err, result.err
    assert target.read_text("utf-8") == "keep me" and fifo.exists() and Path("/dev/null").is_char_device()


def test_export_json_without_out_is_a_usage_error(cli: Cli) -> None:
    result = cli("export", "--json", check=False)
    assert result.code == 2 and "--out" in result.err


# -- stats ---------------------------------------------------------------------------------------
def test_stats(cli: Cli, listing: list[dict]) -> None:
    data = cli("stats", "--json").json()
    assert data["documents"] == len(listing)
    assert data["versions"] == sum(d["versions"] for d in listing)
    assert data["changed"] == 3 and data["removed"] == 1
    languages = {r["language"]: r["documents"] for r in data["by_language"]}
    assert languages == {lang: sum(1 for d in listing if d["language"] == lang) for lang in languages}
    categories = {r["category"]: r for r in data["by_category"]}
    assert categories["Events"]["documents"] == sum(1 for d in listing if "Events" in d["categories"])
    assert categories["Іс-шаралар"]["changed"] == 1
    years = {r["year"]: r["documents"] for r in data["by_year"]}
    assert sum(years.values()) == len(listing) and "2025" in years
    assert data["first_capture"] <= data["last_capture"]
    text = cli("stats").out
    assert "By language" in text and "By category" in text and "By year of publication" in text
    assert cli("stats", "--lang", "kk", "--json").json()["documents"] == sum(1 for d in listing if d["language"] == "kk") == len(EVENTS_BY_LANGUAGE["kk"])


# -- bad archives and corrupt files --------------------------------------------------------------
NEW_COMMANDS = (["diff", "x"], ["search", "x"], ["export"], ["stats"], ["list", "--changed"])


def test_missing_or_foreign_archive_is_one_line(cli: Cli, tmp_path: Path) -> None:
    foreign = tmp_path / "not-an-archive"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("x")
    for args in NEW_COMMANDS:
        for where, message in ((tmp_path / "nowhere", "no such directory"), (foreign, "not a kisi-archive archive")):
            result = cli(*args, "--archive", str(where), check=False)
            assert result.code == 1 and result.err.startswith("error:") and message in result.err, args
            assert result.err.count("\n") == 1
            no_traceback(result)


def test_a_corrupt_snapshot_is_reported_and_never_stops_the_others(cli: Cli, listing: list[dict],
                                                                   tmp_path: Path) -> None:
    copy = tmp_path / "archive"
    shutil.copytree(cli.archive, copy)
    doc_id = by_post(listing)[EDITED]["doc_id"]
    (copy / "documents" / doc_id / "v0002.json").write_text('{"doc_id": "truncated', "utf-8")
    single = next(d for d in listing if d["versions"] == 1)["doc_id"]
    (copy / "documents" / single / "v0001.json").write_bytes(b"\xff\xfe not utf-8")
    corrupt = Cli(copy, {**cli.env, "KISI_ARCHIVE_DIR": str(copy)})

    assert len(corrupt("list", "--json").json()) == len(listing)  # the index still lists everything
    assert corrupt("search", "parliamentary", "--json").json()["total"] >= 1
    assert corrupt("stats", "--json").json()["documents"] == len(listing)
    for args in (["show", single], ["show", doc_id, "--version", "2"], ["diff", doc_id], ["diff", single, "--to", "1"]):
        result = corrupt(*args, check=False)
        assert result.code == 1 and result.err.startswith("error:") and "unreadable" in result.err, args
        assert result.err.count("\n") == 1
        no_traceback(result)

    exported = corrupt("export", "--all-versions", check=False)
    assert exported.code == 1
    lines = exported.out.splitlines()
    assert len(lines) == sum(d["versions"] for d in listing) - 2  # everything else was exported
    assert f"{doc_id}/v0002.json" in exported.err and f"{single}/v0001.json" in exported.err
    assert "2 snapshot file(s) could not be read" in exported.err
    no_traceback(exported)
    out = tmp_path / "x.jsonl"
    to_file = corrupt("export", "--all-versions", "--out", str(out), check=False)
    assert to_file.code == 1 and out.exists()
    manifest = json.loads((tmp_path / "x.jsonl.manifest.json").read_text("utf-8"))
    assert len(manifest["skipped"]) == 2 and manifest["count"] == len(lines)


# -- start-up: no Scrapy, no trafilatura ---------------------------------------------------------
def test_inspecting_commands_import_neither_scrapy_nor_trafilatura(cli: Cli, listing: list[dict]) -> None:
    doc_id = by_post(listing)[EDITED]["doc_id"]
    for args in (["list"], ["show", doc_id], ["history", doc_id], ["diff", doc_id], ["search", "reform"],
                 ["export"], ["stats"], ["verify"]):
        proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "scheduler.cli", *args], env=cli.env,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, (args, proc.stderr[-2000:])
        imported = {line.split("|")[-1].strip().split(".")[0] for line in proc.stderr.splitlines()
                    if line.startswith("import time:")}
        assert not imported & {"scrapy", "twisted", "trafilatura", "apscheduler", "lxml"}, args


def test_new_commands_have_help_with_examples(cli: Cli) -> None:
    for command in ("list", "diff", "search", "export", "stats"):
        text = cli(command, "--help").out
        assert "Example" in text and f"kisi-archive {command}" in text
