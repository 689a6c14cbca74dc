"""The demo WordPress site as data: posts, categories, switches and faults in one JSON file.

The server re-reads the file on every request, so a test changes the live site by mutating a
`SiteState` and saving it (or, race-free, inside `SiteState.modify(path)`).

Time is an input: every mutator takes `now`; without it the state's own clock advances by one
hour per content mutation, so runs are reproducible and never depend on the real clock.
"""

from __future__ import annotations

import contextlib
import fcntl
import html
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote, unquote, urlsplit


SCHEMA_VERSION = 1
ISO_FORMAT = "%Y-%m-%dT%H:%M:%S"
DEFAULT_CLOCK = "2026-02-01T09:00:00"

REST_MODES = ("open", "401", "403", "404")
DOC_MODES = ("ok", "missing", "malformed")
BLOCK_KINDS = ("captcha", "maintenance", "login", "empty")
POST_STATUSES = ("publish", "trash")
POST_TYPES = ("post", "page")
CHARSETS = ("utf-8", "windows-1251")


@dataclass
class Post:
    """One WordPress post or page. Defaults let tests build a post from a few fields."""

    id: int = 0
    lang: str = "en"
    slug: str = ""  # decoded; may be Cyrillic
    title: str = ""
    content_html: str = ""
    excerpt: str = ""  # empty = WordPress builds one from the content
    date_gmt: str = ""
    modified_gmt: str = ""
    categories: list[str] = field(default_factory=list)  # category slugs in `lang`
    tags: list[str] = field(default_factory=list)
    author: str = "KazISS Press Service"
    status: str = "publish"
    post_type: str = "post"
    translation_group: str | None = None
    old_slugs: list[str] = field(default_factory=list)
    charset: str = "utf-8"

    @property
    def is_published(self) -> bool:
        return self.status == "publish"


@dataclass
class Category:
    id: int
    lang: str
    slug: str
    name: str


@dataclass
class Fault:
    """A path that answers `status` for the next `times_remaining` requests."""

    status: int
    times_remaining: int
    retry_after: int | None = None


@dataclass
class Options:
    rest: str = "open"  # 'open' | '401' | '403' | '404'
    feed: str = "ok"  # 'ok' | 'missing' | 'malformed'
    sitemap: str = "ok"  # 'ok' | 'missing' | 'malformed'
    wp_version: str = "6.6"  # sitemap <lastmod> appears from 6.5
    robots_disallow: list[str] = field(default_factory=list)
    posts_per_page: int = 10
    # A caching plugin or CDN in front of WordPress: single pages get ETag/Last-Modified
    # (from the post's modification time) and answer 304 to matching conditional requests.
    page_validators: bool = False

    def validate(self) -> None:
        if self.rest not in REST_MODES:
            raise ValueError(f"option rest must be one of {REST_MODES}, not {self.rest!r}")
        for name in ("feed", "sitemap"):
            if getattr(self, name) not in DOC_MODES:
                raise ValueError(f"option {name} must be one of {DOC_MODES}")
        if not re.fullmatch(r"\d+(\.\d+)*", self.wp_version):
            raise ValueError(f"option wp_version must look like '6.6', not {self.wp_version!r}")
        if self.posts_per_page < 1:
            raise ValueError("option posts_per_page must be >= 1")


@dataclass
class SiteState:
    posts: list[Post] = field(default_factory=list)
    categories: list[Category] = field(default_factory=list)
    # Polylang-style URL prefixes; the language with '' is the site's default language.
    languages: dict[str, str] = field(default_factory=lambda: {"ru": "", "en": "/en", "kk": "/kk"})
    options: Options = field(default_factory=Options)
    faults: dict[str, Fault] = field(default_factory=dict)
    blocks: dict[str, str] = field(default_factory=dict)
    slow: dict[str, float] = field(default_factory=dict)
    clock: str = DEFAULT_CLOCK
    site_name: str = "KazISS"

    # ----- persistence -------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {"schema_version": SCHEMA_VERSION, **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SiteState:
        version = data.get("schema_version", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            raise ValueError(f"demo site state has schema_version {version}, expected {SCHEMA_VERSION}")
        return cls(
            posts=[Post(**p) for p in data.get("posts", [])],
            categories=[Category(**c) for c in data.get("categories", [])],
            languages=dict(data.get("languages") or {"ru": "", "en": "/en", "kk": "/kk"}),
            options=Options(**data.get("options", {})),
            faults={k: Fault(**v) for k, v in data.get("faults", {}).items()},
            blocks=dict(data.get("blocks", {})),
            slow={k: float(v) for k, v in data.get("slow", {}).items()},
            clock=data.get("clock", DEFAULT_CLOCK),
            site_name=data.get("site_name", "KazISS"),
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SiteState:
        with open(path, encoding="utf-8") as fh:
            return cls.from_dict(json.load(fh))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write atomically: the server reads the file concurrently and must never see half of it."""
        target = Path(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self.to_dict(), fh, ensure_ascii=False, indent=1)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    @classmethod
    @contextlib.contextmanager
    def modify(cls, path: str | os.PathLike[str]) -> Iterator[SiteState]:
        """Load, let the caller mutate, save; under the lock the server takes to count faults down."""
        with state_lock(path):
            state = cls.load(path)
            yield state
            state.save(path)

    # ----- queries -------------------------------------------------------------------------

    @property
    def default_lang(self) -> str:
        for lang, prefix in self.languages.items():
            if prefix == "":
                return lang
        return next(iter(self.languages))

    def prefix(self, lang: str) -> str:
        return self.languages[lang]

    def post(self, post_id: int) -> Post | None:
        for post in self.posts:
            if post.id == post_id:
                return post
        return None

    def published(self, post_type: str | None = "post", lang: str | None = None) -> list[Post]:
        """Published items, newest date first (ties by id), like WP_Query's default order."""
        items = [
            p
            for p in self.posts
            if p.is_published
            and (post_type is None or p.post_type == post_type)
            and (lang is None or p.lang == lang)
        ]
        return sorted(items, key=lambda p: (p.date_gmt, p.id), reverse=True)

    def category(self, lang: str, slug: str) -> Category | None:
        for cat in self.categories:
            if cat.lang == lang and cat.slug == slug:
                return cat
        return None

    def category_by_id(self, cat_id: int) -> Category | None:
        for cat in self.categories:
            if cat.id == cat_id:
                return cat
        return None

    def posts_in(self, cat: Category) -> list[Post]:
        return [p for p in self.published("post", cat.lang) if cat.slug in p.categories]

    def find_slug(self, lang: str, slug: str) -> Post | None:
        for post in self.posts:
            if post.is_published and post.lang == lang and post.slug == slug:
                return post
        return None

    def find_old_slug(self, lang: str, slug: str) -> Post | None:
        for post in self.posts:
            if post.is_published and post.lang == lang and slug in post.old_slugs:
                return post
        return None

    def translations(self, post: Post) -> dict[str, Post]:
        """Published members of the post's translation group, by language (itself included)."""
        if not post.translation_group:
            return {post.lang: post} if post.is_published else {}
        group = {
            p.lang: p
            for p in self.posts
            if p.translation_group == post.translation_group and p.is_published
        }
        return {lang: group[lang] for lang in self.languages if lang in group}

    def path_of(self, post: Post) -> str:
        """Site-relative permalink, percent-encoded the way WordPress stores slugs."""
        return f"{self.prefix(post.lang)}/{encode_slug(post.slug)}/"

    def last_modified(self) -> str | None:
        """Newest modification among published posts and pages (WordPress's get_lastpostmodified)."""
        stamps = [p.modified_gmt for p in self.posts if p.is_published]
        return max(stamps) if stamps else None

    # ----- mutators (used by tests and the demo command) ----------------------------------

    def tick(self, now: str | datetime | None = None) -> str:
        """The time of a mutation: `now` if given, else the state's clock plus one hour."""
        if now is None:
            stamp = to_iso(parse_iso(self.clock) + timedelta(hours=1))
        else:
            stamp = to_iso(now)
        self.clock = max(self.clock, stamp)
        return stamp

    def publish(self, post: Post, now: str | datetime | None = None) -> Post:
        """Add `post` as published with the next id; dates come from `now` unless date_gmt is set."""
        if post.lang not in self.languages:
            raise ValueError(f"unknown language {post.lang!r}; known: {sorted(self.languages)}")
        for slug in post.categories:
            if self.category(post.lang, slug) is None:
                raise ValueError(f"no category {slug!r} in language {post.lang!r}")
        stamp = self.tick(now)
        post.id = max((p.id for p in self.posts), default=0) + 1
        post.status = "publish"
        post.date_gmt = to_iso(post.date_gmt) if post.date_gmt else stamp
        post.modified_gmt = stamp
        post.slug = self._unique_slug(post.lang, post.slug or slugify(post.title) or str(post.id), post.id)
        self.posts.append(post)
        return post

    def edit(self, post_id: int, now: str | datetime | None = None, **changes: Any) -> Post:
        """Change fields of a post; bumps modified_gmt like any WordPress update."""
        post = self._require(post_id)
        known = {f.name for f in fields(Post)} - {"id"}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"Post has no field(s) {sorted(unknown)}")
        new_slug = changes.pop("slug", None)
        for name, value in changes.items():
            setattr(post, name, value)
        if new_slug is not None and new_slug != post.slug:
            self._change_slug(post, new_slug)
        if "modified_gmt" not in changes:
            post.modified_gmt = self.tick(now)
        return post

    def rename(self, post_id: int, new_slug: str, now: str | datetime | None = None) -> Post:
        """Change the slug; the old one keeps answering with a 301 (WordPress's _wp_old_slug)."""
        return self.edit(post_id, now=now, slug=new_slug)

    def trash(self, post_id: int, now: str | datetime | None = None) -> Post:
        post = self._require(post_id)
        post.status = "trash"
        post.modified_gmt = self.tick(now)
        return post

    def restore(self, post_id: int, now: str | datetime | None = None) -> Post:
        post = self._require(post_id)
        post.status = "publish"
        post.modified_gmt = self.tick(now)
        return post

    def fail(self, path: str, status: int, times: int, retry_after: int | None = None) -> None:
        """Make `path` answer `status` (with Retry-After if given) for its next `times` requests."""
        self.faults[path] = Fault(status=int(status), times_remaining=int(times), retry_after=retry_after)

    def block(self, path: str, kind: str) -> None:
        """Make `path` answer 200 with a block page instead of its content."""
        if kind not in BLOCK_KINDS:
            raise ValueError(f"block kind must be one of {BLOCK_KINDS}, not {kind!r}")
        self.blocks[path] = kind

    def unblock(self, path: str) -> None:
        self.blocks.pop(path, None)

    def slow_down(self, path: str, seconds: float) -> None:
        self.slow[path] = float(seconds)

    def set_option(self, name: str, value: Any) -> None:
        if name not in {f.name for f in fields(Options)}:
            raise ValueError(f"unknown option {name!r}; known: {[f.name for f in fields(Options)]}")
        previous = getattr(self.options, name)
        setattr(self.options, name, value)
        try:
            self.options.validate()
        except ValueError:
            setattr(self.options, name, previous)
            raise

    # ----- helpers ----------------------------------------------------------------------

    def _require(self, post_id: int) -> Post:
        post = self.post(post_id)
        if post is None:
            raise KeyError(f"no post with id {post_id}")
        return post

    def _change_slug(self, post: Post, new_slug: str) -> None:
        old = post.slug
        post.slug = self._unique_slug(post.lang, new_slug, post.id)
        if old and old not in post.old_slugs and old != post.slug:
            post.old_slugs.append(old)
        # A slug that becomes current again must stop redirecting elsewhere.
        if post.slug in post.old_slugs:
            post.old_slugs.remove(post.slug)

    def _unique_slug(self, lang: str, slug: str, post_id: int) -> str:
        """WordPress appends -2, -3 … when a slug is taken (here: per language)."""
        taken = {p.slug for p in self.posts if p.lang == lang and p.id != post_id}
        if slug not in taken:
            return slug
        n = 2
        while f"{slug}-{n}" in taken:
            n += 1
        return f"{slug}-{n}"


# ----- module helpers ---------------------------------------------------------------------


def parse_iso(value: str) -> datetime:
    """ISO text to an aware UTC datetime; text without an offset is taken as UTC."""
    text = value.strip().replace("Z", "+00:00")
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        return dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def to_iso(value: str | datetime) -> str:
    """Normalise to WordPress's GMT column format 'YYYY-MM-DDTHH:MM:SS'."""
    dt = parse_iso(value) if isinstance(value, str) else value
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc)
    return dt.replace(tzinfo=None, microsecond=0).strftime(ISO_FORMAT)


def encode_slug(slug: str) -> str:
    # WordPress stores non-ASCII slugs already encoded and lower-cased, so links carry %d0%b0.
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(slug, safe="-_.~"))


def slugify(title: str) -> str:
    """A close cousin of sanitize_title_with_dashes: keeps Unicode letters, limits to 200 octets."""
    text = re.sub(r"<[^>]*>", "", html.unescape(title)).lower()
    text = re.sub(r"[\s_]+", "-", text)
    text = re.sub(r"[^\w-]", "", text)
    text = re.sub(r"-{2,}", "-", text).strip("-")
    out = ""
    for ch in text:
        if len(encode_slug(out + ch)) > 200:
            break
        out += ch
    return out.strip("-")


def auto_excerpt(content_html: str, words: int = 55) -> str:
    """wp_trim_excerpt: plain text of the first 55 words, then ' […]' (as an entity)."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", content_html))
    parts = text.split()
    if len(parts) <= words:
        return html.escape(" ".join(parts), quote=False)
    return html.escape(" ".join(parts[:words]), quote=False) + " [&hellip;]"


def match_path(table: dict[str, Any], target: str) -> str | None:
    """The key of `table` that names this request target: exact, without query, or decoded."""
    path = urlsplit(target).path or "/"
    decoded_target = unquote(target)
    decoded_path = unquote(path)
    for key in table:
        if "?" in key:
            if key == target or unquote(key) == decoded_target:
                return key
        elif key == path or unquote(key) == decoded_path:
            return key
    return None


@contextlib.contextmanager
def state_lock(path: str | os.PathLike[str]) -> Iterator[None]:
    """An advisory lock beside the state file; os.replace swaps inodes, so lock a sidecar."""
    with open(f"{os.fspath(path)}.lock", "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def version_at_least(version: str, minimum: str) -> bool:
    def parts(v: str) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", v))

    return parts(version) >= parts(minimum)
