"""The crawl policy as pure functions: rechecks, sweeps, removal decisions, retries, noise guards."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from crawler import plan
from crawler.extract import ExtractedPage
from crawler.guards import suspicious
from crawler.middlewares import backoff_seconds, retry_after_seconds

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("published, last_checked, due", [
    ("2026-11-27T12:00:00+00:00", "2026-11-27T12:00:00+00:00", True),   # a day old, checked a day ago
    ("2026-11-27T12:00:00+00:00", "2026-11-28T06:00:00+00:00", False),  # checked this morning
    ("2025-11-28T12:00:00+00:00", "2026-11-20T12:00:00+00:00", False),  # a year old: every ~36 days
    ("2025-11-28T12:00:00+00:00", "2026-10-01T12:00:00+00:00", True),
    ("2020-01-01T00:00:00+00:00", "2026-10-15T00:00:00+00:00", False),  # capped at 60 days
    ("2020-01-01T00:00:00+00:00", "2026-09-01T00:00:00+00:00", True),
    (None, None, True),                                                  # never checked
])
def test_recheck_thins_out_with_age(published: str | None, last_checked: str | None, due: bool) -> None:
    assert plan.RecheckPolicy().due(published, last_checked, NOW) is due


def test_sweep_schedule() -> None:
    day = timedelta(days=1)
    assert plan.sweep_due(None, day, NOW, full=False, pending_removals=False)
    assert not plan.sweep_due("2026-11-28T00:00:00+00:00", day, NOW, full=False, pending_removals=False)
    assert plan.sweep_due("2026-11-28T00:00:00+00:00", day, NOW, full=True, pending_removals=False)
    assert plan.sweep_due("2026-11-28T00:00:00+00:00", day, NOW, full=False, pending_removals=True)
    assert not plan.sweep_due(None, None, NOW, full=False, pending_removals=False)


def evidence(url_status: int | None = 404, short_status: int | None = 404, sources: tuple[str, ...] = ("rest",)) -> plan.Evidence:
    return plan.Evidence("https://x/p/", url_status, "https://x/?p=1", short_status, sources, plan.iso(NOW))


@pytest.mark.parametrize("url_status, short_status, sources, proves", [
    (404, 404, ("rest",), True),
    (410, 404, ("listing", "sitemap"), True),
    (404, 200, ("rest",), False),     # the shortlink still answers
    (503, 404, ("rest",), False),     # a server error proves nothing
    (429, 429, ("rest",), False),
    (None, 404, ("rest",), False),    # a timeout proves nothing
    (404, 404, (), False),            # no source was enumerated in full
])
def test_only_404_and_410_everywhere_prove_a_removal(url_status, short_status, sources, proves) -> None:
    assert evidence(url_status, short_status, sources).proves_gone is proves


def test_removal_is_confirmed_by_a_later_run_or_the_grace_period() -> None:
    first = plan.removal_decision(evidence(), None, "run-1", None, NOW)
    assert first.action == "pending"
    pending = {"first_seen_missing": first.first_seen_missing, "run_id": "run-1"}
    assert plan.removal_decision(evidence(), pending, "run-1", None, NOW).action == "pending"  # same run
    assert plan.removal_decision(evidence(), pending, "run-2", None, NOW).action == "tombstone"
    earlier = {"first_seen_missing": plan.iso(NOW - timedelta(days=3)), "run_id": "run-1"}
    assert plan.removal_decision(evidence(), earlier, "run-1", timedelta(days=2), NOW).action == "tombstone"
    assert plan.removal_decision(evidence(), None, "run-1", timedelta(0), NOW).action == "tombstone"
    assert plan.removal_decision(evidence(503), pending, "run-2", None, NOW).action == "none"


def test_high_water_never_passes_a_failed_fetch() -> None:
    seen = ["2026-11-01T10:00:00", "2026-11-03T10:00:00"]
    assert plan.high_water(None, seen, []) == "2026-11-03T10:00:00+00:00"
    assert plan.high_water(None, seen, ["2026-11-02T10:00:00"]) == "2026-11-02T09:59:59+00:00"
    assert plan.high_water("2026-11-05T00:00:00+00:00", [], []) == "2026-11-05T00:00:00+00:00"


def test_needs_fetch_compares_moments_not_strings() -> None:
    assert not plan.needs_fetch("2026-11-01T10:00:00+00:00", "2026-11-01T10:00:00")
    assert not plan.needs_fetch("2026-11-01T15:00:00+05:00", "2026-11-01T10:00:00Z")
    assert plan.needs_fetch("2026-11-01T10:00:00+00:00", "2026-11-01T10:00:01")
    assert plan.needs_fetch(None, "2026-11-01T10:00:00")
    assert not plan.needs_fetch("2026-11-01T10:00:00", None)


@pytest.mark.parametrize("text, expected", [("90s", 90), ("15m", 900), ("6h", 21600), ("2d", 172800), ("30", 30)])
def test_parse_duration(text: str, expected: int) -> None:
    assert plan.parse_duration(text) == timedelta(seconds=expected)
    with pytest.raises(ValueError):
        plan.parse_duration("soon")


def test_retry_after_header_forms() -> None:
    assert retry_after_seconds(b"120", NOW) == 120
    assert retry_after_seconds("Sat, 28 Nov 2026 12:00:30 GMT", NOW) == 30
    assert retry_after_seconds("Sat, 28 Nov 2026 11:00:00 GMT", NOW) == 0
    assert retry_after_seconds(None, NOW) is None and retry_after_seconds("whenever", NOW) is None
    assert [backoff_seconds(n, 2, 10) for n in (1, 2, 3, 4)] == [2, 4, 8, 10]


def page(**changes: object) -> ExtractedPage:
    base = dict(title="Experts met", text="A real event report. " * 40, canonical_url="https://x/p/", shortlink="https://x/?p=7",
                post_id=7, language="en", date_published=None, date_modified=None, author=None, categories=("Events",),
                tags=(), alternates={}, page_kind="post", extractor={"name": "trafilatura", "version": "x"}, warnings=())
    base.update(changes)
    return ExtractedPage(**base)  # type: ignore[arg-type]


def test_noise_guards() -> None:
    assert suspicious(page()) is None
    assert suspicious(page(text="")) == "nothing extractable"
    assert "block page" in suspicious(page(post_id=None, title="Just a moment...", text="Checking your browser"))
    assert "maintenance" in suspicious(page(post_id=None, title="Maintenance", text="Briefly unavailable for scheduled maintenance."))
    assert "login" in suspicious(page(post_id=None, title="Log In", text="Username or Email Address Password"))
    assert "soft 404" in suspicious(page(post_id=None, title="Page not found", text="Nothing was found here."))
    assert "another post" in suspicious(page(post_id=8), expected_post_id=7)
    assert "shorter" in suspicious(page(text="Short now."), previous_text_length=2000)
    assert suspicious(page(text="Short announcement, always was."), previous_text_length=150) is None
    # A real post that mentions maintenance is still a post: it names its id.
    assert suspicious(page(text="The seminar covered maintenance mode of dams. " * 20)) is None


RU = ("Круглый стол «Водная безопасность в Центральной Азии» прошёл в КИСИ. Эксперты ЕАЭС обсудили сокращение "
      "стока рек, модернизацию ирригационных систем и обмен гидрологическими данными между странами региона.")
KK = ("Астанада Орталық Азиядағы су қауіпсіздігіне арналған дөңгелек үстел өтті. Сарапшылар өзендер ағынының "
      "азаюын, суару жүйелерін жаңғыртуды және аймақ елдері арасындағы деректер алмасуды талқылады. Сізге рахмет!")
def misread(text: str, wrote: str, read: str) -> str:
    "The text written in one encoding and read in another (undefined bytes left out, as a lenient reader does)."
    return text.encode(wrote, "replace").decode(read, "replace").replace("\ufffd", "")


FR = "Le café servait une crème brûlée; la façade de l'hôtel, déjà vue à São Paulo et à Zürich, était naïve."


@pytest.mark.parametrize("title, text, reason", [
    # windows-1251 bytes read as UTF-8: replacement characters (the stored U+FFFD version)
    (RU.encode("cp1251").decode("utf-8", "replace")[:40], "A real text. " * 40, "title carries"),
    ("Круглый стол", RU.encode("cp1251").decode("utf-8", "replace"), "text carries"),
    # UTF-8 bytes read as windows-1252, windows-1251, Latin-1
    ("Круглый стол", misread(RU, "utf-8", "cp1252"), "UTF-8 read as windows-1252"),
    ("Круглый стол", misread(KK, "utf-8", "cp1251"), "UTF-8 read as windows-1251"),
    ("Круглый стол", misread(RU, "utf-8", "latin-1"), "UTF-8 read as windows-1252"),
    ("Круглый стол", misread(FR, "utf-8", "cp1252"), "UTF-8 read as windows-1252"),
    # read as windows-1251 twice ("Р\xa0СџРЎР‚")
    ("Круглый стол", misread(misread(RU, "utf-8", "cp1251"), "utf-8", "cp1251"), "UTF-8 read as windows-1251"),
    # windows-1251 bytes read as Latin-1 ("Ïðèâåò")
    ("Круглый стол", misread(RU, "cp1251", "latin-1"), "Cyrillic bytes read as Latin-1"),
    # undeclared KOI8-R read as windows-1251 (the stored mojibake)
    ("Круглый стол", misread(RU * 2, "koi8_r", "cp1251"), "one Cyrillic encoding read as another"),
    (misread("Круглый стол по водной безопасности", "utf-8", "cp1251"), "A real text. " * 40, "title is mojibake"),
])
def test_misdecoded_text_is_refused(title: str, text: str, reason: str) -> None:
    problem = suspicious(page(title=title, text=text))
    assert problem is not None and reason in problem
    assert problem.endswith(("was not decoded correctly", "decoded with the wrong encoding"))
    assert problem.count(":") <= 2  # one sentence, with one example


@pytest.mark.parametrize("title, text", [
    ("Круглый стол «ЕАЭС»", RU),
    ("Су қауіпсіздігі", KK),
    ("Café", FR),
    ("КРУГЛЫЙ СТОЛ", RU.upper()),  # capitals are not scrambling
    # one stray byte in a long page: kept (the decoder counted it), not refused
    ("Experts met", "A real event report. " * 40 + "\ufffd"),
    ("Experts met", "Price: 100 €, 5 °C, «quotes», — dashes… Ñandú, Ångström"),
])
def test_correctly_decoded_text_passes(title: str, text: str) -> None:
    assert suspicious(page(title=title, text=text)) is None
