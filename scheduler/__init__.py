"""Orchestration: configuration, crawl runs in child processes, the daemon and the CLI."""
from __future__ import annotations

from storage import __version__

__all__ = ["__version__"]
