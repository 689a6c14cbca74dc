"""Detecting the encoding of undeclared legacy pages: our heuristic next to charset-normalizer.

    .venv/bin/python bench/bench_charset.py

Renders the fixture site's Russian and Kazakh posts as whole pages (the theme's markup, menus
and widgets: mostly ASCII, as real pages are), encodes each in every legacy encoding it fits
(windows-1251, KOI8-R, KZ-1048, ISO-8859-5, CP866; Kazakh in KZ-1048), and English pages
with typographic quotes in windows-1252; strips every declaration (no charset in the HTTP
header, no <meta charset>), then asks (a) ``crawler.extract_encoding.detect`` and
(b) ``charset_normalizer.from_bytes(...).best()`` (a dependency of Scrapy and trafilatura
already) to decode them. Prints, per encoding, how many pages each got exactly right and the
time per page. Not a test: it asserts nothing, it measures.
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.extract_encoding import detect  # noqa: E402
from scheduler.demo_site import default_state  # noqa: E402
from scheduler.demo_site.pages import Context, single_page  # noqa: E402

ENCODINGS = {"ru": ("cp1251", "koi8_r", "kz1048", "iso8859_5", "cp866"), "kk": ("kz1048",), "en": ("cp1252",)}
_CHARSET = re.compile(r'<meta charset="[^"]*">')


def cases() -> list[tuple[str, str, bytes]]:
    """(encoding, expected text, page bytes) for every post in every encoding; characters an
    encoding lacks become character references, as WordPress's output filters write them."""
    state = default_state()
    ctx = Context(root="https://kisi.kz")
    found = []
    for post in state.posts:
        page = _CHARSET.sub("", single_page(state, post, ctx))
        if post.lang == "en":  # typographic quotes and dashes are what make an English page non-ASCII
            page = page.replace("&#8220;", "“").replace("&#8221;", "”").replace("&#8217;", "’").replace("&#8211;", "–")
        for encoding in ENCODINGS[post.lang]:
            body = page.encode(encoding, "xmlcharrefreplace")
            found.append((encoding, body.decode(encoding), body))
    return found


def ours(body: bytes) -> str:
    return detect(body).text


def charset_normalizer(body: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(body).best()
    return str(best) if best is not None else ""


def main() -> int:
    import charset_normalizer as cn

    found = cases()
    print(f"{len(found)} undeclared pages, {statistics.median(len(b) for _, _, b in found) / 1000:.0f} KB median;"
          f" charset-normalizer {cn.__version__}\n")
    print(f"{'encoding':12} {'pages':>5}  {'ours right':>10} {'ms/page':>8}  {'charset-normalizer right':>24} {'ms/page':>8}")
    total = {"ours": [0, 0.0], "cn": [0, 0.0]}
    for encoding in dict.fromkeys(e for e, _, _ in found):
        group = [(text, body) for e, text, body in found if e == encoding]
        row = [encoding, len(group)]
        for key, decode in (("ours", ours), ("cn", charset_normalizer)):
            started = time.process_time()
            right = sum(decode(body) == text for text, body in group)
            spent = time.process_time() - started
            total[key][0] += right
            total[key][1] += spent
            row += [right, spent / len(group) * 1000]
        print(f"{row[0]:12} {row[1]:5}  {row[2]:10} {row[3]:8.2f}  {row[4]:24} {row[5]:8.2f}")
    print(f"{'all':12} {len(found):5}  {total['ours'][0]:10} {total['ours'][1] / len(found) * 1000:8.2f}"
          f"  {total['cn'][0]:24} {total['cn'][1] / len(found) * 1000:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
