"""Memento (RFC 7089): HTTP dates, Link headers and TimeMaps in application/link-format.

Pure functions; the routes in app.py put them on responses. Terms: URI-R is the original
resource (the post's URL on the site), URI-M a memento (`/doc/<doc_id>/v<N>`), URI-G the
TimeGate (`/timegate/<URI-R>`) and URI-T the TimeMap (`/timemap/link/<URI-R>`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import quote

LINK_FORMAT = "application/link-format"


def to_utc(iso: str) -> datetime:
    moment = datetime.fromisoformat(iso)
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def http_date(iso: str) -> str:
    """An ISO 8601 instant as an HTTP-date (RFC 7231 IMF-fixdate): 'Tue, 11 Sep 2001 20:36:10 GMT'."""
    return format_datetime(to_utc(iso).replace(microsecond=0), usegmt=True)


def parse_accept_datetime(value: str) -> str:
    """An Accept-Datetime header (an HTTP-date in GMT, RFC 7089 section 2.1.1) as an ISO 8601
    UTC instant in the archive's own form ('2001-09-11T20:35:00+00:00'); ValueError if it is not one."""
    text = value.strip()
    if not text.endswith("GMT"):
        raise ValueError(f"Accept-Datetime {value!r} is not an HTTP-date in GMT (e.g. 'Tue, 11 Sep 2001 20:35:00 GMT')")
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        raise ValueError(f"Accept-Datetime {value!r} is not an HTTP-date (e.g. 'Tue, 11 Sep 2001 20:35:00 GMT')") from None
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def as_uri(url: str) -> str:
    """An IRI as a URI (its non-ASCII characters percent-encoded as UTF-8): HTTP headers
    are ASCII, and a post's URL may carry a raw Cyrillic slug. Escapes already there stay."""
    return url if url.isascii() and " " not in url else quote(url, safe="!#$%&'()*+,/:;=?@[]~")


@dataclass(frozen=True)
class Link:
    url: str
    rel: str
    type: str | None = None
    datetime: str | None = None  # an HTTP-date
    extra: tuple[tuple[str, str], ...] = ()  # further attributes, e.g. ("from", date)

    def render(self) -> str:
        parts = [f"<{as_uri(self.url)}>", f'rel="{self.rel}"']
        if self.type:
            parts.append(f'type="{self.type}"')
        if self.datetime:
            parts.append(f'datetime="{self.datetime}"')
        parts.extend(f'{name}="{value}"' for name, value in self.extra)
        return "; ".join(parts)


def link_header(links: list[Link]) -> str:
    """The value of a Link header (RFC 8288): the links, comma separated."""
    return ", ".join(link.render() for link in links)


@dataclass(frozen=True)
class Memento:
    url: str  # URI-M
    fetched_at: str  # ISO 8601


def memento_links(original: str, timegate: str, timemap: str, mementos: list[Memento],
                  current: Memento | None = None) -> list[Link]:
    """The Link header of a memento (or, without `current`, of a TimeGate's redirect):
    original, timegate, timemap, and the first, last, previous and next mementos
    (RFC 7089 sections 2.2.1 and 4.1)."""
    links = [Link(original, "original"), Link(timegate, "timegate")]
    if mementos:
        links.append(Link(timemap, "timemap", LINK_FORMAT, extra=(
            ("from", http_date(mementos[0].fetched_at)), ("until", http_date(mementos[-1].fetched_at)))))
    else:
        links.append(Link(timemap, "timemap", LINK_FORMAT))
    if current is None or not mementos:
        return links
    position = next(i for i, m in enumerate(mementos) if m.url == current.url)
    rels: dict[int, list[str]] = {}
    for index, rel in ((0, "first"), (len(mementos) - 1, "last"), (position - 1, "prev"), (position + 1, "next")):
        if 0 <= index < len(mementos) and (rel in ("first", "last") or index != position):
            rels.setdefault(index, []).append(rel)
    for index in sorted(rels):
        rel = " ".join(rels[index]) + " memento"
        links.append(Link(mementos[index].url, rel, datetime=http_date(mementos[index].fetched_at)))
    return links


def timemap(original: str, self_url: str, timegate: str, mementos: list[Memento]) -> str:
    """A TimeMap in application/link-format (RFC 7089 section 5.1): the original resource,
    itself (with from/until), the TimeGate, then every memento oldest first, the first and
    last also marked as such."""
    head = [Link(original, "original")]
    if mementos:
        head.append(Link(self_url, "self", LINK_FORMAT, extra=(
            ("from", http_date(mementos[0].fetched_at)), ("until", http_date(mementos[-1].fetched_at)))))
    else:
        head.append(Link(self_url, "self", LINK_FORMAT))
    head.append(Link(timegate, "timegate"))
    body = []
    for index, memento in enumerate(mementos):
        rel = ["first"] if index == 0 else []
        if index == len(mementos) - 1:
            rel.append("last")
        body.append(Link(memento.url, " ".join([*rel, "memento"]), datetime=http_date(memento.fetched_at)))
    return ",\n".join(link.render() for link in [*head, *body]) + "\n"
