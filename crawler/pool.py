"""Extraction in worker processes, on every core, while the crawl keeps downloading.

Extraction (crawler.extract) is CPU-bound; run on the reactor thread it holds up every
download while it works (scrapy/scrapy#3197) and the crawl uses one core. A `WorkerPool`
runs it in `size` child processes instead: `submit(job)` returns at once with a
`concurrent.futures.Future`, which a dispatcher thread per worker resolves when its worker
answers. Nothing here knows Scrapy or Twisted: the spider awaits the future on the
reactor; a batch command (re-extracting stored pages) can wait on it in a plain loop.

Workers are plain subprocesses running this module (`python -m crawler.pool TASK LEVEL`),
as storage/workers.py does, not `multiprocessing`: a "spawn" child re-imports the parent's
main module (for the crawl child that is `crawler.run`, Scrapy and Twisted included: half
a second and 25 MB per worker for nothing, and a user's script without a main guard would
start workers without end), a "fork" child inherits the reactor's threads, sockets and the
archive's SQLite connection, and concurrent.futures.ProcessPoolExecutor breaks as a whole
when one worker dies (every page in flight fails, and which one killed it is unknown).
Each worker works one page at a time, in the order it was sent them, and holds at most
`depth` (the one it works on and the next, already in its pipe, so that it never waits for
this process between two), so a worker that dies or hangs names its page, the oldest one
it holds; the others it held were never started and go back to the queue as they were:

- a worker that exits, is killed, or does not answer within `timeout` seconds is replaced
  (killed first if it hangs), and its page is tried once more, in a fresh worker;
- a page whose second attempt fails too is failed with `ExtractionFailed` (the spider
  turns that into a page error through the frontier's normal error path);
- a worker that cannot start twice in a row gives its slot up: that slot then extracts in
  this process (serially, under one lock) and says so once, so a broken environment slows
  the crawl down but never loses a page.

Workers ignore SIGINT and SIGTERM (a terminal's Ctrl-C or systemd's stop reach the whole
process group; the parent decides when its workers end), end on end of input, and on
Linux are killed by the kernel if the thread that started them dies (PR_SET_PDEATHSIG), so
a crawl child killed with SIGKILL leaves no worker behind. What a worker logs while it
works a page is sent back with the answer and logged here, under the same logger name.

Memory stays bounded by the caller: the pool holds only the jobs submitted and not yet
answered (the spider's are bounded by Scrapy's scraper slot, SCRAPER_SLOT_MAX_ACTIVE_SIZE:
about 5 MB of responses being processed before the engine stops taking new requests).

The same pool, with one worker, runs the crawl's archive writer (crawler/writer.py). A
task's module may define `at_end()`: a worker calls it when its input ends (the writer
commits what it holds there), and so does `close()` when jobs were done in this process.

Protocol on the worker's stdin/stdout, each message an 8-byte big-endian length and a
pickle: the worker sends READY once it has imported its task; then for every job it gets,
it answers (status, value, log records): ("ok", result) or ("error", message). The
dispatcher writes a job without blocking and takes in what the worker writes meanwhile: a
job and an answer both larger than a pipe's buffer would otherwise wait for each other.
"""
from __future__ import annotations

import atexit
import fcntl
import importlib
import logging
import os
import pickle
import select
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

logger = logging.getLogger(__name__)

DEFAULT_TASK = "crawler.pool:extract"
PAGE_TIMEOUT = 120.0  # seconds a worker may spend on one page before it counts as hung
START_TIMEOUT = 60.0  # seconds a worker may take to import its task and say READY
ATTEMPTS = 2  # a page is tried this many times before it fails
DEPTH = 2  # jobs a worker holds at once: the one it works on, and the next one
PIPE_BYTES = 1 << 20  # a pipe's buffer (Linux's largest by default): a page crosses in one write
_READY = b"READY"
_HEADER = 8


class ExtractionFailed(Exception):
    """A job could not be done: its worker died or hung on every attempt, or the task raised."""


@dataclass(frozen=True)
class PageJob:
    """What extracting one fetched page needs (the task `extract` below)."""

    body: bytes
    content_type: str | None
    url: str
    link_header: str | None


@dataclass(frozen=True)
class AttachmentJob:
    """What reading one fetched attachment's text needs (crawler.pdftext)."""

    body: bytes
    content_type: str | None
    url: str


def extract(job: PageJob | AttachmentJob) -> Any:
    """The default task: extract a page (crawler.extract), or read an attachment's text."""
    if isinstance(job, AttachmentJob):
        from crawler.pdftext import attachment_text

        return attachment_text(job.body, job.content_type, job.url)
    from crawler.extract import decode_html_ex, extract_page
    from crawler.guards import prejudge

    return prejudge(extract_page(decode_html_ex(job.body, job.content_type), job.url, job.link_header))


@dataclass
class _Job:
    payload: Any
    future: Future[Any]
    started: bool = False
    failures: list[str] = field(default_factory=list)


class _WorkerLost(Exception):
    """The worker process exited, was killed or hung; the message says which."""


class WorkerPool:
    """`size` worker processes running `task` ("module:function", f(job) -> result).

    Workers start at `start()` or the first `submit`, in parallel, each in its dispatcher
    thread; each holds up to `depth` jobs. `size` 0 does every job in the calling thread, at
    once (no processes at all).
    """

    def __init__(self, size: int, *, task: str = DEFAULT_TASK, timeout: float = PAGE_TIMEOUT,
                 start_timeout: float = START_TIMEOUT, log_level: int = logging.INFO,
                 name: str = "extraction", depth: int = DEPTH) -> None:
        if size < 0:
            raise ValueError(f"a pool cannot have {size} workers")
        if depth < 1:
            raise ValueError(f"a worker cannot hold {depth} jobs at once")
        self.size, self.task, self.timeout, self.start_timeout = size, task, timeout, start_timeout
        self.depth = depth
        self.log_level = log_level
        self.name = name  # what its workers do, in what it logs ("extraction worker 1 …")
        self.restarts = 0  # workers replaced after dying or hanging
        self.done = 0  # jobs answered (by a worker or here)
        self.failed = 0  # jobs failed with ExtractionFailed
        self._jobs: deque[_Job] = deque()
        self._cond = threading.Condition()
        self._closing = False
        self._threads: list[threading.Thread] = []
        self._procs: dict[int, subprocess.Popen[bytes]] = {}  # slot -> its live worker
        self._local_lock = threading.Lock()  # jobs done in this process are done one at a time
        self._function: Callable[[Any], Any] | None = None

    # -- the caller's side ------------------------------------------------------------------
    def start(self) -> None:
        """Start the workers now rather than at the first `submit`: a first crawl starts
        them while it discovers its first pages, so that they have imported their task (a
        second or so) by the time the first page comes."""
        with self._cond:
            if self.size and not self._threads and not self._closing:
                self._start_threads()

    def submit(self, payload: Any) -> Future[Any]:
        """Queue one job; the future holds its result, or ExtractionFailed."""
        future: Future[Any] = Future()
        if self.size == 0:
            future.set_running_or_notify_cancel()
            self._run_here(_Job(payload, future))
            return future
        with self._cond:
            if self._closing:
                raise RuntimeError("the pool is closed")
            if not self._threads:
                self._start_threads()
            self._jobs.append(_Job(payload, future))
            self._cond.notify()
        return future

    def close(self, timeout: float = 10.0, *, drain: bool = False) -> None:
        """Cancel the jobs not started (or, with `drain`, let them be done too), let the
        workers finish the jobs they hold (up to `timeout` seconds), then end them. Safe to
        call twice."""
        with self._cond:
            self._closing = True
            while self._jobs and not drain:
                job = self._jobs.popleft()
                if job.started:  # back in the queue after its worker was lost: it cannot be cancelled
                    self._fail(job, f"the {self.name} pool closed before it was done again")
                else:
                    job.future.cancel()
            self._cond.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.kill()
        atexit.unregister(self.kill)
        with self._local_lock:
            if self._function is not None:  # jobs were done here: their task ends here too
                self._function = None
                _run_at_end(self.task)

    def kill(self) -> None:
        """End every worker now (at exit, or when close() ran out of time)."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        for proc in list(self._procs.values()):
            _end(proc, wait=1.0)

    def pids(self) -> list[int]:
        """The process ids of the live workers."""
        return [proc.pid for proc in list(self._procs.values()) if proc.poll() is None]

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- dispatcher threads -----------------------------------------------------------------
    def _start_threads(self) -> None:
        atexit.register(self.kill)
        for slot in range(self.size):
            thread = threading.Thread(target=self._dispatch, args=(slot,), name=f"extract-worker-{slot}",
                                      daemon=True)  # a forced stop of the crawl must not wait for them
            thread.start()
            self._threads.append(thread)

    def _next_job(self, wait: bool = True) -> _Job | None:
        """The next job to do, marked running; None when the pool closes with none queued
        (or, without `wait`, when none is queued now)."""
        with self._cond:
            while True:
                while wait and not self._jobs and not self._closing:
                    self._cond.wait()
                if not self._jobs:
                    return None
                job = self._jobs.popleft()
                if job.started or job.future.set_running_or_notify_cancel():
                    job.started = True
                    return job
                # cancelled while it waited: the next one

    def _dispatch(self, slot: int) -> None:
        # The worker is started here, in the thread that owns it for its whole life: the
        # kernel's parent-death signal follows the thread that started a process.
        worker: _Worker | None = self._start_worker(slot)
        held: deque[_Job] = deque()  # sent to the worker and not answered, the one it works on first
        try:
            while True:
                if worker is None:
                    if (job := self._next_job()) is None:
                        break
                    self._run_here(job)
                    continue
                try:
                    while len(held) < self.depth and (job := self._next_job(wait=not held)) is not None:
                        held.append(job)
                        worker.send(job.payload, self.timeout)
                    if not held:
                        break  # the pool closed and nothing is left to do
                    status, value, records = worker.receive(self.timeout)
                except _WorkerLost as lost:
                    worker.stop()
                    job, others = held.popleft(), list(held)
                    held.clear()
                    if self._closing:
                        for each in (job, *others):
                            self._fail(each, f"its {self.name} worker {lost} while the crawl closed")
                        break
                    self.restarts += 1
                    logger.warning("%s worker %d (pid %d) %s; starting another", self.name, slot, worker.proc.pid, lost)
                    self._requeue(others)
                    worker = self._start_worker(slot)
                    self._retry(job, str(lost))
                    continue
                _relog(records)
                self._settle(held.popleft(), status, value)
        finally:
            if worker is not None:
                worker.stop()
            self._procs.pop(slot, None)

    def _requeue(self, jobs: list[_Job]) -> None:
        """Jobs a lost worker held but never started: first in the queue again, in order."""
        with self._cond:
            self._jobs.extendleft(reversed(jobs))
            self._cond.notify_all()

    def _start_worker(self, slot: int) -> _Worker | None:
        failures = []
        for _ in range(2):
            try:
                worker = _Worker.start(self.task, self.log_level, self.start_timeout)
            except _WorkerLost as lost:
                failures.append(str(lost))
                continue
            self._procs[slot] = worker.proc
            return worker
        self._procs.pop(slot, None)
        logger.warning("%s worker %d could not start (%s): doing its work in this process instead",
                       self.name, slot, "; ".join(failures))
        return None

    def _retry(self, job: _Job, failure: str) -> None:
        job.failures.append(failure)
        if len(job.failures) >= ATTEMPTS:
            first, then = job.failures[0], job.failures[-1]
            self._fail(job, f"its {self.name} worker {first}, and so did a fresh one ({then})")
            return
        with self._cond:
            self._jobs.appendleft(job)  # its turn again at once, in whichever worker is free first
            self._cond.notify()

    def _settle(self, job: _Job, status: str, value: Any) -> None:
        if status == "ok":
            self.done += 1
            job.future.set_result(value)
        else:
            self._fail(job, value)

    def _fail(self, job: _Job, message: str) -> None:
        self.failed += 1
        job.future.set_exception(ExtractionFailed(message))

    def _run_here(self, job: _Job) -> None:
        with self._local_lock:
            if self._function is None:
                self._function = _task(self.task)
            try:
                result = self._function(job.payload)
            except Exception as exc:  # noqa: BLE001 - a job's failure is the job's, not the crawl's
                self._settle(job, "error", f"{type(exc).__name__}: {exc}")
                return
        self._settle(job, "ok", result)


class _Worker:
    """One worker process and the two ends of its pipes."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        assert proc.stdin is not None and proc.stdout is not None
        self.stdin, self.stdout = proc.stdin.fileno(), proc.stdout.fileno()
        self.pending = bytearray()  # what the worker wrote that no answer has taken yet
        self.eof = False  # it closed its output (it exited, or was killed)
        os.set_blocking(self.stdin, False)  # send() interleaves writing and reading
        for fd in (self.stdin, self.stdout):
            _widen(fd)

    @classmethod
    def start(cls, task: str, log_level: int, start_timeout: float) -> _Worker:
        package_root = str(Path(__file__).resolve().parents[1])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
        try:
            # close_fds (the default) matters: a worker must never hold the archive's lock.
            proc = subprocess.Popen([sys.executable, "-m", "crawler.pool", task, str(log_level), str(os.getpid())], bufsize=0,
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        except OSError as exc:
            raise _WorkerLost(f"could not be started ({exc})") from None
        worker = cls(proc)
        try:
            if worker._message(time.monotonic() + start_timeout, start_timeout) != _READY:
                raise _WorkerLost("said something else than READY")
        except _WorkerLost:
            worker.stop()
            raise
        return worker

    def send(self, payload: Any, timeout: float) -> None:
        """Write one job, taking in what the worker writes meanwhile (it may be blocked
        writing an answer larger than the pipe's buffer, not reading this job)."""
        view = memoryview(_frame(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)))
        deadline = time.monotonic() + timeout
        while view:
            readable, writable = self._wait(deadline, timeout, write=True)
            if readable:
                self._take_in()
            if writable:
                try:
                    view = view[os.write(self.stdin, view):]
                except BlockingIOError:
                    continue
                except OSError:
                    return  # it is gone: receive() says how

    def receive(self, timeout: float) -> tuple[str, Any, list[dict[str, Any]]]:
        """The answer to the oldest job it holds."""
        return pickle.loads(self._message(time.monotonic() + timeout, timeout))

    def _message(self, deadline: float, limit: float) -> bytes:
        size = int.from_bytes(self._read(_HEADER, deadline, limit), "big")
        return self._read(size, deadline, limit)

    def _read(self, size: int, deadline: float, limit: float) -> bytes:
        while len(self.pending) < size:
            if self.eof:
                raise _WorkerLost(self._death())
            self._wait(deadline, limit, write=False)
            self._take_in()
        data = bytes(self.pending[:size])
        del self.pending[:size]
        return data

    def _wait(self, deadline: float, limit: float, *, write: bool) -> tuple[bool, bool]:
        """Until the worker wrote something (or, with `write`, can take more input)."""
        remaining = deadline - time.monotonic()
        try:
            readable, writable, _ = select.select([] if self.eof else [self.stdout], [self.stdin] if write else [],
                                                  [], max(0.0, remaining))
        except (OSError, ValueError):  # closed under us: the pool is being killed
            raise _WorkerLost("was stopped") from None
        if not readable and not writable:
            self.proc.kill()
            raise _WorkerLost(f"did not answer within {limit:g} s")
        return bool(readable), bool(writable)

    def _take_in(self) -> None:
        try:
            chunk = os.read(self.stdout, PIPE_BYTES)
        except OSError:  # closed under us: the pool is being killed
            raise _WorkerLost("was stopped") from None
        if chunk:
            self.pending += chunk
        else:
            self.eof = True

    def _death(self) -> str:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return "closed its output"
        if code < 0:
            return f"was killed by {signal.Signals(-code).name}"
        return f"exited with code {code}"

    def stop(self) -> None:
        _end(self.proc, wait=5.0)


def _end(proc: subprocess.Popen[bytes], wait: float) -> None:
    """Close the worker's input (it ends by itself), kill it if it does not within `wait` s."""
    for stream in (proc.stdin, proc.stdout):
        try:
            if stream is not None:
                stream.close()
        except OSError:
            pass
    try:
        proc.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _frame(body: bytes) -> bytes:
    return len(body).to_bytes(_HEADER, "big") + body


def _widen(fd: int) -> None:
    """A pipe buffer of PIPE_BYTES instead of 64 KiB, where the system allows it (Linux)."""
    try:
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (AttributeError, OSError):
        pass  # a smaller buffer only means more, shorter writes


def _relog(records: list[dict[str, Any]]) -> None:
    for data in records:
        record = logging.makeLogRecord(data)
        target = logging.getLogger(record.name)
        if target.isEnabledFor(record.levelno):
            target.handle(record)


def _task(spec: str) -> Callable[[Any], Any]:
    module, _, function = spec.partition(":")
    return getattr(importlib.import_module(module), function)


def _run_at_end(spec: str) -> None:
    """The task module's at_end(), if it has one."""
    at_end = getattr(importlib.import_module(spec.partition(":")[0]), "at_end", None)
    if at_end is not None:
        at_end()


# -- the worker's side ----------------------------------------------------------------------
class _Collect(logging.Handler):
    """Keeps what the task logs while it works a job, to send it back with the answer."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        data = dict(record.__dict__)
        data["msg"], data["args"] = record.getMessage(), None
        if record.exc_info:
            data["exc_text"] = logging.Formatter().formatException(record.exc_info)
        data["exc_info"] = None
        self.records.append(data)


def _die_with_parent(parent: int) -> None:
    """Ask Linux to kill this process when the thread that started it dies."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass  # the end of input still ends the worker
    if os.getppid() != parent:
        os._exit(0)  # it died before we asked


def _child(task: str, level: int, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # the parent is gone: so are we
    _die_with_parent(parent)
    # The protocol owns the original stdout; anything the task prints goes to stderr.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    stdin = sys.stdin.buffer
    collect = _Collect()
    root = logging.getLogger()
    root.addHandler(collect)
    root.setLevel(level)
    function = _task(task)
    out.write(_frame(_READY))
    out.flush()
    while True:
        header = stdin.read(_HEADER)
        if len(header) < _HEADER:
            # What it logs goes to stderr: no answer is left to carry it.
            root.removeHandler(collect)
            root.addHandler(logging.StreamHandler(sys.stderr))
            _run_at_end(task)
            return
        body = stdin.read(int.from_bytes(header, "big"))
        try:
            answer: tuple[str, Any] = ("ok", function(pickle.loads(body)))
        except Exception as exc:  # noqa: BLE001 - reported to the parent, the worker goes on
            answer = ("error", f"{type(exc).__name__}: {exc}")
        try:
            data = pickle.dumps((*answer, collect.records), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - an unpicklable result is the job's failure
            data = pickle.dumps(("error", f"result cannot be sent: {exc}", collect.records))
        collect.records = []
        out.write(_frame(data))
        out.flush()


if __name__ == "__main__":
    # Run the task from the imported module, so what is pickled names crawler.pool, not __main__.
    from crawler.pool import _child as child

    child(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
