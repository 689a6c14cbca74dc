"""Noise guards: is this response really the post, or something served in its place?

A CAPTCHA or block page, a maintenance or login page, a soft 404, an empty body, a body
drastically shorter than the version we hold, or text that was decoded with the wrong
encoding (replacement characters, mojibake) must never become a version. Pure functions.
"""
from __future__ import annotations

import re

from crawler.extract import WARN_TRUNCATED, ExtractedPage

# Phrases of pages that stand in for content: anti-bot walls, maintenance mode, login
# walls, "not found" templates served with 200. Matched against title + start of text.
_BLOCK_PATTERNS = [
    (re.compile(p, re.IGNORECASE), kind)
    for p, kind in (
        (r"captcha|are you a human|verify you are human|just a moment|attention required|access denied"
         r"|checking your browser|ddos protection|request blocked", "block page"),
        (r"briefly unavailable for scheduled maintenance|under maintenance|maintenance mode"
         r"|технические работы|сайт на обслуживании", "maintenance page"),
        (r"\blog ?in\b.*\bpassword\b|username or email address|lost your password|войти|вход на сайт", "login page"),
        (r"page not found|nothing (was )?found|oops! that page can|страница не найдена|404", "soft 404"),
    )
]
# A stand-in page that names a post id is believed one only below this many characters of text.
STAND_IN_MAX_TEXT = 1000
# Below this share of the previous text, a new text is treated as a broken page, not an edit.
SHRINK_LIMIT = 0.3
# Texts shorter than this are too small to judge by shrinkage (short announcements exist).
SHRINK_MIN_PREVIOUS = 400

REPLACEMENT = "\ufffd"
# A text may hold a stray U+FFFD or two (one bad byte in a long page is kept, and counted by
# the decoder); at least this many, and one per thousand characters, mean a wrong decoding.
REPLACEMENT_MIN = 3
REPLACEMENT_PER_MILLE = 1
# How text in the wrong encoding looks, by what was misread as what:
_CONTINUATIONS_1252 = "\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"
# the cp1251 characters of the bytes 0x80-0xBF, but «, », і, І, ё, Ё (they follow Р or С in real text)
_CONTINUATIONS_1251 = "ЂЃ‚ѓ„…†‡€‰Љ‹ЊЌЋЏђ‘’“”•–—™љ›њќћџЎўЈ¤Ґ¦§©Є¬®Ї°±ґµ¶·№єјЅѕї\u00a0\u00ad"
MOJIBAKE = (
    # "Ïðèâåò": windows-1251 (or KOI8-R) bytes read as Latin-1: whole words of accented letters
    (re.compile("[\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff]{4,}"), "Cyrillic bytes read as Latin-1"),
    # "ÐŸÑ€Ð¸Ð²ÐµÑ‚": UTF-8 Cyrillic (or "Ã©" accented Latin) read as windows-1252 / Latin-1
    (re.compile(f"[ÂÃÐÑÒÓ][{_CONTINUATIONS_1252}]"), "UTF-8 read as windows-1252"),
    # "РџСЂРёРІРµС‚": UTF-8 Cyrillic read as windows-1251 (twice: "Р\xa0СџРЎР‚")
    (re.compile(f"[РСТУ][{_CONTINUATIONS_1251}]"), "UTF-8 read as windows-1251"),
)
# at least this many hits, and one per hundred letters, make a text mojibake
MOJIBAKE_MIN = 3
MOJIBAKE_PER_CENT = 1
# KOI8-R read as windows-1251 (or the other way round) gives real Cyrillic letters, scrambled:
# the frequent letters of Russian and Kazakh make 81-86 % of the letters of the fixture site's
# texts (capitals or not) and 32-61 % of the same texts misread; judged from 100 letters on.
FREQUENT_CYRILLIC = frozenset("оеаинтсрвлкмдпуыіәқ")
FREQUENT_MIN_SHARE = 0.7
SCRAMBLED_MIN_LETTERS = 100
_CYRILLIC_LEADS = (b"\xd0", b"\xd1", b"\xd2", b"\xd3")
_FREQUENT_UTF8 = tuple(letter.encode("utf-8") for letter in sorted(FREQUENT_CYRILLIC))


# The verdict of `misdecoded` on a page, when the extraction worker judged it already
# (crawler/pool.py): an attribute beside the dataclass's fields, so a page's fields (its
# golden files, its snapshot) are what they were. It travels with the page when pickled.
_MISDECODED = "_kisi_misdecoded"


def prejudge(page: ExtractedPage) -> ExtractedPage:
    """Judge the page's decoding now (in the extraction worker, off the crawl's thread:
    the mojibake patterns cost about 1 ms a page); `suspicious` then uses the verdict."""
    object.__setattr__(page, _MISDECODED, misdecoded(page.title or "", page.text))
    return page


def suspicious(page: ExtractedPage, *, expected_post_id: int | None = None,
               previous_text_length: int | None = None) -> str | None:
    """Why this page must not be stored as a version of the post, or None when it looks right."""
    if not page.text.strip():
        return "nothing extractable"
    if WARN_TRUNCATED in page.warnings:
        # libxml2 stops at 256 levels of nesting (a limit kept: it bounds the recursion of
        # every step after it), and what lies deeper is dropped: a version would be cut.
        return "its HTML nests elements deeper than 256 levels, so its text would be cut short"
    judged = page.__dict__.get(_MISDECODED, _MISDECODED)
    if problem := (misdecoded(page.title or "", page.text) if judged is _MISDECODED else judged):
        return problem
    head = f"{page.title or ''}\n{page.text[:300]}"
    if page.post_id is None:
        # A real post page names its id; a stand-in page usually does not.
        for pattern, kind in _BLOCK_PATTERNS:
            if pattern.search(head):
                return f"{kind} served instead of the post"
    elif len(page.text) < STAND_IN_MAX_TEXT:
        # Some do (an anti-bot layer keeping the theme's body class): then the title must say
        # so, and the text be short. Not "404": a real post's title may hold the number.
        for pattern, kind in _BLOCK_PATTERNS:
            if kind != "soft 404" and pattern.search(page.title or ""):
                return f"{kind} served instead of the post (though it names post id {page.post_id})"
    if expected_post_id is not None and page.post_id is not None and page.post_id != expected_post_id:
        return f"another post (id {page.post_id}) served instead of post {expected_post_id}"
    if (previous_text_length and previous_text_length >= SHRINK_MIN_PREVIOUS
            and len(page.text) < SHRINK_LIMIT * previous_text_length):
        return (f"text drastically shorter than the stored version "
                f"({len(page.text)} vs {previous_text_length} characters)")
    return None


def misdecoded(title: str, text: str) -> str | None:
    """Why a title and text look decoded with the wrong encoding (replacement characters,
    mojibake), or None."""
    for name, value, at_least in (("title", title, 1), ("text", text, REPLACEMENT_MIN)):
        count = value.count(REPLACEMENT)
        if count >= at_least and count * 1000 >= REPLACEMENT_PER_MILLE * len(value):
            return (f"{name} carries {count} replacement character{'s' if count > 1 else ''} (U+FFFD): "
                    f"the body was not decoded correctly")
    for name, value in (("title", title), ("text", text)):
        if kind := mojibake(value):
            return f"{name} is mojibake ({kind}): the body was decoded with the wrong encoding"
    return None


def mojibake(value: str) -> str | None:
    """Which misreading a text shows ("UTF-8 read as windows-1251", …) with a sample, or None."""
    # This runs on the crawl's reactor thread for every post: letters are counted only when a
    # pattern hits, and Cyrillic letters as bytes of UTF-8 (each letter of U+0400-U+04FF is
    # one of the lead bytes D0-D3 and a continuation byte), at C speed.
    value = value[:20_000]
    letters: int | None = None
    for pattern, kind in MOJIBAKE:
        hits = pattern.findall(value)
        if len(hits) < MOJIBAKE_MIN:
            continue
        if letters is None:
            letters = sum(map(str.isalpha, value))
        if len(hits) * 100 >= MOJIBAKE_PER_CENT * letters:
            first = pattern.search(value)
            return f'{kind}, e.g. "{_sample(value, first.start(), first.end())}"'
    encoded = value.lower().encode("utf-8", "surrogatepass")
    cyrillic = sum(map(encoded.count, _CYRILLIC_LEADS))
    if cyrillic >= SCRAMBLED_MIN_LETTERS:
        frequent = sum(map(encoded.count, _FREQUENT_UTF8)) / cyrillic
        if frequent < FREQUENT_MIN_SHARE:
            start = next(n for n, ch in enumerate(value) if "\u0400" <= ch <= "\u04ff")
            return (f"one Cyrillic encoding read as another, frequent letters only {frequent:.0%} of the Cyrillic ones, "
                    f'e.g. "{_sample(value, start, start + 1)}"')
    return None


def _sample(value: str, start: int, end: int) -> str:
    return value[max(0, start - 4) : end + 12].replace("\n", " ")
