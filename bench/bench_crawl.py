"""What a routine run costs the site: requests and post pages per run, on a 500-post fixture.

    .venv/bin/python bench/bench_crawl.py [--posts 500] [--edits 5]

Builds the fixture WordPress site (three languages: Russian at the root, English /en/,
Kazakh /kz/) with N extra English event posts, then, given only the English category as
the built-in profile is, with the REST API
open and again with it refused (401), runs through the real `kisi-archive crawl`:
a first crawl, an unchanged re-crawl, a re-crawl after editing k posts, routine runs after
one post is trashed (until its tombstone appears), and a sweep run (the periodic
enumeration of every source). Prints, for each run, the requests the server received
(robots.txt apart), the post pages fetched, the wall time, ratios to the first crawl, and
the routine run at which the trashed post's tombstone appeared. Not a test: it asserts
nothing, it measures.
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

from scheduler.demo_site import Post, SiteProcess, default_state  # noqa: E402

NOT_POSTS = ("/robots.txt", "/wp-json", "/wp-sitemap", "/feed/", "/category/", "/?p=")


def is_post_page(path: str) -> bool:
    return not any(marker in path for marker in NOT_POSTS) and path not in ("/", "/en/")


def build_site(state_path: Path, posts: int) -> list[int]:
    state = default_state()
    ids = []
    for n in range(posts):
        day = f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:00:00"
        post = state.publish(Post(lang="en", title=f"Expert session number {n} on regional affairs",
                                  slug=f"expert-session-{n}", categories=["events"], date_gmt=day,
                                  content_html="".join(f"<p>Paragraph {p} of session {n}: experts discussed "
                                                       f"policy, economy and security in Central Asia.</p>"
                                                       for p in range(6))))
        ids.append(post.id)
    state.save(state_path)
    return ids


def crawl(site: SiteProcess, archive: Path, *extra: str, env_extra: dict[str, str] | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KISI_")}
    env.update(KISI_ARCHIVE_DIR=str(archive), KISI_DOWNLOAD_DELAY="0", KISI_CONTACT="https://example.org/bench",
               **(env_extra or {}))
    site.clear_requests()
    started = time.perf_counter()
    proc = subprocess.run([str(Path(sys.executable).parent / "kisi-archive"), "crawl", "--site", f"{site.url}/en/",
                           "--category", "events", "--json", *extra], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"crawl failed ({proc.returncode}): {proc.stderr}")
    requests = [r for r in site.requests() if r["path"] != "/robots.txt"]
    summary = json.loads(proc.stdout)
    return {"requests": len(requests), "posts": sum(1 for r in requests if is_post_page(r["path"])), "wall": wall,
            "summary": summary, "removed": summary["counts"].get("removed", 0)}


def scenario(label: str, tmp: Path, posts: int, edits: int, rest: str) -> list[tuple[str, dict]]:
    state_path, archive = tmp / f"{label}.json", tmp / f"{label}-archive"
    ids = build_site(state_path, posts)
    rows = []
    with SiteProcess(state_path, tmp / f"{label}.log") as site:
        with site.modify() as state:
            state.set_option("rest", rest)
        rows.append(("first crawl", crawl(site, archive)))
        rows.append(("unchanged re-crawl", crawl(site, archive)))
        with site.modify() as state:
            for post_id in ids[:edits]:
                state.edit(post_id, title=state.post(post_id).title + " (updated)")
        rows.append((f"after {edits} edits", crawl(site, archive)))
        with site.modify() as state:
            state.trash(ids[edits])
        for n in range(1, 5):
            row = crawl(site, archive)
            rows.append((f"after a trash, run {n}", row))
            if row["removed"]:
                row["tombstone"] = n
                break
        rows.append(("sweep run (removals)", crawl(site, archive, env_extra={"KISI_SWEEP_EVERY": "0s"})))
    return rows


def report(label: str, rows: list[tuple[str, dict]]) -> None:
    first = rows[0][1]
    print(f"\n{label}")
    print(f"  {'run':<24}{'requests':>9}{'post pages':>12}{'wall s':>9}{'req ratio':>11}{'pages ratio':>13}{'removed':>9}")
    for name, row in rows:
        print(f"  {name:<24}{row['requests']:>9}{row['posts']:>12}{row['wall']:>9.1f}"
              f"{row['requests'] / first['requests']:>11.3f}{row['posts'] / max(first['posts'], 1):>13.3f}"
              f"{row['removed']:>9}")
    tombstone = next((row["tombstone"] for _name, row in rows if "tombstone" in row), None)
    print("  tombstone of the trashed post: " + (f"routine run {tombstone} after the trash" if tombstone
                                                   else "not within 4 routine runs"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--edits", type=int, default=5)
    args = parser.parse_args()
    seeded = default_state()
    events = seeded.events_by_language()
    with tempfile.TemporaryDirectory(prefix="kisi-bench-") as tmp:
        what = (f"{args.posts + len(events['en'])} English, {len(events['ru'])} Russian, {len(events['kk'])} Kazakh "
                "event posts")
        open_rows = scenario("rest-open", Path(tmp), args.posts, args.edits, "open")
        report(f"REST API open ({what})", open_rows)
        refused_rows = scenario("rest-401", Path(tmp), args.posts, args.edits, "401")
        report(f"REST API refused with 401 ({what})", refused_rows)
    print("\nTargets (three languages): unchanged re-crawl <= 5 requests, REST open or refused;")
    print("         after k edits: k post pages + the routine requests; REST refused: no post page re-fetched unchanged;")
    print("         a post trashed between two routine runs: tombstone by the second routine run after the trash.")


if __name__ == "__main__":
    main()
