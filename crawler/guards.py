"""Noise guards: is this response really the post, or something served in its place?

A CAPTCHA or block page, a maintenance or login page, a soft 404, an empty body, or a body
drastically shorter than the version we hold must never become a version. Pure function.
"""
from __future__ import annotations

import re

from crawler.extract import ExtractedPage

# Phrases of pages that stand in for content: anti-bot walls, maintenance mode, login
# walls, "not found" templates served with 200. Matched against title + start of text.
_BLOCK_PATTERNS = [
    (re.compile(p, re.IGNORECASE), kind)
    for p, kind in (
        (r"captcha|are you a human|verify you are human|just a moment|attention required|access denied"
         r"|checking your browser|ddos protection|request blocked", "block page"),
        (r"briefly unavailable for scheduled maintenance|under maintenance|maintenance mode"
         r"|технические работы|сайт на обслуживании", "maintenance page"),
        (r"\blog ?in\b.*\bpassword\b|username or email address|lost your password|войти|вход на сайт", "login page"),
        (r"page not found|nothing (was )?found|oops! that page can|страница не найдена|404", "soft 404"),
    )
]
# Below this share of the previous text, a new text is treated as a broken page, not an edit.
SHRINK_LIMIT = 0.3
# Texts shorter than this are too small to judge by shrinkage (short announcements exist).
SHRINK_MIN_PREVIOUS = 400


def suspicious(page: ExtractedPage, *, expected_post_id: int | None = None,
               previous_text_length: int | None = None) -> str | None:
    """Why this page must not be stored as a version of the post, or None when it looks right."""
    if not page.text.strip():
        return "nothing extractable"
    head = f"{page.title or ''}\n{page.text[:300]}"
    if page.post_id is None:
        # A real post page names its id; a stand-in page usually does not.
        for pattern, kind in _BLOCK_PATTERNS:
            if pattern.search(head):
                return f"{kind} served instead of the post"
    if expected_post_id is not None and page.post_id is not None and page.post_id != expected_post_id:
        return f"another post (id {page.post_id}) served instead of post {expected_post_id}"
    if (previous_text_length and previous_text_length >= SHRINK_MIN_PREVIOUS
            and len(page.text) < SHRINK_LIMIT * previous_text_length):
        return (f"text drastically shorter than the stored version "
                f"({len(page.text)} vs {previous_text_length} characters)")
    return None
