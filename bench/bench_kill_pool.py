"""Crash trials of the extraction pool: kill -9 the crawl child mid-crawl; no worker may outlive it.

(bench/bench_kill.py runs the archive's 50+ kill trials in every mode; this one watches the
crawl's worker processes and index batch around each kill.)

    .venv/bin/python bench/bench_kill_pool.py [--trials 12] [--posts 150] [--seed 1]

Builds the fixture site (scheduler.demo_site, served on 127.0.0.1) with N extra event
posts, crawls it once into a reference archive, then for each trial starts a first crawl
into an empty archive with the real `kisi-archive crawl`, sends SIGKILL to the crawl child
(`python -m crawler.run`) at a random instant while it stores posts (once a random number
of versions is on disk, after a random few milliseconds more), and checks:

  - no extraction worker outlives the killed crawl;
  - `kisi-archive verify` passes (it may report the index caught up, never an error);
  - a follow-up crawl leaves an archive equal to the reference: the same documents, each
    with the same versions (number, kind, content hash, URL, a raw body), and `verify`
    passes again.

Prints one line per trial and a summary; exits 1 if any trial lost or broke anything.
Takes a few minutes (it is not part of the test suite for that reason).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scheduler.demo_site import Post, SiteProcess, default_state  # noqa: E402

BIN = Path(sys.executable).parent / "kisi-archive"


def build_site(path: Path, posts: int) -> None:
    state = default_state()
    events = {lang: [c.slug for c in state.categories if c.lang == lang and c.translation_group == state.events_group]
              for lang in ("en", "ru")}
    for n in range(posts // 2):
        for lang in ("en", "ru"):
            state.publish(Post(lang=lang, slug=f"trial-{lang}-{n}", title=f"Trial post {n} ({lang})",
                               categories=events[lang], translation_group=f"trial-{n}",
                               date_gmt=f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:00:00",
                               content_html="".join(f"<p>Paragraph {p} of post {n}: experts discussed policy, "
                                                    f"economy and security in Central Asia.</p>" for p in range(8))))
    state.save(path)


def env_for(archive: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KISI_")}
    env.update(KISI_ARCHIVE_DIR=str(archive), KISI_DOWNLOAD_DELAY="0", KISI_CONCURRENCY="4",
               KISI_AUTOTHROTTLE_TARGET="4", KISI_CONTACT="https://example.org/bench-kill", KISI_TIMEOUT="30")
    return env


def cli(archive: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], env=env_for(archive), capture_output=True, text=True, timeout=600)


def crawl(site: SiteProcess, archive: Path) -> subprocess.CompletedProcess[str]:
    return cli(archive, "crawl", "--site", f"{site.url}/en/", "--category", "events", "--json")


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
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def stored(archive: Path) -> int:
    return sum(1 for _ in archive.glob("documents/*/v*.json"))


def fingerprint(archive: Path) -> dict[str, list[tuple[Any, ...]]]:
    """What the archive holds, without the times and run ids that differ between crawls."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for folder in sorted((archive / "documents").iterdir()):
        versions = []
        for path in sorted(folder.glob("v*.json")):
            snapshot = json.loads(path.read_text("utf-8"))
            # Not the raw body's hash: the fixture's pages carry a nonce and a views counter
            # that change with every request (verify checks each raw body against its hash).
            versions.append((snapshot["version"], snapshot["kind"], snapshot["content_sha256"], snapshot.get("url"),
                             bool(snapshot.get("raw"))))
        out[folder.name] = versions
    return out


def trial(site: SiteProcess, archive: Path, after: int, delay: float) -> dict[str, Any]:
    """Start a first crawl, SIGKILL its crawl child `delay` s after `after` versions are on
    disk, then check and recrawl."""
    proc = subprocess.Popen([str(BIN), "crawl", "--site", f"{site.url}/en/", "--category", "events", "--json"],
                            env=env_for(archive), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    child, workers = None, set()
    while proc.poll() is None and (child is None or stored(archive) < after):
        for pid in descendants(proc.pid):
            line = cmdline(pid)
            if "crawler.run" in line:
                child = pid
            elif "crawler.pool" in line:
                workers.add(pid)
        time.sleep(0.01)
    time.sleep(delay)
    killed = child is not None and proc.poll() is None
    before = stored(archive)
    if killed:
        os.kill(child, signal.SIGKILL)
    proc.wait(timeout=120)
    time.sleep(0.5)
    orphans = sorted(pid for pid in workers if alive(pid))
    pending = (archive / "index.pending").exists()
    verify = cli(archive, "verify", "--json")
    report = json.loads(verify.stdout) if verify.stdout.strip().startswith("{") else {"ok": False, "errors": [verify.stderr]}
    again = crawl(site, archive)
    final = cli(archive, "verify", "--json")
    return {"killed": killed, "stored_at_kill": before, "workers": len(workers), "orphans": orphans,
            "pending": pending, "verify_ok": verify.returncode == 0 and report.get("ok"),
            "repaired": report.get("repaired", []), "errors": report.get("errors", []),
            "recrawl": again.returncode, "final_ok": final.returncode == 0, "print": fingerprint(archive)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--posts", type=int, default=150)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="kisi-kill-") as tmp:
        work = Path(tmp)
        build_site(work / "site.json", args.posts)
        with SiteProcess(work / "site.json", work / "requests.log") as site:
            started = time.monotonic()
            reference = crawl(site, work / "reference")
            length = time.monotonic() - started
            if reference.returncode != 0:
                raise SystemExit(f"the reference crawl failed: {reference.stderr}")
            expected = fingerprint(work / "reference")
            print(f"reference: {len(expected)} documents in {length:.1f} s")
            bad = 0
            for n in range(args.trials):
                after, delay = rng.randint(1, len(expected) - 1), rng.uniform(0, 0.05)
                result = trial(site, work / f"trial-{n}", after, delay)
                same = result["print"] == expected
                problems = [what for what, failed in (
                    ("the crawl ended before the kill", not result["killed"]), (f"orphans {result['orphans']}", result["orphans"]),
                    (f"verify: {result['errors']}", not result["verify_ok"] or result["errors"]),
                    (f"recrawl exited {result['recrawl']}", result["recrawl"] != 0), ("final verify failed", not result["final_ok"]),
                    ("differs from the reference", not same)) if failed]
                ok = not problems
                bad += not ok
                print(f"trial {n + 1:2}: killed with {result['stored_at_kill']:3} versions stored, "
                      f"{result['workers']} workers, orphans {len(result['orphans'])}, index.pending left "
                      f"{'yes' if result['pending'] else 'no '}, verify {'ok' if result['verify_ok'] else 'FAILED'}"
                      f"{' (' + '; '.join(result['repaired']) + ')' if result['repaired'] else ''}, recrawl "
                      f"{'equals the reference' if same else 'DIFFERS from the reference'}"
                      f"{'' if ok else '  <-- ' + '; '.join(problems)}")
    print(f"\n{args.trials - bad} of {args.trials} trials lost nothing")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
