"""The `kisi-archive` command: a thin layer over storage and scheduler.runs.

Data goes to stdout, logs and errors to stderr. Every inspecting command takes --json.
Exit codes: see scheduler/exit_codes.py. Nothing here imports Scrapy or trafilatura, so
inspecting commands start fast; the crawl itself runs in a child process.
"""
from __future__ import annotations

import json
import logging
import sys
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

import click

from storage import Archive, StorageError

from . import __version__, exit_codes
from .config import Config, ConfigError, Section, load_config

logger = logging.getLogger("kisi_archive")

KISI_HOST = "kisi.kz"


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
      kisi-archive list
      kisi-archive show https://kisi.kz/en/some-event/
      kisi-archive history kisi.kz-en-2368
    """
    setup_logging(verbose)


# -- crawl ------------------------------------------------------------------------------
@cli.command()
@archive_options
@click.option("--site", help="Base URL of a WordPress site (e.g. https://example.org/en/) [env KISI_SITE].")
@click.option("--category", help="Category slug to archive on --site (default: events) [env KISI_CATEGORY].")
@click.option("--contact", help="Contact URL or e-mail for the User-Agent [env KISI_CONTACT].")
@click.option("--delay", "download_delay", type=float, help="Seconds between requests (default 1.0).")
@json_option
def crawl(archive_dir: Path | None, config_file: Path | None, site: str | None, category: str | None,
          contact: str | None, download_delay: float | None, as_json: bool) -> None:
    """Crawl once: discover the category's posts, store new and changed versions.

    Exits 0 when the crawl completed (page errors are counted, not fatal), 3 when the
    site could not be crawled at all (unreachable, robots.txt forbids it, category not found).

    \b
    Examples:
      kisi-archive crawl
      kisi-archive crawl --site https://example.org/ --category events --archive ./example-archive
    """
    from .runs import run_crawl

    config = resolve_config(config_file, archive_dir=archive_dir, site=site, category=category, contact=contact,
                            download_delay=download_delay)
    result = run_crawl(config, trigger="manual", progress=sys.stderr.isatty() and not as_json)
    report_run(config, result.record, as_json)
    sys.exit(result.exit_code)


def report_run(config: Config, record: Any, as_json: bool) -> None:
    if as_json:
        emit_json(record.to_json())
    elif record.outcome == "completed" or record.counts.get("discovered"):
        counts = record.counts
        click.echo(f"Crawl {record.outcome} (run {record.run_id})")
        for label, key in (("posts discovered", "discovered"), ("fetched", "fetched"),
                           ("new documents", "new_documents"), ("new versions", "new_versions"),
                           ("unchanged", "unchanged"), ("errors", "errors")):
            click.echo(f"  {label:<17}{counts.get(key, 0):>6}")
        sources = (record.sources or {}).get("sources") or {}
        if sources:
            click.echo("  sources          " + ", ".join(f"{k} {v}" for k, v in sorted(sources.items())))
        click.echo(f"Archive: {config.archive_dir}   Log: {record.log_path}")
    if record.outcome == "completed":
        return
    if record.reason and "unreachable" in record.reason and any(KISI_HOST in s.url for s in config.sections):
        click.echo("error: kisi.kz cannot be reached from this machine; run `kisi-archive demo` to see the "
                   f"whole loop offline on a bundled fixture site (log: {record.log_path})", err=True)
    else:
        click.echo(f"error: {record.reason} (log: {record.log_path})", err=True)


# -- list / show / history -----------------------------------------------------------------
@cli.command("list")
@archive_options
@json_option
def list_(archive_dir: Path | None, config_file: Path | None, as_json: bool) -> None:
    """List archived documents, newest publication first.

    \b
    Examples:
      kisi-archive list
      kisi-archive list --json | jq '.[] | select(.versions > 1) | .url'
    """
    with open_archive(resolve_config(config_file, archive_dir=archive_dir)) as archive:
        docs = archive.list_documents()
    if as_json:
        emit_json([d.to_json() for d in docs])
        return
    if not docs:
        click.echo("The archive is empty: run `kisi-archive crawl` first.", err=True)
        return
    click.echo(f"{'DOC_ID':<28} {'LANG':<4} {'PUBLISHED':<10} {'V':>3} {'LAST SEEN':<20} {'TITLE':<48} URL")
    for d in docs:
        title = _clip(d.title or "", 48)
        click.echo(f"{d.doc_id:<28} {d.language or '-':<4} {(d.date_published or '')[:10]:<10} {d.versions:>3} "
                   f"{(d.last_seen or '')[:19]:<20} {title:<48} {d.url}")


@cli.command()
@archive_options
@click.argument("doc")
@click.option("--version", "version", type=int, help="Show this version instead of the latest.")
@json_option
def show(archive_dir: Path | None, config_file: Path | None, doc: str, version: int | None, as_json: bool) -> None:
    """Show a document's latest snapshot (or --version N). DOC is a doc id or any URL of the post.

    \b
    Examples:
      kisi-archive show kisi.kz-en-2368
      kisi-archive show 'https://kisi.kz/?p=2368' --version 1 --json
    """
    with open_archive(resolve_config(config_file, archive_dir=archive_dir)) as archive:
        doc_id = archive.resolve(doc)
        snap = archive.get(doc_id, version)
        total = len(archive.versions(doc_id))
    if as_json:
        emit_json(snap.to_json())
        return
    click.echo(snap.title or "(untitled)")
    click.echo(f"{snap.doc_id} · version {snap.version} of {total} · language {snap.language or '-'} · post {snap.post_id}")
    click.echo(f"URL:        {snap.canonical_url or snap.final_url}")
    click.echo(f"Published:  {snap.date_published or '-'}   Modified: {snap.date_modified or '-'}")
    click.echo(f"Author:     {snap.author or '-'}")
    click.echo(f"Categories: {', '.join(snap.categories) or '-'}   Tags: {', '.join(snap.tags) or '-'}")
    if snap.alternates:
        click.echo(f"Languages:  {', '.join(f'{k} {v}' for k, v in snap.alternates.items())}")
    click.echo(f"Captured:   {snap.fetched_at} (HTTP {snap.http_status}) · sha256 {snap.content_sha256[:16]}")
    click.echo(f"Extractor:  {snap.extractor.get('name')} {snap.extractor.get('version')}")
    click.echo("")
    for paragraph in snap.text.split("\n"):
        click.echo(textwrap.fill(paragraph, 100) if paragraph.strip() else "")


@cli.command()
@archive_options
@click.argument("doc")
@json_option
def history(archive_dir: Path | None, config_file: Path | None, doc: str, as_json: bool) -> None:
    """List a document's versions: capture time, content hash and the fields that changed.

    \b
    Examples:
      kisi-archive history kisi.kz-en-2368
      kisi-archive history https://kisi.kz/en/some-event/ --json
    """
    with open_archive(resolve_config(config_file, archive_dir=archive_dir)) as archive:
        doc_id = archive.resolve(doc)
        versions = archive.versions(doc_id)
    if as_json:
        emit_json([v.to_json() for v in versions])
        return
    click.echo(f"{doc_id}: {len(versions)} version(s)")
    click.echo(f"{'V':>3}  {'CAPTURED':<25} {'SHA256':<12}  CHANGED")
    for v in versions:
        changed = ", ".join(v.changed_fields) if v.changed_fields else ("(first capture)" if v.version == 1 else "")
        if v.minor:
            changed += "  [minor: whitespace/punctuation only]"
        click.echo(f"{v.version:>3}  {v.fetched_at:<25} {v.content_sha256[:12]}  {changed}")


# -- maintenance ---------------------------------------------------------------------------
@cli.command()
@archive_options
@json_option
def verify(archive_dir: Path | None, config_file: Path | None, as_json: bool) -> None:
    """Check every snapshot against its hashes and the index against the files.

    Exits 1 if any problem is found. An index that merely lags behind the files (after an
    interrupted run) is caught up and reported as repaired.

    \b
    Example:
      kisi-archive verify && echo archive intact
    """
    with open_archive(resolve_config(config_file, archive_dir=archive_dir)) as archive:
        report = archive.verify()
    if as_json:
        emit_json(report.to_json())
    else:
        for line in report.errors:
            click.echo(f"ERROR   {line}")
        for line in report.warnings:
            click.echo(f"warning {line}")
        for line in report.repaired:
            click.echo(f"repaired {line}")
        state = "OK" if report.ok else f"FAILED ({len(report.errors)} problem(s))"
        click.echo(f"{state}: {report.documents} documents, {report.versions} versions checked")
    sys.exit(exit_codes.OK if report.ok else exit_codes.ERROR)


@cli.command()
@archive_options
@json_option
def reindex(archive_dir: Path | None, config_file: Path | None, as_json: bool) -> None:
    """Rebuild the SQLite index from the JSON snapshot files.

    \b
    Example:
      kisi-archive reindex --archive ./archive
    """
    with open_archive(resolve_config(config_file, archive_dir=archive_dir)) as archive:
        count = archive.reindex()
    if as_json:
        emit_json({"documents": count})
    else:
        click.echo(f"Index rebuilt: {count} documents")


# -- demo ----------------------------------------------------------------------------------
@cli.command()
@click.option("--archive", "archive_dir", type=click.Path(path_type=Path), default=None,
              help="Keep the demo archive here (default: a temporary directory, deleted afterwards).")
def demo(archive_dir: Path | None) -> None:
    """See the whole loop offline: serve the bundled fixture site on 127.0.0.1, crawl it, list it.

    \b
    Example:
      kisi-archive demo --archive /tmp/demo-archive && kisi-archive list --archive /tmp/demo-archive
    """
    import tempfile

    from .demo_site import SiteProcess, default_state
    from .runs import run_crawl

    with tempfile.TemporaryDirectory(prefix="kisi-demo-") as tmp:
        target = archive_dir or Path(tmp) / "archive"
        state_path, log_path = Path(tmp) / "site.json", Path(tmp) / "requests.log"
        default_state().save(state_path)
        with SiteProcess(state_path, log_path) as site:
            click.echo(f"Fixture site serving at {site.url}; crawling it into {target}", err=True)
            # Two sections, as a config file would declare them: English and Russian events.
            config = replace(load_config(flags={"archive_dir": target, "download_delay": 0.0}),
                             sections=(Section(f"{site.url}/en/", "events", "en"), Section(f"{site.url}/", "sobytiya", "ru")))
            result = run_crawl(config, trigger="demo", progress=sys.stderr.isatty())
        report_run(config, result.record, False)
        click.echo("")
        with Archive.open(target) as archive:
            for d in archive.list_documents():
                click.echo(f"{d.doc_id:<24} {d.language or '-':<3} {(d.date_published or '')[:10]:<10} "
                           f"v{d.versions}  {_clip(d.title or '', 70)}")
        if archive_dir is None:
            click.echo("(demo archive deleted; pass --archive DIR to keep it)", err=True)
    sys.exit(result.exit_code)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def main() -> None:
    cli(prog_name="kisi-archive")


if __name__ == "__main__":
    main()
