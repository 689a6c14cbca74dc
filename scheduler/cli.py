"""The `kisi-archive` command: a thin layer over storage and scheduler.runs.

Data goes to stdout, logs and errors to stderr. Every inspecting command takes --json.
Exit codes: see crawler/exit_codes.py. Nothing here imports Scrapy or trafilatura, so
inspecting commands start fast; the crawl itself runs in a child process.
"""
from __future__ import annotations

import errno
import io
import json
import logging
import os
import sqlite3
import sys
from typing import Any

import click

from crawler import exit_codes
from crawler.config import ConfigError
from storage import StorageError
from storage.query import BadQuery

from . import __version__, cli_crawl, cli_archive, cli_daemon, cli_inspect, cli_probe, cli_serve
from .cli_common import CommandFailed, stderr_line

logger = logging.getLogger("kisi_archive")


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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


for _command in (*cli_crawl.COMMANDS, *cli_probe.COMMANDS, *cli_inspect.COMMANDS, *cli_archive.COMMANDS,
                 *cli_daemon.COMMANDS,
                 *cli_serve.COMMANDS):
    cli.add_command(_command)


# What a failure printed with --json calls itself (the run ledger's words where they fit).
OUTCOMES = {exit_codes.USAGE: "usage-error", exit_codes.BUSY: "busy", exit_codes.INTERRUPTED: "interrupted"}


class Output:
    """How the boundary reports a failure: as text on stderr, and as JSON on stdout with --json."""

    def __init__(self, args: list[str]) -> None:
        given = args[: args.index("--")] if "--" in args else args
        self.json = "--json" in given
        self.stdout_broken = False

    def fail(self, message: str, code: int, data: dict[str, Any] | None = None) -> int:
        """One line on stderr (never a traceback); with --json also, on stdout,
        {"outcome", "reason", "exit_code", ...}: the outcome and reason of a run record."""
        line = " ".join(str(message).split())  # one line, whatever the message held
        if self.json and not self.stdout_broken:
            failure = {"outcome": OUTCOMES.get(code, "failed"), "reason": line, "exit_code": code, **(data or {})}
            try:
                sys.stdout.write(json.dumps(failure, ensure_ascii=False, indent=2) + "\n")
                sys.stdout.flush()
            except OSError:
                self.stdout_broken = True
        try:
            sys.stderr.write(stderr_line("error", line, event="error", exit_code=code) + "\n")
            sys.stderr.flush()
        except OSError:
            pass  # nowhere left to say it; the exit code still does
        return code


def usage_message(exc: click.UsageError) -> str:
    """Click's usage error as one sentence, with where to read more."""
    command = exc.ctx.command_path if exc.ctx is not None else "kisi-archive"
    message = exc.format_message().strip()
    return f"{message[:-1] if message.endswith('.') else message} (see '{command} --help')"


def _exit_code(value: Any) -> int:
    if value is None:
        return exit_codes.OK
    if isinstance(value, int):
        return value
    click.echo(f"error: {value}", err=True)  # sys.exit("message")
    return exit_codes.ERROR


def run(args: list[str], output: Output) -> int:
    """Run one command; every failure becomes one line and an exit code (see crawler/exit_codes.py)."""
    try:
        # Not cli.main(): it turns a broken pipe into exit 1 and prints usage errors on
        # several lines; the boundary below decides both.
        with cli.make_context("kisi-archive", args) as ctx:
            return _exit_code(cli.invoke(ctx))
    except click.exceptions.Exit as exc:  # --help, --version
        return exc.exit_code
    except SystemExit as exc:
        return _exit_code(exc.code)
    except click.UsageError as exc:
        return output.fail(usage_message(exc), exit_codes.USAGE)
    except CommandFailed as exc:
        return output.fail(exc.format_message(), exc.exit_code, exc.data)
    except click.ClickException as exc:
        return output.fail(exc.format_message(), exc.exit_code)
    except (click.Abort, KeyboardInterrupt, EOFError):
        return output.fail("interrupted", exit_codes.INTERRUPTED)
    except (BadQuery, ConfigError) as exc:  # what the user typed or configured cannot be used
        return output.fail(str(exc), exit_codes.USAGE)
    except StorageError as exc:
        return output.fail(str(exc), exit_codes.ERROR)
    except OSError as exc:
        if exc.errno == errno.EPIPE:
            output.stdout_broken = True
            return exit_codes.OK  # the reader stopped reading (`| head`): not an error
        if _is_stdout_error(exc):
            output.stdout_broken = True
            return output.fail(f"cannot write the output: {exc.strerror or exc}", exit_codes.ERROR)
        return output.fail(os_error_message(exc), exit_codes.ERROR)
    except sqlite3.Error as exc:  # the index, a cache of the files: what to do about it
        if "disk is full" in str(exc):
            return output.fail("disk full writing the archive's index: free some space and run the command again",
                               exit_codes.ERROR)
        return output.fail(f"the archive's index failed: {exc} (`kisi-archive reindex` rebuilds it from the files)",
                           exit_codes.ERROR)
    except Exception as exc:  # a bug: still one line, and the details with -v
        logger.debug("internal error", exc_info=True)
        return output.fail(f"internal error: {type(exc).__name__}: {exc} (run with -v for details; please "
                           "report it)", exit_codes.ERROR)


def os_error_message(exc: OSError) -> str:
    """An error of the file system as one sentence that says what to do."""
    where = getattr(exc, "filename", None)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"disk full writing {where or 'the archive'}: free some space and run the command again"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM) and where:
        return (f"cannot write {where} ({exc.strerror}): this command writes the archive; the reading commands "
                "work without writing")
    return f"{exc.strerror or exc}{f' ({where})' if where else ''}"


def _is_stdout_error(exc: OSError) -> bool:
    """Whether this error came from writing stdout (a full disk, a closed descriptor)."""
    return exc.filename is None and exc.errno in (errno.ENOSPC, errno.EBADF, errno.EIO, errno.EDQUOT, errno.EFBIG)


def finish(code: int, output: Output) -> int:
    """Flush stdout now, while a failure can still be reported, and keep Python quiet at exit."""
    if isinstance(sys.stdout, ClosedStream):
        return code
    if not output.stdout_broken:
        try:
            sys.stdout.flush()
        except OSError as exc:
            output.stdout_broken = True
            if exc.errno != errno.EPIPE:
                code = output.fail(f"cannot write the output: {exc.strerror or exc}", exit_codes.ERROR)
    if output.stdout_broken:
        # Whatever is still buffered cannot be written: point stdout at /dev/null so that
        # the interpreter's own flush at exit has nothing to complain about.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass
    return code


class ClosedBinary(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        raise OSError(errno.EBADF, "standard output is closed")


class ClosedStream(io.TextIOBase):
    """Stands in for a standard stream that was closed (`kisi-archive list >&-`): writing fails."""

    buffer = ClosedBinary()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    output = Output(args)
    if sys.stdout is None:
        sys.stdout = ClosedStream()
        output.stdout_broken = True
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")
    sys.exit(finish(run(args, output), output))


if __name__ == "__main__":
    main()
