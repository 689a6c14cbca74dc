"""/healthz and /metrics: whether the archive is being kept up to date, for monitoring.

Runs are read from the run ledger (scheduler.ledger.Ledger). A finished run's record never
changes, so records are cached by run id and only new or still-running ones are re-read:
a daemon's ledger grows by thousands of runs a year, and a scrape must stay cheap.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

from crawler.durations import parse_interval

from ..ledger import Ledger, RunRecord



class RunCache:
    def __init__(self, root: Path) -> None:
        self.ledger = Ledger(root)
        self._finished: dict[str, RunRecord] = {}
        self._lock = threading.Lock()

    def runs(self) -> list[RunRecord]:
        """Every recorded run, newest first."""
        try:
            names = sorted((p.name for p in self.ledger.dir.iterdir() if p.is_dir()), reverse=True)
        except FileNotFoundError:
            return []
        out: list[RunRecord] = []
        with self._lock:
            for name in names:
                record = self._finished.get(name) or self.ledger.get(name)
                if record is None:
                    continue
                if record.outcome != "running":
                    self._finished[name] = record
                out.append(record)
        return out


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def health(runs: list[RunRecord], now: datetime, stale_after: str) -> tuple[bool, dict[str, Any]]:
    """(healthy, report): healthy while the last successful run finished within `stale_after`."""
    allowed = parse_interval(stale_after)
    last = runs[0] if runs else None
    success = next((r for r in runs if r.succeeded), None)
    finished = parse_time(success.finished_at if success else None)
    age = (now - finished) if finished else None
    healthy = age is not None and age <= allowed
    return healthy, {
        "status": "ok" if healthy else "stale",
        "now": now.replace(microsecond=0).isoformat(),
        "last_success_at": success.finished_at if success else None,
        "last_success_age_seconds": round(age.total_seconds()) if age is not None else None,
        "stale_after_seconds": round(allowed.total_seconds()),
        "last_run": {"run_id": last.run_id, "outcome": last.outcome, "started_at": last.started_at,
                     "finished_at": last.finished_at,
                     "age_seconds": _age(now, last.finished_at or last.started_at)} if last else None,
        "message": None if healthy else (
            "no successful run recorded yet" if success is None
            else f"the last successful run finished {_span(age)} ago, more than {stale_after}"),
    }


def _age(now: datetime, value: str | None) -> int | None:
    moment = parse_time(value)
    return round((now - moment).total_seconds()) if moment else None


def _span(age: timedelta | None) -> str:
    seconds = int(age.total_seconds()) if age else 0
    return f"{seconds // 3600}h {seconds % 3600 // 60}m" if seconds >= 3600 else f"{seconds // 60}m {seconds % 60}s"


def metrics_text(runs: list[RunRecord], languages: list[dict[str, Any]], kinds: dict[str, int]) -> tuple[bytes, str]:
    """The Prometheus text exposition of the archive (body, content type)."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.exposition import CONTENT_TYPE_LATEST

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ArchiveCollector(runs, languages, kinds))  # type: ignore[arg-type]
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _ArchiveCollector:
    def __init__(self, runs: list[RunRecord], languages: list[dict[str, Any]], kinds: dict[str, int]) -> None:
        self.runs, self.languages, self.kinds = runs, languages, kinds

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        outcomes = CounterMetricFamily("kisi_archive_runs", "Crawl runs recorded in the ledger, by outcome.",
                                       labels=["outcome"])
        counted: dict[str, int] = {}
        for run in self.runs:
            counted[run.outcome] = counted.get(run.outcome, 0) + 1
        # completed and failed always appear (0 included), so an alert on them has a series.
        for outcome in dict.fromkeys(("completed", "failed", *sorted(counted))):
            outcomes.add_metric([outcome], counted.get(outcome, 0))
        yield outcomes
        documents = GaugeMetricFamily("kisi_archive_documents", "Archived documents, by language.", labels=["language"])
        versions = GaugeMetricFamily("kisi_archive_versions", "Stored versions, by language.", labels=["language"])
        removed = GaugeMetricFamily("kisi_archive_removed_documents",
                                    "Documents whose post was removed from the site, by language.", labels=["language"])
        for row in self.languages:
            lang = row["language"] or "und"
            documents.add_metric([lang], row["documents"])
            versions.add_metric([lang], row["versions"] or 0)
            removed.add_metric([lang], row["removed"] or 0)
        yield from (documents, versions, removed)
        yield CounterMetricFamily("kisi_archive_removals", "Removals recorded (tombstone versions).",
                                  value=self.kinds.get("removed", 0))
        yield CounterMetricFamily("kisi_archive_restorations", "Posts recorded back after a removal.",
                                  value=self.kinds.get("restored", 0))
        success = next((r for r in self.runs if r.succeeded), None)
        finished = parse_time(success.finished_at if success else None)
        yield GaugeMetricFamily("kisi_archive_last_success_timestamp_seconds",
                                "When the last successful run finished (Unix time; 0: never).",
                                value=finished.timestamp() if finished else 0)
        last = next((r for r in self.runs if r.outcome != "running"), None)
        statuses = GaugeMetricFamily("kisi_archive_last_run_responses",
                                     "HTTP responses of the last finished run, by status code.", labels=["status"])
        counts = (last.counts or {}) if last else {}
        for key in sorted(counts):
            if key.startswith("http_") and key[5:].isdigit():
                statuses.add_metric([key[5:]], counts[key])
        yield statuses
        yield GaugeMetricFamily("kisi_archive_last_run_requests", "Requests the last finished run sent.",
                                value=counts.get("requests", 0))
        yield GaugeMetricFamily("kisi_archive_last_run_errors", "Pages that failed in the last finished run.",
                                value=counts.get("errors", 0))
        started, ended = (parse_time(last.started_at), parse_time(last.finished_at)) if last else (None, None)
        yield GaugeMetricFamily("kisi_archive_last_run_duration_seconds", "How long the last finished run took.",
                                value=(ended - started).total_seconds() if started and ended else 0)
