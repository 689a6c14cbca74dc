"""Attachments: which links of a post are files it published, and waiting for them.

Pure, like the frontier it serves: no I/O, no Scrapy.

Which links count (`select`): from the post's own content (crawler.extract_links: the
container WordPress prints the post in, noise pruned), links to PDFs and office documents,
links to images and the images shown (`<img>`), on the site's own hosts only:

- the host of the page, with or without `www.`, and its subdomains;
- a host from which the page's <head> loads WordPress's own files (`/wp-content/` or
  `/wp-includes/`): the CDN that serves the site's uploads, when it has one.

Never another site: a PDF on another institute's server is a link, not an attachment. Of an
image, the largest rendition is kept: the original a link points to (WordPress's "link to
media file"), else the widest `srcset` candidate; the size variants WordPress generates
(`photo-300x200.jpg`, `photo-scaled.jpg`) are one image.

Waiting (`AttachmentFetches`): a post's capture is held until each of its attachments has
answered (once per URL and run, shared by the translations that link the same file); a 304
reuses what the last full answer was (the memory kept between runs), and then the capture
goes to the archive with its list of attachments.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Mapping, Sequence
from urllib.parse import urlsplit, urlunsplit

from storage import Capture
from storage.records import AttachmentBlob, AttachmentRef

from .extract_links import ContentLink

DOCUMENTS = frozenset("pdf doc docx xls xlsx ppt pptx odt ods odp rtf".split())
IMAGES = frozenset("jpg jpeg png gif webp tif tiff".split())
_SIZE_VARIANT = re.compile(r"-(?:\d+x\d+|scaled|rotated)(?=\.[A-Za-z0-9]+$)")


@dataclass(frozen=True)
class Wanted:
    """An attachment a post links or embeds."""

    url: str
    label: str  # link text or alt
    kind: str  # "document" or "image"


def _extension(url: str) -> str:
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _bare(host: str) -> str:
    host = host.lower()
    return host[4:] if host.startswith("www.") else host


def own_hosts(page_url: str, asset_hosts: Iterable[str] = ()) -> frozenset[str]:
    """The hosts whose files are the site's own (see the module's docstring)."""
    host = _bare(urlsplit(page_url).hostname or "")
    return frozenset({host, *(_bare(h) for h in asset_hosts)} - {""})


def in_scope(url: str, hosts: frozenset[str]) -> bool:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return False
    host = _bare(parts.hostname or "")
    return host in hosts or any(host.endswith("." + own) for own in hosts)


def _without_fragment(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def _image_key(url: str) -> str:
    parts = urlsplit(url)
    return f"{_bare(parts.hostname or '')}{_SIZE_VARIANT.sub('', parts.path)}"


def select(links: Sequence[ContentLink], page_url: str, asset_hosts: Iterable[str] = ()) -> list[Wanted]:
    """The attachments among a post's links and images, in page order, each once."""
    hosts = own_hosts(page_url, asset_hosts)
    documents: dict[str, Wanted] = {}
    images: dict[str, tuple[int, Wanted]] = {}  # image key -> (rank, best rendition so far)
    order: list[str] = []  # keys in page order
    for link in links:
        if link.tag == "a":
            url = _without_fragment(link.url)
            extension = _extension(url)
            if not in_scope(url, hosts):
                continue
            if extension in DOCUMENTS:
                if url not in documents:
                    documents[url] = Wanted(url, link.text, "document")
                    order.append(url)
                elif not documents[url].label and link.text:
                    documents[url] = replace(documents[url], label=link.text)
            elif extension in IMAGES:
                _offer(images, order, _image_key(url), 1 << 30, Wanted(url, link.text, "image"))
            continue
        candidates = [(width, _without_fragment(url)) for url, width in link.srcset]
        if link.url:
            candidates.append((0, _without_fragment(link.url)))
        candidates = [(w, u) for w, u in candidates if _extension(u) in IMAGES and in_scope(u, hosts)]
        if not candidates:
            continue
        width, url = max(candidates, key=lambda c: c[0])
        _offer(images, order, _image_key(url), width, Wanted(url, link.text, "image"))
    out = []
    for key in order:
        out.append(documents[key] if key in documents else images[key][1])
    return out


def _offer(images: dict[str, tuple[int, Wanted]], order: list[str], key: str, rank: int, wanted: Wanted) -> None:
    current = images.get(key)
    if current is None:
        images[key] = (rank, wanted)
        order.append(key)
        return
    label = current[1].label or wanted.label
    best = wanted if rank > current[0] else current[1]
    images[key] = (max(rank, current[0]), replace(best, label=label))


# -- waiting for them -----------------------------------------------------------------------
@dataclass
class _Held:
    capture: Capture
    wanted: list[Wanted]
    missing: set[str]


@dataclass
class AttachmentFetches:
    """This run's attachment fetches and the captures waiting for them.

    `memory` (url -> the JSON of the AttachmentRef of its last full answer) is kept between
    runs by the crawl session: it is what a 304 means.
    """

    memory: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: dict[str, AttachmentRef] = field(default_factory=dict)  # url -> this run's answer
    requested: set[str] = field(default_factory=set)
    held: list[_Held] = field(default_factory=list)

    def hold(self, capture: Capture, wanted: list[Wanted], order: Callable[[str, bool], Any]) -> tuple[list[Any], list[Capture]]:
        """Hold `capture` until its attachments have answered: the fetch orders to send
        (`order(url, conditional)` makes one), and the captures ready now."""
        if not wanted:
            return [], [replace(capture, attachments=())]
        fetches = []
        for item in wanted:
            if item.url not in self.results and item.url not in self.requested:
                self.requested.add(item.url)
                # Always conditional: the validators of a full answer are kept, and sent
                # back next time; a 304 then means the body the memory names.
                fetches.append(order(item.url, True))
        held = _Held(capture, wanted, {w.url for w in wanted if w.url not in self.results})
        if not held.missing:
            return fetches, [self._finish(held)]
        self.held.append(held)
        return fetches, []

    def answered(self, url: str, ref: AttachmentRef) -> list[Capture]:
        """One attachment answered (or failed): the captures that now have all of theirs."""
        self.results[url] = ref
        if ref.sha256:
            self.memory[url] = {k: v for k, v in ref.to_json().items() if k not in ("label", "error")}
        ready, waiting = [], []
        for held in self.held:
            held.missing.discard(url)
            (waiting if held.missing else ready).append(held)
        self.held = waiting
        return [self._finish(h) for h in ready]

    def not_modified(self, url: str, final_url: str) -> AttachmentRef | None:
        """What a 304 for `url` means: its last full answer, or None when it is not known
        (then it must be fetched in full)."""
        known = self.memory.get(url)
        if not known or not known.get("sha256"):
            self.requested.discard(url)
            return None
        return AttachmentRef.from_json({**known, "url": url, "final_url": known.get("final_url") or final_url})

    def release_all(self) -> list[Capture]:
        """Every held capture, with what is known: nothing more will answer (end of a phase)."""
        held, self.held = self.held, []
        for item in held:
            for url in item.missing:
                self.results.setdefault(url, AttachmentRef(url=url, error="no answer"))
        return [self._finish(h) for h in held]

    def _finish(self, held: _Held) -> Capture:
        refs = tuple(replace(self.results[w.url], url=w.url, label=w.label) for w in held.wanted)
        return replace(held.capture, attachments=refs)


def answer(url: str, status: int, body: bytes, content_type: str | None, final_url: str, fetched_at: str,
           text: Any = None) -> tuple[AttachmentRef, AttachmentBlob | None]:
    """An attachment's HTTP answer as what the snapshot lists, and the body to store."""
    if status != 200:
        return AttachmentRef(url=url, final_url=final_url, error=f"HTTP {status}"), None
    sha = hashlib.sha256(body).hexdigest()
    ref = AttachmentRef(url=url, final_url=final_url, sha256=sha, bytes=len(body), content_type=content_type)
    blob = AttachmentBlob(sha256=sha, body=body, content_type=content_type, url=final_url, fetched_at=fetched_at,
                          text=getattr(text, "text", "") or "", text_extractor=dict(getattr(text, "extractor", {}) or {}),
                          text_error=getattr(text, "error", None))
    return ref, blob


def failure_text(detail: str) -> str:
    """A failed attachment fetch in one phrase; a refused oversize download says so."""
    if "max size" in detail or "maxsize" in detail:
        return "larger than the size limit (max_attachment_mb)"
    return detail


def known_refs(memory: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {url: dict(value) for url, value in memory.items() if isinstance(value, Mapping)}
