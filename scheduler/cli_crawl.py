"""Commands that crawl: `crawl` (one run) and `demo` (the whole loop offline)."""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from crawler.config import CATEGORY, SITE_URL, Config, load_config
from storage import Archive

from .cli_common import (Duration, Setting, archive_options, clip, emit_json, json_option, resolve_config, say,
                         use_log_format)

KISI_HOST = "kisi.kz"


def site_options(func: Any) -> Any:
    """--site, --category, --contact, --delay: shared by `crawl` and `daemon`."""
    func = click.option("--delay", "download_delay", type=Setting("download_delay", "SECONDS"),
                        help="Seconds between requests (default 1.0) [env KISI_DOWNLOAD_DELAY].")(func)
    func = click.option("--contact", type=Setting("contact", "URL"),
                        help="Contact URL or e-mail for the User-Agent [env KISI_CONTACT].")(func)
    func = click.option("--category", type=Setting(CATEGORY, "SLUG"),
                        help="Category slug to archive on --site (default: events) [env KISI_CATEGORY].")(func)
    func = click.option("--site", type=Setting(SITE_URL, "URL"),
                        help="Base URL of a WordPress site (e.g. https://example.org/en/) [env KISI_SITE].")(func)
    return func


WEBHOOK_DRAIN_SECONDS = 60


def quiet_option(func: Any) -> Any:
    return click.option("-q", "--quiet", is_flag=True,
                        help="No progress and no summary: only errors on stderr (the exit code says how it went).")(func)


def log_format_option(func: Any) -> Any:
    return click.option("--log-format", type=Setting("log_format", "FORMAT"),
                        help="Warnings and errors on stderr as text or JSON lines (default text) "
                             "[env KISI_LOG_FORMAT].")(func)


@click.command()
@archive_options
@site_options
@click.option("--full", is_flag=True, default=None,
              help="Re-fetch every post and walk every listing to its end (default: only what changed).")
@click.option("--wait", is_flag=True, help="If another crawl is writing the archive, wait for it (default: exit 4).")
@click.option("--wait-timeout", type=Duration(), help="With --wait, give up (exit 4) after this long: 30m, 2h.")
@quiet_option
@log_format_option
@json_option
def crawl(archive_dir: Path | None, config_file: Path | None, site: str | None, category: str | None,
          contact: str | None, download_delay: float | None, full: bool | None, wait: bool,
          wait_timeout: float | None, quiet: bool, log_format: str | None, as_json: bool) -> None:
    """Crawl once: discover the category's posts, store new and changed versions.

    On a terminal a progress bar shows the phase, requests done of planned, the rate and an
    ETA; then a summary of the counts. Exits 0 when the crawl completed (page errors are
    counted, not fatal), 3 when the site could not be crawled at all (unreachable,
    robots.txt forbids it, category not found), 4 when another crawl (e.g. the daemon's) is
    writing the archive, unless --wait. With --json, stdout is always one JSON object: the
    run record, or {"outcome", "reason", "exit_code"} when no run was recorded.

    \b
    Examples:
      kisi-archive crawl
      kisi-archive crawl --full
      kisi-archive crawl --wait --wait-timeout 2h
      kisi-archive crawl --quiet --log-format json 2>> crawl.jsonl
      kisi-archive crawl --site https://example.org/ --category events --archive ./example-archive
    """
    from .cli_daemon import locked_crawl

    config = resolve_config(config_file, archive_dir=archive_dir, site=site, category=category, contact=contact,
                            download_delay=download_delay, full=full or None, log_format=log_format)
    use_log_format(config.log_format)
    progress = sys.stderr.isatty() and not (as_json or quiet) and config.log_format == "text"
    result = locked_crawl(config, wait=wait, wait_timeout=wait_timeout, progress=progress, quiet=quiet)
    report_run(config, result.record, as_json, quiet=quiet)
    if config.webhook:
        from .webhook import SENDER

        # The crawl is over; give a queued webhook delivery its retries before exiting.
        if not SENDER.drain(WEBHOOK_DRAIN_SECONDS):
            say("warning", f"the webhook to {config.webhook} was not delivered within {WEBHOOK_DRAIN_SECONDS} s; "
                "giving up", event="webhook-undelivered")
    sys.exit(result.exit_code)


# The summary's lines: label, count key; the rarer ones only when not zero.
SUMMARY_COUNTS = (("posts discovered", "discovered", True), ("fetched", "fetched", True),
                  ("not modified", "not_modified", False), ("new documents", "new_documents", True),
                  ("new versions", "new_versions", True), ("restored", "restored", False),
                  ("removed", "removed", False), ("pending removals", "pending_removals", False),
                  ("unchanged", "unchanged", True), ("errors", "errors", True), ("requests", "requests", True))


def summary_lines(record: Any) -> list[str]:
    """The text summary of a run: counts one per line, then what each discovery source did."""
    counts = record.counts or {}
    duration = _run_seconds(record)
    lines = [f"Crawl {record.outcome} (run {record.run_id})" + (f" in {duration}" if duration else "")]
    for label, key, always in SUMMARY_COUNTS:
        if always or counts.get(key):
            lines.append(f"  {label:<18}{counts.get(key, 0):>7}")
    details = record.sources or {}
    languages = details.get("languages") or {}
    if languages:
        lines.append("  by language")
        lines.extend(f"    {code:<10}new {by.get('new_documents', 0)}, changed {by.get('new_versions', 0)}, "
                     f"unchanged {by.get('unchanged', 0)}, removed {by.get('removed', 0)}"
                     for code, by in sorted(languages.items()))
    sources = details.get("sources") or {}
    used = [(name, data) for name, data in sources.items() if isinstance(data, dict) and data.get("status") != "not used"]
    if used:
        lines.append("  sources")
        lines.extend(f"    {name:<10}{source_phrase(data)}" for name, data in used)
    return lines


def source_phrase(data: dict[str, Any]) -> str:
    """'ok: 13 posts named, 13 fetched, 2 requests' (a discovery source's report, in words)."""
    parts = [f"{data.get('posts', 0)} posts named"] if data.get("posts") else []
    if data.get("fetches"):
        parts.append(f"{data['fetches']} fetched")
    if data.get("requests"):
        parts.append(f"{data['requests']} request{'s' if data['requests'] != 1 else ''}")
    if data.get("complete"):
        parts.append("complete")
    return str(data.get("status", "?")) + (f": {', '.join(parts)}" if parts else "")


def _run_seconds(record: Any) -> str:
    from datetime import datetime

    try:
        seconds = (datetime.fromisoformat(record.finished_at) - datetime.fromisoformat(record.started_at)).total_seconds()
    except (TypeError, ValueError):
        return ""
    return f"{seconds:.0f} s"


def report_run(config: Config, record: Any, as_json: bool, quiet: bool = False) -> None:
    if as_json:
        emit_json(record.to_json())
    elif not quiet and (record.outcome == "completed" or record.counts.get("discovered")):
        for line in summary_lines(record):
            click.echo(line)
        click.echo(f"Archive: {config.archive_dir}   Log: {record.log_path}")
    if not as_json:
        for warning in (record.sources or {}).get("warnings") or []:
            say("warning", warning, event="crawl-warning", run_id=record.run_id)
    if record.outcome == "completed":
        return
    fields = {"event": "crawl-" + record.outcome, "run_id": record.run_id, "log_path": record.log_path}
    if record.reason and "unreachable" in record.reason and any(KISI_HOST in s.url for s in (config.seed, *config.sections)):
        say("error", "kisi.kz cannot be reached from this machine; run `kisi-archive demo` to see the "
            f"whole loop offline on a bundled fixture site (log: {record.log_path})", **fields)
    else:
        say("error", f"{record.reason} (log: {record.log_path})", **fields)


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
        with demo_site(SiteProcess, state_path, log_path, remembered_port(target)) as site:
            click.echo(f"Fixture site serving at {site.url}; crawling it into {target}", err=True)
            # As the built-in profile does for kisi.kz: the English Events category, and the
            # crawler finds its Russian and Kazakh siblings on the site.
            config = replace(load_config(flags={"archive_dir": target, "download_delay": 0.0}),
                             site=f"{site.url}/en/", category="events", sections=(), serve_port=port)
            result = run_crawl(config, trigger="demo", progress=sys.stderr.isatty())
            if archive_dir is not None:
                remember_port(target, site.port)
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


# The fixture site's address is part of every URL the demo archives (canonical_url, doc
# ids): on a random port, a second `demo --archive DIR` would make a new version of every
# document. The port is kept in the archive and the site is served on it again.
DEMO_STATE = "demo"


def remembered_port(archive: Path) -> int:
    """The port an earlier demo served the fixture site on for this archive (0: none yet)."""
    import json

    from storage.layout import Layout

    try:
        port = json.loads(Layout(archive).state(DEMO_STATE).read_text("utf-8")).get("port")
    except (OSError, ValueError, AttributeError):
        return 0
    return port if isinstance(port, int) and 0 < port < 65536 else 0


def remember_port(archive: Path, port: int) -> None:
    from storage.files import dump_json, replace_atomically
    from storage.layout import Layout

    path = Layout(archive).state(DEMO_STATE)
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_atomically(path, dump_json({"port": port}))


def demo_site(site_process: Any, state_path: Path, log_path: Path, port: int) -> Any:
    """The fixture site on the remembered port, or on any free port when that one is taken."""
    from .demo_site import SiteStartError

    if port:
        site = site_process(state_path, log_path, port=port)
        try:
            return site.start()
        except SiteStartError:
            say("warning", f"port {port}, where this archive's demo site was served before, is in use: the site's "
                "URLs change, so every document gets a new version")
    return site_process(state_path, log_path).start()


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
