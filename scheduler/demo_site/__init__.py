"""A fake multilingual WordPress 6.x site (Polylang or WPML) served on 127.0.0.1.

Content and behaviour live in a JSON state file that the server re-reads on every request;
tests and the `kisi-archive demo` command change the site by saving a new state.
`default_state()` is the seeded kisi.kz-like Polylang site, `wpml_state()` the same content on
WPML, `stranger_state(seed)` a site generated from a seed that no test was written against.
See docs/fixture-site.md.
"""

from __future__ import annotations

from .process import SiteProcess, SiteStartError
from .seed import default_state, wpml_state
from .state import Category, Fault, Language, Options, Post, SiteState
from .stranger import stranger_state

__all__ = [
    "Category",
    "Fault",
    "Language",
    "Options",
    "Post",
    "SiteProcess",
    "SiteStartError",
    "SiteState",
    "default_state",
    "stranger_state",
    "wpml_state",
]
