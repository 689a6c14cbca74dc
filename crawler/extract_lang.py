"""A document's language: what the page declares, cross-checked with the letters of its text.

Without a multilingual plugin ``<html lang>`` (and og:locale) is the site's language on every
page, even on a post written in another one; the hreflang of the page's own alternate and a
language directory in its URL (``/en/``, ``/kz/``) speak for the post itself. So the declared
language is, in this order: the hreflang pointing at this page, the URL's language directory,
``<html lang>``, og:locale, JSON-LD ``inLanguage``.

The text then has the last word where it can tell: Cyrillic text is not English whatever the
page declares; the letters ә ғ қ ң ө ұ ү һ і tell Kazakh from Russian (thresholds below,
measured); Latin text on a page declaring Russian or Kazakh is English only when it reads like
English. Pure functions; every decision comes with its evidence and a reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .extract_meta import language_code

# Letters only Kazakh uses among the Cyrillic alphabets of the site (Russian has none of them).
KAZAKH_LETTERS = "әғқңөұүһіӘҒҚҢӨҰҮҺІ"
# Share of Kazakh letters among the Cyrillic letters from which a text is Kazakh. Measured on
# the fixture site's and the golden cases' texts: Kazakh 13.2-17.1 %, Russian 0-1.9 % (a
# Russian text naming Бейбітшілік street or Тоқаев); 5 % sits well between.
KAZAKH_SHARE = 0.05
# Fewer letters than this and the text cannot overrule what the page declares (a title alone).
MIN_LETTERS = 40
# A script is the text's when it has this share of its letters; below, the text is mixed.
DOMINANT_SHARE = 0.6
# Latin text reads as English when this share of its words are English function words.
ENGLISH_SHARE = 0.08
ENGLISH_WORDS = frozenset(
    "the of and to in a is on for with was were by that as at from are this be an has have it its "
    "which their or not also will".split()
)
CYRILLIC_LANGUAGES = frozenset({"ru", "kk", "uk", "be", "bg", "sr", "mk", "ky", "tg", "mn", "tt", "ba", "cv"})
# A URL's language directory: the first path segment (after a Joomla-style /index.php), or WPML's ?lang=
_URL_LANGUAGES = frozenset({"en", "ru", "kk", "kz"})

_LATIN_WORD = re.compile(r"[A-Za-z]+")
# Counted on the UTF-8 bytes, at C speed (a regular expression over a long Russian post costs a
# millisecond): U+0400-U+04FF is exactly the characters whose lead byte is D0-D3; accented Latin
# letters (U+00C0-U+024F) lead with C3-C8 (less × and ÷); the Kazakh letters lead with D2 or D3,
# but і/І (D1 96, D0 86); Russian has none of those bytes, so Russian texts skip the exact count.
_ASCII_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _all_but(keep: bytes) -> bytes:
    return bytes(b for b in range(256) if b not in keep)


_NOT_ASCII_LETTERS = _all_but(_ASCII_LETTERS)
_NOT_CYRILLIC_LEADS = _all_but(bytes(range(0xD0, 0xD4)))
_NOT_LATIN_LEADS = _all_but(bytes(range(0xC3, 0xC9)))
_NOT_EXTENDED_CYRILLIC_LEADS = _all_but(b"\xd2\xd3")
_NOT_LETTERS = ("×".encode(), "÷".encode())
_I_LETTERS = ("і".encode(), "І".encode())


# the declared sources, most specific first
SOURCES = ("hreflang", "url", "html_lang", "og_locale", "json_ld")


@dataclass(frozen=True)
class Letters:
    latin: int
    cyrillic: int
    kazakh: int

    @property
    def total(self) -> int:
        return self.latin + self.cyrillic


def count_letters(text: str) -> Letters:
    "Latin, Cyrillic and Kazakh-only letters of a text."
    data = text.encode("utf-8", "ignore")
    latin = len(data.translate(None, _NOT_ASCII_LETTERS))
    if data.isascii():
        return Letters(latin=latin, cyrillic=0, kazakh=0)
    accented = len(data.translate(None, _NOT_LATIN_LEADS))
    if accented:
        latin += accented - sum(data.count(c) for c in _NOT_LETTERS)
    cyrillic = len(data.translate(None, _NOT_CYRILLIC_LEADS))
    kazakh = 0
    if cyrillic and (data.translate(None, _NOT_EXTENDED_CYRILLIC_LEADS) or any(c in data for c in _I_LETTERS)):
        kazakh = sum(text.count(ch) for ch in KAZAKH_LETTERS)
    return Letters(latin=latin, cyrillic=cyrillic, kazakh=kazakh)


def english_share(text: str) -> float:
    "Share of the Latin words of a text that are English function words."
    words = _LATIN_WORD.findall(text)
    if not words:
        return 0.0
    return sum(w.lower() in ENGLISH_WORDS for w in words) / len(words)


def url_language(url: str | None) -> str | None:
    "The language a URL names: /en/…, /kz/…, /index.php/ru/…, or ?lang=en (raw, as written)."
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    segments = [unquote(s).lower() for s in parts.path.split("/") if s]
    if segments and segments[0] == "index.php":
        segments = segments[1:]
    if segments and segments[0] in _URL_LANGUAGES:
        return segments[0]
    for value in parse_qs(parts.query).get("lang", ()):
        if value.lower() in _URL_LANGUAGES:
            return value.lower()
    return None


def json_ld_language(objects: list[dict[str, Any]]) -> str | None:
    for obj in objects:
        value = obj.get("inLanguage")
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def declared_language(declared: dict[str, str]) -> tuple[str | None, str | None]:
    "(code, source) of the first declared source that names a language."
    for source in SOURCES:
        if (code := language_code(declared.get(source))) is not None:
            return code, source
    return None, None


def decide_language(declared: dict[str, str], text: str) -> tuple[str | None, dict[str, Any]]:
    """The document's language and the evidence: ``declared`` maps sources (see SOURCES) to
    the values the page wrote; ``text`` is its title and main text."""
    code, source = declared_language(declared)
    letters = count_letters(text)
    evidence: dict[str, Any] = {
        "declared": {k: declared[k] for k in SOURCES if declared.get(k)},
        # what the page alone says, normalized: stable across edits of the text, unlike the decision
        "declared_language": code,
        "declared_source": source,
        "letters": {"latin": letters.latin, "cyrillic": letters.cyrillic, "kazakh": letters.kazakh},
    }
    said = f"declared {code} ({source})" if code else "nothing declared"
    decision, reason = _decide(code, said, letters, text, evidence)
    evidence["decision"] = decision
    evidence["reason"] = reason
    return decision, evidence


def _decide(code: str | None, said: str, letters: Letters, text: str, evidence: dict[str, Any]) -> tuple[str | None, str]:
    if letters.total < MIN_LETTERS:
        return code, f"{said}; too little text to check ({letters.total} letters)"
    if letters.cyrillic >= DOMINANT_SHARE * letters.total:
        if code in CYRILLIC_LANGUAGES - {"ru", "kk"}:
            return code, f"{said}; Cyrillic text agrees"
        share = letters.kazakh / letters.cyrillic
        evidence["kazakh_share"] = round(share, 4)
        found = "kk" if share >= KAZAKH_SHARE else "ru"
        why = (f"Kazakh letters are {share:.1%} of the Cyrillic ones "
               f"({'at least' if found == 'kk' else 'under'} {KAZAKH_SHARE:.0%})")
        if found == code:
            return found, f"{said}; {why}"
        return found, f"{said}, but the text is Cyrillic and {why}"
    if letters.latin >= DOMINANT_SHARE * letters.total:
        if code is not None and code not in CYRILLIC_LANGUAGES:
            return code, f"{said}; Latin-script text agrees"
        share = english_share(text)
        evidence["english_words"] = round(share, 4)
        if share >= ENGLISH_SHARE:
            return "en", f"{said}, but the text is in Latin script and reads as English ({share:.0%} function words)"
        return None, f"{said}, but the text is in Latin script and not recognisably English ({share:.0%} function words)"
    return code, f"{said}; the text mixes scripts ({letters.cyrillic} Cyrillic, {letters.latin} Latin letters)"
