"""Bad input at the command line: exit 2 and one line, before anything is created; every
failure one line, never a traceback, output to a closed or full stdout included; --json
prints a JSON object on failure too. Real `kisi-archive` processes."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from scheduler.lock import crawl_lock, new_holder
from storage import Archive
from tests.conftest import BIN, Cli

USAGE, ERROR, BUSY = 2, 1, 4


def one_line_error(err: str) -> bool:
    return err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err


# Every command, with input it cannot take: (arguments, exit code, words the message must hold).
BAD_INPUT = [
    (["crawl", "--site", "not-a-url"], USAGE, "--site takes an http:// or https:// URL"),
    (["crawl", "--delay", "-1"], USAGE, "--delay takes a number of seconds from 0 to 3600, not '-1'"),
    (["crawl", "--delay", "nan"], USAGE, "--delay takes"),
    (["crawl", "--contact", "me\nX-Evil: 1"], USAGE, "--contact takes"),
    (["crawl", "--category", ""], USAGE, "--category takes a category slug"),
    (["crawl", "--wait", "--wait-timeout", "5"], USAGE, "--wait-timeout takes a duration with a unit"),
    (["crawl", "--wait", "--wait-timeout", "-5m"], USAGE, "--wait-timeout takes a duration"),
    (["crawl", "--log-format", "xml"], USAGE, "--log-format takes one of text, json"),
    (["crawl", "--frobnicate"], USAGE, "No such option '--frobnicate'"),
    (["demo", "--port", "99999"], USAGE, "--port"),
    (["list", "--since", "2025-00"], USAGE, "--since: date '2025-00': month must be in 1..12"),
    (["list", "--until", "2024-02-30"], USAGE, "--until: date '2024-02-30'"),
    (["list", "--limit", "99999999999999999999"], USAGE, "--limit"),
    (["list", "--offset", "-1"], USAGE, "--offset"),
    (["list", "--sort", "size"], USAGE, "--sort"),
    (["show"], USAGE, "Missing argument 'DOC'"),
    (["show", "x", "--version", "one"], USAGE, "--version"),
    (["history"], USAGE, "Missing argument"),
    (["diff", "x", "--context", "-1"], USAGE, "--context"),
    (["search"], USAGE, "Missing argument 'QUERY'"),
    (["search", "x", "--limit", "0"], USAGE, "--limit"),
    (["export", "--format", "xml"], USAGE, "--format"),
    (["export", "--json"], USAGE, "--out"),
    (["stats", "--since", "last year"], USAGE, "--since"),
    (["verify", "extra"], USAGE, "unexpected extra argument"),
    (["reindex", "--json", "extra"], USAGE, "unexpected extra argument"),
    (["serve", "--port", "70000"], USAGE, "--port takes a whole number from 0 to 65535"),
    (["serve", "--public-url", "archive.example.org"], USAGE, "--public-url takes an http:// or https:// URL"),
    (["daemon"], USAGE, "no schedule"),
    (["daemon", "--every", "6"], USAGE, "--every takes a duration with a unit, e.g. 30s, 15m, 6h"),
    (["daemon", "--every", "-6h"], USAGE, "--every takes a duration"),
    (["daemon", "--every", "6h", "--cron", "0 3 * * *"], USAGE, "not both"),
    (["daemon", "--cron", "0 3 * *"], USAGE, "expected 5 fields"),
    (["daemon", "--every", "6h", "--timezone", "Mars/Olympus"], USAGE, "--timezone takes a time zone name"),
    (["daemon", "--every", "6h", "--time-limit", "0s"], USAGE, "--time-limit takes"),
    (["daemon", "--every", "6h", "--jitter", "-1"], USAGE, "--jitter takes"),
    (["daemon", "--every", "6h", "--webhook", "ftp://example.org/"], USAGE, "--webhook takes"),
    (["runs", "--limit", "-1"], USAGE, "--limit"),
    (["status", "--max-age", "5"], USAGE, "--max-age takes a duration with a unit"),
    (["nosuchcommand"], USAGE, "No such command"),
    # A well-formed command on an archive that is not there: an error, not a usage error.
    (["list"], ERROR, "no such directory"),
    (["show", "kisi.kz-en-1"], ERROR, "no such directory"),
    (["status"], ERROR, "no such directory"),
    (["reindex"], ERROR, "no such directory"),
]


@pytest.mark.parametrize("args, code, words", BAD_INPUT, ids=[" ".join(a) for a, _, _ in BAD_INPUT])
def test_bad_input_is_one_line_and_creates_nothing(cli: Cli, args: list[str], code: int, words: str) -> None:
    result = cli(*args, check=False, timeout=30)
    assert result.code == code, result
    assert one_line_error(result.err), result.err
    assert words in result.err, result.err
    assert not cli.archive.exists(), f"{args} created {cli.archive}"


@pytest.mark.parametrize("variable, value, words", [
    ("KISI_DOWNLOAD_DELAY", "-1", "$KISI_DOWNLOAD_DELAY: download_delay takes a number of seconds"),
    ("KISI_EVERY", "6", "$KISI_EVERY: every takes a duration with a unit"),
    ("KISI_SITE", "kisi.kz", "$KISI_SITE: site takes an http:// or https:// URL"),
])
def test_bad_settings_in_the_environment_are_usage_errors(cli: Cli, variable: str, value: str, words: str) -> None:
    cli.env[variable] = value
    for command in (["crawl"], ["daemon", "--every", "1h"] if variable != "KISI_EVERY" else ["daemon"]):
        result = cli(*command, check=False, timeout=30)
        assert result.code == USAGE and one_line_error(result.err) and words in result.err, result
    assert not cli.archive.exists()


def test_a_config_file_typo_is_a_usage_error_so_systemd_does_not_restart(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "kisi.toml"
    for body, words in (("delay = 1\n", "unknown setting 'delay'"), ("download_delay = -1\n", "download_delay takes"),
                        ("every = 6h\n", "config file"), ('every = "6"\n', "every takes a duration with a unit")):
        config.write_text(body)
        result = cli("daemon", "--config", str(config), check=False, timeout=30)
        assert result.code == USAGE and one_line_error(result.err) and words in result.err, (body, result)
    unit = (Path(__file__).resolve().parent.parent / "deploy" / "kisi-archive.service").read_text()
    prevented = next(line for line in unit.splitlines() if line.startswith("RestartPreventExitStatus="))
    assert "2" in prevented.split("=", 1)[1].split()
    assert not cli.archive.exists()


def test_json_failures_are_json_objects(cli: Cli) -> None:
    usage = cli("crawl", "--delay", "-1", "--json", check=False)
    assert usage.code == USAGE and one_line_error(usage.err)
    assert usage.json() == {"outcome": "usage-error", "reason": usage.err[len("error: "):].strip(), "exit_code": 2}
    missing = cli("list", "--json", check=False)
    assert missing.code == ERROR and missing.json()["outcome"] == "failed" and "no such directory" in missing.json()["reason"]
    Archive.open(cli.archive, create=True).close()
    unknown = cli("show", "kisi.kz-en-1", "--json", check=False)
    assert unknown.code == ERROR and "no document matches" in unknown.json()["reason"]
    bad_query = cli("search", '"', "--json", check=False)
    assert bad_query.code == USAGE and "unterminated string" in bad_query.json()["reason"]
    assert "reindex" not in bad_query.err  # a typo is not the index's fault


def test_crawl_json_says_busy_when_another_crawl_holds_the_archive(cli: Cli) -> None:
    Archive.open(cli.archive, create=True).close()
    lock = crawl_lock(cli.archive)
    lock.acquire(new_holder("crawl", "2026-11-28T12:00:00+00:00", run_id="20261128T120000Z-3f2a", trigger="schedule"))
    try:
        busy = cli("crawl", "--site", "http://127.0.0.1:9/", "--json", check=False)
    finally:
        lock.release()
    assert busy.code == BUSY and one_line_error(busy.err) and "another crawl is writing" in busy.err
    record = busy.json()
    assert record["outcome"] == "busy" and "20261128T120000Z-3f2a" in record["reason"] and record["exit_code"] == 4
    assert record["holder"]["run_id"] == "20261128T120000Z-3f2a" and record["run_id"] is None


# -- output that cannot be written ---------------------------------------------------------
@pytest.fixture(scope="module")
def small_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.test_storage import capture

    root = tmp_path_factory.mktemp("full") / "archive"
    with Archive.open(root, create=True) as archive:
        for post_id in range(2300, 2340):
            archive.record_capture(capture(post_id=post_id, url=f"https://kisi.kz/en/post-{post_id}/",
                                           final_url=f"https://kisi.kz/en/post-{post_id}/",
                                           canonical_url=f"https://kisi.kz/en/post-{post_id}/"))
    return root


# One of each way of writing: click.echo of text and of JSON, a binary stream (export), help.
READERS = [["list"], ["history", "kisi.kz-en-2300"], ["search", "paragraph"], ["export"], ["stats", "--json"],
           ["--help"]]


def run(args: list[str], archive: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KISI_")}
    env["KISI_ARCHIVE_DIR"] = str(archive)
    return subprocess.run([str(BIN), *args], env=env, text=True, capture_output="stdout" not in kwargs, timeout=60,
                          **kwargs)  # type: ignore[call-overload]


@pytest.mark.parametrize("args", READERS, ids=" ".join)
def test_a_full_stdout_is_one_error_line(small_archive: Path, args: list[str]) -> None:
    with open("/dev/full", "w") as full:
        result = run(args, small_archive, stdout=full, stderr=subprocess.PIPE)
    assert result.returncode == ERROR, result.stderr
    assert result.stderr == "error: cannot write the output: No space left on device\n"


@pytest.mark.parametrize("args", READERS, ids=" ".join)
def test_a_closed_stdout_is_one_error_line(small_archive: Path, args: list[str]) -> None:
    result = run(args, small_archive, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                 preexec_fn=lambda: os.close(1))
    assert result.returncode == ERROR, result.stderr
    assert result.stderr == "error: cannot write the output: standard output is closed\n"


@pytest.mark.parametrize("args", READERS, ids=" ".join)
def test_a_reader_that_stops_early_is_not_an_error(small_archive: Path, args: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KISI_")}
    env["KISI_ARCHIVE_DIR"] = str(small_archive)
    command = " ".join(f"'{a}'" for a in [str(BIN), *args])
    result = subprocess.run(["bash", "-c", f"set -o pipefail; {command} | head -c 1 >/dev/null"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "error" not in result.stderr.lower() and "Traceback" not in result.stderr, result.stderr


def test_json_of_a_failure_goes_nowhere_when_stdout_is_full(small_archive: Path) -> None:
    with open("/dev/full", "w") as full:
        result = run(["show", "kisi.kz-en-1", "--json"], small_archive, stdout=full, stderr=subprocess.PIPE)
    # The JSON object could not be written; the line on stderr still says what failed.
    assert result.returncode == ERROR and result.stderr.count("\n") == 1 and "no document matches" in result.stderr
