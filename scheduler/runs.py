"""Run one crawl in a child process and record it in the run ledger.

The one-off `crawl` command and the daemon's scheduled job both call `run_crawl`.
The child's command line is built by `crawl_argv`, a pure function.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import subprocess
import sys
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from storage import Archive
from storage.runs import Ledger, RunRecord

from . import exit_codes
from .config import Config

logger = logging.getLogger(__name__)

# How long a stopped crawl may take to finish its in-flight requests before it is killed.
STOP_GRACE_SECONDS = 30.0


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def new_run_id(now: datetime) -> str:
    return now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)


def crawl_argv(python: str, *, config_path: Path, summary_path: Path, run_id: str, log_path: Path | None,
               progress: bool) -> list[str]:
    """The child process's command line."""
    argv = [python, "-m", "crawler.run", "--config", str(config_path), "--summary", str(summary_path),
            "--run-id", run_id]
    if log_path is not None:
        argv += ["--log", str(log_path)]
    if progress:
        argv.append("--progress")
    return argv


@dataclass(frozen=True)
class RunResult:
    record: RunRecord
    exit_code: int

    @property
    def ok(self) -> bool:
        return self.exit_code == exit_codes.OK


def run_crawl(config: Config, *, trigger: str = "manual", progress: bool = False,
              time_limit: float | None = None, now: Callable[[], datetime] = utc_now,
              on_start: Callable[[subprocess.Popen[bytes]], None] | None = None) -> RunResult:
    """Crawl once in a child process; record the run; return its record and exit code."""
    config = replace(config, archive_dir=config.archive_dir.resolve())
    Archive.open(config.archive_dir, create=True).close()
    ledger = Ledger(config.archive_dir)
    started = now()
    run_id = new_run_id(started)
    run_dir = ledger.run_dir(run_id)
    run_dir.mkdir(parents=True, exist_ok=True)
    config_path, summary_path, log_path = run_dir / "config.json", run_dir / "summary.json", ledger.log_path(run_id)
    config_path.write_text(json.dumps(config.to_json(), ensure_ascii=False, indent=2), "utf-8")
    record = ledger.write(RunRecord(run_id=run_id, trigger=trigger, started_at=iso(started), pid=os.getpid(),
                                    log_path=str(log_path)))
    argv = crawl_argv(sys.executable, config_path=config_path, summary_path=summary_path, run_id=run_id,
                      log_path=log_path, progress=progress)
    logger.info("run %s started (%s)", run_id, trigger)
    child = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
    if on_start is not None:
        on_start(child)
    limit = time_limit if time_limit is not None else config.crawl_time_limit
    timed_out = False
    try:
        code = child.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        timed_out = True
        logger.error("run %s hit its time limit of %.0f s: stopping it", run_id, limit)
        code = stop_child(child)
    except BaseException:
        stop_child(child)
        ledger.finish(record, finished_at=iso(now()), outcome="interrupted", reason="parent stopped")
        raise
    summary = _read_summary(summary_path)
    outcome, reason = _outcome(code, summary, timed_out, limit)
    record = ledger.finish(record, finished_at=iso(now()), outcome=outcome, reason=reason,
                           counts=summary.get("counts", {}), sources={"sources": summary.get("sources", {}),
                                                                      "sections": summary.get("sections", {})})
    logger.info("run %s ended: %s %s", run_id, outcome, _counts_line(record.counts))
    exit_code = exit_codes.TIMED_OUT if timed_out else code
    return RunResult(record, exit_code)


def stop_child(child: subprocess.Popen[bytes], grace: float = STOP_GRACE_SECONDS) -> int:
    """SIGTERM (Scrapy closes gracefully), then SIGKILL after `grace` seconds."""
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
        try:
            return child.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            child.kill()
    return child.wait()


def _outcome(code: int, summary: dict[str, Any], timed_out: bool, limit: float) -> tuple[str, str | None]:
    if timed_out:
        return "timed-out", f"stopped after the time limit of {limit:.0f} s"
    if summary.get("outcome"):
        return summary["outcome"], summary.get("reason")
    if code < 0:
        return "failed", f"crawl process killed by signal {-code}"
    return "failed", f"crawl process exited with code {code} and no summary (see its log)"


def _read_summary(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


def _counts_line(counts: dict[str, int]) -> str:
    keys = ("discovered", "fetched", "new_documents", "new_versions", "unchanged", "errors")
    return " ".join(f"{key}={counts.get(key, 0)}" for key in keys)

