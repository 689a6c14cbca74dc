"""storage.diff: field-by-field, unified and word-level differences of two snapshots (pure)."""
from __future__ import annotations

import difflib

import pytest

from storage.diff import diff_snapshots, field_changes, text_hunks, tokens, word_ops


def snap(version: int, **fields) -> dict:
    base = {"doc_id": "kisi.kz-en-1", "version": version, "kind": "new" if version == 1 else "edit",
            "previous_version": version - 1 or None, "title": "Title", "text": "One.\n\nTwo.\n\nThree.",
            "date_published": "2025-01-01T00:00:00+00:00", "date_modified": "2025-01-01T00:00:00+00:00",
            "author": "Press", "categories": ["Events"], "tags": [], "canonical_url": "https://kisi.kz/en/a/",
            "fetched_at": f"2026-01-0{version}T00:00:00+00:00", "minor": False}
    base.update(fields)
    return base


PAIRS = [
    ("Experts discussed reforms.", "Experts discussed political reforms!"),
    ("Эксперты обсудили реформу.", "Эксперты подробно обсудили конституционную реформу."),
    ("Сарапшылар саяси трансформация үдерісін талқылады.", "Сарапшылар трансформация үдерісін талқылады"),
    ("", "Entirely new."),
    ("Gone.", ""),
    ("a\n\nb\n\nc", "a\n\nB\n\nc\n\nd"),
]


@pytest.mark.parametrize("old,new", PAIRS)
def test_word_ops_rebuild_both_texts(old: str, new: str) -> None:
    ops = word_ops(old, new)
    assert "".join(t for op, t in ops if op in ("equal", "delete")) == old
    assert "".join(t for op, t in ops if op in ("equal", "insert")) == new
    assert "".join(tokens(old)) == old


def test_word_ops_mark_only_the_changed_words() -> None:
    ops = word_ops("Эксперты обсудили реформу.", "Эксперты подробно обсудили реформу.")
    assert [(op, t.strip()) for op, t in ops if op != "equal"] == [("insert", "подробно")]


@pytest.mark.parametrize("old,new", PAIRS)
def test_unified_lines_match_difflib(old: str, new: str) -> None:
    diff = diff_snapshots(snap(1, text=old), snap(2, text=new))
    expected = list(difflib.unified_diff(old.split("\n"), new.split("\n"), lineterm=""))[2:]
    assert diff.unified()[2:] == expected
    assert diff.text_changed == (old != new)


def test_replaced_lines_carry_word_segments() -> None:
    hunks = text_hunks("One.\n\nExperts discussed reforms.\n\nThree.", "One.\n\nExperts discussed political reforms.\n\nThree.")
    changed = [line for hunk in hunks for line in hunk.lines if line.op != " "]
    assert [line.op for line in changed] == ["-", "+"]
    plus = changed[1]
    assert "".join(s.text for s in plus.segments) == plus.text
    assert [s.text.strip() for s in plus.segments if s.changed] == ["political"]
    assert not any(s.changed for s in changed[0].segments)


def test_fields_lists_and_order() -> None:
    old = snap(1)
    new = snap(2, title="New title", categories=["Events", "News"], tags=["water"], date_modified="2025-02-01T00:00:00+00:00",
               canonical_url="https://kisi.kz/en/b/")
    changes = {c.field: c for c in field_changes(old, new)}
    assert list(changes) == ["title", "date_modified", "categories", "tags", "canonical_url"]
    assert changes["categories"].added == ["News"] and changes["categories"].removed == []
    assert changes["tags"].to_json() == {"field": "tags", "from": [], "to": ["water"], "added": ["water"], "removed": []}
    assert changes["title"].to_json() == {"field": "title", "from": "Title", "to": "New title"}


def test_identical_and_json_shape() -> None:
    same = diff_snapshots(snap(1), snap(1))
    assert same.identical and same.unified() == [] and same.changed_fields == []
    data = diff_snapshots(snap(1), snap(2, title="T2", text="One.\n\nTwo!\n\nThree.", minor=True)).to_json()
    assert data["from_version"] == 1 and data["to_version"] == 2 and data["minor"] is True
    assert data["changed_fields"] == ["title", "text"]
    assert data["text"]["unified"].startswith("--- kisi.kz-en-1 v1\n+++ kisi.kz-en-1 v2\n@@ -1,5 +1,5 @@")
    hunk = data["text"]["hunks"][0]
    assert hunk["old_start"] == 1 and hunk["old_count"] == 5
    assert [line["op"] for line in hunk["lines"]] == [" ", " ", "-", "+", " ", " "]


def test_tombstone_is_identical_in_content_but_says_its_kind() -> None:
    tomb = snap(2, kind="tombstone", removal={"url_status": 404})
    diff = diff_snapshots(snap(1), tomb)
    assert diff.identical and diff.to_kind == "tombstone"


def test_reverse_order_is_allowed() -> None:
    diff = diff_snapshots(snap(2, title="B"), snap(1, title="A"))
    assert diff.from_version == 2 and diff.to_version == 1
    assert diff.fields[0].old == "B" and diff.fields[0].new == "A"


def test_a_rewritten_paragraph_gets_no_word_detail() -> None:
    hunks = text_hunks("Experts discussed the reform of the parliament.",
                       "A concert of the orchestra took place in the evening.")
    assert [(line.op, line.segments) for line in hunks[0].lines] == [("-", ()), ("+", ())]
