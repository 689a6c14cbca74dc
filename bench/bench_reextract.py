"""What `kisi-archive reextract --all` costs, in one process and on every CPU.

    .venv/bin/python bench/bench_reextract.py [--posts 300]

Crawls the fixture site with N extra posts (bench_crawl.build_site) into an archive, then
times `reextract --all --workers 0` (reading in the command's own process) and
`reextract --all` (one worker process per CPU), in alternation, twice each. Nothing
changes (the extractor is the same), so it measures reading and comparing. Not a test.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_crawl import build_site, crawl  # noqa: E402

from scheduler.demo_site import SiteProcess  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kisi-bench-reextract-") as tmp_name:
        tmp = Path(tmp_name)
        build_site(tmp / "site.json", args.posts)
        archive = tmp / "archive"
        with SiteProcess(tmp / "site.json", tmp / "site.log") as site:
            crawl(site, archive)
        env = {k: v for k, v in os.environ.items() if not k.startswith("KISI_")}
        env["KISI_ARCHIVE_DIR"] = str(archive)
        times: dict[str, list[float]] = {"1 process": [], "all CPUs": []}
        for _round in range(2):
            for label, extra in (("1 process", ["--workers", "0"]), ("all CPUs", [])):
                started = time.perf_counter()
                proc = subprocess.run([str(Path(sys.executable).parent / "kisi-archive"), "reextract", "--all",
                                       "--json", *extra], env=env, capture_output=True, text=True, check=True)
                times[label].append(time.perf_counter() - started)
                documents = json.loads(proc.stdout)["documents"]
        print(f"reextract --all of {documents} documents (cpus: {os.cpu_count()}):")
        for label, values in times.items():
            best = min(values)
            print(f"  {label:<10} {best:6.2f} s  ({documents / best:.0f} documents/s)")
        print(f"  speed-up {min(times['1 process']) / min(times['all CPUs']):.2f}x")


if __name__ == "__main__":
    main()
