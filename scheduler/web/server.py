"""Running the viewer: bind the socket first (a busy port is one clear sentence), then uvicorn.

`serve` runs it in the foreground; `daemon --serve` runs it in a thread beside the
schedule (scheduler/daemon.py). uvicorn installs its own signal handlers only in the main
thread, so in the daemon's thread the daemon's own handlers stay in charge and stop it
through `ViewerServer.stop()`.
"""
from __future__ import annotations

import errno
import ipaddress
import logging
import socket
import threading
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)


class BindError(OSError):
    """The viewer cannot listen where it was asked to (the message says why)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: any free port)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise BindError(f"cannot listen on {host!r}: {exc.strerror}") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        reason = "the port is already in use (another server? choose --port)" if exc.errno == errno.EADDRINUSE \
            else exc.strerror
        raise BindError(f"cannot listen on {host}:{port}: {reason}") from None
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def _server_class() -> Any:
    import contextlib

    import uvicorn

    class QuietExitServer(uvicorn.Server):  # type: ignore[misc]
        """Stops on SIGINT/SIGTERM as uvicorn does, then returns instead of re-raising the
        signal (uvicorn's default), so `serve` stopped by systemd or Ctrl-C exits 0."""

        @contextlib.contextmanager
        def capture_signals(self) -> Any:
            with super().capture_signals():
                yield
                captured = getattr(self, "_captured_signals", None)
                if isinstance(captured, list):
                    captured.clear()

    return QuietExitServer


@dataclass
class ViewerServer:
    """uvicorn serving `app` on an already bound socket."""

    app: Any
    sock: socket.socket
    access_log: bool = True

    def __post_init__(self) -> None:
        import uvicorn

        _Server = _server_class()
        # log_config=None: keep the caller's logging (the daemon's text or JSON lines).
        config = uvicorn.Config(self.app, log_config=None, access_log=self.access_log, lifespan="off",
                                timeout_graceful_shutdown=5, server_header=False)
        self._server = _Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return url_of(self.sock)

    def run(self) -> None:
        """Serve until SIGINT/SIGTERM (main thread) or stop()."""
        self._server.run(sockets=[self.sock])

    def start_thread(self) -> None:
        self._thread = threading.Thread(target=self.run, name="viewer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self.sock.close()
