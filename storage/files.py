"""Crash-safe file primitives: write-once files and durable appends.

A version file is created with temp file + fsync + link: `os.link` fails if the name
already exists, so two writers racing for the same version can never overwrite each
other, and a crash leaves either no file or a complete one (plus a stray temp file
that `verify` reports and ignores).
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import gzip
import json
import os
import uuid
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator

TEMP_PREFIX = ".tmp-"


class AlreadyExists(FileExistsError):
    """The write-once file is already there."""


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_name(path: Path) -> Path:
    """The temp file a write of `path` goes through: `.tmp-NAME.PID.RANDOM`, beside it (the
    pid says whose it is, so a dead writer's leftover can be told from a live one's)."""
    return path.with_name(f"{TEMP_PREFIX}{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}")


def write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is written (a write may take only part of them)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _write_temp(path: Path, data: bytes) -> Path:
    tmp = temp_name(path)
    try:
        # os.open and os.write: a Python file object costs two more system calls per file.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        try:
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException as exc:
        # A full disk (or a signal) mid-write: leave no partial temp file behind.
        tmp.unlink(missing_ok=True)
        _name(exc, path)
        raise
    return tmp


def _name(exc: BaseException, path: Path) -> None:
    """Name the file an error of write() or fsync() was about (they name none themselves):
    'disk full writing ARCHIVE/…', not a full disk blamed on standard output."""
    if isinstance(exc, OSError) and exc.filename is None:
        exc.filename = str(path)


def write_once(path: Path, data: bytes) -> None:
    """Create `path` with `data` atomically; raise AlreadyExists if it exists."""
    tmp = _write_temp(path, data)
    try:
        os.link(tmp, path)
    except FileExistsError as exc:
        raise AlreadyExists(str(path)) from exc
    finally:
        tmp.unlink()
    fsync_dir(path.parent)


def replace_atomically(path: Path, data: bytes, *, sync_dir: bool = True) -> None:
    """Write `path` atomically, replacing it if present (only for derived or mutable files).

    `sync_dir=False` leaves the folder's fsync to the caller's next write in the same folder
    (a raw body and its snapshot: one folder fsync makes both names durable)."""
    tmp = _write_temp(path, data)
    os.replace(tmp, path)
    if sync_dir:
        fsync_dir(path.parent)


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[BinaryIO]:
    """A file to stream into that appears at `path` only whole: written to a temp file
    beside it, fsynced, renamed over `path`, the folder fsynced. On an exception the temp
    file is removed and `path` is untouched."""
    remove_dead_temps(path)
    tmp = temp_name(path)
    try:
        with open(tmp, "xb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        _name(exc, path)
        raise
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


def temp_owner(name: str) -> int | None:
    """The pid in a temp file's name (`.tmp-NAME.PID.RANDOM`, perhaps with SQLite's `-journal`
    after it), or None if it names none."""
    parts = name.split(".")
    if not name.startswith(TEMP_PREFIX) or len(parts) < 3 or not parts[-2].isdigit():
        return None
    return int(parts[-2])


def lock_held(path: str | os.PathLike[str]) -> bool:
    """Whether some process holds an flock on `path` right now (probed with a shared,
    non-blocking flock, released at once; a missing file is held by nobody)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases the probe's own shared lock
    return False


def process_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this machine (a zombie counts as dead)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    # The state letter follows the parenthesised command name, which may contain spaces.
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def remove_dead_temps(path: Path) -> list[Path]:
    """Delete the temp files of earlier writes of `path` whose process is gone (a killed
    export, feed or index build); returns them. A live writer's temp file is left alone."""
    removed = []
    prefix = f"{TEMP_PREFIX}{path.name}."
    try:
        names = [name for name in os.listdir(path.parent) if name.startswith(prefix)]
    except OSError:
        return removed
    for name in names:
        pid = temp_owner(name)
        if pid is not None and pid != os.getpid() and not process_alive(pid):
            leftover = path.parent / name
            try:
                leftover.unlink()
            except OSError:
                continue
            removed.append(leftover)
    return removed


RESERVE = 64 * 1024  # what reserve() sets aside: room for a run's record or summary


def reserve(path: Path, data: bytes, size: int = RESERVE) -> None:
    """Write `data` to `path` padded with spaces to `size` bytes (JSON ignores trailing
    whitespace), so that a later write_in_place of up to `size` bytes needs no new disk
    space: the outcome of a run can still be recorded when the disk has filled meanwhile."""
    replace_atomically(path, data + b" " * max(0, size - len(data)))


def write_in_place(path: Path, data: bytes) -> None:
    """Overwrite `path` within the space it already holds (see reserve), then cut it to
    `data`. Not atomic: only for when an atomic write has failed for want of space."""
    with open(path, "r+b") as handle:
        handle.write(data)
        handle.truncate()
        handle.flush()
        os.fsync(handle.fileno())


def replace_or_fill_reserved(path: Path, data: bytes) -> None:
    """Replace `path` atomically; when the disk is full, write `data` into the room a
    reserve() of `path` set aside instead (a run's outcome is still recorded)."""
    try:
        replace_atomically(path, data)
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT) or not path.exists() or len(data) > RESERVE:
            raise
        write_in_place(path, data)


def append_line(path: Path, record: dict[str, Any]) -> None:
    """Append one JSON line durably. A torn line left by a crash is fenced off by a newline."""
    line = json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n"
    with open(path, "a+b") as handle:
        if handle.tell() > 0:
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                line = b"\n" + line
        try:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        except OSError as exc:
            _name(exc, path)
            raise


def read_lines(path: Path) -> tuple[list[dict[str, Any]], int]:
    """Read a JSON-lines file; returns (records, number of unreadable lines)."""
    records: list[dict[str, Any]] = []
    bad = 0
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return records, 0
    for line in raw.splitlines():
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            bad += 1
    return records, bad


def dump_json(data: Any) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


_STATE_ENCODE = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


def write_state_json(handle: BinaryIO, data: dict[str, Any]) -> None:
    """Working state (ARCHIVE/state/) as compact JSON, each item of a top-level list encoded
    on its own. The crawl's checkpoint, rewritten as the run goes, names every post fetch
    not yet answered: 3 MB at 16,000 of them. Encoded whole, indented, it took three times as
    long and, at the peak of an 8,000-post crawl, 21 MB of small strings that the crawl's
    process then kept as its own; a list item at a time it never exists whole in memory.
    The same text as json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))."""
    handle.write(b"{")
    for n, key in enumerate(sorted(data)):
        value = data[key]
        handle.write((("," if n else "") + _STATE_ENCODE(str(key)) + ":").encode("utf-8"))
        if isinstance(value, list):
            handle.write(b"[")
            for i, item in enumerate(value):
                handle.write((("," if i else "") + _STATE_ENCODE(item)).encode("utf-8"))
            handle.write(b"]")
        else:
            handle.write(_STATE_ENCODE(value).encode("utf-8"))
    handle.write(b"}\n")


# zlib's level 3: on the benchmark's 90 KB WordPress pages 0.48 ms a page against 1.21 ms at
# level 6 (the default), for 10 % more bytes (14.7 % of the HTML against 13.4 %). Every
# version's body is compressed twice (here and in the run's WARC), on the crawl's busiest path.
GZIP_LEVEL = 3


def gzip_bytes(data: bytes) -> bytes:
    # mtime=0 keeps the compressed file a pure function of its content.
    return gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)


LOCK_NAME = ".lock"


def document_lock(folder: Path) -> contextlib.AbstractContextManager[None]:
    """Serialise writers of one document folder (released by the OS if the process dies)."""
    return file_lock(folder / LOCK_NAME)


@contextlib.contextmanager
def file_lock(path: Path, *, shared: bool = False, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """An flock on `path` (created empty if missing), released by the OS on death:
    exclusive, or `shared` (many holders at once, none while an exclusive one holds it).
    `on_wait` is called once if the lock cannot be had at once, before waiting for it."""
    mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o666)
    try:
        if on_wait is None:
            fcntl.flock(fd, mode)
        else:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
            except BlockingIOError:
                on_wait()
                fcntl.flock(fd, mode)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def try_file_lock(path: Path, *, shared: bool = False) -> contextlib.AbstractContextManager[bool]:
    """An flock on `path` if it can be had now (exclusive, or `shared`): yields whether it was taken."""
    return _try_lock(path, shared)


@contextlib.contextmanager
def _try_lock(path: Path, shared: bool) -> Iterator[bool]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o666)
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
