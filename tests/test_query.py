"""storage.query and the index behind it: filters, sorting, FTS5 search (en/ru/kk), stats, export."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from storage import Archive, Capture
from storage import index as idx
from storage.export import CSV_COLUMNS, csv_line, export, export_keys
from storage.query import (BadQuery, Filters, count_documents, date_bound,
                           fts_query, list_documents, search, stats)
from storage.stemming import stem, stem_kazakh, stem_russian

RU_TEXT = ("Эксперты обсудили процесс политической трансформации в Казахстане.\n\n"
           "Участники круглого стола отметили, что конституционная реформа запустила переход к новой модели.")
KK_TEXT = ("Сарапшылар Қазақстандағы саяси трансформация үдерісін талқылады.\n\n"
           "Іс-шараға Мәжіліс депутаттары және азаматтық қоғам өкілдері қатысты.")
EN_TEXT = ("Experts discussed the process of political transformation in Kazakhstan.\n\n"
           "The round table brought together political scientists and members of the Mazhilis.")


def capture(post_id: int, lang: str, *, title: str, text: str, published: str, categories: tuple[str, ...],
            fetched_at: str = "2026-01-10T10:00:00+00:00", tags: tuple[str, ...] = ()) -> Capture:
    url = f"https://kisi.kz/{lang}/post-{post_id}/"
    return Capture(url=url, final_url=url, http_status=200, fetched_at=fetched_at, site="kisi.kz", post_id=post_id,
                   language=lang, canonical_url=url, shortlink=f"https://kisi.kz/?p={post_id}", title=title, text=text,
                   date_published=published, date_modified=published, author="KazISS Press Service",
                   categories=categories, tags=tags, alternates={lang: url},
                   extractor={"name": "trafilatura", "version": "2.3.1"}, raw_body=b"<html>x</html>",
                   raw_content_type="text/html")


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    """Five documents in three languages; the English one edited twice, the Kazakh one once."""
    arch = Archive.open(tmp_path / "archive", create=True)
    en = capture(1, "en", title="Experts discussed transformation", text=EN_TEXT, published="2025-03-12T06:30:00+00:00",
                 categories=("Events",), tags=("round table",))
    arch.record_capture(en)
    arch.record_capture(replace(en, fetched_at="2026-02-01T10:00:00+00:00",
                                text=EN_TEXT.replace("round table", "seminar"), date_modified="2025-03-14T00:00:00+00:00"))
    arch.record_capture(replace(en, fetched_at="2026-03-01T10:00:00+00:00", title="Experts discussed the transformation",
                                text=EN_TEXT.replace("round table", "seminar") + "\n\nAn added paragraph.",
                                date_modified="2025-03-15T00:00:00+00:00", categories=("Events", "News")))
    arch.record_capture(capture(2, "ru", title="Эксперты обсудили трансформацию", text=RU_TEXT,
                                published="2025-03-12T07:00:00+00:00", categories=("События",)))
    kk = capture(3, "kk", title="Сарапшылар саяси трансформацияны талқылады", text=KK_TEXT,
                 published="2025-03-13T04:00:00+00:00", categories=("Іс-шаралар",))
    arch.record_capture(kk)
    arch.record_capture(replace(kk, fetched_at="2026-02-02T10:00:00+00:00", text=KK_TEXT + "\n\nҰсыныстар әзірленді."))
    arch.record_capture(capture(4, "en", title="Water security in Central Asia", text="Rivers, glaciers and canals.",
                                published="2024-04-17T05:00:00+00:00", categories=("Events",)))
    arch.record_capture(capture(5, "ru", title="Безопасность в регионе", text="Ёлки и водная безопасность.",
                                published="2023-12-31T23:00:00+00:00", categories=("Аналитика",)))
    return arch


def ids(docs) -> list[int]:
    return [d.post_id for d in docs]


# -- filters and sorting -------------------------------------------------------------------------
@pytest.mark.parametrize("text,end,expected", [
    ("2024", False, "2024"), ("2024", True, "2025"), ("2024-03", True, "2024-04"), ("2024-12", True, "2025-01"),
    ("2024-02-29", True, "2024-03-01"), ("2024-12-31", True, "2025-01-01"), ("2024-03-12", False, "2024-03-12"),
])
def test_date_bounds(text: str, end: bool, expected: str) -> None:
    assert date_bound(text, end=end) == expected


@pytest.mark.parametrize("bad", ["24", "2024-13", "2024-02-30", "yesterday", "2024/01/01"])
def test_bad_dates_are_refused(bad: str) -> None:
    with pytest.raises(BadQuery):
        Filters(since=bad)


def test_filters(archive: Archive) -> None:
    conn = archive.conn
    assert ids(list_documents(conn)) == [3, 2, 1, 4, 5]  # newest publication first
    assert ids(list_documents(conn, Filters(languages=("ru",)))) == [2, 5]
    assert ids(list_documents(conn, Filters(languages=("kk", "en")))) == [3, 1, 4]
    assert ids(list_documents(conn, Filters(since="2025"))) == [3, 2, 1]
    assert ids(list_documents(conn, Filters(until="2024"))) == [4, 5]
    assert ids(list_documents(conn, Filters(since="2025-03-12", until="2025-03-12"))) == [2, 1]
    assert ids(list_documents(conn, Filters(until="2023-12-31"))) == [5]
    assert ids(list_documents(conn, Filters(changed=True))) == [3, 1]
    assert ids(list_documents(conn, Filters(categories=("events",)))) == [1, 4]
    assert ids(list_documents(conn, Filters(categories=("NEWS",)))) == [1]  # the latest version's categories
    assert ids(list_documents(conn, Filters(categories=("СОБЫТИЯ", "іс-шаралар")))) == [3, 2]
    assert ids(list_documents(conn, Filters(categories=("Events",), changed=True))) == [1]
    assert ids(list_documents(conn, Filters(removed=True))) == []
    assert count_documents(conn, Filters(languages=("ru",))) == 2


def test_sorting_and_paging(archive: Archive) -> None:
    conn = archive.conn
    assert ids(list_documents(conn, sort="published")) == [5, 4, 1, 2, 3]
    assert ids(list_documents(conn, sort="-versions")) == [1, 3, 4, 2, 5]  # ties by doc_id
    assert ids(list_documents(conn, sort="title"))[:2] == [1, 4]  # Latin before Cyrillic
    assert ids(list_documents(conn, sort="-last-seen"))[0] == 1
    assert ids(list_documents(conn, limit=2)) == [3, 2]
    assert ids(list_documents(conn, limit=2, offset=2)) == [1, 4]
    assert ids(list_documents(conn, offset=4)) == [5]
    with pytest.raises(BadQuery):
        list(list_documents(conn, sort="size"))


def test_removed_documents(archive: Archive) -> None:
    result = archive.record_removal("kisi.kz-ru-5", evidence={"url_status": 404}, fetched_at="2026-04-01T00:00:00+00:00",
                                    http_status=404, run_id=None)
    assert result.outcome == "removed"
    assert ids(list_documents(archive.conn, Filters(removed=True))) == [5]
    assert stats(archive.conn)["removed"] == 1


# -- search ------------------------------------------------------------------------------------
@pytest.mark.parametrize("typed,fts", [
    ("experts", '"experts"'),
    ("political transformation", '"political" AND "transformation"'),
    ("round-table", '"round-table"'),
    ("Іс-шара", '"Іс-шара"'),
    ("реформ*", '"реформ"*'),
    ('"round table" OR seminar', '"round table" OR "seminar"'),
    ("experts NOT seminar", '"experts" NOT "seminar"'),
    ("(a OR b) AND c", '( "a" OR "b" ) AND "c"'),
    ("NEAR(experts political, 5)", 'NEAR ( "experts" "political" , 5 )'),
    ("title:experts", 'title : "experts"'),
    ("a, b", '"a" AND "b"'),
    ("a (b OR c)", '"a" AND ( "b" OR "c" )'),
    ("title:(a b) c", 'title : ( "a" AND "b" ) AND "c"'),
    ("ёлки", '("елки" OR "ёлки")'),
    ("- experts", '"experts"'),
])
def test_fts_query_rewriting(typed: str, fts: str) -> None:
    assert fts_query(typed) == fts


def test_fts_query_stemming() -> None:
    assert fts_query("экспертами", stemmed=True, language="ru") == '"эксперт"*'
    assert fts_query("Қазақстандағы", stemmed=True) == '"қазақста"*'
    assert fts_query("discussed", stemmed=True) == '"discuss"*'
    assert fts_query("реформ*", stemmed=True) == '"реформ"*'  # an explicit prefix is kept as typed
    with pytest.raises(BadQuery):
        fts_query("  - ")


def hits(archive: Archive, text: str, **kw) -> list[tuple[int, int]]:
    result = search(archive.conn, text, **kw)
    return [(int(h.doc_id.rsplit("-", 1)[1]), h.version) for h in result.hits]


def test_search_english_ranked_and_snippets(archive: Archive) -> None:
    result = search(archive.conn, "transformation")
    assert {h.doc_id for h in result.hits} == {"kisi.kz-en-1"}
    assert result.total == 1
    hit = result.hits[0]
    assert hit.latest and hit.version == 3
    assert "\ue000transformation\ue001" in hit.snippet
    assert hit.to_json()["snippet"].count("**transformation**") == 1
    assert hits(archive, "transformation", filters=Filters(languages=("ru",))) == []


def test_search_latest_versions_or_all(archive: Archive) -> None:
    assert hits(archive, '"round table"') == []  # edited away in version 2
    assert hits(archive, '"round table"', all_versions=True) == [(1, 1)]
    assert sorted(hits(archive, "experts", all_versions=True)) == [(1, 1), (1, 2), (1, 3)]
    assert hits(archive, "paragraph", all_versions=True) == [(1, 3)]


def test_search_filters(archive: Archive) -> None:
    assert hits(archive, "безопасность") == [(5, 1)]
    assert hits(archive, "безопасность", filters=Filters(since="2024")) == []
    assert hits(archive, "experts OR сарапшылар", filters=Filters(categories=("іс-шаралар",))) == [(3, 2)]
    assert hits(archive, "seminar", filters=Filters(changed=True)) == [(1, 3)]


def test_russian_inflection_needs_a_prefix_or_stem(archive: Archive) -> None:
    """What works for Russian, honestly: exact word forms, prefixes, and --stem."""
    assert hits(archive, "эксперты") == [(2, 1)]  # the form in the text
    assert hits(archive, "ЭКСПЕРТЫ") == [(2, 1)]  # Cyrillic case folding
    assert hits(archive, "экспертами") == []  # another case form: no stemming in the index
    assert hits(archive, "эксперт*") == [(2, 1)]
    assert hits(archive, "экспертами", stemmed=True) == [(2, 1)]
    assert hits(archive, "политическую трансформацию", stemmed=True) == [(2, 1)]
    assert hits(archive, "политики", stemmed=True) == []  # к/ч alternation: политик* is not политическ*
    assert hits(archive, "ёлки") == [(5, 1)]
    assert hits(archive, "елки") == []  # ё and е are different letters for the tokenizer (documented)


def test_kazakh_letters_are_kept_apart_and_case_folded(archive: Archive) -> None:
    assert hits(archive, "Қазақстандағы") == [(3, 2)]
    assert hits(archive, "ҚАЗАҚСТАНДАҒЫ") == [(3, 2)]  # upper-case Kazakh letters fold
    assert hits(archive, "Казакстандагы") == []  # қ is not к, ғ is not г (no diacritic folding)
    assert hits(archive, "үдерісін") == [(3, 2)]
    assert hits(archive, "үдеріс") == []
    assert hits(archive, "үдеріс*") == [(3, 2)]
    assert hits(archive, "үдерісі", stemmed=True) == [(3, 2)]
    assert hits(archive, "Іс-шараға") == [(3, 2)]
    assert hits(archive, "ұсыныстар") == [(3, 2)]  # in version 2 only: latest is searched


def test_tokenizer_directly() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize='{idx.FTS_TOKENIZE}')")
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'row')")
    conn.execute("INSERT INTO t VALUES (?)", ("Ә Ғ Қ Ң Ө Ұ Ү Һ І Ё Й Café",))
    assert {row[0] for row in conn.execute("SELECT term FROM v")} == set("әғқңөұүһіёй") | {"cafe"}


@pytest.mark.parametrize("bad", ["(unclosed", "experts AND", "OR", "NEAR(a b, x)", "a OR (b"])
def test_malformed_queries_are_bad_queries(archive: Archive, bad: str) -> None:
    with pytest.raises(BadQuery, match="malformed search query"):
        search(archive.conn, bad)


@pytest.mark.parametrize("word,expected", [
    ("эксперты", "эксперт"), ("экспертов", "эксперт"), ("экспертами", "эксперт"), ("реформы", "реформ"),
    ("политической", "политическ"), ("обсудили", "обсуд"), ("участники", "участник"), ("Ёлки", "елк"),
])
def test_russian_stemmer(word: str, expected: str) -> None:
    assert stem_russian(word) == expected


@pytest.mark.parametrize("word,expected", [
    ("Қазақстанның", "қазақстан"), ("депутаттары", "депутат"), ("өкілдері", "өкіл"), ("ұсыныстар", "ұсыныс"),
    ("реформасы", "реформа"), ("институттарды", "институт"), ("жастардың", "жастар"), ("саяси", "саяси"),
])
def test_kazakh_stemmer(word: str, expected: str) -> None:
    assert stem_kazakh(word) == expected


def test_stem_picks_languages_by_script() -> None:
    assert stem("discussed") == {"discuss"}
    assert stem("өкілдері") == {"өкіл"}  # Kazakh-only letters: Kazakh only
    assert stem("экспертами") == {"эксперт", "экспертами"}  # Cyrillic: Russian and Kazakh stems
    assert stem("экспертами", "ru") == {"эксперт"}
    assert stem("он") == {"он"}  # never shorter than three letters


# -- the index stays in step with the files ------------------------------------------------------
def fulltext_rows(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT COUNT(*) FROM fulltext").fetchone()[0]


def test_fulltext_and_categories_follow_versions_through_reindex_and_repair(archive: Archive) -> None:
    conn = archive.conn
    versions = conn.execute("SELECT COUNT(*) FROM versions").fetchone()[0]
    assert versions == 8 and fulltext_rows(conn) == 8
    assert conn.execute("SELECT COUNT(*) FROM versions v JOIN fulltext f ON f.rowid = v.text_id").fetchone()[0] == 8
    before = hits(archive, "experts", all_versions=True)
    archive.reindex()
    conn = archive.conn
    assert fulltext_rows(conn) == 8 and hits(archive, "experts", all_versions=True) == before
    # A lagging index (rows lost) is caught up by verify without duplicating text rows.
    with conn:
        conn.execute("DELETE FROM versions WHERE doc_id = 'kisi.kz-en-1' AND version = 3")
    assert fulltext_rows(conn) == 7 and conn.execute("SELECT COUNT(*) FROM categories WHERE version = 3").fetchone()[0] == 0
    report = archive.verify()
    assert report.ok and report.repaired
    assert fulltext_rows(archive.conn) == 8
    assert hits(archive, "paragraph") == [(1, 3)]
    assert ids(list_documents(archive.conn, Filters(categories=("news",)))) == [1]


def test_an_old_index_is_rebuilt_with_fulltext(archive: Archive) -> None:
    with archive.conn:
        archive.conn.execute("UPDATE meta SET value = '1' WHERE key = 'index_schema'")
    archive.close()
    reopened = Archive.open(archive.root)
    assert idx.schema_of(reopened.conn) == idx.INDEX_SCHEMA
    assert fulltext_rows(reopened.conn) == 8


# -- stats ---------------------------------------------------------------------------------------
def test_stats(archive: Archive) -> None:
    data = stats(archive.conn)
    assert (data["documents"], data["versions"], data["changed"], data["removed"]) == (5, 8, 2, 0)
    assert {r["language"]: (r["documents"], r["versions"]) for r in data["by_language"]} == {
        "en": (2, 4), "ru": (2, 2), "kk": (1, 2)}
    assert {r["category"]: r["documents"] for r in data["by_category"]} == {
        "Events": 2, "News": 1, "События": 1, "Іс-шаралар": 1, "Аналитика": 1}
    assert {r["year"]: r["documents"] for r in data["by_year"]} == {"2025": 3, "2024": 1, "2023": 1}
    assert data["first_capture"] == "2026-01-10T10:00:00+00:00" and data["last_capture"] == "2026-03-01T10:00:00+00:00"
    assert data["captures"] == 8
    assert stats(archive.conn, Filters(languages=("kk",)))["versions"] == 2


# -- export --------------------------------------------------------------------------------------
def snapshot_file(archive: Archive, doc_id: str, version: int) -> dict:
    return json.loads(archive.layout.snapshot(doc_id, version).read_text("utf-8"))


def test_export_jsonl_is_the_snapshot_files(archive: Archive) -> None:
    sink = io.BytesIO()
    result = export(archive, sink, "jsonl", all_versions=True)
    lines = sink.getvalue().decode("utf-8").splitlines()
    assert result.count == len(lines) == 8 and not result.skipped
    assert result.sha256 == hashlib.sha256(sink.getvalue()).hexdigest() and result.bytes == len(sink.getvalue())
    records = [json.loads(line) for line in lines]
    assert [(r["doc_id"], r["version"]) for r in records] == list(export_keys(archive.conn, all_versions=True))
    for record in records:
        assert record == snapshot_file(archive, record["doc_id"], record["version"])
    latest = io.BytesIO()
    assert export(archive, latest, "jsonl").count == 5
    assert {json.loads(l)["version"] for l in latest.getvalue().splitlines() if b'"kisi.kz-en-1"' in l} == {3}


def test_export_csv_flattens_with_stable_columns(archive: Archive) -> None:
    sink = io.BytesIO()
    result = export(archive, sink, "csv", Filters(languages=("en",)), all_versions=True)
    rows = list(csv.DictReader(io.StringIO(sink.getvalue().decode("utf-8"), newline="")))
    assert result.count == len(rows) == 4
    assert list(rows[0]) == list(CSV_COLUMNS)
    last = [r for r in rows if r["doc_id"] == "kisi.kz-en-1"][-1]
    assert last["categories"] == "Events; News" and last["tags"] == "round table"
    assert last["text"] == snapshot_file(archive, "kisi.kz-en-1", 3)["text"]  # newlines survive quoting
    assert last["minor"] == "false" and last["extractor"] == "trafilatura 2.3.1"
    assert last["alternates"] == "en=https://kisi.kz/en/post-1/"


def test_export_keys_page_through_everything(archive: Archive) -> None:
    assert list(export_keys(archive.conn, all_versions=True, page=3)) == list(export_keys(archive.conn, all_versions=True))
    assert len(list(export_keys(archive.conn, page=2))) == 5


def test_export_skips_and_reports_a_corrupt_file(archive: Archive) -> None:
    archive.layout.snapshot("kisi.kz-ru-2", 1).write_text("{not json", "utf-8")
    archive.layout.snapshot("kisi.kz-en-1", 2).unlink()
    seen: list[str] = []
    sink = io.BytesIO()
    result = export(archive, sink, "jsonl", all_versions=True, on_skip=seen.append)
    assert result.count == 6 and len(result.skipped) == 2 and seen == result.skipped
    assert "kisi.kz-ru-2/v0001.json: unreadable JSON" in result.skipped[1]
    assert "v0002.json: missing" in result.skipped[0]
    assert len(sink.getvalue().splitlines()) == 6


def index_contents(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    columns = ", ".join(idx.VERSION_COLUMNS)
    queries = {
        "documents": "SELECT * FROM documents",
        "aliases": "SELECT * FROM aliases",
        "categories": "SELECT * FROM categories",
        "versions": f"SELECT {columns} FROM versions",
        "fulltext": "SELECT v.doc_id, v.version, f.title, f.text FROM versions v JOIN fulltext f ON f.rowid = v.text_id",
    }
    return {name: sorted(tuple(row) for row in conn.execute(sql)) for name, sql in queries.items()}


@pytest.mark.parametrize("parallel_from", [10_000, 1])
def test_a_rebuild_writes_what_recording_wrote(archive: Archive, monkeypatch: pytest.MonkeyPatch,
                                               parallel_from: int) -> None:
    from storage import rebuild

    recorded = index_contents(archive.conn)
    assert all(recorded.values())
    monkeypatch.setattr(rebuild, "PARALLEL_FROM", parallel_from)  # 1: through worker processes
    assert archive.reindex() == 5
    assert index_contents(archive.conn) == recorded
    assert {row[0] for row in archive.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")} >= {
        "documents_published", "categories_key", "documents_language"}


def test_a_rebuild_skips_a_corrupt_document_and_logs_it(archive: Archive, caplog: pytest.LogCaptureFixture) -> None:
    archive.layout.snapshot("kisi.kz-ru-2", 1).write_text("[]", "utf-8")
    assert archive.reindex() == 4
    assert "kisi.kz-ru-2/v0001.json: does not hold kisi.kz-ru-2 version 1" in caplog.text
    assert ids(list_documents(archive.conn)) == [3, 1, 4, 5]


def test_a_build_into_an_index_that_already_has_rows_replaces_them(archive: Archive) -> None:
    """Two processes opening an archive without an index at once: the second one's build
    finds rows the first wrote, and must neither fail nor duplicate them."""
    from storage import rebuild

    recorded = index_contents(archive.conn)
    with archive.conn:
        archive.conn.execute("DELETE FROM versions WHERE doc_id = 'kisi.kz-kk-3'")
        archive.conn.execute("DELETE FROM documents WHERE doc_id = 'kisi.kz-kk-3'")
    assert rebuild.build(archive.conn, archive.root, archive.layout.document_ids()) == 5
    assert index_contents(archive.conn) == recorded


def test_versions_with_the_same_text_share_one_fulltext_row(archive: Archive) -> None:
    latest = archive.get("kisi.kz-ru-2").to_json()
    again = capture(2, "ru", title=latest["title"], text=latest["text"], published=latest["date_published"],
                    categories=("События", "Новости"), fetched_at="2026-05-01T00:00:00+00:00")
    assert archive.record_capture(again).version == 2  # only the categories changed
    conn = archive.conn
    shared = conn.execute("SELECT COUNT(DISTINCT text_id), COUNT(*) FROM versions WHERE doc_id = 'kisi.kz-ru-2'").fetchone()
    assert tuple(shared) == (1, 2) and fulltext_rows(conn) == 8
    assert sorted(hits(archive, "эксперты", all_versions=True)) == [(2, 1), (2, 2)]
    recorded = index_contents(conn)
    archive.reindex()
    assert index_contents(archive.conn) == recorded and fulltext_rows(archive.conn) == 8
    with archive.conn:  # deleting one of the two versions keeps the text the other still uses
        archive.conn.execute("DELETE FROM versions WHERE doc_id = 'kisi.kz-ru-2' AND version = 2")
    assert fulltext_rows(archive.conn) == 8 and hits(archive, "эксперты", all_versions=True) == [(2, 1)]
    with archive.conn:
        archive.conn.execute("DELETE FROM versions WHERE doc_id = 'kisi.kz-ru-2'")
    assert fulltext_rows(archive.conn) == 7


def test_worker_processes_give_what_a_serial_loop_gives(archive: Archive) -> None:
    from storage.workers import ordered_map

    keys = [[doc_id, version] for doc_id, version in export_keys(archive.conn, all_versions=True)]
    keys.insert(3, ["kisi.kz-en-1", 9])  # missing: reported, not fatal
    for fmt in ("jsonl", "csv"):
        context = {"documents": str(archive.layout.documents), "fmt": fmt}
        serial = list(ordered_map("export-lines", context, ([k] for k in keys), workers=0))
        parallel = list(ordered_map("export-lines", context, ([k] for k in keys), workers=2, serial_below=1,
                                    inflight=2))
        assert parallel == serial and len(serial) == 9
        assert serial[3] == (b"", 0, [f"{archive.layout.documents}/kisi.kz-en-1/v0009.json: missing "
                                      "(the index lists it; run `kisi-archive verify`)"])
        assert sum(count for _, count, _ in serial) == 8


def test_worker_process_failures(archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    from storage import StorageError, workers

    context = {"documents": str(archive.layout.documents), "fmt": "jsonl"}
    good = [["kisi.kz-en-1", 1]]
    expected = list(workers.ordered_map("export-lines", context, [good] * 3, workers=0))
    # No child can start, or none works: the work is done in this process instead.
    for python in (str(archive.root / "no-such-python"), "/bin/false"):
        monkeypatch.setattr(workers.sys, "executable", python)
        assert list(workers.ordered_map("export-lines", context, [good] * 3, workers=2, serial_below=1)) == expected
    monkeypatch.undo()
    # A child that fails after it has worked: one clear error.
    results = workers.ordered_map("export-lines", context, [good, good, [["not a pair"]]], workers=1,
                                  serial_below=1, inflight=1)
    assert next(results) == expected[0]
    with pytest.raises(StorageError, match=r"a worker process failed \(exit 1\): ValueError"):
        list(results)



@pytest.mark.parametrize("values", [
    ["plain", 1, None, "with, comma", 'a "quoted" word', "line\nbreak\r\nand\ttab", "", "ünïcödé Қазақ"],
])
def test_csv_line_round_trips_through_the_csv_module(values: list) -> None:

    line = csv_line(values)
    assert line.endswith(b"\n")
    assert next(csv.reader(io.StringIO(line.decode("utf-8"), newline=""))) == [
        "" if v is None else str(v) for v in values]


def test_search_pages_and_totals(archive: Archive) -> None:
    first = search(archive.conn, "experts OR эксперты OR сарапшылар", limit=2)
    assert first.total == 3 and len(first.hits) == 2
    rest = search(archive.conn, "experts OR эксперты OR сарапшылар", limit=2, offset=2)
    assert rest.total == 3 and len(rest.hits) == 1
    assert {h.doc_id for h in first.hits + rest.hits} == {"kisi.kz-en-1", "kisi.kz-ru-2", "kisi.kz-kk-3"}
    past = search(archive.conn, "experts", offset=10)
    assert past.total == 1 and past.hits == []
    assert search(archive.conn, "nothingmatchesthis").total == 0
    by_date = search(archive.conn, "experts OR эксперты OR сарапшылар", sort="published")
    assert [h.date_published for h in by_date.hits] == sorted(h.date_published for h in by_date.hits)
