"""An ordered, parallel map over chunks of work, in child processes (for reindex and export).

Reading and parsing 100,000 JSON files is CPU-bound Python, so it is spread over child
processes while the calling process writes (SQLite, or an export file) in the same order
as a serial loop would. The children are plain subprocesses running this module
(`python -m storage.workers TASK`), not `multiprocessing`: a multiprocessing "spawn" child
re-runs the caller's main script (a user's script without an `if __name__ == "__main__"`
guard would start children without end), and a "fork" child inherits the caller's open
SQLite connections and threads.

Protocol, all messages an 8-byte big-endian length then the body: the parent sends the
context (JSON), then chunks (JSON arrays); the child answers each chunk, in order, with
the pickled result of TASK(context, chunk). End of stdin ends the child.
"""
from __future__ import annotations

import importlib
import json
import logging
import os
import pickle
import queue
import subprocess
import sys
import tempfile
import threading
from collections import deque
from itertools import chain, islice
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator

from .errors import StorageError

logger = logging.getLogger(__name__)

# The functions a child runs: name -> "module:function", each f(context, chunk) -> result.
# A caller in a higher layer names its own function as "module:function" of the project
# (crawler.reextract does), so this module never names what it does not import.
TASKS = {
    "index-rows": "storage.rebuild:read_chunk",
    "export-lines": "storage.export:encode_chunk",
}
_PROJECT_MODULES = ("storage.", "crawler.")


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def prefetch(paths: Iterator[str] | list[str]) -> None:
    """Ask the OS to start reading these files now, all at once (a deeper disk queue than
    reading them one after the other): a cold export or rebuild is bound by the disk."""
    if not hasattr(os, "posix_fadvise"):
        return
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue  # reported when it is read
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass
        finally:
            os.close(fd)


def _task(name: str) -> Callable[[Any, list[Any]], Any]:
    spec = TASKS.get(name) or (name if name.startswith(_PROJECT_MODULES) and ":" in name else None)
    if spec is None:
        raise KeyError(f"unknown worker task {name!r}")
    module, _, function = spec.partition(":")
    return getattr(importlib.import_module(module), function)


def _send(stream: BinaryIO, data: bytes) -> None:
    stream.write(len(data).to_bytes(8, "big"))
    stream.write(data)
    stream.flush()


def _receive(stream: BinaryIO) -> bytes | None:
    header = stream.read(8)
    if len(header) < 8:
        return None
    size = int.from_bytes(header, "big")
    body = stream.read(size)
    return body if len(body) == size else None


def ordered_map(task: str, context: Any, chunks: Iterable[list[Any]], *, workers: int,
                serial_below: int = 8, inflight: int = 4) -> Iterator[Any]:
    """Yield TASK(context, chunk) for every chunk, in order.

    Computed by `workers` child processes, at most `inflight` chunks ahead each (so memory
    stays bounded), or here when workers < 1 or there are fewer than `serial_below` chunks.
    If no child can be started, the work is done here (and logged).
    """
    function = _task(task)
    chunks = iter(chunks)
    head = list(islice(chunks, serial_below))
    if workers < 1 or len(head) < serial_below or not sys.executable:
        for chunk in chain(head, chunks):
            yield function(context, chunk)
        return
    pool = _Pool(task, context, workers)
    try:
        try:
            pool.start()
        except OSError as exc:
            logger.warning("cannot start worker processes (%s): working in this process", exc)
            for chunk in chain(head, chunks):
                yield function(context, chunk)
            return
        pending = iter(chain(head, chunks))
        sent: list[list[Any]] = []  # chunks given out before the first result, to redo here if need be
        for chunk in islice(pending, workers * inflight):
            pool.submit(chunk)
            sent.append(chunk)
        try:
            first = pool.next_result()
        except StorageError as exc:
            # No child works at all (say, sys.executable is not a plain Python): do it here.
            logger.warning("%s: working in this process", exc)
            pool.stop()
            for chunk in chain(sent, pending):
                yield function(context, chunk)
            return
        sent.clear()
        for chunk in islice(pending, 1):
            pool.submit(chunk)
        yield first
        while pool.outstanding:
            result = pool.next_result()
            for chunk in islice(pending, 1):
                pool.submit(chunk)
            yield result
    finally:
        pool.stop()


class _Pool:
    def __init__(self, task: str, context: Any, workers: int) -> None:
        self.task, self.context, self.size = task, context, workers
        self.procs: list[subprocess.Popen[bytes]] = []
        self.errors: list[Any] = []
        self.results: list[queue.Queue[bytes | None]] = []
        self.threads: list[threading.Thread] = []
        self.order: deque[int] = deque()
        self.submitted = 0

    @property
    def outstanding(self) -> int:
        return len(self.order)

    def start(self) -> None:
        package_root = str(Path(__file__).resolve().parents[1])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
        context = json.dumps(self.context).encode()
        for _ in range(self.size):
            err = tempfile.TemporaryFile()
            self.errors.append(err)
            proc = subprocess.Popen([sys.executable, "-m", "storage.workers", self.task], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=err, env=env)
            self.procs.append(proc)
            assert proc.stdin is not None
            try:
                _send(proc.stdin, context)
            except BrokenPipeError:
                pass  # the child is already gone: next_result() says so
            results: queue.Queue[bytes | None] = queue.Queue()
            self.results.append(results)
            # A thread empties the child's stdout, so the child never waits on a full pipe.
            thread = threading.Thread(target=self._drain, args=(proc, results), daemon=True)
            thread.start()
            self.threads.append(thread)

    @staticmethod
    def _drain(proc: subprocess.Popen[bytes], results: queue.Queue[bytes | None]) -> None:
        assert proc.stdout is not None
        try:
            while (body := _receive(proc.stdout)) is not None:
                results.put(body)
        except (OSError, ValueError):
            pass  # the pipe was closed under us: we are stopping
        results.put(None)

    def submit(self, chunk: list[Any]) -> None:
        k = self.submitted % self.size
        self.submitted += 1
        stdin = self.procs[k].stdin
        assert stdin is not None
        try:
            _send(stdin, json.dumps(chunk).encode())
        except BrokenPipeError:
            pass  # the child died: next_result reports it
        self.order.append(k)

    def next_result(self) -> Any:
        k = self.order.popleft()
        body = self.results[k].get()
        if body is None:
            proc, err = self.procs[k], self.errors[k]
            proc.wait()
            err.seek(0)
            last = (err.read().decode(errors="replace").strip().splitlines() or ["no message"])[-1]
            raise StorageError(f"a worker process failed (exit {proc.returncode}): {last}")
        return pickle.loads(body)

    def stop(self) -> None:
        """Let idle children end (end of stdin); kill them if work is still outstanding."""
        for proc in self.procs:
            if self.order:
                proc.kill()
            try:
                if proc.stdin is not None:
                    proc.stdin.close()
            except OSError:
                pass
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for thread in self.threads:
            thread.join(timeout=5)
        for proc in self.procs:
            if proc.stdout is not None:
                proc.stdout.close()
        for err in self.errors:
            err.close()


def _child(task: str) -> None:
    function = _task(task)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    raw_context = _receive(stdin)
    if raw_context is None:
        return
    context = json.loads(raw_context)
    while (body := _receive(stdin)) is not None:
        _send(stdout, pickle.dumps(function(context, json.loads(body)), protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    # Run the task from the imported modules, so what is pickled names storage.*, not __main__.
    from storage.workers import _child as child

    child(sys.argv[1])
