"""Run one crawl in a child process and record it in the run ledger.

The one-off `crawl` command and the daemon's scheduled job both call `run_crawl`: it takes
the archive's crawl lock (so two crawls never write one archive at once), records the run,
starts the crawl child (`python -m crawler.run`, its argv built by the pure `crawl_argv`),
supervises it (time limit, stop requests) and records how it ended.

Stopping a crawl is escalated in three steps, decided by the pure `due_signals`: SIGTERM
(Scrapy finishes its in-flight requests and closes), SIGTERM again after a grace period
(Scrapy stops at once), then SIGKILL. The child runs in its own process group, so a Ctrl-C
on the terminal reaches only this process, which forwards it once.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Callable, Iterable

from crawler import exit_codes
from crawler.config import Config
from storage import Archive
from storage.files import reserve

from . import publish
from .ledger import Ledger, RunRecord, with_all_counts
from .lock import ArchiveLock, Holder, LockBusy, crawl_lock, is_held, new_holder

logger = logging.getLogger(__name__)

# How long a stopped crawl may take to finish its in-flight requests before it is told to
# stop at once; never less than a request's own timeout plus time to close (see stop_grace).
STOP_GRACE_SECONDS = 30.0
# After the second SIGTERM (Scrapy's "stop at once"), how long before SIGKILL.
KILL_AFTER_SECONDS = 5.0
# The escalation: 1st signal closes gracefully, 2nd stops at once, 3rd kills.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGTERM, signal.SIGKILL)
POLL_SECONDS = 0.2


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def new_run_id(now: datetime) -> str:
    return now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)


def crawl_argv(python: str, *, config_path: Path, summary_path: Path, run_id: str, log_path: Path | None,
               progress: bool, quiet: bool = False) -> list[str]:
    """The child process's command line (crawler/run.py)."""
    argv = [python, "-m", "crawler.run", "--config", str(config_path), "--summary", str(summary_path),
            "--run-id", run_id]
    if log_path is not None:
        argv += ["--log", str(log_path)]
    if progress:
        argv.append("--progress")
    if quiet:
        argv.append("--quiet")
    return argv


def stop_grace(config: Config) -> float:
    """Seconds a stopping crawl gets to finish its in-flight requests: a request may take `timeout`."""
    return max(STOP_GRACE_SECONDS, config.timeout + 15.0)


def due_signals(now: float, *, limit_at: float | None, stop_at: float | None, stop_requests: int,
                grace: float, kill_after: float = KILL_AFTER_SECONDS) -> int:
    """How many stop signals (STOP_SIGNALS) the crawl child should have been sent by `now`.

    `limit_at` is when the time limit ran out, `stop_at` when a stop was first requested
    (each further request escalates one step at once); either may be None. From either
    moment: 1 at once, 2 after `grace`, 3 after `grace + kill_after`. At most 3.
    """
    def steps(since: float | None) -> int:
        if since is None or now < since:
            return 0
        return 1 + (now >= since + grace) + (now >= since + grace + kill_after)

    by_stop = steps(stop_at) + max(0, stop_requests - 1) if stop_at is not None else 0
    return min(len(STOP_SIGNALS), max(steps(limit_at), by_stop))


class Stopper:
    """Stop requests (from signal handlers), read by the crawl supervisor and the daemon.

    A handler only counts: no locks, no logging, no I/O, so it is safe whatever the
    interrupted code was doing. Whoever supervises the child polls `requests`.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.requests = 0
        self.first_request_at: float | None = None
        self.last_signal: int | None = None

    @property
    def stopping(self) -> bool:
        return self.requests > 0

    def request_stop(self, signum: int | None = None, _frame: Any = None) -> None:
        if self.first_request_at is None:
            self.first_request_at = self._clock()
        self.last_signal = signum
        self.requests += 1

    def install(self, signals: Iterable[int] = (signal.SIGTERM, signal.SIGINT)) -> Callable[[], None]:
        """Route these signals to request_stop (main thread only); returns a function that restores them."""
        previous = {signum: signal.signal(signum, self.request_stop) for signum in signals}

        def restore() -> None:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

        return restore


@dataclass(frozen=True)
class RunResult:
    record: RunRecord
    exit_code: int

    @property
    def ok(self) -> bool:
        return self.exit_code == exit_codes.OK


def run_crawl(config: Config, *, trigger: str = "manual", progress: bool = False, quiet: bool = False,
              time_limit: float | None = None, now: Callable[[], datetime] = utc_now,
              on_start: Callable[[subprocess.Popen[bytes]], None] | None = None,
              wait: bool = False, wait_timeout: float | None = None,
              on_wait: Callable[[LockBusy], None] | None = None,
              stopper: Stopper | None = None, console_to_file: bool = False,
              scheduled_for: datetime | None = None) -> RunResult:
    """Crawl once in a child process under the archive's crawl lock; record the run.

    Raises LockBusy when another crawl holds the archive (after waiting up to `wait_timeout`
    seconds, or for ever, with `wait`), LockWaitCancelled when `stopper` asks to stop while
    waiting. `stopper` carries stop requests (signals) to the child; `console_to_file` sends
    the child's own stdout/stderr to the run's console.log instead of this process's.
    `scheduled_for` is the fire time of a scheduled run, recorded with it.
    """
    config = replace(config, archive_dir=config.archive_dir.resolve())
    Archive.open(config.archive_dir, create=True).close()
    ledger = Ledger(config.archive_dir)
    lock = crawl_lock(config.archive_dir)
    stale = lock.acquire(new_holder("crawl", iso(now()), trigger=trigger),
                         timeout=(wait_timeout if wait else 0.0),
                         should_stop=(lambda: stopper.stopping) if stopper else None, on_wait=on_wait)
    try:
        close_unfinished(ledger, stale, now)
        return _run_locked(config, ledger, lock, trigger=trigger, progress=progress, quiet=quiet, time_limit=time_limit,
                           now=now, on_start=on_start, stopper=stopper, console_to_file=console_to_file,
                           scheduled_for=scheduled_for)
    finally:
        lock.release()


def _run_locked(config: Config, ledger: Ledger, lock: ArchiveLock, *, trigger: str, progress: bool, quiet: bool,
                time_limit: float | None, now: Callable[[], datetime],
                on_start: Callable[[subprocess.Popen[bytes]], None] | None, stopper: Stopper | None,
                console_to_file: bool, scheduled_for: datetime | None) -> RunResult:
    started = now()
    run_id = new_run_id(started)
    lock.update(run_id=run_id, started=iso(started))
    run_dir = ledger.run_dir(run_id)
    run_dir.mkdir(parents=True, exist_ok=True)
    config_path, summary_path, log_path = run_dir / "config.json", run_dir / "summary.json", ledger.log_path(run_id)
    config_path.write_text(json.dumps(config.to_json(), ensure_ascii=False, indent=2), "utf-8")
    reserve(summary_path, b"{}")  # room for the child's summary should the disk fill meanwhile
    due = iso(scheduled_for) if scheduled_for else None
    record = ledger.write(RunRecord(run_id=run_id, trigger=trigger, started_at=iso(started), pid=os.getpid(),
                                    log_path=str(log_path), scheduled_for=due))
    argv = crawl_argv(sys.executable, config_path=config_path, summary_path=summary_path, run_id=run_id,
                      log_path=log_path, progress=progress and not console_to_file, quiet=quiet)
    limit = time_limit if time_limit is not None else config.crawl_time_limit
    late = (started - scheduled_for).total_seconds() if scheduled_for else 0.0
    logger.info("run %s started (%s%s)", run_id, trigger, f", due at {due}: {late:.0f} s late" if late >= 2 else "",
                extra={"event": "run-started", "run_id": run_id, "trigger": trigger, "due_at": due,
                       "log_path": str(log_path)})
    console: IO[bytes] | None = open(run_dir / "console.log", "ab") if console_to_file else None
    try:
        # The child inherits the locked descriptor: the archive stays locked while it lives,
        # even if this process is killed. Its own process group keeps terminal signals away.
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=console, stderr=console,
                                 pass_fds=(lock.fileno(),), process_group=0)
    finally:
        if console is not None:
            console.close()
    lock.update(child_pid=child.pid)
    if on_start is not None:
        on_start(child)
    try:
        code, timed_out = supervise(child, limit=limit, stopper=stopper, grace=stop_grace(config))
    except BaseException:
        # KeyboardInterrupt with nobody handling SIGINT (e.g. `demo`): close the crawl, record it.
        stop_child(child, stop_grace(config))
        ledger.finish(record, finished_at=iso(now()), outcome="interrupted", reason="stopped by the user",
                      counts=with_all_counts({}))
        raise
    summary = _read_summary(summary_path)
    outcome, reason = _outcome(code, summary, timed_out, limit, stopper is not None and stopper.stopping)
    finished = now()
    record = ledger.finish(record, finished_at=iso(finished), outcome=outcome, reason=reason,
                           counts=with_all_counts(summary.get("counts", {})),
                           sources=run_details(summary),
                           sweep=bool(summary.get("sweep")))
    publish.after_run(config, record)  # the archive's Atom feed, and the webhook (never fails the run)
    seconds = (finished - started).total_seconds()
    logger.info("run %s ended: %s %s (%.0f s)%s; log %s", run_id, outcome, counts_line(record.counts), seconds,
                f": {reason}" if reason else "", log_path,
                extra={"event": "run-finished", "run_id": run_id, "trigger": trigger, "outcome": outcome,
                       "reason": reason, "counts": {k: record.counts.get(k, 0) for k in LOG_COUNTS},
                       "seconds": round(seconds, 1), "log_path": str(log_path)})
    if timed_out:
        exit_code = exit_codes.TIMED_OUT
    elif outcome == "interrupted" and stopper is not None and stopper.stopping:
        exit_code = exit_codes.INTERRUPTED
    else:
        exit_code = code if code >= 0 else exit_codes.ERROR
    return RunResult(record, exit_code)


def supervise(child: subprocess.Popen[bytes], *, limit: float | None, stopper: Stopper | None, grace: float,
              kill_after: float = KILL_AFTER_SECONDS, clock: Callable[[], float] = time.monotonic) -> tuple[int, bool]:
    """Wait for the child, stopping it at its time limit or on request; (exit code, timed out)."""
    begun = clock()
    limit_at = begun + limit if limit else None
    sent = 0
    timed_out = False
    while True:
        try:
            return child.wait(timeout=POLL_SECONDS), timed_out
        except subprocess.TimeoutExpired:
            pass
        moment = clock()
        stop_at = stopper.first_request_at if stopper else None
        if limit_at is not None and moment >= limit_at and not timed_out and stop_at is None:
            timed_out = True
            logger.error("crawl hit its time limit of %.0f s: stopping it", limit)
        due = due_signals(moment, limit_at=limit_at if timed_out else None, stop_at=stop_at,
                          stop_requests=stopper.requests if stopper else 0, grace=grace, kill_after=kill_after)
        while sent < due:
            signum = STOP_SIGNALS[sent]
            sent += 1
            logger.info("sending %s to the crawl (pid %s)%s", signal.Signals(signum).name, child.pid,
                        " to close it gracefully" if sent == 1 else (" to stop it at once" if sent == 2 else ""))
            _send(child, signum)


def stop_child(child: subprocess.Popen[bytes], grace: float = STOP_GRACE_SECONDS) -> int:
    """Stop the child now: SIGTERM, SIGTERM again after `grace` seconds, SIGKILL after KILL_AFTER_SECONDS more."""
    for signum, wait in zip(STOP_SIGNALS, (grace, KILL_AFTER_SECONDS, None)):
        if child.poll() is not None:
            break
        _send(child, signum)
        try:
            return child.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    return child.wait()


def _send(child: subprocess.Popen[bytes], signum: int) -> None:
    try:
        child.send_signal(signum)
    except ProcessLookupError:
        pass


def recover_run(ledger: Ledger, stale: Holder, now: Callable[[], datetime] = utc_now,
                by: str = "the next crawl") -> RunRecord | None:
    """Close the ledger record of a run whose process died holding the crawl lock.

    Called by whoever takes over the stale lock, so the crawl is certainly over. If the
    crawl child outlived its parent and finished, its summary says how it ended.
    """
    if stale.kind != "crawl" or not stale.run_id:
        return None
    record = ledger.get(stale.run_id)
    if record is None or record.outcome != "running":
        return None
    return close_abandoned(ledger, record, now, by=by, pid=stale.pid, child_pid=stale.child_pid)


def close_abandoned(ledger: Ledger, record: RunRecord, now: Callable[[], datetime] = utc_now, *,
                    by: str, pid: int | None = None, child_pid: int | None = None) -> RunRecord:
    """Close a run left `running` by processes that are gone (call with the crawl lock held).

    Its crawl's own summary says how it ended when the crawl got to write one; otherwise
    the run failed: nobody can know what it did, only that it never finished.
    """
    summary = _read_summary(ledger.run_dir(record.run_id) / "summary.json")
    pid = pid if pid is not None else record.pid
    if summary.get("outcome"):
        outcome = summary["outcome"]
        reason = summary.get("reason") or f"recorded late: process {pid} that started it died first"
        finished_at = summary.get("finished_at") or iso(now())
    else:
        crawl = f" and its crawl (pid {child_pid})" if child_pid else " and its crawl"
        outcome, finished_at = "failed", iso(now())
        reason = (f"abandoned: the process that ran it (pid {pid}){crawl} died before the crawl recorded how it "
                  f"ended; closed by {by}")
    logger.warning("run %s was left unfinished by pid %s (killed?): recorded as %s", record.run_id, pid, outcome,
                   extra={"event": "run-recovered", "run_id": record.run_id, "outcome": outcome, "reason": reason})
    return ledger.finish(record, finished_at=finished_at, outcome=outcome, reason=reason,
                         counts=with_all_counts(summary.get("counts", {})),
                         sources=run_details(summary),
                         sweep=bool(summary.get("sweep")))


def close_unfinished(ledger: Ledger, stale: Holder | None, now: Callable[[], datetime] = utc_now,
                     by: str = "the next crawl") -> list[RunRecord]:
    """With the crawl lock held: close every run still recorded as `running`.

    Every run holds the crawl lock from before its record is written until after it is
    closed (its crawl child too), so while we hold the lock none of them is running: the
    one the stale lock names and any other left behind are over.
    """
    closed = [r for r in [recover_run(ledger, stale, now, by=by) if stale else None] if r is not None]
    for record in ledger.list():
        if record.outcome == "running":
            closed.append(close_abandoned(ledger, record, now, by=by))
    return closed


def recover_abandoned(archive_root: Path, now: Callable[[], datetime] = utc_now,
                      by: str = "the daemon") -> list[RunRecord]:
    """If no crawl holds the archive, close the runs left `running` by dead processes. Never waits.

    `runs`, `status`, the daemon and every crawl call it, so a run whose process and crawl
    were killed is closed as failed the next time anyone looks.
    """
    lock = crawl_lock(archive_root)
    if is_held(lock.path):
        return []  # a crawl is running (possibly one orphaned by a killed parent): its run is not over
    try:
        stale = lock.try_acquire(new_holder("crawl", iso(now()), trigger="recovery"))
    except (LockBusy, OSError):
        return []  # a crawl just started, or the archive is read-only for us
    try:
        return close_unfinished(Ledger(archive_root), stale, now, by=by)
    except OSError as exc:
        logger.warning("could not close the runs left unfinished in %s: %s", archive_root, exc)
        return []
    finally:
        lock.release()


def record_skipped(archive_root: Path, trigger: str, busy: LockBusy, now: Callable[[], datetime] = utc_now) -> RunRecord:
    """Record a run that did not start because another crawl held the archive."""
    moment = now()
    holder = busy.holder.describe() if busy.holder else "another process"
    record = Ledger(archive_root).write(RunRecord(
        run_id=new_run_id(moment), trigger=trigger, started_at=iso(moment), finished_at=iso(moment),
        outcome="skipped", reason=f"archive busy: {holder}", pid=os.getpid(), counts=with_all_counts({})))
    logger.warning("run %s skipped (%s): archive busy: %s", record.run_id, trigger, holder,
                   extra={"event": "run-skipped", "run_id": record.run_id, "trigger": trigger, "reason": record.reason})
    return record


def _outcome(code: int, summary: dict[str, Any], timed_out: bool, limit: float,
             stopped: bool = False) -> tuple[str, str | None]:
    if timed_out:
        return "timed-out", f"stopped after the time limit of {limit:.0f} s"
    if summary.get("outcome"):
        return summary["outcome"], summary.get("reason")
    if stopped:
        return "interrupted", "stopped by a signal before the crawl could record itself"
    if code < 0:
        return "failed", f"crawl process killed by signal {-code}"
    return "failed", f"crawl process exited with code {code} and no summary (see its log)"


def run_details(summary: dict[str, Any]) -> dict[str, Any]:
    """What a run record keeps of the crawl's summary beside its counts."""
    return {key: summary.get(key, default) for key, default in (
        ("sources", {}), ("sections", {}), ("languages", {}), ("structures", {}), ("warnings", []))}


def _read_summary(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


LOG_COUNTS = ("fetched", "new_documents", "new_versions", "removed", "errors")


def counts_line(counts: dict[str, int]) -> str:
    return " ".join(f"{key}={counts.get(key, 0)}" for key in LOG_COUNTS)
