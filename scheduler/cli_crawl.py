"""Commands that crawl: `crawl` (one run) and `demo` (the whole loop offline)."""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from crawler.config import Config, load_config
from storage import Archive

from .cli_common import archive_options, clip, emit_json, json_option, resolve_config

KISI_HOST = "kisi.kz"
WEBHOOK_DRAIN_SECONDS = 60


@click.command()
@archive_options
@click.option("--site", help="Base URL of a WordPress site (e.g. https://example.org/en/) [env KISI_SITE].")
@click.option("--category", help="Category slug to archive on --site (default: events) [env KISI_CATEGORY].")
@click.option("--contact", help="Contact URL or e-mail for the User-Agent [env KISI_CONTACT].")
@click.option("--delay", "download_delay", type=float, help="Seconds between requests (default 1.0).")
@click.option("--full", is_flag=True, default=None,
              help="Re-fetch every post and walk every listing to its end (default: only what changed).")
@click.option("--wait", is_flag=True, help="If another crawl is writing the archive, wait for it (default: exit 4).")
@click.option("--wait-timeout", metavar="DURATION", help="With --wait, give up (exit 4) after this long: 30m, 2h.")
@json_option
def crawl(archive_dir: Path | None, config_file: Path | None, site: str | None, category: str | None,
          contact: str | None, download_delay: float | None, full: bool | None, wait: bool,
          wait_timeout: str | None, as_json: bool) -> None:
    """Crawl once: discover the category's posts, store new and changed versions.

    Exits 0 when the crawl completed (page errors are counted, not fatal), 3 when the
    site could not be crawled at all (unreachable, robots.txt forbids it, category not found),
    4 when another crawl (e.g. the daemon's) is writing the archive, unless --wait.

    \b
    Examples:
      kisi-archive crawl
      kisi-archive crawl --full
      kisi-archive crawl --wait --wait-timeout 2h
      kisi-archive crawl --site https://example.org/ --category events --archive ./example-archive
    """
    from .cli_daemon import locked_crawl

    config = resolve_config(config_file, archive_dir=archive_dir, site=site, category=category, contact=contact,
                            download_delay=download_delay, full=full or None)
    result = locked_crawl(config, wait=wait, wait_timeout=wait_timeout, progress=sys.stderr.isatty() and not as_json)
    report_run(config, result.record, as_json)
    if config.webhook:
        from .webhook import SENDER

        # The crawl is over; give a queued webhook delivery its retries before exiting.
        if not SENDER.drain(WEBHOOK_DRAIN_SECONDS):
            click.echo(f"warning: the webhook to {config.webhook} was not delivered within "
                       f"{WEBHOOK_DRAIN_SECONDS} s; giving up", err=True)
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
        details = record.sources or {}
        for language, by in sorted((details.get("languages") or {}).items()):
            click.echo(f"  {language:<3} new {by.get('new_documents', 0)}, changed {by.get('new_versions', 0)}, "
                       f"unchanged {by.get('unchanged', 0)}, removed {by.get('removed', 0)}")
        sources = details.get("sources") or {}
        if sources:
            click.echo("  sources          " + ", ".join(f"{k} {v.get('status', v) if isinstance(v, dict) else v}"
                                                      for k, v in sorted(sources.items())))
        for warning in details.get("warnings") or []:
            click.echo(f"warning: {warning}", err=True)
        click.echo(f"Archive: {config.archive_dir}   Log: {record.log_path}")
    if record.outcome == "completed":
        return
    if record.reason and "unreachable" in record.reason and any(KISI_HOST in s.url for s in (config.seed, *config.sections)):
        click.echo("error: kisi.kz cannot be reached from this machine; run `kisi-archive demo` to see the "
                   f"whole loop offline on a bundled fixture site (log: {record.log_path})", err=True)
    else:
        click.echo(f"error: {record.reason} (log: {record.log_path})", err=True)


# What `demo --serve` does to the fixture site between crawls, as an editor would: a
# corrected title and text, a new tag, a changed slug (WordPress keeps the old URL as a
# redirect), then a post moved to the trash (removed once two runs confirm it).
EDITED_POST, RENAMED_POST, TRASHED_POST = 2357, 2368, 2304


def demo_edits(state: Any) -> None:
    post = state.post(EDITED_POST)
    state.edit(EDITED_POST, title="A seminar on the digital transformation of public administration was held at KazISS",
               content_html=post.content_html.replace("seminar", "workshop", 1)
               + "<p>The presentations are available on request from the press service.</p>",
               tags=[*post.tags, "e-government"])
    state.rename(RENAMED_POST, "experts-on-political-transformation-in-kazakhstan")


@click.command()
@click.option("--archive", "archive_dir", type=click.Path(path_type=Path), default=None,
              help="Keep the demo archive here (default: a temporary directory, deleted afterwards).")
@click.option("--serve", is_flag=True,
              help="Then edit, rename and remove posts on the fixture site, crawl again, and serve the web viewer "
                   "on the result until Ctrl-C.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="With --serve: the viewer's port on 127.0.0.1 (0 = any free port).")
def demo(archive_dir: Path | None, serve: bool, port: int) -> None:
    """See the whole loop offline: serve the bundled fixture site on 127.0.0.1, crawl it, list it.

    With --serve, the fixture site then changes as an edited site does (a corrected post,
    a renamed one, a removed one), is crawled again, and the web viewer shows the result
    on http://127.0.0.1:8000/ until Ctrl-C.

    \b
    Examples:
      kisi-archive demo --archive /tmp/demo-archive && kisi-archive list --archive /tmp/demo-archive
      kisi-archive demo --serve
    """
    import tempfile

    from .demo_site import SiteProcess, SiteState, default_state
    from .runs import run_crawl

    with tempfile.TemporaryDirectory(prefix="kisi-demo-") as tmp:
        target = archive_dir or Path(tmp) / "archive"
        state_path, log_path = Path(tmp) / "site.json", Path(tmp) / "requests.log"
        default_state().save(state_path)
        with SiteProcess(state_path, log_path) as site:
            click.echo(f"Fixture site serving at {site.url}; crawling it into {target}", err=True)
            # As the built-in profile does for kisi.kz: the English Events category, and the
            # crawler finds its Russian and Kazakh siblings on the site.
            config = replace(load_config(flags={"archive_dir": target, "download_delay": 0.0}),
                             site=f"{site.url}/en/", category="events", sections=(), serve_port=port)
            result = run_crawl(config, trigger="demo", progress=sys.stderr.isatty())
            if serve and result.ok:
                result = _demo_history(config, state_path, SiteState, run_crawl)
        report_run(config, result.record, False)
        click.echo("")
        with Archive.open(target) as archive:
            for d in archive.list_documents():
                click.echo(f"{d.doc_id:<24} {d.language or '-':<3} {(d.date_published or '')[:10]:<10} "
                           f"v{d.versions}  {clip(d.title or '', 70)}")
        if serve and result.ok:
            from .cli_serve import start_viewer

            server = start_viewer(config)
            click.echo(f"\nThe web viewer of the demo archive: {server.url} (Ctrl-C to stop)", err=True)
            server.run()
        if archive_dir is None:
            click.echo("(demo archive deleted; pass --archive DIR to keep it)", err=True)
    sys.exit(result.exit_code)


def _demo_history(config: Config, state_path: Path, site_state: Any, run_crawl: Any) -> Any:
    """Edit, rename and remove posts on the fixture site, crawling after each step."""
    click.echo("Editing a post and renaming another on the fixture site; crawling again", err=True)
    with site_state.modify(state_path) as state:
        demo_edits(state)
    result = run_crawl(config, trigger="demo")
    click.echo("Moving a post to the trash; two runs confirm its removal", err=True)
    with site_state.modify(state_path) as state:
        state.trash(TRASHED_POST)
    for full in (True, False):
        if result.ok:
            result = run_crawl(replace(config, full=full), trigger="demo")
    return result


COMMANDS = [crawl, demo]
