"""storage.changes (recent changes, URLs over time, the version at an instant) and query.by_language."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from storage import Archive
from storage.changes import recent_changes, url_history, version_at, version_kinds
from storage.query import BadQuery, Filters, by_language

from test_query import archive, capture  # noqa: F401 - the fixture archive of test_query


def test_recent_changes_newest_first_with_kinds_and_filters(archive: Archive) -> None:  # noqa: F811
    changes = recent_changes(archive.conn)
    assert [(c.doc_id, c.version, c.kind) for c in changes[:3]] == [
        ("kisi.kz-en-1", 3, "edit"), ("kisi.kz-kk-3", 2, "edit"), ("kisi.kz-en-1", 2, "edit")]
    assert [c.fetched_at for c in changes] == sorted((c.fetched_at for c in changes), reverse=True)
    assert {c.kind for c in recent_changes(archive.conn, kinds=("new",))} == {"new"}
    assert len(recent_changes(archive.conn, kinds=("new",))) == 5
    assert [c.doc_id for c in recent_changes(archive.conn, Filters(languages=("kk",)))] == ["kisi.kz-kk-3"] * 2
    since = recent_changes(archive.conn, since="2026-02-01T10:00:00+00:00")
    assert [(c.doc_id, c.version) for c in since] == [("kisi.kz-en-1", 3), ("kisi.kz-kk-3", 2), ("kisi.kz-en-1", 2)]
    # Category filters are those of each version: News only came with version 3.
    assert [(c.doc_id, c.version) for c in recent_changes(archive.conn, Filters(categories=("news",)))] == [
        ("kisi.kz-en-1", 3)]
    assert recent_changes(archive.conn, limit=2)[1].changed_fields == ["text"]
    with pytest.raises(BadQuery, match="unknown change kind 'deleted'"):
        recent_changes(archive.conn, kinds=("deleted",))


def test_removals_and_restores_are_named_as_subscribers_know_them(archive: Archive) -> None:  # noqa: F811
    archive.record_removal("kisi.kz-ru-5", evidence={"url_status": 404}, fetched_at="2026-04-01T00:00:00+00:00",
                           http_status=404, run_id="r")
    assert [(c.doc_id, c.kind) for c in recent_changes(archive.conn, kinds=("removed",))] == [("kisi.kz-ru-5", "removed")]
    assert version_kinds(archive.conn) == {"new": 5, "edit": 3, "removed": 1, "restored": 0}


def test_url_history_has_one_span_per_run_of_versions(tmp_path: Path) -> None:
    arch = Archive.open(tmp_path / "a", create=True)
    first = capture(7, "en", title="T", text="Text.", published="2025-01-01T00:00:00+00:00", categories=("Events",),
                    fetched_at="2026-01-01T00:00:00+00:00")
    renamed = "https://kisi.kz/en/renamed/"
    steps = [first,
             replace(first, fetched_at="2026-01-02T00:00:00+00:00", text="Text, edited."),
             replace(first, fetched_at="2026-01-03T00:00:00+00:00", text="Text, edited.", canonical_url=renamed,
                     final_url=renamed),
             replace(first, fetched_at="2026-01-04T00:00:00+00:00", text="Text, edited.")]
    for step in steps:
        arch.record_capture(step)
    spans = url_history(arch.conn, "kisi.kz-en-7")
    assert [(s.url, s.first_version, s.last_version) for s in spans] == [
        (first.canonical_url, 1, 2), (renamed, 3, 3), (first.canonical_url, 4, 4)]
    assert spans[0].first_seen == "2026-01-01T00:00:00+00:00" and spans[0].last_seen == "2026-01-02T00:00:00+00:00"
    assert url_history(arch.conn, "nope") == []


def test_version_at_an_instant(archive: Archive) -> None:  # noqa: F811
    doc = "kisi.kz-en-1"  # versions captured 2026-01-10, 2026-02-01, 2026-03-01 (10:00 UTC)
    assert version_at(archive.conn, doc, "2026-02-15T00:00:00+00:00") == 2
    assert version_at(archive.conn, doc, "2026-02-01T10:00:00+00:00") == 2  # at the very second
    assert version_at(archive.conn, doc, "2026-02-01T09:59:59+00:00") == 1
    assert version_at(archive.conn, doc, "2001-09-11T20:35:00+00:00") == 1  # before every capture: the first
    assert version_at(archive.conn, doc, "2099-01-01T00:00:00+00:00") == 3
    assert version_at(archive.conn, doc, None) == 3
    assert version_at(archive.conn, "nope", None) is None


def test_by_language(archive: Archive) -> None:  # noqa: F811
    assert by_language(archive.conn) == [
        {"language": "en", "documents": 2, "versions": 4, "removed": 0},
        {"language": "ru", "documents": 2, "versions": 2, "removed": 0},
        {"language": "kk", "documents": 1, "versions": 2, "removed": 0},
    ]
    assert by_language(archive.conn, Filters(changed=True)) == [
        {"language": "en", "documents": 1, "versions": 3, "removed": 0},
        {"language": "kk", "documents": 1, "versions": 2, "removed": 0},
    ]


def test_get_documents(archive: Archive) -> None:  # noqa: F811
    from storage.query import get_documents

    found = get_documents(archive.conn, ["kisi.kz-en-1", "kisi.kz-kk-3", "nope"])
    assert sorted(found) == ["kisi.kz-en-1", "kisi.kz-kk-3"] and found["kisi.kz-en-1"].versions == 3
    assert get_documents(archive.conn, []) == {}
