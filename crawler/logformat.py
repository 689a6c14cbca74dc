"""How log lines look on stderr: one line of text, or one JSON object per line.

Shared by the crawl child (crawler/run.py) and the `kisi-archive` command and daemon
(scheduler/), so `--log-format json` means the same everywhere.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Any

LOG_FORMATS = ("text", "json")

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's extra fields.

    With `tracebacks`, an exception's traceback goes in `error` (escaped: still one line);
    without, only its type and message.
    """

    def __init__(self, tracebacks: bool = True) -> None:
        super().__init__()
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            kind, value = record.exc_info[0], record.exc_info[1]
            data["error"] = (self.formatException(record.exc_info) if self.tracebacks
                             else f"{kind.__name__ if kind else 'Exception'}: {value}")
        return json.dumps(data, ensure_ascii=False, default=str)


class OneLine(logging.Formatter):
    """`LEVEL: message`, never a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{record.levelname}: {record.getMessage()}".split())


def formatter(log_format: str) -> logging.Formatter:
    """The console's formatter: one line per message, tracebacks left to the log file."""
    return JsonFormatter(tracebacks=False) if log_format == "json" else OneLine()


def json_line(level: str, message: str, logger: str = "kisi_archive", **fields: Any) -> str:
    """A line in the format of JsonFormatter, for what is not a log record (the CLI's error line)."""
    data = {"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), "level": level,
            "logger": logger, "message": message, **fields}
    return json.dumps(data, ensure_ascii=False, default=str)
