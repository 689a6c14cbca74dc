"""The archive writer: a worker process (crawler.pool) that stores the crawl's records.

A new version is a few milliseconds of CPU (gzip of the raw body, the snapshot's JSON,
SQLite) and four or five fsyncs. In the crawl's own process every one of those system
calls gave up the interpreter lock to the reactor thread and waited to get it back, so a
version took 25-30 ms of wall time there and the one writer, in which records are stored
in the order they come, set the pace of the whole crawl (about 40 pages a second). In a
process of its own the same write takes about 10 ms and the crawl's process is lighter by
all of it.

The pipeline (crawler/pipelines.py) runs `write` here through a `WorkerPool` of one
worker: one record at a time, in order (the next few already in its pipe), each answered
only once it is stored (the raw body, the snapshot, the capture line fsynced), so a
capture is never acknowledged before it is durable. The process keeps its `Archive` open
from job to job, with the index updates batched (storage: one transaction per 200 records
or 2 s), and commits the last batch when its input ends (`at_end`). If it is killed, the next writer catches the index
up from `index.pending`, as for a killed crawl.

A version that points into the run's WARC file needs that file durable first: the crawl
flushes every record it writes to the OS (storage.warcfiles.WarcLog.write), and this
process fsyncs the file, through a descriptor of its own, before such a version is
written, and only when the file grew since it last did.
"""
from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from typing import Any

from storage import Archive, CaptureResult, StorageError

TASK = "crawler.writer:write"


@dataclass(frozen=True)
class WriteJob:
    """One record to store in the archive at `root`."""

    root: str
    record: Any  # a storage record (Capture, Sighting, Removal, Reextraction, AttachmentBlob); None: the end
    warc: str | None = None  # the run's WARC file, durable before a version pointing into it


@dataclass(frozen=True)
class WriteFailed:
    """A write that failed, as plain data (the exception itself may not cross the pipe)."""

    kind: str  # "storage", "os" or "sqlite"
    message: str
    errno: int | None = None
    filename: str | None = None

    @classmethod
    def of(cls, exc: BaseException) -> WriteFailed:
        if isinstance(exc, OSError):
            return cls("os", exc.strerror or str(exc), exc.errno, None if exc.filename is None else str(exc.filename))
        return cls("sqlite" if isinstance(exc, sqlite3.Error) else "storage", str(exc))

    def exception(self) -> BaseException:
        """The failure as the exception the crawl's pipeline reports (same sentence as in-process)."""
        if self.kind == "os":
            if self.errno is None:
                return OSError(self.message)
            return OSError(self.errno, self.message, self.filename) if self.filename else OSError(self.errno, self.message)
        if self.kind == "sqlite":
            return sqlite3.OperationalError(self.message)
        return StorageError(self.message)


class FileSync:
    """fsync of a file another process appends to, when it grew since the last one."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd: int | None = None
        self.synced = -1

    def __call__(self) -> None:
        if self.fd is None:
            self.fd = os.open(self.path, os.O_RDONLY)  # Linux fsyncs the file's data through any descriptor
        size = os.fstat(self.fd).st_size
        if size != self.synced:
            os.fsync(self.fd)
            self.synced = size

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


_open: dict[str, Any] = {}  # this process's archive and WARC sync, kept from job to job


def _archive(job: WriteJob) -> Archive:
    archive = _open.get("archive")
    if archive is None or str(archive.root) != job.root:
        at_end()
        archive = Archive.open(job.root)
        archive.batch_index()  # committed every 200 records or 2 s, and at the end
        _open["archive"] = archive
    if job.warc and (_open.get("warc") is None or _open["warc"].path != job.warc):
        _open["warc"] = FileSync(job.warc)
        archive.before_version = _open["warc"]
    return archive


def reread_lazily(snapshot: Any, body: bytes) -> Any:
    """crawler.reextract.reread, imported when first needed: most runs never read a stored
    version again, and extraction (trafilatura, lxml) would double this process's memory
    (and add 2-3 MB to the crawl's, which extracts in its workers)."""
    from .reextract import reread

    return reread(snapshot, body)


def write(job: WriteJob) -> CaptureResult | WriteFailed | None:
    """Store one record; what failed comes back as a WriteFailed (the run then stops).
    A job without a record ends the writing: the index batch is committed, the archive closed."""
    try:
        if job.record is None:
            at_end()
            return None
        return _archive(job).record(job.record, reread=reread_lazily)
    except (StorageError, OSError, sqlite3.Error) as exc:
        return WriteFailed.of(exc)


def at_end() -> None:
    """Commit the open index batch and close the archive (crawler.pool calls it at end of input)."""
    sync, archive = _open.pop("warc", None), _open.pop("archive", None)
    if sync is not None:
        sync.close()
    if archive is not None:
        archive.close()
