"""What every kisi-archive command shares: options, config and archive opening, output."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import click

from crawler.config import Config, load_config
from storage import Archive


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


def open_archive(config: Config) -> Archive:
    return Archive.open(config.archive_dir)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"
