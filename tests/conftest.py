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



# -- the web viewer's archive: built once per session -------------------------------------
EDITED, RENAMED, REMOVED, SCRIPTED = 2357, 2368, 2304, 2412
# An editor's "Custom HTML" block (WordPress lets administrators post scripts): the archived
# raw page carries it, and the viewer must never run it.
SCRIPT_BLOCK = ('<p>Registration is open.</p><script>document.documentElement.setAttribute("data-pwned", "1");'
                'document.title = "pwned";</script>')


def make_cli(root: Path) -> Cli:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KISI_")}
    env.update(KISI_ARCHIVE_DIR=str(root / "archive"), KISI_DOWNLOAD_DELAY="0", KISI_TIMEOUT="10",
               KISI_RETRY_BACKOFF="0.05", KISI_CONTACT="https://example.org/kisi-archive-tests")
    return Cli(root / "archive", env)


@dataclass
class WebArchive:
    """A crawled archive with history: an edited post (v2), a renamed one (v2, two URLs),
    a removed one (tombstone v2), and a post whose raw page carries a script."""

    site: SiteProcess
    cli: Cli
    host: str  # the site part of doc ids ("127.0.0.1")

    def doc(self, post_id: int, lang: str = "en") -> str:
        return f"{self.host}-{lang}-{post_id}"


@pytest.fixture(scope="session")
def web_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebArchive]:
    from scheduler.cli_crawl import demo_edits

    root = tmp_path_factory.mktemp("web")
    state = root / "site.json"
    default_state().save(state)
    with SiteProcess(state, root / "requests.log") as site:
        cli = make_cli(root)
        cli.crawl(site)
        with site.modify() as st:
            demo_edits(st)  # what `demo --serve` does: EDITED gets a new title, text and tag; RENAMED a new slug
            st.edit(SCRIPTED, content_html=st.post(SCRIPTED).content_html + SCRIPT_BLOCK)
        cli.crawl(site)
        with site.modify() as st:
            st.trash(REMOVED)
        cli.crawl(site, "--full")
        cli.crawl(site)
        yield WebArchive(site, cli, "127.0.0.1")


@dataclass
class Served:
    """A running `kisi-archive serve` process and a small HTTP client for it (no redirects followed)."""

    process: subprocess.Popen[str]
    url: str  # http://127.0.0.1:PORT (no trailing slash)
    stderr: list[str]
    reader: Any = None  # the thread that keeps reading stderr

    def get(self, path: str, headers: dict[str, str] | None = None, method: str = "GET") -> "Reply":
        import http.client
        from urllib.parse import urlsplit

        parts = urlsplit(self.url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            conn.request(method, path, headers=headers or {})
            response = conn.getresponse()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            conn.close()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)


def start_server(command: list[str], env: dict[str, str], marker: str = " at http", timeout: float = 30) -> Served:
    """Start a viewer process and wait for the line announcing its URL; stderr is kept."""
    import re
    import select
    import threading
    import time

    process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, bufsize=1)
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    url = None
    while url is None:
        if process.poll() is not None:
            rest = process.stderr.read() if process.stderr else ""
            raise AssertionError(f"{command} exited {process.returncode}:\n{''.join(lines)}{rest}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"{command}: no URL announced within {timeout} s:\n{''.join(lines)}")
        ready, _, _ = select.select([process.stderr], [], [], 0.2)
        if ready:
            line = process.stderr.readline()  # type: ignore[union-attr]
            lines.append(line)
            found = re.search(r"http://([\d.]+):(\d+)/", line) if marker in line else None
            # A server on every interface (0.0.0.0) is reached on loopback.
            url = f"http://127.0.0.1:{found.group(2)}" if found else None

    def drain() -> None:  # keep reading, so a chatty server never blocks on a full pipe
        for line in process.stderr:  # type: ignore[union-attr]
            lines.append(line)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    return Served(process, url, lines, reader)


def stop_server(served: Served) -> int:
    served.process.terminate()
    try:
        code = served.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        served.process.kill()
        code = served.process.wait()
    served.reader.join(5)  # it ends at the pipe's end of file
    if served.process.stderr:
        served.process.stderr.close()
    return code


@pytest.fixture(scope="session")
def viewer(web_archive: WebArchive) -> Iterator[Served]:
    command = [str(BIN)] if BIN.exists() else [sys.executable, "-m", "scheduler.cli"]
    served = start_server([*command, "serve", "--port", "0", "--no-access-log"], web_archive.cli.env)
    yield served
    stop_server(served)
