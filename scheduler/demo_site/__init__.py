"""A fake multilingual (Polylang-like) WordPress 6.x site served on 127.0.0.1.

Content and behaviour live in a JSON state file that the server re-reads on every request;
tests and the `kisi-archive demo` command change the site by saving a new state.
"""

from __future__ import annotations

from .process import SiteProcess, SiteStartError
from .seed import default_state
from .state import Category, Fault, Options, Post, SiteState

__all__ = [
    "Category",
    "Fault",
    "Options",
    "Post",
    "SiteProcess",
    "SiteStartError",
    "SiteState",
    "default_state",
]
