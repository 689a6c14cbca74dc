"""The one declared configuration of kisi-archive.

Each setting is declared once below, with its default, help text and environment
variable. Precedence: defaults < config file (TOML) < environment < command-line flags.
This is the only module that reads the environment.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Callable, Mapping

from storage import __version__

CONFIG_ENV = "KISI_CONFIG"
PROJECT_URL = "https://github.com/kisi-archive/kisi-archive"


@dataclass(frozen=True)
class Section:
    """One category to archive: a listing at `url`/category/`category`/ and its feed."""

    url: str  # base URL of the (language) site, e.g. https://kisi.kz/en/
    category: str  # category slug, e.g. events
    language: str | None = None  # expected language, when the site does not say

    @property
    def label(self) -> str:
        return f"{self.url.rstrip('/')}/category/{self.category}/"


# The built-in profile: kisi.kz's English Events category. Russian and Kazakh event posts
# are reached from it through their hreflang translation links; Russian- or Kazakh-only
# categories can be added as further sections in a config file.
KISI_SECTIONS: tuple[Section, ...] = (Section("https://kisi.kz/en/", "events", "en"),)


def _workers(value: str) -> int | str:
    text = value.strip().lower()
    if text == "auto":
        return "auto"
    count = int(text)
    if count < 0:
        raise ValueError(f"expected auto or a number of workers (0 or more), got {value!r}")
    return count


def extract_workers(value: int | str) -> int:
    """How many extraction worker processes a crawl starts: `auto` is one per CPU this
    process may use; 0 extracts on the crawl's own thread (for debugging)."""
    if value == "auto":
        from storage.workers import cpu_count  # the CPUs this process may run on (taskset, container)

        return cpu_count()
    count = int(value)
    if count < 0:
        raise ConfigError(f"extract_workers: expected auto or a number of workers (0 or more), got {value!r}")
    return count


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true/false, got {value!r}")


@dataclass(frozen=True)
class Option:
    name: str
    help: str
    parse: Callable[[str], Any]
    env: str | None = None


@dataclass(frozen=True)
class Config:
    archive_dir: Path = Path("archive")
    sections: tuple[Section, ...] = KISI_SECTIONS
    contact: str = PROJECT_URL
    concurrency: int = 2
    download_delay: float = 1.0
    autothrottle_target: float = 1.0
    timeout: float = 30.0
    retries: int = 2
    max_response_mb: int = 16
    follow_translations: bool = True
    max_listing_pages: int = 500
    full: bool = False
    recheck_min: str = "1d"
    recheck_max: str = "60d"
    recheck_factor: float = 0.1
    sweep_every: str = "1d"
    removal_grace: str = ""
    retry_after_max: float = 300.0
    retry_backoff: float = 2.0
    now: str = ""
    log_level: str = "INFO"
    extract_workers: int | str = "auto"
    # Daemon (scheduler) settings
    every: str | None = None
    cron: str | None = None
    timezone: str = "UTC"
    jitter_seconds: int = 60
    run_now: bool = False
    crawl_time_limit: float = 4 * 3600.0
    misfire_grace_seconds: int = 3600
    stale_after: str = "2d"
    log_format: str = "text"
    # Web viewer (serve, daemon --serve) and what is published after every run
    serve_host: str = "127.0.0.1"
    serve_port: int = 8000
    public_url: str = ""
    webhook: str = ""
    webhook_retries: int = 5

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["archive_dir"] = str(self.archive_dir)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Config:
        values = dict(data)
        values["archive_dir"] = Path(values["archive_dir"])
        values["sections"] = tuple(Section(**s) for s in values["sections"])
        return cls(**values)

    def with_site(self, site: str | None, category: str | None) -> Config:
        """Point the crawl at one WordPress site and category (the --site/--category flags)."""
        if not site and not category:
            return self
        base = site or self.sections[0].url
        slug = category or "events"
        return replace(self, sections=(Section(base if base.endswith("/") else base + "/", slug),))

    @property
    def user_agent(self) -> str:
        return f"kisi-archive/{__version__} (+{self.contact}; archiver of public event pages)"


OPTIONS: tuple[Option, ...] = (
    Option("archive_dir", "archive directory", Path, "KISI_ARCHIVE_DIR"),
    Option("contact", "contact URL or e-mail sent in the User-Agent", str, "KISI_CONTACT"),
    Option("concurrency", "concurrent requests to the site (at most 2 is polite)", int, "KISI_CONCURRENCY"),
    Option("download_delay", "seconds between requests to the site", float, "KISI_DOWNLOAD_DELAY"),
    Option("autothrottle_target", "AutoThrottle target concurrency", float, "KISI_AUTOTHROTTLE_TARGET"),
    Option("timeout", "seconds before a request times out", float, "KISI_TIMEOUT"),
    Option("retries", "retries of a transient failure", int, "KISI_RETRIES"),
    Option("max_response_mb", "largest response accepted, in MiB", int, "KISI_MAX_RESPONSE_MB"),
    Option("follow_translations", "also archive hreflang translations of event posts", _bool, "KISI_FOLLOW_TRANSLATIONS"),
    Option("max_listing_pages", "safety limit on category listing pages", int, "KISI_MAX_LISTING_PAGES"),
    Option("full", "re-fetch every post and walk every listing to the end", _bool, "KISI_FULL"),
    Option("recheck_min", "recheck interval of a brand-new post that no signal covers", str, "KISI_RECHECK_MIN"),
    Option("recheck_max", "longest recheck interval, for old posts", str, "KISI_RECHECK_MAX"),
    Option("recheck_factor", "recheck interval as a share of the post's age", float, "KISI_RECHECK_FACTOR"),
    Option("sweep_every", "how often a run enumerates every source to find removals ('' = only with --full)",
           str, "KISI_SWEEP_EVERY"),
    Option("removal_grace", "a post missing this long is removed without waiting for a later run ('' = wait)",
           str, "KISI_REMOVAL_GRACE"),
    Option("retry_after_max", "longest Retry-After we wait, in seconds", float, "KISI_RETRY_AFTER_MAX"),
    Option("retry_backoff", "seconds before the first retry of a transient failure (doubles each time)", float,
           "KISI_RETRY_BACKOFF"),
    Option("now", "pretend the current time is this ISO 8601 instant (tests, replays)", str, "KISI_NOW"),
    Option("log_level", "log level of the crawl log", str, "KISI_LOG_LEVEL"),
    Option("extract_workers", "processes that extract pages while the crawl downloads (auto = one per CPU; "
           "0 = in the crawl process)", _workers, "KISI_EXTRACT_WORKERS"),
    Option("every", "daemon: run every interval (e.g. 6h, 30m)", str, "KISI_EVERY"),
    Option("cron", "daemon: cron expression (minute hour day month weekday)", str, "KISI_CRON"),
    Option("timezone", "daemon: time zone of the cron expression", str, "KISI_TIMEZONE"),
    Option("jitter_seconds", "daemon: random delay added to each run", int, "KISI_JITTER"),
    Option("run_now", "daemon: run once at start", _bool, "KISI_RUN_NOW"),
    Option("crawl_time_limit", "seconds a crawl may run before it is stopped", float, "KISI_CRAWL_TIME_LIMIT"),
    Option("misfire_grace_seconds", "daemon: how late a missed run may still start (a floor: never less than one period)",
           int, "KISI_MISFIRE_GRACE"),
    Option("stale_after", "status: last success older than this is an alert (e.g. 2d)", str, "KISI_STALE_AFTER"),
    Option("log_format", "daemon log format: text or json", str, "KISI_LOG_FORMAT"),
    Option("serve_host", "serve: address the web viewer listens on (loopback by default)", str, "KISI_SERVE_HOST"),
    Option("serve_port", "serve: TCP port of the web viewer (0 = any free port)", int, "KISI_SERVE_PORT"),
    Option("public_url", "the viewer's public base URL, for citations and the feed written after each run",
           str, "KISI_PUBLIC_URL"),
    Option("webhook", "URL to POST a JSON summary to after each run that changed something ('' = none)",
           str, "KISI_WEBHOOK"),
    Option("webhook_retries", "webhook: attempts after the first failed one (with exponential backoff)", int,
           "KISI_WEBHOOK_RETRIES"),
)
_OPTION_BY_NAME = {option.name: option for option in OPTIONS}


class ConfigError(ValueError):
    """A setting has a value that cannot be used; the message names it."""


def _coerce(name: str, value: Any, source: str) -> Any:
    option = _OPTION_BY_NAME.get(name)
    if option is None:
        raise ConfigError(f"{source}: unknown setting {name!r}")
    if isinstance(value, str) or option.parse in (Path,):
        try:
            return option.parse(str(value)) if not isinstance(value, bool) else value
        except ValueError as exc:
            raise ConfigError(f"{source}: {name}: {exc}") from exc
    return value


def read_file(path: Path) -> dict[str, Any]:
    """Read a TOML config file into setting values (relative archive_dir is relative to the file)."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: {exc}") from exc
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key == "sections":
            try:
                values["sections"] = tuple(Section(**section) for section in value)
            except TypeError as exc:
                raise ConfigError(f"{path}: sections: each needs url and category ({exc})") from exc
            continue
        values[key] = _coerce(key, value, str(path))
    if "archive_dir" in values and not Path(values["archive_dir"]).is_absolute():
        values["archive_dir"] = path.parent / values["archive_dir"]
    return values


def load_config(
    config_file: str | os.PathLike[str] | None = None,
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Resolve the configuration: defaults < file < environment < flags (None flags are ignored)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    file_path = config_file or env.get(CONFIG_ENV)
    if file_path:
        values.update(read_file(Path(file_path)))
    for option in OPTIONS:
        if option.env and env.get(option.env) not in (None, ""):
            values[option.name] = _coerce(option.name, env[option.env], f"${option.env}")
    site = category = None
    for key, value in (flags or {}).items():
        if value is None:
            continue
        if key == "site":
            site = value
        elif key == "category":
            category = value
        else:
            values[key] = _coerce(key, value, f"--{key.replace('_', '-')}")
    site = site or env.get("KISI_SITE") or None
    category = category or env.get("KISI_CATEGORY") or None
    config = Config(**values)
    return config.with_site(site, category)
