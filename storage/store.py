"""The archive: record captures, read documents and versions, verify, reindex.

This is the only code that writes into an archive directory. Order of writes for a new
version: raw body, snapshot JSON (the commit point), capture log line, index row.

A long writer (a crawl) may batch its index updates (`batch_index`): they then go into one
SQLite transaction committed every few hundred records, every few seconds and on `close`,
instead of one transaction each. The files are still written, and fsynced, record by
record: a stored version never waits for a batch. While a batch is open, the ids of the
documents it touches are listed in ARCHIVE/index.pending (created before their files are
written, deleted once the batch is committed), so a writer killed mid-batch leaves the
list behind and the next writer that opens the archive re-indexes those documents from
their files (`verify` still catches up any other lag, e.g. after a power failure).
"""
from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from . import index as idx
from .errors import IndexNotReady, NotAnArchive, ReadOnlyArchive, UnknownDocument
from .files import (TEMP_PREFIX, AlreadyExists, append_line, atomic_output, document_lock, dump_json, file_lock, gzip_bytes,
                    read_lines, remove_dead_temps, replace_atomically, temp_name, try_file_lock, write_once, write_state_json)
from .blobs import put_blob
from .layout import Layout
from .policy import (VERSIONED_FIELDS, Commit, commit_capture, commit_reextraction, commit_removal, commit_sighting,
                     needs_reread)
from .records import (CAUSE_SITE, SCHEMA_VERSION, AttachmentBlob, Capture, CaptureResult, DocumentSummary,
                      Reextraction, Removal, Sighting, Snapshot, VersionSummary)
from .snapshots import read_snapshot
from .urls import normalize_url, shortlink_post_id
from .verify import VerifyReport, _DocFiles, verify_archive

logger = logging.getLogger(__name__)

# Reads a stored version's raw response again with the installed extractor (the crawler
# passes one in; storage knows no extractor): None when it cannot.
Reread = Callable[[Snapshot, bytes], "Reextraction | None"]

FORMAT_NAME = "kisi-archive"
# Exclusive while the index is built or swapped (one process builds; writers wait), shared by
# each writer while it records one observation (so a rebuild starts only between records
# and a writer never writes into an index that was just replaced). Readers never take it.
INDEX_LOCK = ".index.lock"
# What may be in a folder whose archive creation was cut short (a full disk, a kill): such a
# folder is still "empty" for `Archive.open(create=True)`.
_UNFINISHED_CREATION = {".gitkeep", "documents"}
PENDING = "index.pending"  # documents of an index batch not yet committed (see batch_index)
BATCH_RECORDS = 200  # an index batch is committed after this many records …
BATCH_SECONDS = 2.0  # … or this many seconds, whichever comes first (readers see it then)


def document_id(site: str, language: str | None, post_id: int | None, url: str | None) -> str:
    """Stable identity of a post: site, language and WordPress post id (URL hash as a fallback)."""
    lang = language or "und"
    if post_id is not None:
        return f"{site}-{lang}-{post_id}"
    digest = hashlib.sha256(normalize_url(url or "").encode("utf-8")).hexdigest()[:12]
    return f"{site}-{lang}-u{digest}"


class Archive:
    """An archive directory. Open with `Archive.open(path)` (or `create=True` to make one,
    or `readonly=True` to only read it, e.g. in the web viewer)."""

    def __init__(self, root: Path, *, readonly: bool = False) -> None:
        self.root = Path(root)
        self.layout = Layout(self.root)
        self.readonly = readonly
        self._conn: sqlite3.Connection | None = None
        self._batch: _IndexBatch | None = None
        self._conn_identity: tuple[int, int, bool] | None = None  # of the index file the connection reads
        self._private_index: Path | None = None  # a reader's own index, when the archive's cannot be used
        # Called before a version file is written: the crawl makes the WARC records the
        # version points to durable first (crawler/session.py), once per version, not per capture.
        self.before_version: Callable[[], None] | None = None

    # -- opening -----------------------------------------------------------------------
    @classmethod
    def open(cls, root: str | os.PathLike[str], *, create: bool = False, readonly: bool = False) -> Archive:
        """Open an archive directory.

        `readonly=True` never writes anything: the index is opened with SQLite's
        `mode=ro`, never built or locked (IndexNotReady when it is missing or of another
        schema), and every method that would write raises ReadOnlyArchive. Such an
        archive keeps working while a crawl writes: the index is in WAL mode, and each
        query outside a transaction sees the rows committed before it.
        """
        if create and readonly:
            raise ValueError("an archive cannot be created read-only")
        archive = cls(Path(root), readonly=readonly)
        marker = archive.layout.marker
        if not marker.exists():
            if not create:
                if not archive.root.exists():
                    raise NotAnArchive(f"{archive.root}: no such directory (crawl first, or pass --archive DIR)")
                raise NotAnArchive(f"{archive.root}: not a kisi-archive archive (no {marker.name})")
            if archive.root.exists() and not _empty_or_unfinished(archive.root):
                raise NotAnArchive(f"{archive.root}: directory exists and is not empty; choose an empty or new directory")
            archive._initialise()
        else:
            try:
                meta = json.loads(marker.read_text("utf-8"))
            except ValueError as exc:
                raise NotAnArchive(f"{marker}: unreadable ({exc})") from exc
            if meta.get("format") != FORMAT_NAME:
                raise NotAnArchive(f"{archive.root}: not a kisi-archive archive")
            if int(meta.get("schema_version", 0)) > SCHEMA_VERSION:
                raise NotAnArchive(
                    f"{archive.root}: written by a newer kisi-archive (schema {meta['schema_version']}); upgrade"
                )
            archive.schema = int(meta.get("schema_version", 1))
        return archive

    schema: int = SCHEMA_VERSION  # of the archive (its marker), which upgrade() raises

    @classmethod
    def open_for_reading(cls, root: str | os.PathLike[str]) -> Archive:
        """Open an archive for a command that only reads it (list, show, search, export …).

        When the index is current it is opened read-only: nothing is written and no lock
        is taken, so this works on read-only media and for users who cannot write the
        archive. A missing or outdated index is built, as `open` does, when the archive is
        writable; when it is not, the command reads the snapshot files, through an index
        of its own built in a temporary folder (deleted on close), and a warning says so.
        """
        archive = cls.open(root, readonly=True)
        try:
            archive.conn
            return archive
        except IndexNotReady as exc:
            archive.close()
            reason = str(exc)
        if not archive._cannot_write_index():
            return cls.open(root)
        archive._use_private_index(reason)
        return archive

    def _cannot_write_index(self) -> bool:
        return Archive.cannot_write(self.root)

    @staticmethod
    def cannot_write(root: str | os.PathLike[str]) -> bool:
        """Whether this process cannot write the archive's index (read-only media, or the
        archive of another user): then only reading it is possible."""
        index = Layout(Path(root)).index
        return idx.unwritable(Path(root)) or (index.exists() and not os.access(index, os.W_OK))

    def _use_private_index(self, reason: str) -> None:
        import tempfile

        from .rebuild import build

        folder = Path(tempfile.mkdtemp(prefix="kisi-archive-index-"))
        path = folder / self.layout.index.name
        logger.warning("%s; the archive is not writable here, so this reads the snapshot files (through an index "
                       "built in %s, deleted afterwards): run `kisi-archive reindex` as a user who can write it",
                       reason.split("; run")[0], folder)
        try:
            conn = sqlite3.connect(path)
            conn.row_factory = sqlite3.Row
            idx.create(conn)
            build(conn, self.root, self.layout.document_ids())
        except (OSError, sqlite3.Error) as exc:
            _remove_tree(folder)
            raise IndexNotReady(f"{reason.split('; run')[0]}, the archive is not writable here and no index could be "
                                f"built in {folder.parent} ({exc}); run `kisi-archive reindex` as a user who can "
                                "write the archive") from None
        self._conn, self._private_index = conn, folder

    def upgrade(self) -> list[str]:
        """Bring a schema-1 archive to this schema in place; returns what it did (nothing
        when it is current). No version file is rewritten: see storage/upgrade.py."""
        self._writable()
        from .upgrade import upgrade

        done = upgrade(self.layout)
        self.schema = SCHEMA_VERSION
        return done

    def _initialise(self) -> None:
        from datetime import datetime, timezone  # the creation time is metadata, not a decision

        # The marker first, atomically: a folder is an archive once it is there, and a
        # creation cut short before it (a full disk) leaves at most an empty `documents`
        # folder, which the next creation accepts (_empty_or_unfinished).
        self.root.mkdir(parents=True, exist_ok=True)
        created = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        try:
            write_once(self.layout.marker, dump_json({"format": FORMAT_NAME, "schema_version": SCHEMA_VERSION, "created_at": created}))
        except AlreadyExists:
            pass  # another process created it at the same moment
        self.layout.documents.mkdir(exist_ok=True)

    def close(self) -> None:
        if self._batch is not None:
            self.flush_index()
            self._batch = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
            self._conn_identity = None
        if self._private_index is not None:
            _remove_tree(self._private_index)
            self._private_index = None

    def batch_index(self, records: int = BATCH_RECORDS, seconds: float = BATCH_SECONDS) -> None:
        """From now on, commit index updates in batches: after `records` records, after
        `seconds` seconds (checked at each record) and on `flush_index` or `close`.

        For a long writer such as a crawl: one transaction per record rewrote the same
        index and full-text pages for every version. The files are written and fsynced
        per record as before; only the index (a cache of the files) lags, by at most one
        batch, and a writer killed mid-batch is caught up by the next one (index.pending).
        """
        self._writable()
        self._batch = _IndexBatch(self.root / PENDING, records, seconds)

    def flush_index(self) -> None:
        """Commit the open index batch, if any (readers see its rows from then on)."""
        if self._batch is None or not self._batch.count:
            return
        self.conn.commit()
        self._batch.committed()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def conn(self) -> sqlite3.Connection:
        """The index connection; builds or rebuilds the index when missing or outdated
        (read-only: raises IndexNotReady instead)."""
        if self._conn is not None and self.readonly and self._private_index is None \
                and self._index_identity(self._conn_identity) != self._conn_identity:
            # The index was replaced (a reindex) or a writer opened it since this reader
            # opened it immutable: read the current file, as it is now.
            self._conn.close()
            self._conn = None
        if self._conn is None and self.readonly:
            self._conn = self._connect_readonly()
        if self._conn is None:
            if not self._index_current():
                # One process builds; the others wait for it and then use its index. The
                # index appears only complete (built aside, then renamed into place).
                with file_lock(self.root / INDEX_LOCK):
                    if not self._index_current():
                        logger.info("building the index from the snapshot files")
                        self._rebuild_index()
            self._remove_dead_builds()
            self._conn = idx.connect(self.layout.index)
            self._conn_identity = self._index_identity(None)
            if (self.root / PENDING).exists():
                self._catch_up_pending(self._conn)
        return self._conn

    def _catch_up_pending(self, conn: sqlite3.Connection) -> None:
        """Re-index, from their files, the documents of an index batch a killed writer left.

        A live writer holds an flock on its list for as long as its batch is open: then the
        list is its own, and nothing is done here."""
        path = self.root / PENDING
        try:
            handle = open(path, "rb")
        except FileNotFoundError:
            return  # committed meanwhile
        with handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # a writer is working: its batch is not lost
            try:
                if os.stat(path).st_ino != os.fstat(handle.fileno()).st_ino:
                    return  # committed, and a new batch begun, while we waited
            except FileNotFoundError:
                return
            doc_ids = sorted(set(handle.read().decode("utf-8", errors="replace").split()))
            try:
                with conn:
                    for doc_id in doc_ids:
                        if self.layout.document_dir(doc_id).is_dir():
                            self._index_document(conn, self._doc_files(doc_id))
            except sqlite3.OperationalError as exc:
                if not idx.disk_full(exc):
                    raise
                # The list stays: the next command with room to write catches up.
                logger.warning("the index could not catch up with %d document(s) of an interrupted writer's last "
                               "batch: the disk is full (free some space; the next command that writes catches up)",
                               len(doc_ids))
                return
            path.unlink(missing_ok=True)
        logger.info("index caught up with %d document(s) of an interrupted writer's last batch", len(doc_ids))

    def _index_identity(self, opened: tuple[int, int, bool] | None) -> tuple[int, int, bool] | None:
        """Which index file a connection reads: (device, inode, immutable). An immutable
        connection (opened = its identity) turns stale once a writer creates `-shm`."""
        try:
            stat = os.stat(self.layout.index)
        except FileNotFoundError:
            return None
        immutable = bool(opened and opened[2]) and not Path(f"{self.layout.index}-shm").exists()
        return (stat.st_dev, stat.st_ino, immutable)

    def _remove_dead_builds(self) -> None:
        """Delete the temp files of index builds whose process was killed (a build holds
        the index lock: when it is free, no build is under way)."""
        with try_file_lock(self.root / INDEX_LOCK) as free:
            if free:
                for leftover in remove_dead_temps(self.layout.index):
                    logger.info("removed %s, left by an index build that was killed", leftover.name)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """Around one observation's writes: the index's shared lock (a rebuild waits for
        the write to end, the write for a rebuild to end), and the current index file (a
        connection to an index a rebuild has just replaced is reopened on the new one)."""
        conn = self.conn  # built first, if need be, under the exclusive lock

        def before_waiting() -> None:
            # A rebuild waits to copy into the index: an open transaction (a batch of index
            # updates) would block it while this waits for the rebuild.
            if conn.in_transaction:
                conn.commit()

        while True:
            with file_lock(self.root / INDEX_LOCK, shared=True, on_wait=before_waiting):
                if self._index_identity(None) == self._conn_identity:
                    yield conn
                    return
            # Reopened outside the shared lock: opening may need the exclusive one.
            logger.info("the index was rebuilt by another process: reopening it")
            # Whatever this connection has not committed belongs to records whose files were
            # written before the rebuild read them: the new index holds them. (A writer that
            # batches its index updates starts its batch afresh.)
            conn.rollback()
            if self._batch is not None:
                self._batch.committed()  # the rebuilt index read those documents' files
            conn.close()
            self._conn = self._conn_identity = None
            conn = self.conn

    def _connect_readonly(self) -> sqlite3.Connection:
        path = self.layout.index
        if not path.exists():
            raise IndexNotReady(f"{path}: no index yet; run `kisi-archive reindex` (or a crawl) first")
        try:
            identity = self._index_identity(None)
            conn, immutable = idx.open_readonly(path)
        except sqlite3.Error as exc:
            raise IndexNotReady(f"{path}: cannot be opened ({exc}); run `kisi-archive reindex`") from None
        schema = idx.schema_of(conn)
        if schema != idx.INDEX_SCHEMA:
            conn.close()
            what = "not an index" if schema is None else f"index schema {schema}"
            raise IndexNotReady(f"{path}: {what}, this kisi-archive reads schema {idx.INDEX_SCHEMA}; "
                                "run `kisi-archive reindex`")
        self._conn_identity = identity and (identity[0], identity[1], immutable)
        return conn

    def _writable(self) -> None:
        if self.readonly:
            raise ReadOnlyArchive(f"{self.root}: opened read-only")

    def _index_current(self) -> bool:
        if not self.layout.index.exists():
            return False
        try:
            probe = idx.connect(self.layout.index, readonly=True)
        except sqlite3.DatabaseError:
            return False  # not an SQLite file (a torn copy): rebuilt
        try:
            return idx.schema_of(probe) == idx.INDEX_SCHEMA
        finally:
            probe.close()

    # -- reading the files -------------------------------------------------------------
    def _read_snapshot(self, doc_id: str, version: int) -> dict[str, Any]:
        return read_snapshot(str(self.layout.documents), doc_id, version)[1]

    def _doc_files(self, doc_id: str) -> _DocFiles:
        versions = self.layout.versions_on_disk(doc_id)
        snapshots = [self._read_snapshot(doc_id, v) for v in versions]
        captures, bad = read_lines(self.layout.captures(doc_id))
        return _DocFiles(doc_id, snapshots, captures, bad)

    def _latest_snapshot(self, doc_id: str) -> dict[str, Any] | None:
        latest = self._latest(doc_id)
        return latest[0] if latest else None

    def _latest(self, doc_id: str) -> tuple[dict[str, Any], str] | None:
        """The latest snapshot and the SHA-256 of its file (the next version's chain link)."""
        if not self.layout.document_dir(doc_id).is_dir():
            return None
        versions = self.layout.versions_on_disk(doc_id)
        if not versions:
            return None
        raw, data = read_snapshot(str(self.layout.documents), doc_id, versions[-1])
        return data, hashlib.sha256(raw).hexdigest()

    # -- recording ---------------------------------------------------------------------
    def _identify(self, capture: Capture) -> str:
        if capture.post_id is not None:
            # A post keeps the id it was first stored under, even if a later reading decides
            # its language differently (post ids are unique within a site).
            rows = self.conn.execute("SELECT doc_id FROM documents WHERE site = ? AND post_id = ?",
                                     (capture.site, capture.post_id)).fetchall()
            if len(rows) == 1:
                return rows[0]["doc_id"]
            return document_id(capture.site, capture.language, capture.post_id, None)
        # Without a post id, a URL we already know names the document.
        for url in (capture.canonical_url, capture.final_url, capture.url):
            if url:
                row = self.conn.execute("SELECT doc_id FROM aliases WHERE url_key = ?", (normalize_url(url),)).fetchone()
                if row:
                    return row["doc_id"]
        return document_id(capture.site, capture.language, None, capture.canonical_url or capture.final_url)

    def record(self, observation: Capture | Sighting | Removal | Reextraction | AttachmentBlob, *,
               reread: Reread | None = None) -> CaptureResult:
        """Record what a crawl observed: a capture, a sighting (e.g. HTTP 304), a removal,
        a re-reading of a stored response, or an attachment's body."""
        if isinstance(observation, Capture):
            return self.record_capture(observation, reread=reread)
        if isinstance(observation, AttachmentBlob):
            return self.put_attachment(observation)
        doc_id = observation.doc_id
        if isinstance(observation, Sighting):
            return self._commit(doc_id, lambda latest, sha: commit_sighting(
                doc_id, _existing(doc_id, latest), observation, previous_sha256=sha))
        if isinstance(observation, Reextraction):
            return self._commit(doc_id, lambda latest, sha: commit_reextraction(
                doc_id, _existing(doc_id, latest), observation, previous_sha256=sha))
        return self._commit(doc_id, lambda latest, sha: commit_removal(
            doc_id, _existing(doc_id, latest), observation, previous_sha256=sha))

    def record_capture(self, capture: Capture, *, reread: Reread | None = None) -> CaptureResult:
        """Store a capture: a new version if its content changed, else only mark it seen.

        With `reread`, a capture read by another extractor than the latest version first
        has that version's raw response read again by it (policy.needs_reread): a
        difference that comes from the extractor becomes a version with cause
        `extractor`, and only what remains counts as the site's change.
        Example: ``Archive.open("archive", create=True).record_capture(capture)``
        """
        self._writable()
        doc_id = self._identify(capture)
        folder = self.layout.document_dir(doc_id)
        new_document = not folder.is_dir()
        folder.mkdir(parents=True, exist_ok=True)
        if reread is not None and not new_document:  # a new document has no version to read again
            self._commit(doc_id, lambda latest, sha: self._reread_commit(doc_id, latest, sha, capture, reread))
        return self._commit(doc_id, lambda latest, sha: commit_capture(doc_id, latest, capture, previous_sha256=sha))

    def _reread_commit(self, doc_id: str, latest: dict[str, Any] | None, sha: str | None, capture: Capture,
                       reread: Reread) -> Commit:
        if latest is None or not needs_reread(latest, capture):
            return Commit(CaptureResult(doc_id, "unchanged", latest["version"] if latest else 0), None)
        snapshot = Snapshot.from_json(latest)
        reading = reread(snapshot, self.raw_body(doc_id, snapshot.version))
        if reading is None:
            return Commit(CaptureResult(doc_id, "unchanged", snapshot.version), None)
        logger.info("%s v%d read again by %s before comparing the new capture", doc_id, snapshot.version,
                    reading.extractor)
        return commit_reextraction(doc_id, latest, reading, previous_sha256=sha)

    def put_attachment(self, blob: AttachmentBlob) -> CaptureResult:
        """Store an attachment's body and what is known of it, once per content."""
        self._writable()
        written = put_blob(self.layout, blob)
        return CaptureResult(blob.sha256, "attachment-stored" if written else "attachment-known", 0)

    def record_removal(self, doc_id: str, *, evidence: dict[str, Any], fetched_at: str, http_status: int | None,
                       run_id: str | None) -> CaptureResult:
        """Write a tombstone version: the post is gone, with the evidence that shows it.

        The tombstone repeats the last known content (so `show --version` of it still says
        what was removed) and adds `removal`. Recording a removal twice writes nothing.
        """
        return self.record(Removal(doc_id=doc_id, evidence=evidence, fetched_at=fetched_at,
                                   http_status=http_status, run_id=run_id))

    def mark_seen(self, doc_id: str, *, url: str, fetched_at: str, http_status: int, run_id: str | None,
                  reason: str) -> None:
        """Record a capture that confirmed the stored content without a body (e.g. HTTP 304)."""
        self.record(Sighting(doc_id=doc_id, url=url, fetched_at=fetched_at, http_status=http_status,
                             run_id=run_id, reason=reason))

    def _commit(self, doc_id: str, decide_commit: Callable[[dict[str, Any] | None, str | None], Commit]) -> CaptureResult:
        """The one write path: under the document's lock, decide against the latest stored
        snapshot (storage.policy), then write the version (raw body, then the snapshot: the
        commit point), the capture line and the index rows, in that order."""
        self._writable()
        folder = self.layout.document_dir(doc_id)
        if not folder.is_dir():
            raise UnknownDocument(f"no document {doc_id!r}")
        with self._writing(), document_lock(folder):
            if self._batch is not None:
                self._batch.touch(doc_id)  # before the files: a kill after them leaves it listed
            while True:
                latest = self._latest(doc_id)
                commit = decide_commit(*(latest or (None, None)))
                if commit.snapshot is None:
                    break
                if self.before_version is not None and commit.snapshot.warc is not None:
                    self.before_version()
                try:
                    written = self._write_version(commit.snapshot, commit.raw_body)
                except AlreadyExists:
                    # Another writer stored this version first: decide again against it.
                    logger.warning("%s v%d was written concurrently; re-deciding", doc_id, commit.snapshot.version)
                    continue
                break
            if commit.capture_line is not None:
                append_line(self.layout.captures(doc_id), commit.capture_line)
            if commit.snapshot is not None:
                self._index_version(written, commit.capture_line)
            elif commit.capture_line is not None:
                self._index_write(idx.touch_document, doc_id, commit.capture_line["fetched_at"])
        return commit.result

    def _index_write(self, write: Callable[..., None], *args: Any) -> None:
        """One index update: committed at once, or into the open batch (see batch_index)."""
        if self._batch is None:
            with self.conn:
                write(self.conn, *args)
            return
        write(self.conn, *args)
        if self._batch.full():
            self.flush_index()

    def _write_version(self, snapshot: Snapshot, raw_body: bytes) -> dict[str, Any]:
        """Write the version's files; returns the snapshot as written (JSON), for the index."""
        doc_id, version = snapshot.doc_id, snapshot.version
        # A version read again from an earlier response points to that version's raw file.
        if snapshot.raw is not None and raw_body:
            raw_path = self.layout.raw(doc_id, version)
            # A raw file with no snapshot beside it was left by a crashed writer: it belongs
            # to no stored version, so replacing it changes nothing that was archived.
            if self.layout.snapshot(doc_id, version).exists():
                raise AlreadyExists(str(raw_path))
            # Its name is made durable by the folder fsync of write_once below (one fsync,
            # not two): the rename and the snapshot's link are in the same folder, and
            # ext4, XFS and btrfs journal a folder's changes in order, so a snapshot that
            # survives a crash has its raw body beside it.
            replace_atomically(raw_path, gzip_bytes(raw_body), sync_dir=False)
        data = snapshot.to_json()
        write_once(self.layout.snapshot(doc_id, version), dump_json(data))
        return data

    def _attachment_texts(self, snapshot: dict[str, Any]) -> list[tuple[str, str, str | None]]:
        """(sha256, text, error) of each stored attachment the snapshot lists, for the index."""
        from .blobs import read_blob_meta

        texts = []
        for entry in snapshot.get("attachments") or ():
            if entry.get("sha256"):
                meta = read_blob_meta(self.layout, entry["sha256"]) or {}
                texts.append((entry["sha256"], meta.get("text") or "", meta.get("text_error")))
        return texts

    def _index_attachment_texts(self, conn: sqlite3.Connection, snapshot: dict[str, Any]) -> None:
        for sha256, text, error in self._attachment_texts(snapshot):
            idx.put_attachment_text(conn, sha256, text, error)

    def _index_version(self, snapshot: dict[str, Any], capture_line: dict[str, Any] | None) -> None:
        doc_id = snapshot["doc_id"]
        conn = self.conn
        # The document's row follows from its previous row and the line just appended; the
        # capture log is read again only when the index does not hold the previous version.
        previous = conn.execute("SELECT versions, captures, first_seen, last_seen FROM documents WHERE doc_id = ?",
                                (doc_id,)).fetchone()
        if previous is not None and previous["versions"] == snapshot["version"] - 1 and previous["captures"]:
            row = idx.document_row_after(doc_id, snapshot, previous, capture_line)
        else:
            row = idx.document_row(doc_id, snapshot, snapshot["version"], read_lines(self.layout.captures(doc_id))[0])
        self._index_write(_put_version, snapshot, row, self._attachment_texts(snapshot))

    # -- index maintenance ---------------------------------------------------------------
    def _index_document(self, conn: sqlite3.Connection, files: _DocFiles) -> None:
        if not files.snapshots:
            return
        conn.execute("DELETE FROM versions WHERE doc_id = ?", (files.doc_id,))
        for snapshot in files.snapshots:
            self._index_attachment_texts(conn, snapshot)
            idx.put_version(conn, idx.version_row(snapshot))
            idx.put_aliases(conn, files.doc_id, _alias_keys(snapshot))
        latest = files.snapshots[-1]
        idx.put_document(conn, idx.document_row(files.doc_id, latest, latest["version"], files.captures))

    def _catch_up_all(self, conn: sqlite3.Connection) -> int:
        """Index every document into an empty index (parallel reads, batched writes)."""
        from .rebuild import build

        return build(conn, self.root, self.layout.document_ids())

    def _rebuild_index(self) -> int:
        """Build a fresh index beside the old one, then put it in place atomically."""
        # Called with the index lock held exclusively: no writer is between its file and
        # index writes, so the files read here are all there is, and none writes until the
        # new index is in place.
        remove_dead_temps(self.layout.index)
        tmp = temp_name(self.layout.index)
        conn = sqlite3.connect(tmp)
        conn.row_factory = sqlite3.Row
        try:
            idx.create(conn)
            count = self._catch_up_all(conn)
            if not self._copy_into_live_index(conn):
                # In WAL mode before it is in place: a writer opening it never has to convert it.
                conn.execute("PRAGMA journal_mode=WAL")
                conn.close()
                for leftover in (Path(f"{self.layout.index}-wal"), Path(f"{self.layout.index}-shm")):
                    leftover.unlink(missing_ok=True)
                os.replace(tmp, self.layout.index)
        finally:
            conn.close()
            for leftover in (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
                leftover.unlink(missing_ok=True)
        return count

    def _copy_into_live_index(self, built: sqlite3.Connection) -> bool:
        """Copy a freshly built index into the live index file, in one SQLite transaction
        (the backup API): other processes' connections stay valid and see the old index or
        the new one, never a file replaced under them (SQLite forbids renaming or deleting
        an open database: the last connection to an unlinked file would delete the new
        file's WAL by name). False when the live file cannot take it (missing, unreadable,
        of another page size): then the new file replaces it."""
        path = self.layout.index
        if not path.exists():
            return False
        try:
            live = sqlite3.connect(path, timeout=30)
            try:
                sizes = {c.execute("PRAGMA page_size").fetchone()[0] for c in (built, live)}
                if len(sizes) != 1 or live.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    return False
                built.commit()
                built.backup(live)
                try:
                    live.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the copy went through the WAL
                except sqlite3.OperationalError:
                    pass  # a reader holds it: checkpointed later
            finally:
                live.close()
        except sqlite3.DatabaseError as exc:
            logger.info("index %s replaced rather than copied into (%s)", path, exc)
            return False
        return True

    def reindex(self) -> int:
        """Rebuild the SQLite index from the snapshot files; returns the number of documents.

        Safe beside a crawl: the rebuild takes the index lock exclusively, so it starts
        between two of the crawl's records and the crawl waits for it, then writes into
        the new index (see INDEX_LOCK).
        """
        self._writable()
        self.close()
        with file_lock(self.root / INDEX_LOCK):
            return self._rebuild_index()

    def catch_up(self, doc_ids: Iterable[str]) -> None:
        """Re-index these documents from their files, each under its lock (so a writer
        adding a version at the same moment is neither undone nor missed)."""
        self._writable()
        with self._writing() as conn:
            for doc_id in doc_ids:
                folder = self.layout.document_dir(doc_id)
                if not folder.is_dir():
                    continue
                with document_lock(folder), conn:
                    self._index_document(conn, self._doc_files(doc_id))

    # -- crawl state ---------------------------------------------------------------------
    def load_state(self, name: str) -> dict[str, Any]:
        """A crawler's memory between runs (validators, pending removals); {} when none yet.

        State files are working notes about the crawl, not archived content: they live in
        ARCHIVE/state/<name>.json and are replaced atomically.
        """
        try:
            return json.loads(self.layout.state(name).read_text("utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError:
            logger.warning("crawl state %s unreadable: starting afresh", name)
            return {}

    def save_state(self, name: str, data: dict[str, Any]) -> None:
        self._writable()
        self.layout.state(name).parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(self.layout.state(name)) as handle:
            write_state_json(handle, data)

    # -- queries -----------------------------------------------------------------------
    def list_documents(self) -> list[DocumentSummary]:
        """Every document, newest publication first."""
        rows = self.conn.execute(
            "SELECT * FROM documents ORDER BY COALESCE(date_published, '') DESC, doc_id"
        ).fetchall()
        return [_summary(row) for row in rows]

    def resolve(self, ref: str) -> str:
        """A document id, or any URL of the post (permalink, old URL, shortlink), to its doc_id."""
        ref = ref.strip()
        row = self.conn.execute("SELECT doc_id FROM documents WHERE doc_id = ?", (ref,)).fetchone()
        if row:
            return row["doc_id"]
        if "://" in ref:
            row = self.conn.execute("SELECT doc_id FROM aliases WHERE url_key = ?", (normalize_url(ref),)).fetchone()
            if row:
                return row["doc_id"]
            post_id = shortlink_post_id(ref)
            if post_id is not None:
                rows = self.conn.execute("SELECT doc_id FROM documents WHERE post_id = ?", (post_id,)).fetchall()
                if len(rows) == 1:
                    return rows[0]["doc_id"]
        raise UnknownDocument(f"no document matches {ref!r} (try `kisi-archive list` for ids and URLs)")

    def translations(self, doc_id: str) -> dict[str, str]:
        """The other languages of a post: language -> doc_id, from the hreflang links of its
        latest version and of the documents that link back to it (a translation group)."""
        row = self.conn.execute("SELECT alternates, language FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        if row is None:
            raise UnknownDocument(f"no document {doc_id!r}")
        group: dict[str, str] = {}
        for lang, url in json.loads(row["alternates"] or "{}").items():
            found = self.conn.execute("SELECT doc_id FROM aliases WHERE url_key = ?", (normalize_url(url),)).fetchone()
            if found and found["doc_id"] != doc_id:
                group[lang] = found["doc_id"]
        return dict(sorted(group.items()))

    def versions(self, doc_id: str) -> list[VersionSummary]:
        rows = self.conn.execute("SELECT * FROM versions WHERE doc_id = ? ORDER BY version", (doc_id,)).fetchall()
        if not rows:
            raise UnknownDocument(f"no document {doc_id!r}")
        return [
            VersionSummary(
                doc_id=row["doc_id"], version=row["version"], kind=row["kind"], fetched_at=row["fetched_at"],
                content_sha256=row["content_sha256"], changed_fields=json.loads(row["changed_fields"]),
                minor=bool(row["minor"]), url=row["url"], title=row["title"], cause=row["cause"] or CAUSE_SITE,
            )
            for row in rows
        ]

    def get(self, doc_id: str, version: int | None = None) -> Snapshot:
        """One snapshot (the latest when `version` is None), read from its JSON file."""
        if version is None:
            latest = self._latest_snapshot(doc_id)
            if latest is None:
                raise UnknownDocument(f"no document {doc_id!r}")
            return Snapshot.from_json(latest)
        if not self.layout.document_dir(doc_id).is_dir():
            raise UnknownDocument(f"no document {doc_id!r}")
        return Snapshot.from_json(self._read_snapshot(doc_id, version))

    def raw_body(self, doc_id: str, version: int) -> bytes:
        """The raw response body of a version (a version read again from an earlier
        response shares that version's file)."""
        snapshot = self._read_snapshot(doc_id, version)
        name = (snapshot.get("raw") or {}).get("path")
        path = self.layout.document_dir(doc_id) / name if name else self.layout.raw(doc_id, version)
        return gzip.decompress(path.read_bytes())

    def captures(self, doc_id: str) -> list[dict[str, Any]]:
        return read_lines(self.layout.captures(doc_id))[0]

    def iter_snapshots(self) -> Iterator[dict[str, Any]]:
        for doc_id in self.layout.document_ids():
            for version in self.layout.versions_on_disk(doc_id):
                yield self._read_snapshot(doc_id, version)

    # -- verify ------------------------------------------------------------------------
    def verify(self) -> VerifyReport:
        """Check every file against its hashes, the chain of versions, the WARC records and
        attachments they point to, the index against the files, and orphans (storage/verify.py).

        An index that lags behind the files (a crash between the two writes) is caught up
        and reported under `repaired`; any contradiction is an error naming its file.
        Read-only (`open(readonly=True)`, e.g. on read-only media) it writes nothing: a
        lagging index is then a warning.
        """
        return verify_archive(self)


def _put_version(conn: sqlite3.Connection, snapshot: dict[str, Any], document: dict[str, Any],
                 attachment_texts: list[tuple[str, str, str | None]]) -> None:
    for sha256, text, error in attachment_texts:
        idx.put_attachment_text(conn, sha256, text, error)
    idx.put_version(conn, idx.version_row(snapshot))
    idx.put_document(conn, document)
    idx.put_aliases(conn, snapshot["doc_id"], _alias_keys(snapshot))


class _IndexBatch:
    """The open index batch of a writer: how many records, since when, which documents."""

    def __init__(self, pending: Path, records: int, seconds: float) -> None:
        self.pending, self.records, self.seconds = pending, max(1, records), seconds
        self.count = 0
        self.started = 0.0
        self._listed: set[str] = set()
        self._handle: Any = None

    def touch(self, doc_id: str) -> None:
        if not self.count:
            self.started = time.monotonic()
        self.count += 1
        if doc_id not in self._listed:
            if self._handle is None:
                self._handle = open(self.pending, "ab")
                # Held while the batch is open (the OS drops it if we die): readers of the
                # list then know it belongs to a live writer (Archive._catch_up_pending).
                fcntl.flock(self._handle.fileno(), fcntl.LOCK_EX)
            # No fsync: this guards against a killed process (the page cache keeps the line);
            # after a power failure `verify` catches the index up, as before batching.
            self._handle.write(doc_id.encode("utf-8") + b"\n")
            self._handle.flush()
            self._listed.add(doc_id)

    def full(self) -> bool:
        return self.count >= self.records or time.monotonic() - self.started >= self.seconds

    def committed(self) -> None:
        self.pending.unlink(missing_ok=True)  # while still locked: nobody catches up a committed batch
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        self._listed.clear()
        self.count = 0


def _empty_or_unfinished(root: Path) -> bool:
    """Whether a folder without a marker may become an archive: empty, or holding only what
    an archive creation cut short leaves (an empty `documents` folder, temp files)."""
    for entry in root.iterdir():
        if entry.name.startswith(TEMP_PREFIX):
            continue
        if entry.name not in _UNFINISHED_CREATION:
            return False
        if entry.is_dir() and any(entry.iterdir()):
            return False
    return True


def _remove_tree(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def _existing(doc_id: str, latest: dict[str, Any] | None) -> dict[str, Any]:
    if latest is None:
        raise UnknownDocument(f"no document {doc_id!r}")
    return latest


def _alias_keys(snapshot: dict[str, Any]) -> set[str]:
    urls = (snapshot.get(name) for name in ("url", "final_url", "canonical_url", "shortlink"))
    return {normalize_url(url) for url in urls if url}


def _summary(row: sqlite3.Row) -> DocumentSummary:
    return idx.document_summary(row)


__all__ = ["Archive", "VerifyReport", "document_id", "VERSIONED_FIELDS"]
