"""The demo site's HTTP server: re-reads the state file per request and logs every request.

Run:  python -m scheduler.demo_site.server --state site.json --log requests.jsonl
      python -m scheduler.demo_site.server --init site.json     (write the seeded site)
After binding it prints exactly `READY http://HOST:PORT` on stdout and nothing else there.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import secrets
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType

from . import hostile
from .hostile import SocketFault
from .pages import Context
from .render import Request, fault_response
from .response import Response
from .seed import default_state
from .state import Fault, SiteState, match_path, state_lock

logger = logging.getLogger(__name__)


class DemoServer(ThreadingHTTPServer):
    daemon_threads = True  # a slow or keep-alive connection must not hold up shutdown
    allow_reuse_address = True  # restart on the same port while old sockets sit in TIME_WAIT

    def __init__(self, address: tuple[str, int], state_path: Path, log_path: Path | None) -> None:
        super().__init__(address, DemoHandler)
        self.state_path = state_path
        self.log_path = log_path
        self.root = f"http://{address[0]}:{self.server_address[1]}"
        self._log_lock = threading.Lock()
        self._fault_lock = threading.Lock()
        # The views counter only has to differ between requests, like a real hit counter.
        self._views = itertools.count(1000 + secrets.randbelow(9000))

    def load_state(self) -> SiteState:
        """The site as it is now: the state file is re-read for every request."""
        return SiteState.load(self.state_path)

    def context(self) -> Context:
        return Context(root=self.root, nonce=secrets.token_hex(5), views=next(self._views))

    def take_fault(self, target: str) -> Fault | None:
        """Count one use of an active fault down in the state file; None when none applies."""
        with self._fault_lock, state_lock(self.state_path):
            state = SiteState.load(self.state_path)
            key = match_path(state.faults, target)
            if key is None or state.faults[key].times_remaining <= 0:
                return None
            fault = state.faults[key]
            fault.times_remaining -= 1
            state.save(self.state_path)
            return fault

    def log_request_line(self, entry: dict[str, object]) -> None:
        if self.log_path is None:
            return
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._log_lock, open(self.log_path, "a", encoding="utf-8") as fh:
            fh.write(line)


class DemoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""
    timeout = 30  # idle keep-alive connections close eventually
    server: DemoServer

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)  # drain, so the keep-alive connection stays in sync
        self._serve()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass  # the JSON request log is the record; stderr stays for real errors

    def _serve(self) -> None:
        fault: SocketFault | None = None
        try:
            state = self.server.load_state()
            fault = hostile.socket_fault(state, self.path)
            resp = self._respond(state)
        except Exception:  # one bad request must not kill the server
            traceback.print_exc(file=sys.stderr)
            resp = Response(500, [("Content-Type", "text/plain; charset=utf-8")], b"demo site error\n")
        bodiless = resp.status in (204, 304) or resp.status < 200
        sent = 0 if bodiless or self.command == "HEAD" else len(resp.body)
        if fault is not None:
            sent = 0 if fault.kind == "hang" else len(_cut(resp.body, fault))
        # Log before answering: once a client holds the response, the log already shows it.
        self.server.log_request_line(
            {
                "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                "method": self.command,
                "path": self.path,
                "status": resp.status if fault is None or fault.kind != "hang" else None,
                "if_none_match": self.headers.get("If-None-Match"),
                "if_modified_since": self.headers.get("If-Modified-Since"),
                "user_agent": self.headers.get("User-Agent"),
                "bytes": sent,
                **({"socket": fault.kind} if fault is not None else {}),
            }
        )
        try:
            if fault is not None:
                self._misbehave(fault, resp)
            else:
                self._send(resp, bodiless, sent > 0)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a size limit, a timeout): fine

    def _respond(self, state: SiteState) -> Response:
        slow = match_path(state.slow, self.path)
        if slow is not None:
            time.sleep(state.slow[slow])
        fault_key = match_path(state.faults, self.path)
        if fault_key is not None and state.faults[fault_key].times_remaining > 0:
            fault = self.server.take_fault(self.path)
            if fault is not None:
                return fault_response(fault)
        request = Request(self.command, self.path, {k: v for k, v in self.headers.items()})
        return hostile.respond(state, request, self.server.context())

    def _send(self, resp: Response, bodiless: bool, with_body: bool) -> None:
        self.send_response(resp.status)
        for name, value in resp.headers:
            self.send_header(name, value)
        if not bodiless:
            self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if with_body:
            self.wfile.write(resp.body)

    def _misbehave(self, fault: SocketFault, resp: Response) -> None:
        """What only the socket can do wrong: never answer, reset mid-body, send less than announced."""
        self.close_connection = True
        if fault.kind == "hang":
            time.sleep(float(fault.params.get("seconds", 8.0)))
            return
        self.send_response(resp.status)
        for name, value in resp.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(resp.body)))  # the whole body is announced
        self.end_headers()
        self.wfile.write(_cut(resp.body, fault))
        self.wfile.flush()
        if fault.kind == "reset":
            # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()


def _cut(body: bytes, fault: SocketFault) -> bytes:
    """The part of the body a misbehaving socket sends: half before a reset, 60 % before a FIN."""
    if fault.kind == "hang":
        return b""
    return body[: len(body) * (5 if fault.kind == "reset" else 6) // 10]


class _Stop(BaseException):
    """SIGTERM, raised wherever the main thread is. Not an Exception: socketserver catches
    those around each request it hands to a thread, so a SIGTERM arriving just then was
    printed as a request error and the server kept serving (seen once in CI)."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scheduler.demo_site.server",
        description="Serve the fake multilingual WordPress site from a JSON state file.",
    )
    parser.add_argument("--state", type=Path, help="state file, re-read on every request")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--log", type=Path, help="append one JSON line per request here")
    parser.add_argument("--init", type=Path, metavar="FILE", help="write the seeded site to FILE and exit")
    args = parser.parse_args(argv)

    if args.init is not None:
        default_state().save(args.init)
        return 0
    if args.state is None:
        parser.error("--state FILE is required (create one with --init FILE)")
    if not args.state.exists():
        print(f"error: state file {args.state} does not exist; create it with --init {args.state}", file=sys.stderr)
        return 1
    SiteState.load(args.state)  # fail at start, not on the first request, if the file is bad

    server = DemoServer((args.host, args.port), args.state, args.log)
    signal.signal(signal.SIGTERM, _stop)
    print(f"READY {server.root}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except (_Stop, KeyboardInterrupt):
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
