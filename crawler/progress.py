"""The crawl's progress on a terminal: phase, requests done of planned, rate, ETA, counts.

tqdm draws the bar (rate and ETA smoothed over recent requests); the crawl child refreshes
it once a second from Scrapy's stats and the frontier's report. "Planned" is what the run
has queued so far: discovery keeps adding posts, so it grows until discovery is over.
"""
from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from typing import IO, Any, Mapping

from tqdm import tqdm

BAR_FORMAT = "{desc:<10}{n_fmt:>4}/{total_fmt:<4} req |{bar:16}| {rate_fmt:>10}  ETA {remaining}  {counts}"


class _Bar(tqdm):  # type: ignore[type-arg]
    """tqdm with one more field for BAR_FORMAT: the run's counts (its `postfix` adds a comma)."""

    counts = ""

    @property
    def format_dict(self) -> dict[str, Any]:
        return {**super().format_dict, "counts": self.counts}


@dataclass(frozen=True)
class Snapshot:
    """What the bar shows at one moment."""

    phase: str
    done: int
    planned: int
    discovered: int
    fetched: int
    new: int
    changed: int
    errors: int

    def counts(self) -> str:
        return (f"posts {self.discovered}  fetched {self.fetched}  new {self.new}  changed {self.changed}  "
                f"errors {self.errors}")


def snapshot(phase: str, counts: Mapping[str, int], stats: Mapping[str, Any]) -> Snapshot:
    """The bar's figures from the frontier's phase and report counts and Scrapy's stats."""
    planned = int(stats.get("scheduler/enqueued", 0))
    done = min(int(stats.get("scheduler/dequeued", 0)), planned)
    return Snapshot(phase=phase, done=done, planned=planned, discovered=int(counts.get("discovered", 0)),
                    fetched=int(counts.get("fetched", 0)), new=int(stats.get("kisi/new-document", 0)),
                    changed=int(stats.get("kisi/new-version", 0)), errors=int(counts.get("errors", 0)))


class ProgressBar:
    """The bar itself; `write` prints a line above it (warnings while the bar is shown)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        # A terminal that reports no size (some ptys) would get no bar at all: assume 100x24.
        size = shutil.get_terminal_size((100, 24))
        self._bar = _Bar(total=0, desc="starting", unit="req", file=stream or sys.stderr, bar_format=BAR_FORMAT,
                         ncols=size.columns or 100, nrows=size.lines or 24, leave=True, mininterval=0.5)

    def show(self, now: Snapshot) -> None:
        bar = self._bar
        bar.total = max(now.planned, now.done)
        bar.set_description_str(now.phase, refresh=False)
        bar.counts = now.counts()
        if now.done > bar.n:
            bar.update(now.done - bar.n)  # update(), not n =: tqdm's rate and ETA come from updates
        bar.refresh()

    def write(self, line: str) -> None:
        self._bar.write(line, file=self._bar.fp)

    def close(self) -> None:
        self._bar.close()
