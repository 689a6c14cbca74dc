"""An extractor upgrade, simulated for tests/test_warc.py: on PYTHONPATH, this module is
imported at every interpreter's start (site.py's sitecustomize hook), before the crawl's
spider or `reextract` import crawler.extract, and changes it the way a trafilatura
release could: the version is another, and the last line of each post's text is pruned.
Nothing in the project knows about it; tests/test_warc.py puts it on PYTHONPATH.
"""
from __future__ import annotations

import dataclasses

import crawler.extract as extract

extract.EXTRACTOR["version"] = extract.EXTRACTOR["version"] + "+b"
_original = extract.extract_page


def extract_page(*args, **kwargs):  # type: ignore[no-untyped-def]
    page = _original(*args, **kwargs)
    lines = page.text.split("\n")
    return dataclasses.replace(page, text="\n".join(lines[:-1]) if len(lines) > 2 else page.text)


extract.extract_page = extract_page
