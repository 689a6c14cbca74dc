"""Commands that inspect the archive: list, show, history, verify, reindex."""
from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import click

from . import exit_codes
from .cli_common import archive_options, clip, emit_json, json_option, open_archive, resolve_config


@click.command("list")
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
        title = clip(d.title or "", 48)
        click.echo(f"{d.doc_id:<28} {d.language or '-':<4} {(d.date_published or '')[:10]:<10} {d.versions:>3} "
                   f"{(d.last_seen or '')[:19]:<20} {title:<48} {d.url}")


@click.command()
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


@click.command()
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


@click.command()
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


@click.command()
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


COMMANDS = [list_, show, history, verify, reindex]
