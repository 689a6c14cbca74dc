"""Benchmark of the inspecting commands on a synthetic archive (not a test: it prints figures).

    .venv/bin/python bench/bench_inspect.py                 # 100,000 versions over 20,000 documents
    .venv/bin/python bench/bench_inspect.py --runs 9        # more repetitions for the medians
    .venv/bin/python bench/bench_inspect.py --documents 2000 --versions 10000   # a quick look

What it does:
1. Generates, through the storage API (`Archive.record_capture`), an archive of N versions
   over D documents: multilingual texts (en/ru/kk, 1–3 KB) built from the fixture site's
   sentences plus synthetic names and numbers, raw HTML bodies, edits of every kind
   (text, title, tags, categories, dates, typography), unchanged re-captures. A second,
   smaller archive (a fifth of the size) is generated for the export memory comparison.
   Archives are cached under bench/out/ (gitignored); a re-run skips generation.
2. Times every command as a whole process (`kisi-archive ...`, Python start-up included):
   cold = the first run after the archive's index and the files the command reads were
   evicted from the OS page cache (posix_fadvise DONTNEED; Python's own files stay cached),
   warm = the median of --runs repeated runs.
3. Prints a table with each figure's ratio to its target and writes bench/out/results.json.

The targets come from issue 5: list (first page), show, history, diff and search at most
0.3 s; reindex of the whole archive at most 10 s; export at least 20,000 versions/s with a
peak memory that does not grow with the archive.
"""
from __future__ import annotations

import argparse
import html
import json
import multiprocessing
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
BIN = Path(sys.executable).parent / "kisi-archive"

GENERATOR = 2  # bump when the synthetic content changes: cached archives are then regenerated
TARGETS = {"latency_s": 0.3, "reindex_s": 10.0, "export_versions_per_s": 20_000}

# -- synthetic content -----------------------------------------------------------------------
EXTRA = {
    "ru": [
        "В ходе мероприятия эксперты обсудили вопросы региональной безопасности.",
        "Участники конференции отметили важность углубления экономического сотрудничества.",
        "По итогам круглого стола были подготовлены рекомендации для государственных органов.",
        "Особое внимание было уделено вопросам водной безопасности в Центральной Азии.",
        "Директор института подчеркнул значение молодежной политики.",
        "Мероприятие транслировалось в онлайн-формате.",
        "Стороны договорились об укреплении научно-экспертных связей.",
        "Материалы конференции будут опубликованы на официальном сайте института.",
        "На семинаре обсуждались демографические процессы и вопросы миграции.",
        "По мнению экспертов, цифровая трансформация повышает эффективность государственного управления.",
        "В дискуссии приняли участие представители научного сообщества и гражданского общества.",
        "Докладчики рассмотрели перспективы развития транспортно-логистического потенциала страны.",
    ],
    "kk": [
        "Іс-шара барысында сарапшылар өңірлік қауіпсіздік мәселелерін талқылады.",
        "Қазақстан стратегиялық зерттеулер институты халықаралық конференция өткізді.",
        "Жиынға мемлекеттік органдардың, ғылыми орталықтардың және үкіметтік емес ұйымдардың өкілдері қатысты.",
        "Баяндамашылар Орталық Азиядағы су ресурстарын басқарудың өзекті мәселелеріне тоқталды.",
        "Қатысушылар экономикалық ынтымақтастықты тереңдету жолдарын қарастырды.",
        "Дөңгелек үстелдің қорытындысы бойынша ұсыныстар әзірленіп, тиісті мемлекеттік органдарға жіберілді.",
        "Сарапшылардың пікірінше, цифрлық трансформация мемлекеттік басқарудың тиімділігін арттырады.",
        "Институт директоры өз сөзінде жастар саясатының маңыздылығын атап өтті.",
        "Кездесуде көлік-логистикалық әлеуетті дамыту мәселесі де көтерілді.",
        "Іс-шара онлайн форматта да таратылды.",
        "Тараптар ғылыми-сараптамалық байланыстарды нығайтуға уағдаласты.",
        "Биылғы жылы институт бірнеше ауқымды зерттеу жобаларын іске асырды.",
        "Семинарда демографиялық үдерістер мен көші-қон мәселелері талқыланды.",
        "Қатысушылар Еуразиялық экономикалық одақ аясындағы сауда байланыстарына ерекше назар аударды.",
        "Конференция материалдары институттың ресми сайтында жарияланады.",
    ],
}
SYLLABLES = {
    "en": ["ka", "za", "ly", "ma", "sa", "ta", "ra", "bek", "nur", "ay", "zhan", "tal", "dar", "gul", "ser", "mir"],
    "ru": ["ка", "за", "лы", "ма", "са", "та", "ра", "бек", "нур", "ай", "жан", "тал", "дар", "гуль", "сер", "мир"],
    "kk": ["қа", "за", "лы", "ма", "са", "та", "ра", "бек", "нұр", "ай", "жан", "тал", "дар", "гүл", "сер", "өмір"],
}
CATEGORIES = {"en": ["Events", "News", "Analytics"], "ru": ["События", "Новости", "Аналитика"],
              "kk": ["Іс-шаралар", "Жаңалықтар", "Сараптама"]}
TAGS = {"en": ["security", "economy", "water", "youth", "round table", "conference", "EAEU", "digital"],
        "ru": ["безопасность", "экономика", "водные ресурсы", "молодежь", "круглый стол", "конференция", "ЕАЭС"],
        "kk": ["қауіпсіздік", "экономика", "су ресурстары", "жастар", "дөңгелек үстел", "конференция"]}
LANG_WEIGHTS = (("en", 50), ("ru", 35), ("kk", 15))


def corpus() -> dict[str, list[str]]:
    """Sentences per language: the fixture site's posts plus EXTRA."""
    from scheduler.demo_site import default_state

    sentences: dict[str, list[str]] = {"en": [], "ru": [], "kk": []}
    for post in default_state().posts:
        text = html.unescape(re.sub(r"<[^>]+>", " ", post.content_html))
        for sentence in re.split(r"(?<=[.!?])\s+", " ".join(text.split())):
            if len(sentence) > 30 and post.lang in sentences:
                sentences[post.lang].append(sentence)
    for lang, extra in EXTRA.items():
        sentences[lang].extend(extra)
    return sentences


def synthetic_name(rng: random.Random, lang: str) -> str:
    return "".join(rng.choice(SYLLABLES[lang]) for _ in range(rng.randint(2, 4))).capitalize()


def paragraph(rng: random.Random, lang: str, sentences: list[str]) -> str:
    parts = [rng.choice(sentences) for _ in range(rng.randint(1, 3))]
    # Names, numbers and dates make every document's vocabulary partly its own, as in real news.
    name = synthetic_name(rng, lang)
    parts.insert(rng.randint(0, len(parts)), f"{name} {rng.randint(2, 999)} {synthetic_name(rng, lang)}.")
    return " ".join(parts)


MIN_TEXT, MAX_TEXT = 1000, 3000  # bytes of UTF-8 (issue 5: "realistic texts of 1-3 KB")


def size(paragraphs: list[str]) -> int:
    return len("\n\n".join(paragraphs).encode())


def make_text(rng: random.Random, lang: str, sentences: list[str]) -> str:
    target = rng.randint(MIN_TEXT, MAX_TEXT)
    paragraphs: list[str] = []
    while size(paragraphs) < target:
        paragraphs.append(paragraph(rng, lang, sentences))
    while size(paragraphs) > MAX_TEXT and len(paragraphs) > 1:
        paragraphs.pop()
    return "\n\n".join(paragraphs)


def iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


def document_captures(index: int, versions: int, sentences: dict[str, list[str]], seed: int) -> Iterator[Any]:
    """The captures of one synthetic document, oldest first, that yield `versions` versions."""
    from storage import Capture

    rng = random.Random(seed * 1_000_003 + index)
    lang = rng.choices([l for l, _ in LANG_WEIGHTS], [w for _, w in LANG_WEIGHTS])[0]
    post_id = 10_000 + index
    slug = f"event-{post_id}"
    url = f"https://kisi.kz/{'' if lang == 'ru' else lang + '/'}{slug}/"
    published = datetime(2015, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=rng.randint(0, 11 * 365 * 24 * 60))
    modified = published
    fetched = max(published, datetime(2026, 1, 1, tzinfo=timezone.utc)) + timedelta(hours=rng.randint(0, 24 * 30))
    state = {
        "title": " ".join(rng.choice(sentences[lang]).split()[:rng.randint(6, 12)]).rstrip(".,"),
        "text": make_text(rng, lang, sentences[lang]),
        "author": "KazISS Press Service",
        "categories": [rng.choice(CATEGORIES[lang])],
        "tags": rng.sample(TAGS[lang], rng.randint(0, 3)),
        "canonical_url": url,
    }
    alternates = {lang: url}
    recorded = 0
    while recorded < versions:
        if recorded:  # an edit: what WordPress editors do, most often a change of text
            kind = rng.choices(["text", "title", "tags", "category", "typography", "slug"], [60, 12, 10, 6, 8, 4])[0]
            paragraphs = state["text"].split("\n\n")
            if kind == "text":
                i = rng.randrange(len(paragraphs))
                if rng.random() < 0.5 or size(paragraphs) > MAX_TEXT - 400:
                    paragraphs[i] = paragraph(rng, lang, sentences[lang])
                else:
                    paragraphs.insert(i, paragraph(rng, lang, sentences[lang]))
                state["text"] = "\n\n".join(paragraphs)
            elif kind == "title":
                state["title"] = state["title"] + " " + synthetic_name(rng, lang)
            elif kind == "tags":
                state["tags"] = sorted(set(TAGS[lang]) - set(state["tags"]))[: rng.randint(1, 3)]
            elif kind == "category":
                state["categories"] = [c for c in CATEGORIES[lang] if c not in state["categories"]][:1] + state["categories"]
            elif kind == "typography":
                state["text"] = state["text"].replace(".", ".\u00a0", 1) if "\u00a0" not in state["text"] \
                    else state["text"].replace("\u00a0", " ", 1)
            else:
                state["canonical_url"] = url.rstrip("/") + f"-{recorded}/"
            modified = modified + timedelta(hours=rng.randint(1, 24 * 60))
        fetched = fetched + timedelta(hours=rng.randint(1, 24 * 20))
        body = (f"<!doctype html><html lang=\"{lang}\"><head><title>{html.escape(state['title'])}</title>"
                f"<link rel=\"canonical\" href=\"{state['canonical_url']}\"></head><body class=\"postid-{post_id}\">"
                f"<nav>Home · Events · About · Contacts</nav><article><h1>{html.escape(state['title'])}</h1>"
                + "".join(f"<p>{html.escape(p)}</p>" for p in state["text"].split("\n\n"))
                + "</article><aside>Recent posts …</aside></body></html>").encode()
        capture = Capture(
            url=url, final_url=state["canonical_url"], http_status=200, fetched_at=iso(fetched), site="kisi.kz",
            post_id=post_id, language=lang, canonical_url=state["canonical_url"],
            shortlink=f"https://kisi.kz/?p={post_id}", title=state["title"], text=state["text"],
            date_published=iso(published), date_modified=iso(modified), author=state["author"],
            categories=tuple(state["categories"]), tags=tuple(state["tags"]), alternates=dict(alternates),
            extractor={"name": "trafilatura", "version": "2.3.1"}, raw_body=body,
            raw_content_type="text/html; charset=UTF-8", run_id=f"bench-{recorded:02d}",
        )
        yield capture
        recorded += 1
        if rng.random() < 0.3:  # an unchanged re-capture: only last_seen moves
            fetched = fetched + timedelta(hours=rng.randint(1, 24 * 10))
            yield replace(capture, fetched_at=iso(fetched), run_id=f"bench-{recorded:02d}-again")


MAX_VERSIONS = 40


def versions_per_document(documents: int, versions: int, seed: int) -> list[int]:
    """How many versions each document gets: at least one, summing to `versions`, skewed
    (most documents change rarely, a few often), at most MAX_VERSIONS."""
    if not documents <= versions <= documents * MAX_VERSIONS:
        raise SystemExit(f"--versions must be between --documents and {MAX_VERSIONS} times it")
    rng = random.Random(seed)
    weights = [min(rng.paretovariate(1.5), 50.0) for _ in range(documents)]
    counts = [1] * documents
    for i in rng.choices(range(documents), weights, k=versions - documents):
        counts[i] += 1
    overflow = sum(max(0, c - MAX_VERSIONS) for c in counts)
    counts = [min(c, MAX_VERSIONS) for c in counts]
    while overflow:
        i = rng.randrange(documents)
        if counts[i] < MAX_VERSIONS:
            counts[i] += 1
            overflow -= 1
    return counts


# -- generation --------------------------------------------------------------------------------
def _generate_chunk(args: tuple[str, list[tuple[int, int]], int, bool]) -> int:
    root, chunk, seed, durable = args
    import storage.files
    from storage import Archive

    if not durable:
        # Generation only: the benchmark measures reading, not the durability of writes.
        storage.files.os.fsync = lambda fd: None  # type: ignore[attr-defined]
    sentences = corpus()
    count = 0
    with Archive.open(root) as archive:
        for index, versions in chunk:
            for capture in document_captures(index, versions, sentences, seed):
                archive.record_capture(capture)
            count += versions
    return count


def generate(root: Path, documents: int, versions: int, *, seed: int, workers: int, durable: bool) -> dict[str, Any]:
    """Build the archive through Archive.record_capture, in `workers` processes over disjoint documents."""
    from storage import Archive

    stamp = root / "generated.json"
    params = {"documents": documents, "versions": versions, "seed": seed, "generator": GENERATOR}
    if stamp.exists():
        done = json.loads(stamp.read_text())
        if all(done.get(k) == v for k, v in params.items()):
            print(f"[cached] {root} ({documents} documents, {versions} versions; generated in {done['seconds']:.0f} s)")
            return done
    shutil.rmtree(root, ignore_errors=True)
    with Archive.open(root, create=True) as archive:
        archive.conn  # create the empty index before the writers start
    counts = versions_per_document(documents, versions, seed)
    items = list(enumerate(counts))
    chunks = [items[i::workers * 8] for i in range(workers * 8)]
    print(f"generating {root}: {documents} documents, {versions} versions, {workers} process(es)…", flush=True)
    started = time.perf_counter()
    done_versions = 0
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for n in pool.imap_unordered(_generate_chunk, [(str(root), c, seed, durable) for c in chunks]):
            done_versions += n
            print(f"  {done_versions}/{versions} versions  {time.perf_counter() - started:.0f} s", flush=True)
    seconds = time.perf_counter() - started
    size = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
    result = {**params, "seconds": round(seconds, 1), "bytes": size, "workers": workers, "durable": durable}
    stamp.write_text(json.dumps(result, indent=2))
    print(f"generated in {seconds:.0f} s ({versions / seconds:.0f} versions/s), {size / 1e9:.2f} GB on disk")
    return result


# -- timing ------------------------------------------------------------------------------------
def evict(paths: list[Path]) -> None:
    """Drop files from the OS page cache, so the next read comes from the disk."""
    for path in paths:
        if not path.exists():
            continue
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)  # dirty pages cannot be dropped
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def archive_files(archive: Path) -> list[Path]:
    """The index and every snapshot and capture log (what reindex and export read)."""
    files = [archive / "index.sqlite", archive / "index.sqlite-wal"]
    for folder in os.scandir(archive / "documents"):
        files.extend(Path(entry.path) for entry in os.scandir(folder.path) if entry.name.endswith((".json", ".jsonl")))
    return files


# Runs one command and reports its wall time and peak RSS. A tiny process of its own, because
# Linux counts into a child's peak RSS the memory of the process that spawned it (the mm
# it replaced at exec): measured from this benchmark, every command would "use" its memory.
WRAPPER = r"""
import json, os, sys, time
started = time.perf_counter()
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], dict(os.environ))
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - started
with open(sys.argv[1], "w") as out:
    json.dump({"wall": wall, "maxrss_kib": usage.ru_maxrss, "code": os.waitstatus_to_exitcode(status)}, out)
"""


def run(argv: list[str], archive: Path, stdout: Any = subprocess.DEVNULL) -> tuple[float, int, int, str]:
    """Run one command as a process: (wall seconds, peak RSS in KiB of its largest process, exit code, stderr)."""
    command = [str(BIN)] if BIN.exists() else [sys.executable, "-m", "scheduler.cli"]
    env = {**os.environ, "KISI_ARCHIVE_DIR": str(archive)}
    report = OUT / ".run.json"
    proc = subprocess.run([sys.executable, "-c", WRAPPER, str(report), *command, *argv], env=env, stdout=stdout,
                          stderr=subprocess.PIPE)
    if proc.returncode != 0:
        raise SystemExit(f"the timing wrapper failed: {proc.stderr.decode(errors='replace')}")
    data = json.loads(report.read_text())
    return data["wall"], data["maxrss_kib"], data["code"], proc.stderr.decode(errors="replace")


def doc_files(archive: Path, doc_id: str) -> list[Path]:
    return sorted((archive / "documents" / doc_id).glob("*"))


def time_command(name: str, argv: list[str], archive: Path, runs: int, cold_files: list[Path]) -> dict[str, Any]:
    evict(cold_files)
    cold, rss, code, err = run(argv, archive)
    if code != 0:
        raise SystemExit(f"{name}: kisi-archive {' '.join(argv)} exited {code}: {err.strip()}")
    warm = [run(argv, archive)[0] for _ in range(runs)]
    return {"name": name, "argv": argv, "cold_s": cold, "warm_median_s": statistics.median(warm),
            "warm_min_s": min(warm), "peak_rss_kib": rss}


def pick_documents(archive: Path) -> dict[str, str]:
    import sqlite3

    conn = sqlite3.connect(f"file:{archive / 'index.sqlite'}?mode=ro", uri=True)
    busiest = conn.execute("SELECT doc_id FROM documents ORDER BY versions DESC, doc_id LIMIT 1").fetchone()[0]
    typical = conn.execute("SELECT doc_id FROM documents WHERE versions = 3 ORDER BY doc_id LIMIT 1").fetchone()[0]
    conn.close()
    return {"busiest": busiest, "typical": typical}


def repeated(archive: Path, argv: list[str], runs: int) -> list[tuple[float, int]]:
    """(wall, peak RSS) of a cold run (every file the command reads evicted first), then warm runs."""
    out = []
    for i in range(runs):
        if i == 0:
            evict(archive_files(archive))
        wall, peak, code, err = run(argv, archive)
        if code != 0:
            raise SystemExit(f"kisi-archive {' '.join(argv)} exited {code}: {err.strip()}")
        out.append((wall, peak))
    return out


def export_run(archive: Path, argv: list[str], out: Path, runs: int) -> dict[str, Any]:
    timings = repeated(archive, [*argv, "--out", str(out)], runs)
    manifest = json.loads(out.with_name(out.name + ".manifest.json").read_text())
    count = manifest["count"]
    warm = statistics.median(w for w, _ in timings[1:])
    return {"argv": argv, "versions": count, "cold_s": timings[0][0], "warm_median_s": warm,
            "versions_per_s": count / warm, "cold_versions_per_s": count / timings[0][0],
            "peak_rss_kib": max(r for _, r in timings), "bytes": out.stat().st_size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=9, help="warm runs per command (median reported)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes that generate")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--durable", action="store_true", help="keep fsync on while generating (slower)")
    parser.add_argument("--regenerate", action="store_true", help="ignore the cached archives")
    args = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    big = OUT / f"archive-{args.documents}d-{args.versions}v"
    small = OUT / f"archive-{args.documents // 5}d-{args.versions // 5}v"
    if args.regenerate:
        for path in (big, small):
            shutil.rmtree(path, ignore_errors=True)
    generated = generate(big, args.documents, args.versions, seed=args.seed, workers=args.workers,
                         durable=args.durable)
    generated_small = generate(small, args.documents // 5, args.versions // 5, seed=args.seed + 1,
                               workers=args.workers, durable=args.durable)

    results: dict[str, Any] = {"generated": generated, "generated_small": generated_small, "commands": []}
    print("\nreindex (whole archive)…", flush=True)
    reindex = repeated(big, ["reindex"], 4)
    results["reindex"] = {"cold_s": reindex[0][0], "median_s": statistics.median(r[0] for r in reindex[1:]),
                          "peak_rss_kib": max(r[1] for r in reindex),
                          "index_bytes": (big / "index.sqlite").stat().st_size}
    docs = pick_documents(big)
    index_files = [big / "index.sqlite", big / "index.sqlite-wal"]
    commands = [
        ("startup (kisi-archive --version)", ["--version"], []),
        ("list (first page)", ["list", "--limit", "50"], index_files),
        ("list --lang ru --since 2020 --category События --sort title", 
         ["list", "--lang", "ru", "--since", "2020", "--category", "События", "--sort", "title", "--limit", "50"],
         index_files),
        ("list --changed --sort -versions (page 10)", ["list", "--changed", "--sort", "-versions", "--page", "10"],
         index_files),
        ("show (latest)", ["show", docs["busiest"]], index_files + doc_files(big, docs["busiest"])),
        ("show --json (by URL)", ["show", f"https://kisi.kz/?p={docs['typical'].rsplit('-', 1)[1]}", "--json"],
         index_files + doc_files(big, docs["typical"])),
        ("history (busiest document)", ["history", docs["busiest"]], index_files),
        ("diff (last two versions)", ["diff", docs["typical"]], index_files + doc_files(big, docs["typical"])),
        ("diff --from 1 --json (busiest)", ["diff", docs["busiest"], "--from", "1", "--json"],
         index_files + doc_files(big, docs["busiest"])),
        ("search (common word, ranked)", ["search", "experts"], index_files),
        ("search (Cyrillic prefix, --lang ru)", ["search", "безопасност*", "--lang", "ru"], index_files),
        ("search --stem (Kazakh)", ["search", "сарапшылардың", "--stem"], index_files),
        ("search --all-versions (phrase)", ["search", '"round table"', "--all-versions"], index_files),
        ("search (rare word) --json", ["search", "Nurbekzhan", "--json"], index_files),
        ("stats", ["stats"], index_files),
    ]
    print("timing commands…", flush=True)
    for name, argv, cold_files in commands:
        results["commands"].append(time_command(name, argv, big, args.runs, cold_files))

    print("export…", flush=True)
    results["export"] = {
        "all_versions_jsonl_big": export_run(big, ["export", "--all-versions"], OUT / "export-big.jsonl", 4),
        "all_versions_csv_big": export_run(big, ["export", "--all-versions", "--format", "csv"],
                                           OUT / "export-big.csv", 4),
        "all_versions_jsonl_small": export_run(small, ["export", "--all-versions"], OUT / "export-small.jsonl", 4),
        "all_versions_csv_small": export_run(small, ["export", "--all-versions", "--format", "csv"],
                                             OUT / "export-small.csv", 4),
        "latest_jsonl_big": export_run(big, ["export"], OUT / "export-latest.jsonl", 4),
    }
    for path in OUT.glob("export-*"):
        path.unlink()
    (OUT / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    report(results)


def report(results: dict[str, Any]) -> None:
    latency = TARGETS["latency_s"]
    print()
    g = results["generated"]
    print(f"Archive: {g['documents']} documents, {g['versions']} versions, {g['bytes'] / 1e9:.2f} GB; "
          f"generated in {g['seconds']:.0f} s with {g['workers']} process(es)")
    print(f"{'command':<62} {'cold s':>7} {'warm s':>7} {'target':>7} {'ratio':>6}  {'RSS MiB':>7}")
    for row in results["commands"]:
        target = None if row["name"].startswith(("startup", "stats")) else latency
        ratio = f"{row['warm_median_s'] / target:.2f}" if target else "-"
        print(f"{row['name']:<62} {row['cold_s']:>7.3f} {row['warm_median_s']:>7.3f} "
              f"{(f'{target:.1f}' if target else '-'):>7} {ratio:>6}  {row['peak_rss_kib'] / 1024:>7.0f}")
    r = results["reindex"]
    print(f"{'reindex (whole archive)':<62} {r['cold_s']:>7.2f} {r['median_s']:>7.2f} "
          f"{TARGETS['reindex_s']:>7.1f} {r['median_s'] / TARGETS['reindex_s']:>6.2f}  {r['peak_rss_kib'] / 1024:>7.0f}")
    print(f"index.sqlite: {r['index_bytes'] / 1e6:.0f} MB")
    print()
    print(f"{'export (--out FILE)':<28} {'versions':>9} {'cold s':>7} {'warm s':>7} {'cold v/s':>9} {'warm v/s':>9} "
          f"{'target':>7} {'ratio':>6} {'RSS MiB':>8}")
    for name, row in results["export"].items():
        ratio = row["versions_per_s"] / TARGETS["export_versions_per_s"]
        print(f"{name:<28} {row['versions']:>9} {row['cold_s']:>7.2f} {row['warm_median_s']:>7.2f} "
              f"{row['cold_versions_per_s']:>9.0f} {row['versions_per_s']:>9.0f} "
              f"{TARGETS['export_versions_per_s']:>7} {ratio:>6.2f} {row['peak_rss_kib'] / 1024:>8.1f}")
    e = results["export"]
    for fmt in ("jsonl", "csv"):
        small, large = e[f"all_versions_{fmt}_small"], e[f"all_versions_{fmt}_big"]
        print(f"peak RSS of export --all-versions --format {fmt}: {small['peak_rss_kib'] / 1024:.1f} MiB at "
              f"{small['versions']} versions, {large['peak_rss_kib'] / 1024:.1f} MiB at {large['versions']} versions")


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "--report":
        report(json.loads((OUT / "results.json").read_text()))
    else:
        main()
