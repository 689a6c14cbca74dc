"""The snapshot store on a real filesystem and SQLite: versions, crash safety, verify, reindex."""
from __future__ import annotations

import json
import multiprocessing
from dataclasses import replace
from pathlib import Path

import pytest

from storage import Archive, Capture, NotAnArchive, UnknownDocument, UnknownVersion, decide
from storage.files import AlreadyExists, write_once
from storage.layout import Layout


def capture(**changes: object) -> Capture:
    base = Capture(
        url="https://kisi.kz/en/experts-discussed/",
        final_url="https://kisi.kz/en/experts-discussed/",
        http_status=200,
        fetched_at="2026-11-01T10:00:00+00:00",
        site="kisi.kz",
        post_id=2368,
        language="en",
        canonical_url="https://kisi.kz/en/experts-discussed/",
        shortlink="https://kisi.kz/?p=2368",
        title="Experts discussed the process of political transformation",
        text="First paragraph.\n\nSecond paragraph with Cyrillic: Казахстан, қазақ тілі.",
        date_published="2024-05-03T09:00:00+00:00",
        date_modified="2024-05-03T09:00:00+00:00",
        author="KazISS",
        categories=("Events",),
        tags=("politics",),
        alternates={"en": "https://kisi.kz/en/experts-discussed/"},
        extractor={"name": "trafilatura", "version": "2.3.1"},
        raw_body=b"<html><body>raw page</body></html>",
        raw_content_type="text/html; charset=UTF-8",
        run_id="run-1",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    with Archive.open(tmp_path / "archive", create=True) as opened:
        yield opened


def test_first_capture_writes_version_1_with_provenance(archive: Archive) -> None:
    result = archive.record_capture(capture())
    assert (result.doc_id, result.outcome, result.version) == ("kisi.kz-en-2368", "new-document", 1)
    folder = archive.layout.document_dir(result.doc_id)
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == ["captures.jsonl", "v0001.html.gz", "v0001.json"]
    data = json.loads((folder / "v0001.json").read_text("utf-8"))
    for key in ("schema_version", "doc_id", "version", "url", "final_url", "canonical_url", "post_id", "language",
                "title", "date_published", "date_modified", "author", "categories", "tags", "text",
                "content_sha256", "fetched_at", "http_status", "extractor"):
        assert key in data
    assert data["extractor"] == {"name": "trafilatura", "version": "2.3.1"}
    assert "Казахстан" in data["text"]
    assert archive.raw_body(result.doc_id, 1) == b"<html><body>raw page</body></html>"


def test_unchanged_capture_only_updates_last_seen(archive: Archive) -> None:
    archive.record_capture(capture())
    # A different raw body (new widgets, nonce) with the same extracted content is not a version.
    again = archive.record_capture(capture(fetched_at="2026-11-02T10:00:00+00:00", raw_body=b"<html>other chrome</html>"))
    assert again.outcome == "unchanged"
    assert archive.layout.versions_on_disk("kisi.kz-en-2368") == [1]
    [doc] = archive.list_documents()
    assert doc.last_seen == "2026-11-02T10:00:00+00:00"
    assert doc.first_seen == "2026-11-01T10:00:00+00:00"
    assert len(archive.captures("kisi.kz-en-2368")) == 2


def test_edit_makes_exactly_one_new_version_naming_the_field(archive: Archive) -> None:
    archive.record_capture(capture())
    result = archive.record_capture(capture(text="First paragraph, edited.", fetched_at="2026-11-03T00:00:00+00:00"))
    assert (result.outcome, result.version, result.changed_fields) == ("new-version", 2, ("text",))
    history = archive.versions("kisi.kz-en-2368")
    assert [v.version for v in history] == [1, 2]
    assert history[1].changed_fields == ["text"]
    assert archive.get("kisi.kz-en-2368").version == 2
    assert archive.get("kisi.kz-en-2368", 1).text.startswith("First paragraph.")


def test_version_files_are_never_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "v0001.json"
    write_once(target, b"original")
    with pytest.raises(AlreadyExists):
        write_once(target, b"replacement")
    assert target.read_bytes() == b"original"
    assert [p.name for p in tmp_path.iterdir()] == ["v0001.json"]


def test_resolves_any_url_of_the_post(archive: Archive) -> None:
    archive.record_capture(capture(
        url="https://kisi.kz/ru/%d1%8d%d0%ba%d1%81%d0%bf%d0%b5%d1%80%d1%82%d1%8b/",
        final_url="https://kisi.kz/ru/%d1%8d%d0%ba%d1%81%d0%bf%d0%b5%d1%80%d1%82%d1%8b/",
        canonical_url="https://kisi.kz/ru/%D1%8D%D0%BA%D1%81%D0%BF%D0%B5%D1%80%D1%82%D1%8B/",
        language="ru", post_id=2370, shortlink="https://kisi.kz/?p=2370"))
    for ref in ("kisi.kz-ru-2370", "https://kisi.kz/?p=2370", "https://kisi.kz/ru/эксперты",
                "http://kisi.kz/ru/%D1%8D%D0%BA%D1%81%D0%BF%D0%B5%D1%80%D1%82%D1%8B/"):
        assert archive.resolve(ref) == "kisi.kz-ru-2370"
    with pytest.raises(UnknownDocument):
        archive.resolve("https://kisi.kz/en/nothing-here/")
    with pytest.raises(UnknownVersion):
        archive.get("kisi.kz-ru-2370", 7)


def test_opening_a_non_archive_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NotAnArchive, match="no such directory"):
        Archive.open(tmp_path / "missing")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    with pytest.raises(NotAnArchive, match="not a kisi-archive archive"):
        Archive.open(tmp_path / "other")


def test_verify_passes_then_catches_an_altered_snapshot(archive: Archive) -> None:
    archive.record_capture(capture())
    archive.record_capture(capture(title="New title", fetched_at="2026-11-03T00:00:00+00:00"))
    assert archive.verify().ok
    path = archive.layout.snapshot("kisi.kz-en-2368", 1)
    data = json.loads(path.read_text("utf-8"))
    data["text"] = "silently changed"
    path.write_text(json.dumps(data), "utf-8")
    report = archive.verify()
    assert not report.ok
    assert any("content_sha256" in e for e in report.errors)


def test_crash_between_files_and_index_still_verifies(archive: Archive) -> None:
    archive.record_capture(capture())
    # Simulate a crash after the snapshot file was written but before the index row:
    # write version 2 by hand exactly as the store would, and leave a stray temp file.
    v1_bytes = archive.layout.snapshot("kisi.kz-en-2368", 1).read_bytes()
    v2 = json.loads(v1_bytes)
    import hashlib
    from storage.policy import content_of, content_sha256
    v2.update(version=2, title="Edited", kind="edit", previous_version=1, changed_fields=["title"], raw=None,
              previous_sha256=hashlib.sha256(v1_bytes).hexdigest())
    v2["content_sha256"] = content_sha256(content_of(v2))
    write_once(archive.layout.snapshot("kisi.kz-en-2368", 2), json.dumps(v2).encode())
    (archive.layout.document_dir("kisi.kz-en-2368") / ".tmp-v0003.json.123.abcd").write_bytes(b"{partial")
    with open(archive.layout.captures("kisi.kz-en-2368"), "ab") as log:
        log.write(b'{"torn": ')
    report = archive.verify()
    assert report.ok, report.errors
    assert report.repaired and report.warnings
    assert [v.version for v in archive.versions("kisi.kz-en-2368")] == [1, 2]
    # The next capture appends after the torn line without damage.
    archive.record_capture(capture(title="Edited", fetched_at="2026-11-05T00:00:00+00:00"))
    assert archive.list_documents()[0].last_seen == "2026-11-05T00:00:00+00:00"


def test_reindex_rebuilds_the_same_listing(archive: Archive, tmp_path: Path) -> None:
    archive.record_capture(capture())
    archive.record_capture(capture(post_id=2400, title="Another", fetched_at="2026-11-02T00:00:00+00:00"))
    archive.record_capture(capture(post_id=2400, title="Another, edited", fetched_at="2026-11-03T00:00:00+00:00"))
    before = [d.to_json() for d in archive.list_documents()]
    archive.close()
    archive.layout.index.unlink()
    assert Archive.open(archive.root).reindex() == 2
    with Archive.open(archive.root) as reopened:
        assert [d.to_json() for d in reopened.list_documents()] == before
        assert reopened.verify().ok


def _writer(root: str, worker: int) -> None:
    with Archive.open(root) as archive:
        for step in range(15):
            archive.record_capture(capture(text=f"text from worker {worker} step {step}",
                                           fetched_at=f"2026-11-01T10:{worker:02d}:{step:02d}+00:00"))


def test_two_writers_at_once_cannot_corrupt(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    Archive.open(root, create=True).close()
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_writer, args=(str(root), n)) for n in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    with Archive.open(root) as archive:
        versions = Layout(root).versions_on_disk("kisi.kz-en-2368")
        assert versions == list(range(1, len(versions) + 1))
        assert len(versions) >= 16  # nothing lost: every distinct text after the first is a version
        report = archive.verify()
        assert report.ok, report.errors


def test_policy_is_a_pure_function() -> None:
    first = capture()
    assert decide(None, first).kind == "new"
    stored = {**first.__dict__, "categories": list(first.categories), "tags": list(first.tags)}
    assert decide(stored, first).store is False
    minor = decide(stored, capture(text=first.text.replace("First paragraph.", "First  paragraph.")))
    assert minor.store and minor.minor and minor.changed_fields == ("text",)
    typographic = decide(stored, capture(title=first.title + " \u2013 “quoted”"))
    assert typographic.store and not typographic.minor
    assert decide(stored, capture(tags=("politics", "economy"))).changed_fields == ("tags",)



def test_a_post_keeps_its_document_when_its_language_is_read_differently(archive: Archive) -> None:
    first = archive.record_capture(capture())
    # The same post id on the same site, now read as Kazakh (its text changed script, say).
    again = archive.record_capture(capture(language="kk", title="Сарапшылар талқылады", fetched_at="2026-11-02T10:00:00+00:00"))
    assert again.doc_id == first.doc_id and again.outcome == "new-version"
    assert [d.doc_id for d in archive.list_documents()] == [first.doc_id]


def test_language_evidence_and_decoding_are_kept_in_the_snapshot(archive: Archive) -> None:
    evidence = {"decision": "ru", "reason": "Cyrillic text on a page declaring en-US", "declared": "en"}
    result = archive.record_capture(capture(language="ru", language_evidence=evidence,
                                            decoding={"encoding": "windows-1251", "source": "detected"}))
    snapshot = archive.get(result.doc_id)
    assert snapshot.language_evidence == evidence and snapshot.decoding["encoding"] == "windows-1251"
    assert archive.verify().ok


@pytest.mark.parametrize("state", [
    {},
    {"run_id": "r1", "walks": [], "posts": [{"url": "https://kisi.kz/ru/событие/", "carried": True}, {"url": "\u2028"}]},
    {"sites": {"b": 1, "a": [2, None]}, "schema": 3},
])
def test_state_is_saved_as_compact_json_a_list_item_at_a_time(archive: Archive, state: dict) -> None:
    archive.save_state("resume", state)
    written = archive.layout.state("resume").read_bytes()
    assert written == (json.dumps(state, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode()
    assert archive.load_state("resume") == state
    assert not list(archive.layout.state("resume").parent.glob(".tmp-*"))
