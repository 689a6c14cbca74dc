"""The run ledger: one JSON file per crawl run, under ARCHIVE/runs/<run_id>/run.json.

A run is recorded when it starts (outcome "running") and rewritten when it ends; the
crawl's full log sits beside it as crawl.log. Run files are records about the archive,
not archived content, so they are replaced atomically rather than versioned.

ARCHIVE/daemon.json is the running daemon's own record (pid, schedule, next run), for
`kisi-archive status`; it is rewritten whenever it changes.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from storage.files import dump_json, replace_atomically, replace_or_fill_reserved, reserve
from storage.layout import Layout

SCHEMA_VERSION = 1

# Outcomes of a run. "running" is rewritten when the run ends; "skipped" is a scheduled run
# that did not start because another crawl held the archive.
OUTCOMES = ("running", "completed", "failed", "timed-out", "interrupted", "skipped")
SUCCESS = "completed"
# Counts every finished run reports (0 when the crawl did not get that far).
COUNT_KEYS = ("discovered", "fetched", "new_documents", "new_versions", "unchanged", "removed", "errors")


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    trigger: str  # "manual", "schedule", "startup", "demo"
    started_at: str
    finished_at: str | None = None
    outcome: str = "running"  # one of OUTCOMES
    reason: str | None = None
    pid: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    sources: dict[str, Any] = field(default_factory=dict)
    log_path: str | None = None
    scheduled_for: str | None = None  # scheduled runs: the fire time this run is for (it may start later)
    sweep: bool = False  # the run enumerated every source in full (the periodic removal sweep)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def succeeded(self) -> bool:
        return self.outcome == SUCCESS


def with_all_counts(counts: dict[str, Any]) -> dict[str, int]:
    """The counts of a run with every key of COUNT_KEYS present (extra keys kept)."""
    merged = {key: 0 for key in COUNT_KEYS}
    merged.update({k: int(v) for k, v in counts.items() if isinstance(v, (int, float))})
    return merged


class Ledger:
    def __init__(self, archive_root: str | os.PathLike[str]) -> None:
        self.dir = Layout(Path(archive_root)).runs

    def run_dir(self, run_id: str) -> Path:
        return self.dir / run_id

    def log_path(self, run_id: str) -> Path:
        return self.run_dir(run_id) / "crawl.log"

    def write(self, record: RunRecord) -> RunRecord:
        """Record a run. A run's first record reserves room on disk (storage.files.reserve),
        so that on a disk that fills while the run goes on, its outcome is still written
        (in place) rather than left `running`."""
        folder = self.run_dir(record.run_id)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "run.json"
        data = dump_json({"schema_version": SCHEMA_VERSION, **record.to_json()})
        if record.outcome == "running" and not path.exists():
            reserve(path, data)
            return record
        replace_or_fill_reserved(path, data)
        return record

    def finish(self, record: RunRecord, **changes: Any) -> RunRecord:
        return self.write(replace(record, **changes))

    def get(self, run_id: str) -> RunRecord | None:
        try:
            data = json.loads((self.run_dir(run_id) / "run.json").read_text("utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        return RunRecord(**{k: data.get(k) for k in RunRecord.__dataclass_fields__ if k in data})

    def list(self, limit: int | None = None) -> list[RunRecord]:
        """Recorded runs, newest first (at most `limit` of them when given)."""
        if not self.dir.is_dir():
            return []
        # Run ids start with their UTC start time, so names sort like (start time, run id).
        names = sorted((p.name for p in self.dir.iterdir() if p.is_dir()), reverse=True)
        records: list[RunRecord] = []
        for name in names:
            record = self.get(name)
            if record is not None:
                records.append(record)
                if limit and len(records) >= limit:
                    break
        return records

    def latest(self) -> RunRecord | None:
        """The newest run, whatever its outcome."""
        runs = self.list(limit=1)
        return runs[0] if runs else None

    def last_success(self) -> RunRecord | None:
        """The newest run that completed."""
        return next((r for r in self.list() if r.succeeded), None)


def write_daemon_state(archive_root: str | os.PathLike[str], state: dict[str, Any]) -> None:
    """Replace ARCHIVE/daemon.json (the running daemon's pid, schedule and next run)."""
    replace_atomically(Layout(Path(archive_root)).daemon_state, dump_json({"schema_version": SCHEMA_VERSION, **state}))


def read_daemon_state(archive_root: str | os.PathLike[str]) -> dict[str, Any] | None:
    """ARCHIVE/daemon.json, or None when no daemon ever ran on this archive (or it is unreadable)."""
    try:
        data = json.loads(Layout(Path(archive_root)).daemon_state.read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return data if isinstance(data, dict) else None
