"""The archive locks (scheduler/lock.py): busy, waiting, stale takeover, holders that died."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from scheduler.lock import (ArchiveLock, Holder, LockBusy, LockWaitCancelled, crawl_lock, is_held, new_holder,
                          pid_alive, read_holder)


def holder(run_id: str = "r1") -> Holder:
    return new_holder("crawl", "2026-01-01T00:00:00+00:00", run_id=run_id, trigger="manual")


def test_second_holder_is_refused_and_told_who_holds_it(tmp_path: Path) -> None:
    first, second = crawl_lock(tmp_path), crawl_lock(tmp_path)
    assert first.try_acquire(holder("run-a")) is None
    try:
        assert is_held(first.path)
        with pytest.raises(LockBusy) as busy:
            second.try_acquire(holder("run-b"), patience=0)
        assert busy.value.holder is not None and busy.value.holder.run_id == "run-a"
        assert "crawl run run-a (manual)" in str(busy.value) and f"pid {os.getpid()}" in str(busy.value)
    finally:
        first.release()
    assert not is_held(first.path)
    assert first.path.read_text() == ""  # a clean release leaves no record behind
    assert second.try_acquire(holder("run-b")) is None
    second.release()


def test_record_under_a_free_lock_is_a_stale_lock_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "crawl.lock"
    dead = Holder(kind="crawl", pid=999_999_999, host="somewhere", started="2026-01-01T00:00:00+00:00",
                  run_id="old-run", trigger="schedule")
    path.write_text(json.dumps(dead.to_json()))
    lock = ArchiveLock(path)
    stale = lock.try_acquire(holder("new-run"))
    try:
        assert stale == dead
        assert read_holder(path).run_id == "new-run"
    finally:
        lock.release()


def test_lock_of_a_killed_process_is_released_and_its_record_reported(tmp_path: Path) -> None:
    code = ("import sys, time; from scheduler.lock import crawl_lock, new_holder; "
            "l = crawl_lock(sys.argv[1]); l.try_acquire(new_holder('crawl', 'now', run_id='victim')); "
            "print('locked', flush=True); time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "locked"
        with pytest.raises(LockBusy):
            crawl_lock(tmp_path).try_acquire(holder("mine"), patience=0)
        child.send_signal(signal.SIGKILL)
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        assert child.stdout is not None
        child.stdout.close()
    lock = crawl_lock(tmp_path)
    stale = lock.try_acquire(holder("mine"))
    lock.release()
    assert stale is not None and stale.run_id == "victim" and stale.pid == child.pid
    assert not pid_alive(child.pid)


def test_acquire_waits_for_release_times_out_or_is_cancelled(tmp_path: Path) -> None:
    first = crawl_lock(tmp_path)
    first.try_acquire(holder("a"))
    told: list[LockBusy] = []
    with pytest.raises(LockBusy):
        crawl_lock(tmp_path).acquire(holder("b"), timeout=0.8, poll=0.05, on_wait=told.append)
    assert len(told) == 1 and told[0].holder.run_id == "a"
    with pytest.raises(LockWaitCancelled):
        crawl_lock(tmp_path).acquire(holder("b"), timeout=None, poll=0.05, should_stop=lambda: True)
    threading.Timer(0.3, first.release).start()
    waiter = crawl_lock(tmp_path)
    started = time.monotonic()
    assert waiter.acquire(holder("b"), timeout=5, poll=0.05) is None
    assert 0.2 < time.monotonic() - started < 4
    waiter.release()


def test_holder_record_updates_and_unreadable_records(tmp_path: Path) -> None:
    lock = crawl_lock(tmp_path)
    lock.try_acquire(holder("a"))
    lock.update(child_pid=4242, run_id="a-long-run-id-that-is-longer")
    lock.update(run_id="short")  # a shorter record: the old tail must not confuse readers
    assert read_holder(lock.path).child_pid == 4242 and read_holder(lock.path).run_id == "short"
    lock.release()
    lock.path.write_text("not json")
    assert read_holder(lock.path) is None
    assert read_holder(tmp_path / "missing.lock") is None
    assert not is_held(tmp_path / "missing.lock")


def test_pid_alive() -> None:
    assert pid_alive(os.getpid())
    assert not pid_alive(999_999_999)
    assert not pid_alive(0)
