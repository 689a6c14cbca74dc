"""An archive opened read-only (the web viewer's way): never writes, sees a writer's new rows."""
from __future__ import annotations

import os
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from storage import Archive, IndexNotReady, ReadOnlyArchive
from storage.index import INDEX_SCHEMA

from test_storage import capture


def snapshot_of_tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}


def test_readonly_sees_new_rows_without_reopening_and_writes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    with Archive.open(root, create=True) as writer:
        writer.record_capture(capture())
        reader = Archive.open(root, readonly=True)
        assert [v.version for v in reader.versions("kisi.kz-en-2368")] == [1]
        before = snapshot_of_tree(root)
        reader.list_documents(), reader.get("kisi.kz-en-2368"), reader.translations("kisi.kz-en-2368")
        assert snapshot_of_tree(root) == before  # reading touched no file, took no lock
        # A writer in another connection (as a crawl in another process) adds a version.
        writer.record_capture(replace(capture(), fetched_at="2026-11-02T10:00:00+00:00", title="New title"))
        assert [v.version for v in reader.versions("kisi.kz-en-2368")] == [1, 2]
        assert reader.resolve("https://kisi.kz/?p=2368") == "kisi.kz-en-2368"
        for write in (lambda: reader.record_capture(capture()), lambda: reader.reindex(),
                      lambda: reader.save_state("x", {})):
            with pytest.raises(ReadOnlyArchive):
                write()
        before_verify = snapshot_of_tree(root)
        assert reader.verify().ok  # read-only, it checks and writes nothing
        assert snapshot_of_tree(root) == before_verify
        # The connection itself is read-only too.
        with pytest.raises(sqlite3.OperationalError):
            reader.conn.execute("DELETE FROM documents")
        reader.close()


def test_readonly_refuses_a_missing_or_outdated_index_without_building_it(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    with Archive.open(root, create=True) as writer:
        writer.record_capture(capture())
    os.unlink(root / "index.sqlite")
    with pytest.raises(IndexNotReady, match="reindex"):
        Archive.open(root, readonly=True).conn
    assert not (root / "index.sqlite").exists()  # not rebuilt
    with Archive.open(root) as writer:
        writer.conn.execute("UPDATE meta SET value = ? WHERE key = 'index_schema'", (str(INDEX_SCHEMA - 1),))
        writer.conn.commit()
    with pytest.raises(IndexNotReady, match=f"schema {INDEX_SCHEMA - 1}.*reindex"):
        Archive.open(root, readonly=True).conn
    with pytest.raises(ValueError):
        Archive.open(root, create=True, readonly=True)


def test_write_feed_replaces_the_file_atomically(tmp_path: Path) -> None:
    from storage import StorageError
    from storage.feeds import write_feed

    root = tmp_path / "archive"
    Archive.open(root, create=True).close()
    path = write_feed(root, "changes.atom", b"<feed>1</feed>")
    assert path == root / "feeds" / "changes.atom" and path.read_bytes() == b"<feed>1</feed>"
    write_feed(root, "changes.atom", b"<feed>2</feed>")
    assert [p.name for p in path.parent.iterdir()] == ["changes.atom"] and path.read_bytes() == b"<feed>2</feed>"
    with pytest.raises(StorageError):
        write_feed(root, "../escape", b"")
