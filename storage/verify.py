"""`verify`: everything the archive's files promise about each other, checked.

- each snapshot: readable, of a known schema, its content against `content_sha256`, its raw
  body against its sha256;
- the chain: each schema-2 version names the SHA-256 of the previous version's file, and
  the schema-1 versions sealed by the upgrade still have the SHA-256 `chain.json` recorded,
  so a changed byte, a deleted version or a swapped file breaks a link that names it;
- the capture log: it names no version beyond the last file, and the content each of its
  lines saw is the content of that version (a deleted or altered latest version shows);
- attachments: every body a snapshot names is there and has its SHA-256;
- WARC: every file's block and payload digests (what `warcio check` checks), and every
  record a snapshot points to is the record it names;
- the index against the files (a lagging index is caught up, see Archive._index_document);
- orphans: temporary files, raw bodies and attachment bodies no snapshot names, files the
  layout does not know, the temp files of killed index builds and exports.

Every problem names the file (relative to the archive root) in `problems`.

It runs beside a crawl without false alarms: the index is read before the files (a writer
writes the files first, so the index can then only lag behind what is read later, never
run ahead), a document's capture log is read before its versions are listed (a line names
only versions written before it), a lagging document is looked up again in the index of
the moment before it is caught up, under its lock, and the unfinished tail of a WARC file
that the running crawl is writing is a warning. On an archive opened read-only nothing is
caught up: a lagging index is a warning that says how to catch it up.
"""
from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import index as idx
from .blobs import file_sha256, stored_blobs
from .errors import CorruptSnapshot
from .files import LOCK_NAME, TEMP_PREFIX, lock_held, process_alive, read_lines, temp_owner
from .layout import CAPTURES, CHAIN, INDEX, WARC_DIGESTS
from .policy import snapshot_digest
from .records import READABLE_SCHEMAS, WarcRef
from .snapshots import read_snapshot
from .warcfiles import check_file, read_record, warc_files

if TYPE_CHECKING:
    from .store import Archive

ERROR, WARNING = "error", "warning"


@dataclass
class VerifyReport:
    documents: int = 0
    versions: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)  # {"severity", "path", "problem"}
    warc_records: int = 0
    attachments: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, path: str, problem: str) -> None:
        self.problems.append({"severity": ERROR, "path": path, "problem": problem})
        self.errors.append(f"{path}: {problem}")

    def warning(self, path: str, problem: str) -> None:
        self.problems.append({"severity": WARNING, "path": path, "problem": problem})
        self.warnings.append(f"{path}: {problem}")

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "documents": self.documents,
            "versions": self.versions,
            "warc_records": self.warc_records,
            "attachments": self.attachments,
            "errors": self.errors,
            "warnings": self.warnings,
            "repaired": self.repaired,
            "problems": self.problems,
        }


@dataclass
class _DocFiles:
    """What the files say about one document."""

    doc_id: str
    snapshots: list[dict[str, Any]]
    captures: list[dict[str, Any]]
    bad_capture_lines: int


_DOC_FILE_SUFFIXES = (".json", ".html.gz")


def verify_archive(archive: Archive) -> VerifyReport:
    report = VerifyReport()
    indexed = _read_index(archive, report)  # before the files: see the module's docstring
    disk: dict[str, _DocFiles] = {}
    named_blobs: dict[str, str] = {}  # sha256 -> first snapshot path naming it
    warc_refs: list[tuple[str, WarcRef]] = []
    for doc_id in archive.layout.document_ids():
        files = _verify_document(archive, doc_id, report, named_blobs, warc_refs)
        if files is not None:
            disk[doc_id] = files
    _verify_blobs(archive, named_blobs, report)
    _verify_warcs(archive, warc_refs, report)
    _verify_root(archive, report)
    if indexed is not None:
        _verify_index(archive, disk, indexed, report)
    return report


@dataclass
class _IndexRows:
    documents: dict[str, Any]
    versions: dict[tuple[str, int], Any]


def _read_index(archive: Archive, report: VerifyReport) -> _IndexRows | None:
    """The index's rows, read in one transaction (None when there is no index: rebuilt)."""
    if not archive.layout.index.exists():
        if archive.readonly:
            report.warning(INDEX, "index is missing; run `kisi-archive reindex`")
        else:
            report.repaired.append("index was missing: rebuilt from the files")
            archive.reindex()
        return None
    conn = archive.conn
    with _read_transaction(conn):
        documents = {row["doc_id"]: row for row in conn.execute("SELECT * FROM documents")}
        versions = {(row["doc_id"], row["version"]): row
                    for row in conn.execute("SELECT doc_id, version, content_sha256 FROM versions")}
    return _IndexRows(documents, versions)


class _read_transaction:
    """One consistent view of the index for several queries (a read transaction)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN")
            self.began = True
        else:
            self.began = False

    def __exit__(self, *exc: object) -> None:
        if self.began:
            self.conn.execute("COMMIT")


def _verify_root(archive: Archive, report: VerifyReport) -> None:
    """Leftovers in the archive's root: temp files of index builds or feeds that were killed."""
    for entry in sorted(os.listdir(archive.root)):
        if entry.startswith(TEMP_PREFIX) and not _live_temp(entry):
            report.warning(entry, "temporary file left by a killed process (index build, export …): harmless, "
                                  "removed by the next index build or write of the same file")


def _rel(archive: Archive, path: Any) -> str:
    return os.path.relpath(path, archive.root)


def _verify_document(archive: Archive, doc_id: str, report: VerifyReport, named_blobs: dict[str, str],
                     warc_refs: list[tuple[str, WarcRef]]) -> _DocFiles | None:
    layout = archive.layout
    folder = layout.document_dir(doc_id)
    here = _rel(archive, folder)
    # The capture log before the versions: each line names a version written before it.
    captures, bad = read_lines(layout.captures(doc_id))
    versions = layout.versions_on_disk(doc_id)
    expected = list(range(1, (versions[-1] if versions else 0) + 1))
    for missing in sorted(set(expected) - set(versions)):
        report.error(_rel(archive, layout.snapshot(doc_id, missing)),
                     f"version {missing} of {doc_id} is missing (deleted?); the versions on disk are {versions}")
    seal = _read_seal(archive, doc_id, report)
    snapshots: list[dict[str, Any]] = []
    raw_names: set[str] = set()
    previous_sha: str | None = None
    previous_version: int | None = None
    for version in versions:
        path = _rel(archive, layout.snapshot(doc_id, version))
        try:
            raw, snapshot = read_snapshot(str(layout.documents), doc_id, version)
        except CorruptSnapshot as exc:
            report.error(path, str(exc).split(": ", 1)[-1])
            previous_sha, previous_version = None, None
            continue
        report.versions += 1
        sha = hashlib.sha256(raw).hexdigest()
        _verify_snapshot(archive, path, snapshot, report, raw_names)
        _verify_link(archive, path, snapshot, sha, seal, previous_sha, previous_version, report)
        for attachment in snapshot.get("attachments") or ():
            if attachment.get("sha256"):
                named_blobs.setdefault(attachment["sha256"], path)
        ref = WarcRef.from_json(snapshot.get("warc"))
        if ref is not None:
            warc_refs.append((path, ref))
        snapshots.append(snapshot)
        previous_sha, previous_version = sha, version
    if bad:
        report.warning(_rel(archive, layout.captures(doc_id)), f"{bad} unreadable line(s) (torn write)")
    _verify_captures(archive, doc_id, versions, snapshots, captures, report)
    for entry in sorted(os.listdir(folder)):
        full = folder / entry
        if entry.startswith(TEMP_PREFIX):
            if not _live_temp(entry):
                report.warning(_rel(archive, full), "temporary file left by an interrupted write (harmless)")
        elif entry.endswith(".html.gz") and entry not in raw_names:
            # A writer writes the raw body just before its snapshot: only a body whose
            # snapshot is still absent once the document's lock is free was left behind.
            if not _written_since(folder, entry.replace(".html.gz", ".json")):
                report.warning(_rel(archive, full), "raw body that no snapshot names (left by an interrupted write)")
        elif entry not in (CAPTURES, CHAIN, LOCK_NAME) and not (entry.startswith("v") and entry.endswith(_DOC_FILE_SUFFIXES)):
            report.warning(_rel(archive, full), "file the archive layout does not know")
    if not versions:
        if not _written_since(folder, None):
            report.warning(here, "folder holds no version (interrupted first write)")
        return None
    report.documents += 1
    return _DocFiles(doc_id, snapshots, captures, bad)


def _verify_snapshot(archive: Archive, path: str, snapshot: dict[str, Any], report: VerifyReport,
                     raw_names: set[str]) -> None:
    schema = snapshot.get("schema_version")
    if schema not in READABLE_SCHEMAS:
        report.error(path, f"unknown schema_version {schema!r}")
        return
    if snapshot_digest(snapshot) != snapshot.get("content_sha256"):
        report.error(path, "content does not match content_sha256 (file altered)")
    raw = snapshot.get("raw")
    if not raw:
        return
    raw_path = archive.layout.document_dir(snapshot["doc_id"]) / raw["path"]
    raw_names.add(raw["path"])
    try:
        body = gzip.decompress(raw_path.read_bytes())
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        report.error(_rel(archive, raw_path), f"raw body of version {snapshot['version']} unreadable ({exc})")
        return
    if hashlib.sha256(body).hexdigest() != raw["sha256"]:
        report.error(_rel(archive, raw_path), f"raw body does not match the sha256 version {snapshot['version']} "
                                              "records (altered or swapped)")


def _read_seal(archive: Archive, doc_id: str, report: VerifyReport) -> dict[int, str] | None:
    path = archive.layout.chain(doc_id)
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        report.error(_rel(archive, path), f"unreadable ({exc})")
        return {}
    return {int(item["version"]): item["sha256"] for item in data.get("versions", [])}


def _verify_link(archive: Archive, path: str, snapshot: dict[str, Any], sha: str, seal: dict[int, str] | None,
                 previous_sha: str | None, previous_version: int | None, report: VerifyReport) -> None:
    """One link of the chain: this file against the seal, and against the next version."""
    version = snapshot["version"]
    if snapshot.get("schema_version") == 1:
        if seal is not None and version not in seal:
            report.error(path, "a schema-1 version the upgrade did not seal (added afterwards?)")
        elif seal is not None and seal[version] != sha:
            report.error(path, f"file differs from the SHA-256 {CHAIN} recorded at the upgrade (altered or swapped)")
        elif seal is None and archive.schema >= 2:
            report.error(path, f"schema-1 version but the document has no {CHAIN} (run `kisi-archive upgrade`)")
        return
    if version == 1:
        if snapshot.get("previous_sha256") is not None:
            report.error(path, "version 1 names a previous version")
        return
    expected = snapshot.get("previous_sha256")
    previous_path = _rel(archive, archive.layout.snapshot(snapshot["doc_id"], version - 1))
    if previous_sha is None or previous_version != version - 1:
        return  # the previous file is missing or unreadable: reported there
    if expected != previous_sha:
        report.error(previous_path, f"does not match the previous_sha256 that version {version} records "
                                    f"(changed, replaced or swapped after version {version} was written)")


def _verify_captures(archive: Archive, doc_id: str, versions: list[int], snapshots: list[dict[str, Any]],
                     captures: list[dict[str, Any]], report: VerifyReport) -> None:
    by_version = {s["version"]: s for s in snapshots}
    last = versions[-1] if versions else 0
    for number, line in enumerate(captures, start=1):
        version = line.get("version")
        if not isinstance(version, int):
            continue
        if version > last:
            report.error(_rel(archive, archive.layout.snapshot(doc_id, version)),
                         f"{CAPTURES} line {number} names version {version}, which is not on disk (deleted?)")
            continue
        snapshot = by_version.get(version)
        if snapshot is not None and line.get("content_sha256") not in (None, snapshot.get("content_sha256")):
            if line.get("outcome") in ("new-document", "new-version", "restored", "removed"):
                report.error(_rel(archive, archive.layout.snapshot(doc_id, version)),
                             f"content differs from what {CAPTURES} line {number} recorded when it was written")


def _verify_blobs(archive: Archive, named: dict[str, str], report: VerifyReport) -> None:
    layout = archive.layout
    for sha, where in sorted(named.items()):
        path = layout.blob(sha)
        report.attachments += 1
        if not path.exists():
            report.error(_rel(archive, path), f"attachment body named by {where} is missing")
            continue
        if file_sha256(path) != sha:
            report.error(_rel(archive, path), "attachment body does not match its sha256 (altered)")
        if not layout.blob_meta(sha).exists():
            report.warning(_rel(archive, layout.blob_meta(sha)), "what is known of the attachment is missing")
    for sha in stored_blobs(layout):
        if sha not in named:
            report.warning(_rel(archive, layout.blob(sha)), "attachment body that no snapshot names")


def _verify_warcs(archive: Archive, refs: list[tuple[str, WarcRef]], report: VerifyReport) -> None:
    names = warc_files(archive.root)
    crawling = lock_held(archive.layout.crawl_lock)
    for name in names:
        check = check_file(archive.root, name)
        report.warc_records += check.records
        for problem in check.problems:
            if crawling and problem.startswith("unreadable after") and name == names[-1]:
                # The running crawl is appending to its file: its last record is unfinished.
                report.warning(name, f"{problem} (being written by the running crawl)")
            else:
                report.error(name, problem)
    folder = archive.layout.warc_dir
    if folder.is_dir():
        for entry in sorted(os.listdir(folder)):
            if not entry.endswith(".warc.gz") and not entry.startswith(WARC_DIGESTS) \
                    and not entry.startswith(TEMP_PREFIX):
                report.warning(_rel(archive, folder / entry), "file the archive layout does not know")
    for where, ref in refs:
        if not archive.layout.warc(ref.file).exists():
            report.error(ref.file, f"WARC file named by {where} is missing")
            continue
        try:
            headers, _payload = read_record(archive.root, ref)
        except (OSError, ValueError) as exc:
            report.error(ref.file, f"the record {where} points to: {exc}")
            continue
        if headers.get("WARC-Record-ID") != ref.record_id:
            report.error(ref.file, f"offset {ref.offset} holds {headers.get('WARC-Record-ID')}, "
                                   f"{where} points to {ref.record_id}")
        elif headers.get("WARC-Payload-Digest") not in (None, ref.payload_digest):
            report.error(ref.file, f"record {ref.record_id}: payload digest differs from {where}")


def _live_temp(name: str) -> bool:
    """Whether a temp file belongs to a process that is still running (a write under way)."""
    pid = temp_owner(name)
    return pid is not None and process_alive(pid)


def _written_since(folder: Any, snapshot_name: str | None) -> bool:
    """Whether a document's writer is at work or has just written the snapshot (or, with
    None, any version) that the listing missed: waits for the document's lock, then looks."""
    try:
        fd = os.open(os.path.join(folder, LOCK_NAME), os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        if snapshot_name is None:
            return True  # a folder just made, whose writer has not yet begun: nothing to report
        fd = None
    try:
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_SH)  # a writer holds it exclusively while it writes
        names = os.listdir(folder)
    finally:
        if fd is not None:
            os.close(fd)
    if snapshot_name is not None:
        return snapshot_name in names
    return any(name.startswith("v") and name.endswith(".json") for name in names)


    return False


def _verify_index(archive: Archive, disk: dict[str, _DocFiles], index: _IndexRows, report: VerifyReport) -> None:
    indexed, version_rows = index.documents, index.versions
    index_name = archive.layout.index.name
    for doc_id in sorted(set(indexed) - set(disk)):
        report.error(_rel(archive, archive.layout.document_dir(doc_id)),
                     f"{index_name} lists {doc_id} but its files are missing")
    lagging = []
    per_doc: dict[str, int] = {}
    for doc_id, _version in version_rows:
        per_doc[doc_id] = per_doc.get(doc_id, 0) + 1
    for doc_id, files in disk.items():
        for snapshot in files.snapshots:
            row = version_rows.get((doc_id, snapshot["version"]))
            if row is None:
                lagging.append(doc_id)
            elif row["content_sha256"] != snapshot["content_sha256"]:
                report.error(_rel(archive, archive.layout.snapshot(doc_id, snapshot["version"])),
                             f"{index_name} has another content hash for this version")
        indexed_versions = per_doc.get(doc_id, 0)
        if indexed_versions > len(files.snapshots):
            report.error(_rel(archive, archive.layout.document_dir(doc_id)),
                         f"{index_name} lists {indexed_versions} versions, the files hold {len(files.snapshots)}")
        doc_row = indexed.get(doc_id)
        expected = idx.document_row(doc_id, files.snapshots[-1], files.snapshots[-1]["version"], files.captures) \
            if files.snapshots else None
        if doc_row is None or (expected and (doc_row["last_seen"] or "") < (expected["last_seen"] or "")):
            lagging.append(doc_id)
    # What lagged when the index was read may have been indexed since (a crawl writing):
    # only what still lags is caught up (or, read-only, reported).
    lagging = [doc_id for doc_id in sorted(set(lagging)) if _still_lags(archive, disk[doc_id])]
    if not lagging:
        return
    if archive.readonly:
        report.warning(index_name, f"index lags behind the files for {len(lagging)} document(s) (an interrupted "
                                   "run): `kisi-archive verify` by a user who can write the archive catches it up")
        return
    try:
        archive.catch_up(lagging)
    except (sqlite3.OperationalError, OSError) as exc:
        if not idx.disk_full(exc):
            raise
        report.warning(index_name, f"index lags behind the files for {len(lagging)} document(s) and cannot catch "
                                   "up: the disk is full (free some space and run `kisi-archive verify` again)")
        return
    report.repaired.append(f"index lagged behind the files for {len(lagging)} document(s): caught up")


def _still_lags(archive: Archive, files: _DocFiles) -> bool:
    """Whether the index of this moment lacks a version or a sighting that the files hold."""
    conn = archive.conn
    with _read_transaction(conn):
        versions = {row[0] for row in conn.execute("SELECT version FROM versions WHERE doc_id = ?", (files.doc_id,))}
        row = conn.execute("SELECT last_seen FROM documents WHERE doc_id = ?", (files.doc_id,)).fetchone()
    if row is None or any(s["version"] not in versions for s in files.snapshots):
        return True
    expected = idx.document_row(files.doc_id, files.snapshots[-1], files.snapshots[-1]["version"], files.captures)
    return (row["last_seen"] or "") < (expected["last_seen"] or "")
