"""The one declared configuration: precedence, errors that name the setting, docs that match."""
from __future__ import annotations

from pathlib import Path

import pytest

from crawler.config import OPTIONS, Config, ConfigError, Section, load_config

DOCS = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


def test_precedence_defaults_file_environment_flags(tmp_path: Path) -> None:
    assert load_config(environ={}).concurrency == 2
    config_file = tmp_path / "kisi.toml"
    config_file.write_text('concurrency = 1\ntimeout = 5\narchive_dir = "data"\n'
                           '[[sections]]\nurl = "https://example.org/"\ncategory = "news"\n')
    from_file = load_config(config_file, environ={})
    assert (from_file.concurrency, from_file.timeout) == (1, 5.0)
    assert from_file.archive_dir == tmp_path / "data"  # relative to the file
    assert from_file.sections == (Section("https://example.org/", "news"),)
    assert (from_file.site, from_file.category) == ("https://example.org/", "news")  # discovery starts there
    from_env = load_config(config_file, environ={"KISI_TIMEOUT": "7"})
    assert (from_env.concurrency, from_env.timeout) == (1, 7.0)
    from_flags = load_config(config_file, flags={"timeout": 9, "site": "https://other.org/en", "category": "events"},
                             environ={"KISI_TIMEOUT": "7"})
    assert from_flags.timeout == 9
    assert from_flags.seed == Section("https://other.org/en/", "events") and from_flags.sections == ()


def test_the_built_in_profile_names_no_slug_but_the_english_one() -> None:
    config = load_config(environ={})
    assert config.seed == Section("https://kisi.kz/en/", "events") and config.discover and config.sections == ()


def test_config_file_from_environment(tmp_path: Path) -> None:
    config_file = tmp_path / "kisi.toml"
    config_file.write_text("retries = 5\n")
    assert load_config(environ={"KISI_CONFIG": str(config_file)}).retries == 5


def test_errors_name_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="KISI_CONCURRENCY"):
        load_config(environ={"KISI_CONCURRENCY": "two"})
    bad = tmp_path / "bad.toml"
    bad.write_text("colour = 'blue'\n")
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load_config(bad, environ={})
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml", environ={})


def test_round_trip_through_json() -> None:
    config = load_config(flags={"site": "https://x.org/", "category": "c", "full": True}, environ={})
    assert Config.from_json(config.to_json()) == config


def test_user_agent_names_the_project_and_a_contact() -> None:
    agent = load_config(environ={"KISI_CONTACT": "mailto:me@example.org"}).user_agent
    assert agent.startswith("kisi-archive/") and "mailto:me@example.org" in agent


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text("utf-8")
    for option in OPTIONS:
        assert f"`{option.name}`" in text, option.name
        assert option.env is None or f"`{option.env}`" in text, option.env


# -- every setting says what it takes, and refuses anything else ---------------------------
@pytest.mark.parametrize("env, value", [
    ({"KISI_DOWNLOAD_DELAY": "-1"}, "download_delay takes a number of seconds from 0 to 3600, not '-1'"),
    ({"KISI_DOWNLOAD_DELAY": "nan"}, "download_delay takes"),
    ({"KISI_TIMEOUT": "0"}, "timeout takes a number of seconds from more than 0"),
    ({"KISI_TIMEOUT": "1e400"}, "timeout takes"),
    ({"KISI_CONCURRENCY": "99999999999999999999"}, "concurrency takes a whole number from 1 to 16"),
    ({"KISI_CONCURRENCY": "1.5"}, "concurrency takes a whole number"),
    ({"KISI_RETRIES": "-1"}, "retries takes"),
    ({"KISI_EVERY": "6"}, "every takes a duration with a unit"),
    ({"KISI_EVERY": "-1h"}, "every takes a duration with a unit"),
    ({"KISI_STALE_AFTER": "2 days"}, "stale_after takes a duration"),
    ({"KISI_RECHECK_MIN": "0"}, "recheck_min takes"),
    ({"KISI_CRAWL_TIME_LIMIT": "0"}, "crawl_time_limit takes"),
    ({"KISI_TIMEZONE": "Mars/Olympus"}, "timezone takes a time zone name"),
    ({"KISI_NOW": "2026-13-01"}, "now takes an ISO 8601 instant"),
    ({"KISI_FULL": "maybe"}, "full takes true or false"),
    ({"KISI_LOG_FORMAT": "xml"}, "log_format takes one of text, json"),
    ({"KISI_LOG_LEVEL": "LOUD"}, "log_level takes one of"),
    ({"KISI_CONTACT": "me@example.org\r\nX-Injected: 1"}, "contact takes a contact URL or e-mail address, on one line"),
    ({"KISI_WEBHOOK": "ftp://example.org/"}, "webhook takes an http:// or https:// URL"),
    ({"KISI_SERVE_PORT": "65536"}, "serve_port takes a whole number from 0 to 65535"),
    ({"KISI_SITE": "not-a-url"}, "site takes an http:// or https:// URL with a host"),
    ({"KISI_SITE": "https://example.org:port/"}, "site takes"),
    ({"KISI_DISCOVER": "perhaps"}, "discover takes true or false"),
])
def test_bad_values_name_the_setting_and_what_it_takes(env: dict[str, str], value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(environ=env)
    message = str(caught.value)
    assert message.startswith("$" + next(iter(env))) and value in message


@pytest.mark.parametrize("env, name, expected", [
    ({"KISI_DOWNLOAD_DELAY": "0"}, "download_delay", 0.0),
    ({"KISI_CRAWL_TIME_LIMIT": "90"}, "crawl_time_limit", 90.0),  # documented in seconds
    ({"KISI_CRAWL_TIME_LIMIT": "2h"}, "crawl_time_limit", 7200.0),
    ({"KISI_REMOVAL_GRACE": "0s"}, "removal_grace", "0s"),
    ({"KISI_SWEEP_EVERY": "12h"}, "sweep_every", "12h"),
    ({"KISI_LOG_LEVEL": "debug"}, "log_level", "DEBUG"),
    ({"KISI_FULL": "yes"}, "full", True),
    ({"KISI_TIMEZONE": "Asia/Almaty"}, "timezone", "Asia/Almaty"),
    ({"KISI_NOW": "2026-01-31T12:00:00Z"}, "now", "2026-01-31T12:00:00Z"),
])
def test_good_values_are_read(env: dict[str, str], name: str, expected: object) -> None:
    assert getattr(load_config(environ=env), name) == expected


def test_autothrottle_is_on_by_default_and_can_be_switched_off() -> None:
    from crawler.scrapy_settings import build

    assert build(load_config(environ={}))["AUTOTHROTTLE_ENABLED"] is True
    assert build(load_config(environ={"KISI_AUTOTHROTTLE": "off"}))["AUTOTHROTTLE_ENABLED"] is False


def test_file_values_are_checked_too(tmp_path: Path) -> None:
    config_file = tmp_path / "kisi.toml"
    for body, message in (("concurrency = 0\n", "concurrency takes a whole number from 1 to 16, not '0'"),
                          ("full = 3\n", "full takes true or false"),
                          ("timeout = true\n", "timeout takes"),
                          ('[[sections]]\nurl = "example.org"\ncategory = "news"\n', "url takes an http://"),
                          ('[[sections]]\nurl = "https://example.org/"\n', "each section needs url and category"),
                          ('[[sections]]\nurl = "https://example.org/"\ncategory = "news"\nlang = "en"\n',
                           "unknown key 'lang'")):
        config_file.write_text(body)
        with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
            load_config(config_file, environ={})


def test_what_each_setting_takes_is_documented() -> None:
    from crawler.config import Accepts

    text = " ".join(DOCS.read_text("utf-8").split())
    for option in OPTIONS:
        assert isinstance(option.parse, Accepts), option.name
        assert f"| `{option.name}` | {option.parse.takes} |" in text, option.name
