"""How fast a first crawl goes, next to bare Scrapy and trafilatura on the same pages.

    .venv/bin/python bench/bench_throughput.py                       # 2,000 posts, 3 rounds
    .venv/bin/python bench/bench_throughput.py --posts 2000 8000     # both sizes (RSS must stay flat)
    .venv/bin/python bench/bench_throughput.py --posts 300 --rounds 1  # a quick look
    .venv/bin/python bench/bench_throughput.py --polite 60           # CPU share at the default delay
    .venv/bin/python bench/bench_throughput.py --report              # the last results again

Builds the fixture WordPress site (scheduler.demo_site) with N event posts, half English and
half their Russian translations (one Russian post in twenty served in windows-1251, as
kisi.kz does), with the bodies of bench/bench_extract.py (6-24 paragraphs, one post in five
a long report) and its pages brought to 60-120 KB of HTML the way real WordPress pages get
there (bench_extract's `_inflate`: menus, inline styles and scripts, footer widgets). The
site is served on 127.0.0.1 by the fixture's own server code with two changes, both for
the benchmark's sake: the state is read once (the fixture re-reads its JSON file on every
request: 150 ms at 2,000 posts), and every answer is kept once rendered, as a WordPress
page cache (WP Super Cache, nginx's fastcgi_cache) would, so the site costs the crawl
little CPU on this shared 2-core machine. A warm-up crawl fills that cache.

Then, in rounds (the order of the four rotates from round to round, so that a change of
load on the shared machine hits them alike; the median of the rounds is reported):

  bare Scrapy       a minimal Scrapy spider that fetches the same post URLs the crawl
                    stores, at the same concurrency, and does nothing with them;
  trafilatura       `trafilatura.extract(html)` on the same pages (saved from the site,
                    decoded beforehand), one after the other, in one process (one core);
  our extraction    `decode_html_ex` + `extract_page` on the same pages, in one process;
  crawl             the real `kisi-archive crawl` into an empty archive (a first crawl:
                    discovery, every post and its translation, snapshots, raw bodies,
                    index), delay 0, concurrency raised (--concurrency, default 8).

Each runs as its own process tree. Printed: pages/s (post pages over the wall time of the
whole process, start-up included, except for the two extraction loops, which time their
loop only), the CPU seconds of the whole process tree (getrusage of the waited-for
children), the CPU seconds the site used meanwhile, the peak RSS of the whole tree (the
sum over its processes, sampled every 50 ms) and of its largest process, and the ratios
crawl / trafilatura and crawl / bare Scrapy. Results are kept in bench/out/. Not a test:
it asserts nothing, it measures.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import pickle
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

OUT = ROOT / "bench" / "out"
RESULTS = OUT / "throughput-results.json"
SCRATCH = Path(tempfile.gettempdir()) / f"kisi-throughput-{os.getpid()}"  # every crawl's archive, until the end
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
MODES = ("bare Scrapy", "trafilatura.extract, 1 process", "our extraction, 1 process", "crawl")


# --- the site -----------------------------------------------------------------------------------


def build_site(path: Path, posts: int, seed: int = 1) -> None:
    """The seeded fixture site plus `posts` event posts (English, each with its Russian
    translation), many categories and pages in the menus, bodies like bench_extract's."""
    from bench_extract import _body, _paragraphs_by_language, _word

    from scheduler.demo_site import Category, Post, default_state

    rng = random.Random(seed)
    state = default_state()
    paragraphs = _paragraphs_by_language(state)
    next_id = 900
    for lang in ("ru", "en", "kk"):
        for n in range(24):
            state.categories.append(Category(id=next_id, lang=lang, slug=f"{lang}-rubric-{n}",
                                             name=_word(rng, paragraphs[lang], 2)))
            next_id += 1
        for n in range(12):
            state.publish(Post(lang=lang, slug=f"{lang}-page-{n}", title=_word(rng, paragraphs[lang], 3),
                               post_type="page", content_html="<p>" + rng.choice(paragraphs[lang]) + "</p>",
                               date_gmt="2020-01-01T00:00:00"))
    events = {lang: [c.slug for c in state.categories if c.lang == lang and c.translation_group == state.events_group]
              for lang in ("en", "ru")}
    for n in range(posts // 2):
        day = f"20{14 + n % 11:02d}-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00"
        for lang in ("en", "ru"):
            charset = "windows-1251" if lang == "ru" and n % 20 == 3 else "utf-8"
            state.publish(Post(lang=lang, slug=f"bench-{lang}-{n}", title=_word(rng, paragraphs[lang], 8),
                               content_html=_body(rng, paragraphs[lang]), date_gmt=day, categories=events[lang],
                               tags=[_word(rng, paragraphs[lang], 1) for _ in range(n % 4)],
                               translation_group=f"bench-{n}", charset=charset))
    path.parent.mkdir(parents=True, exist_ok=True)
    state.save(path)


def serve(state_path: Path) -> int:
    """The fixture site's server, with the state read once and every answer kept (see the
    module's docstring); HTML answers of 200 brought to 60-120 KB by bench_extract's _inflate."""
    from bench_extract import _inflate, _paragraphs_by_language, _word

    from scheduler.demo_site.render import Request, render
    from scheduler.demo_site.server import DemoHandler, DemoServer
    from scheduler.demo_site.state import SiteState

    state = SiteState.load(state_path)
    _memoize_queries(state)
    paragraphs = _paragraphs_by_language(state)
    cache: dict[tuple[Any, ...], Any] = {}
    lock = threading.Lock()

    class CachedHandler(DemoHandler):
        def _respond(self, _state):  # type: ignore[no-untyped-def]
            key = (self.command, self.path, self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since"))
            with lock:
                found = cache.get(key)
            if found is not None:
                return found
            response = render(state, Request(self.command, self.path, dict(self.headers.items())), self.server.context())
            if response.status == 200 and (response.header("Content-Type") or "").startswith("text/html"):
                rng = random.Random(zlib.crc32(self.path.encode()))
                lang = "en" if self.path.startswith("/en/") else "ru"
                labels = [_word(rng, paragraphs[lang], 6) for _ in range(40)]
                response.body = _inflate(response.body, rng, rng.randint(60_000, 120_000), labels)
            with lock:
                cache[key] = response
            return response

    server = DemoServer(("127.0.0.1", 0), state_path, None)
    server.RequestHandlerClass = CachedHandler
    server.load_state = lambda: state  # type: ignore[method-assign]  # read once, above
    print(f"READY {server.root}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


def _memoize_queries(state: Any) -> None:
    """The state never changes while the benchmark serves it: remember the answers of the
    queries every page makes over all posts (the menu's categories, the newest posts, the
    translations), which cost 400 ms a page at 8,000 posts."""
    published = functools.lru_cache(maxsize=None)(state.published)
    by_category: dict[tuple[str, str], list[Any]] = {}
    groups: dict[Any, dict[str, Any]] = {}
    translations = state.translations

    def posts_in(cat: Any) -> list[Any]:
        key = (cat.lang, cat.slug)
        if key not in by_category:
            by_category[key] = [p for p in published("post", cat.lang) if cat.slug in p.categories]
        return by_category[key]

    def translations_of(post: Any) -> dict[str, Any]:
        key = post.translation_group or ("post", post.id)
        if key not in groups:
            groups[key] = translations(post)
        return groups[key]

    state.published, state.posts_in, state.translations = published, posts_in, translations_of


class Site:
    """The benchmark's site server, a child process of this one."""

    def __init__(self, state_path: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, __file__, "--serve", str(state_path)], stdout=subprocess.PIPE)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("READY "):
            raise SystemExit(f"the site did not start: {line!r}")
        self.url = line.split(" ", 1)[1]

    def cpu(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()


# --- measuring a process tree -------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            found += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    except OSError:
        pass
    return found


def _rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
    except (OSError, IndexError):
        return 0


class TreeSampler(threading.Thread):
    """Samples the RSS of a process and all its descendants every 50 ms: the peak of their sum
    and of the largest one."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_tree, self.peak_process, self.most = pid, 0, 0, 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            tree, todo = [], [self.pid]
            while todo:
                pid = todo.pop()
                tree.append(pid)
                todo += _children(pid)
            sizes = [_rss(pid) for pid in tree]
            self.peak_tree = max(self.peak_tree, sum(sizes))
            self.peak_process = max(self.peak_process, max(sizes, default=0))
            self.most = max(self.most, len(tree))
            self.stopping.wait(0.05)


def run_measured(argv: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a command; its wall time, the CPU of its whole tree, its peak RSS, its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    sampler.stopping.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} … exited {proc.returncode}:\n{err[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "rss_tree": sampler.peak_tree, "rss_process": sampler.peak_process,
            "processes": sampler.most, "out": out}


# --- the four measurements ----------------------------------------------------------------------


def crawl_env(archive: Path, concurrency: int, delay: str = "0", extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KISI_")}
    # At delay 0 AutoThrottle off too, as in bare Scrapy: the crawl then fetches as fast as its
    # concurrency allows (at the default delay it stays on, as it is by default).
    env.update(KISI_AUTOTHROTTLE="off" if float(delay) == 0 else "on")
    env.update(KISI_ARCHIVE_DIR=str(archive), KISI_DOWNLOAD_DELAY=delay, KISI_CONCURRENCY=str(concurrency),
               KISI_AUTOTHROTTLE_TARGET=str(concurrency), KISI_CONTACT="https://example.org/bench",
               KISI_TIMEOUT="60", **(extra or {}))
    return env


def measure_crawl(site: Site, scratch: Path, concurrency: int, delay: str = "0",
                  extra: dict[str, str] | None = None) -> dict[str, Any]:
    # The archive is kept until the whole benchmark ends (SCRATCH): on ext4 without a journal,
    # as here, creating files in the minutes after thousands were deleted makes the kernel
    # step over every recently deleted inode (ialloc.c, recently_deleted), which had the
    # next crawl's writer spend 4 ms of system time per version (perf).
    archive = Path(tempfile.mkdtemp(prefix="archive-", dir=scratch))
    cpu_site = site.cpu()
    result = run_measured([str(Path(sys.executable).parent / "kisi-archive"), "crawl", "--site", f"{site.url}/en/",
                           "--category", "events", "--json"], crawl_env(archive, concurrency, delay, extra))
    result["site_cpu"] = site.cpu() - cpu_site
    counts = json.loads(result.pop("out"))["counts"]
    result["pages"] = counts["new_documents"]
    result["errors"] = counts["errors"]
    result["requests"] = counts["requests"]
    result["urls"] = _stored_urls(archive)
    return result


def _stored_urls(archive: Path) -> list[str]:
    """The URLs the crawl stored, as it fetched them (first version of each document)."""
    urls = []
    for path in sorted(archive.glob("documents/*/v0001.json")):
        snapshot = json.loads(path.read_text("utf-8"))
        urls.append(snapshot.get("final_url") or snapshot["url"])
    return urls


def measure_bare(site: Site, urls_file: Path, pages: int, concurrency: int) -> dict[str, Any]:
    cpu_site = site.cpu()
    result = run_measured([sys.executable, __file__, "--bare", str(urls_file), "--concurrency", str(concurrency)])
    result["site_cpu"] = site.cpu() - cpu_site
    result["pages"] = json.loads(result.pop("out").strip().splitlines()[-1])["pages"]
    return result


def measure_loop(mode: str, pages_file: Path) -> dict[str, Any]:
    result = run_measured([sys.executable, __file__, "--loop", mode, str(pages_file)])
    loop = json.loads(result.pop("out").strip().splitlines()[-1])
    result.update(pages=loop["pages"], wall=loop["wall"], loop_cpu=loop["cpu"], site_cpu=0.0)
    return result


def bare_scrapy(urls_file: Path, concurrency: int) -> int:
    """A minimal Scrapy crawl of these URLs: fetch, count, nothing else."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    urls = urls_file.read_text("utf-8").split()
    fetched = []

    class Bare(scrapy.Spider):
        name = "bare"

        async def start(self):  # type: ignore[no-untyped-def]
            for url in urls:
                yield scrapy.Request(url, dont_filter=True)

        def parse(self, response):  # type: ignore[no-untyped-def]
            fetched.append(len(response.body))

    process = CrawlerProcess({"CONCURRENT_REQUESTS": concurrency, "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
                              "DOWNLOAD_DELAY": 0, "ROBOTSTXT_OBEY": False, "LOG_LEVEL": "WARNING",
                              "TELNETCONSOLE_ENABLED": False, "COOKIES_ENABLED": False})
    process.crawl(Bare)
    process.start()
    print(json.dumps({"pages": len(fetched)}))
    return 0


def extraction_loop(mode: str, pages_file: Path) -> int:
    """One mode over the saved pages, one page after the other; prints the loop's wall and CPU."""
    import trafilatura

    from crawler.extract import decode_html, decode_html_ex, extract_page

    pages = pickle.loads(pages_file.read_bytes())
    if mode == "trafilatura":
        texts = [decode_html(body, ctype) for body, ctype, _url, _link in pages]
        trafilatura.extract(texts[0])  # warm-up: lazily built parts
        started, cpu = time.perf_counter(), time.process_time()
        for text in texts:
            trafilatura.extract(text)
    else:
        body, ctype, url, link = pages[0]
        extract_page(decode_html_ex(body, ctype), url, link)
        started, cpu = time.perf_counter(), time.process_time()
        for body, ctype, url, link in pages:
            extract_page(decode_html_ex(body, ctype), url, link)
    print(json.dumps({"pages": len(pages), "wall": time.perf_counter() - started, "cpu": time.process_time() - cpu}))
    return 0


def save_pages(site: Site, urls: list[str], path: Path, limit: int) -> dict[str, Any]:
    """Fetch the pages the crawl stored (evenly spaced, at most `limit`) and keep them for the
    extraction loops: body, Content-Type, URL, Link header."""
    from urllib.request import urlopen

    step = max(1, len(urls) // limit) if limit else 1
    chosen = urls[::step][:limit] if limit else urls

    def fetch(url: str) -> tuple[bytes, str | None, str, str | None]:
        with urlopen(url, timeout=60) as answer:
            links = answer.headers.get_all("Link") or []
            return answer.read(), answer.headers.get("Content-Type"), answer.url, ", ".join(links) or None

    with ThreadPoolExecutor(4) as pool:
        pages = list(pool.map(fetch, chosen))
    path.write_bytes(pickle.dumps(pages))
    sizes = sorted(len(p[0]) for p in pages)
    return {"saved": len(pages), "html_kb": [sizes[0] / 1000, statistics.median(sizes) / 1000, sizes[-1] / 1000],
            "ru": sum("/en/" not in p[2] for p in pages), "en": sum("/en/" in p[2] for p in pages)}


# --- the run ------------------------------------------------------------------------------------


def bench_size(posts: int, rounds: int, concurrency: int, extract_pages: int, workers: str | None) -> dict[str, Any]:
    work = OUT / f"throughput-{posts}"
    state = work / "site.json"
    if not state.exists():
        started = time.perf_counter()
        build_site(state, posts)
        print(f"  built the site in {time.perf_counter() - started:.1f} s")
    extra = {"KISI_EXTRACT_WORKERS": workers} if workers else None
    site = Site(state)
    scratch = Path(tempfile.mkdtemp(prefix="kisi-throughput-", dir=SCRATCH))
    try:
        warm = measure_crawl(site, scratch, concurrency, extra=extra)  # fills the site's cache
        urls_file = work / "urls.txt"
        urls_file.write_text("\n".join(warm["urls"]) + "\n", "utf-8")
        pages_file = work / "pages.pickle"
        saved = save_pages(site, warm["urls"], pages_file, extract_pages)
        print(f"  warm-up crawl: {warm['pages']} posts stored in {warm['wall']:.1f} s, {warm['errors']} errors; "
              f"{saved['saved']} pages saved for the extraction loops (en {saved['en']}, ru {saved['ru']}; HTML "
              f"{saved['html_kb'][0]:.0f}-{saved['html_kb'][2]:.0f} KB, median {saved['html_kb'][1]:.0f} KB)")
        runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
        for r in range(rounds):
            order = MODES[r % len(MODES):] + MODES[:r % len(MODES)]
            for mode in order:
                if mode == "crawl":
                    result = measure_crawl(site, scratch, concurrency, extra=extra)
                    result.pop("urls")
                elif mode == "bare Scrapy":
                    result = measure_bare(site, urls_file, len(warm["urls"]), concurrency)
                else:
                    result = measure_loop("trafilatura" if mode.startswith("trafilatura") else "ours", pages_file)
                runs[mode].append(result)
                print(f"  round {r + 1} {mode}: {result['pages'] / result['wall']:.1f} pages/s, "
                      f"CPU {result['cpu']:.1f} s, RSS {result['rss_tree'] / 2**20:.0f} MB", flush=True)
    finally:
        site.stop()
    return {"posts": posts, "stored": warm["pages"], "concurrency": concurrency, "rounds": rounds, "saved": saved,
            "runs": runs}


def polite(posts: int) -> dict[str, Any]:
    """One crawl at the default politeness (delay 1 s, concurrency 2): its CPU over its wall time."""
    work = OUT / f"throughput-{posts}"
    state = work / "site.json"
    if not state.exists():
        build_site(state, posts)
    site = Site(state)
    scratch = Path(tempfile.mkdtemp(prefix="kisi-throughput-", dir=SCRATCH))
    try:
        env_delay = "1.0"
        result = measure_crawl(site, scratch, 2, env_delay)
    finally:
        site.stop()
    result.pop("urls")
    result["posts"] = posts
    return result


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def report(results: dict[str, Any]) -> None:
    for size in results.get("sizes", []):
        runs = size["runs"]
        saved = size["saved"]
        print(f"\n{size['posts']} posts ({size['stored']} stored by a crawl: the bench's posts and the fixture's own), "
              f"concurrency {size['concurrency']}, median of {size['rounds']} rounds; extraction loops on "
              f"{saved['saved']} of the pages (en {saved['en']}, ru {saved['ru']}; HTML {saved['html_kb'][0]:.0f}-"
              f"{saved['html_kb'][2]:.0f} KB, median {saved['html_kb'][1]:.0f} KB)")
        print(f"  {'':32} {'pages/s':>8} {'wall s':>7} {'CPU s':>7} {'CPU ms/page':>12} {'site CPU s':>11} "
              f"{'RSS tree MB':>12} {'largest MB':>11} {'procs':>6}")
        rate = {}
        for mode in MODES:
            if not runs[mode]:
                continue
            rate[mode] = statistics.median(run["pages"] / run["wall"] for run in runs[mode])
            cpu = _median(runs[mode], "cpu")
            pages = _median(runs[mode], "pages")
            print(f"  {mode:32} {rate[mode]:8.1f} {_median(runs[mode], 'wall'):7.1f} {cpu:7.1f} "
                  f"{cpu / pages * 1000:12.1f} {_median(runs[mode], 'site_cpu'):11.1f} "
                  f"{max(r['rss_tree'] for r in runs[mode]) / 2**20:12.0f} "
                  f"{max(r['rss_process'] for r in runs[mode]) / 2**20:11.0f} {max(r['processes'] for r in runs[mode]):6}")
        if "crawl" in rate:
            print(f"  crawl / trafilatura.extract on one core: {rate['crawl'] / rate[MODES[1]]:.2f}   "
                  f"crawl / bare Scrapy: {rate['crawl'] / rate[MODES[0]]:.2f}   "
                  f"crawl / our extraction on one core: {rate['crawl'] / rate[MODES[2]]:.2f}")
            # The same ratios round by round: each round's crawl next to the runs of its round
            # (a change of load on the shared machine hits a round's runs alike).
            paired = [(c["pages"] / c["wall"]) / (t["pages"] / t["wall"]) for c, t in zip(runs["crawl"], runs[MODES[1]])]
            bare = [(c["pages"] / c["wall"]) / (b["pages"] / b["wall"]) for c, b in zip(runs["crawl"], runs[MODES[0]])]
            print(f"  by round, crawl / trafilatura: {', '.join(f'{x:.2f}' for x in paired)} (median "
                  f"{statistics.median(paired):.2f}); crawl / bare Scrapy: {', '.join(f'{x:.2f}' for x in bare)}")
            cpu = {mode: _median(runs[mode], "cpu") / _median(runs[mode], "pages") for mode in (MODES[1], "crawl")}
            print(f"  CPU per page, crawl (whole tree) / trafilatura: {cpu['crawl'] / cpu[MODES[1]]:.2f}: on "
                  f"{os.cpu_count()} idle CPUs fully used the crawl would go {os.cpu_count() * cpu[MODES[1]] / cpu['crawl']:.2f} "
                  f"times as fast as trafilatura on one")
    if results.get("polite"):
        p = results["polite"]
        print(f"\nat the default politeness (delay 1 s, concurrency 2), {p['pages']} posts: {p['wall']:.0f} s, "
              f"CPU {p['cpu']:.1f} s = {p['cpu'] / p['wall'] * 100:.1f} % of one core; "
              f"{p['requests']} requests, {p['requests'] / p['wall']:.2f} a second; peak RSS {p['rss_tree'] / 2**20:.0f} MB")
    print(f"\nmachine: {os.cpu_count()} CPUs; load average at the end {os.getloadavg()[0]:.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, nargs="+", default=[2000], help="site sizes (default 2000)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds, the median is kept (default 3)")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent requests (default 8)")
    parser.add_argument("--extract-pages", type=int, default=2000,
                        help="pages the extraction loops use, evenly spaced among the stored ones (default 2000)")
    parser.add_argument("--workers", help="KISI_EXTRACT_WORKERS for the crawl (default: its own default, auto)")
    parser.add_argument("--polite", type=int, metavar="POSTS", help="also one crawl of a POSTS-post site at the default delay")
    parser.add_argument("--report", action="store_true", help="print the last results again")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--bare", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--loop", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args.serve)
    if args.bare:
        return bare_scrapy(args.bare, args.concurrency)
    if args.loop:
        return extraction_loop(args.loop[0], Path(args.loop[1]))
    if args.report:
        report(json.loads(RESULTS.read_text("utf-8")))
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    SCRATCH.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"sizes": []}
    try:
        for posts in args.posts:
            print(f"{posts} posts:", flush=True)
            results["sizes"].append(bench_size(posts, args.rounds, args.concurrency, args.extract_pages, args.workers))
        if args.polite:
            results["polite"] = polite(args.polite)
    finally:
        shutil.rmtree(SCRATCH, ignore_errors=True)  # the crawls' archives, all at the end
    RESULTS.write_text(json.dumps(results, indent=1), "utf-8")
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
