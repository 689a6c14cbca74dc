"""What every kisi-archive command shares: options, config and archive opening, output."""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Callable

import click

from crawler import exit_codes
from crawler.config import Accepts, Config, load_config, option
from storage import Archive
from storage.query import BadQuery, date_bound


class Stderr:
    """How the command's own lines on stderr look: `error: …` text, or with --log-format
    json, JSON lines like the log's (crawler/logformat.py), so a log pipeline reads them all."""

    log_format = "text"


def use_log_format(log_format: str) -> None:
    """Switch this process's stderr (log records and the command's own lines) to `log_format`."""
    from crawler.logformat import JsonFormatter

    Stderr.log_format = log_format
    if log_format == "json":
        for handler in logging.getLogger().handlers:
            handler.setFormatter(JsonFormatter())


def stderr_line(level: str, message: str, **fields: Any) -> str:
    """One line for stderr: `level: message` (info: the message alone), or a JSON object
    with --log-format json."""
    if Stderr.log_format == "json":
        from crawler.logformat import json_line

        return json_line(level, message, **fields)
    return message if level == "info" else f"{level}: {message}"


def say(level: str, message: str, **fields: Any) -> None:
    click.echo(stderr_line(level, message, **fields), err=True)


# Counts given on the command line (limits, offsets, pages): far below SQLite's 2**63.
COUNT_MAX = 1_000_000_000


class CommandFailed(click.ClickException):
    """A command's failure: one sentence, an exit code and, for --json, the fields of its object.

    The `kisi-archive` boundary (scheduler/cli.py) prints `error: MESSAGE` on stderr and,
    when the command was given --json, `{"outcome", "reason": MESSAGE, "exit_code", **data}`
    on stdout.
    """

    def __init__(self, message: str, exit_code: int = exit_codes.ERROR, **data: Any) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.data = data


class Setting(click.ParamType):
    """A flag that takes what a setting takes: the parser crawler/config.py declares for it.

    Bad values are usage errors naming the flag, at parse time, before anything is created.
    """

    def __init__(self, parse: Accepts | str, metavar: str | None = None) -> None:
        self.parse = option(parse).parse if isinstance(parse, str) else parse
        self.name = metavar or "VALUE"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return self.name

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return self.parse(value)
        except ValueError as exc:
            raise click.UsageError(f"{flag_name(param)} {exc}", ctx) from None


def flag_name(param: click.Parameter | None) -> str:
    """The flag as the user types it (--delay), for messages."""
    if param is None:
        return "the value"
    opts = getattr(param, "opts", None) or []
    return max(opts, key=len) if opts and opts[0].startswith("-") else param.human_readable_name


class Duration(click.ParamType):
    """A duration flag with its unit (30m, 2h, 1d), in seconds; a bare number is refused."""

    name = "DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        from crawler.config import duration
        from crawler.durations import parse_interval

        try:
            return parse_interval(duration()(value)).total_seconds()
        except ValueError as exc:
            raise click.UsageError(f"{flag_name(param)} {exc}", ctx) from None


class Date(click.ParamType):
    """A publication-date filter: YYYY, YYYY-MM or YYYY-MM-DD, a real date."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            date_bound(str(value), end=False)
        except BadQuery as exc:
            raise click.UsageError(f"{flag_name(param)}: {exc}", ctx) from None
        return str(value).strip()


def count(low: int) -> click.IntRange:
    return click.IntRange(low, COUNT_MAX)


def archive_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--archive and --config, shared by every command."""
    func = click.option("--archive", "archive_dir", type=click.Path(path_type=Path), default=None,
                        help="Archive directory [env KISI_ARCHIVE_DIR; default ./archive].")(func)
    func = click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
                        help="TOML config file [env KISI_CONFIG].")(func)
    return func


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(func)


def resolve_config(config_file: Path | None, **flags: Any) -> Config:
    return load_config(config_file, flags=flags)


def open_archive(config: Config, *, write: bool = False) -> Archive:
    """The archive, for a command that only reads it (its index read-only when current:
    no write, no lock; see Archive.open_for_reading), or for one that may `write` it."""
    if write:
        return Archive.open(config.archive_dir)
    return Archive.open_for_reading(config.archive_dir)


def check_archive(config: Config) -> None:
    """Fail with one sentence unless the configured archive exists (reads only its marker)."""
    Archive.open(config.archive_dir, readonly=True).close()


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"
