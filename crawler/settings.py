"""Settings module for `scrapy crawl events` run from the project root.

It resolves the same configuration as the `kisi-archive` command (defaults < KISI_CONFIG
file < KISI_* environment) and writes into the same archive. It is the bare spider, for
debugging with Scrapy's own tools: it takes no crawl lock and records no run in the
ledger, so use `kisi-archive crawl` for real runs (docs/commands.md). Its `crawl` command
(crawler/commands/crawl.py) exits with kisi-archive's exit codes.
"""
from __future__ import annotations

from crawler.config import load_config
from crawler.scrapy_settings import build

globals().update(build(load_config()))
COMMANDS_MODULE = "crawler.commands"
