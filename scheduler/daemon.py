"""The daemon: crawl on a schedule, never two crawls at once, never a run silently lost.

Decisions are pure functions of their inputs (`parse_interval`, `schedule_from_config`,
`build_trigger`, `misfire_grace`, `clock_jumped`, `freshness`); `Daemon` wires them to
APScheduler 3.x, the crawl lock and signals, and only sleeps.

Scheduling policy (see docs/daemon.md):
- one job with a stable id, `replace_existing=True`, `max_instances=1` (a fire while the
  previous crawl still runs is logged and not started: that crawl covers it);
- `coalesce=True`: any number of fire times missed while the machine slept or the process
  was stopped become one run;
- `misfire_grace_time` of at least one whole schedule period (plus jitter): with coalescing,
  APScheduler measures lateness from the *latest* missed fire time, which can be up to one
  period before the wake-up, so any shorter grace would drop the run on some wake-ups;
- jitter on a fixed grid: it never accumulates into drift;
- a wall-clock jump (suspend/resume: the monotonic clock APScheduler sleeps on stops while the
  machine sleeps) wakes the scheduler at once instead of hours late.
"""
from __future__ import annotations

import logging
import math
import os
import re
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.events import (EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED,
                                EVENT_JOB_SUBMITTED, JobEvent)
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.config import Config, ConfigError
from crawler.durations import format_interval, parse_interval
from crawler.logformat import LOG_FORMATS, JsonFormatter
from storage import Archive

from .ledger import write_daemon_state
from .lock import LockBusy, LockWaitCancelled, daemon_lock, new_holder
from .runs import Stopper, iso, record_skipped, recover_abandoned, run_crawl, utc_now

logger = logging.getLogger(__name__)

JOB_ID = "kisi-archive-crawl"
TICK_SECONDS = 0.5  # how often the main thread looks at stop requests and the clock
CLOCK_JUMP_TOLERANCE = 2.0

# ----- intervals: crawler/durations.py (shared with the crawl policy) -----------



# ----- cron weekdays --------------------------------------------------------------------

_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def cron_weekdays(field: str) -> str:
    """A crontab day-of-week field in APScheduler's terms.

    crontab counts 0 (or 7) = Sunday; APScheduler 3.x's CronTrigger counts 0 = Monday
    (apscheduler#286), so "0 3 * * 0" would silently run on Mondays. Numbers are turned
    into day names, which mean the same to both: '1-5' -> 'mon,tue,wed,thu,fri'.
    """
    field = field.strip().lower()
    if field in ("*", "?"):
        return "*"
    if re.fullmatch(r"[a-z,\-]+", field):
        return field  # names already: identical in both
    days: set[int] = set()
    for part in field.split(","):
        match = re.fullmatch(r"(\*|\d+)(?:-(\d+))?(?:/(\d+))?", part)
        if not match:
            raise ValueError(f"day-of-week {part!r}: use numbers 0-7 (0 and 7 are Sunday) or names (mon-fri)")
        start_s, end_s, step_s = match.groups()
        if start_s == "*":
            start, end = 0, 6
        else:
            start = int(start_s)
            end = int(end_s) if end_s is not None else (7 if step_s else start)
        step = int(step_s) if step_s else 1
        if not (0 <= start <= 7 and 0 <= end <= 7 and start <= end and step >= 1):
            raise ValueError(f"day-of-week {part!r}: out of range (0-7, 0 and 7 are Sunday)")
        days.update(day % 7 for day in range(start, end + 1, step))
    return ",".join(_CRON_DAYS[d] for d in sorted(days))


def cron_trigger(expression: str, tz: tzinfo, jitter: float | None = None) -> CronTrigger:
    """A CronTrigger from a standard 5-field crontab expression (minute hour day month weekday)."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"cron {expression!r}: expected 5 fields (minute hour day month weekday), got {len(fields)}")
    minute, hour, day, month, weekday = fields
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=cron_weekdays(weekday),
                       timezone=tz, jitter=jitter or None)


# ----- the schedule ---------------------------------------------------------------------


def zone(name: str) -> tzinfo:
    """A time zone by IANA name; UTC needs no time zone database (slim containers may lack one)."""
    return timezone.utc if name.upper() in ("UTC", "ETC/UTC", "Z") else ZoneInfo(name)


class ScheduleError(ConfigError):
    """The schedule settings cannot be used; the message says which and how to fix it."""


@dataclass(frozen=True)
class Schedule:
    every: timedelta | None
    cron: str | None
    timezone: str
    jitter: float  # seconds, as configured
    run_now: bool

    @property
    def tz(self) -> tzinfo:
        return zone(self.timezone)

    def describe(self) -> str:
        what = f"every {format_interval(self.every)}" if self.every else f"cron '{self.cron}' ({self.timezone})"
        return what + (f", jitter up to {self.jitter:g} s" if self.jitter else "")


def schedule_from_config(config: Config) -> Schedule:
    """The schedule the configuration asks for; ScheduleError names what is wrong."""
    if config.every and config.cron:
        raise ScheduleError("give --every or --cron, not both")
    if not config.every and not config.cron:
        raise ScheduleError("no schedule: pass --every 6h or --cron '0 */6 * * *' (or set KISI_EVERY or KISI_CRON)")
    try:
        tz = zone(config.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"--timezone {config.timezone!r}: unknown time zone (e.g. UTC, Asia/Almaty)") from None
    if config.jitter_seconds < 0:
        raise ScheduleError("--jitter must be 0 or more seconds")
    every = None
    if config.every:
        try:
            every = parse_interval(config.every)
        except ValueError as exc:
            raise ScheduleError(f"--every: {exc}") from None
    else:
        try:
            cron_trigger(config.cron or "", tz)
        except ValueError as exc:
            raise ScheduleError(f"--cron: {exc}") from None
    return Schedule(every=every, cron=config.cron if not every else None, timezone=config.timezone,
                    jitter=float(config.jitter_seconds), run_now=config.run_now)


class GridIntervalTrigger(IntervalTrigger):
    """An IntervalTrigger whose jitter does not accumulate.

    IntervalTrigger computes the next fire time from the previous *jittered* one, so each
    run drifts later by the jitter on average. Here fire times stay on the grid
    start_date + k * interval, each with its own jitter.
    """

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        if previous_fire_time is not None and previous_fire_time >= self.start_date:
            slots = (previous_fire_time - self.start_date) // self.interval
            previous_fire_time = self.start_date + slots * self.interval
        return super().get_next_fire_time(previous_fire_time, now)


def fire_times(trigger: BaseTrigger, now: datetime, count: int) -> list[datetime]:
    """The next `count` fire times of a (jitter-free) trigger after `now`."""
    times: list[datetime] = []
    previous = None
    while len(times) < count:
        fire = trigger.get_next_fire_time(previous, now if previous is None else previous)
        if fire is None:
            break
        times.append(fire)
        previous = fire
    return times


def gaps(schedule: Schedule, now: datetime) -> tuple[timedelta, timedelta]:
    """The shortest and longest time between two fire times of the schedule (cron: over the next 200)."""
    if schedule.every:
        return schedule.every, schedule.every
    times = fire_times(cron_trigger(schedule.cron or "", schedule.tz), now, 200)
    spans = [b - a for a, b in zip(times, times[1:])] or [timedelta(days=366)]
    return min(spans), max(spans)


def effective_jitter(jitter: float, shortest_gap: timedelta) -> float:
    """Jitter is capped at half the shortest gap, so a jittered run never passes the next one."""
    return max(0.0, min(jitter, shortest_gap.total_seconds() / 2))


def misfire_grace(configured: int, longest_gap: timedelta, jitter: float) -> int:
    """Seconds a missed run may be late and still run: never less than one period plus jitter.

    With coalesce=True, APScheduler keeps only the latest missed fire time and drops it if it
    is later than the grace. The latest missed fire time is at most one period (plus jitter)
    before the wake-up, so this grace makes a missed run always run once.
    """
    return max(int(configured), math.ceil(longest_gap.total_seconds() + jitter))


def build_trigger(schedule: Schedule, now: datetime) -> BaseTrigger:
    """The APScheduler trigger of a schedule; an interval's grid starts one interval after `now`."""
    shortest, _ = gaps(schedule, now)
    jitter = effective_jitter(schedule.jitter, shortest) or None
    if schedule.every:
        return GridIntervalTrigger(seconds=schedule.every.total_seconds(), start_date=now + schedule.every,
                                   timezone=schedule.tz, jitter=jitter)
    return cron_trigger(schedule.cron or "", schedule.tz, jitter)


def job_options(schedule: Schedule, config: Config, now: datetime) -> dict[str, Any]:
    """Everything `add_job` needs besides the function: the deliberate policies in one place."""
    shortest, longest = gaps(schedule, now)
    options: dict[str, Any] = {
        "id": JOB_ID,
        "name": "crawl",
        "trigger": build_trigger(schedule, now),
        "replace_existing": True,
        "max_instances": 1,
        "coalesce": True,
        "misfire_grace_time": misfire_grace(config.misfire_grace_seconds, longest,
                                            effective_jitter(schedule.jitter, shortest)),
    }
    if schedule.run_now:
        options["next_run_time"] = now
    return options


# ----- other decisions ------------------------------------------------------------------


def clock_jumped(previous_offset: float, offset: float, tolerance: float = CLOCK_JUMP_TOLERANCE) -> bool:
    """Whether wall time moved against monotonic time (offset = time.time() - time.monotonic()).

    It does after a suspend (the monotonic clock stops while the machine sleeps) and when
    the system clock is set.
    """
    return abs(offset - previous_offset) > tolerance


def freshness(last_success: datetime | None, now: datetime, max_age: timedelta) -> tuple[bool, timedelta | None]:
    """(stale, age of the last success). Never a success is stale."""
    if last_success is None:
        return True, None
    age = now - last_success
    return age > max_age, age


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# ----- logging --------------------------------------------------------------------------

class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def setup_logging(log_format: str) -> None:
    """Daemon logs: INFO to stderr, one line per event, text or JSON lines."""
    if log_format not in LOG_FORMATS:
        raise ConfigError(f"log_format must be text or json, not {log_format!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # APScheduler's own lines ("Running job...") are noise; the listener reports what matters.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)


# ----- the daemon -----------------------------------------------------------------------


class Daemon:
    """Runs until SIGTERM/SIGINT: schedules crawls, records them, stops cleanly.

        Daemon(config, schedule_from_config(config)).run()   # LockBusy if another daemon runs
    """

    def __init__(self, config: Config, schedule: Schedule, *, time_limit: float | None = None,
                 now: Callable[[], datetime] = utc_now, viewer: Any = None) -> None:
        self.config = config
        # The web viewer (scheduler.web.server.ViewerServer), bound already, or None. It runs
        # in a thread of this process rather than a child: the daemon is idle between
        # crawls (each crawl is its own child process), the viewer only reads, and one
        # process keeps one set of signal handlers, one log and nothing to orphan.
        self.viewer = viewer
        self.root = config.archive_dir.resolve()
        self.schedule = schedule
        self.time_limit = time_limit
        self.now = now
        self.stopper = Stopper()
        self._pending_startup = schedule.run_now
        self._crawling = threading.Event()
        self._state_lock = threading.RLock()
        self._scheduler: BackgroundScheduler | None = None
        # Fire times submitted to the executor, oldest first: APScheduler does not pass them to
        # the job, so the job takes its own from here (one per call; coalesced: one per submission).
        self._due = threading.Condition()
        self._due_times: list[datetime] = []
        self._missed: set[datetime] = set()  # MISSED may be dispatched before its SUBMITTED
        self._state: dict[str, Any] = {}

    def run(self) -> int:
        Archive.open(self.root, create=True).close()
        lock = daemon_lock(self.root)
        started = iso(self.now())
        stale = lock.try_acquire(new_holder("daemon", started))
        try:
            if stale is not None:
                logger.warning("took over the daemon lock left by pid %s on %s (started %s; no longer running)",
                               stale.pid, stale.host, stale.started, extra={"event": "stale-lock", "lock": str(lock.path)})
            recover_abandoned(self.root, self.now)
            restore = self.stopper.install()
            try:
                if self.viewer is not None:
                    self.viewer.start_thread()
                    logger.info("web viewer serving %s read-only at %s", self.root, self.viewer.url,
                                extra={"event": "viewer-started", "url": self.viewer.url})
                self._serve(started)
            finally:
                restore()
                if self.viewer is not None:
                    self.viewer.stop()
                from .webhook import SENDER

                SENDER.drain(5.0)  # a last delivery in flight gets a moment, not the whole backoff
        finally:
            lock.release()
        logger.info("daemon stopped", extra={"event": "daemon-stopped"})
        return 0

    # -- main loop ---------------------------------------------------------------------
    def _serve(self, started: str) -> None:
        now = self.now()
        options = job_options(self.schedule, self.config, now)
        # Describe the jitter actually applied (capped at half the shortest gap).
        described = replace(self.schedule, jitter=effective_jitter(self.schedule.jitter, gaps(self.schedule, now)[0]))
        description = described.describe()
        scheduler = BackgroundScheduler(timezone=self.schedule.tz)
        scheduler.add_listener(self._on_event, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR
                               | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
        scheduler.add_job(self._job, **options)
        self._scheduler = scheduler
        self._state = {"state": "running", "pid": os.getpid(), "host": socket.gethostname(),
                       "started_at": started, "schedule": description,
                       "every": format_interval(self.schedule.every) if self.schedule.every else None,
                       "cron": self.schedule.cron, "timezone": self.schedule.timezone,
                       "misfire_grace_seconds": options["misfire_grace_time"], "next_run_at": None,
                       "stopped_at": None}
        scheduler.start()
        self._write_state()
        logger.info("daemon started on %s: %s (misfire grace %s s); next run %s", self.root, description,
                    options["misfire_grace_time"], self._state["next_run_at"],
                    extra={"event": "daemon-started", "archive": str(self.root), "schedule": description,
                           "next_run_at": self._state["next_run_at"]})
        offset = time.time() - time.monotonic()
        while not self.stopper.stopping:
            time.sleep(TICK_SECONDS)
            current = time.time() - time.monotonic()
            if clock_jumped(offset, current):
                logger.info("the clock jumped by %+.0f s (suspend/resume or clock change): checking the schedule",
                            current - offset, extra={"event": "clock-jump"})
                scheduler.wakeup()
            offset = current
        self._shutdown(scheduler)

    def _shutdown(self, scheduler: BackgroundScheduler) -> None:
        name = _signal_name(self.stopper.last_signal)
        if self._crawling.is_set():
            logger.info("%s: no new runs; letting the running crawl finish its requests and close "
                        "(send it again to stop the crawl at once)", name, extra={"event": "stopping"})
        else:
            logger.info("%s: stopping", name, extra={"event": "stopping"})
        scheduler.shutdown(wait=False)
        # The crawl job sees the same stop requests and escalates on its own (grace, then kill).
        while self._crawling.is_set():
            time.sleep(0.1)
        self._update_state(state="stopped", next_run_at=None, stopped_at=iso(self.now()))

    # -- the job -----------------------------------------------------------------------
    def _job(self) -> None:
        trigger = "startup" if self._pending_startup else "schedule"
        self._pending_startup = False
        self._crawling.set()  # before looking at the stopper: the main thread waits while this is set
        try:
            due = self._take_due()
            if self.stopper.stopping:
                return
            run_crawl(self.config, trigger=trigger, time_limit=self.time_limit, now=self.now,
                      stopper=self.stopper, console_to_file=True, scheduled_for=due)
        except LockWaitCancelled:
            pass
        except LockBusy as busy:
            record_skipped(self.root, trigger, busy, self.now)
        except Exception as exc:  # the daemon carries on; the next run may well work
            logger.error("run could not be carried out: %s", exc, exc_info=logger.isEnabledFor(logging.DEBUG),
                         extra={"event": "run-error", "trigger": trigger})
        finally:
            self._crawling.clear()
            self._update_state()

    def _on_event(self, event: JobEvent) -> None:
        run_times = getattr(event, "scheduled_run_times", None) or [getattr(event, "scheduled_run_time", None)]
        when = iso(run_times[-1]) if run_times and run_times[-1] else "?"
        if event.code == EVENT_JOB_SUBMITTED:
            with self._due:
                for due in run_times:
                    if due in self._missed:
                        self._missed.discard(due)
                    elif due:
                        self._due_times.append(due)
                self._due.notify_all()
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            logger.warning("run due at %s not started: the previous crawl is still running (it covers this one)",
                           when, extra={"event": "run-overlap", "due_at": when})
        elif event.code == EVENT_JOB_MISSED:
            with self._due:  # the job will not be called for this fire time
                if event.scheduled_run_time in self._due_times:
                    self._due_times.remove(event.scheduled_run_time)
                else:
                    self._missed.add(event.scheduled_run_time)
            logger.warning("run due at %s was missed beyond the misfire grace; next run as scheduled", when,
                           extra={"event": "run-missed", "due_at": when})
        elif event.code == EVENT_JOB_ERROR:
            logger.error("scheduled job failed: %s", getattr(event, "exception", None), extra={"event": "job-error"})
        self._update_state()

    def _take_due(self) -> datetime | None:
        """The fire time this job execution is for (its submission event may arrive just after it starts)."""
        with self._due:
            self._due.wait_for(lambda: bool(self._due_times), timeout=2.0)
            return self._due_times.pop(0) if self._due_times else None

    # -- daemon.json -------------------------------------------------------------------
    def _next_run(self) -> str | None:
        scheduler = self._scheduler
        if scheduler is None or self.stopper.stopping:
            return None
        job = scheduler.get_job(JOB_ID)
        return iso(job.next_run_time) if job is not None and job.next_run_time else None

    def _update_state(self, **changes: Any) -> None:
        with self._state_lock:
            if self._state.get("state") == "stopped":
                return  # a late event after shutdown must not bring the record back to life
            self._state.update(changes)
            if "next_run_at" not in changes:
                self._state["next_run_at"] = self._next_run()
            self._write_state()

    def _write_state(self) -> None:
        with self._state_lock:
            if self._state.get("next_run_at") is None and self._state.get("state") == "running":
                self._state["next_run_at"] = self._next_run()
            self._state["updated_at"] = iso(self.now())
            try:
                write_daemon_state(self.root, dict(self._state))
            except OSError as exc:
                logger.error("could not write %s: %s", Path(self.root) / "daemon.json", exc)


def _signal_name(signum: int | None) -> str:
    try:
        return signal.Signals(signum).name if signum else "stop requested"
    except ValueError:
        return f"signal {signum}"
