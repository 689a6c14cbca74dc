"""Reading snapshot files: the one reader that every part of storage uses.

Plain `os.path` and one `open`: an export or a rebuild reads 100,000 of these, and
pathlib's joins alone would cost more than reading the files.
"""
from __future__ import annotations

import json
import os
from typing import Any

from .errors import CorruptSnapshot, UnknownVersion
from .layout import snapshot_name


def read_snapshot(documents: str, doc_id: str, version: int) -> tuple[bytes, dict[str, Any]]:
    """The bytes and the parsed JSON of `documents/doc_id/vNNNN.json`.

    Raises UnknownVersion when the file does not exist, CorruptSnapshot when it cannot be
    read, is not JSON, or does not hold that document's version.
    """
    path = os.path.join(documents, doc_id, snapshot_name(version))
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise UnknownVersion(f"{doc_id} has no version {version} ({path} is missing)") from None
    except OSError as exc:
        raise CorruptSnapshot(f"{path}: unreadable ({exc.strerror})") from None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CorruptSnapshot(f"{path}: unreadable JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("doc_id") != doc_id or data.get("version") != version:
        raise CorruptSnapshot(f"{path}: does not hold {doc_id} version {version}")
    return raw, data
