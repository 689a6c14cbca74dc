"""Commands that write to the archive besides a crawl: reextract and upgrade.

Both take the crawl lock, as a crawl does: they write versions (reextract) or the
archive's marker and seals (upgrade), and one writer at a time is the rule.
"""
from __future__ import annotations

import os
import socket
import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from crawler import exit_codes
from storage import Archive

from .cli_common import archive_options, emit_json, json_option, resolve_config
from .lock import ArchiveLock, Holder, LockBusy


def _locked(root: Path, kind: str) -> ArchiveLock:
    lock = ArchiveLock(Archive.open(root).layout.crawl_lock)
    holder = Holder(kind="crawl", pid=os.getpid(), host=socket.gethostname(),
                    started=datetime.now(timezone.utc).replace(microsecond=0).isoformat(), trigger=kind)
    try:
        lock.acquire(holder)
    except LockBusy as exc:
        click.echo(f"error: {exc}; try again when it is done", err=True)
        sys.exit(exit_codes.BUSY)
    return lock


@click.command()
@archive_options
@click.argument("docs", nargs=-1, metavar="[DOC]...")
@click.option("--all", "every", is_flag=True, help="Every document of the archive.")
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="Reading processes (default: one per CPU; 0 = read in this process).")
@json_option
def reextract(archive_dir: Path | None, config_file: Path | None, docs: tuple[str, ...], every: bool,
              workers: int | None, as_json: bool) -> None:
    """Read the stored raw responses again with the installed extractor.

    For each document (DOC: an id or any URL of the post; or --all), the raw response of
    its latest version is extracted again. A different result becomes a new version with
    cause `extractor`, naming the extractor before and after; the site's own versions
    keep cause `site`. Removed posts (tombstones) are left as they are. Reading uses
    every CPU; writing goes through the archive's one write path.

    \b
    Examples:
      kisi-archive reextract --all
      kisi-archive reextract kisi.kz-en-2368 --json
    """
    from crawler.reextract import reextract as run

    if bool(docs) == every:
        raise click.UsageError("name documents, or pass --all (not both)")
    config = resolve_config(config_file, archive_dir=archive_dir)
    lock = _locked(config.archive_dir, "reextract")
    try:
        with Archive.open(config.archive_dir) as archive:
            ids = None if every else [archive.resolve(doc) for doc in docs]
            report = run(archive, ids, workers=workers,
                         on_change=None if as_json else lambda c: click.echo(
                             f"{c['doc_id']} v{c['version']}: {', '.join(c['changed_fields'])} "
                             f"({c['extractor_before'].get('version')} → {c['extractor_after'].get('version')})"))
    finally:
        lock.release()
    if as_json:
        emit_json(report.to_json())
    else:
        extractor = " ".join(report.extractor.values())
        click.echo(f"Read {report.documents} document(s) again with {extractor}: "
                   f"{len(report.changed)} new version(s) with cause extractor.")
    for line in report.skipped + report.errors:
        click.echo(f"skipped: {line}", err=True)
    sys.exit(exit_codes.ERROR if report.errors else exit_codes.OK)


@click.command()
@archive_options
@json_option
def upgrade(archive_dir: Path | None, config_file: Path | None, as_json: bool) -> None:
    """Upgrade an archive written by an older kisi-archive to this one's format, in place.

    No stored version is rewritten: schema-1 versions are sealed (their SHA-256 recorded
    in a new chain.json per document), the marker records the upgrade. A crawl does this
    by itself; `verify` passes before and after.

    \b
    Example:
      kisi-archive verify && kisi-archive upgrade && kisi-archive verify
    """
    config = resolve_config(config_file, archive_dir=archive_dir)
    lock = _locked(config.archive_dir, "upgrade")
    try:
        with Archive.open(config.archive_dir) as archive:
            done = archive.upgrade()
            schema = archive.schema
    finally:
        lock.release()
    if as_json:
        emit_json({"schema_version": schema, "done": done})
        return
    for line in done or [f"already at schema {schema}: nothing to do"]:
        click.echo(line)


COMMANDS = [reextract, upgrade]
