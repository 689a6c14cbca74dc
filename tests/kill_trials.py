"""Kill trials: SIGKILL a real `kisi-archive crawl` at random instants; nothing may be lost.

Shared by tests/test_kill.py (a dozen trials in the suite) and bench/bench_kill.py (50+).
Each chain of trials crawls into a fresh archive and, `kills` times over, starts a crawl and
SIGKILLs it at a random instant (the parent and its crawl child, in either order; or only
the child; or only the parent, whose orphaned child then finishes on its own), then runs
`kisi-archive verify`. A last crawl then completes, and the archive must equal a clean
reference crawl of the same site: the same documents, with the same versions (content
hashes, in order), `verify` passing, and no run left `running` in the ledger.
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storage import Archive
from scheduler.lock import read_holder
from storage.layout import CRAWL_LOCK

BIN = Path(sys.executable).parent / "kisi-archive"
MODES = ("both", "child-first", "child", "parent")


def env_for(archive: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KISI_")}
    env.update(KISI_ARCHIVE_DIR=str(archive), KISI_DOWNLOAD_DELAY="0", KISI_TIMEOUT="10", KISI_RETRY_BACKOFF="0.05",
               KISI_CONTACT="https://example.org/kisi-archive-kill-trials")
    return env


def crawl_command(site_url: str) -> list[str]:
    return [str(BIN), "crawl", "--site", site_url + "/en/", "--category", "events", "--json"]


def crawl(site_url: str, archive: Path) -> dict[str, Any]:
    proc = subprocess.run(crawl_command(site_url), env=env_for(archive), capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise AssertionError(f"crawl exited {proc.returncode}: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def verify(archive: Path) -> dict[str, Any]:
    proc = subprocess.run([str(BIN), "verify", "--json"], env=env_for(archive), capture_output=True, text=True,
                          timeout=300)
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        report = {}
    if "errors" not in report:  # it could not verify at all: its one line says why
        report = {"ok": False, "errors": [report.get("reason") or proc.stderr.strip()[-500:]], "repaired": []}
    report["exit_code"], report["traceback"] = proc.returncode, "Traceback" in proc.stderr
    return report


def documents_of(root: Path) -> dict[str, list[str]]:
    """Every document with the content hash of each of its versions, in order."""
    found: dict[str, list[str]] = {}
    with Archive.open(root, readonly=True) as archive:
        for snapshot in archive.iter_snapshots():
            found.setdefault(snapshot["doc_id"], []).append(snapshot["content_sha256"])
    return found


def versions_on_disk(root: Path) -> int:
    folder = root / "documents"
    if not folder.is_dir():
        return 0
    return sum(1 for doc in folder.iterdir() if doc.is_dir() for name in os.listdir(doc)
               if name.startswith("v") and name.endswith(".json"))


@dataclass
class Kill:
    chain: int
    at: float  # seconds after the crawl started
    mode: str
    versions_before: int  # version files on disk when it was killed
    verify_ok: bool
    verify_errors: list[str]
    traceback: bool


@dataclass
class Chain:
    number: int
    kills: list[Kill] = field(default_factory=list)
    lost: int = 0  # reference versions missing from the archive after the follow-up crawl
    extra: int = 0  # versions the reference does not have (bogus or duplicated)
    final_verify_ok: bool = False
    left_running: int = 0  # runs still `running` in the ledger at the end
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (not self.lost and not self.extra and self.final_verify_ok and not self.left_running
                and all(k.verify_ok and not k.traceback for k in self.kills))


def _kill(pid: int | None) -> None:
    if pid:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _wait_gone(pid: int | None, timeout: float = 60) -> None:
    """Wait until a process that is not our child (an orphaned crawl child) has exited."""
    deadline = time.monotonic() + timeout
    while pid and time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[:1]
        except OSError:
            return
        if state == ["Z"]:
            return
        time.sleep(0.05)


def kill_once(site_url: str, archive: Path, at: float, mode: str, chain: int, after_versions: int = 0) -> Kill:
    """Start a crawl, SIGKILL it (as `mode` says) `at` seconds later, or, with
    `after_versions`, `at` seconds after that many more version files are on disk (a kill
    in the middle of storing); then verify."""
    started = time.monotonic()
    target = versions_on_disk(archive) + after_versions
    parent = subprocess.Popen(crawl_command(site_url), env=env_for(archive), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    if after_versions:
        while versions_on_disk(archive) < target and parent.poll() is None and time.monotonic() - started < 60:
            time.sleep(0.005)
    time.sleep(at)
    at = time.monotonic() - started
    holder = read_holder(archive / CRAWL_LOCK) if (archive / CRAWL_LOCK).exists() else None
    child = holder.child_pid if holder and holder.pid == parent.pid else None
    before = versions_on_disk(archive)
    if mode == "both":
        _kill(parent.pid), _kill(child)
    elif mode == "child-first":
        _kill(child), _kill(parent.pid)
    elif mode == "child":
        _kill(child or parent.pid)
    else:
        _kill(parent.pid)
    parent.wait()
    _kill(child) if mode in ("both", "child-first") else None
    if mode == "parent":
        _wait_gone(child)  # the orphaned crawl finishes on its own, holding the lock
    _wait_gone(child)
    if not (archive / "kisi-archive.json").exists():
        # Killed before the archive was created: nothing to verify, and the folder (if
        # any) must not stand in the next crawl's way, which the follow-up crawl checks.
        return Kill(chain, round(at, 3), mode, before, True, [], False)
    report = verify(archive)
    return Kill(chain, round(at, 3), mode, before, report["exit_code"] == 0 and report["ok"], report["errors"],
                report["traceback"])


def run_chain(site_url: str, archive: Path, reference: dict[str, list[str]], kills: int, span: float,
              rng: random.Random, number: int = 0) -> Chain:
    """`kills` killed crawls into `archive`, each verified; then a crawl that completes,
    compared with `reference`."""
    started = time.monotonic()
    result = Chain(number)
    versions = sum(len(v) for v in reference.values())
    for n in range(kills):
        # Half the kills land while versions are being stored (after a random number of
        # them, a random few milliseconds more); the others at any instant of a crawl.
        if rng.random() < 0.5:
            kill = kill_once(site_url, archive, rng.uniform(0.05, span), rng.choice(MODES), number)
        else:
            kill = kill_once(site_url, archive, rng.uniform(0, 0.05), rng.choice(MODES), number,
                             after_versions=rng.randint(1, max(1, versions // 2)))
        result.kills.append(kill)
    crawl(site_url, archive)
    found = documents_of(archive)
    for doc_id, versions in reference.items():
        have = found.get(doc_id, [])
        result.lost += sum(1 for v in versions if v not in have)
    for doc_id, versions in found.items():
        result.extra += sum(1 for v in versions if v not in reference.get(doc_id, []))
    report = verify(archive)
    result.final_verify_ok = report["exit_code"] == 0 and report["ok"] and not report["traceback"]
    runs = subprocess.run([str(BIN), "runs", "--json"], env=env_for(archive), capture_output=True, text=True)
    result.left_running = sum(1 for run in json.loads(runs.stdout) if run["outcome"] == "running")
    result.seconds = time.monotonic() - started
    return result
