"""`export --format wacz`: the archive's WARC files as one WACZ (Web Archive Collection
Zipped, 1.1.1), the package ReplayWeb.page and pywb open.

Written by hand rather than with the `wacz` package, which pulls in frictionless (a data
validation framework with dozens of dependencies) for what is a zip of known files:

    archive/<run>.warc.gz        every WARC file of the archive, stored (not recompressed)
    indexes/index.cdxj           one CDXJ line per response and revisit record, sorted
    pages/pages.jsonl            the snapshots chosen by the export's filters: URL, time, title
    datapackage.json             every file above with its size and sha256
    datapackage-digest.json      the sha256 of datapackage.json

The WARC files are the crawl's whole record (feeds, sitemaps, REST answers and redirects
included: what made the crawl's decisions), so they go in whole; the filters of `export`
choose the pages listed, i.e. what a reader is offered first.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator

from .export import check_target, export_keys
from .files import atomic_output
from .layout import Layout
from .query import Filters
from .snapshots import read_snapshot
from .warcfiles import warc_files

if TYPE_CHECKING:
    from .store import Archive

WACZ_VERSION = "1.1.1"


def surt(url: str) -> str:
    """The SURT key of a URL, as the `surt` package canonicalises it for pywb: lower case,
    no scheme, no leading www, host labels reversed, query arguments sorted."""
    parts = urlsplit(url.strip().lower())
    host = parts.hostname or ""
    if "." in host and re.fullmatch(r"www\d*", host.split(".", 1)[0]):
        host = host.split(".", 1)[1]
    key = ",".join(reversed(host.split(".")))
    if parts.port and not (parts.scheme == "http" and parts.port == 80) and not (parts.scheme == "https" and parts.port == 443):
        key += f":{parts.port}"
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    key += ")" + path
    if parts.query:
        key += "?" + "&".join(sorted(parts.query.split("&")))
    return key


def _timestamp(warc_date: str) -> str:
    digits = "".join(ch for ch in warc_date if ch.isdigit())
    return digits[:14].ljust(14, "0")


def cdxj_lines(root: Path, name: str) -> Iterator[str]:
    """The CDXJ lines of one WARC file's response and revisit records."""
    path = Layout(root).warc(name)
    with open(path, "rb") as handle:
        iterator = ArchiveIterator(handle)
        for record in iterator:
            if record.rec_type not in ("response", "revisit"):
                continue
            headers = record.rec_headers
            uri = headers.get_header("WARC-Target-URI")
            status = record.http_headers.get_statuscode() if record.http_headers else None
            mime = "warc/revisit" if record.rec_type == "revisit" else \
                ((record.http_headers.get_header("Content-Type") or "") if record.http_headers else "").split(";")[0]
            record.content_stream().read()
            entry: dict[str, Any] = {"url": uri, "mime": mime.strip() or "unk", "status": status,
                                     "digest": headers.get_header("WARC-Payload-Digest"),
                                     "length": str(iterator.get_record_length()),
                                     "offset": str(iterator.get_record_offset()), "filename": name.rsplit("/", 1)[-1]}
            yield f"{surt(uri)} {_timestamp(headers.get_header('WARC-Date'))} {json.dumps(entry, ensure_ascii=False)}"


@dataclass
class WaczResult:
    pages: int = 0
    warc_files: int = 0
    records: int = 0
    bytes: int = 0
    sha256: str = ""
    resources: list[dict[str, Any]] = field(default_factory=list)


def _resource(name: str, data_hash: str, size: int) -> dict[str, Any]:
    # Data Package resource names are lower case (frictionless checks ^[-a-z0-9._/]+$).
    return {"name": name.rsplit("/", 1)[-1].lower(), "path": name, "hash": f"sha256:{data_hash}", "bytes": size}


def _pages(archive: Archive, filters: Filters, all_versions: bool) -> list[dict[str, Any]]:
    pages = []
    documents = str(archive.layout.documents)
    for doc_id, version in export_keys(archive.conn, filters, all_versions=all_versions):
        _raw, snapshot = read_snapshot(documents, doc_id, version)
        url = snapshot.get("final_url") or snapshot.get("url")
        if snapshot.get("kind") == "tombstone" or not url:
            continue
        moment = datetime.fromisoformat(snapshot["fetched_at"]).astimezone(timezone.utc)
        pages.append({"id": f"{doc_id}-v{version}", "url": url, "ts": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                      "title": snapshot.get("title") or doc_id})
    return pages


def export_wacz(archive: Archive, out: Path, filters: Filters = Filters(), *, all_versions: bool = False,
                title: str = "kisi-archive", software: str = "kisi-archive") -> WaczResult:
    """Write the WACZ file `out` (atomically): every WARC file, their index, the pages the
    filters choose. Example: ``export_wacz(archive, Path("kisi.wacz"))``"""
    check_target(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    result = WaczResult()
    names = warc_files(archive.root)
    lines: list[str] = []
    for name in names:
        lines.extend(cdxj_lines(archive.root, name))
    lines.sort()
    result.records, result.warc_files = len(lines), len(names)
    pages = _pages(archive, filters, all_versions)
    result.pages = len(pages)
    header = {"format": "json-pages-1.0", "id": "pages", "title": "Archived posts"}
    pages_data = "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in [header, *pages]).encode("utf-8")
    index_data = "".join(line + "\n" for line in lines).encode("utf-8")
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with atomic_output(out) as handle:
        with zipfile.ZipFile(handle, "w", allowZip64=True) as zipped:
            for name in names:
                target = f"archive/{name.rsplit('/', 1)[-1]}"
                digest, size = hashlib.sha256(), 0
                # Stored: the records are gzip members already, and a reader seeks into them.
                with open(archive.layout.warc(name), "rb") as source, \
                        zipped.open(zipfile.ZipInfo(target, date_time=(2020, 1, 1, 0, 0, 0)), "w",
                                    force_zip64=True) as sink:
                    for block in iter(lambda: source.read(1 << 20), b""):
                        digest.update(block)
                        size += len(block)
                        sink.write(block)
                result.resources.append(_resource(target, digest.hexdigest(), size))
            for target, data in (("indexes/index.cdxj", index_data), ("pages/pages.jsonl", pages_data)):
                zipped.writestr(zipfile.ZipInfo(target, date_time=(2020, 1, 1, 0, 0, 0)), data)
                result.resources.append(_resource(target, hashlib.sha256(data).hexdigest(), len(data)))
            package = {"profile": "data-package", "wacz_version": WACZ_VERSION, "title": title,
                       "created": now, "modified": now, "software": software,
                       "mainPageUrl": pages[0]["url"] if pages else None,
                       "mainPageDate": pages[0]["ts"] if pages else None,
                       "resources": result.resources}
            package_data = json.dumps(package, ensure_ascii=False, indent=2).encode("utf-8")
            zipped.writestr(zipfile.ZipInfo("datapackage.json", date_time=(2020, 1, 1, 0, 0, 0)), package_data)
            digest_data = json.dumps({"path": "datapackage.json",
                                      "hash": f"sha256:{hashlib.sha256(package_data).hexdigest()}"}).encode("utf-8")
            zipped.writestr(zipfile.ZipInfo("datapackage-digest.json", date_time=(2020, 1, 1, 0, 0, 0)), digest_data)
    data_hash = hashlib.sha256()
    with open(out, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            data_hash.update(block)
            result.bytes += len(block)
    result.sha256 = data_hash.hexdigest()
    return result


def read_index(wacz: Path) -> list[str]:
    """The CDXJ lines of a WACZ file (for checks and tests)."""
    with zipfile.ZipFile(wacz) as zipped:
        name = next(n for n in zipped.namelist() if n.startswith("indexes/"))
        data = zipped.read(name)
    return (gzip.decompress(data) if name.endswith(".gz") else data).decode("utf-8").splitlines()

