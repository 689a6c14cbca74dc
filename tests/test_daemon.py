"""The daemon, the run ledger and `status`: pure decisions first, then real processes and real signals.

The end-to-end tests start `kisi-archive daemon` as a subprocess with a short interval against
the fixture site on 127.0.0.1 and talk to it only with signals and the `kisi-archive` command.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator
from zoneinfo import ZoneInfo

import pytest

from crawler.config import Config
from scheduler.daemon import (GridIntervalTrigger, JsonFormatter, Schedule, ScheduleError, clock_jumped, cron_trigger,
                              cron_weekdays, effective_jitter, fire_times, format_interval, freshness, gaps,
                              job_options, misfire_grace, parse_interval, schedule_from_config)
from scheduler.runs import Stopper, due_signals, supervise
from scheduler.lock import CRAWL_LOCK, DAEMON_LOCK, is_held, pid_alive, read_holder
from scheduler.ledger import Ledger, RunRecord

from conftest import BIN, Cli

NOW = datetime(2026, 3, 6, 12, 0, 0, tzinfo=timezone.utc)  # a Friday


# ----- pure decisions --------------------------------------------------------------------

@pytest.mark.parametrize("text, seconds", [
    ("30s", 30), ("15m", 900), ("6h", 21600), ("1d", 86400), ("2w", 1_209_600), ("1h30m", 5400),
    ("1h 30m", 5400), ("90", 90), ("1.5h", 5400), (" 6H ", 21600), ("0.5s", 0.5), ("2s", 2),
])
def test_parse_interval(text: str, seconds: float) -> None:
    assert parse_interval(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "0", "0s", "-5m", "6x", "h", "5mm", "m5", "6h-1m", "1e3"])
def test_parse_interval_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_interval(text)


@pytest.mark.parametrize("seconds, text", [(21600, "6h"), (5400, "1h30m"), (2.5, "2.5s"), (90000, "1d1h"),
                                           (2, "2s"), (172800, "2d")])
def test_format_interval(seconds: float, text: str) -> None:
    assert format_interval(timedelta(seconds=seconds)) == text
    assert parse_interval(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("field, expected", [
    ("*", "*"), ("0", "sun"), ("7", "sun"), ("1", "mon"), ("1-5", "mon,tue,wed,thu,fri"), ("0,6", "sun,sat"),
    ("*/2", "sun,tue,thu,sat"), ("5-7", "sun,fri,sat"), ("mon-fri", "mon-fri"), ("sat,sun", "sat,sun"),
])
def test_cron_weekdays_follow_crontab_not_apscheduler_numbering(field: str, expected: str) -> None:
    assert cron_weekdays(field) == expected


@pytest.mark.parametrize("field", ["8", "5-2", "x1", "1-"])
def test_cron_weekdays_rejects(field: str) -> None:
    with pytest.raises(ValueError):
        cron_weekdays(field)


def test_cron_sunday_means_sunday() -> None:
    # APScheduler's own from_crontab would read 0 as Monday (apscheduler#286).
    times = fire_times(cron_trigger("0 3 * * 0", ZoneInfo("UTC")), NOW, 3)
    assert [t.weekday() for t in times] == [6, 6, 6] and all(t.hour == 3 for t in times)
    almaty = fire_times(cron_trigger("0 */6 * * *", ZoneInfo("Asia/Almaty")), NOW, 4)
    assert [t.astimezone(ZoneInfo("Asia/Almaty")).hour for t in almaty] == [18, 0, 6, 12]


def config(**changes: Any) -> Config:
    return replace(Config(), **changes)


@pytest.mark.parametrize("changes, message", [
    ({}, "no schedule"),
    ({"every": "6h", "cron": "0 * * * *"}, "not both"),
    ({"every": "6x"}, "--every"),
    ({"cron": "0 * * *"}, "--cron"),
    ({"cron": "0 * * * 9"}, "--cron"),
    ({"every": "6h", "timezone": "Mars/Olympus"}, "--timezone"),
    ({"every": "6h", "jitter_seconds": -1}, "--jitter"),
])
def test_schedule_errors_name_the_setting(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        schedule_from_config(config(**changes))


def test_job_options_carry_the_deliberate_policies() -> None:
    schedule = schedule_from_config(config(every="6h", jitter_seconds=60, misfire_grace_seconds=3600))
    options = job_options(schedule, config(misfire_grace_seconds=3600), NOW)
    assert options["id"] == "kisi-archive-crawl"
    assert options["replace_existing"] is True and options["max_instances"] == 1 and options["coalesce"] is True
    assert options["misfire_grace_time"] == 6 * 3600 + 60  # one whole period plus jitter, not 1 s
    assert "next_run_time" not in options
    first = options["trigger"].get_next_fire_time(None, NOW)
    assert NOW + timedelta(hours=6) <= first <= NOW + timedelta(hours=6, seconds=60)
    with_start = job_options(replace(schedule, run_now=True), config(), NOW)
    assert with_start["next_run_time"] == NOW
    assert schedule.describe() == "every 6h, jitter up to 60 s"


@pytest.mark.parametrize("configured, gap, jitter, grace", [
    (3600, timedelta(hours=6), 60, 21660), (3600, timedelta(minutes=30), 0, 3600), (0, timedelta(seconds=2), 0, 2),
    (7200, timedelta(hours=1), 30, 7200),
])
def test_misfire_grace_is_never_shorter_than_a_period(configured: int, gap: timedelta, jitter: float,
                                                      grace: int) -> None:
    assert misfire_grace(configured, gap, jitter) == grace


@pytest.mark.parametrize("cron", ["0 */6 * * *", "0 9-17 * * 1-5", "30 2 1 * *"])
def test_a_run_missed_by_any_sleep_is_within_the_grace(cron: str) -> None:
    """Coalescing keeps the latest missed fire time: it must never be later than the grace."""
    schedule = Schedule(every=None, cron=cron, timezone="UTC", jitter=0, run_now=False)
    grace = timedelta(seconds=job_options(schedule, config(misfire_grace_seconds=60), NOW)["misfire_grace_time"])
    times = fire_times(cron_trigger(cron, ZoneInfo("UTC")), NOW, 60)
    for wake in (times[-1] - timedelta(seconds=s) for s in range(1, 40 * 86400, 7919)):
        missed = [t for t in times if t <= wake]
        if missed:
            assert wake - missed[-1] <= grace, (cron, wake)
    assert gaps(schedule, NOW)[1] == timedelta(hours=64) if cron == "0 9-17 * * 1-5" else True


def test_jitter_is_capped_and_never_drifts() -> None:
    assert effective_jitter(60, timedelta(seconds=2)) == 1.0
    assert effective_jitter(60, timedelta(hours=6)) == 60
    start = NOW + timedelta(seconds=100)
    trigger = GridIntervalTrigger(seconds=100, start_date=start, timezone=ZoneInfo("UTC"), jitter=10)
    fire = None
    for k in range(200):
        fire = trigger.get_next_fire_time(fire, fire or NOW)
        slot = start + timedelta(seconds=100 * k)
        assert slot <= fire <= slot + timedelta(seconds=10), k


@pytest.mark.parametrize("now, limit_at, stop_at, requests, due", [
    (0.0, None, None, 0, 0),
    (5.0, 10.0, None, 0, 0),     # before the time limit
    (10.0, 10.0, None, 0, 1),    # at the limit: SIGTERM, close gracefully
    (40.0, 10.0, None, 0, 2),    # a grace of 30 s later: SIGTERM again, stop at once
    (45.0, 10.0, None, 0, 3),    # then SIGKILL
    (1.0, None, 1.0, 1, 1),      # a stop request: SIGTERM
    (1.5, None, 1.0, 2, 2),      # a second request escalates at once
    (1.6, None, 1.0, 3, 3),      # a third kills
    (99.0, None, 1.0, 9, 3),     # never more than three
    (12.0, 10.0, 11.0, 2, 2),    # the larger of both
])
def test_due_signals(now: float, limit_at: float | None, stop_at: float | None, requests: int, due: int) -> None:
    assert due_signals(now, limit_at=limit_at, stop_at=stop_at, stop_requests=requests, grace=30,
                       kill_after=5) == due


@pytest.mark.parametrize("before, after, jumped", [(100.0, 100.4, False), (100.0, 103.0, True),
                                                   (100.0, 28900.0, True), (100.0, 90.0, True)])
def test_clock_jumped(before: float, after: float, jumped: bool) -> None:
    assert clock_jumped(before, after) is jumped


def test_freshness() -> None:
    assert freshness(None, NOW, timedelta(days=2)) == (True, None)
    assert freshness(NOW - timedelta(hours=1), NOW, timedelta(days=2)) == (False, timedelta(hours=1))
    assert freshness(NOW - timedelta(days=3), NOW, timedelta(days=2))[0] is True


def test_json_log_lines_carry_the_run_fields() -> None:
    record = logging.LogRecord("scheduler.runs", logging.INFO, "", 0, "run %s ended", ("r1",), None)
    record.__dict__.update(event="run-finished", run_id="r1", counts={"fetched": 3})
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "run r1 ended" and line["level"] == "info"
    assert line["event"] == "run-finished" and line["counts"] == {"fetched": 3} and "time" in line


def sleeper(ignore_term: bool) -> subprocess.Popen[bytes]:
    code = "import signal, sys, time\n"
    if ignore_term:
        code += "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    code += "sys.stdout.write('ready\\n'); sys.stdout.flush(); time.sleep(60)\n"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert child.stdout is not None and child.stdout.readline() == b"ready\n"
    child.stdout.close()
    return child


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace() -> None:
    child = sleeper(ignore_term=True)
    started = time.monotonic()
    code, timed_out = supervise(child, limit=0.3, stopper=None, grace=0.4, kill_after=0.3)
    assert (code, timed_out) == (-signal.SIGKILL, True)
    assert time.monotonic() - started < 5


def test_a_stop_request_reaches_the_child() -> None:
    child = sleeper(ignore_term=False)
    stopper = Stopper()
    stopper.request_stop(signal.SIGTERM)
    assert supervise(child, limit=60, stopper=stopper, grace=30) == (-signal.SIGTERM, False)


# ----- the daemon as a real process ------------------------------------------------------

class Daemon:
    """`kisi-archive daemon ...` as a subprocess; stderr to a file nobody has to drain."""

    def __init__(self, cli: Cli, log: Path, *args: str) -> None:
        self.cli, self.log_path = cli, log
        self.stderr = open(log, "ab")
        command = [str(BIN)] if BIN.exists() else [sys.executable, "-m", "scheduler.cli"]
        self.proc = subprocess.Popen([*command, "daemon", *args], env=cli.env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.stderr)

    @property
    def log(self) -> str:
        return self.log_path.read_text("utf-8", "replace")

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def wait(self, timeout: float = 60) -> int:
        return self.proc.wait(timeout=timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()
        # A crawl orphaned by a SIGKILLed daemon holds the crawl lock until it ends: end it.
        holder = read_holder(self.cli.archive / CRAWL_LOCK)
        if holder and holder.child_pid and is_held(self.cli.archive / CRAWL_LOCK) and pid_alive(holder.child_pid):
            os.kill(holder.child_pid, signal.SIGKILL)


@pytest.fixture
def daemons(cli: Cli, tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    started: list[Daemon] = []

    def start(*args: str, site: Any = None) -> Daemon:
        extra = ["--site", site.url + "/en/", "--category", "events"] if site is not None else []
        daemon = Daemon(cli, tmp_path / f"daemon-{len(started)}.log", *args, *extra)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.close()


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, daemon: Daemon | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}" + (f"\n{daemon.log}" if daemon else ""))


def runs(cli: Cli) -> list[RunRecord]:
    return Ledger(cli.archive).list()


def finished(cli: Cli, outcome: str | None = None) -> list[RunRecord]:
    return [r for r in runs(cli) if r.outcome != "running" and (outcome is None or r.outcome == outcome)]


def crawling(cli: Cli) -> Any:
    """The crawl lock's holder once its crawl child is running, else None."""
    holder = read_holder(cli.archive / CRAWL_LOCK)
    return holder if holder and holder.child_pid and is_held(cli.archive / CRAWL_LOCK) else None


def started_between(records: list[RunRecord], start: float, end: float) -> list[RunRecord]:
    def at(r: RunRecord) -> float:
        return datetime.fromisoformat(r.started_at).timestamp()

    return [r for r in records if start <= at(r) < end and r.outcome != "skipped"]


@pytest.mark.e2e
def test_scheduled_runs_busy_archive_and_sigterm_mid_crawl(site, cli, daemons) -> None:
    daemon = daemons("--every", "3s", "--jitter", "0", "--run-now", "--log-format", "json", site=site)
    wait_for(lambda: len(finished(cli, "completed")) >= 2, 60, "a startup and a scheduled run", daemon)

    listed = cli("runs", "--json").json()
    assert [r["started_at"] for r in listed] == sorted((r["started_at"] for r in listed), reverse=True)
    assert listed[-1]["trigger"] == "startup" and listed[-2]["trigger"] == "schedule"
    first = listed[-1]
    assert first["outcome"] == "completed" and first["counts"]["new_documents"] > 0
    assert {"fetched", "new_documents", "new_versions", "removed", "errors"} <= set(first["counts"])
    assert Path(first["log_path"]).is_file() and first["finished_at"]
    assert len(cli("runs", "--json", "--limit", "1").json()) == 1
    assert "schedule" in cli("runs").out

    status = cli("status", "--json").json()
    assert status["daemon"]["running"] is True and status["daemon"]["pid"] == daemon.proc.pid
    assert status["daemon"]["next_run_at"] and status["stale"] is False
    assert "running, pid" in cli("status").out

    second = daemons("--every", "3s", site=site)
    assert second.wait(30) == 4
    assert "another daemon is already running" in second.log and f"pid {daemon.proc.pid}" in second.log

    # Make the next crawls slow, so one is in flight while we act.
    with site.modify() as state:
        state.slow_down("/en/category/events/", 6)
    # A crawl that started before the slow-down may be just ending: wait for one that started
    # after it, whose listing request will take 6 s.
    before = {r.run_id for r in runs(cli)}
    holder = wait_for(lambda: (h := crawling(cli)) and h.run_id not in before and h, 60, "a crawl in progress", daemon)
    busy = cli.crawl(site, check=False)
    assert busy.code == 4, busy
    assert busy.err.count("\n") == 1 and "another crawl is writing" in busy.err and holder.run_id in busy.err
    waiting = subprocess.Popen([str(BIN), "crawl", "--site", site.url + "/en/", "--category", "events", "--wait",
                                "--json"], env=cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Stop the daemon once the waiting crawl says it waits (a fixed sleep lost the race on
    # a loaded machine: the crawl had not reached the lock when the daemon released it).
    assert waiting.stderr is not None
    said = waiting.stderr.readline()
    daemon.signal(signal.SIGTERM)
    assert daemon.wait(60) == 0
    out, err = waiting.communicate(timeout=60)
    err = said + err
    assert waiting.returncode == 0, err
    assert "Waiting for the archive" in err and json.loads(out)["outcome"] == "completed"

    stopped = next(r for r in runs(cli) if r.run_id == holder.run_id)
    assert stopped.outcome == "interrupted" and stopped.finished_at
    events = [json.loads(line) for line in daemon.log.splitlines() if line.startswith("{")]
    assert {"daemon-started", "run-started", "run-finished", "stopping", "daemon-stopped"} <= {e.get("event") for e in events}
    ended = [e for e in events if e.get("event") == "run-finished"]
    assert all({"fetched", "new_documents", "new_versions", "removed", "errors"} <= set(e["counts"]) for e in ended)
    assert not is_held(cli.archive / CRAWL_LOCK) and not is_held(cli.archive / DAEMON_LOCK)
    assert cli("verify").code == 0

    after = cli("status", "--json").json()
    assert after["daemon"]["running"] is False and after["daemon"]["next_run_at"] is None
    assert cli("status").code == 0
    time.sleep(1.1)
    stale = cli("status", "--max-age", "1s", check=False)
    assert stale.code == 5 and "NO: last success" in stale.out


@pytest.mark.e2e
def test_sigstop_across_several_intervals_gives_one_coalesced_run(site, cli, daemons) -> None:
    daemon = daemons("--every", "3s", "--jitter", "0", site=site)
    state_file = cli.archive / "daemon.json"
    state = wait_for(lambda: state_file.exists() and json.loads(state_file.read_text()), 60, "daemon.json", daemon)
    first_due = datetime.fromisoformat(state["next_run_at"]).timestamp()  # to the second, rounded down
    daemon.signal(signal.SIGSTOP)
    # Stopped across the fire times first_due, +3 s and +6 s; continue 1.5 to 2.5 s after the third
    # (first_due is rounded down): later than APScheduler's default grace of 1 s, before the fourth.
    time.sleep(max(0.0, first_due + 8.5 - time.time()))
    resumed = time.time()
    daemon.signal(signal.SIGCONT)
    caught_up = wait_for(lambda: [r for r in finished(cli) if datetime.fromisoformat(r.scheduled_for).timestamp() <= resumed],
                         20, "the catch-up run", daemon)
    time.sleep(1.0)  # an uncoalesced burst would start its next run the moment the first ends
    missed = [r for r in runs(cli) if datetime.fromisoformat(r.scheduled_for).timestamp() <= resumed]
    assert len(missed) == 1, [(r.scheduled_for, r.started_at) for r in runs(cli)]
    assert caught_up[0].outcome == "completed"
    due = datetime.fromisoformat(missed[0].scheduled_for).timestamp()
    assert first_due + 5.5 <= due <= first_due + 7  # the latest missed fire time, not the first
    assert datetime.fromisoformat(missed[0].started_at).timestamp() >= resumed - 1
    daemon.signal(signal.SIGINT)
    assert daemon.wait(60) == 0
    later = [r for r in runs(cli) if r.run_id != missed[0].run_id]
    assert all(datetime.fromisoformat(r.scheduled_for).timestamp() > resumed for r in later)


@pytest.mark.e2e
def test_killed_daemon_is_replaced_and_its_orphaned_crawl_recorded(site, cli, daemons) -> None:
    with site.modify() as state:
        state.slow_down("/en/category/events/", 2)
    first = daemons("--every", "1h", "--run-now", "--jitter", "0", site=site)
    holder = wait_for(lambda: crawling(cli), 60, "the first crawl", first)
    first.signal(signal.SIGKILL)
    first.wait()

    second = daemons("--every", "2s", "--run-now", "--jitter", "0", site=site)
    assert "took over the daemon lock left by pid" in wait_for(lambda: "daemon started" in second.log and second.log,
                                                               15, "the second daemon", second)
    # Its first runs find the orphaned crawl still writing: recorded as skipped, naming it.
    skipped = wait_for(lambda: finished(cli, "skipped"), 60, "a skipped run", second)
    assert holder.run_id in skipped[0].reason
    # Once the orphan is done, the lock is taken over and the orphan's run closed from its summary.
    wait_for(lambda: [r for r in finished(cli, "completed") if r.run_id != holder.run_id], 60, "a run of the new daemon",
             second)
    orphan = next(r for r in runs(cli) if r.run_id == holder.run_id)
    assert orphan.outcome == "completed" and orphan.counts["new_documents"] > 0
    second.signal(signal.SIGTERM)
    assert second.wait(60) == 0
    assert cli("verify").code == 0


@pytest.mark.e2e
def test_site_outage_is_recorded_and_the_daemon_recovers(site, cli, daemons) -> None:
    cli.env["KISI_RETRIES"] = "0"  # an unreachable site is found out at once
    site.stop()
    assert cli.crawl(site, check=False).code == 3
    never = cli("status", check=False)
    assert never.code == 5 and "no successful run" in never.out
    site.start()
    cli.crawl(site)  # the first, full crawl; the daemon's runs after it are quicker
    assert cli("status").code == 0

    daemon = daemons("--every", "2s", "--jitter", "0", site=site)
    wait_for(lambda: [r for r in finished(cli, "completed") if r.trigger == "schedule"], 60, "a scheduled run", daemon)
    site.stop()
    failed = wait_for(lambda: [r for r in finished(cli, "failed") if r.trigger == "schedule"], 60, "a failed run",
                      daemon)
    assert "unreachable" in (failed[0].reason or "")
    site.start()
    before = len(finished(cli, "completed"))
    wait_for(lambda: len(finished(cli, "completed")) > before, 60, "a run after the site came back", daemon)
    assert daemon.proc.poll() is None
    daemon.signal(signal.SIGINT)
    assert daemon.wait(60) == 0
    assert cli("verify").code == 0


@pytest.mark.e2e
def test_hung_crawl_is_stopped_at_its_time_limit_and_the_daemon_carries_on(site, cli, daemons) -> None:
    # Scrapy still retries an in-flight request while it closes: no retries keeps the close short.
    cli.env.update(KISI_TIMEOUT="4", KISI_RETRIES="0")
    with site.modify() as state:
        state.slow_down("/robots.txt", 30)  # every crawl asks for it first: the crawl hangs
    daemon = daemons("--every", "2s", "--jitter", "0", "--run-now", "--time-limit", "3s", site=site)
    record = wait_for(lambda: finished(cli, "timed-out"), 60, "a timed-out run", daemon)[0]
    took = (datetime.fromisoformat(record.finished_at) - datetime.fromisoformat(record.started_at)).total_seconds()
    assert took < 15 and "time limit" in (record.reason or "")
    assert "hit its time limit" in daemon.log
    with site.modify() as state:
        state.slow.clear()
    wait_for(lambda: [r for r in finished(cli) if r.started_at > record.finished_at], 60, "a later run", daemon)
    assert daemon.proc.poll() is None
    daemon.signal(signal.SIGTERM)
    assert daemon.wait(60) == 0
    assert "timed-out" in cli("runs").out
    assert cli("verify").code == 0
