"""Batched index updates (Archive.batch_index): files per record, the index per batch."""
from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

from storage import Archive, Sighting
from storage.store import PENDING

from test_storage import capture


def rows(root: Path, text_ids: bool = True) -> dict[str, list[tuple]]:
    """Every row of the index (text_id, the full-text rowid, depends on the order rows were
    written, which a rebuild does not keep)."""
    conn = sqlite3.connect(root / "index.sqlite")
    conn.row_factory = sqlite3.Row
    try:
        return {table: sorted(tuple(v for k, v in zip(row.keys(), row) if text_ids or k != "text_id")
                              for row in conn.execute(f"SELECT * FROM {table}"))
                for table in ("documents", "versions", "aliases", "categories")}
    finally:
        conn.close()


def observations(n: int) -> list:
    """Captures of n posts, an edit of some, sightings and unchanged captures of others."""
    out: list = []
    for k in range(n):
        out.append(capture(post_id=100 + k, url=f"https://kisi.kz/en/p{k}/", final_url=f"https://kisi.kz/en/p{k}/",
                           canonical_url=f"https://kisi.kz/en/p{k}/", shortlink=f"https://kisi.kz/?p={100 + k}",
                           title=f"Post {k}", fetched_at=f"2026-11-01T10:{k:02d}:00+00:00"))
    for k in range(0, n, 3):
        out.append(replace(out[k], text=out[k].text + " Edited.", fetched_at=f"2026-11-02T10:{k:02d}:00+00:00"))
    for k in range(1, n, 3):
        out.append(replace(out[k], fetched_at=f"2026-11-03T10:{k:02d}:00+00:00"))
        out.append(Sighting(doc_id=f"kisi.kz-en-{100 + k}", url=out[k].url, fetched_at=f"2026-11-04T10:{k:02d}:00+00:00",
                            http_status=304, run_id="run-2"))
    return out


def test_batched_index_equals_the_per_record_index_and_a_rebuild(tmp_path: Path) -> None:
    with Archive.open(tmp_path / "one", create=True) as one:
        for item in observations(12):
            one.record(item)
    with Archive.open(tmp_path / "batched", create=True) as batched:
        batched.batch_index(records=5, seconds=60)
        results = [batched.record(item) for item in observations(12)]
        assert (tmp_path / "batched" / PENDING).exists()  # a batch is open
    assert not (tmp_path / "batched" / PENDING).exists()  # closed: committed
    assert [r.outcome for r in results].count("new-document") == 12
    assert rows(tmp_path / "batched") == rows(tmp_path / "one")
    with Archive.open(tmp_path / "batched") as rebuilt:
        rebuilt.reindex()
    assert rows(tmp_path / "batched", text_ids=False) == rows(tmp_path / "one", text_ids=False)


def test_a_writer_killed_mid_batch_is_caught_up_by_the_next(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    writer = Archive.open(root, create=True)
    writer.batch_index(records=1000, seconds=600)
    items = observations(6)
    for item in items[:4]:
        writer.record(item)
    # Killed: the open transaction is lost, the pending list stays (as the OS closes files).
    writer._conn.close()
    writer._batch._handle.close()
    assert (root / PENDING).exists()
    assert rows(root)["documents"] == []
    with Archive.open(root) as reader:
        assert {d.doc_id for d in reader.list_documents()} == {f"kisi.kz-en-{100 + k}" for k in range(4)}
        assert reader.verify().ok and not reader.verify().repaired
    assert not (root / PENDING).exists()


def test_an_open_batch_of_a_live_writer_is_left_alone(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    with Archive.open(root, create=True) as writer:
        writer.batch_index(records=1000, seconds=600)
        writer.record(observations(2)[0])
        with Archive.open(root) as other:  # say, `kisi-archive list` during a crawl
            assert other.list_documents() == []  # not caught up: the batch is the writer's
        assert (root / PENDING).exists()
        writer.record(observations(2)[1])
    with Archive.open(root) as after:
        assert len(after.list_documents()) == 2


def test_readers_see_a_batch_once_committed(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    with Archive.open(root, create=True) as writer:
        writer.batch_index(records=2, seconds=600)
        writer.record(observations(3)[0])
        with Archive.open(root, readonly=True) as reader:
            assert reader.list_documents() == []
            writer.record(observations(3)[1])  # the second record commits the batch
            assert len(reader.list_documents()) == 2
