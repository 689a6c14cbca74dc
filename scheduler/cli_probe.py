"""`kisi-archive probe`: a read-only first-contact report of a site (crawler/prober.py)."""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from crawler import exit_codes
from crawler.config import CATEGORY, SITE_URL, Config

from .cli_common import CommandFailed, Setting, emit_json, resolve_config, say

# A probe makes a handful of requests; each may take the configured timeout and a retry.
PROBE_TIME_LIMIT = 300.0


@click.command()
@click.argument("url", required=False, type=Setting(SITE_URL, "URL"))
@click.option("--category", type=Setting(CATEGORY, "SLUG"),
              help="Category slug on URL to look for (default: the configured one, events).")
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
              help="TOML config file [env KISI_CONFIG].")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def probe(url: str | None, category: str | None, config_file: Path | None, as_json: bool) -> None:
    """Look at a site as a first crawl would, and say what it found. Writes nothing.

    URL is a language root of a WordPress site (default: the configured `site`,
    https://kisi.kz/en/). The report: WordPress and its version, the multilingual plugin,
    the languages and their roots, the category in each language (its URL, how it was
    found, its post count where the REST API says), each section's feed, the REST API
    (open or refused, whether ?lang= filters posts), the sitemap flavour, whether single
    posts send validators, robots.txt's rules, and the sections a crawl would use. About
    a dozen polite requests (robots.txt obeyed). Exit 0, or 3 when the category cannot
    be found or the site not reached.

    \b
    Examples:
      kisi-archive probe
      kisi-archive probe https://example.org/ --category news
      kisi-archive probe https://kisi.kz/en/ --json | jq '.sections[] | {language, listing}'
    """
    config = resolve_config(config_file, site=url, category=category)
    report = run_probe(config)
    if as_json:
        emit_json(report)
    else:
        print_report(report)
    if report.get("failure") or not report.get("sections"):
        say("error", report.get("failure") or "no section found", event="probe-failed")
        sys.exit(exit_codes.SITE_UNAVAILABLE)


def run_probe(config: Config) -> dict[str, Any]:
    """Run the probe in a child process (Twisted's reactor runs once per process)."""
    with tempfile.TemporaryDirectory(prefix="kisi-probe-") as tmp:
        config_path, out = Path(tmp) / "config.json", Path(tmp) / "report.json"
        config_path.write_text(json.dumps(config.to_json(), ensure_ascii=False), "utf-8")
        try:
            child = subprocess.run([sys.executable, "-m", "crawler.probe", "--config", str(config_path),
                                    "--out", str(out)], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                   timeout=PROBE_TIME_LIMIT)
        except subprocess.TimeoutExpired:
            raise CommandFailed(f"the probe of {config.site} took longer than {PROBE_TIME_LIMIT:.0f} s") from None
        if child.returncode != 0 or not out.exists():
            last = (child.stderr.strip().splitlines() or ["no output"])[-1]
            raise CommandFailed(f"the probe of {config.site} failed: {last}")
        return json.loads(out.read_text("utf-8"))


def print_report(report: dict[str, Any]) -> None:
    echo = click.echo
    wordpress = ("WordPress " + (report.get("wordpress_version") or "(version not said)") if report.get("wordpress")
                 else "not recognisably WordPress" if report.get("wordpress") is False else "WordPress not detected")
    echo(f"Site {report['site']}: {wordpress}; multilingual plugin: {report.get('plugin') or 'none seen'}")
    echo("Languages:")
    for lang in report.get("languages", []):
        echo(f"  {lang['code']:<3} {lang['root']}  ({'; '.join(lang['evidence'])})")
    echo("The category in each language:")
    for section in report.get("sections", []):
        posts = f"{section['posts']} posts" if section.get("posts") is not None else "posts: ?"
        feed = section.get("feed") or {}
        feed_text = (f"feed {feed.get('status')}" + (f", {feed['items']} items" if "items" in feed else "")
                     if feed else "feed not asked")
        echo(f"  {section['language']:<3} {section['listing']}")
        echo(f"      {posts}; {feed_text}; found by: {'; '.join(section['evidence'])}")
    for code, why in report.get("missing", {}).items():
        echo(f"  {code:<3} none found: {why}")
    filters = report.get("rest_filters_language")
    echo(f"REST API: {report.get('rest')}" + (f"; ?lang= filters posts: {'yes' if filters else 'no'}"
                                             if filters is not None else ""))
    sitemap = report.get("sitemap") or {}
    if sitemap.get("url"):
        per_language = ", ".join(sitemap.get("per_language") or []) or "no"
        echo(f"Sitemap: {sitemap['flavour']} {sitemap['url']} ({sitemap['post_parts']} post parts of "
             f"{sitemap['parts']}; split by language: {per_language})")
    else:
        echo("Sitemap: none found")
    validators = report.get("page_validators") or {}
    if validators:
        sends = bool(validators.get("etag") or validators.get("last_modified"))
        echo(f"Single posts send validators: {'yes' if sends else 'no'} ({validators.get('url')})")
    robots = report.get("robots") or {}
    echo(f"robots.txt: {robots.get('status')}" + "".join(f"\n  {rule}" for rule in robots.get("rules", [])))
    sections = report.get("sections", [])
    echo(f"A crawl would archive {len(sections)} section(s): "
         + ", ".join(f"{s['language']} {s['listing']}" for s in sections) + f"  ({report.get('requests')} requests)")


COMMANDS = [probe]
