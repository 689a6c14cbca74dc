"""Probe one site in this process and write the report: the child side of `kisi-archive probe`.

    python -m crawler.probe --config CONFIG.json --out REPORT.json

The same Scrapy settings as a crawl (robots.txt obeyed, the User-Agent, throttling), but no
archive: nothing is written but the report.
"""
from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from datetime import datetime, timezone
from pathlib import Path

from scrapy.crawler import CrawlerProcess

from crawler.config import Config
from crawler.scrapy_settings import build
from crawler.spiders.probe import ProbeSpider


def settings_for(config: Config) -> dict:
    settings = build(config)
    settings["ITEM_PIPELINES"] = {}
    # The middlewares that keep what a crawl learnt (validators, the WARC file) belong to an
    # archive: the probe has none and writes nothing.
    settings["DOWNLOADER_MIDDLEWARES"] = {**settings["DOWNLOADER_MIDDLEWARES"],
                                          "crawler.middlewares.ConditionalRequestsMiddleware": None,
                                          "crawler.warc.WarcMiddleware": None}
    settings["LOG_LEVEL"] = "ERROR"
    return settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.probe")
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    config = Config.from_json(json.loads(args.config.read_text("utf-8")))
    logging.getLogger("scrapy").setLevel(logging.ERROR)
    process = CrawlerProcess(settings_for(config), install_root_handler=False)
    crawler = process.create_crawler(ProbeSpider)
    now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    process.crawl(crawler, seed=config.seed, checked_at=now)
    process.start()
    report = crawler.spider.prober.report().to_json()
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2), "utf-8")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
