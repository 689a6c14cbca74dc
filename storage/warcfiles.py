"""The archive's WARC files (ISO 28500, WARC 1.1): every HTTP exchange of a crawl run.

One gzip WARC per run, `warc/<run>.warc.gz`, each record its own gzip member, so a record
is read back from its offset and length alone. It opens with a `warcinfo` record (software,
versions, configuration); then, for each exchange, the response (or a revisit) and the
request that asked for it (`WARC-Concurrent-To`). A payload identical to one already in the
archive becomes a `revisit` record of the identical-payload-digest profile, which refers to
the response that holds it; a 304 becomes a server-not-modified revisit. The digests of the
payloads already archived are cached in `warc/digests.sqlite` (rebuilt from the WARC files
when missing).

Written with warcio (the library pywb and the Webrecorder tools use). The crawler hands in
plain `Exchange` records (crawler/warc.py turns Scrapy's requests and responses into them);
nothing here knows Scrapy.
"""
from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import sqlite3
import threading
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import BufferWARCWriter

from .files import GZIP_LEVEL, fsync_dir, write_all
from .layout import WARC, Layout
from .records import WarcRef

logger = logging.getLogger(__name__)

WARC_VERSION = "1.1"
SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
# Hop-by-hop framing the HTTP client has already undone: the body in the record is the one
# after de-chunking, so the header that announced chunks would misdescribe it. It is kept
# under another name, as Browsertrix and pywb's recorder do.
_FRAMING = ("transfer-encoding",)
_RENAMED = "X-Archive-Orig-"


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and what answered it, as the crawler saw them."""

    url: str
    method: str
    request_headers: Sequence[tuple[str, str]]
    status: int
    response_headers: Sequence[tuple[str, str]]
    body: bytes  # as received: after de-chunking, before any content-decoding
    fetched_at: datetime  # when the answer arrived (UTC)
    protocol: str = "HTTP/1.1"
    request_body: bytes = b""
    ip_address: str | None = None


def payload_digest(body: bytes) -> str:
    """WARC-Payload-Digest of a body: SHA-1, base32 (what warcio and pywb compute)."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def warc_date(moment: datetime) -> str:
    return datetime_to_iso_date(moment.astimezone(timezone.utc).replace(tzinfo=None), use_micros=True)


class _Writer(BufferWARCWriter):
    """warcio's writer, at the archive's gzip level (storage.files.GZIP_LEVEL: 3) instead of
    warcio's 9, which costs four times the time for 10 % fewer bytes on HTML."""

    def _write_warc_record(self, out: Any, record: Any) -> None:
        if not self.gzip:
            return super()._write_warc_record(out, record)
        buffer = io.BytesIO()
        self.gzip = False
        try:
            super()._write_warc_record(buffer, record)
        finally:
            self.gzip = True
        compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS + 16)
        out.write(compressor.compress(buffer.getvalue()) + compressor.flush())


class Digests:
    """Payload digest -> the response record that holds it (a cache of the WARC files)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        fresh = not path.exists()
        self.conn = sqlite3.connect(path)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("CREATE TABLE IF NOT EXISTS payloads (digest TEXT PRIMARY KEY, uri TEXT NOT NULL, "
                          "date TEXT NOT NULL, record_id TEXT NOT NULL, file TEXT NOT NULL, "
                          "offset INTEGER NOT NULL, length INTEGER NOT NULL)")
        self.conn.execute("CREATE INDEX IF NOT EXISTS payloads_uri ON payloads(uri, date)")
        if fresh:
            self._rebuild(path.parent.parent)

    def _rebuild(self, root: Path) -> None:
        for name in warc_files(root):
            for ref, uri, date in iter_responses(root, name):
                self.put(ref, uri, date)
        self.conn.commit()

    def get(self, digest: str) -> tuple[WarcRef, str, str] | None:
        row = self.conn.execute("SELECT uri, date, record_id, file, offset, length FROM payloads WHERE digest = ?",
                                (digest,)).fetchone()
        if row is None:
            return None
        return WarcRef(file=row[3], offset=row[4], length=row[5], record_id=row[2], payload_digest=digest), row[0], row[1]

    def latest_for(self, uri: str) -> tuple[WarcRef, str, str] | None:
        """The newest response record of this URI: what a 304 says is still current."""
        row = self.conn.execute("SELECT digest FROM payloads WHERE uri = ? ORDER BY date DESC LIMIT 1", (uri,)).fetchone()
        return self.get(row[0]) if row else None

    def put(self, ref: WarcRef, uri: str, date: str) -> None:
        self.conn.execute("INSERT OR IGNORE INTO payloads VALUES (?, ?, ?, ?, ?, ?, ?)",
                          (ref.payload_digest, uri, date, ref.record_id, ref.file, ref.offset, ref.length))

    def close(self) -> None:
        try:
            self.conn.commit()
        finally:
            self.conn.close()


class WarcLog:
    """The WARC file of one crawl run, open for appending. Not thread-safe: Scrapy calls it
    from its one reactor thread."""

    def __init__(self, root: Path, name: str, info: Mapping[str, Any]) -> None:
        self.root = Path(root)
        self.layout = Layout(self.root)
        self.layout.warc_dir.mkdir(parents=True, exist_ok=True)
        self.name = f"{WARC}/{name}"
        self.path = self.layout.warc(self.name)
        self.digests = Digests(self.layout.warc_digests)
        # Unbuffered: a record is written whole or, on a full disk, cut back off (_append).
        self._file = open(self.path, "ab", buffering=0)
        self._synced = self._file.tell()
        self._lock = threading.Lock()  # between write (reactor thread) and sync (archive writer)
        self._pending_digests = 0
        self.records = 0
        self.revisits = 0
        self._writer = _Writer(gzip=True, warc_version=WARC_VERSION)
        fsync_dir(self.layout.warc_dir)
        self._write(self._writer.create_warcinfo_record(os.path.basename(self.path), dict(info)))

    # -- writing -------------------------------------------------------------------------
    def _write(self, record: Any) -> tuple[int, int]:
        buffer = io.BytesIO()
        self._writer._write_warc_record(buffer, record)
        data = buffer.getvalue()
        with self._lock:
            # To the OS at once: the archive writer, a process of its own, fsyncs the file
            # through its own descriptor before a version that points to this record.
            offset = self._append(data)
        self.records += 1
        return offset, len(data)

    def _append(self, data: bytes) -> int:
        """Write one record at the end of the file; if that fails (a full disk), cut off
        what of it reached the file, so that the file still ends with a whole record."""
        offset = self._file.tell()
        try:
            write_all(self._file.fileno(), data)
        except OSError:
            try:
                os.ftruncate(self._file.fileno(), offset)
                self._file.seek(offset)
            except OSError:
                pass  # the file is then read up to its last whole record, and verify says where
            raise
        return offset

    def write(self, exchange: Exchange) -> WarcRef:
        """Write one exchange: its response (or revisit), then its request. Returns where
        the payload is kept: this response record, or the earlier one a revisit refers to."""
        date = warc_date(exchange.fetched_at)
        http_headers = StatusAndHeaders(_status_line(exchange.status), _response_headers(exchange),
                                        protocol=exchange.protocol)
        warc_headers = {"WARC-Date": date}
        if exchange.ip_address:
            warc_headers["WARC-IP-Address"] = exchange.ip_address
        digest = payload_digest(exchange.body)
        earlier = self.digests.get(digest) if exchange.status != 304 else None
        if exchange.status == 304:
            record = self._writer.create_warc_record(exchange.url, "revisit", http_headers=http_headers,
                                                     warc_headers_dict=warc_headers)
            record.rec_headers.add_header("WARC-Profile", SERVER_NOT_MODIFIED)
            # The full answer the 304 confirms, when the archive holds it: replay tools
            # (pywb) then serve that payload, as WARC 1.1 section 6.7.3 allows.
            earlier = self.digests.latest_for(exchange.url)
            if earlier is not None:
                original, uri, original_date = earlier
                record.rec_headers.add_header("WARC-Refers-To-Target-URI", uri)
                record.rec_headers.add_header("WARC-Refers-To-Date", original_date)
                record.rec_headers.add_header("WARC-Refers-To", original.record_id)
                digest = original.payload_digest
            kind = "revisit"
        elif earlier is not None and exchange.body:
            original, uri, original_date = earlier
            record = self._writer.create_revisit_record(exchange.url, digest, uri, original_date,
                                                        http_headers=http_headers, warc_headers_dict=warc_headers)
            record.rec_headers.add_header("WARC-Refers-To", original.record_id)
            kind = "revisit"
        else:
            record = self._writer.create_warc_record(exchange.url, "response", payload=io.BytesIO(exchange.body),
                                                     length=len(exchange.body), http_headers=http_headers,
                                                     warc_headers_dict=warc_headers)
            kind = "response"
        record_id = record.rec_headers.get_header("WARC-Record-ID")
        offset, length = self._write(record)
        self._write(self._request_record(exchange, date, record_id))
        if kind == "revisit":
            self.revisits += 1
        ref = WarcRef(file=self.name, offset=offset, length=length, record_id=record_id, payload_digest=digest,
                      record_type=kind)
        if kind == "response":
            self.digests.put(ref, exchange.url, date)
            self._pending_digests += 1
            if self._pending_digests >= 200:
                self.digests.conn.commit()
                self._pending_digests = 0
        elif earlier is not None:
            ref = WarcRef(file=earlier[0].file, offset=earlier[0].offset, length=earlier[0].length,
                          record_id=earlier[0].record_id, payload_digest=digest, record_type="revisit",
                          refers_to=earlier[0].record_id)
        return ref

    def _request_record(self, exchange: Exchange, date: str, concurrent_to: str) -> Any:
        parts = urlsplit(exchange.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = list(exchange.request_headers)
        if not any(name.lower() == "host" for name, _ in headers):
            headers.insert(0, ("Host", parts.netloc))
        http_headers = StatusAndHeaders(f"{exchange.method} {target}", headers, protocol=exchange.protocol,
                                        is_http_request=True)
        record = self._writer.create_warc_record(exchange.url, "request", payload=io.BytesIO(exchange.request_body),
                                                 length=len(exchange.request_body), http_headers=http_headers,
                                                 warc_headers_dict={"WARC-Date": date,
                                                                    "WARC-Concurrent-To": concurrent_to})
        return record

    def sync(self) -> None:
        """Make every record written so far durable (before a snapshot points into the file)."""
        # The crawl writes records on its reactor thread and syncs from its archive writer
        # thread: what was written under the lock is what the fsync below makes durable.
        with self._lock:
            end = self._file.tell()
            if end == self._synced:
                return
        os.fsync(self._file.fileno())
        self._synced = max(self._synced, end)

    def close(self) -> None:
        if self._file.closed:
            return
        try:
            self.sync()
        finally:  # a failed fsync (a full or failing disk) must not keep the file open
            self._file.close()
            self.digests.close()


def _status_line(status: int) -> str:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return f"{status} {phrase}".strip()


def _response_headers(exchange: Exchange) -> list[tuple[str, str]]:
    headers = []
    for name, value in exchange.response_headers:
        if name.lower() in _FRAMING:
            name = _RENAMED + name
        headers.append((name, value))
    return headers


# -- reading -----------------------------------------------------------------------------
def warc_files(root: Path) -> list[str]:
    """Names (relative to the archive root) of the archive's WARC files, oldest first."""
    folder = Layout(Path(root)).warc_dir
    if not folder.is_dir():
        return []
    return sorted(f"{WARC}/{p.name}" for p in folder.iterdir() if p.name.endswith(".warc.gz"))


def iter_responses(root: Path, name: str) -> Iterator[tuple[WarcRef, str, str]]:
    """(ref, target URI, date) of each response record of one WARC file."""
    path = Layout(Path(root)).warc(name)
    try:
        with open(path, "rb") as handle:
            iterator = ArchiveIterator(handle)
            for record in iterator:
                if record.rec_type != "response":
                    continue
                record.content_stream().read()
                headers = record.rec_headers
                yield (WarcRef(file=name, offset=iterator.get_record_offset(), length=iterator.get_record_length(),
                               record_id=headers.get_header("WARC-Record-ID"),
                               payload_digest=headers.get_header("WARC-Payload-Digest") or ""),
                       headers.get_header("WARC-Target-URI"), headers.get_header("WARC-Date"))
    except Exception as exc:  # noqa: BLE001 - a damaged file is verify's to report
        logger.warning("%s: stopped reading (%s)", path, exc)


def read_record(root: Path, ref: WarcRef) -> tuple[dict[str, str], bytes]:
    """The WARC headers and the HTTP payload of the record a WarcRef points to (raises
    ValueError when the bytes there are no such record)."""
    path = Layout(Path(root)).warc(ref.file)
    with open(path, "rb") as handle:
        handle.seek(ref.offset)
        data = handle.read(ref.length)
    if len(data) != ref.length:
        raise ValueError(f"{ref.file}: {len(data)} bytes at offset {ref.offset}, the pointer says {ref.length}")
    try:
        for record in ArchiveIterator(io.BytesIO(data)):
            headers = {name: value for name, value in record.rec_headers.headers}
            return headers, record.content_stream().read()
    except Exception as exc:  # noqa: BLE001
        raise ValueError(f"{ref.file} at offset {ref.offset}: not a WARC record ({exc})") from None
    raise ValueError(f"{ref.file} at offset {ref.offset}: no WARC record")


@dataclass
class WarcCheck:
    """What checking one WARC file found (the same checks as `warcio check`)."""

    name: str
    records: int = 0
    problems: list[str] = field(default_factory=list)


def check_file(root: Path, name: str) -> WarcCheck:
    """Read every record of a WARC file and check its block and payload digests."""
    result = WarcCheck(name)
    path = Layout(Path(root)).warc(name)
    try:
        with open(path, "rb") as handle:
            iterator = ArchiveIterator(handle, check_digests=True)
            for record in iterator:
                record.content_stream().read()
                result.records += 1
                for problem in record.digest_checker.problems:
                    result.problems.append(f"record {record.rec_headers.get_header('WARC-Record-ID')} at offset "
                                           f"{iterator.get_record_offset()}: {problem}")
    except Exception as exc:  # noqa: BLE001 - truncated or altered gzip, not a WARC
        result.problems.append(f"unreadable after {result.records} record(s): {exc}")
    return result
