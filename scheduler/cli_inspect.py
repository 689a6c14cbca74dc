"""Commands that inspect the archive: list, show, history, diff, search, export, stats, verify, reindex.

They read the SQLite index and the snapshot files through `storage` and never import
Scrapy or trafilatura, so each one starts in a fraction of a second.
"""
from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path
from typing import Any, Callable

import click

from crawler import exit_codes
from storage import Archive, UnknownVersion
from storage.export import EXPORT_FORMATS
from storage.query import (DEFAULT_SORT, SEARCH_SORTS, SORT_CHOICES, BadQuery, Filters,
                           MARK_END, MARK_START, render_marks)

from . import __version__
from .cli_common import Date, archive_options, clip, count, emit_json, json_option, open_archive, resolve_config


# -- shared options ----------------------------------------------------------------------
def filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--lang, --since, --until, --category, --changed, --removed: the filters of list,
    search, export and stats (storage.query.Filters)."""
    options = [
        click.option("--lang", "languages", multiple=True, metavar="CODE",
                     help="Only this language (en, ru, kk; und = unknown). Repeat for several."),
        click.option("--since", type=Date(), help="Published on or after DATE (YYYY, YYYY-MM or YYYY-MM-DD)."),
        click.option("--until", type=Date(), help="Published on or before DATE (the whole year/month/day)."),
        click.option("--category", "categories", multiple=True, metavar="NAME",
                     help="In this category (its name, any case). Repeat to match any of several."),
        click.option("--changed", is_flag=True, help="Only documents with more than one version."),
        click.option("--removed", is_flag=True, help="Only documents whose post was removed (latest is a tombstone)."),
        click.option("--cause", type=click.Choice(["site", "extractor"]), default=None,
                     help="Only documents with a version of this cause: `--changed --cause site` leaves out "
                          "posts that changed only because the archive read them again."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def make_filters(languages: tuple[str, ...], since: str | None, until: str | None, categories: tuple[str, ...],
                 changed: bool, removed: bool, cause: str | None = None) -> Filters:
    try:
        return Filters(languages=tuple(lang.strip().lower() for lang in languages), since=since, until=until,
                       categories=categories, changed=changed, removed=removed, cause=cause)
    except BadQuery as exc:
        raise click.UsageError(str(exc)) from None


def color_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--color/--no-color", "color", default=None,
                        help="Highlight with colours (default: only when stdout is a terminal).")(func)


def use_color(color: bool | None) -> bool:
    return sys.stdout.isatty() if color is None else color


def _config(config_file: Path | None, archive_dir: Path | None) -> Any:
    return resolve_config(config_file, archive_dir=archive_dir)


# -- list --------------------------------------------------------------------------------
@click.command("list")
@archive_options
@filter_options
@click.option("--sort", type=click.Choice(SORT_CHOICES), default=DEFAULT_SORT, show_default=True,
              help="Order; a leading '-' reverses it. Documents without the value come last.")
@click.option("--limit", type=count(1), help="At most this many documents (one page).")
@click.option("--offset", type=count(0), default=0, help="Skip this many documents first.")
@click.option("--page", type=count(1), help="Page number, counting from 1 (pages of --limit, default 50).")
@click.option("--groups", is_flag=True,
              help="Group translations (posts linked by hreflang); --json adds each document's `translations`.")
@json_option
def list_(archive_dir: Path | None, config_file: Path | None, languages: tuple[str, ...], since: str | None,
          until: str | None, categories: tuple[str, ...], changed: bool, removed: bool, cause: str | None, sort: str,
          limit: int | None, offset: int, page: int | None, groups: bool, as_json: bool) -> None:
    """List archived documents, newest publication first, with filters and paging.

    \b
    Examples:
      kisi-archive list
      kisi-archive list --lang ru --since 2024 --until 2024-06 --category События
      kisi-archive list --changed --sort -versions --limit 20
      kisi-archive list --removed --json | jq -r '.[].url'
      kisi-archive list --limit 50 --page 3
      kisi-archive list --groups
    """
    from storage.query import count_documents, list_documents

    filters = make_filters(languages, since, until, categories, changed, removed, cause)
    if page is not None:
        limit = limit or 50
        offset = offset + (page - 1) * limit
    with open_archive(_config(config_file, archive_dir)) as archive:
        docs = list(list_documents(archive.conn, filters, sort=sort, limit=limit, offset=offset))
        total = count_documents(archive.conn, filters) if (limit is not None or offset) else len(docs)
        translations = {d.doc_id: archive.translations(d.doc_id) for d in docs} if groups else {}
    if as_json:
        emit_json([{**d.to_json(), **({"translations": translations[d.doc_id]} if groups else {})} for d in docs])
        return
    if groups and docs:
        print_groups(docs, translations)
        return
    if not docs:
        if total:
            click.echo(f"No documents on this page: {total} match, --offset {offset} is past the end.", err=True)
        elif filters != Filters():
            click.echo("No documents match these filters.", err=True)
        else:
            click.echo("The archive is empty: run `kisi-archive crawl` first.", err=True)
        return
    click.echo(f"{'DOC_ID':<28} {'LANG':<4} {'PUBLISHED':<10} {'V':>3} {'LAST SEEN':<20} {'TITLE':<48} URL")
    for d in docs:
        title = clip(("[removed] " if d.status == "removed" else "") + (d.title or ""), 48)
        click.echo(f"{d.doc_id:<28} {d.language or '-':<4} {(d.date_published or '')[:10]:<10} {d.versions:>3} "
                   f"{(d.last_seen or '')[:19]:<20} {title:<48} {d.url}")
    if len(docs) < total:
        shown = f"{offset + 1}–{offset + len(docs)}"
        more = f"; next: --offset {offset + len(docs)}" if offset + len(docs) < total else ""
        click.echo(f"Documents {shown} of {total}{more}", err=True)


def print_groups(docs: list[Any], translations: dict[str, dict[str, str]]) -> None:
    """One line per translation group, in listing order: its documents by language."""
    by_id = {d.doc_id: d for d in docs}
    done: set[str] = set()
    for d in docs:
        if d.doc_id in done:
            continue
        members = {d.doc_id, *translations.get(d.doc_id, {}).values()}
        done |= members
        parts = []
        for doc_id in sorted(members, key=lambda m: (m != d.doc_id, m)):
            lang = by_id[doc_id].language if doc_id in by_id else next(
                (k for k, v in translations.get(d.doc_id, {}).items() if v == doc_id), "-")
            parts.append(f"{lang or '-'} {doc_id}")
        click.echo(f"{clip(d.title or '', 60):<60}  " + " | ".join(parts))


# -- show, history -----------------------------------------------------------------------
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
    with open_archive(_config(config_file, archive_dir)) as archive:
        doc_id = archive.resolve(doc)
        total = len(archive.versions(doc_id))
        if version is not None and not 1 <= version <= total:
            raise UnknownVersion(f"{doc_id} has versions 1–{total}; there is no version {version}")
        snap = archive.get(doc_id, version)
        translations = archive.translations(doc_id)
    if as_json:
        emit_json(snap.to_json())
        return
    click.echo(snap.title or "(untitled)")
    click.echo(f"{snap.doc_id} · version {snap.version} of {total} · language {snap.language or '-'} · post {snap.post_id}")
    if snap.kind == "tombstone":
        click.echo("Status:     removed from the site (this version records the removal)")
    click.echo(f"URL:        {snap.canonical_url or snap.final_url}")
    click.echo(f"Published:  {snap.date_published or '-'}   Modified: {snap.date_modified or '-'}")
    click.echo(f"Author:     {snap.author or '-'}")
    click.echo(f"Categories: {', '.join(snap.categories) or '-'}   Tags: {', '.join(snap.tags) or '-'}")
    if translations:
        click.echo(f"Translations: {', '.join(f'{lang} {other}' for lang, other in translations.items())}")
    elif snap.alternates:
        click.echo(f"Languages:  {', '.join(f'{k} {v}' for k, v in snap.alternates.items())}")
    click.echo(f"Captured:   {snap.fetched_at} (HTTP {snap.http_status}) · sha256 {snap.content_sha256[:16]}")
    click.echo(f"Extractor:  {snap.extractor.get('name')} {snap.extractor.get('version')}"
               + (f"   Cause: {snap.cause}" + (f" (was {snap.extractor_before.get('version')})"
                                               if snap.extractor_before else "") if snap.schema_version > 1 else ""))
    if snap.warc:
        click.echo(f"WARC:       {snap.warc.file} @ {snap.warc.offset} ({snap.warc.record_type} {snap.warc.record_id})")
    for item in snap.attachments:
        state = f"sha256 {item.sha256[:16]} · {item.bytes} bytes · {item.content_type}" if item.sha256 else item.error
        click.echo(f"Attachment: {item.label or '-'} <{item.url}> ({state})")
    click.echo("")
    for paragraph in snap.text.split("\n"):
        click.echo(textwrap.fill(paragraph, 100) if paragraph.strip() else "")


@click.command()
@archive_options
@click.argument("doc")
@json_option
def history(archive_dir: Path | None, config_file: Path | None, doc: str, as_json: bool) -> None:
    """List a document's versions: capture time, content hash, cause and the fields that changed.

    The cause is `site` when a crawl saw the site publish something else, `extractor` when
    the archive read a stored response again and read it differently (`reextract`).

    \b
    Examples:
      kisi-archive history kisi.kz-en-2368
      kisi-archive history https://kisi.kz/en/some-event/ --json
    """
    with open_archive(_config(config_file, archive_dir)) as archive:
        doc_id = archive.resolve(doc)
        versions = archive.versions(doc_id)
        translations = archive.translations(doc_id)
    if as_json:
        emit_json([v.to_json() for v in versions])
        return
    click.echo(f"{doc_id}: {len(versions)} version(s)")
    if translations:
        click.echo(f"Translations: {', '.join(f'{lang} {other}' for lang, other in translations.items())}")
    click.echo(f"{'V':>3}  {'CAPTURED':<25} {'SHA256':<12}  {'CAUSE':<9}  CHANGED")
    for v in versions:
        if v.kind == "tombstone":
            changed = "(removed from the site)"
        elif v.kind == "restored":
            changed = "(back on the site) " + ", ".join(v.changed_fields)
        else:
            changed = ", ".join(v.changed_fields) if v.changed_fields else ("(first capture)" if v.version == 1 else "")
        if v.minor:
            changed += "  [minor: whitespace/punctuation only]"
        click.echo(f"{v.version:>3}  {v.fetched_at:<25} {v.content_sha256[:12]}  {v.cause:<9}  {changed.strip()}")


# -- diff --------------------------------------------------------------------------------
FIELD_LABELS = {"title": "Title", "date_published": "Published", "date_modified": "Modified", "author": "Author",
                "categories": "Categories", "tags": "Tags", "canonical_url": "URL"}


@click.command()
@archive_options
@click.argument("doc")
@click.option("--from", "from_version", type=int, metavar="N", help="Older version (default: the one before --to).")
@click.option("--to", "to_version", type=int, metavar="M", help="Newer version (default: the latest).")
@click.option("--context", type=count(0), default=3, show_default=True,
              help="Unchanged paragraphs shown around each change.")
@color_option
@json_option
def diff(archive_dir: Path | None, config_file: Path | None, doc: str, from_version: int | None,
         to_version: int | None, context: int, color: bool | None, as_json: bool) -> None:
    """Show what changed between two versions of a document (default: the last two).

    Field by field (title, dates, author, categories, tags, URL), then a unified diff of
    the text, with the changed words highlighted on a terminal. A document with a single
    version has nothing to compare: that is said on stdout and the exit code is 0.

    \b
    Examples:
      kisi-archive diff kisi.kz-en-2368
      kisi-archive diff https://kisi.kz/?p=2368 --from 1 --to 3
      kisi-archive diff kisi.kz-en-2368 --json | jq '.fields'
    """
    from storage.diff import diff_snapshots

    with open_archive(_config(config_file, archive_dir)) as archive:
        doc_id = archive.resolve(doc)
        count = len(archive.versions(doc_id))
        for given in (from_version, to_version):
            if given is not None and not 1 <= given <= count:
                raise UnknownVersion(f"{doc_id} has versions 1–{count}; there is no version {given}")
        if count == 1 and from_version is None and to_version is None:
            message = f"{doc_id} has only one version: nothing to compare yet."
            if as_json:
                emit_json({"doc_id": doc_id, "versions": 1, "from_version": None, "to_version": 1,
                           "identical": True, "message": message, "changed_fields": [], "fields": [],
                           "text": {"changed": False, "unified": "", "hunks": []}})
            else:
                click.echo(message)
            return
        new = to_version if to_version is not None else count
        old = from_version if from_version is not None else max(new - 1, 1)
        newer = archive.get(doc_id, new).to_json()
        result = diff_snapshots(archive.get(doc_id, old).to_json(), newer, context=context)
        removal = newer.get("removal") if result.to_kind == "tombstone" else None
    if as_json:
        emit_json({**result.to_json(), "versions": count})
        return
    _print_diff(result, removal, use_color(color))


def _print_diff(result: Any, removal: dict[str, Any] | None, color: bool) -> None:
    def style(text: str, **kw: Any) -> str:
        return click.style(text, **kw) if color else text

    def echo(text: str = "") -> None:
        click.echo(text, color=color)

    echo(style(f"{result.doc_id}: version {result.from_version} → {result.to_version}", bold=True)
         + f"  (captured {result.from_fetched_at} → {result.to_fetched_at})")
    if result.to_kind == "tombstone":
        reason = f": {json.dumps(removal, ensure_ascii=False)}" if removal else ""
        echo(f"Version {result.to_version} records that the post was removed from the site{reason}")
    elif result.to_kind == "restored":
        echo(f"Version {result.to_version} records that the post came back on the site.")
    if result.cause == "extractor":
        before, after = (" ".join(filter(None, (e or {}).values())) for e in (result.extractor_before,
                                                                              result.extractor_after))
        echo(f"Cause: extractor. The site did not change: the same response read by {after} instead of {before}.")
    else:
        echo("Cause: site.")
    if result.identical:
        echo(f"Versions {result.from_version} and {result.to_version} have the same content.")
        return
    echo(f"Changed: {', '.join(result.changed_fields)}" + ("  [minor: whitespace/punctuation only]" if result.minor else ""))
    for change in result.fields:
        label = FIELD_LABELS.get(change.field, change.field)
        if change.added is not None:
            parts = [style(f"+ {v}", fg="green") for v in change.added] + [style(f"- {v}", fg="red") for v in change.removed]
            if change.added or change.removed:
                echo(f"{label + ':':<12} " + "  ".join(parts))
            else:  # same values, other order
                echo(f"{label + ':':<12} order: {', '.join(change.old)} → {', '.join(change.new)}")
        else:
            echo(f"{label + ':':<12} " + style(f"- {change.old if change.old is not None else '(none)'}", fg="red"))
            echo(f"{'':<12} " + style(f"+ {change.new if change.new is not None else '(none)'}", fg="green"))
    if not result.hunks:
        return
    echo("")
    for line in result.unified()[:2]:
        echo(style(line, bold=True))
    for hunk in result.hunks:
        echo(style(hunk.header, fg="cyan"))
        for line in hunk.lines:
            colour = {"-": "red", "+": "green"}.get(line.op)
            if colour is None or not color:
                echo(line.op + line.text)
            elif line.segments:
                body = "".join(style(s.text, fg=colour, reverse=True, bold=True) if s.changed else style(s.text, fg=colour)
                               for s in line.segments)
                echo(style(line.op, fg=colour) + body)
            else:
                echo(style(line.op + line.text, fg=colour))


# -- search ------------------------------------------------------------------------------
@click.command()
@archive_options
@click.argument("query")
@filter_options
@click.option("--in", "where", type=click.Choice(["text", "attachments"]), default="text", show_default=True,
              help="Search the posts' titles and texts, or the text of their attachments (PDFs).")
@click.option("--all-versions", is_flag=True, help="Search every version, not only the latest of each document.")
@click.option("--stem", "stemmed", is_flag=True,
              help="Match inflected forms: each word becomes its stem as a prefix (экспертами → эксперт*).")
@click.option("--sort", type=click.Choice(SEARCH_SORTS), default="rank", show_default=True,
              help="Best match first (rank), or by publication date.")
@click.option("--limit", type=count(1), default=20, show_default=True, help="At most this many results.")
@click.option("--offset", type=count(0), default=0, help="Skip this many results first.")
@color_option
@json_option
def search(archive_dir: Path | None, config_file: Path | None, query: str, languages: tuple[str, ...],
           since: str | None, until: str | None, categories: tuple[str, ...], changed: bool, removed: bool,
           cause: str | None, where: str, all_versions: bool, stemmed: bool, sort: str, limit: int, offset: int, color: bool | None,
           as_json: bool) -> None:
    """Full-text search of titles and texts (SQLite FTS5), best match first.

    QUERY: words (all must occur), "exact phrases", prefix*, OR, NOT, parentheses,
    NEAR(a b, 5), title:word. Case and Latin accents are ignored; Russian and Kazakh
    letters are matched as written, so use a prefix (реформ*) or --stem for other forms.

    \b
    Examples:
      kisi-archive search 'political transformation'
      kisi-archive search 'реформ*' --lang ru --since 2024
      kisi-archive search 'Қазақстан*' --lang kk --json
      kisi-archive search экспертами --stem
      kisi-archive search '"round table" NOT webinar' --all-versions --category Events
      kisi-archive search 'трансформац*' --in attachments
    """
    from storage.query import search as run_search

    filters = make_filters(languages, since, until, categories, changed, removed, cause)
    if where == "attachments":
        _search_attachments(config_file, archive_dir, query, filters, all_versions, stemmed, limit, offset,
                            use_color(color), as_json)
        return
    with open_archive(_config(config_file, archive_dir)) as archive:
        result = run_search(archive.conn, query, filters, all_versions=all_versions, stemmed=stemmed, limit=limit,
                            offset=offset, sort=sort)
    if as_json:
        emit_json({"query": result.query, "fts_query": result.fts_query, "total": result.total, "limit": limit,
                   "offset": offset, "all_versions": all_versions, "filters": filters.to_json(),
                   "hits": [hit.to_json() for hit in result.hits]})
        return
    if not result.hits:
        click.echo(f"No results for {query!r}" + (f" past --offset {offset}" if result.total else "") + ".", err=True)
        return
    colour = use_color(color)
    mark = (MARK_START, MARK_END)
    for hit in result.hits:
        version = f"v{hit.version}" + (" (latest)" if hit.latest and all_versions else "")
        removed_note = "  [removed]" if hit.status == "removed" else ""
        head = f"{hit.doc_id}  {version}  {hit.language or '-'}  {(hit.date_published or '')[:10]}  "
        click.echo(head + (click.style(hit.title or "(untitled)", bold=True) if colour else (hit.title or "(untitled)"))
                   + removed_note, color=colour)
        snippet = " ".join(hit.snippet.split())
        if colour:
            parts = snippet.split(mark[0])
            snippet = parts[0] + "".join(
                click.style(p.split(mark[1], 1)[0], fg="yellow", bold=True) + (p.split(mark[1], 1)[1] if mark[1] in p else "")
                for p in parts[1:])
        else:
            snippet = render_marks(snippet, "**", "**")
        click.echo(f"    {snippet}", color=colour)
        click.echo(f"    {hit.url}")
    first, last = offset + 1, offset + len(result.hits)
    more = f"; next: --offset {last}" if last < result.total else ""
    click.echo(f"Results {first}–{last} of {result.total}{more}", err=True)


def _search_attachments(config_file: Path | None, archive_dir: Path | None, query: str, filters: Filters,
                        all_versions: bool, stemmed: bool, limit: int, offset: int, colour: bool, as_json: bool) -> None:
    from storage.query import search_attachments

    with open_archive(_config(config_file, archive_dir)) as archive:
        fts, total, hits = search_attachments(archive.conn, query, filters, all_versions=all_versions, stemmed=stemmed,
                                              limit=limit, offset=offset)
    if as_json:
        emit_json({"query": query, "fts_query": fts, "in": "attachments", "total": total, "limit": limit,
                   "offset": offset, "all_versions": all_versions, "filters": filters.to_json(),
                   "hits": [hit.to_json() for hit in hits]})
        return
    if not hits:
        click.echo(f"No attachment matches {query!r}" + (f" past --offset {offset}" if total else "") + ".", err=True)
        return
    for hit in hits:
        title = hit.label or hit.url.rsplit("/", 1)[-1]
        click.echo(f"{hit.doc_id}  v{hit.version}  {hit.language or '-'}  "
                   + (click.style(title, bold=True) if colour else title), color=colour)
        snippet = render_marks(" ".join(hit.snippet.split()), "**", "**")
        click.echo(f"    {snippet}")
        click.echo(f"    {hit.url}  (in: {hit.title or hit.doc_id})")
    last = offset + len(hits)
    click.echo(f"Results {offset + 1}–{last} of {total}" + (f"; next: --offset {last}" if last < total else ""), err=True)


# -- export ------------------------------------------------------------------------------
@click.command()
@archive_options
@filter_options
@click.option("--format", "fmt", type=click.Choice([*EXPORT_FORMATS, "wacz"]), default="jsonl", show_default=True,
              help="JSON Lines (one snapshot per line), CSV (one row per snapshot, fixed columns), or WACZ "
                   "(the WARC files with an index and the chosen pages, for ReplayWeb.page and pywb; needs --out).")
@click.option("--all-versions", is_flag=True, help="Every version, not only the latest of each document.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="Write to FILE (atomically) and FILE.manifest.json beside it, instead of stdout.")
@json_option
def export(archive_dir: Path | None, config_file: Path | None, languages: tuple[str, ...], since: str | None,
           until: str | None, categories: tuple[str, ...], changed: bool, removed: bool, cause: str | None, fmt: str,
           all_versions: bool, out: Path | None, as_json: bool) -> None:
    """Stream snapshots as JSON Lines or CSV, read from the snapshot files, in doc id order.

    Takes the filters of `list`. A snapshot file that cannot be read is reported on stderr
    and skipped; the export goes on and exits 1 at the end. With --out, a manifest
    (count, filters, schema version, sha256 of the file) is written to FILE.manifest.json
    and a summary is printed (--json: the manifest).

    \b
    Examples:
      kisi-archive export > latest.jsonl
      kisi-archive export --all-versions --format csv --out all-versions.csv
      kisi-archive export --lang kk --since 2025 | jq -r .title
      kisi-archive export --format wacz --out kisi.wacz
    """
    from storage.export import export as run_export, export_to_file, manifest_path

    if fmt == "wacz":
        _export_wacz(config_file, archive_dir, out, make_filters(languages, since, until, categories, changed, removed,
                                                                 cause), all_versions, as_json)
        return
    if as_json and out is None:
        raise click.UsageError("--json describes an export written with --out FILE (the export itself goes to stdout)")
    filters = make_filters(languages, since, until, categories, changed, removed, cause)

    def skipped(message: str) -> None:
        click.echo(f"skipped: {message}", err=True)

    with open_archive(_config(config_file, archive_dir)) as archive:
        if out is None:
            try:
                result = run_export(archive, sys.stdout.buffer, fmt, filters, all_versions=all_versions,
                                    on_skip=skipped)
                sys.stdout.flush()
            except BrokenPipeError:
                # The reader stopped (`| head`): not an error; keep Python from complaining at exit.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                sys.exit(exit_codes.OK)
        else:
            result, manifest = export_to_file(archive, out, fmt, filters, all_versions=all_versions, on_skip=skipped,
                                              generator=f"kisi-archive {__version__}")
    if out is not None:
        if as_json:
            emit_json(manifest)
        else:
            click.echo(f"Exported {result.count} {'versions' if all_versions else 'documents'} to {out} "
                       f"(sha256 {result.sha256[:16]}…); manifest {manifest_path(out)}")
    if result.skipped:
        click.echo(f"error: {len(result.skipped)} snapshot file(s) could not be read and were skipped "
                   "(see above; `kisi-archive verify` checks the archive)", err=True)
        sys.exit(exit_codes.ERROR)


def _export_wacz(config_file: Path | None, archive_dir: Path | None, out: Path | None, filters: Filters,
                 all_versions: bool, as_json: bool) -> None:
    from storage.wacz import export_wacz

    if out is None:
        raise click.UsageError("--format wacz writes a zip file: name it with --out FILE.wacz")
    with open_archive(_config(config_file, archive_dir)) as archive:
        result = export_wacz(archive, out, filters, all_versions=all_versions, title=f"kisi-archive {archive.root.name}",
                             software=f"kisi-archive {__version__}")
    if as_json:
        emit_json({"file": str(out), "format": "wacz", "pages": result.pages, "warc_files": result.warc_files,
                   "records": result.records, "bytes": result.bytes, "sha256": result.sha256,
                   "resources": result.resources})
        return
    click.echo(f"Exported {result.warc_files} WARC file(s), {result.records} indexed records and {result.pages} "
               f"page(s) to {out} (sha256 {result.sha256[:16]}…)")


# -- stats -------------------------------------------------------------------------------
@click.command()
@archive_options
@filter_options
@json_option
def stats(archive_dir: Path | None, config_file: Path | None, languages: tuple[str, ...], since: str | None,
          until: str | None, categories: tuple[str, ...], changed: bool, removed: bool, cause: str | None,
          as_json: bool) -> None:
    """Count documents and versions, by language, category and year of publication.

    Also how many documents changed (more than one version) or were removed, and when the
    first and last captures were made. Takes the filters of `list`.

    \b
    Examples:
      kisi-archive stats
      kisi-archive stats --lang ru --since 2024 --json
    """
    from storage.query import stats as run_stats

    filters = make_filters(languages, since, until, categories, changed, removed, cause)
    with open_archive(_config(config_file, archive_dir)) as archive:
        data = run_stats(archive.conn, filters)
    if as_json:
        emit_json(data)
        return
    click.echo(f"Documents: {data['documents']}  (changed {data['changed']}, removed {data['removed']})")
    click.echo(f"Versions:  {data['versions']}  (minor {data['minor_versions']})   Captures: {data['captures']}")
    click.echo(f"Captured:  {data['first_capture'] or '-'} → {data['last_capture'] or '-'}")
    for title, key, rows in (("By language", "language", data["by_language"]),
                             ("By category", "category", data["by_category"]),
                             ("By year of publication", "year", data["by_year"])):
        click.echo("")
        click.echo(f"{title:<32} {'DOCS':>8} {'VERSIONS':>9} {'CHANGED':>8} {'REMOVED':>8}")
        for row in rows:
            name = row[key] if row[key] is not None else "(none)"
            click.echo(f"  {clip(str(name), 30):<30} {row['documents']:>8} {row['versions']:>9} "
                       f"{row['changed']:>8} {row['removed']:>8}")


# -- verify, reindex ---------------------------------------------------------------------
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
    config = _config(config_file, archive_dir)
    # Read-only where the archive cannot be written (read-only media, another user's):
    # then nothing is caught up, a lagging index is a warning.
    with (open_archive(config) if Archive.cannot_write(config.archive_dir) else open_archive(config, write=True)) \
            as archive:
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
    """Rebuild the SQLite index (listing, search) from the JSON snapshot files.

    Exits 1 when some document could not be indexed (unreadable files; `verify` names them).

    \b
    Example:
      kisi-archive reindex --archive ./archive
    """
    with open_archive(_config(config_file, archive_dir), write=True) as archive:
        count = archive.reindex()
        on_disk = sum(1 for doc_id in archive.layout.document_ids() if archive.layout.versions_on_disk(doc_id))
    skipped = on_disk - count
    if as_json:
        emit_json({"documents": count, "skipped": skipped})
    else:
        click.echo(f"Index rebuilt: {count} documents")
    if skipped:
        click.echo(f"error: {skipped} document(s) could not be indexed; run `kisi-archive verify` to see which",
                   err=True)
        sys.exit(exit_codes.ERROR)


COMMANDS = [list_, show, history, diff, search, export, stats, verify, reindex]
