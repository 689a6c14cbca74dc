"""What changed between two snapshots: field by field, and the text line by line and word by word.

Pure functions of two snapshot mappings (the JSON of docs/archive-format.md); no I/O and
no terminal codes: `diff` in the CLI renders the result, `--json` prints `to_json()`.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from .policy import paragraphs

# The fields compared one by one, in the order they are shown (text is diffed separately).
DIFF_FIELDS: tuple[str, ...] = (
    "title", "date_published", "date_modified", "author", "categories", "tags", "canonical_url", "attachments",
)
LIST_FIELDS = frozenset({"categories", "tags", "attachments"})
# Word-level detail only for a block that kept at least this share of its text.
WORD_DIFF_MIN_SHARED = 0.5
# Words, runs of spaces and single punctuation marks: the units of the word-level diff.
_WORD = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any
    added: list[str] | None = None  # for list fields: values only in new
    removed: list[str] | None = None  # for list fields: values only in old

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"field": self.field, "from": self.old, "to": self.new}
        if self.added is not None:
            data["added"] = self.added
            data["removed"] = self.removed
        return data


@dataclass(frozen=True)
class Segment:
    """A piece of a diff line; `changed` pieces are the words that differ (highlighted)."""

    text: str
    changed: bool = False


@dataclass(frozen=True)
class DiffLine:
    op: str  # " " context, "-" only in the old text, "+" only in the new text
    text: str
    segments: tuple[Segment, ...] = ()  # word-level detail of a replaced line

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"op": self.op, "text": self.text}
        if self.segments:
            data["words"] = [{"text": s.text, "changed": s.changed} for s in self.segments]
        return data


@dataclass(frozen=True)
class Hunk:
    old_start: int  # 0-based index of the hunk's first line in the old text
    old_count: int
    new_start: int
    new_count: int
    lines: tuple[DiffLine, ...]

    @property
    def header(self) -> str:
        return f"@@ -{_range(self.old_start, self.old_count)} +{_range(self.new_start, self.new_count)} @@"

    def to_json(self) -> dict[str, Any]:
        # Line numbers are 1-based (the first line of the hunk in each text).
        return {"header": self.header, "old_start": self.old_start + 1, "old_count": self.old_count,
                "new_start": self.new_start + 1, "new_count": self.new_count,
                "lines": [line.to_json() for line in self.lines]}


@dataclass(frozen=True)
class SnapshotDiff:
    doc_id: str
    from_version: int
    to_version: int
    from_kind: str
    to_kind: str
    from_fetched_at: str | None
    to_fetched_at: str | None
    fields: list[FieldChange]
    hunks: list[Hunk]
    identical: bool
    minor: bool  # the newer snapshot says its change was only whitespace/punctuation
    changed_fields: list[str] = field(default_factory=list)
    # Why the newer version exists ("site" or "extractor"), and the extractors before and
    # after when it is the extractor's (docs/archive-format.md).
    cause: str = "site"
    extractor_before: dict[str, str] | None = None
    extractor_after: dict[str, str] | None = None

    @property
    def text_changed(self) -> bool:
        return bool(self.hunks)

    def unified(self) -> list[str]:
        """The text diff as unified-diff lines (what `diff -u` would print)."""
        if not self.hunks:
            return []
        out = [f"--- {self.doc_id} v{self.from_version}", f"+++ {self.doc_id} v{self.to_version}"]
        for hunk in self.hunks:
            out.append(hunk.header)
            out.extend(line.op + line.text for line in hunk.lines)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "from_kind": self.from_kind,
            "to_kind": self.to_kind,
            "from_fetched_at": self.from_fetched_at,
            "to_fetched_at": self.to_fetched_at,
            "identical": self.identical,
            "minor": self.minor,
            "changed_fields": self.changed_fields,
            "cause": self.cause,
            "extractor_before": self.extractor_before,
            "extractor_after": self.extractor_after,
            "fields": [change.to_json() for change in self.fields],
            "text": {
                "changed": self.text_changed,
                "unified": "\n".join(self.unified()),
                "hunks": [hunk.to_json() for hunk in self.hunks],
            },
        }


def _range(start: int, count: int) -> str:
    # As difflib.unified_diff: 1-based start, count omitted when 1, start-1 for an empty range.
    if count == 1:
        return f"{start + 1}"
    if count == 0:
        return f"{start},0"
    return f"{start + 1},{count}"


def tokens(text: str) -> list[str]:
    """Words, whitespace runs and punctuation marks; joined, they give back `text`."""
    return _WORD.findall(text)


def word_ops(old: str, new: str) -> list[tuple[str, str]]:
    """A word-level edit script: ("equal" | "delete" | "insert", text) pieces.

    Joining the "equal" and "delete" pieces gives `old`; "equal" and "insert" give `new`.
    """
    a, b = tokens(old), tokens(new)
    ops: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            ops.append(("equal", "".join(a[i1:i2])))
            continue
        if tag in ("delete", "replace"):
            ops.append(("delete", "".join(a[i1:i2])))
        if tag in ("insert", "replace"):
            ops.append(("insert", "".join(b[j1:j2])))
    return ops


def _split_lines(ops: list[tuple[str, str]], side: str) -> list[list[Segment]]:
    """One side of a word diff ("delete" = old, "insert" = new) cut back into lines."""
    lines: list[list[Segment]] = [[]]
    for op, text in ops:
        if op not in ("equal", side):
            continue
        for i, part in enumerate(text.split("\n")):
            if i:
                lines.append([])
            if not part:
                continue
            line, changed = lines[-1], op != "equal"
            if line and line[-1].changed == changed:
                line[-1] = Segment(line[-1].text + part, changed)
            else:
                line.append(Segment(part, changed))
    return lines


def text_hunks(old: str, new: str, context: int = 3) -> list[Hunk]:
    """A unified diff of two texts (lines are paragraphs and the blank lines between them),
    with word-level segments on every line of a replaced block."""
    # Both in today's form (a blank line between paragraphs): a version written with one
    # paragraph per line differs from a later one only where its words do.
    a, b = ("\n\n".join(paragraphs(t)).split("\n") for t in (old, new))
    if a == b:
        return []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    hunks = []
    for group in matcher.get_grouped_opcodes(context):
        lines: list[DiffLine] = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines.extend(DiffLine(" ", line) for line in a[i1:i2])
            elif tag == "delete":
                lines.extend(DiffLine("-", line) for line in a[i1:i2])
            elif tag == "insert":
                lines.extend(DiffLine("+", line) for line in b[j1:j2])
            else:  # replace: highlight the words that differ within the block
                before, after = "\n".join(a[i1:i2]), "\n".join(b[j1:j2])
                ops = word_ops(before, after)
                kept = sum(len(text) for op, text in ops if op == "equal")
                if kept < WORD_DIFF_MIN_SHARED * max(len(before), len(after)):
                    # Rewritten rather than edited: marking the few words that happen to
                    # survive ("the", "of") would only be noise.
                    lines.extend(DiffLine("-", line) for line in a[i1:i2])
                    lines.extend(DiffLine("+", line) for line in b[j1:j2])
                    continue
                old_segments, new_segments = _split_lines(ops, "delete"), _split_lines(ops, "insert")
                lines.extend(DiffLine("-", line, tuple(segs)) for line, segs in zip(a[i1:i2], old_segments))
                lines.extend(DiffLine("+", line, tuple(segs)) for line, segs in zip(b[j1:j2], new_segments))
        first, last = group[0], group[-1]
        hunks.append(Hunk(first[1], last[2] - first[1], first[3], last[4] - first[3], tuple(lines)))
    return hunks


def field_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[FieldChange]:
    """The DIFF_FIELDS whose values differ, in DIFF_FIELDS order."""
    changes = []
    for name in DIFF_FIELDS:
        before, after = old.get(name), new.get(name)
        if name == "attachments":
            # One line per file: its URL and the start of its SHA-256 (what makes it that file).
            before, after = _attachment_lines(before), _attachment_lines(after)
        elif name in LIST_FIELDS:
            before, after = list(before or []), list(after or [])
        if before == after:
            continue
        if name in LIST_FIELDS:
            added = [v for v in after if v not in before]
            removed = [v for v in before if v not in after]
            changes.append(FieldChange(name, before, after, added, removed))
        else:
            changes.append(FieldChange(name, before, after))
    return changes


def _attachment_lines(entries: Any) -> list[str]:
    lines = []
    for entry in entries or ():
        sha = entry.get("sha256")
        lines.append(f"{entry.get('url')} ({'sha256 ' + sha[:12] if sha else entry.get('error') or 'not fetched'})")
    return lines


def diff_snapshots(old: Mapping[str, Any], new: Mapping[str, Any], *, context: int = 3) -> SnapshotDiff:
    """Compare two snapshots of one document (either order).

    Example: ``diff_snapshots(archive.get(d, 1).to_json(), archive.get(d, 2).to_json())``
    """
    fields = field_changes(old, new)
    hunks = text_hunks(old.get("text") or "", new.get("text") or "", context)
    changed = [f.field for f in fields]
    if hunks:
        changed.insert(1 if fields and fields[0].field == "title" else 0, "text")
    return SnapshotDiff(
        doc_id=str(new.get("doc_id") or old.get("doc_id")),
        from_version=int(old.get("version") or 0),
        to_version=int(new.get("version") or 0),
        from_kind=str(old.get("kind") or ""),
        to_kind=str(new.get("kind") or ""),
        from_fetched_at=old.get("fetched_at"),
        to_fetched_at=new.get("fetched_at"),
        fields=fields,
        hunks=hunks,
        identical=not fields and not hunks,
        minor=bool(new.get("minor")) and new.get("previous_version") == old.get("version"),
        changed_fields=changed,
        cause=str(new.get("cause") or "site"),
        extractor_before=dict(old.get("extractor") or {}),
        extractor_after=dict(new.get("extractor") or {}),
    )
