"""A storage.diff result laid out for HTML: inline rows, or side-by-side pairs of rows.

Pure data: templates render each row's segments, wrapping the changed words of a removed
line in <del> and of an added line in <ins>. Blank lines (the separators between
paragraphs) are left out of both views; line numbers still count them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import zip_longest

from storage.diff import DiffLine, Hunk, Segment


@dataclass(frozen=True)
class Row:
    op: str  # " ", "-", "+"
    number: int  # 1-based line of its own text (old for " " and "-", new for "+")
    segments: tuple[Segment, ...]  # the whole line as one unchanged segment when no word detail

    @property
    def whole(self) -> bool:
        """True when the line differs as a whole (no word-level detail): marked entirely."""
        return self.op != " " and not any(s.changed for s in self.segments) and len(self.segments) <= 1


@dataclass(frozen=True)
class Pair:
    left: Row | None  # the old text's line
    right: Row | None  # the new text's line


@dataclass(frozen=True)
class HunkView:
    header: str
    rows: list[Row] = field(default_factory=list)  # inline
    pairs: list[Pair] = field(default_factory=list)  # side by side


def _row(line: DiffLine, number: int) -> Row:
    return Row(line.op, number, line.segments or (Segment(line.text),))


def hunk_view(hunk: Hunk) -> HunkView:
    old, new = hunk.old_start, hunk.new_start
    rows: list[Row] = []
    pairs: list[Pair] = []
    removed: list[Row] = []
    added: list[Row] = []

    def flush() -> None:
        pairs.extend(Pair(a, b) for a, b in zip_longest(removed, added))
        removed.clear()
        added.clear()

    for line in hunk.lines:
        if line.op == " ":
            old, new = old + 1, new + 1
            if line.text.strip():
                flush()
                row = _row(line, old)
                rows.append(row)
                pairs.append(Pair(row, Row(" ", new, row.segments)))
            continue
        if line.op == "-":
            old += 1
            if added:  # a removal after additions starts a new block
                flush()
            row = _row(line, old)
            if line.text.strip():
                rows.append(row)
                removed.append(row)
        else:
            new += 1
            row = _row(line, new)
            if line.text.strip():
                rows.append(row)
                added.append(row)
    flush()
    return HunkView(hunk.header, rows, pairs)


def hunk_views(hunks: list[Hunk]) -> list[HunkView]:
    return [hunk_view(h) for h in hunks]
