"""The archive writer process (crawler/writer.py): records stored in order, out of the
caller's process, its index batch committed at the end, a killed writer replaced without
loss, and a failure carried back as the same sentence."""
from __future__ import annotations

import errno
import os
import signal
import sqlite3
import time
from dataclasses import replace
from pathlib import Path

from crawler.pipelines import write_failure
from crawler.pool import WorkerPool
from crawler.writer import TASK, WriteFailed, WriteJob
from storage import Archive, StorageError
from test_storage import capture


def posts(n: int) -> list:
    return [capture(post_id=100 + i, url=f"https://kisi.kz/en/post-{i}/", final_url=f"https://kisi.kz/en/post-{i}/",
                    canonical_url=f"https://kisi.kz/en/post-{i}/", shortlink=f"https://kisi.kz/?p={100 + i}",
                    title=f"Post {i}") for i in range(n)]


def test_records_are_stored_by_another_process_in_order_and_committed_at_the_end(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    Archive.open(root, create=True).close()
    first = posts(3)
    with WorkerPool(1, task=TASK) as pool:
        results = [pool.submit(WriteJob(str(root), record)).result(timeout=60) for record in first]
        edited = replace(first[0], text="First paragraph, edited.", fetched_at="2026-11-02T10:00:00+00:00")
        again = pool.submit(WriteJob(str(root), edited)).result(timeout=60)
        assert [pid for pid in pool.pids() if pid != os.getpid()], "the writes were not made by a worker"
        assert pool.submit(WriteJob(str(root), None)).result(timeout=60) is None  # the end: batch committed
    assert [r.outcome for r in results] == ["new-document"] * 3
    assert (again.outcome, again.version) == ("new-version", 2)
    assert not (root / "index.pending").exists()
    archive = Archive.open(root)
    assert len(archive.list_documents()) == 3
    assert [v.version for v in archive.versions(results[0].doc_id)] == [1, 2]
    assert archive.verify().ok


def test_a_killed_writer_is_replaced_and_nothing_is_lost(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    Archive.open(root, create=True).close()
    records = posts(4)
    with WorkerPool(1, task=TASK) as pool:
        for record in records[:2]:
            assert pool.submit(WriteJob(str(root), record)).result(timeout=60).outcome == "new-document"
        (victim,) = pool.pids()
        os.kill(victim, signal.SIGKILL)  # mid-run, its index batch still open
        time.sleep(0.2)
        for record in records[2:]:
            assert pool.submit(WriteJob(str(root), record)).result(timeout=60).outcome == "new-document"
        assert pool.restarts == 1
        pool.submit(WriteJob(str(root), None)).result(timeout=60)
    archive = Archive.open(root)  # the killed writer's batch is caught up from its files
    assert len(archive.list_documents()) == 4
    assert archive.verify().ok


def test_a_failure_comes_back_as_the_sentence_of_a_failure_in_process() -> None:
    full = WriteFailed.of(OSError(errno.ENOSPC, "No space left on device", "/archive/documents/x/v0001.json"))
    exc = full.exception()
    assert isinstance(exc, OSError) and exc.errno == errno.ENOSPC and exc.filename.endswith("v0001.json")
    assert write_failure("https://kisi.kz/en/post/", exc, 7).startswith(
        "disk full writing https://kisi.kz/en/post/; 7 version(s) stored before it; nothing lost")
    sqlite_full = WriteFailed.of(sqlite3.OperationalError("database or disk is full")).exception()
    assert write_failure("x", sqlite_full, 0).startswith("disk full writing x")
    other = WriteFailed.of(StorageError("not an archive: /nowhere")).exception()
    assert isinstance(other, StorageError)
    assert write_failure("x", other, 0) == "archive write failed for x: not an archive: /nowhere"


def test_a_write_that_fails_is_answered_not_raised(tmp_path: Path) -> None:
    with WorkerPool(1, task=TASK) as pool:
        answer = pool.submit(WriteJob(str(tmp_path / "no-archive-here"), posts(1)[0])).result(timeout=60)
    assert isinstance(answer, WriteFailed) and answer.kind == "storage"
