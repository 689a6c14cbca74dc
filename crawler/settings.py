"""Settings module for `scrapy crawl events` run from the project root.

It resolves the same configuration as the `kisi-archive` command (defaults < KISI_CONFIG
file < KISI_* environment), so both write into the same archive.
"""
from __future__ import annotations

from crawler.scrapy_settings import build
from crawler.config import load_config

globals().update(build(load_config()))
