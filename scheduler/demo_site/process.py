"""Run the demo site in a child process (the Scrapy mock-server pattern), for tests and `demo`.

    with SiteProcess(tmp / "site.json", tmp / "requests.jsonl") as site:
        urlopen(site.url + "/en/feed/")
        with site.modify() as state:
            state.publish(Post(lang="en", title="New event", content_html="<p>…</p>", categories=["events"]))
        site.stop(); site.start()  # down and back up on the same port
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Iterator

from .seed import default_state
from .state import SiteState

# The directory that contains the `scheduler` package, so the child imports this same code
# whether or not the project is installed.
_IMPORT_ROOT = Path(__file__).resolve().parents[2]


class SiteStartError(RuntimeError):
    """The server did not print its READY line in time; carries its stderr."""


class SiteProcess:
    def __init__(
        self,
        state_path: str | os.PathLike[str],
        log_path: str | os.PathLike[str],
        port: int = 0,
        host: str = "127.0.0.1",
        startup_timeout: float = 15.0,
    ) -> None:
        self.state_path = Path(state_path)
        self.log_path = Path(log_path)
        self.host = host
        self.startup_timeout = startup_timeout
        self._port = port
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None

    # ----- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> SiteProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("the demo site has not been started yet")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SiteProcess:
        """Start the server (seeding the state file if missing); after a stop, on the same port."""
        if self.running:
            return self
        if not self.state_path.exists():
            default_state().save(self.state_path)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_IMPORT_ROOT), env.get("PYTHONPATH")]))
        # stderr goes to a file, not a pipe: nobody drains a pipe while the site runs.
        self._stderr = tempfile.TemporaryFile()
        cmd = [
            sys.executable, "-m", "scheduler.demo_site.server",
            "--state", str(self.state_path), "--log", str(self.log_path),
            "--host", self.host, "--port", str(self._port),
        ]
        self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._stderr, env=env)
        try:
            line = self._read_ready_line()
        except BaseException:
            self.stop()
            raise
        self._port = int(line.rsplit(":", 1)[1])
        return self

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def _stderr_text(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def _read_ready_line(self) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        deadline = time.monotonic() + self.startup_timeout
        buf = b""
        while b"\n" not in buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SiteStartError(
                    f"demo site did not print READY within {self.startup_timeout:.0f}s; stderr:\n{self._stderr_text()}"
                )
            ready, _, _ = select.select([fd], [], [], min(remaining, 0.5))
            if not ready:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                self._proc.wait(timeout=5)
                raise SiteStartError(
                    f"demo site exited with code {self._proc.returncode} before READY; stderr:\n{self._stderr_text()}"
                )
            buf += chunk
        line = buf.split(b"\n", 1)[0].decode("ascii", "replace").strip()
        if not line.startswith("READY http://"):
            raise SiteStartError(f"unexpected first line from the demo site: {line!r}")
        return line

    # ----- observation and control ------------------------------------------------------------

    def requests(self) -> list[dict[str, Any]]:
        """Every logged request since the last clear, oldest first."""
        try:
            with open(self.log_path, encoding="utf-8") as fh:
                return [json.loads(line) for line in fh if line.strip()]
        except FileNotFoundError:
            return []

    def clear_requests(self) -> None:
        # Truncate rather than delete: the server appends with O_APPEND and keeps going.
        with open(self.log_path, "w", encoding="utf-8"):
            pass

    def state(self) -> SiteState:
        return SiteState.load(self.state_path)

    @contextlib.contextmanager
    def modify(self) -> Iterator[SiteState]:
        """Mutate the live site: load, yield, save, under the lock the server uses for faults."""
        with SiteState.modify(self.state_path) as state:
            yield state
