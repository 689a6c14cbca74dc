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
