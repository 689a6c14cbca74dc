"""The crawl's extraction workers and its archive writer end with it: after SIGTERM (once:
graceful; twice: at once)."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BIN

pytestmark = pytest.mark.e2e


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                children = [int(c) for c in Path(f"/proc/{current}/task/{task}/children").read_text().split()]
                found += children
                todo += children
        except OSError:
            pass
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


@pytest.mark.parametrize("signals", [1, 2], ids=["graceful", "at-once"])
def test_sigterm_to_the_crawl_leaves_no_worker_and_no_hang(site, cli, signals: int) -> None:
    with site.modify() as state:
        for post in state.published(lang="en"):
            state.slow_down(state.path_of(post), 0.4)  # a crawl that is still busy when stopped
    proc = subprocess.Popen([str(BIN), "crawl", "--site", f"{site.url}/en/", "--category", "events", "--json"],
                            env=cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    child, workers, deadline = None, set(), time.monotonic() + 60
    writer = lambda: [pid for pid in workers if "crawler.writer" in cmdline(pid)]  # noqa: E731
    while not (writer() and len(workers) > 1) and time.monotonic() < deadline:
        for pid in descendants(proc.pid):
            if "crawler.run" in cmdline(pid):
                child = pid
            elif "crawler.pool" in cmdline(pid):  # the extraction workers and the archive writer
                workers.add(pid)
        time.sleep(0.05)
    assert child is not None and len(workers) > 1, "the crawl never started its extraction workers"
    assert writer(), "the crawl's records were not written by the archive writer process"
    for _ in range(signals):
        os.kill(child, signal.SIGTERM)  # what the scheduler sends (scheduler/runs.py)
        time.sleep(0.2)
    out, err = proc.communicate(timeout=90)
    assert proc.returncode in (0, 130), err
    assert "Traceback" not in err, err
    time.sleep(0.2)
    assert not [pid for pid in workers if alive(pid)]
    assert cli("verify").code == 0
