"""Durations as people write them in flags and config files: 30s, 15m, 6h, 1d, 2w, 1h30m.

Shared by the daemon's schedule and the crawl policy (recheck intervals, sweeps, grace
periods), so both read the same notation the same way. Pure and stdlib-only.
"""
from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def parse_interval(text: str) -> timedelta:
    """'30s', '15m', '6h', '1d', '2w', '1h30m' or plain seconds ('90') as a positive timedelta."""
    cleaned = str(text).strip().lower().replace(" ", "")
    if re.fullmatch(r"\d+(\.\d+)?", cleaned):
        seconds = float(cleaned)
    else:
        parts = _PART.findall(cleaned)
        if not parts or "".join(n + u for n, u in parts) != cleaned:
            raise ValueError(f"{text!r} is not an interval: use a number and a unit, e.g. 30s, 15m, 6h, 1d, 1h30m")
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise ValueError(f"{text!r}: an interval must be longer than zero")
    return timedelta(seconds=seconds)


def format_interval(span: timedelta) -> str:
    """The shortest readable form: 21600 s -> '6h', 5400 s -> '1h30m', 2.5 s -> '2.5s'."""
    seconds = span.total_seconds()
    if seconds != int(seconds) or seconds < 1:
        return f"{seconds:g}s"
    out, rest = "", int(seconds)
    for unit in ("d", "h", "m", "s"):
        size = _UNITS[unit]
        if rest >= size:
            out += f"{rest // size}{unit}"
            rest %= size
    return out or "0s"
