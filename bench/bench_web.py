"""Benchmark of the web viewer's pages at 100,000 versions (not a test: it prints figures).

    .venv/bin/python bench/bench_web.py                  # the archive of bench_inspect.py (cached)
    .venv/bin/python bench/bench_web.py --runs 31        # more requests per page for the medians
    .venv/bin/python bench/bench_web.py --documents 2000 --versions 10000   # a quick look
    .venv/bin/python bench/bench_web.py --report         # print the last results again

What it does:
1. Reuses bench_inspect.py's synthetic archive (20,000 documents, 100,000 versions, en/ru/kk,
   generated through Archive.record_capture and cached under bench/out/), generating it
   when missing.
2. Starts the real `kisi-archive serve --port 0` on it and measures start-up: from the
   process's start to the first answered request.
3. Requests every kind of page over loopback: one first request (a fresh connection in the
   server thread that answers it), then --runs more. "server" is the handler's own time,
   from the `Server-Timing: app;dur=…` header every response carries; "wall" is the whole
   request as the client saw it (HTTP included).
4. Prints a table with each median server time and its ratio to the target (100 ms, issue
   12), and writes bench/out/web-results.json.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import bench_inspect  # noqa: E402 - the archive generator, shared

OUT = bench_inspect.OUT
BIN = Path(sys.executable).parent / "kisi-archive"
TARGET_MS = 100.0
STARTUP_TARGET_S = 1.0


def start(archive: Path) -> tuple[subprocess.Popen[str], str, float]:
    """`kisi-archive serve --port 0`; (process, base URL, seconds until it answered)."""
    command = [str(BIN)] if BIN.exists() else [sys.executable, "-m", "scheduler.cli"]
    env = {**os.environ, "KISI_ARCHIVE_DIR": str(archive)}
    started = time.perf_counter()
    process = subprocess.Popen([*command, "serve", "--port", "0", "--no-access-log"], env=env, text=True,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    line = process.stderr.readline()
    found = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
    if not found:
        process.kill()
        raise SystemExit(f"serve did not start: {line}{process.stderr.read()}")
    url = found.group(1)
    while True:
        try:
            request(url, "/healthz")
            break
        except OSError:
            time.sleep(0.01)
    return process, url, time.perf_counter() - started


def request(url: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, float, float, int]:
    """(status, server ms, wall ms, body bytes) of one GET."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    started = time.perf_counter()
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        wall = (time.perf_counter() - started) * 1000
        timing = response.getheader("server-timing") or ""
    finally:
        conn.close()
    match = re.search(r"dur=([\d.]+)", timing)
    return response.status, float(match.group(1)) if match else float("nan"), wall, len(body)


def ensure_reindexed(archive: Path) -> None:
    """Measure the index as `reindex` builds it (as bench_inspect.py does), of the current schema."""
    from storage.index import INDEX_SCHEMA

    stamp = archive / "web-reindexed.json"
    if stamp.exists() and json.loads(stamp.read_text()).get("schema") == INDEX_SCHEMA:
        return
    print("reindexing the archive (as `reindex` builds it)…", flush=True)
    command = [str(BIN)] if BIN.exists() else [sys.executable, "-m", "scheduler.cli"]
    subprocess.run([*command, "reindex", "--archive", str(archive)], check=True, stdout=subprocess.DEVNULL)
    stamp.write_text(json.dumps({"schema": INDEX_SCHEMA}))


def pick(archive: Path) -> dict[str, Any]:
    conn = sqlite3.connect(f"file:{archive / 'index.sqlite'}?mode=ro", uri=True)
    busiest, busiest_versions = conn.execute(
        "SELECT doc_id, versions FROM documents ORDER BY versions DESC, doc_id LIMIT 1").fetchone()
    typical = conn.execute("SELECT doc_id FROM documents WHERE versions = 3 ORDER BY doc_id LIMIT 1").fetchone()[0]
    url = conn.execute("SELECT url FROM documents WHERE doc_id = ?", (typical,)).fetchone()[0]
    conn.close()
    return {"busiest": busiest, "busiest_versions": busiest_versions, "typical": typical, "typical_url": url,
            "post": typical.rsplit("-", 1)[1]}


def pages(d: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    busiest, typical, last = d["busiest"], d["typical"], d["busiest_versions"]
    shortlink = f"https://kisi.kz/?p={d['post']}"
    return [
        ("documents (first page)", "/", {}),
        ("documents, filtered (ru, since 2020, События, by title)",
         "/?lang=ru&since=2020&category=" + quote("События") + "&sort=title", {}),
        ("documents --changed by -versions, page 10", "/?changed=1&sort=-versions&page=10", {}),
        ("documents, translations side by side", "/?groups=1", {}),
        ("documents.json (first page)", "/documents.json", {}),
        ("search: common word, ranked", "/search?q=experts", {}),
        ("search: Cyrillic prefix, ru", "/search?q=" + quote("безопасност*") + "&lang=ru", {}),
        ("search: Kazakh, stem", "/search?q=" + quote("сарапшылардың") + "&stem=1", {}),
        ("search: phrase, every version", "/search?q=" + quote('"round table"') + "&all_versions=1", {}),
        ("search.json: rare word", "/search.json?q=Nurbekzhan", {}),
        (f"document (busiest, {last} versions)", f"/doc/{busiest}", {}),
        ("document (3 versions)", f"/doc/{typical}", {}),
        (f"version page (busiest, v{last})", f"/doc/{busiest}/v{last}", {}),
        ("version .json", f"/doc/{typical}/v1.json", {}),
        ("raw page", f"/doc/{typical}/v1/raw", {}),
        ("diff: last two versions, side by side", f"/doc/{typical}/diff", {}),
        (f"diff: v1 → v{last} (busiest), inline", f"/doc/{busiest}/diff?from=1&view=inline", {}),
        (f"diff: v1 → v{last} (busiest), whole text", f"/doc/{busiest}/diff?from=1&context=100000", {}),
        ("changes (newest 50)", "/changes", {}),
        ("changes.atom", "/changes.atom", {}),
        ("changes.atom?kind=edit&lang=kk", "/changes.atom?kind=edit&lang=kk", {}),
        ("timegate (shortlink, Accept-Datetime)", f"/timegate/{shortlink}",
         {"Accept-Datetime": "Tue, 11 Sep 2001 20:35:00 GMT"}),
        ("timemap (busiest)", f"/timemap/link/https://kisi.kz/?p={busiest.rsplit('-', 1)[1]}", {}),
        ("healthz", "/healthz", {}),
        ("metrics", "/metrics", {}),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15, help="requests per page after the first (median reported)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes that generate")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    archive = OUT / f"archive-{args.documents}d-{args.versions}v"
    generated = bench_inspect.generate(archive, args.documents, args.versions, seed=args.seed, workers=args.workers,
                                       durable=False)
    ensure_reindexed(archive)
    chosen = pick(archive)
    startups = []
    for _ in range(3):
        process, url, seconds = start(archive)
        startups.append(seconds)
        process.terminate()
        process.wait()
    process, url, _ = start(archive)
    results: dict[str, Any] = {"generated": generated, "startup_s": startups, "pages": []}
    try:
        for name, path, headers in pages(chosen):
            status, first_server, first_wall, size = request(url, path, headers)
            # No run is recorded in the synthetic archive: /healthz rightly says 503 (stale).
            if status not in (200, 302) and not (path == "/healthz" and status == 503):
                raise SystemExit(f"{name}: {path} answered {status}")
            timings = [request(url, path, headers) for _ in range(args.runs)]
            results["pages"].append({
                "name": name, "path": path, "status": status, "bytes": size,
                "first_server_ms": first_server, "first_wall_ms": first_wall,
                "server_ms": statistics.median(t[1] for t in timings), "wall_ms": statistics.median(t[2] for t in timings),
                "max_server_ms": max(t[1] for t in timings)})
            print(f"  {name}: {results['pages'][-1]['server_ms']:.1f} ms", flush=True)
    finally:
        process.terminate()
        process.wait()
    (OUT / "web-results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    report(results)


def report(results: dict[str, Any]) -> None:
    g = results["generated"]
    print()
    print(f"Archive: {g['documents']} documents, {g['versions']} versions")
    startup = statistics.median(results["startup_s"])
    print(f"start-up (process start → first answer): {startup:.2f} s median of {len(results['startup_s'])}; "
          f"target {STARTUP_TARGET_S:.1f} s, ratio {startup / STARTUP_TARGET_S:.2f}")
    print(f"{'page':<58} {'first ms':>8} {'server ms':>9} {'max ms':>7} {'wall ms':>8} {'target':>6} {'ratio':>6} {'KiB':>6}")
    for row in results["pages"]:
        print(f"{row['name']:<58} {row['first_server_ms']:>8.1f} {row['server_ms']:>9.1f} {row['max_server_ms']:>7.1f} "
              f"{row['wall_ms']:>8.1f} {TARGET_MS:>6.0f} {row['server_ms'] / TARGET_MS:>6.2f} {row['bytes'] / 1024:>6.0f}")
    worst = max(results["pages"], key=lambda r: r["server_ms"])
    print(f"slowest median: {worst['name']} at {worst['server_ms']:.1f} ms ({worst['server_ms'] / TARGET_MS:.2f} of the target)")


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "--report":
        report(json.loads((OUT / "web-results.json").read_text()))
    else:
        main()
