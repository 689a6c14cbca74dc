"""Ground truth of the seeded fixture site (scheduler/demo_site/seed.py): tests compare what was
archived against it, never against slugs or counts written by hand."""
from __future__ import annotations

from scheduler.demo_site import default_state

SEEDED = default_state()
EVENTS_BY_LANGUAGE: dict[str, set[int]] = {code: set(ids) for code, ids in SEEDED.events_by_language().items()}
EVENTS: set[int] = set().union(*EVENTS_BY_LANGUAGE.values())
OTHER_POSTS: set[int] = {p.id for p in SEEDED.published("post", None)} - EVENTS  # other categories
PAGES: set[int] = {p.id for p in SEEDED.published("page", None)}
# Lines of a grouped listing of the events: each translation group of events counts once.
EVENT_GROUPS: int = len(EVENTS) - sum(
    len(members) - 1 for members in {
        p.translation_group: {q.id for q in SEEDED.posts if q.translation_group == p.translation_group and q.id in EVENTS}
        for p in SEEDED.posts if p.translation_group and p.id in EVENTS}.values())
