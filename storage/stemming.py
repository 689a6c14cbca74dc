"""Light stemmers for search queries in Russian, Kazakh and English (pure functions).

The full-text index stores words as written (FTS5 unicode61: case-folded, no stemming), so
`экспертами` does not match `эксперты`. `search --stem` turns each query word into its stem
used as a prefix (`эксперт*`), which finds the inflected forms. Stemming only the query keeps
the index language-neutral and snippets exact; the price is some over-matching (a stem
prefix also matches longer, unrelated words) and no help with stem alternations
(`друг`/`друзья`, Kazakh vowel harmony in the stem itself). See docs/index.md.

- Russian: the Snowball Russian algorithm (Porter's), unchanged.
- Kazakh: strips one case (or common verb) ending, one possessive and one plural ending,
  while a stem of at least four letters remains (Kazakh is agglutinative: `Қазақстандағы`
  -> `қазақстан`, `депутаттары` -> `депутат`).
- English: strips a few inflectional endings (`discussed` -> `discuss`).
"""
from __future__ import annotations

import re

__all__ = ["stem", "stem_russian", "stem_kazakh", "stem_english", "script_language"]

# Letters that only Kazakh (among ru/kk) uses: a word with one of them is Kazakh.
KAZAKH_LETTERS = frozenset("әғқңөұүһі")
MIN_STEM = 3

# ---------------------------------------------------------------------------------------
# Russian: Snowball (https://snowballstem.org/algorithms/russian/stemmer.html)
_RU_VOWELS = "аеиоуыэюя"
_PERFECTIVE_GERUND_1 = ("вшись", "вши", "в")  # preceded by а or я
_PERFECTIVE_GERUND_2 = ("ившись", "ывшись", "ивши", "ывши", "ив", "ыв")
_ADJECTIVE = ("ими", "ыми", "его", "ого", "ему", "ому", "ее", "ие", "ые", "ое", "ей", "ий", "ый", "ой", "ем",
              "им", "ым", "ом", "их", "ых", "ую", "юю", "ая", "яя", "ою", "ею")
_PARTICIPLE_1 = ("ем", "нн", "вш", "ющ", "щ")  # preceded by а or я
_PARTICIPLE_2 = ("ивш", "ывш", "ующ")
_REFLEXIVE = ("ся", "сь")
_VERB_1 = ("ете", "йте", "ешь", "нно", "ла", "на", "ли", "ем", "ло", "но", "ет", "ют", "ны", "ть", "й", "л", "н")
_VERB_2 = ("уйте", "ейте", "ила", "ыла", "ена", "ите", "или", "ыли", "ило", "ыло", "ено", "ует", "уют", "ены",
           "ить", "ыть", "ишь", "ей", "уй", "ил", "ыл", "им", "ым", "ен", "ят", "ит", "ыт", "ую", "ю")
_NOUN = ("иями", "ями", "ами", "ией", "иям", "ием", "иях", "ев", "ов", "ие", "ье", "еи", "ии", "ей", "ой", "ий",
         "ям", "ем", "ам", "ом", "ах", "ях", "ию", "ью", "ия", "ья", "а", "е", "и", "й", "о", "у", "ы", "ь", "ю", "я")
_SUPERLATIVE = ("ейше", "ейш")
_DERIVATIONAL = ("ость", "ост")


def _longest(word: str, endings: tuple[str, ...]) -> str | None:
    best = None
    for ending in endings:
        if word.endswith(ending) and (best is None or len(ending) > len(best)):
            best = ending
    return best


def _strip_group(rv: str, group1: tuple[str, ...], group2: tuple[str, ...]) -> str | None:
    """Remove the longest ending of group2, or of group1 when preceded by а/я (kept)."""
    candidates = []
    e2 = _longest(rv, group2)
    if e2:
        candidates.append((len(e2), rv[: -len(e2)]))
    for ending in group1:
        if rv.endswith(ending) and len(rv) > len(ending) and rv[-len(ending) - 1] in "ая":
            candidates.append((len(ending), rv[: -len(ending)]))
    if not candidates:
        return None
    return max(candidates, key=lambda c: c[0])[1]


def _regions(word: str) -> tuple[int, int]:
    """Start of RV and of R2 (indices into word)."""
    rv = len(word)
    for i, ch in enumerate(word):
        if ch in _RU_VOWELS:
            rv = i + 1
            break

    def r_after(start: int) -> int:
        for i in range(start + 1, len(word)):
            if word[i] not in _RU_VOWELS and word[i - 1] in _RU_VOWELS:
                return i + 1
        return len(word)

    r1 = r_after(0)
    r2 = r_after(r1)
    return rv, r2


def _strip_adjectival(rv: str) -> str | None:
    adjective = _longest(rv, _ADJECTIVE)
    if not adjective:
        return None
    base = rv[: -len(adjective)]
    participle = _strip_group(base, _PARTICIPLE_1, _PARTICIPLE_2)
    return participle if participle is not None else base


def stem_russian(word: str) -> str:
    """The Snowball Russian stem of one lower-case word."""
    word = word.lower().replace("ё", "е")
    rv_start, r2_start = _regions(word)
    head, rv = word[:rv_start], word[rv_start:]
    # Step 1
    stripped = _strip_group(rv, _PERFECTIVE_GERUND_1, _PERFECTIVE_GERUND_2)
    if stripped is None:
        reflexive = _longest(rv, _REFLEXIVE)
        if reflexive:
            rv = rv[: -len(reflexive)]
        for step in (_strip_adjectival,
                     lambda r: _strip_group(r, _VERB_1, _VERB_2),
                     lambda r: (r[: -len(e)] if (e := _longest(r, _NOUN)) else None)):
            result = step(rv)
            if result is not None:
                stripped = result
                break
        else:
            stripped = rv
    rv = stripped
    # Step 2
    if rv.endswith("и"):
        rv = rv[:-1]
    # Step 3: DERIVATIONAL in R2
    derivational = _longest(rv, _DERIVATIONAL)
    if derivational and rv_start + len(rv) - len(derivational) >= r2_start:
        rv = rv[: -len(derivational)]
    # Step 4
    if rv.endswith("нн"):
        rv = rv[:-1]
    else:
        superlative = _longest(rv, _SUPERLATIVE)
        if superlative:
            rv = rv[: -len(superlative)]
            if rv.endswith("нн"):
                rv = rv[:-1]
        elif rv.endswith("ь"):
            rv = rv[:-1]
    return head + rv


# ---------------------------------------------------------------------------------------
# Kazakh: agglutinative, stem + plural + possessive + case (or a verb ending), each ending in
# back/front vowel-harmony and assimilated-consonant variants. Stripped from the end, one
# ending per layer, so a stem that happens to end like a case ending (Қазақстан) survives.
def _by_length(*endings: str) -> tuple[str, ...]:
    return tuple(sorted(set(endings), key=len, reverse=True))


_KK_CASE = _by_length(
    "ның", "нің", "дың", "дің", "тың", "тің",  # genitive
    "ға", "ге", "қа", "ке", "на", "не",  # dative
    "ны", "ні", "ды", "ді", "ты", "ті", "ын", "ін",  # accusative
    "нда", "нде", "да", "де", "та", "те",  # locative
    "нан", "нен", "дан", "ден", "тан", "тен",  # ablative
    "мен", "бен", "пен",  # instrumental
    "ндағы", "ндегі", "дағы", "дегі", "тағы", "тегі",  # "the one in"
    "ған", "ген", "қан", "кен", "атын", "етін", "йтын", "йтін", "ады", "еді", "йды", "йді", "у",  # verb forms
)
_KK_POSSESSIVE = _by_length("ымыз", "іміз", "мыз", "міз", "ыңыз", "іңіз", "ңыз", "ңіз", "ым", "ім", "ың", "ің",
                            "сы", "сі", "ы", "і")
_KK_PLURAL = _by_length("лар", "лер", "дар", "дер", "тар", "тер")
_KK_MIN = 4


def stem_kazakh(word: str) -> str:
    """Strip one case (or verb), one possessive and one plural ending, keeping four letters."""
    word = word.lower()
    for layer in (_KK_CASE, _KK_POSSESSIVE, _KK_PLURAL):
        for ending in layer:
            if word.endswith(ending) and len(word) - len(ending) >= _KK_MIN:
                word = word[: -len(ending)]
                break
    return word


# ---------------------------------------------------------------------------------------
_EN_ENDINGS = ("ational", "ations", "ation", "ings", "ing", "ies", "ied", "ed", "es", "ly", "s")


def stem_english(word: str) -> str:
    """Strip one common English inflectional ending (enough for prefix matching)."""
    word = word.lower()
    for ending in _EN_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= MIN_STEM and not word.endswith("ss"):
            return word[: -len(ending)]
    return word


_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def script_language(word: str) -> str | None:
    """'kk' for a word with Kazakh-only letters, 'cyrl' for other Cyrillic, 'en' for Latin, else None."""
    lowered = word.lower()
    if any(ch in KAZAKH_LETTERS for ch in lowered):
        return "kk"
    if _CYRILLIC.search(lowered):
        return "cyrl"
    if re.search(r"[a-z]", lowered):
        return "en"
    return None


def stem(word: str, language: str | None = None) -> set[str]:
    """Stems of a query word: one per plausible language, never shorter than three letters.

    With `language` ('ru', 'kk', 'en') only that language's stemmer is used; without it the
    script decides, and a Cyrillic word without Kazakh-only letters gets both the Russian
    and the Kazakh stem (the two languages share the alphabet).
    """
    script = script_language(word)
    if script is None:
        return {word.lower()}
    if language in ("ru", "kk", "en"):
        candidates = {language}
    elif script == "cyrl":
        candidates = {"ru", "kk"}
    else:
        candidates = {script}
    stemmers = {"ru": stem_russian, "kk": stem_kazakh, "en": stem_english}
    out = set()
    for lang in candidates:
        result = stemmers[lang](word)
        out.add(result if len(result) >= MIN_STEM else word.lower())
    return out
