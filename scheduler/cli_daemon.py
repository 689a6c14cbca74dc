"""Commands for unattended operation: `daemon` (scheduled crawls), `runs` (the ledger), `status`."""
from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click

from crawler import exit_codes
from crawler.config import Config, duration
from crawler.durations import format_interval

from .cli_common import (CommandFailed, Duration, Setting, archive_options, clip, count, emit_json, json_option,
                         check_archive, resolve_config, say, use_log_format)
from .cli_crawl import site_options
from .cli_serve import serve_options
from .ledger import Ledger, RunRecord, read_daemon_state
from .lock import CRAWL_LOCK, DAEMON_LOCK, LockBusy, LockWaitCancelled, is_held, pid_alive, read_holder
from .runs import RunResult


def _ago(span: timedelta | None) -> str:
    """A rough length of time: '45s', '12m', '3h 5m', '2d 4h'."""
    if span is None:
        return "-"
    seconds = int(abs(span.total_seconds()))
    if seconds >= 86400:
        days, hours = seconds // 86400, seconds % 86400 // 3600
        return f"{days}d {hours}h" if hours else f"{days}d"
    if seconds >= 3600:
        hours, minutes = seconds // 3600, seconds % 3600 // 60
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{seconds // 60}m" if seconds >= 60 else f"{seconds}s"


def locked_crawl(config: Config, *, wait: bool, wait_timeout: float | None, progress: bool,
                 quiet: bool = False) -> RunResult:
    """The one-off crawl under the crawl lock: exit 4 when busy, wait with --wait; signals forwarded once.

    The first SIGINT/SIGTERM lets the crawl finish its in-flight requests and close (exit
    130), a second stops it at once, a third kills it.
    """
    from .runs import Stopper, run_crawl

    timeout = wait_timeout
    if timeout is not None and not wait:
        raise click.UsageError("--wait-timeout needs --wait")
    stopper = Stopper()
    restore = stopper.install()

    def waiting(busy: LockBusy) -> None:
        who = busy.holder.describe() if busy.holder else "another process"
        if not quiet:
            say("info", f"Waiting for the archive: {who} is crawling it", event="waiting")

    try:
        return run_crawl(config, trigger="manual", progress=progress, quiet=quiet, wait=wait, wait_timeout=timeout,
                         on_wait=waiting, stopper=stopper)
    except LockWaitCancelled:
        raise CommandFailed("stopped while waiting for the other crawl; nothing was crawled",
                            exit_codes.INTERRUPTED, run_id=None) from None
    except LockBusy as busy:
        who = busy.holder.describe() if busy.holder else "another process"
        waited = f"gave up after waiting {format_interval(timedelta(seconds=wait_timeout))}: " \
            if wait and wait_timeout is not None else ""
        hint = "" if wait else "; try again later or pass --wait"
        raise CommandFailed(f"{waited}another crawl is writing {config.archive_dir.resolve()}: {who}{hint}",
                            exit_codes.BUSY, run_id=None,
                            holder=busy.holder.to_json() if busy.holder else None) from None
    finally:
        restore()


@click.command()
@archive_options
@click.option("--every", type=Setting(duration(), "INTERVAL"), help="Crawl every INTERVAL: 30m, 6h, 1d, 1h30m [env KISI_EVERY].")
@click.option("--cron", type=Setting("cron", "EXPR"), help="Crawl on a crontab schedule, e.g. '0 */6 * * *' [env KISI_CRON].")
@click.option("--timezone", type=Setting("timezone", "ZONE"), help="Time zone of --cron (default UTC) [env KISI_TIMEZONE].")
@click.option("--jitter", "jitter_seconds", type=Setting("jitter_seconds", "SECONDS"),
              help="Start each run up to SECONDS late, at random (default 60) [env KISI_JITTER].")
@click.option("--run-now/--no-run-now", "run_now", default=None, help="Also crawl once at start [env KISI_RUN_NOW].")
@click.option("--time-limit", type=Duration(), help="Stop a crawl that runs longer than this: 4h, 90m (default 4h) "
              "[env KISI_CRAWL_TIME_LIMIT, in seconds].")
@site_options
@click.option("--log-format", type=click.Choice(["text", "json"]), help="Log lines as text or JSON (default text) "
              "[env KISI_LOG_FORMAT].")
@click.option("--webhook", type=Setting("webhook", "URL"), help="POST a JSON summary to URL after each run that changed something "
              "[env KISI_WEBHOOK].")
@click.option("--serve", is_flag=True, help="Also serve the read-only web viewer (see `serve`), in this process.")
@serve_options
def daemon(archive_dir: Path | None, config_file: Path | None, every: str | None, cron: str | None,
           timezone: str | None, jitter_seconds: int | None, run_now: bool | None, time_limit: float | None,
           site: str | None, category: str | None, contact: str | None, download_delay: float | None,
           log_format: str | None, webhook: str | None, serve: bool, host: str | None, port: int | None,
           public_url: str | None) -> None:
    """Crawl on a schedule, in the foreground, until SIGTERM or Ctrl-C.

    Each crawl runs in a child process under the archive's crawl lock (a one-off `crawl`
    meanwhile is refused or waits), with a time limit, and is recorded in the run ledger
    (`kisi-archive runs`). Runs missed while the machine slept run once on wake. SIGTERM or
    SIGINT stops scheduling and lets a running crawl finish its requests (a second signal
    stops it at once), then exits 0. Logs go to stderr, one line per run start and end;
    each crawl's full log is in ARCHIVE/runs/<run_id>/crawl.log. Exits 4 when another daemon
    already runs on the archive.

    \b
    Examples:
      kisi-archive daemon --every 6h --run-now
      kisi-archive daemon --cron '0 3 * * *' --timezone Asia/Almaty --archive /var/lib/kisi-archive
      kisi-archive daemon --every 6h --log-format json 2>> /var/log/kisi-archive.jsonl
      kisi-archive daemon --every 6h --serve --port 8000 --webhook https://hooks.example.org/kisi
    """
    from .daemon import Daemon, ScheduleError, schedule_from_config, setup_logging

    limit = time_limit
    config = resolve_config(config_file, archive_dir=archive_dir, site=site, category=category, contact=contact,
                            download_delay=download_delay, every=every, cron=cron, timezone=timezone,
                            jitter_seconds=jitter_seconds, run_now=run_now, crawl_time_limit=limit,
                            log_format=log_format, webhook=webhook, serve_host=host, serve_port=port,
                            public_url=public_url)
    try:
        schedule = schedule_from_config(config)
    except ScheduleError as exc:
        raise click.UsageError(str(exc)) from None
    setup_logging(config.log_format)
    use_log_format(config.log_format)
    viewer = None
    if serve:
        from storage import Archive

        from .cli_serve import start_viewer

        with Archive.open(config.archive_dir, create=True) as archive:
            archive.conn  # the daemon writes this archive: it may build the index the viewer reads
        viewer = start_viewer(config)
    try:
        code = Daemon(config, schedule, viewer=viewer).run()
    except LockBusy as busy:
        who = busy.holder.describe() if busy.holder else "another process"
        raise CommandFailed(f"another daemon is already running on {config.archive_dir.resolve()}: {who} "
                            f"({busy.path}); stop it first, or use another --archive", exit_codes.BUSY) from None
    sys.exit(code)


@click.command()
@archive_options
@click.option("--limit", type=count(0), default=20, show_default=True,
              help="Show at most N runs, newest first (0: all).")
@json_option
def runs(archive_dir: Path | None, config_file: Path | None, limit: int, as_json: bool) -> None:
    """List crawl runs, newest first: trigger, start, outcome, duration, counts, log.

    Every run is recorded, whether scheduled, at daemon start, one-off or demo; a scheduled
    run that found another crawl writing the archive is recorded as `skipped`.

    \b
    Examples:
      kisi-archive runs
      kisi-archive runs --limit 5 --json | jq '.[] | {started_at, outcome, counts}'
    """
    from .runs import recover_abandoned

    config = resolve_config(config_file, archive_dir=archive_dir)
    check_archive(config)
    recover_abandoned(config.archive_dir, by="`kisi-archive runs`")
    records = Ledger(config.archive_dir).list(limit=limit or None)
    if as_json:
        emit_json([r.to_json() for r in records])
        return
    if not records:
        click.echo("No runs recorded yet: run `kisi-archive crawl` or `kisi-archive daemon`.", err=True)
        return
    click.echo(f"{'STARTED':<20} {'TRIGGER':<9} {'OUTCOME':<11} {'TIME':>6} {'FETCHED':>7} {'NEW':>5} {'CHANGED':>7} "
               f"{'REMOVED':>7} {'ERRORS':>6}  {'RUN':<22} {'NEW+CHANGED BY LANGUAGE':<24} REASON")
    for r in records:
        c = r.counts or {}
        click.echo(f"{_short_time(r.started_at):<20} {r.trigger:<9} {r.outcome:<11} {_run_time(r):>6} "
                   f"{c.get('fetched', 0):>7} {c.get('new_documents', 0):>5} {c.get('new_versions', 0):>7} "
                   f"{c.get('removed', 0):>7} {c.get('errors', 0):>6}  {r.run_id:<22} {_by_language(r):<24} "
                   f"{clip(r.reason or '', 60)}")


def _by_language(record: RunRecord) -> str:
    """"en 13 ru 12 kk 8": new documents and new versions of a run, per language."""
    languages = (record.sources or {}).get("languages") or {}
    parts = [f"{code} {by.get('new_documents', 0) + by.get('new_versions', 0)}" for code, by in sorted(languages.items())]
    return " ".join(parts) or "-"


@click.command()
@archive_options
@click.option("--max-age", type=Setting("stale_after", "DURATION"), help="Exit 5 when the last successful run is older than this: 12h, 2d "
              "(default 2d) [env KISI_STALE_AFTER].")
@json_option
def status(archive_dir: Path | None, config_file: Path | None, max_age: str | None, as_json: bool) -> None:
    """Show the last run, the last successful run, the next scheduled run and the daemon.

    Exits 5 when the last successful run finished longer ago than --max-age (or there has
    never been one), so a monitoring check or a cron job can alert on it; 0 otherwise.

    \b
    Examples:
      kisi-archive status
      kisi-archive status --max-age 13h --json
      kisi-archive status --max-age 1d >/dev/null || echo "kisi-archive is stale" | mail -s alert root
    """
    from .daemon import freshness, parse_interval, parse_time
    from .runs import recover_abandoned, utc_now

    config = resolve_config(config_file, archive_dir=archive_dir, stale_after=max_age)
    try:
        allowed = parse_interval(config.stale_after)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--max-age") from None
    check_archive(config)
    root = config.archive_dir.resolve()
    recover_abandoned(root, by="`kisi-archive status`")
    now = utc_now()
    ledger = Ledger(root)
    last, success = ledger.latest(), ledger.last_success()
    stale, age = freshness(parse_time(success.finished_at if success else None), now, allowed)
    report = _status_report(root, now, last, success, stale, age, allowed)
    if as_json:
        emit_json(report)
    else:
        _print_status(report, last, success, age)
    sys.exit(exit_codes.STALE if stale else exit_codes.OK)


def _status_report(root: Path, now: datetime, last: RunRecord | None, success: RunRecord | None, stale: bool,
                   age: timedelta | None, allowed: timedelta) -> dict[str, Any]:
    state = read_daemon_state(root) or {}
    holder = read_holder(root / DAEMON_LOCK)
    held = is_held(root / DAEMON_LOCK)
    running = held and (holder is None or not holder.local or pid_alive(holder.pid))
    daemon: dict[str, Any] = {"running": running}
    if running:
        daemon.update(pid=holder.pid if holder else state.get("pid"), host=holder.host if holder else state.get("host"),
                      started_at=holder.started if holder else state.get("started_at"),
                      schedule=state.get("schedule"), next_run_at=state.get("next_run_at"))
    else:
        daemon.update(pid=None, next_run_at=None, last_seen=state.get("updated_at"), schedule=state.get("schedule"))
    crawl_holder = read_holder(root / CRAWL_LOCK) if is_held(root / CRAWL_LOCK) else None
    return {
        "archive": str(root),
        "now": now.replace(microsecond=0).isoformat(),
        "daemon": daemon,
        "crawling": crawl_holder.to_json() if crawl_holder else None,
        "last_run": last.to_json() if last else None,
        "last_success": success.to_json() if success else None,
        "age_seconds": round(age.total_seconds()) if age is not None else None,
        "max_age_seconds": round(allowed.total_seconds()),
        "stale": stale,
    }


def _print_status(report: dict[str, Any], last: RunRecord | None, success: RunRecord | None,
                  age: timedelta | None) -> None:
    from .daemon import format_interval, parse_time
    from .runs import counts_line

    d = report["daemon"]
    now = parse_time(report["now"])
    click.echo(f"Archive       {report['archive']}")
    if d["running"]:
        click.echo(f"Daemon        running, pid {d['pid']} on {d['host']} since {d['started_at']}; {d['schedule']}")
        nxt = parse_time(d.get("next_run_at"))
        when = f"{d['next_run_at']} (in {_ago(nxt - now)})" if nxt and now else "-"
        click.echo(f"Next run      {when}")
    else:
        seen = f" (last seen {d['last_seen']})" if d.get("last_seen") else ""
        click.echo(f"Daemon        not running{seen}")
        click.echo("Next run      - (no daemon)")
    if report["crawling"]:
        h = report["crawling"]
        click.echo(f"Crawling      run {h.get('run_id')} ({h.get('trigger')}) since {h.get('started')}, pid {h.get('pid')}")
    if last:
        reason = f": {clip(last.reason, 70)}" if last.reason and last.outcome != "completed" else ""
        click.echo(f"Last run      {last.started_at} {last.outcome} ({last.trigger}) {counts_line(last.counts)}{reason}")
    else:
        click.echo("Last run      - (none recorded)")
    if success:
        click.echo(f"Last success  {success.finished_at} ({_ago(age)} ago)")
    else:
        click.echo("Last success  - (never)")
    allowed = format_interval(timedelta(seconds=report["max_age_seconds"]))
    if not report["stale"]:
        click.echo(f"Fresh         yes: last success {_ago(age)} ago, within {allowed}")
    elif success is None:
        click.echo(f"Fresh         NO: there has been no successful run (max age {allowed})")
    else:
        click.echo(f"Fresh         NO: last success {_ago(age)} ago, older than {allowed}")


def _short_time(value: str | None) -> str:
    return (value or "")[:19].replace("T", " ")


def _run_time(record: RunRecord) -> str:
    from .daemon import parse_time

    start, end = parse_time(record.started_at), parse_time(record.finished_at)
    if not start or not end:
        return "-"
    return _ago(end - start)


COMMANDS = [daemon, runs, status]
