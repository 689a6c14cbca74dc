"""What extraction costs, next to trafilatura alone: pages/s and CPU seconds on realistic pages.

    .venv/bin/python bench/bench_extract.py [--pages 300] [--rounds 5] [--code DIR] [--dump FILE]
    .venv/bin/python bench/bench_extract.py --compare A.jsonl B.jsonl

Builds N post pages (default 300) with the fixture site's own renderer
(`scheduler.demo_site.render`: the theme's header, menus, language switcher, breadcrumb,
sidebar widgets, a comment and the footer, served as the site serves them, windows-1251
posts included), in English, Russian and Kazakh, and brings each to 60-120 KB of HTML the
way real WordPress pages get there: a site with many categories and pages, a mega menu and
its mobile copy, the global-styles, emoji and duotone-SVG blobs WordPress 6.x inlines,
footer widget columns of recent posts with thumbnails, plugin scripts. One post in five is
a long report or transcript.

Then, page by page (the three in turn, in an order that rotates with the page and the
round; several rounds, the median kept), it measures:

  (a) ``trafilatura.extract(html)``, default options, on the already decoded text;
  (b) ``trafilatura.bare_extraction(html, ...)`` with the options our extractor uses;
  (c) our ``decode_html(body, content_type)`` + ``extract_page(html, url, link_header)``.

and prints pages/s, wall and CPU seconds and the CPU ratio to (a), for all pages, the usual
posts and the long ones. ``--code DIR`` imports ``crawler`` from another checkout (e.g.
``git archive b7d865a | tar -x -C /tmp/main``) to measure that code on the same pages;
``--dump FILE`` writes every page's extraction, and ``--compare`` tells which fields differ
between two such files. Not a test: it asserts nothing, it measures.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class BenchPage:
    url: str
    body: bytes
    content_type: str | None
    link_header: str | None
    lang: str


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300, help="pages to build (default 300)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds, the median is kept (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the page builder")
    parser.add_argument("--code", type=Path, help="import crawler from this checkout instead of this one")
    parser.add_argument("--dump", type=Path, help="also write every page's extraction (JSON Lines) here, to compare two checkouts")
    parser.add_argument("--compare", type=Path, nargs=2, metavar="JSONL", help="compare two --dump files and exit")
    return parser.parse_args(argv)


# --- pages --------------------------------------------------------------------------------------


def build_pages(count: int, seed: int) -> list[BenchPage]:
    "Realistic post pages rendered by the fixture site, 60-120 KB each, in a fixed random mix."
    from scheduler.demo_site import Category, Post, default_state
    from scheduler.demo_site.pages import Context
    from scheduler.demo_site.render import Request, render

    rng = random.Random(seed)
    state = default_state()
    paragraphs = _paragraphs_by_language(state)
    # a real institute site: dozens of categories and pages in every language's menu
    next_id = 900
    for lang in ("ru", "en", "kk"):
        for n in range(24):
            state.categories.append(Category(id=next_id, lang=lang, slug=f"{lang}-rubric-{n}", name=_word(rng, paragraphs[lang], 2)))
            next_id += 1
        for n in range(12):
            state.publish(Post(lang=lang, slug=f"{lang}-page-{n}", title=_word(rng, paragraphs[lang], 3), post_type="page",
                               content_html="<p>" + rng.choice(paragraphs[lang]) + "</p>", date_gmt="2020-01-01T00:00:00"))
    langs = ["en"] * 5 + ["ru"] * 4 + ["kk"] * 1
    posts = []
    for n in range(count):
        lang = langs[n % len(langs)]
        body = _body(rng, paragraphs[lang])
        cats = [c.slug for c in state.categories if c.lang == lang][: 1 + n % 3]
        charset = "windows-1251" if lang == "ru" and n % 20 == 3 else "utf-8"
        post = Post(lang=lang, slug=f"bench-{lang}-{n}", title=_word(rng, paragraphs[lang], 8), content_html=body,
                    date_gmt=f"20{20 + n % 6}-{1 + n % 12:02d}-{1 + n % 28:02d}T0{n % 10}:00:00",
                    categories=cats, tags=[_word(rng, paragraphs[lang], 1) for _ in range(n % 4)], charset=charset)
        posts.append(state.publish(post))
    ctx = Context(root="https://kisi.kz")
    pages = []
    for n, post in enumerate(posts):
        response = render(state, Request(target=_quote_path(state.path_of(post))), ctx)
        headers = dict(response.headers)
        link = ", ".join(v for k, v in response.headers if k == "Link") or None
        labels = [_word(rng, paragraphs[post.lang], 6) for _ in range(40)]
        body = _inflate(response.body, rng, rng.randint(60_000, 120_000), labels)
        pages.append(BenchPage(ctx.root + state.path_of(post), body, headers.get("Content-Type"), link, post.lang))
    return pages


def _quote_path(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/%")


def _paragraphs_by_language(state) -> dict[str, list[str]]:
    import re

    found: dict[str, list[str]] = {"en": [], "ru": [], "kk": []}
    for post in state.posts:
        for text in re.findall(r"<p>(.*?)</p>", post.content_html, flags=re.S):
            if len(text) > 80 and "<" not in text:
                found[post.lang].append(text)
    return found


def _word(rng: random.Random, paragraphs: list[str], words: int) -> str:
    chosen = rng.choice(paragraphs).split()
    start = rng.randrange(max(1, len(chosen) - words))
    return " ".join(chosen[start : start + words]).strip(".,;:«»“”()") or "Lorem"


def _body(rng: random.Random, paragraphs: list[str]) -> str:
    """A post body: 6-24 paragraphs (one post in five, a report or a transcript: 40-90), sometimes
    a list, a quote, a figure or a table."""
    parts = []
    for n in range(rng.randint(40, 90) if rng.random() < 0.2 else rng.randint(6, 24)):
        parts.append(f"<p>{rng.choice(paragraphs)}</p>")
        roll = rng.random()
        if roll < 0.08:
            items = "".join(f"<li>{_word(rng, paragraphs, 7)};</li>" for _ in range(rng.randint(3, 6)))
            parts.append(f"<ul>{items}</ul>")
        elif roll < 0.12:
            parts.append(f'<blockquote class="wp-block-quote"><p>{rng.choice(paragraphs)}</p></blockquote>')
        elif roll < 0.16:
            parts.append(
                f'<figure class="wp-block-image size-large"><img decoding="async" width="1024" height="683" '
                f'src="https://kisi.kz/wp-content/uploads/2024/0{1 + n % 9}/photo-{n}-1024x683.jpg" alt="" '
                f'class="wp-image-{1000 + n}" srcset="https://kisi.kz/wp-content/uploads/2024/photo-{n}-1024x683.jpg 1024w, '
                f'https://kisi.kz/wp-content/uploads/2024/photo-{n}-300x200.jpg 300w" sizes="(max-width: 1024px) 100vw, 1024px" />'
                f"<figcaption>{_word(rng, paragraphs, 6)}</figcaption></figure>"
            )
        elif roll < 0.18:
            rows = "".join(f"<tr><td>{_word(rng, paragraphs, 2)}</td><td>{rng.randint(1, 999)}</td></tr>" for _ in range(4))
            parts.append(f'<figure class="wp-block-table"><table><tbody>{rows}</tbody></table></figure>')
    return "\n".join(parts)


_GLOBAL_STYLES_VARS = [
    ("color", name, value)
    for name, value in (
        ("black", "#000000"), ("cyan-bluish-gray", "#abb8c3"), ("white", "#ffffff"), ("pale-pink", "#f78da7"),
        ("vivid-red", "#cf2e2e"), ("luminous-vivid-orange", "#ff6900"), ("luminous-vivid-amber", "#fcb900"),
        ("light-green-cyan", "#7bdcb5"), ("vivid-green-cyan", "#00d084"), ("pale-cyan-blue", "#8ed1fc"),
        ("vivid-cyan-blue", "#0693e3"), ("vivid-purple", "#9b51e0"),
    )
]


def _global_styles() -> str:
    "WordPress 6.x prints this <style id='global-styles-inline-css'> on every page of a classic theme."
    rules = ["body{" + ";".join(f"--wp--preset--{kind}--{name}: {value}" for kind, name, value in _GLOBAL_STYLES_VARS) + "}"]
    for _kind, name, _value in _GLOBAL_STYLES_VARS:
        rules.append(f".has-{name}-color{{color: var(--wp--preset--color--{name}) !important;}}")
        rules.append(f".has-{name}-background-color{{background-color: var(--wp--preset--color--{name}) !important;}}")
        rules.append(f".has-{name}-border-color{{border-color: var(--wp--preset--color--{name}) !important;}}")
    for size in ("small", "medium", "large", "x-large"):
        rules.append(f".has-{size}-font-size{{font-size: var(--wp--preset--font-size--{size}) !important;}}")
    rules.append(".wp-block-navigation a:where(:not(.wp-element-button)){color: inherit;}" * 4)
    rules.append(":where(.wp-block-post-template.is-layout-flex){gap: 1.25em;}:where(.wp-block-columns.is-layout-flex){gap: 2em;}" * 6)
    return "<style id='global-styles-inline-css'>\n" + "\n".join(rules) + "\n</style>\n"


def _emoji_script(rng: random.Random) -> str:
    "The wp-emoji loader WordPress inlines in every <head>, minified, about 5 KB."
    body = "".join(
        f"function e{n}(e,t){{var n=document.createElement('canvas'),a=n.getContext('2d',{{willReadFrequently:!0}});"
        f"a.textBaseline='top';a.font='600 32px Arial';a.fillText(e,0,0);return new Uint32Array(a.getImageData(0,0,16,16).data)"
        f".every(function(e,t){{return e===t[{n}]}})}}"
        for n in range(rng.randint(14, 22))
    )
    settings = ('window._wpemojiSettings = {"baseUrl":"https:\\/\\/s.w.org\\/images\\/core\\/emoji\\/15.0.3\\/72x72\\/",'
                '"ext":".png","svgUrl":"https:\\/\\/s.w.org\\/images\\/core\\/emoji\\/15.0.3\\/svg\\/","svgExt":".svg",'
                '"source":{"concatemoji":"https:\\/\\/kisi.kz\\/wp-includes\\/js\\/wp-emoji-release.min.js?ver=6.6"}};')
    return f"<script>\n{settings}\n/*! This file is auto-generated */\n!function(i,n){{{body}}}(window,document);\n</script>\n"


def _duotone_svg() -> str:
    "The hidden duotone filters WordPress 5.9-6.2 prints after <body> on every page."
    filters = []
    for name in ("dark-grayscale", "grayscale", "purple-yellow", "blue-red", "midnight", "magenta-yellow", "purple-green", "blue-orange"):
        filters.append(
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 0 0" width="0" height="0" focusable="false" role="none" '
            f'style="visibility: hidden; position: absolute; left: -9999px; overflow: hidden;" ><defs><filter id="wp-duotone-{name}">'
            f'<feColorMatrix color-interpolation-filters="sRGB" type="matrix" values=" .299 .587 .114 0 0 .299 .587 .114 0 0 '
            f'.299 .587 .114 0 0 .299 .587 .114 0 0 " /><feComponentTransfer color-interpolation-filters="sRGB" >'
            f'<feFuncR type="table" tableValues="0 0.49803921568627" /><feFuncG type="table" tableValues="0 0.49803921568627" />'
            f'<feFuncB type="table" tableValues="0 0.49803921568627" /><feFuncA type="table" tableValues="1 1" />'
            f'</feComponentTransfer><feComposite in2="SourceGraphic" operator="in" /></filter></defs></svg>'
        )
    return "".join(filters) + "\n"


def _footer_scripts(rng: random.Random) -> str:
    "Theme and plugin scripts with inline configuration, a cookie banner, analytics."
    config = ",".join(f'"key_{n}":"{rng.getrandbits(64):016x}"' for n in range(rng.randint(20, 60)))
    return (
        f"<script id='theme-config-js-extra'>\nvar themeConfig = {{{config}}};\n</script>\n"
        '<div id="cookie-law-info-bar" data-nosnippet="true"><span>This website uses cookies to improve your experience.'
        ' <a role="button" data-cli_action="accept" id="cookie_action_close_header" class="medium cli-plugin-button">Accept</a>'
        "</span></div>\n"
    )


def _menu_item(rng: random.Random, n: int, label: str) -> str:
    return (f'<li id="menu-item-{4000 + n}" class="menu-item menu-item-type-taxonomy menu-item-object-category '
            f'menu-item-{4000 + n}"><a href="https://kisi.kz/category/rubric-{n}/">{label}</a></li>')


def _footer_post(rng: random.Random, n: int, label: str) -> str:
    return (f'<li class="recent-post-item"><div class="recent-post-thumb"><a href="https://kisi.kz/?p={5000 + n}">'
            f'<img loading="lazy" decoding="async" width="150" height="100" '
            f'src="https://kisi.kz/wp-content/uploads/2024/thumb-{n}-150x100.jpg" class="attachment-thumbnail size-thumbnail '
            f'wp-post-image" alt="" /></a></div><div class="recent-post-text"><a href="https://kisi.kz/?p={5000 + n}">'
            f'{label}</a><span class="recent-post-date">{1 + n % 28:02d}.{1 + n % 12:02d}.2024</span></div></li>')


def _inflate(body: bytes, rng: random.Random, target: int, labels: list[str]) -> bytes:
    """Add what makes a real WordPress page 60-120 KB, up to about `target` bytes: inline blobs in
    <head> and after <body>, a mega menu (and its mobile copy), footer widget columns of recent
    posts with thumbnails, plugin scripts. Inserted as ASCII-safe markup in the page's own
    encoding, so a windows-1251 page stays windows-1251."""
    encoding = "cp1251" if b'charset="windows-1251"' in body[:2000] else "utf-8"
    head_blobs = (_global_styles() + _emoji_script(rng)).encode("ascii")
    page = body.replace(b"</head>", head_blobs + b"</head>", 1)
    start = page.find(b">", page.find(b"<body")) + 1
    page = page[:start] + _duotone_svg().encode("ascii") + page[start:]
    tail = _footer_scripts(rng).encode("ascii")
    menu: list[str] = []
    footer: list[str] = []
    scripts: list[str] = []
    size = len(page) + len(tail) + 400
    n = 0
    while size < target:
        roll = rng.random()
        if roll < 0.01:
            scripts.append(_emoji_script(rng).replace("<script>", "<script id='plugin-inline-js'>"))
            size += len(scripts[-1])
        elif roll < 0.55:
            menu.append(_menu_item(rng, n, rng.choice(labels)))
            size += 2 * len(menu[-1].encode(encoding))  # the mobile menu repeats it
        else:
            footer.append(_footer_post(rng, n, rng.choice(labels)))
            size += len(footer[-1].encode(encoding))
        n += 1
    mega = f'<ul class="sub-menu mega-menu">{"".join(menu)}</ul>'
    page = page.replace(b'<ul id="primary-menu" class="menu">', b'<ul id="primary-menu" class="menu"><li class="menu-item menu-item-has-children"><a href="#">Menu</a>' + mega.encode(encoding) + b"</li>", 1)
    columns = "".join(
        f'<section class="widget widget_recent_posts_thumbs"><h2 class="widget-title">{rng.choice(labels)}</h2><ul>{"".join(footer[i::3])}</ul></section>'
        for i in range(3)
    )
    mobile = f'<div class="mobile-menu-wrap"><nav class="mobile-navigation"><ul class="mobile-menu">{"".join(menu)}</ul></nav></div>'
    extra = f'<div class="footer-widgets">{columns}</div>{mobile}'
    page = page.replace(b'<footer id="colophon"', extra.encode(encoding) + b'<footer id="colophon"', 1)
    return page.replace(b"</body>", tail + "".join(scripts).encode("ascii") + b"</body>", 1)


# --- measurement --------------------------------------------------------------------------------

LONG_BODY = 15_000  # characters of post-body HTML from which a page counts as a long post


def _modes(pages: list[BenchPage]) -> dict[str, Callable[[int], None]]:
    "The three measured operations, each on page number i."
    import trafilatura

    from crawler import extract as ours

    texts = [ours.decode_html(p.body, p.content_type) for p in pages]

    def trafilatura_alone(i: int) -> None:
        trafilatura.extract(texts[i])

    def trafilatura_our_options(i: int) -> None:
        trafilatura.bare_extraction(
            texts[i], url=pages[i].url, favor_precision=True, include_comments=False, include_tables=True,
            include_images=False, include_links=False, with_metadata=True,
            date_extraction_params=dict(ours._DATE_PARAMS), config=ours.TRAFILATURA_CONFIG,
        )

    def extract_page(i: int) -> None:
        page = pages[i]
        ours.extract_page(ours.decode_html(page.body, page.content_type), page.url, page.link_header)

    return {
        "(a) trafilatura.extract alone": trafilatura_alone,
        "(b) trafilatura.bare_extraction, our options": trafilatura_our_options,
        "(c) our decode_html + extract_page": extract_page,
    }


def groups(pages: list[BenchPage]) -> dict[str, list[int]]:
    "Page numbers: all, the usual posts, the long ones (reports, transcripts)."
    import re

    def body_length(page: BenchPage) -> int:
        found = re.search(rb'<div class="entry-content">(.*?)<!-- .entry-content -->', page.body, re.S)
        return len(found[1]) if found else 0

    long_ones = [i for i, p in enumerate(pages) if body_length(p) >= LONG_BODY]
    return {
        "all pages": list(range(len(pages))),
        f"posts under {LONG_BODY // 1000} KB of body": [i for i in range(len(pages)) if i not in set(long_ones)],
        f"long posts ({LONG_BODY // 1000} KB of body or more)": long_ones,
    }


def measure(modes: dict[str, Callable[[int], None]], count: int, rounds: int) -> list[dict[str, tuple[list[float], list[float]]]]:
    """Per round, the wall and CPU seconds of each mode on each page: page by page, the three
    modes take turns (in an order that rotates with the page and the round), so that a load
    change on the machine hits all three alike."""
    names = list(modes)
    for i in range(min(count, 5)):  # warm-up: imports, caches, lazily compiled XPaths
        for run in modes.values():
            run(i)
    results = []
    for r in range(rounds):
        per_page: dict[str, tuple[list[float], list[float]]] = {name: ([0.0] * count, [0.0] * count) for name in names}
        for i in range(count):
            shift = (r + i) % len(names)
            for name in names[shift:] + names[:shift]:
                wall, cpu = time.perf_counter(), time.process_time()
                modes[name](i)
                per_page[name][0][i] = time.perf_counter() - wall
                per_page[name][1][i] = time.process_time() - cpu
        results.append(per_page)
        gc.collect()
    return results


def report(results: list[dict[str, tuple[list[float], list[float]]]], page_groups: dict[str, list[int]]) -> None:
    names = list(results[0])
    for group, members in page_groups.items():
        if not members:
            continue
        print(f"\n{group} ({len(members)} pages), median of {len(results)} rounds:")
        print(f"  {'':46} {'pages/s':>8} {'wall s':>7} {'CPU s':>7} {'CPU ms/page':>12} {'CPU ratio to (a)':>17}")
        cpu_of = {n: statistics.median(sum(r[n][1][i] for i in members) for r in results) for n in names}
        for name in names:
            wall = statistics.median(sum(r[name][0][i] for i in members) for r in results)
            cpu = cpu_of[name]
            print(f"  {name:46} {len(members) / wall:8.1f} {wall:7.2f} {cpu:7.2f} {cpu / len(members) * 1000:12.1f}"
                  f" {cpu / cpu_of[names[0]]:17.2f}")


def _dump(pages: list[BenchPage], path: Path) -> None:
    "One JSON line per page: the fields of ExtractedPage both checkouts have (title, text, ...)."
    import dataclasses
    import json

    from crawler import extract as ours

    with path.open("w", encoding="utf-8") as out:
        for page in pages:
            found = ours.extract_page(ours.decode_html(page.body, page.content_type), page.url, page.link_header)
            out.write(json.dumps({"url": page.url, **dataclasses.asdict(found)}, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"wrote {len(pages)} extractions to {path}")


def compare(left: Path, right: Path) -> int:
    "Print the fields that differ between two --dump files (fields only one of them has apart)."
    import json

    a = [json.loads(line) for line in left.open(encoding="utf-8")]
    b = [json.loads(line) for line in right.open(encoding="utf-8")]
    if [p["url"] for p in a] != [p["url"] for p in b]:
        print("the two files hold different pages")
        return 1
    shared = sorted(set(a[0]) & set(b[0])) if a and b else []
    differing = {k: sum(x[k] != y[k] for x, y in zip(a, b)) for k in shared}
    print(f"{len(a)} pages, {len(shared)} shared fields; "
          f"only in {left.name}: {sorted(set(a[0]) - set(b[0])) if a else []}; only in {right.name}: {sorted(set(b[0]) - set(a[0])) if b else []}")
    for key, count in differing.items():
        print(f"  {key:16} {'identical' if not count else f'{count} pages differ'}")
    return 0 if not any(differing.values()) else 1


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    if args.compare:
        return compare(*args.compare)
    sys.path.insert(0, str(args.code.resolve() if args.code else ROOT))
    import crawler

    started = time.perf_counter()
    pages = build_pages(args.pages, args.seed)
    sizes = sorted(len(p.body) for p in pages)
    langs = {lang: sum(p.lang == lang for p in pages) for lang in ("en", "ru", "kk")}
    print(f"code: {Path(crawler.__file__).resolve().parent.parent}")
    print(f"pages: {len(pages)} ({', '.join(f'{k} {v}' for k, v in langs.items())}), "
          f"HTML {sizes[0] / 1000:.0f}-{sizes[-1] / 1000:.0f} KB, median {statistics.median(sizes) / 1000:.0f} KB; "
          f"built in {time.perf_counter() - started:.1f} s")
    if args.dump:
        _dump(pages, args.dump)
    report(measure(_modes(pages), len(pages), args.rounds), groups(pages))
    return 0


if __name__ == "__main__":
    sys.exit(main())
