"""Run one crawl in this process and write its summary: the child side of a crawl run.

    python -m crawler.run --config CONFIG.json --summary SUMMARY.json [--run-id ID] [--log FILE] [--progress]

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
from crawler.report import RunReport
from crawler.scrapy_settings import build
from crawler.spiders.events import EventsSpider


# What the archive did with the records (the pipeline's counts in Scrapy's stats).
STORED = {"not_modified": "kisi/not-modified", "new_documents": "kisi/new-document",
          "new_versions": "kisi/new-version", "restored": "kisi/restored", "removed": "kisi/removed",
          "unchanged": "kisi/unchanged"}
# What the frontier decided and saw.
DECIDED = ("discovered", "fetched", "errors", "rechecks", "removal_checks", "pending_removals",
           "skipped_other_category", "skipped_not_post")


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
        "sources": data["sources"],
        "sections": data["sections"],
        "sweep": report.sweep,
        "finish_reason": stats.get("finish_reason"),
        "archive_error": stats.get("kisi/archive_error"),
    }


def ending(report: RunReport, stats: dict[str, Any]) -> tuple[str, str | None, int]:
    """How the crawl ended: (outcome, reason, exit code), for the ledger and the shell."""
    if stats.get("kisi/archive_error"):
        return "failed", stats["kisi/archive_error"], exit_codes.ERROR
    if stats.get("finish_reason") == "shutdown":
        return "interrupted", "stopped by a signal", exit_codes.INTERRUPTED
    if report.failure:
        return "failed", report.failure, exit_codes.SITE_UNAVAILABLE
    return "completed", None, exit_codes.OK


class OneLine(logging.Formatter):
    """A formatter that never prints tracebacks."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname}: {record.getMessage()}"


class Progress:
    """A one-line progress display on a terminal, refreshed every second."""

    def __init__(self, spider: EventsSpider, stats: Any) -> None:
        self.spider, self.stats = spider, stats

    def tick(self) -> None:
        c = self.spider.frontier.report.counts
        line = (f"\rdiscovered {c['discovered']}  fetched {c['fetched']}  "
                f"new {int(self.stats.get_value('kisi/new-document', 0))}  "
                f"changed {int(self.stats.get_value('kisi/new-version', 0))}  errors {c['errors']}   ")
        sys.stderr.write(line)
        sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.run")
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--summary", required=True, type=Path)
    parser.add_argument("--run-id")
    parser.add_argument("--log", type=Path)
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args(argv)

    config = Config.from_json(json.loads(args.config.read_text("utf-8")))
    settings = build(config, run_id=args.run_id)
    if args.log:
        args.log.parent.mkdir(parents=True, exist_ok=True)
        settings["LOG_FILE"] = str(args.log)
        settings["LOG_FILE_APPEND"] = True
    process = CrawlerProcess(settings)
    if args.log:
        # The full log goes to the file; the terminal gets warnings and errors only.
        # Only our own one-line messages: Scrapy's tracebacks stay in the log file.
        console = logging.StreamHandler(sys.stderr)
        console.setLevel(logging.WARNING)
        console.setFormatter(OneLine())
        console.addFilter(lambda record: record.name.split(".")[0] in ("crawler", "storage"))
        logging.getLogger().addHandler(console)
    crawler = process.create_crawler(EventsSpider)
    process.crawl(crawler)
    looping: list[task.LoopingCall] = []

    def start_progress(spider: EventsSpider) -> None:
        call = task.LoopingCall(Progress(spider, crawler.stats).tick)
        call.start(1.0, now=False)
        looping.append(call)

    if args.progress:
        from scrapy import signals

        crawler.signals.connect(start_progress, signal=signals.spider_opened)
    started = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    process.start()  # Scrapy handles SIGTERM/SIGINT: first one stops gracefully, second at once
    for call in looping:
        if call.running:
            call.stop()
    if args.progress:
        sys.stderr.write("\n")

    spider = crawler.spider
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
    args.summary.parent.mkdir(parents=True, exist_ok=True)
    args.summary.write_text(json.dumps(summary, ensure_ascii=False, indent=2), "utf-8")
    return code


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
