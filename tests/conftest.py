"""Shared fixtures: the fixture WordPress site as a real server, and the real `kisi-archive` command."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

from scheduler.demo_site import SiteProcess, default_state

BIN = Path(sys.executable).parent / "kisi-archive"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[SiteProcess]:
    """A fresh fixture site (the seeded state) served on 127.0.0.1 for one test."""
    state = tmp_path / "site.json"
    default_state().save(state)
    with SiteProcess(state, tmp_path / "requests.log") as process:
        yield process


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@dataclass
class Cli:
    """Runs the installed `kisi-archive` command with an archive of the test's own."""

    archive: Path
    env: dict[str, str]

    def __call__(self, *args: str, check: bool = True, timeout: float = 120) -> Result:
        command = [str(BIN)] if BIN.exists() else [sys.executable, "-m", "scheduler.cli"]
        proc = subprocess.run([*command, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        result = Result(proc.returncode, proc.stdout, proc.stderr)
        if check and proc.returncode != 0:
            raise AssertionError(f"kisi-archive {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return result

    def crawl(self, site: SiteProcess, *extra: str, path: str = "/en/", category: str = "events",
              check: bool = True) -> Result:
        return self("crawl", "--site", site.url + path, "--category", category, "--json", *extra, check=check)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KISI_")}
    env.update(KISI_ARCHIVE_DIR=str(tmp_path / "archive"), KISI_DOWNLOAD_DELAY="0", KISI_TIMEOUT="10", KISI_RETRY_BACKOFF="0.05",
               KISI_CONTACT="https://example.org/kisi-archive-tests")
    return Cli(tmp_path / "archive", env)

