"""Schema 2 on a real filesystem: the chain, causes, attachments, tampering, the upgrade."""
from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from storage import Archive, Capture
from storage.records import AttachmentBlob, AttachmentRef, Reextraction, Snapshot, content_fields
from tests.test_storage import capture

DOC = "kisi.kz-en-2368"
SCHEMA1 = Path(__file__).parent / "fixtures" / "schema1-archive"
NEW_EXTRACTOR = {"name": "trafilatura", "version": "9.9.9"}


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    with Archive.open(tmp_path / "archive", create=True) as opened:
        yield opened


def sha_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def three_versions(archive: Archive) -> None:
    archive.record_capture(capture())
    archive.record_capture(capture(title="Second title", fetched_at="2026-11-02T00:00:00+00:00"))
    archive.record_capture(capture(title="Third title", fetched_at="2026-11-03T00:00:00+00:00"))


def problem_paths(archive: Archive) -> set[str]:
    report = archive.verify()
    assert not report.ok
    return {p["path"] for p in report.problems if p["severity"] == "error"}


def test_each_version_records_the_sha256_of_the_previous_file(archive: Archive) -> None:
    three_versions(archive)
    v = [json.loads(archive.layout.snapshot(DOC, n).read_text("utf-8")) for n in (1, 2, 3)]
    assert v[0]["previous_sha256"] is None
    assert v[1]["previous_sha256"] == sha_of(archive.layout.snapshot(DOC, 1))
    assert v[2]["previous_sha256"] == sha_of(archive.layout.snapshot(DOC, 2))
    assert [s["cause"] for s in v] == ["site"] * 3 and all(s["schema_version"] == 2 for s in v)
    assert archive.verify().ok


def test_one_changed_byte_is_named(archive: Archive) -> None:
    three_versions(archive)
    path = archive.layout.snapshot(DOC, 1)
    data = path.read_bytes()
    # A byte outside every hashed field: only the chain can see it.
    path.chmod(0o644)
    path.write_bytes(data.replace(b'"http_status": 200', b'"http_status": 201'))
    assert f"documents/{DOC}/v0001.json" in problem_paths(archive)


def test_a_deleted_version_is_named(archive: Archive) -> None:
    three_versions(archive)
    archive.layout.snapshot(DOC, 2).unlink()
    assert f"documents/{DOC}/v0002.json" in problem_paths(archive)


def test_a_deleted_latest_version_is_named(archive: Archive) -> None:
    three_versions(archive)
    archive.layout.snapshot(DOC, 3).unlink()
    archive.close()
    archive.layout.index.unlink()  # even with the index rebuilt from what is left
    with Archive.open(archive.root) as reopened:
        reopened.reindex()
        assert f"documents/{DOC}/v0003.json" in problem_paths(reopened)


def test_a_swapped_file_is_named(archive: Archive) -> None:
    three_versions(archive)
    one, two = archive.layout.raw(DOC, 1), archive.layout.raw(DOC, 2)
    archive.record_capture(capture(raw_body=b"<html>another body</html>", title="Fourth",
                                   fetched_at="2026-11-04T00:00:00+00:00"))
    four = archive.layout.raw(DOC, 4)
    body_one = one.read_bytes()
    one.write_bytes(four.read_bytes())
    four.write_bytes(body_one)
    paths = problem_paths(archive)
    assert {f"documents/{DOC}/v0001.html.gz", f"documents/{DOC}/v0004.html.gz"} <= paths
    assert f"documents/{DOC}/v0002.html.gz" not in paths and two.exists()
    # Swapping two snapshot files: each is then "not what its name says", and the chain breaks.
    a, b = archive.layout.snapshot(DOC, 2), archive.layout.snapshot(DOC, 3)
    data_a = a.read_bytes()
    a.write_bytes(b.read_bytes())
    b.write_bytes(data_a)
    assert {f"documents/{DOC}/v0002.json", f"documents/{DOC}/v0003.json"} <= problem_paths(archive)


def test_verify_json_lists_every_problem_with_its_path(archive: Archive) -> None:
    three_versions(archive)
    archive.layout.snapshot(DOC, 2).unlink()
    (archive.layout.document_dir(DOC) / "notes.txt").write_text("?")
    report = archive.verify().to_json()
    assert report["ok"] is False
    assert {"severity", "path", "problem"} <= set(report["problems"][0])
    assert f"documents/{DOC}/notes.txt" in {p["path"] for p in report["problems"] if p["severity"] == "warning"}


# -- causes --------------------------------------------------------------------------------
def reading(archive: Archive, version: int, **changes: object) -> Reextraction:
    snap = archive.get(DOC, version)
    return Reextraction(**{**content_fields(snap), **changes}, doc_id=DOC, version=version,
                        extractor=NEW_EXTRACTOR, fetched_at="2026-12-01T00:00:00+00:00")


def test_a_rereading_that_differs_is_a_version_caused_by_the_extractor(archive: Archive) -> None:
    archive.record_capture(capture())
    same = archive.record(reading(archive, 1))
    assert same.outcome == "unchanged" and len(archive.versions(DOC)) == 1
    result = archive.record(reading(archive, 1, text="First paragraph."))
    assert result.outcome == "reextracted" and result.version == 2
    v2 = archive.get(DOC, 2)
    assert v2.cause == "extractor" and v2.extractor == NEW_EXTRACTOR
    assert v2.extractor_before == {"name": "trafilatura", "version": "2.3.1"} and v2.reextracted_from == 1
    assert v2.fetched_at == archive.get(DOC, 1).fetched_at  # the response it was read from
    assert v2.raw is not None and v2.raw.path == "v0001.html.gz"
    assert archive.raw_body(DOC, 2) == archive.raw_body(DOC, 1)
    assert [v.cause for v in archive.versions(DOC)] == ["site", "extractor"]
    assert archive.verify().ok


def test_a_crawl_with_another_extractor_reads_the_old_response_again_first(archive: Archive) -> None:
    archive.record_capture(capture())

    def reread(snapshot: Snapshot, body: bytes) -> Reextraction:
        assert body == capture().raw_body
        return Reextraction(**{**content_fields(snapshot), "text": "First paragraph."}, doc_id=DOC,
                            version=snapshot.version, extractor=NEW_EXTRACTOR, fetched_at="2026-12-01T00:00:00+00:00")

    # The new extractor reads the unchanged page as "First paragraph.": only the extractor changed.
    new_reading = capture(text="First paragraph.", extractor=NEW_EXTRACTOR, fetched_at="2026-12-01T00:00:00+00:00")
    result = archive.record_capture(new_reading, reread=reread)
    assert result.outcome == "unchanged"
    assert [(v.version, v.cause) for v in archive.versions(DOC)] == [(1, "site"), (2, "extractor")]
    # The site then edits the title: a site version, compared against the extractor's reading.
    edited = replace(new_reading, title="Edited title", fetched_at="2026-12-02T00:00:00+00:00")
    assert archive.record_capture(edited, reread=reread).outcome == "new-version"
    v3 = archive.get(DOC, 3)
    assert v3.cause == "site" and v3.changed_fields == ["title"]


# -- attachments ------------------------------------------------------------------------------
PDF = b"%PDF-1.4\n% a report\n"


def blob(body: bytes = PDF) -> AttachmentBlob:
    return AttachmentBlob(sha256=hashlib.sha256(body).hexdigest(), body=body, content_type="application/pdf",
                          url="https://kisi.kz/wp-content/uploads/2026/11/report.pdf",
                          fetched_at="2026-11-01T10:00:00+00:00", text="Доклад", text_extractor={"name": "x"})


def attached(body: bytes = PDF, **changes: object) -> AttachmentRef:
    base = AttachmentRef(url="https://kisi.kz/wp-content/uploads/2026/11/report.pdf",
                         final_url="https://kisi.kz/wp-content/uploads/2026/11/report.pdf",
                         sha256=hashlib.sha256(body).hexdigest(), bytes=len(body), content_type="application/pdf",
                         label="the full version is here")
    return replace(base, **changes)  # type: ignore[arg-type]


def test_attachments_are_versioned_by_their_content(archive: Archive) -> None:
    archive.record(blob())
    archive.record(blob())  # stored once
    assert archive.record_capture(capture(attachments=(attached(),))).outcome == "new-document"
    assert archive.get(DOC).attachments[0].sha256 == hashlib.sha256(PDF).hexdigest()
    # A passing failure (timeout) keeps the previous entry: no version.
    failed = attached(sha256=None, bytes=None, error="TimeoutError")
    assert archive.record_capture(capture(attachments=(failed,), fetched_at="2026-11-02T00:00:00+00:00")
                                  ).outcome == "unchanged"
    # Another label only: no version (the link text is in the post's text).
    assert archive.record_capture(capture(attachments=(attached(label="PDF"),), fetched_at="2026-11-03T00:00:00+00:00")
                                  ).outcome == "unchanged"
    # A replaced PDF: exactly one new version naming the field.
    replaced = PDF + b"% second edition\n"
    archive.record(blob(replaced))
    result = archive.record_capture(capture(attachments=(attached(replaced),), fetched_at="2026-11-04T00:00:00+00:00"))
    assert result.outcome == "new-version" and result.changed_fields == ("attachments",)
    assert archive.get(DOC).cause == "site"
    meta = json.loads(archive.layout.blob_meta(hashlib.sha256(PDF).hexdigest()).read_text("utf-8"))
    assert meta["text"] == "Доклад" and meta["bytes"] == len(PDF)
    assert archive.verify().ok
    # A changed byte in a stored body is named.
    path = archive.layout.blob(hashlib.sha256(PDF).hexdigest())
    path.write_bytes(PDF.replace(b"report", b"rep0rt"))
    assert f"attachments/sha256/{path.name[:2]}/{path.name}" in problem_paths(archive)


# -- the upgrade from schema 1 -----------------------------------------------------------------
def test_a_schema_1_archive_opens_verifies_upgrades_and_verifies(tmp_path: Path) -> None:
    root = tmp_path / "old"
    shutil.copytree(SCHEMA1, root)
    before = {p.relative_to(root): p.read_bytes() for p in root.rglob("v*") if p.is_file()}
    with Archive.open(root) as old:
        assert old.schema == 1
        assert old.verify().ok, old.verify().errors
        assert b"First paragraph." in old.raw_body(DOC, 1)
        assert old.get(DOC, 2).cause == "site" and old.get(DOC, 2).schema_version == 1
        assert "previous_sha256" not in old.get(DOC, 2).to_json()
        done = old.upgrade()
        assert done and old.upgrade() == []
        assert old.verify().ok, old.verify().errors
        assert json.loads((root / "kisi-archive.json").read_text("utf-8"))["schema_version"] == 2
        chain = json.loads((root / "documents" / DOC / "chain.json").read_text("utf-8"))
        assert [v["version"] for v in chain["versions"]] == [1, 2]
        # A new capture continues the chain from the last schema-1 file.
        archive_capture = Capture(**{**content_fields(old.get(DOC)), "title": "Edited after the upgrade"},
                                  url=old.get(DOC).url, final_url=old.get(DOC).final_url, http_status=200,
                                  fetched_at="2026-12-01T00:00:00+00:00", site="kisi.kz",
                                  extractor={"name": "trafilatura", "version": "2.0.0"}, raw_body=b"<html/>")
        assert old.record_capture(archive_capture).version == 3
        assert old.get(DOC, 3).previous_sha256 == sha_of(root / "documents" / DOC / "v0002.json")
        assert old.verify().ok
    after = {p.relative_to(root): p.read_bytes() for p in root.rglob("v*") if p.is_file()}
    assert all(after[name] == data for name, data in before.items())  # no version file rewritten
    # Tampering with a sealed schema-1 version is named.
    path = root / "documents" / DOC / "v0001.json"
    path.write_bytes(path.read_bytes().replace(b'"http_status": 200', b'"http_status": 203'))
    with Archive.open(root) as again:
        assert f"documents/{DOC}/v0001.json" in problem_paths(again)
    assert gzip.decompress((root / "documents" / DOC / "v0001.html.gz").read_bytes()).startswith(b"<html>")


def test_the_upgrade_through_the_command(tmp_path: Path) -> None:
    from tests.conftest import make_cli

    cli = make_cli(tmp_path)
    shutil.copytree(SCHEMA1, cli.archive)
    assert cli("verify").code == 0
    assert "archive schema 1 -> 2" in cli("upgrade").out
    assert "nothing to do" in cli("upgrade").out
    report = cli("verify", "--json").json()
    assert report["ok"] and report["versions"] == 3
    assert [v["cause"] for v in cli("history", DOC, "--json").json()] == ["site", "site"]


def test_reextract_reads_in_a_worker_process(archive: Archive) -> None:
    """The worker task by its "module:function" name, in a real child process of the pool."""
    from crawler.pool import WorkerPool

    page = ('<html lang="en"><body class="single postid-2368"><article id="post-2368" class="post-2368 post">'
            '<h1 class="entry-title">Experts discussed</h1><div class="entry-content"><p>'
            + "Experts discussed the process of political transformation in Kazakhstan. " * 8
            + "</p></div></article></body></html>").encode()
    archive.record_capture(capture(raw_body=page))
    archive.conn  # the index exists for the worker's read-only open
    context = {"root": str(archive.root), "at": "2026-12-01T00:00:00+00:00", "run_id": None}
    with WorkerPool(1, task="crawler.reextract:read_job") as pool:
        assert pool.submit((context, [[DOC, 1]])).result(timeout=60) and pool.restarts == 0
        [reading] = pool.submit((context, [[DOC, 1]])).result(timeout=60)
    assert reading["doc_id"] == DOC and reading["version"] == 1
    assert reading["text"].startswith("Experts discussed the process") and reading["extractor"]["name"] == "trafilatura"
    assert archive.record(Reextraction(**reading)).outcome == "reextracted"
    assert archive.get(DOC, 2).cause == "extractor" and archive.verify().ok
