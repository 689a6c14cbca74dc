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
from seeded import EVENTS, EVENTS_BY_LANGUAGE
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


def test_an_unreachable_site_is_reported_at_once_without_retries(site, cli) -> None:
    site.stop()  # nothing listens on its port now
    down = cli.crawl(site, check=False)
    assert down.code == 3 and "unreachable" in down.err and "Traceback" not in down.err
    record = down.json()
    log = Path(record["log_path"]).read_text("utf-8")
    assert "retrying in" not in log and "taken as unreachable (not retried)" in log
    # One connection attempt (robots.txt); every other request failed at once without the network.
    assert record["counts"]["requests"] == 1, record["counts"]


def on_a_terminal(argv: list[str], env: dict[str, str], timeout: float = 120) -> tuple[int, str]:
    """Run a command with stdin, stdout and stderr on a pseudo-terminal; (exit code, what it showed)."""
    import pty
    import select

    leader, follower = pty.openpty()
    proc = subprocess.Popen(argv, env=dict(env, COLUMNS="120", LINES="40"), stdin=follower, stdout=follower,
                            stderr=follower, close_fds=True)
    os.close(follower)
    shown = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal's other side closed: the command is done
                break
            if not chunk:
                break
            shown += chunk
        elif proc.poll() is not None:
            break
    os.close(leader)
    return proc.wait(timeout=30), shown.decode("utf-8", "replace")


def test_progress_bar_on_a_terminal_then_a_summary_of_counts(site, cli) -> None:
    env = dict(cli.env, KISI_DOWNLOAD_DELAY="0.1")
    code, shown = on_a_terminal([str(BIN), "crawl", "--site", site.url + "/en/", "--category", "events"], env)
    assert code == 0, shown
    frames = [frame for frame in shown.replace("\r\n", "\n").split("\r") if "req |" in frame]
    assert frames, shown
    assert any(frame.lstrip().startswith("discovery") for frame in frames)
    assert any("req/s" in frame or "s/req" in frame for frame in frames) and "ETA" in frames[-1]
    assert f"posts {len(EVENTS)}" in frames[-1] and f"new {len(EVENTS)}" in frames[-1]
    summary = shown[shown.index("Crawl completed"):]
    assert f"  new documents          {len(EVENTS)}" in summary and "    rest      ok:" in summary
    assert "  by language" in summary and f"    kk        new {len(EVENTS_BY_LANGUAGE['kk'])}," in summary
    assert "{" not in summary and "Traceback" not in shown  # counts in words, not Python dicts


def test_quiet_and_json_log_lines(site, cli) -> None:
    quiet = cli("crawl", "--site", site.url + "/en/", "--quiet")
    assert quiet.out == "" and quiet.err == ""
    missing = cli("crawl", "--site", site.url + "/en/", "--category", "nope", "--log-format", "json", check=False)
    assert missing.code == 3
    lines = [json.loads(line) for line in missing.err.splitlines()]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    final = lines[-1]
    assert final["level"] == "error" and "category not found" in final["message"]
    assert final["event"] == "crawl-failed" and final["run_id"] and final["log_path"]
    with site.modify() as state:
        state.fail("/en/category/events/", 500, times=99)
    warned = cli("crawl", "--site", site.url + "/en/", "--full", "--log-format", "json", check=False)
    assert warned.err and all(json.loads(line)["message"] for line in warned.err.splitlines()), warned.err


def test_demo_twice_on_one_archive_adds_no_version(cli, tmp_path) -> None:
    import socket

    target = tmp_path / "demo-archive"
    first = cli("demo", "--archive", str(target), timeout=180)
    assert "Fixture site serving at" in first.err
    port = json.loads((target / "state" / "demo.json").read_text())["port"]
    assert f"127.0.0.1:{port};" in cli("demo", "--archive", str(target), timeout=180).err  # the same address
    assert cli("list", "--archive", str(target), "--changed", "--json").json() == []
    latest = cli("runs", "--archive", str(target), "--json").json()[0]
    assert latest["outcome"] == "completed" and latest["counts"]["new_versions"] == 0
    # The remembered port taken by someone else: the demo still runs, and says what that costs.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        moved = cli("demo", "--archive", str(target), timeout=180)
    assert f"port {port}" in moved.err and "every document gets a new version" in moved.err


def test_a_run_whose_processes_died_is_closed_as_failed_when_anyone_looks(site, cli) -> None:
    with site.modify() as state:
        state.slow_down("/en/category/events/", 3)
    proc = start_crawl(cli, site)
    child = crawl_child(cli)
    run_id = read_holder(cli.archive / CRAWL_LOCK).run_id
    os.kill(proc.pid, signal.SIGKILL)  # the parent first, so that nobody records the end
    proc.wait()
    os.kill(child, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while pid_alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.communicate()
    assert Ledger(cli.archive).get(run_id).outcome == "running"  # what the ledger says until someone looks

    listed = cli("runs", "--json").json()
    abandoned = next(r for r in listed if r["run_id"] == run_id)
    assert abandoned["outcome"] == "failed" and abandoned["finished_at"]
    assert abandoned["reason"].startswith("abandoned: the process that ran it") and "`kisi-archive runs`" in abandoned["reason"]
    status = cli("status", "--json", check=False).json()
    assert status["last_run"]["outcome"] == "failed" and status["crawling"] is None
    assert cli.crawl(site).json()["outcome"] == "completed"  # the archive is free and consistent
    assert cli("verify").code == 0


@pytest.mark.parametrize("progress, quiet, log, tail", [
    (False, False, None, []),
    (True, False, Path("/a/runs/r/crawl.log"), ["--log", "/a/runs/r/crawl.log", "--progress"]),
    (False, True, Path("/a/runs/r/crawl.log"), ["--log", "/a/runs/r/crawl.log", "--quiet"]),
])
def test_crawl_argv(progress: bool, quiet: bool, log: Path | None, tail: list[str]) -> None:
    from scheduler.runs import crawl_argv

    argv = crawl_argv("/py", config_path=Path("/a/c.json"), summary_path=Path("/a/s.json"), run_id="r", log_path=log,
                      progress=progress, quiet=quiet)
    assert argv == ["/py", "-m", "crawler.run", "--config", "/a/c.json", "--summary", "/a/s.json", "--run-id", "r",
                    *tail]
