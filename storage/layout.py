"""Where things live in an archive directory. The only module that builds paths.

    ARCHIVE/
      kisi-archive.json            marker: format name, schema_version, created_at
      index.sqlite                 cache for fast listing; rebuilt by `reindex`
      documents/<doc_id>/
        v0001.json                 immutable snapshot of version 1
        v0001.html.gz              raw response body of version 1 (gzip)
        captures.jsonl             append-only log: one line per capture of this document
        chain.json                 written once by the schema-1 upgrade: SHA-256 of each schema-1 version file
        .lock                      empty; locked (flock) while a writer records a capture
      attachments/sha256/ab/<sha256>       an attachment's body, stored once per content
      attachments/sha256/ab/<sha256>.json  what is known of it: type, size, first URL, extracted text
      warc/<run>.warc.gz           every HTTP exchange of one crawl run (WARC 1.1, gzip per record)
      warc/digests.sqlite          cache: payload digest -> the response record holding it (revisits)
      state/<name>.json            the crawler's working notes between runs (its memory, validators)
      feeds/changes.atom           Atom feed of the latest changes, rewritten after every run
      runs/<run_id>/               run ledger: run.json, summary.json, config.json, crawl.log, console.log
      crawl.lock                   flock held by the one crawl writing the archive (holder as JSON)
      daemon.lock, daemon.json     held by the daemon; its pid, schedule and next run
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

MARKER = "kisi-archive.json"
INDEX = "index.sqlite"
DOCUMENTS = "documents"
CAPTURES = "captures.jsonl"
STATE = "state"
RUNS = "runs"
CRAWL_LOCK = "crawl.lock"
DAEMON_LOCK = "daemon.lock"
DAEMON_STATE = "daemon.json"
FEEDS = "feeds"
CHAIN = "chain.json"
ATTACHMENTS = "attachments"
WARC = "warc"
WARC_DIGESTS = "digests.sqlite"
_VERSION_FILE = re.compile(r"^v(\d{4,})\.json$")


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def marker(self) -> Path:
        return self.root / MARKER

    @property
    def index(self) -> Path:
        return self.root / INDEX

    @property
    def documents(self) -> Path:
        return self.root / DOCUMENTS

    def document_dir(self, doc_id: str) -> Path:
        return self.documents / doc_id

    def snapshot(self, doc_id: str, version: int) -> Path:
        return self.document_dir(doc_id) / snapshot_name(version)

    def raw(self, doc_id: str, version: int) -> Path:
        return self.document_dir(doc_id) / raw_name(version)

    def state(self, name: str) -> Path:
        return self.root / STATE / f"{name}.json"

    # Records about the archive that the scheduler keeps (scheduler/lock.py, scheduler/ledger.py):
    # their names are part of the on-disk layout, so they are spelled here.
    @property
    def runs(self) -> Path:
        return self.root / RUNS

    @property
    def crawl_lock(self) -> Path:
        return self.root / CRAWL_LOCK

    @property
    def daemon_lock(self) -> Path:
        return self.root / DAEMON_LOCK

    @property
    def daemon_state(self) -> Path:
        return self.root / DAEMON_STATE

    def feed(self, name: str) -> Path:
        return self.root / FEEDS / name

    def captures(self, doc_id: str) -> Path:
        return self.document_dir(doc_id) / CAPTURES

    def chain(self, doc_id: str) -> Path:
        return self.document_dir(doc_id) / CHAIN

    @property
    def attachments(self) -> Path:
        return self.root / ATTACHMENTS / "sha256"

    def blob(self, sha256: str) -> Path:
        return self.attachments / sha256[:2] / sha256

    def blob_meta(self, sha256: str) -> Path:
        return self.attachments / sha256[:2] / f"{sha256}.json"

    @property
    def warc_dir(self) -> Path:
        return self.root / WARC

    def warc(self, name: str) -> Path:
        return self.root / name if "/" in name else self.warc_dir / name

    @property
    def warc_digests(self) -> Path:
        return self.warc_dir / WARC_DIGESTS

    def document_ids(self) -> list[str]:
        if not self.documents.is_dir():
            return []
        return sorted(p.name for p in self.documents.iterdir() if p.is_dir() and not p.name.startswith("."))

    def versions_on_disk(self, doc_id: str) -> list[int]:
        """Version numbers that have a snapshot file, ascending."""
        found = []
        for path in self.document_dir(doc_id).iterdir():
            match = _VERSION_FILE.match(path.name)
            if match:
                found.append(int(match.group(1)))
        return sorted(found)


def snapshot_name(version: int) -> str:
    return f"v{version:04d}.json"


def raw_name(version: int) -> str:
    return f"v{version:04d}.html.gz"
