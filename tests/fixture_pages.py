"""The fixture site's answers without a socket, for the tables of the pure crawl code: its own
routing function (scheduler.demo_site.render), redirects followed, as the spider would hand
them over."""
from __future__ import annotations

from typing import Callable
from urllib.parse import urlsplit

from crawler.orders import Reply
from scheduler.demo_site.pages import Context
from scheduler.demo_site.render import Request, render
from scheduler.demo_site.state import SiteState


def answers(state: SiteState, root: str) -> Callable[[str], Reply]:
    def answer(url: str) -> Reply:
        first = url
        for _hop in range(5):
            parts = urlsplit(url)
            response = render(state, Request("GET", parts.path + (f"?{parts.query}" if parts.query else ""), {}),
                              Context(root=root))
            if response.status in (301, 302) and response.header("Location"):
                url = response.header("Location")
                continue
            break
        return Reply(url=url, status=response.status, body=response.body,
                     headers={k.lower(): v for k, v in response.headers}, requested_url=first)
    return answer
