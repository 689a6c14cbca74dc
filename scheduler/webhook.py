"""Webhook delivery: one JSON POST per run that changed something, retried with backoff.

Deliveries are queued to one background thread, so a slow or unreachable receiver never
holds up a crawl or the daemon's schedule. A 2xx answer is success; a 4xx other than 408
and 429 is the receiver's refusal and is not retried; anything else (5xx, 408, 429, a
timeout, a refused connection) is retried after 1, 2, 4, … seconds, `retries` times.
The decision is the pure `should_retry`; `WebhookSender` only sends and sleeps.
"""
from __future__ import annotations

import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable

from . import __version__

logger = logging.getLogger(__name__)

BACKOFF_SECONDS = 1.0  # before the first retry; doubles each time
TIMEOUT_SECONDS = 10.0


def should_retry(status: int | None) -> bool:
    """Whether a delivery that got `status` (None: no answer at all) is worth another try."""
    if status is None:
        return True
    return status >= 500 or status in (408, 429)


def backoff(attempt: int, base: float = BACKOFF_SECONDS) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, …): base, 2·base, 4·base, …"""
    return base * 2 ** (attempt - 1)


@dataclass(frozen=True)
class Delivery:
    url: str
    payload: dict[str, Any]
    retries: int


def post_json(url: str, payload: dict[str, Any], timeout: float = TIMEOUT_SECONDS) -> int | None:
    """POST the payload; the HTTP status, or None when no answer came (logged)."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "content-type": "application/json; charset=utf-8", "user-agent": f"kisi-archive/{__version__} (webhook)"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, ValueError) as exc:
        logger.warning("webhook %s: no answer (%s)", url, getattr(exc, "reason", exc))
        return None


class WebhookSender:
    def __init__(self, post: Callable[[str, dict[str, Any]], int | None] = post_json,
                 sleep: Callable[[float], None] = time.sleep, base_backoff: float = BACKOFF_SECONDS) -> None:
        self._post, self._sleep, self._base = post, sleep, base_backoff
        self._queue: queue.Queue[Delivery] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def send(self, url: str, payload: dict[str, Any], retries: int) -> None:
        """Queue one delivery; returns at once."""
        self._queue.put(Delivery(url, payload, max(0, retries)))
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="webhook", daemon=True)
                self._thread.start()

    def drain(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for queued deliveries; True when none is left."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.05)
        return not self._queue.unfinished_tasks

    def _work(self) -> None:
        while True:
            delivery = self._queue.get()
            try:
                self.deliver(delivery)
            except Exception:  # a bug here must not kill the thread that later runs need
                logger.exception("webhook delivery failed")
            finally:
                self._queue.task_done()

    def deliver(self, delivery: Delivery) -> bool:
        for attempt in range(delivery.retries + 1):
            if attempt:
                self._sleep(backoff(attempt, self._base))
            status = self._post(delivery.url, delivery.payload)
            if status is not None and 200 <= status < 300:
                logger.info("webhook %s: delivered (HTTP %s)", delivery.url, status)
                return True
            if not should_retry(status):
                logger.error("webhook %s: refused with HTTP %s; not retried", delivery.url, status)
                return False
            left = delivery.retries - attempt
            logger.warning("webhook %s: %s; %s", delivery.url, f"HTTP {status}" if status else "no answer",
                           f"retrying in {backoff(attempt + 1, self._base):g} s" if left else "giving up")
        return False


SENDER = WebhookSender()
