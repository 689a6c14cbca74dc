"""Archive locks: one crawl at a time per archive, one daemon per archive.

    ARCHIVE/crawl.lock    held (flock) for the whole of a crawl run, by the process that
                          records the run and by its crawl child process (the child inherits
                          the descriptor, so an orphaned crawl still holds it)
    ARCHIVE/daemon.lock   held (flock) by a running `kisi-archive daemon`

The lock itself is `fcntl.flock` on the file: the kernel releases it when the last process
holding it dies, so a lock can never outlive its holder on a local file system. The file's
content is a JSON holder record (kind, pid, host, started, run id) written after the lock is
taken and cleared before it is released. It names the holder in "busy" messages, and a
record found under a free lock is the trace of a holder that died without releasing (a
stale lock): the new holder takes the lock over and is told who the dead holder was, so the
run it left behind can be closed in the ledger.

The lock file is never deleted or renamed: deleting a flock'ed file lets two processes hold
"the" lock on two different inodes.
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Callable

from storage import StorageError
from storage.files import lock_held, process_alive
from storage.layout import CRAWL_LOCK as CRAWL_LOCK_NAME, DAEMON_LOCK as DAEMON_LOCK_NAME, Layout

CRAWL_LOCK = CRAWL_LOCK_NAME
DAEMON_LOCK = DAEMON_LOCK_NAME

# A non-blocking attempt retries this long before reporting "busy", so that a reader's
# brief probe (`status`) can never make a starting daemon or crawl fail.
PROBE_PATIENCE = 0.3


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) a lock."""

    kind: str  # "crawl" or "daemon"
    pid: int
    host: str
    started: str  # ISO 8601, UTC
    run_id: str | None = None
    trigger: str | None = None  # crawl locks: "manual", "schedule", "startup", "demo"
    child_pid: int | None = None  # crawl locks: the crawl child process, once started

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Holder | None:
        if not isinstance(data, dict):
            return None
        try:
            return cls(kind=str(data["kind"]), pid=int(data["pid"]), host=str(data["host"]),
                       started=str(data["started"]), run_id=data.get("run_id"), trigger=data.get("trigger"),
                       child_pid=int(data["child_pid"]) if data.get("child_pid") else None)
        except (KeyError, TypeError, ValueError):
            return None

    @property
    def local(self) -> bool:
        return self.host == socket.gethostname()

    def describe(self) -> str:
        """One line naming the holder, e.g. for a "busy" message."""
        if self.kind == "crawl":
            what = f"crawl run {self.run_id}" if self.run_id else "a crawl"
            if self.trigger:
                what += f" ({self.trigger})"
        else:
            what = self.kind
        return f"{what}, pid {self.pid} on {self.host}, since {self.started}"


class LockBusy(StorageError):
    """The lock is held by another process; `holder` names it when its record is readable."""

    def __init__(self, path: Path, holder: Holder | None, message: str | None = None) -> None:
        self.path, self.holder = path, holder
        who = holder.describe() if holder else "a process whose record is unreadable"
        super().__init__(message or f"{path} is held by {who}")


class LockWaitCancelled(LockBusy):
    """Waiting for the lock was given up because a stop was requested."""


# Whether a pid is a live process, and whether a lock file is held now: storage asks the same
# questions of its own files (temp files, the crawl lock), so the answers live there.
pid_alive = process_alive


def read_holder(path: Path) -> Holder | None:
    """The holder record in a lock file (None when empty, missing or unreadable). Takes no lock."""
    for _ in range(3):
        try:
            raw = path.read_text("utf-8")
        except (FileNotFoundError, UnicodeDecodeError):
            return None
        if not raw.strip():
            return None
        try:
            # raw_decode: a writer that just wrote a shorter record may not have truncated yet.
            data, _end = json.JSONDecoder().raw_decode(raw.lstrip())
        except ValueError:
            time.sleep(0.02)  # caught between write and truncate; read again
            continue
        return Holder.from_json(data)
    return None


is_held = lock_held


class ArchiveLock:
    """An exclusive flock on one lock file, with a holder record inside it.

        lock = ArchiveLock(archive / CRAWL_LOCK)
        stale = lock.acquire(Holder("crawl", os.getpid(), host, started, run_id))  # or LockBusy
        try: ...
        finally: lock.release()
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fd: int | None = None
        self.holder: Holder | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def fileno(self) -> int:
        """The locked descriptor: pass it to a child process (pass_fds) to share the lock with it."""
        if self._fd is None:
            raise RuntimeError(f"{self.path} is not held")
        return self._fd

    def try_acquire(self, holder: Holder, patience: float = PROBE_PATIENCE) -> Holder | None:
        """Take the lock now or raise LockBusy; return the stale holder record it replaced, if any."""
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this object")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        deadline = time.monotonic() + patience
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise LockBusy(self.path, read_holder(self.path)) from None
                time.sleep(0.05)
        self._fd = fd
        stale = read_holder(self.path)
        self._write(holder)
        return stale

    def acquire(self, holder: Holder, *, timeout: float | None = 0.0, poll: float = 0.5,
                should_stop: Callable[[], bool] | None = None,
                on_wait: Callable[[LockBusy], None] | None = None) -> Holder | None:
        """Take the lock, waiting up to `timeout` seconds (None: for ever; 0: not at all).

        Raises LockBusy when the wait ends without the lock, LockWaitCancelled when
        `should_stop()` turns true while waiting. `on_wait` is called once, when waiting starts.
        Returns the stale holder record the lock replaced, if any.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        told = False
        while True:
            try:
                return self.try_acquire(holder)
            except LockBusy as busy:
                if deadline is not None and time.monotonic() >= deadline:
                    raise
                if should_stop is not None and should_stop():
                    raise LockWaitCancelled(busy.path, busy.holder, f"stopped while waiting for {busy.path}") from None
                if on_wait is not None and not told:
                    on_wait(busy)
                    told = True
            remaining = poll if deadline is None else max(0.0, min(poll, deadline - time.monotonic()))
            time.sleep(remaining)

    def update(self, **changes: Any) -> Holder:
        """Rewrite the holder record (e.g. with the child's pid once it has started)."""
        if self.holder is None or self._fd is None:
            raise RuntimeError(f"{self.path} is not held")
        self._write(replace(self.holder, **changes))
        assert self.holder is not None
        return self.holder

    def release(self) -> None:
        """Clear the holder record, then unlock. A clean release leaves an empty file."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
            os.fsync(fd)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            self.holder = None

    def _write(self, holder: Holder) -> None:
        assert self._fd is not None
        data = (json.dumps(holder.to_json(), sort_keys=True) + "\n").encode("utf-8")
        # One write at offset 0, then cut the tail: a reader sees the old record, or the new
        # one (possibly followed by a tail of the old, which read_holder ignores).
        os.pwrite(self._fd, data, 0)
        os.ftruncate(self._fd, len(data))
        os.fsync(self._fd)
        self.holder = holder

    def __enter__(self) -> ArchiveLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def new_holder(kind: str, started: str, *, run_id: str | None = None, trigger: str | None = None) -> Holder:
    """A holder record for this process."""
    return Holder(kind=kind, pid=os.getpid(), host=socket.gethostname(), started=started, run_id=run_id,
                  trigger=trigger)


def crawl_lock(archive_root: str | os.PathLike[str]) -> ArchiveLock:
    return ArchiveLock(Layout(Path(archive_root)).crawl_lock)


def daemon_lock(archive_root: str | os.PathLike[str]) -> ArchiveLock:
    return ArchiveLock(Layout(Path(archive_root)).daemon_lock)
