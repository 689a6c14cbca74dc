"""What to fetch, what to recheck, when a post counts as removed: pure decisions.

Every function here takes `now` and plain data, so the whole crawl policy is testable
without a network, a reactor or a disk.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping

from crawler.durations import parse_interval

# Statuses that prove a URL is gone. Everything else (timeouts, 5xx, 429, robots.txt
# refusals, connection errors) proves nothing about the post.
GONE_STATUSES = frozenset({404, 410})


def parse_time(value: str | None) -> datetime | None:
    """ISO 8601 (with or without zone; no zone means UTC, as WordPress's *_gmt fields) to aware UTC."""
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def same_moment(a: str | None, b: str | None) -> bool:
    """Do two timestamps name the same second (zones and formats normalised)?"""
    left, right = parse_time(a), parse_time(b)
    if left is None or right is None:
        return False
    return left.replace(microsecond=0) == right.replace(microsecond=0)


def parse_duration(text: str | int | float | None) -> timedelta | None:
    """A setting's duration ('90s', '6h', '1d', '1h30m', seconds); '' or None: no duration; '0s': zero."""
    if text is None or text == "":
        return None
    if isinstance(text, (int, float)) or str(text).strip().rstrip("smhdw") in ("0", "0.0"):
        return timedelta(seconds=float(str(text).strip().rstrip("smhdw") or 0))
    return parse_interval(str(text))


@dataclass(frozen=True)
class RecheckPolicy:
    """Posts no modification signal covers are re-fetched on a schedule that thins with age:
    every `min_interval` while new, then every `factor` × age, at most every `max_interval`."""

    min_interval: timedelta = timedelta(days=1)
    max_interval: timedelta = timedelta(days=60)
    factor: float = 0.1

    def interval(self, published: datetime | None, now: datetime) -> timedelta:
        if published is None:
            return self.max_interval
        age = max(now - published, timedelta(0))
        return min(self.max_interval, max(self.min_interval, age * self.factor))

    def due(self, published: str | None, last_checked: str | None, now: datetime) -> bool:
        checked = parse_time(last_checked)
        if checked is None:
            return True
        return now - checked >= self.interval(parse_time(published), now)


def sweep_due(last_sweep: str | None, every: timedelta | None, now: datetime, *, full: bool,
              pending_removals: bool) -> bool:
    """Whether this run enumerates every source completely (the removal sweep)."""
    if full or pending_removals:
        return True
    if every is None:
        return False
    last = parse_time(last_sweep)
    return last is None or now - last >= every


@dataclass(frozen=True)
class Evidence:
    """What a removal check saw: the statuses of the post's URL and shortlink, and the
    listing sources that were enumerated in full without naming the post.

    WordPress answers a URL whose post is gone with a 404, or, when another post's slug
    starts with the same words, with a 301 to that post (core's redirect_guess_404_permalink):
    `url_led_to` then names the other post, and the URL counts as gone for this post."""

    url: str
    url_status: int | None
    shortlink: str | None
    shortlink_status: int | None
    sources_checked: tuple[str, ...]
    checked_at: str
    url_led_to: str | None = None  # the other post the URL now leads to ("post 2495 at URL")

    @property
    def proves_gone(self) -> bool:
        url_gone = self.url_status in GONE_STATUSES or self.url_led_to is not None
        shortlink_gone = not self.shortlink or self.shortlink_status in GONE_STATUSES
        return bool(self.sources_checked) and url_gone and shortlink_gone

    def to_json(self) -> dict[str, Any]:
        data = {
            "url": self.url, "url_status": self.url_status, "shortlink": self.shortlink,
            "shortlink_status": self.shortlink_status, "sources_checked": list(self.sources_checked),
            "checked_at": self.checked_at,
        }
        if self.url_led_to:
            data["url_led_to"] = self.url_led_to
        return data


@dataclass(frozen=True)
class RemovalDecision:
    action: str  # "tombstone", "pending", "none"
    first_seen_missing: str | None = None


def removal_decision(evidence: Evidence, pending: Mapping[str, Any] | None, run_id: str | None,
                     grace: timedelta | None, now: datetime) -> RemovalDecision:
    """A post is removed only when the evidence proves it gone AND either an earlier run saw
    the same (confirmation), or it has been missing for longer than the grace period."""
    if not evidence.proves_gone:
        return RemovalDecision("none")
    if not pending:
        if grace is not None and grace <= timedelta(0):
            return RemovalDecision("tombstone", evidence.checked_at)
        return RemovalDecision("pending", evidence.checked_at)
    first = pending.get("first_seen_missing") or evidence.checked_at
    confirmed_by_other_run = pending.get("run_id") not in (None, run_id)
    first_time = parse_time(first)
    waited = first_time is not None and grace is not None and now - first_time >= grace
    if confirmed_by_other_run or waited:
        return RemovalDecision("tombstone", first)
    return RemovalDecision("pending", first)


def needs_fetch(known_signal: str | None, new_signal: str | None) -> bool:
    """A post named with a modification time is fetched unless it equals the last one we captured."""
    if new_signal is None:
        return False
    return not same_moment(known_signal, new_signal)


def high_water(previous: str | None, seen: Iterable[str], failed: Iterable[str]) -> str | None:
    """The REST `modified_after` mark for the next run: the newest modification seen, but
    never past a post whose fetch failed (so it is asked for again)."""
    seen_times = [t for t in (parse_time(s) for s in seen) if t]
    failed_times = [t for t in (parse_time(s) for s in failed) if t]
    mark = parse_time(previous)
    if seen_times:
        newest = max(seen_times)
        mark = newest if mark is None else max(mark, newest)
    if failed_times:
        floor = min(failed_times) - timedelta(seconds=1)
        mark = floor if mark is None else min(mark, floor)
    return iso(mark) if mark else None


def departed(previous: list[str] | None, current: list[str] | None) -> list[str]:
    """Entries that left a newest-first list (a feed, a listing's first page) since the
    last run without newer entries pushing them out: each entry that arrived above the
    last entry still there pushes one entry out at the bottom; entries that arrived below
    it only filled a gap. Anything else that left may have been removed.
    """
    if not previous or current is None:
        return []
    kept = [key for key in current if key in previous]
    last_kept = current.index(kept[-1]) if kept else len(current)
    pushes = sum(1 for i, key in enumerate(current) if key not in previous and i < last_kept)
    pushed = set(previous[len(previous) - pushes:]) if pushes else set()
    return [key for key in previous if key not in current and key not in pushed]
