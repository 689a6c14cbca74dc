"""Exit codes of the kisi-archive command (and of the crawl child process)."""
from __future__ import annotations

OK = 0
ERROR = 1  # something failed: a storage error, a corrupt archive, an internal error
USAGE = 2  # bad usage: a flag, argument, setting (file, environment) or search query that cannot be used
SITE_UNAVAILABLE = 3  # the site could not be crawled: unreachable, robots.txt forbids, category not found
BUSY = 4  # another crawl holds the archive's crawl lock
STALE = 5  # `status`: the last successful run is older than allowed
TIMED_OUT = 6  # the crawl hit its time limit and was stopped
INTERRUPTED = 130  # stopped by a signal before it completed
