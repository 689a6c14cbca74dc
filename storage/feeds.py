"""Feeds written into the archive (ARCHIVE/feeds/), so anyone can subscribe without a server.

Storage only writes the bytes, atomically: what a feed says (Atom, built from
storage.changes.recent_changes) is rendered by whoever calls, e.g. scheduler/web/atom.py.
A feed is derived, like the index: rewritten whole after every run, never versioned.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from .errors import StorageError
from .files import replace_atomically
from .layout import Layout

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def write_feed(root: str | os.PathLike[str], name: str, data: bytes) -> Path:
    """Replace ARCHIVE/feeds/<name> with `data` atomically (readers see the old or the new
    file, never a part); returns its path. Example: ``write_feed("archive", "changes.atom", xml)``
    """
    if not _NAME.match(name):
        raise StorageError(f"feed name {name!r}: use lower-case letters, digits, '.', '_' or '-'")
    path = Layout(Path(root)).feed(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_atomically(path, data)
    return path
