"""The one declared configuration of kisi-archive.

Each setting is declared once below, with its default, help text and environment
variable. Precedence: defaults < config file (TOML) < environment < command-line flags.
This is the only module that reads the environment.
"""
from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage import __version__

from .durations import parse_interval

CONFIG_ENV = "KISI_CONFIG"
PROJECT_URL = "https://github.com/kisi-archive/kisi-archive"


@dataclass(frozen=True)
class Section:
    """One category of one language site: its listing (`url`/category/`category`/ unless
    `listing` names it) and that listing's feed."""

    url: str  # root of the (language) site, e.g. https://kisi.kz/en/
    category: str  # category slug, as in its URL (a Cyrillic one raw or percent-encoded)
    language: str | None = None  # the section's language, when known
    listing: str | None = None  # the first listing page, when discovery found it (e.g. ?lang=en)

    @property
    def listing_url(self) -> str:
        from .structure import listing_url

        return self.listing or listing_url(self.url, self.category)

    @property
    def label(self) -> str:
        return self.listing_url


# The built-in profile: kisi.kz's Events, in every language the site has. Only the English
# category is known from here (https://kisi.kz/en/category/events/); the crawler finds its
# Russian and Kazakh siblings on the site itself (crawler/explorer.py).
KISI_SITE = "https://kisi.kz/en/"
KISI_CATEGORY = "events"


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true/false, got {value!r}")


# -- what each setting accepts -------------------------------------------------------------
# A parser reads a value as it comes (a string from the environment or a flag, a TOML
# value, a Python value from the CLI's own option types) and returns the setting's value,
# or raises ValueError. `takes` says in words what it accepts: it is the error message.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?[smhdw])+")


@dataclass(frozen=True)
class Accepts:
    """A setting's parser: `takes` (what it accepts, in words) and the function that reads it."""

    takes: str
    read: Callable[[Any], Any]

    def __call__(self, value: Any) -> Any:
        try:
            return self.read(value)
        except (ValueError, TypeError, OverflowError, ArithmeticError):
            raise ValueError(f"takes {self.takes}, not {_shown(value)}") from None


def _shown(value: Any) -> str:
    text = str(value)
    return repr(text if len(text) <= 40 else text[:39] + "\u2026")


def _number(value: Any, whole: bool) -> float | int:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, str):
        text = value.strip()
        number: float | int = int(text) if whole and re.fullmatch(r"[+-]?\d+", text) else float(text)
    else:
        number = value
    if not isinstance(number, (int, float)) or not math.isfinite(number):
        raise ValueError("not a finite number")
    if whole:
        if number != int(number):
            raise ValueError("not a whole number")
        return int(number)
    return float(number)


def _workers(value: Any) -> int | str:
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    count = _number(value, whole=True)
    if count < 0 or count > 64:
        raise ValueError("out of range")
    return count


def extract_workers(value: int | str) -> int:
    """How many extraction worker processes a crawl starts: `auto` is one per CPU this
    process may use; 0 extracts on the crawl's own thread (for debugging)."""
    if value == "auto":
        from storage.workers import cpu_count  # the CPUs this process may run on (taskset, container)

        return cpu_count()
    return int(value)


def number(low: float, high: float, *, whole: bool = False, above: bool = False, unit: str = "") -> Accepts:
    """A number in [low, high] (or (low, high] with `above`)."""
    kind = "a whole number" if whole else "a number"
    lower = f"more than {low:.12g}" if above else f"{low:.12g}"
    takes = f"{kind}{' of ' + unit if unit else ''} from {lower} to {high:.12g}"

    def read(value: Any) -> float | int:
        result = _number(value, whole)
        if not (low < result if above else low <= result) or result > high:
            raise ValueError("out of range")
        return result

    return Accepts(takes, read)


def flag() -> Accepts:
    return Accepts("true or false (also yes/no, on/off, 1/0)", _bool)


def duration(*, empty: str | None = None, zero: bool = False) -> Accepts:
    """A duration with its unit (30s, 15m, 6h, 1d, 2w, 1h30m), kept as text for whoever reads it.

    A bare number is refused: "6" could mean six seconds or six hours. `zero` also takes
    0 (or 0s); `empty` says what '' means, when '' is allowed.
    """
    takes = "a duration with a unit, e.g. 30s, 15m, 6h, 1d, 1h30m"
    if zero:
        takes += ", or 0"
    if empty is not None:
        takes += f", or '' ({empty})"

    def read(value: Any) -> str:
        text = str(value).strip().lower().replace(" ", "") if isinstance(value, str) else None
        if text is None:
            raise ValueError("not text")
        if text == "" and empty is not None:
            return ""
        if zero and re.fullmatch(r"0+(?:\.0+)?[smhdw]?", text):
            return text
        if not _DURATION.fullmatch(text):
            raise ValueError("not a duration")
        parse_interval(text)  # longer than zero
        return text

    return Accepts(takes, read)


def seconds(low: float, high: float) -> Accepts:
    """Seconds as a number, or a duration with its unit (4h), read as seconds."""
    def read(value: Any) -> float:
        if isinstance(value, str) and _DURATION.fullmatch(value.strip().lower().replace(" ", "")):
            result = parse_interval(value).total_seconds()
        else:
            result = _number(value, whole=False)
        if not low < result <= high:
            raise ValueError("out of range")
        return float(result)

    return Accepts(f"a number of seconds from more than {low:.12g} to {high:.12g}, or a duration such as 90m or 4h", read)


def choice(*values: str, fold: Callable[[str], str] = str.lower) -> Accepts:
    def read(value: Any) -> str:
        folded = fold(str(value).strip())
        if folded not in values:
            raise ValueError("not a choice")
        return folded

    return Accepts("one of " + ", ".join(values), read)


def text(what: str, *, empty: bool = False) -> Accepts:
    """One line of text (no control characters: it may end up in an HTTP header)."""
    def read(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError("not text")
        result = value.strip()
        if (not result and not empty) or _CONTROL.search(result):
            raise ValueError("not one line of text")
        return result

    return Accepts(what + (" (or '' for none)" if empty else ""), read)


def web_url(*, empty: str | None = None) -> Accepts:
    """An http:// or https:// URL with a host."""
    def read(value: Any) -> str:
        result = str(value).strip()
        if result == "" and empty is not None:
            return ""
        if not isinstance(value, str) or _CONTROL.search(result) or " " in result:
            raise ValueError("not a URL")
        parts = urlsplit(result)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("not a web URL")
        parts.port  # a port that is not a number raises ValueError
        return result

    return Accepts("an http:// or https:// URL with a host, e.g. https://example.org/"
                   + (f", or '' ({empty})" if empty is not None else ""), read)


def _path(value: Any) -> Path:
    result = value if isinstance(value, Path) else Path(str(value).strip())
    if not str(value).strip() or "\x00" in str(value):
        raise ValueError("not a path")
    return result


def _zone(value: Any) -> str:
    name = str(value).strip()
    if name.upper() in ("UTC", "ETC/UTC", "Z"):
        return name
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("unknown time zone") from None
    return name


def _instant(value: Any) -> str:
    result = str(value).strip()
    if result:
        datetime.fromisoformat(result.replace("Z", "+00:00"))
    return result


def _slug(value: Any) -> str:
    result = str(value).strip().strip("/")
    if not isinstance(value, str) or not result or _CONTROL.search(result) or " " in result:
        raise ValueError("not a slug")
    return result


def _hosts(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, (list, tuple)) else str(value).split(",") if isinstance(value, str) else None
    if items is None:
        raise ValueError("not a list of hosts")
    hosts = []
    for item in items:
        host = str(item).strip().lower()
        if not host:
            continue
        if not re.fullmatch(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?", host) or ".." in host:
            raise ValueError("not a host name")
        hosts.append(host)
    return tuple(hosts)


PATH = Accepts("a directory path", _path)
HOSTS = Accepts("host names, comma-separated (or a TOML list), e.g. cdn.example.org, or ''", _hosts)
SITE_URL = web_url()
CATEGORY = Accepts("a category slug as it appears in the site's URLs, e.g. events", _slug)


@dataclass(frozen=True)
class Option:
    name: str
    help: str
    parse: Callable[[str], Any]
    env: str | None = None


@dataclass(frozen=True)
class Config:
    archive_dir: Path = Path("archive")
    site: str = KISI_SITE  # where discovery starts: a language root of the site
    category: str = KISI_CATEGORY  # the category to archive, by its slug in that language
    discover: bool = True  # find the category's siblings in the site's other languages
    sections: tuple[Section, ...] = ()  # pinned (config file): crawled as given, besides discovery
    contact: str = PROJECT_URL
    concurrency: int = 2
    download_delay: float = 1.0
    autothrottle: bool = True  # adapt the delay to the server's latency (Scrapy's AutoThrottle)
    autothrottle_target: float = 1.0
    timeout: float = 30.0
    retries: int = 2
    max_response_mb: int = 16
    warc: bool = True
    attachments: bool = True
    max_attachment_mb: int = 100
    attachment_hosts: tuple[str, ...] = ()  # besides the site's own: hosts attachments may come from
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
        values["attachment_hosts"] = tuple(values.get("attachment_hosts") or ())
        return cls(**values)

    @property
    def seed(self) -> Section:
        """The category discovery starts from (`site` and `category`)."""
        return Section(self.site if self.site.endswith("/") or "?" in self.site else self.site + "/", self.category)

    @property
    def user_agent(self) -> str:
        return f"kisi-archive/{__version__} (+{self.contact}; archiver of public event pages)"


DAY = 86400.0
OPTIONS: tuple[Option, ...] = (
    Option("archive_dir", "archive directory", PATH, "KISI_ARCHIVE_DIR"),
    Option("site", "a language root of the WordPress site to archive (discovery starts there)", SITE_URL,
           "KISI_SITE"),
    Option("category", "the category to archive, by its slug on `site`; its other languages are found", CATEGORY,
           "KISI_CATEGORY"),
    Option("discover", "find the category in every language of the site (false: only `site` and `sections`)",
           flag(), "KISI_DISCOVER"),
    Option("contact", "contact URL or e-mail sent in the User-Agent",
           text("a contact URL or e-mail address, on one line"), "KISI_CONTACT"),
    Option("concurrency", "concurrent requests to the site (at most 2 is polite)", number(1, 16, whole=True),
           "KISI_CONCURRENCY"),
    Option("download_delay", "seconds between requests to the site", number(0, 3600, unit="seconds"),
           "KISI_DOWNLOAD_DELAY"),
    Option("autothrottle", "adapt the delay to how fast the site answers (Scrapy's AutoThrottle; false: "
           "download_delay alone)", flag(), "KISI_AUTOTHROTTLE"),
    Option("autothrottle_target", "AutoThrottle target concurrency", number(0, 16, above=True),
           "KISI_AUTOTHROTTLE_TARGET"),
    Option("timeout", "seconds before a request times out", number(0, 3600, above=True, unit="seconds"),
           "KISI_TIMEOUT"),
    Option("retries", "retries of a transient failure", number(0, 20, whole=True), "KISI_RETRIES"),
    Option("max_response_mb", "largest response accepted, in MiB", number(1, 4096, whole=True, unit="MiB"),
           "KISI_MAX_RESPONSE_MB"),
    Option("warc", "write every HTTP exchange of a run to ARCHIVE/warc/<run>.warc.gz", flag(), "KISI_WARC"),
    Option("attachments", "fetch and keep the PDFs, documents and images a post links or embeds", flag(),
           "KISI_ATTACHMENTS"),
    Option("max_attachment_mb", "largest attachment kept, in MiB (a larger one is listed, not kept)",
           number(1, 4096, whole=True, unit="MiB"), "KISI_MAX_ATTACHMENT_MB"),
    Option("attachment_hosts", "hosts besides the site's own that attachments may be fetched from (a CDN of its uploads)",
           HOSTS, "KISI_ATTACHMENT_HOSTS"),
    Option("follow_translations", "also archive hreflang translations of event posts", flag(),
           "KISI_FOLLOW_TRANSLATIONS"),
    Option("max_listing_pages", "safety limit on category listing pages", number(1, 1_000_000, whole=True),
           "KISI_MAX_LISTING_PAGES"),
    Option("full", "re-fetch every post and walk every listing to the end", flag(), "KISI_FULL"),
    Option("recheck_min", "recheck interval of a brand-new post that no signal covers", duration(), "KISI_RECHECK_MIN"),
    Option("recheck_max", "longest recheck interval, for old posts", duration(), "KISI_RECHECK_MAX"),
    Option("recheck_factor", "recheck interval as a share of the post's age", number(0, 1, above=True),
           "KISI_RECHECK_FACTOR"),
    Option("sweep_every", "how often a run enumerates every source to find removals ('' = only with --full)",
           duration(empty="only with --full", zero=True), "KISI_SWEEP_EVERY"),
    Option("removal_grace", "a post missing this long is removed without waiting for a later run ('' = wait)",
           duration(empty="wait for a later run", zero=True), "KISI_REMOVAL_GRACE"),
    Option("retry_after_max", "longest Retry-After we wait, in seconds", number(0, DAY, unit="seconds"),
           "KISI_RETRY_AFTER_MAX"),
    Option("retry_backoff", "seconds before the first retry of a transient failure (doubles each time)",
           number(0, 3600, unit="seconds"), "KISI_RETRY_BACKOFF"),
    Option("now", "pretend the current time is this ISO 8601 instant (tests, replays)",
           Accepts("an ISO 8601 instant, e.g. 2026-01-31T12:00:00+00:00, or ''", _instant), "KISI_NOW"),
    Option("log_level", "log level of the crawl log", choice("DEBUG", "INFO", "WARNING", "ERROR", fold=str.upper),
           "KISI_LOG_LEVEL"),
    Option("extract_workers", "processes that extract pages while the crawl downloads (auto = one per CPU; "
           "0 = in the crawl process)", Accepts("auto, or a whole number of processes from 0 to 64", _workers),
           "KISI_EXTRACT_WORKERS"),
    Option("every", "daemon: run every interval (e.g. 6h, 30m)", duration(empty="no interval"), "KISI_EVERY"),
    Option("cron", "daemon: cron expression (minute hour day month weekday)",
           text("five crontab fields, e.g. '0 3 * * *'", empty=True), "KISI_CRON"),
    Option("timezone", "daemon: time zone of the cron expression",
           Accepts("a time zone name, e.g. UTC or Asia/Almaty", _zone), "KISI_TIMEZONE"),
    Option("jitter_seconds", "daemon: random delay added to each run", number(0, DAY, whole=True, unit="seconds"),
           "KISI_JITTER"),
    Option("run_now", "daemon: run once at start", flag(), "KISI_RUN_NOW"),
    Option("crawl_time_limit", "seconds a crawl may run before it is stopped", seconds(0, 30 * DAY),
           "KISI_CRAWL_TIME_LIMIT"),
    Option("misfire_grace_seconds", "daemon: how late a missed run may still start (a floor: never less than one period)",
           number(1, 365 * DAY, whole=True, unit="seconds"), "KISI_MISFIRE_GRACE"),
    Option("stale_after", "status: last success older than this is an alert (e.g. 2d)", duration(), "KISI_STALE_AFTER"),
    Option("log_format", "log lines on stderr (crawl, daemon): text or json", choice("text", "json"), "KISI_LOG_FORMAT"),
    Option("serve_host", "serve: address the web viewer listens on (loopback by default)",
           text("a host name or IP address"), "KISI_SERVE_HOST"),
    Option("serve_port", "serve: TCP port of the web viewer (0 = any free port)", number(0, 65535, whole=True),
           "KISI_SERVE_PORT"),
    Option("public_url", "the viewer's public base URL, for citations and the feed written after each run",
           web_url(empty="none"), "KISI_PUBLIC_URL"),
    Option("webhook", "URL to POST a JSON summary to after each run that changed something ('' = none)",
           web_url(empty="none"), "KISI_WEBHOOK"),
    Option("webhook_retries", "webhook: attempts after the first failed one (with exponential backoff)",
           number(0, 20, whole=True), "KISI_WEBHOOK_RETRIES"),
)
_OPTION_BY_NAME = {option.name: option for option in OPTIONS}


class ConfigError(ValueError):
    """A setting has a value that cannot be used; the message names it."""


def option(name: str) -> Option:
    """The declared setting `name` (KeyError when there is none)."""
    return _OPTION_BY_NAME[name]


def _coerce(name: str, value: Any, source: str) -> Any:
    declared = _OPTION_BY_NAME.get(name)
    if declared is None:
        raise ConfigError(f"{source}: unknown setting {name!r}")
    try:
        return declared.parse(value)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{source}: {name} {exc}" if isinstance(declared.parse, Accepts)
                          else f"{source}: {name}: {exc}") from None


def _check(parser: Accepts, value: Any, source: str) -> Any:
    try:
        return parser(value)
    except ValueError as exc:
        raise ConfigError(f"{source} {exc}") from None


def _section(data: Any, source: str) -> Section:
    if not isinstance(data, dict) or "url" not in data or "category" not in data:
        raise ConfigError(f"{source}: each section needs url and category")
    unknown = set(data) - {"url", "category", "language"}
    if unknown:
        raise ConfigError(f"{source}: unknown key {sorted(unknown)[0]!r} in a section (url, category, language)")
    url = _check(SITE_URL, data["url"], f"{source}: url")
    language = data.get("language")
    if language is not None and not (isinstance(language, str) and re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]+)*", language)):
        raise ConfigError(f"{source}: language takes a language code such as en, ru or kk, not {_shown(language)}")
    return Section(url if url.endswith("/") else url + "/", _check(CATEGORY, data["category"], f"{source}: category"),
                   language)


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
            if not isinstance(value, list) or not value:
                raise ConfigError(f"{path}: sections takes a list of [[sections]] tables, each with url and category")
            values["sections"] = tuple(_section(section, f"{path}: sections") for section in value)
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
    file_path = config_file or env.get(CONFIG_ENV)
    from_file = read_file(Path(file_path)) if file_path else {}
    if from_file.get("sections") and "site" not in from_file:
        # A file that pins sections and names no site starts discovery from the first one.
        from_file.setdefault("site", from_file["sections"][0].url)
        from_file.setdefault("category", from_file["sections"][0].category)
    values: dict[str, Any] = dict(from_file)
    for option in OPTIONS:
        if option.env and env.get(option.env) not in (None, ""):
            values[option.name] = _coerce(option.name, env[option.env], f"${option.env}")
    for key, value in (flags or {}).items():
        if value is not None:
            values[key] = _coerce(key, value, f"--{key.replace('_', '-')}")
    if values.get("sections") and (values.get("site"), values.get("category")) != (from_file.get("site"),
                                                                                    from_file.get("category")):
        values["sections"] = ()  # pointed at another site or category: the file's pins were for its own
    return Config(**values)
