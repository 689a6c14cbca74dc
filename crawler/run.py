"""Run one crawl in this process and write its summary: the child side of a crawl run.

    python -m crawler.run --config CONFIG.json --summary SUMMARY.json [--run-id ID] [--log FILE] [--progress] [--quiet]

The full log goes to FILE; stderr gets the crawl's own warnings and errors (errors only
with --quiet), one line each, as text or JSON lines (the configuration's `log_format`),
and with --progress a progress bar (crawler/progress.py).

Twisted's reactor cannot be restarted, so the `kisi-archive` command and the daemon start
this module as a child process for every crawl (see scheduler/runs.py).
"""
from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from twisted.internet import task

from crawler import exit_codes
from crawler.config import Config
from crawler.pipelines import LANGUAGE_STATS
from crawler.logformat import formatter
from crawler.progress import ProgressBar, snapshot
from crawler.report import RunReport
from crawler.scrapy_settings import build
from crawler.spiders.events import EventsSpider
from storage.files import replace_or_fill_reserved

logger = logging.getLogger(__name__)

# How long the reactor thread may keep the interpreter lock when another thread asks for it
# (Python's default: 5 ms). The pool's dispatcher threads hand every page to an extraction
# worker and every record to the archive writer, and each hand-off needs the lock while the
# reactor thread, busy most of the time, holds it: at 5 ms a worker waited for its next page
# for a good part of the time it took to extract one. At 1 ms a 2,000-post crawl took a median
# 36.0 s instead of 40.1 (six pairs of runs, alternated; two pairs showed no difference).
SWITCH_INTERVAL = 0.001


# What the archive did with the records (the pipeline's counts in Scrapy's stats).
STORED = {"not_modified": "kisi/not-modified", "new_documents": "kisi/new-document",
          "new_versions": "kisi/new-version", "restored": "kisi/restored", "removed": "kisi/removed",
          "unchanged": "kisi/unchanged"}
# What the frontier decided and saw.
DECIDED = ("discovered", "fetched", "errors", "rechecks", "removal_checks", "pending_removals",
           "skipped_other_category", "skipped_not_post", "attachments", "attachment_errors",
           "offsite", "id_conflicts", "invalid_post_ids")


def summarize(report: RunReport, stats: dict[str, Any]) -> dict[str, Any]:
    """The run's counts and source report, from the frontier's report and Scrapy's stats."""
    counts = {key: int(report.counts.get(key, 0)) for key in DECIDED}
    counts.update({key: int(stats.get(stat, 0)) for key, stat in STORED.items()})
    counts["requests"] = int(stats.get("downloader/request_count", 0))
    # Responses by HTTP status (http_200, http_304, …), for monitoring (/metrics).
    counts.update({f"http_{key.rsplit('/', 1)[1]}": int(value) for key, value in stats.items()
                   if key.startswith("downloader/response_status_count/")})
    data = report.to_json()
    return {
        "counts": counts,
        "languages": by_language(stats),
        "sources": data["sources"],
        "sections": data["sections"],
        "sweep": report.sweep,
        "structures": data["structures"],
        "warnings": data["warnings"],
        "finish_reason": stats.get("finish_reason"),
        "archive_error": stats.get("kisi/archive_error"),
    }


def by_language(stats: dict[str, Any]) -> dict[str, dict[str, int]]:
    """The archive's outcomes of this run per language: {"ru": {"new_documents": 12, …}, …}."""
    names = {stat.removeprefix("kisi/"): key for key, stat in STORED.items()}
    found: dict[str, dict[str, int]] = {}
    for key, value in stats.items():
        if key.startswith(LANGUAGE_STATS):
            language, outcome = key[len(LANGUAGE_STATS):].split("/", 1)
            counts = found.setdefault(language, {name: 0 for name in STORED})
            counts[names.get(outcome, outcome)] = int(value)
    return dict(sorted(found.items()))


def ending(report: RunReport, stats: dict[str, Any]) -> tuple[str, str | None, int]:
    """How the crawl ended: (outcome, reason, exit code), for the ledger and the shell."""
    if stats.get("kisi/archive_error"):
        return "failed", stats["kisi/archive_error"], exit_codes.ERROR
    if stats.get("finish_reason") == "shutdown":
        return "interrupted", "stopped by a signal", exit_codes.INTERRUPTED
    if report.failure:
        return "failed", report.failure, exit_codes.SITE_UNAVAILABLE
    return "completed", None, exit_codes.OK


class Console(logging.StreamHandler):  # type: ignore[type-arg]
    """The crawl's own warnings and errors on stderr, one line each; above the bar while it shows."""

    def __init__(self, log_format: str, level: int) -> None:
        super().__init__(sys.stderr)
        self.setLevel(level)
        self.setFormatter(formatter(log_format))
        # Only our own messages: Scrapy's (and its tracebacks) stay in the log file.
        self.addFilter(lambda record: record.name.split(".")[0] in ("crawler", "storage"))
        self.bar: ProgressBar | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.bar is None:
            super().emit(record)
            return
        try:
            self.bar.write(self.format(record))
        except Exception:
            self.handleError(record)


class Progress:
    """Refreshes the progress bar from the frontier and Scrapy's stats (every second)."""

    def __init__(self, spider: EventsSpider, stats: Any, bar: ProgressBar) -> None:
        self.spider, self.stats, self.bar = spider, stats, bar

    def tick(self) -> None:
        frontier = self.spider.frontier
        self.bar.show(snapshot(frontier.phase, frontier.report.counts, self.stats.get_stats()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.run")
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--summary", required=True, type=Path)
    parser.add_argument("--run-id")
    parser.add_argument("--log", type=Path)
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    # A log line that cannot be written (the disk holding the log is full) is dropped, not
    # a traceback on stderr for every line: the run's outcome says what happened.
    logging.raiseExceptions = False
    sys.setswitchinterval(SWITCH_INTERVAL)

    config = Config.from_json(json.loads(args.config.read_text("utf-8")))
    settings = build(config, run_id=args.run_id)
    if args.log:
        args.log.parent.mkdir(parents=True, exist_ok=True)
        settings["LOG_FILE"] = str(args.log)
        settings["LOG_FILE_APPEND"] = True
    process = CrawlerProcess(settings)
    console = None
    if args.log:
        # The full log goes to the file; the terminal gets warnings and errors only.
        console = Console(config.log_format, logging.ERROR if args.quiet else logging.WARNING)
        logging.getLogger().addHandler(console)
    crawler = process.create_crawler(EventsSpider)
    # A crawl that cannot start (the spider raised while being built) is one line, with the
    # traceback in the log file, not Twisted's "Unhandled error in Deferred" on stderr.
    process.crawl(crawler).addErrback(
        lambda failure: logger.error("the crawl could not start: %s", failure.getErrorMessage(),
                                     exc_info=(failure.type, failure.value, failure.getTracebackObject())))
    looping: list[task.LoopingCall] = []
    bars: list[ProgressBar] = []

    def start_progress(spider: EventsSpider) -> None:
        bar = ProgressBar()
        bars.append(bar)
        if console is not None:
            console.bar = bar
        progress = Progress(spider, crawler.stats, bar)
        call = task.LoopingCall(progress.tick)
        call.start(1.0, now=False)
        looping.append(call)

    def stop_progress(spider: EventsSpider) -> None:
        for call in looping:
            if call.running:
                call.stop()
                Progress(spider, crawler.stats, bars[0]).tick()  # the final figures
        if console is not None:
            console.bar = None
        for bar in bars:
            bar.close()

    if args.progress:
        from scrapy import signals

        crawler.signals.connect(start_progress, signal=signals.spider_opened)
        crawler.signals.connect(stop_progress, signal=signals.spider_closed)
    started = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    process.start()  # Scrapy handles SIGTERM/SIGINT: first one stops gracefully, second at once
    for call in looping:
        if call.running:
            call.stop()

    spider = crawler.spider
    if spider is None:  # the spider could not even be created: the log file says why
        summary = {"outcome": "failed", "reason": "the crawl could not start (see its log)", "run_id": args.run_id,
                   "started_at": started, "finished_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat()}
        write_summary(args.summary, summary)
        return exit_codes.ERROR
    # A second signal stops the reactor at once: the spider was never closed (no report,
    # no memory saved), and the run counts as interrupted.
    closed = hasattr(spider, "report")
    report = spider.report if closed else spider.frontier.report
    stats = dict(crawler.stats.get_stats())
    if not closed:
        stats.setdefault("finish_reason", "shutdown")
    summary = summarize(report, stats)
    summary.update(run_id=args.run_id, started_at=started,
                   finished_at=datetime.now(timezone.utc).replace(microsecond=0).isoformat())
    outcome, reason, code = ending(report, stats)
    summary.update(outcome=outcome, reason=reason)
    write_summary(args.summary, summary)
    return code


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    """Write the run's summary for the parent: atomically, or, when the disk is full, in
    the room the parent reserved for it (scheduler/runs.py), so a full disk is reported as
    such rather than as "no summary"."""
    data = json.dumps(summary, ensure_ascii=False, indent=2).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_or_fill_reserved(path, data)


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
