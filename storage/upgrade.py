"""Upgrading an archive in place, one schema at a time, never rewriting a version file.

Schema 1 -> 2. Schema-2 snapshots carry the chain (`previous_sha256`), but the schema-1
versions already stored cannot be given it: a stored version is never changed. Instead,
each document that holds schema-1 versions gets `chain.json`, written once, with the
SHA-256 of each of those files as they are at the upgrade; `verify` checks them against it
from then on, and the first schema-2 version links to the last schema-1 file by its own
`previous_sha256`. Their `v*.html.gz` bodies stay where they are and readable. Last, the
marker `kisi-archive.json` records the new schema and the upgrade (it is metadata about the
archive, replaced atomically), so a crash before that simply repeats the upgrade, which
skips the documents already sealed.
"""
from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timezone

from .files import AlreadyExists, dump_json, replace_atomically, write_once
from .layout import Layout, snapshot_name
from .records import SCHEMA_VERSION

logger = logging.getLogger(__name__)


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def seal_document(layout: Layout, doc_id: str, at: str) -> bool:
    """Write `chain.json` for the schema-1 versions of one document; False when there are
    none or it is sealed already."""
    path = layout.chain(doc_id)
    if path.exists():
        return False
    sealed = []
    for version in layout.versions_on_disk(doc_id):
        raw = layout.snapshot(doc_id, version).read_bytes()
        try:
            schema = json.loads(raw).get("schema_version")
        except ValueError:
            schema = None  # unreadable: not sealed, verify reports it
        if schema == 1:
            sealed.append({"version": version, "file": snapshot_name(version), "sha256": hashlib.sha256(raw).hexdigest()})
    if not sealed:
        return False
    try:
        write_once(path, dump_json({"schema_version": SCHEMA_VERSION, "sealed_at": at, "versions": sealed}))
    except AlreadyExists:
        return False
    return True


def upgrade(layout: Layout) -> list[str]:
    """Upgrade the archive at `layout` to SCHEMA_VERSION; returns one line per step done."""
    meta = json.loads(layout.marker.read_text("utf-8"))
    current = int(meta.get("schema_version", 1))
    if current >= SCHEMA_VERSION:
        return []
    at = _now()
    sealed = sum(seal_document(layout, doc_id, at) for doc_id in layout.document_ids())
    done = [f"sealed the schema-1 versions of {sealed} document(s) in chain.json"]
    history = list(meta.get("upgrades") or [])
    history.append({"from": current, "to": SCHEMA_VERSION, "at": at})
    replace_atomically(layout.marker, dump_json({**meta, "schema_version": SCHEMA_VERSION, "upgrades": history}))
    done.append(f"archive schema {current} -> {SCHEMA_VERSION}")
    for line in done:
        logger.info("upgrade: %s", line)
    return done
