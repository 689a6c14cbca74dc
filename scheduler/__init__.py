"""Orchestration: configuration, crawl runs in child processes, the daemon and the CLI."""
from __future__ import annotations

__version__ = "0.1.0"
