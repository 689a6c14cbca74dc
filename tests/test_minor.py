"""What "minor" means: a table of edits and the judgement storage.policy makes of each."""
from __future__ import annotations

from typing import Any

import pytest

from storage.policy import VERSIONED_FIELDS, changed_fields, decide, is_minor

BEFORE: dict[str, Any] = {
    "title": "Experts discussed \"political transformation\"",
    "text": "First paragraph.\n\nSecond paragraph - with a dash.",
    "date_published": "2024-05-03T09:00:00+00:00",
    "date_modified": "2024-05-03T09:00:00+00:00",
    "author": "KazISS",
    "categories": ["Events"],
    "tags": ["politics"],
    "canonical_url": "https://kisi.kz/en/experts-discussed/",
    "attachments": [{"url": "https://kisi.kz/wp-content/uploads/2024/05/report.pdf", "sha256": "a" * 64}],
}
LATER = "2024-05-04T10:00:00+00:00"


@pytest.mark.parametrize("changes, minor", [
    # whitespace or typography only, with or without WordPress's bump of date_modified
    ({"text": "First paragraph.\n\nSecond  paragraph - with a dash. "}, True),
    ({"text": "First paragraph.\n\nSecond paragraph \u2013 with a dash.", "date_modified": LATER}, True),
    ({"title": "Experts discussed \u201cpolitical transformation\u201d", "date_modified": LATER}, True),
    ({"title": "Experts\u00a0discussed \"political transformation\"", "text": " " + BEFORE["text"]}, True),
    # only the modification date: an edit WordPress recorded, not a minor one
    ({"date_modified": LATER}, False),
    # a real change, alone or beside a whitespace one
    ({"text": "First paragraph.\n\nSecond paragraph, rewritten."}, False),
    ({"text": "First  paragraph.\n\nSecond paragraph - with a dash.", "title": "Another title"}, False),
    ({"tags": ["politics", "reform"], "date_modified": LATER}, False),
    ({"categories": ["events"]}, False),
    ({"canonical_url": "https://kisi.kz/en/experts-discussed-2/"}, False),
    ({"date_published": "2024-05-02T09:00:00+00:00"}, False),
    ({"author": "KISI"}, False),
    ({"author": None}, False),
    # the linked report's file changed, or a file was added
    ({"attachments": [{"url": "https://kisi.kz/wp-content/uploads/2024/05/report.pdf", "sha256": "b" * 64}]}, False),
    ({"attachments": [*BEFORE["attachments"], {"url": "https://kisi.kz/wp-content/uploads/2024/05/photo.jpg",
                                              "sha256": "c" * 64}]}, False),
    # nothing changed
    ({}, False),
])
def test_is_minor(changes: dict[str, Any], minor: bool) -> None:
    after = {**BEFORE, **changes}
    changed = changed_fields(BEFORE, after)
    assert set(changed) == set(changes)
    assert is_minor(BEFORE, after, changed) is minor
    decision = decide({**BEFORE, "kind": "edit", "version": 1}, after)
    assert decision.minor is minor and decision.kind == ("edit" if changes else "unchanged")


@pytest.mark.parametrize("changes", [
    {},  # back with the content it had
    {"date_modified": LATER},
    {"text": "First paragraph.\n\nSecond  paragraph - with a dash."},  # back with a whitespace edit
    {"title": "Another title"},
])
def test_a_restore_is_never_minor(changes: dict[str, Any]) -> None:
    decision = decide({**BEFORE, "kind": "tombstone", "version": 2}, {**BEFORE, **changes})
    assert decision.kind == "restored" and decision.store and decision.minor is False


def test_the_table_covers_every_versioned_field() -> None:
    assert set(VERSIONED_FIELDS) == set(BEFORE)


def test_one_paragraph_per_line_and_blank_lines_between_are_the_same_text() -> None:
    # Versions written before 1 December 2026 kept one paragraph per line; the same post read
    # today has a blank line between them: no new version, and no change in the diff.
    from storage.diff import text_hunks

    old_form = {**BEFORE, "text": BEFORE["text"].replace("\n\n", "\n"), "kind": "new", "version": 1}
    assert decide(old_form, BEFORE).kind == "unchanged"
    assert text_hunks(old_form["text"], BEFORE["text"]) == []
    assert decide(old_form, {**BEFORE, "text": BEFORE["text"] + "\n\nA third paragraph."}).kind == "edit"
