"""The `kisi-archive` command: a thin layer over storage and scheduler.runs.

Data goes to stdout, logs and errors to stderr. Every inspecting command takes --json.
Exit codes: see crawler/exit_codes.py. Nothing here imports Scrapy or trafilatura, so
inspecting commands start fast; the crawl itself runs in a child process.
"""
from __future__ import annotations

import logging
import sys
from typing import Any

import click

from crawler import exit_codes
from crawler.config import ConfigError
from storage import StorageError

from . import __version__, cli_archive, cli_crawl, cli_daemon, cli_inspect, cli_serve

logger = logging.getLogger("kisi_archive")


class Group(click.Group):
    """Turns library errors into one line on stderr and exit code 1 (never a traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (StorageError, ConfigError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exit_codes.ERROR)
        except BrokenPipeError:
            sys.exit(exit_codes.OK)


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="kisi-archive")
@click.option("-v", "--verbose", is_flag=True, help="Log progress details to stderr.")
def cli(verbose: bool) -> None:
    """Archive the event pages of kisi.kz (or any WordPress category) as versioned JSON snapshots.

    \b
    Examples:
      kisi-archive crawl                      # crawl kisi.kz's Events into ./archive
      kisi-archive demo                       # the whole loop offline, on a bundled fixture site
      kisi-archive list --changed --lang ru
      kisi-archive show https://kisi.kz/en/some-event/
      kisi-archive history kisi.kz-en-2368
      kisi-archive diff kisi.kz-en-2368
      kisi-archive search 'реформ*' --lang ru
      kisi-archive export --format csv --out events.csv
      kisi-archive daemon --every 6h --run-now
      kisi-archive status --max-age 13h
      kisi-archive serve                      # the web viewer on http://127.0.0.1:8000/
      kisi-archive reextract --all            # read stored responses again with the installed extractor
      kisi-archive export --format wacz --out kisi.wacz
    """
    setup_logging(verbose)


for _command in (*cli_crawl.COMMANDS, *cli_inspect.COMMANDS, *cli_archive.COMMANDS, *cli_daemon.COMMANDS,
                 *cli_serve.COMMANDS):
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="kisi-archive")


if __name__ == "__main__":
    main()
