"""One crawl's link to its archive, opened once and shared by the spider, the
conditional-request middleware and the pipeline of that crawl.

The session opens the archive, reads the crawler's memory and the documents the archive
holds, builds the frontier, and at the end saves the memory the frontier hands back.
Scrapy builds the spider, the middlewares and the pipeline separately from one `Crawler`;
`session_of(crawler)` gives each of them the same session.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import Any
from weakref import WeakKeyDictionary

from storage import Archive, __version__
from storage.query import aliases, text_lengths
from storage.warcfiles import WarcLog

from . import plan
from .conditional import Validators
from .config import Config
from .frontier import Frontier, Options
from .known import Known, KnownDocuments
from .memory import CrawlMemory, validators_of_v1

logger = logging.getLogger(__name__)

MEMORY_STATE = "crawl"  # ARCHIVE/state/crawl.json
VALIDATORS_STATE = "validators"  # ARCHIVE/state/validators.json
ATTACHMENTS_STATE = "attachments"  # ARCHIVE/state/attachments.json: URL -> its last full answer
RESUME_STATE = "resume"  # ARCHIVE/state/resume.json: what the last run left under way (Frontier.checkpoint)
CHECKPOINT_SECONDS = 5.0  # at least this often while work is under way (and whenever a REST walk moves on)
# … but never more than this share of the run's time: a checkpoint names every post fetch not
# yet answered (90 ms at 16,000 of them), and a first crawl's REST walk moves on several
# times a second while it orders them all, which made its cost grow with the square of the site.
CHECKPOINT_SHARE = 0.05
# Scrapy settings that carry the run's configuration (the Config object itself) and id.
CONFIG_SETTING = "KISI_CONFIG_OBJECT"
RUN_ID_SETTING = "KISI_RUN_ID"


class CrawlSession:
    def __init__(self, config: Config, run_id: str | None = None) -> None:
        self.config, self.run_id = config, run_id
        self.now = plan.parse_time(config.now) or datetime.now(timezone.utc)
        self.archive = Archive.open(config.archive_dir, create=True)
        for line in self.archive.upgrade():
            logger.warning("archive upgraded: %s", line)
        saved = self.archive.load_state(MEMORY_STATE)
        self.memory = CrawlMemory.from_json(saved)
        self.validators = Validators(self.archive.load_state(VALIDATORS_STATE) or validators_of_v1(saved))
        self.known = load_known(self.archive)
        self.frontier = Frontier(self.memory, self.known, Options.from_config(config, run_id), self.now,
                                 attachment_memory=self.archive.load_state(ATTACHMENTS_STATE),
                                 resume=self.archive.load_state(RESUME_STATE))
        self._checkpointed = self._checkpoint_after = time.monotonic()
        logger.info("archive holds %d documents; this run %s", len(self.known),
                    "sweeps every source (removal check)" if self.frontier.sweep else "is incremental")
        self.warc = open_warc(self.archive, config, run_id, self.now) if config.warc else None

    def save(self, memory: CrawlMemory) -> None:
        """Keep what this run learnt for the next one (a failure to is logged, not fatal:
        the next run then simply repeats some work)."""
        try:
            self.archive.save_state(MEMORY_STATE, memory.to_json())
            self.archive.save_state(VALIDATORS_STATE, self.validators.to_json())
            self.archive.save_state(ATTACHMENTS_STATE, self.frontier.attachments.memory)
            self.archive.save_state(RESUME_STATE, self.frontier.checkpoint())
        except OSError as exc:
            logger.error("could not save the crawl state: %s", exc)

    def maybe_checkpoint(self) -> None:
        """Save what a run cut short now would leave undone (atomically: temp, fsync, rename),
        when a REST walk moved on or every CHECKPOINT_SECONDS, but never more than
        CHECKPOINT_SHARE of the time (a walk's checkpoint then waits): a killed run's successor
        resumes there instead of repeating it. Only the checkpoint: the memory of what was
        captured is saved when the run ends, once every capture is stored."""
        started = time.monotonic()
        if started < self._checkpoint_after:
            return  # still due: the next call after then saves it
        if not self.frontier.checkpoint_due and started - self._checkpointed < CHECKPOINT_SECONDS:
            return
        try:
            self.archive.save_state(RESUME_STATE, self.frontier.checkpoint())
        except OSError as exc:
            logger.warning("could not save the crawl's checkpoint: %s", exc)
        self._checkpointed = time.monotonic()
        self._checkpoint_after = self._checkpointed + (self._checkpointed - started) * (1 / CHECKPOINT_SHARE - 1)

    def close(self) -> None:
        if self.warc is not None:
            self.warc.close()
            logger.info("WARC %s: %d records (%d revisits)", self.warc.name, self.warc.records, self.warc.revisits)
        self.archive.close()


def warc_info(config: Config, run_id: str | None) -> dict[str, str]:
    """The warcinfo record of a run: software, versions, configuration (WARC 1.1 fields)."""
    import json
    import platform

    import scrapy
    import trafilatura

    settings = {k: v for k, v in config.to_json().items() if k not in ("webhook",)}  # may carry a secret
    return {
        "software": f"kisi-archive/{__version__} (Scrapy {scrapy.__version__}; trafilatura {trafilatura.__version__}; "
                    f"warcio {_dist_version('warcio')}; "
                    f"Python {platform.python_version()})",
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "isPartOf": run_id or "",
        "operator": config.contact,
        "http-header-user-agent": config.user_agent,
        "robots": "obey",
        "description": "kisi-archive crawl of " + ", ".join(s.label for s in config.sections),
        "configuration": json.dumps(settings, ensure_ascii=False, sort_keys=True, default=str),
    }


def _dist_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def open_warc(archive: Archive, config: Config, run_id: str | None, now: datetime) -> WarcLog:
    """The run's WARC file: warc/<run id>.warc.gz (a bare `scrapy crawl` has no run id: its
    start time and process id)."""
    import os

    name = f"{run_id or now.strftime('%Y%m%dT%H%M%SZ') + '-' + str(os.getpid())}.warc.gz"
    return WarcLog(archive.root, name, warc_info(config, run_id))


def load_known(archive: Archive) -> KnownDocuments:
    """The documents of the archive, from its index, as the frontier needs them."""
    lengths = text_lengths(archive.conn)
    documents = [Known(doc_id=d.doc_id, site=d.site, post_id=d.post_id, language=d.language, url=d.url,
                       status=d.status, date_published=d.date_published, last_seen=d.last_seen,
                       text_length=lengths.get(d.doc_id)) for d in archive.list_documents()]
    return KnownDocuments(documents, aliases(archive.conn))


_SESSIONS: WeakKeyDictionary[Any, CrawlSession] = WeakKeyDictionary()


def session_of(crawler: Any) -> CrawlSession:
    """The session of this Scrapy crawler, made on first use from its settings."""
    session = _SESSIONS.get(crawler)
    if session is None:
        config = crawler.settings.get(CONFIG_SETTING)
        if not isinstance(config, Config):
            raise RuntimeError(f"the Scrapy setting {CONFIG_SETTING} must hold the crawl's Config "
                               "(crawler.scrapy_settings.build puts it there)")
        session = _SESSIONS[crawler] = CrawlSession(config, crawler.settings.get(RUN_ID_SETTING))
    return session
