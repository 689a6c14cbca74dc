"""What writing WARC costs the crawl: throughput with and without it, and the cost per record.

    .venv/bin/python bench/bench_warc.py [--posts 300] [--rounds 3]

Builds the fixture site with N extra English event posts (bench_crawl.build_site), then
runs the real `kisi-archive crawl --full` into one archive per setting, alternating WARC on
(the default) and off (KISI_WARC=0) for `rounds` rounds, and prints pages per second of
each, the overhead of WARC in per cent (median of the rounds), on wall time and on the CPU
time of the crawl processes (steadier on a shared machine), and the WARC bytes per request. Then, in this process, the cost of one WarcLog.write of a post page next to one
extraction of it. Not a test: it asserts nothing, it measures. Target: overhead < 15 %.
"""
from __future__ import annotations

import argparse
import gzip
import resource
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_crawl import build_site, crawl  # noqa: E402

from scheduler.demo_site import SiteProcess  # noqa: E402


def per_record(archive: Path, samples: int = 200) -> None:
    from crawler.extract import decode_html_ex, extract_page
    from storage.warcfiles import Exchange, WarcLog

    doc = next((archive / "documents").iterdir())
    raw = next(doc.glob("v0001.html.gz"))
    body = gzip.decompress(raw.read_bytes())
    headers = [("Content-Type", "text/html; charset=UTF-8"), ("Content-Length", str(len(body)))]
    with tempfile.TemporaryDirectory() as tmp:
        log = WarcLog(Path(tmp), "bench.warc.gz", {"software": "bench"})
        started = time.perf_counter()
        for n in range(samples):
            log.write(Exchange(url=f"http://127.0.0.1/p/{n}/", method="GET", request_headers=[("User-Agent", "b")],
                               status=200, response_headers=headers, body=body + str(n).encode(),
                               fetched_at=datetime.now(timezone.utc)))
        write = (time.perf_counter() - started) / samples
        log.close()
    started = time.perf_counter()
    for _ in range(samples // 4):
        extract_page(decode_html_ex(body, "text/html; charset=UTF-8"), "http://127.0.0.1/p/")
    extract = (time.perf_counter() - started) / (samples // 4)
    print(f"\nper post page ({len(body)} bytes): WARC write {write * 1000:.2f} ms (response + request records, "
          f"digests, gzip), extraction {extract * 1000:.2f} ms; ratio {write / extract:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kisi-bench-warc-") as tmp_name:
        tmp = Path(tmp_name)
        build_site(tmp / "site.json", args.posts)
        rates: dict[str, list[float]] = {"on": [], "off": []}
        cpu: dict[str, list[float]] = {"on": [], "off": []}
        sizes = []
        with SiteProcess(tmp / "site.json", tmp / "site.log") as site:
            for setting in ("on", "off"):  # first crawls (and warm caches) before measuring
                crawl(site, tmp / f"archive-{setting}", env_extra={"KISI_WARC": "1" if setting == "on" else "0"})
            for round_ in range(args.rounds):
                for setting in (("on", "off") if round_ % 2 == 0 else ("off", "on")):
                    archive = tmp / f"archive-{setting}"
                    before = resource.getrusage(resource.RUSAGE_CHILDREN)
                    row = crawl(site, archive, "--full", env_extra={"KISI_WARC": "1" if setting == "on" else "0"})
                    after = resource.getrusage(resource.RUSAGE_CHILDREN)
                    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                    rates[setting].append(row["posts"] / row["wall"])
                    cpu[setting].append(used / row["posts"])
                    if setting == "on":
                        newest = max((archive / "warc").glob("*.warc.gz"), key=lambda p: p.stat().st_mtime)
                        sizes.append(newest.stat().st_size / max(row["requests"], 1))
                    print(f"round {round_ + 1} WARC {setting:<3}: {row['posts']} post pages, {row['requests']} requests "
                          f"in {row['wall']:.1f} s = {row['posts'] / row['wall']:.1f} pages/s, "
                          f"{1000 * cpu[setting][-1]:.1f} ms CPU per page")
            per_record(tmp / "archive-on")
        on, off = statistics.median(rates["on"]), statistics.median(rates["off"])
        print(f"\n--full crawl of {args.posts}+ posts, median of {args.rounds}: WARC on {on:.1f} pages/s, "
              f"off {off:.1f} pages/s; WARC overhead {100 * (off - on) / off:+.1f} % (target < 15 %)")
        cpu_on, cpu_off = statistics.median(cpu["on"]), statistics.median(cpu["off"])
        print(f"CPU of the crawl processes per post page: WARC on {1000 * cpu_on:.1f} ms, off {1000 * cpu_off:.1f} ms; "
              f"overhead {100 * (cpu_on - cpu_off) / cpu_off:+.1f} %")
        print(f"WARC bytes per request (gzip, response + request records): {statistics.median(sizes):.0f}")


if __name__ == "__main__":
    main()
