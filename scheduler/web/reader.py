"""A read-only archive for each server thread, reopened when the index file is replaced.

SQLite connections belong to the thread that made them, and Starlette runs each page in a
thread of its pool: each thread gets its own `Archive.open(root, readonly=True)`. New rows
a crawl commits are seen at once (WAL); a `reindex` swaps in a new index.sqlite (a rename),
which an open connection would never see, so the file's identity is checked on every
request and the archive reopened when it changed.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

from storage import Archive
from storage.layout import Layout


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


class Reader:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.index = Layout(self.root).index
        self._local = threading.local()

    def archive(self) -> Archive:
        """This thread's read-only archive, with its index connection open (IndexNotReady if none)."""
        identity = _identity(self.index)
        current: Archive | None = getattr(self._local, "archive", None)
        if current is not None and self._local.identity == identity:
            return current
        if current is not None:
            current.close()
            self._local.archive = None
        archive = Archive.open(self.root, readonly=True)
        archive.conn  # opens now, so a missing index is reported before any page work
        self._local.archive, self._local.identity = archive, identity
        return archive
