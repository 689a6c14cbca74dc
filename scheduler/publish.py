"""What every recorded run publishes: the archive's Atom feed, and the webhook.

`after_run` is called once at the end of each recorded crawl run (scheduler/runs.py). It
never fails the run: a feed that cannot be written is logged and left for the next run.
"""
from __future__ import annotations

import logging
from typing import Any

from crawler.config import Config
from storage import Archive, IndexNotReady, StorageError
from storage.changes import recent_changes
from storage.feeds import write_feed

from . import __version__
from .ledger import RunRecord
from .web.atom import change_payload, render_feed

logger = logging.getLogger(__name__)

FEED_NAME = "changes.atom"
FEED_ENTRIES = 50
CHANGE_COUNTS = ("new_documents", "new_versions", "removed", "restored")


def changed_something(record: RunRecord) -> bool:
    return any((record.counts or {}).get(key, 0) for key in CHANGE_COUNTS)


def after_run(config: Config, record: RunRecord) -> None:
    """Write ARCHIVE/feeds/changes.atom; queue the webhook if the run changed something."""
    try:
        publish_feed(config)
    except IndexNotReady:
        logger.info("no index yet (nothing archived): no changes feed written")
    except Exception as exc:  # the run is recorded already; a feed problem must not turn it into a failure
        logger.error("could not write the changes feed: %s", exc)
    if config.webhook and changed_something(record):
        from .webhook import SENDER

        try:
            payload = webhook_payload(config, record)
        except (StorageError, OSError) as exc:
            logger.error("webhook: could not read the run's changes: %s", exc)
            return
        SENDER.send(config.webhook, payload, config.webhook_retries)


def publish_feed(config: Config) -> None:
    base = config.public_url.rstrip("/") or None
    with Archive.open(config.archive_dir, readonly=True) as archive:
        changes = recent_changes(archive.conn, limit=FEED_ENTRIES)
    body = render_feed(changes, feed_id="urn:kisi-archive:changes", title="kisi-archive: changes",
                       self_url=f"{base}/changes.atom" if base else None, base_url=base,
                       generator_version=__version__)
    write_feed(config.archive_dir, FEED_NAME, body)


def webhook_payload(config: Config, record: RunRecord) -> dict[str, Any]:
    """The run and the versions it stored (captured since it started)."""
    base = config.public_url.rstrip("/") or None
    with Archive.open(config.archive_dir, readonly=True) as archive:
        changes = recent_changes(archive.conn, since=record.started_at, limit=1000)
    return {
        "event": "run",
        "run_id": record.run_id, "trigger": record.trigger, "outcome": record.outcome,
        "started_at": record.started_at, "finished_at": record.finished_at,
        "counts": {key: (record.counts or {}).get(key, 0) for key in (*CHANGE_COUNTS, "fetched", "errors")},
        "archive": str(config.archive_dir),
        "feed": f"{base}/changes.atom" if base else None,
        "changes": [change_payload(c, base) for c in changes],
    }
