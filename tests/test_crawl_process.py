"""The crawl as a process: what it opens, where it writes, how it fails, how it is recorded.

Real `kisi-archive` processes against the fixture site on 127.0.0.1.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from scheduler.ledger import Ledger
from scheduler.lock import CRAWL_LOCK, is_held, pid_alive, read_holder
from tests.conftest import BIN, Cli

pytestmark = pytest.mark.e2e


def listening_sockets(pid: int) -> set[str]:
    """The local addresses of the TCP sockets this process listens on (from /proc)."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[len("socket:["):-1])
        found = set()
        for table in ("tcp", "tcp6"):
            for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                    found.add(fields[1])
        return found
    except FileNotFoundError:  # the process has ended
        return set()


def start_crawl(cli: Cli, site, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([str(BIN), "crawl", "--site", site.url + "/en/", "--category", "events", *extra],
                            env=env or cli.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def crawl_child(cli: Cli, timeout: float = 20) -> int:
    """The pid of the running crawl child, once the crawl lock names it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        holder = read_holder(cli.archive / CRAWL_LOCK)
        if holder and holder.child_pid and is_held(cli.archive / CRAWL_LOCK):
            return holder.child_pid
        time.sleep(0.02)
    raise AssertionError("no crawl child started")


def test_a_crawl_listens_on_no_port_and_writes_nothing_under_home(site, cli, tmp_path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = dict(cli.env, HOME=str(home), XDG_STATE_HOME=str(home / ".local" / "state"),
               XDG_CACHE_HOME=str(home / ".cache"), XDG_DATA_HOME=str(home / ".local" / "share"))
    with site.modify() as state:
        state.slow_down("/en/category/events/", 1.5)  # a crawl long enough to look at
    proc = start_crawl(cli, site, "--json", env=env)
    child = crawl_child(cli)
    listening: set[str] = set()
    looked = 0
    while proc.poll() is None:
        listening |= listening_sockets(child) | listening_sockets(proc.pid)
        looked += 1
        time.sleep(0.05)
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert json.loads(out)["outcome"] == "completed"
    assert looked > 10  # the crawl was watched while it ran
    assert listening == set(), f"the crawl listened on {listening}"
    assert [str(p.relative_to(home)) for p in home.rglob("*")] == []
    log = Path(json.loads(out)["log_path"]).read_text("utf-8")
    assert "Remote control" not in log and "scrapy.extensions.remote_control" not in log
