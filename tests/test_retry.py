"""Which failures are retried: an unreachable host fails fast, a flaky one is retried."""
from __future__ import annotations

import pytest
from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError, DownloadTimeoutError
from twisted.internet.error import ConnectionRefusedError, DNSLookupError

from crawler.middlewares import HostUnreachable


@pytest.mark.parametrize("answered, error, fast", [
    (False, DownloadConnectionRefusedError("refused"), True),  # nothing listens: the site is down
    (False, ConnectionRefusedError(), True),
    (False, CannotResolveHostError("no such host"), True),  # the name does not resolve
    (False, DNSLookupError("no such host"), True),
    (False, DownloadTimeoutError("took too long"), False),  # slow is not gone: retried
    (True, DownloadConnectionRefusedError("refused"), False),  # it answered before: a restart, retried
    (True, CannotResolveHostError("blip"), False),
])
def test_only_a_host_that_never_answered_fails_fast(answered: bool, error: Exception, fast: bool) -> None:
    hosts = HostUnreachable()
    if answered:
        hosts.answer("example.org")
    assert hosts.fails_fast("example.org", error) is fast
    assert (hosts.known_failure("example.org") is error) is fast
    assert hosts.known_failure("other.example.org") is None


def test_a_host_that_answers_later_is_no_longer_failed() -> None:
    hosts = HostUnreachable()
    refused = DownloadConnectionRefusedError("refused")
    assert hosts.fails_fast("example.org", refused)
    hosts.answer("example.org")
    assert hosts.known_failure("example.org") is None
