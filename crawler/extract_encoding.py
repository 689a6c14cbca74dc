"""Decoding a response body the way browsers sniff it, without inventing text.

The WHATWG order: a byte order mark, then the HTTP charset, then ``<meta charset>`` /
``http-equiv`` (w3lib's prescan, which Scrapy uses too), then detection. Unlike a browser, a
declaration is only trusted when it fits the bytes, because an archive must hold the text the
author wrote, not a rendering of a server's wrong default:

- a body declared UTF-8 that is not UTF-8 (a legacy windows-1251 page behind a server that
  says ``charset=UTF-8``) is detected instead of being stored as U+FFFD;
- a body declared as a single-byte encoding that is valid UTF-8 with multi-byte characters in
  it is UTF-8 (random windows-1251 or Latin-1 text is practically never valid UTF-8);
- a body declared Latin-1/windows-1252 whose bytes read as Cyrillic words is Cyrillic;
- a body that is UTF-8 but for a few stray bytes stays UTF-8, with the count of replaced bytes.

Detection for legacy Cyrillic is a small letter-statistics heuristic (``cyrillic_score``):
measured on the fixture site's Russian texts in four encodings read in all five candidates,
the right reading scores 0.73-0.81 and every wrong one 0.29 at most (bench/bench_charset.py
compares it with charset-normalizer, which Scrapy and trafilatura already depend on: see
docs/performance.md). Pure functions; never raise.
"""

from __future__ import annotations

import codecs
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

UTF8 = "utf-8"
FALLBACK = "cp1252"  # WHATWG's fallback for pages that are neither UTF-8 nor anything else we know
# Legacy Cyrillic encodings, most common first (the first of near-equal readings wins).
CYRILLIC_CANDIDATES = ("cp1251", "koi8-r", "kz1048", "iso8859-5", "cp866")
CYRILLIC_MIN_SCORE = 0.4  # right readings score 0.73-0.81, wrong ones 0.29 at most (measured)
_PREFERENCE_MARGIN = 0.05
_SAMPLE = 256 * 1024  # detection looks at the first 256 KB: plenty of text, bounded work
# UTF-8 with stray bytes: at most one replaced byte per this many good multi-byte characters
_STRAY_RATIO = 50

_LOWER_LETTERS = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяіәғқңөұүһ"
# the most frequent letters of Russian (and Kazakh) text
_COMMON_LETTERS = "оеаинтсрвлкмдпуы"
_CYRILLIC_WORDS = re.compile("[\u0400-\u04ff]{3,}")
# Cyrillic letters neither Russian nor Kazakh uses: what a wrong Cyrillic codec produces
_FOREIGN_LETTERS = "ЂЃѓЉЊЌЋЏђљњќћџЎўЈҐЄЇґєјЅѕї"
# accented Latin letters in runs: how Cyrillic bytes read as Latin-1 look ("Ïðèâåò")
_LATIN1_RUNS = re.compile("[\u00c0-\u00ff]{3,}")
_LATIN1_LETTERS = re.compile("[\u00c0-\u00ff]")
_HIGH_RUNS = re.compile(rb"[\x80-\xff]+")
_CHARSET_PARAM = re.compile(r"charset\s*=\s*[\"']?([^\s;,\"']+)", re.I)
# WHATWG: a <meta> can only declare an ASCII-compatible encoding
_META_OVERRIDES = {"utf-16": UTF8, "utf-16-le": UTF8, "utf-16-be": UTF8, "x-user-defined": FALLBACK}

WARN_MISMATCH = "charset-mismatch"
WARN_STRAY = "invalid-utf-8"
WARN_GUESSED = "charset-guessed"
WARN_UNKNOWN = "unknown-charset"


@dataclass(frozen=True)
class DecodedBody:
    """A decoded response body and how it was decoded."""

    text: str
    encoding: str  # the Python codec used: "utf-8", "cp1251", "koi8-r", …
    source: str  # "bom", "http", "meta", "detected" or "default" (empty or ASCII-only)
    declared: dict[str, str]  # what the response declared: {"http": "utf-8", "meta": "cp1251"}
    confidence: float  # 1.0 for a BOM or a declaration that fits; the detection score otherwise
    replaced: int  # bytes that could not be decoded and became U+FFFD
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        "Everything but the text, for the snapshot."
        return {
            "encoding": self.encoding,
            "source": self.source,
            "declared": dict(self.declared),
            "confidence": self.confidence,
            "replaced": self.replaced,
            "warnings": list(self.warnings),
        }


def decode_body(body: bytes, content_type: str | bytes | None) -> DecodedBody:
    """Decode a response body (see the module docstring for the order). Never raises."""
    if isinstance(content_type, bytes):  # Scrapy's header values are bytes
        content_type = content_type.decode("latin-1")
    if not body:
        return DecodedBody("", UTF8, "default", {}, 1.0, 0)
    bom_encoding, bom = read_bom(body)
    if bom_encoding:
        text, replaced = _decode(body[len(bom) :], bom_encoding)
        return DecodedBody(text, bom_encoding, "bom", {}, 1.0, replaced)

    declared: dict[str, str] = {}
    warnings: list[str] = []
    http = _http_charset(content_type, warnings)
    if http:
        declared["http"] = http
        fitted = _fit_declared(body, http, "http")
        if fitted is not None:
            return _with_warnings(fitted, declared, warnings)
    meta = html_body_declared_encoding(body)
    if meta:
        declared["meta"] = meta = _META_OVERRIDES.get(meta, meta)
        fitted = _fit_declared(body, meta, "meta")
        if fitted is not None:
            if http:
                warnings.append(f"{WARN_MISMATCH}: declared {http} (http), decoded as {meta} (meta)")
            return _with_warnings(fitted, declared, warnings)
    found = detect(body)
    for source, encoding in declared.items():
        warnings.append(f"{WARN_MISMATCH}: declared {encoding} ({source}), decoded as {found.encoding}")
    return _with_warnings(found, declared, warnings)


def _with_warnings(found: DecodedBody, declared: dict[str, str], warnings: list[str]) -> DecodedBody:
    return DecodedBody(found.text, found.encoding, found.source, declared, found.confidence, found.replaced,
                       (*warnings, *found.warnings))


def _http_charset(content_type: str | None, warnings: list[str]) -> str | None:
    if not content_type:
        return None
    encoding = http_content_type_encoding(content_type)
    if encoding is None and (label := _CHARSET_PARAM.search(content_type)):
        warnings.append(f"{WARN_UNKNOWN}: {label[1][:40]} (http)")
    return encoding


def _fit_declared(body: bytes, encoding: str, source: str) -> DecodedBody | None:
    "The body decoded as declared, or None when the declaration does not fit the bytes."
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        return None
    if codec == UTF8:
        text = _strict_utf8(body)
        if text is not None:
            return DecodedBody(text, UTF8, source, {}, 1.0, 0)
        stray = _mostly_utf8(body)
        if stray is None:
            return None
        return DecodedBody(stray.text, UTF8, source, {}, stray.confidence, stray.replaced, stray.warnings)
    if codec.startswith(("utf-16", "utf-32")):
        text, replaced = _decode(body, encoding)
        return DecodedBody(text, encoding, source, {}, 1.0, replaced)
    # a single-byte (or legacy multi-byte) declaration
    if _has_multibyte_utf8(body):
        return None  # UTF-8 in disguise: detect() will say so
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError:
        return None  # bytes the encoding does not have: not this encoding
    if codec in ("cp1252", "iso8859-1", "iso8859-15") and _reads_as_cyrillic_mojibake(text[:_SAMPLE]):
        if best_cyrillic(body)[0] is not None:
            return None  # Cyrillic bytes behind a server's Latin-1 default
    elif codec in CYRILLIC_CANDIDATES and cyrillic_score(_high_runs(body).decode(codec, "replace")) < CYRILLIC_MIN_SCORE:
        best = best_cyrillic(body)[0]
        if best is not None and best != codec:
            return None  # another Cyrillic encoding reads it (koi8-r declared as windows-1251)
    return DecodedBody(text, encoding, source, {}, 1.0, 0)


def detect(body: bytes) -> DecodedBody:
    "Undeclared bytes: UTF-8 if they are (nearly) UTF-8, else the best Cyrillic codec, else cp1252."
    text = _strict_utf8(body)
    if text is not None:
        ascii_only = body.isascii()
        return DecodedBody(text, UTF8, "default" if ascii_only else "detected", {}, 1.0, 0)
    stray = _mostly_utf8(body)
    if stray is not None:
        return stray
    encoding, score = best_cyrillic(body)
    if encoding is not None:
        text, replaced = _decode(body, encoding)
        return DecodedBody(text, encoding, "detected", {}, round(score, 3), replaced)
    text, replaced = _decode(body, FALLBACK)
    return DecodedBody(text, FALLBACK, "detected", {}, 0.0, replaced,
                       (f"{WARN_GUESSED}: neither UTF-8 nor Cyrillic, read as {FALLBACK}",))


def _decode(body: bytes, encoding: str) -> tuple[str, int]:
    "Decode with U+FFFD for bad bytes; also count the U+FFFD that decoding introduced."
    try:
        text = body.decode(encoding, "replace")
    except LookupError:
        text, encoding = body.decode(UTF8, "replace"), UTF8
    literal = body.count("\ufffd".encode(encoding, "ignore")) if "\ufffd" in text else 0
    return text, max(0, text.count("\ufffd") - literal)


def _strict_utf8(body: bytes) -> str | None:
    "The body as UTF-8, tolerating only a multi-byte character cut at the very end; else None."
    try:
        return body.decode(UTF8)
    except UnicodeDecodeError as err:
        if err.reason != "unexpected end of data":
            return None
    try:  # a body cut inside its last character: that character is left out
        return codecs.getincrementaldecoder(UTF8)().decode(body, final=False)
    except UnicodeDecodeError:
        return None


def _mostly_utf8(body: bytes) -> DecodedBody | None:
    "UTF-8 but for a few stray bytes (one per fifty good characters at most), else None."
    text, replaced = _decode(body, UTF8)
    good = len(text) - len(text.encode("ascii", "ignore")) - replaced
    if replaced and good >= _STRAY_RATIO * replaced:
        return DecodedBody(text, UTF8, "detected", {}, round(1 - replaced / (good + replaced), 3), replaced,
                           (f"{WARN_STRAY}: {replaced} bytes replaced",))
    return None


def _has_multibyte_utf8(body: bytes) -> bool:
    "Valid UTF-8 holding at least two multi-byte characters (not an ASCII body)."
    if body.isascii():
        return False
    text = _strict_utf8(body)
    return text is not None and len(text) <= len(body) - 2


def _reads_as_cyrillic_mojibake(text: str) -> bool:
    "Accented Latin letters that come in runs, as Cyrillic bytes read as Latin-1 do."
    letters = len(text) - len(_LATIN1_LETTERS.sub("", text))
    if letters < 6:
        return False
    in_runs = sum(len(m) for m in _LATIN1_RUNS.findall(text))
    return in_runs >= 0.5 * letters


def cyrillic_score(text: str) -> float:
    """How much a decoded text reads as Russian or Kazakh, 0 to 1: the share of its non-ASCII
    characters that are Cyrillic letters, times the share of those in lower case, times the
    share of the frequent letters, times the share inside words of three letters or more,
    less the letters neither language has."""
    return _reading(text)[0]


def _reading(text: str) -> tuple[float, int]:
    "(score, letters foreign to Russian and Kazakh) of a decoded text."
    counts = Counter(text)
    non_ascii = sum(n for ch, n in counts.items() if ch > "\x7f")
    cyrillic = sum(n for ch, n in counts.items() if "\u0400" <= ch <= "\u04ff")
    if not non_ascii or not cyrillic:
        return 0.0, 0
    lower = sum(counts[ch] for ch in _LOWER_LETTERS)
    common = sum(counts[ch] for ch in _COMMON_LETTERS)
    foreign = sum(counts[ch] for ch in _FOREIGN_LETTERS)
    in_words = sum(len(m) for m in _CYRILLIC_WORDS.findall(text))
    score = ((cyrillic / non_ascii) * (lower / cyrillic) * (common / max(lower, 1)) * (in_words / cyrillic)
             * (1 - foreign / cyrillic))
    return score, foreign


def _high_runs(body: bytes) -> bytes:
    "The runs of non-ASCII bytes of the body's first 256 KB (ASCII reads the same in all candidates)."
    return b" ".join(_HIGH_RUNS.findall(body[:_SAMPLE]))


def best_cyrillic(body: bytes) -> tuple[str | None, float]:
    """The Cyrillic codec that reads the body best and its score, or (None, best score) when
    none reads well. Near-ties (windows-1251 and KZ-1048 share every Russian letter) go to
    the reading with fewer letters foreign to Russian and Kazakh, then to the commoner codec."""
    sample = _high_runs(body)
    readings = [(encoding, *_reading(sample.decode(encoding, "replace"))) for encoding in CYRILLIC_CANDIDATES]
    top = max(score for _, score, _ in readings)
    if top < CYRILLIC_MIN_SCORE:
        return None, top
    near = [(foreign, n, encoding, score) for n, (encoding, score, foreign) in enumerate(readings)
            if score >= top - _PREFERENCE_MARGIN]
    _, _, encoding, score = min(near)
    return encoding, score
