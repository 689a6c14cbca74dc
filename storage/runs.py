"""The run ledger: one JSON file per crawl run, under ARCHIVE/runs/<run_id>/run.json.

A run is recorded when it starts (outcome "running") and rewritten when it ends; the
crawl's full log sits beside it as crawl.log. Run files are records about the archive,
not archived content, so they are replaced atomically rather than versioned.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from .files import dump_json, replace_atomically

RUNS = "runs"


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    trigger: str  # "manual", "schedule", "startup", "demo"
    started_at: str
    finished_at: str | None = None
    outcome: str = "running"  # running, completed, failed, timed-out, interrupted
    reason: str | None = None
    pid: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    sources: dict[str, Any] = field(default_factory=dict)
    log_path: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Ledger:
    def __init__(self, archive_root: str | os.PathLike[str]) -> None:
        self.dir = Path(archive_root) / RUNS

    def run_dir(self, run_id: str) -> Path:
        return self.dir / run_id

    def log_path(self, run_id: str) -> Path:
        return self.run_dir(run_id) / "crawl.log"

    def write(self, record: RunRecord) -> RunRecord:
        folder = self.run_dir(record.run_id)
        folder.mkdir(parents=True, exist_ok=True)
        replace_atomically(folder / "run.json", dump_json(record.to_json()))
        return record

    def finish(self, record: RunRecord, **changes: Any) -> RunRecord:
        return self.write(replace(record, **changes))

    def get(self, run_id: str) -> RunRecord | None:
        try:
            data = json.loads((self.run_dir(run_id) / "run.json").read_text("utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        return RunRecord(**{k: data.get(k) for k in RunRecord.__dataclass_fields__ if k in data})

    def list(self) -> list[RunRecord]:
        """All recorded runs, newest first."""
        if not self.dir.is_dir():
            return []
        records = [self.get(p.name) for p in self.dir.iterdir() if p.is_dir()]
        return sorted((r for r in records if r), key=lambda r: (r.started_at, r.run_id), reverse=True)
