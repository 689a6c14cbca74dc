"""The demo WordPress site as data: posts, categories, switches and faults in one JSON file.

The server re-reads the file on every request, so a test changes the live site by mutating a
`SiteState` and saving it (or, race-free, inside `SiteState.modify(path)`).

Languages are data too: each has a code (what posts and categories carry, `kk`), the slug the
multilingual plugin puts in URLs and `lang=` parameters (`kz`), a WordPress locale (`kk`,
`ru_RU`) and a name. Options choose the plugin (Polylang or WPML), the link model (a directory
prefix or a `?lang=` parameter) and whether the default language's prefix is hidden.

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

from .media import Media

SCHEMA_VERSION = 2
ISO_FORMAT = "%Y-%m-%dT%H:%M:%S"
DEFAULT_CLOCK = "2026-02-01T09:00:00"
TRASHED_SUFFIX = "__trashed"

REST_MODES = ("open", "401", "403", "404")
DOC_MODES = ("ok", "missing", "malformed")
BLOCK_KINDS = ("captcha", "maintenance", "login", "empty")
POST_STATUSES = ("publish", "trash")
POST_TYPES = ("post", "page")
CHARSETS = ("utf-8", "windows-1251")
PLUGINS = ("polylang", "wpml")
LINK_MODELS = ("directory", "query")  # /en/… (Polylang's PLL_Links_Directory) or ?lang=en (WPML)
SITEMAP_PLUGINS = ("core", "yoast")


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
    desired_slug: str = ""  # while trashed: the slug to restore (WordPress's _wp_desired_post_slug)

    @property
    def is_published(self) -> bool:
        return self.status == "publish"


@dataclass
class Category:
    """A category term. With a multilingual plugin each language's term is separate (own id and
    slug); `translation_group` links the terms that translate each other."""

    id: int
    lang: str
    slug: str  # decoded; may be Cyrillic
    name: str
    translation_group: str | None = None


@dataclass
class Language:
    """One language of the site, as the multilingual plugin stores it."""

    code: str  # what Post.lang and Category.lang hold, e.g. 'kk'
    slug: str  # in URLs and in `lang=` parameters, e.g. 'kz' (Polylang calls it the language code)
    locale: str  # WordPress locale: 'kk', 'ru_RU', 'en_US'
    name: str  # native name, as the switcher prints it
    term_id: int = 0  # Polylang's `language` term: the switcher's lang-item-<term_id> class

    @property
    def w3c(self) -> str:
        # Polylang's language-factory.php: the locale with '-' unless its table overrides it
        # (it does not for kk, ru_RU or en_US); also what get_bloginfo('language') prints.
        return self.locale.replace("_", "-")


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
    plugin: str = "polylang"  # 'polylang' (the free plugin) | 'wpml'
    link_model: str = "directory"  # 'directory' (/en/…) | 'query' (?lang=en)
    hide_default: bool = True  # Polylang's default: no prefix (or parameter) for the default language
    sitemap_plugin: str = "core"  # 'core' (/wp-sitemap.xml) | 'yoast' (/sitemap_index.xml)
    gmt_offset: int = 5  # hours; Asia/Almaty. Sitemap <lastmod> and REST `date` are local time.

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
        for name, allowed in (("plugin", PLUGINS), ("link_model", LINK_MODELS), ("sitemap_plugin", SITEMAP_PLUGINS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"option {name} must be one of {allowed}, not {getattr(self, name)!r}")


@dataclass
class SiteState:
    posts: list[Post] = field(default_factory=list)
    categories: list[Category] = field(default_factory=list)
    # In the plugin's order (Polylang's term_group): switchers, hreflang and sitemaps follow it.
    languages: list[Language] = field(default_factory=lambda: default_languages())
    default_language: str = "ru"
    options: Options = field(default_factory=Options)
    faults: dict[str, Fault] = field(default_factory=dict)
    blocks: dict[str, str] = field(default_factory=dict)
    slow: dict[str, float] = field(default_factory=dict)
    clock: str = DEFAULT_CLOCK
    site_name: str = "KazISS"
    # Ground truth for tests: the translation group of the categories that hold the events.
    events_group: str = "events"
    media: list[Media] = field(default_factory=list)  # the media library (scheduler/demo_site/media.py)

    # ----- persistence -------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {"schema_version": SCHEMA_VERSION, **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SiteState:
        version = data.get("schema_version", SCHEMA_VERSION)
        if version == 1:
            data = _upgrade_v1(data)
        elif version != SCHEMA_VERSION:
            raise ValueError(f"demo site state has schema_version {version}, expected {SCHEMA_VERSION} (or 1)")
        state = cls(
            posts=[Post(**p) for p in data.get("posts", [])],
            categories=[Category(**c) for c in data.get("categories", [])],
            languages=[Language(**lang) for lang in data.get("languages") or []] or default_languages(),
            default_language=data.get("default_language", "ru"),
            options=Options(**data.get("options", {})),
            faults={k: Fault(**v) for k, v in data.get("faults", {}).items()},
            blocks=dict(data.get("blocks", {})),
            slow={k: float(v) for k, v in data.get("slow", {}).items()},
            clock=data.get("clock", DEFAULT_CLOCK),
            site_name=data.get("site_name", "KazISS"),
            events_group=data.get("events_group", "events"),
            media=[Media(**m) for m in data.get("media", [])],
        )
        state.validate()
        return state

    def validate(self) -> None:
        """One clear sentence for a state that cannot describe a site."""
        codes = [lang.code for lang in self.languages]
        slugs = [lang.slug for lang in self.languages]
        if len(set(codes)) != len(codes) or len(set(slugs)) != len(slugs):
            raise ValueError(f"languages must have distinct codes and slugs, not {codes} / {slugs}")
        if self.default_language not in codes:
            raise ValueError(f"default_language {self.default_language!r} is not one of the languages {codes}")
        self.options.validate()

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

    # ----- languages and links -------------------------------------------------------------

    @property
    def default_lang(self) -> str:
        return self.default_language

    @property
    def codes(self) -> list[str]:
        return [lang.code for lang in self.languages]

    def language(self, code: str) -> Language:
        for lang in self.languages:
            if lang.code == code:
                return lang
        raise KeyError(f"unknown language {code!r}; known: {self.codes}")

    def language_by_slug(self, slug: str) -> Language | None:
        for lang in self.languages:
            if lang.slug == slug:
                return lang
        return None

    def is_hidden(self, code: str) -> bool:
        """Whether URLs of this language carry no language information (the hidden default)."""
        return self.options.hide_default and code == self.default_language

    def link(self, code: str, path: str) -> str:
        """A site-relative URL of `path` in language `code`, per the link model.

        Directory (Polylang's links-directory.php add_language_to_link): '/en' + path, nothing for
        the hidden default. Query (WPML's "language as a parameter"): path + '?lang=en'.
        """
        if self.is_hidden(code):
            return path
        slug = self.language(code).slug
        if self.options.link_model == "directory":
            return f"/{slug}{path}"
        return path + ("&" if "?" in path else "?") + f"lang={slug}"

    def home_path(self, code: str) -> str:
        return self.link(code, "/")

    def path_of(self, post: Post) -> str:
        """Site-relative permalink, percent-encoded the way WordPress stores slugs."""
        return self.link(post.lang, f"/{encode_slug(post.slug)}/")

    def category_path(self, cat: Category, tail: str = "") -> str:
        return self.link(cat.lang, f"/category/{encode_slug(cat.slug)}/{tail}")

    # ----- queries -------------------------------------------------------------------------

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

    def categories_with_slug(self, slug: str) -> list[Category]:
        return [cat for cat in self.categories if cat.slug == slug]

    def category_translations(self, cat: Category) -> dict[str, Category]:
        """The terms that translate `cat`, by language in the site's order (itself included)."""
        if not cat.translation_group:
            return {cat.lang: cat}
        group = {c.lang: c for c in self.categories if c.translation_group == cat.translation_group}
        return {code: group[code] for code in self.codes if code in group}

    def posts_in(self, cat: Category) -> list[Post]:
        return [p for p in self.published("post", cat.lang) if cat.slug in p.categories]

    def find_slug(self, lang: str, slug: str) -> Post | None:
        for post in self.posts:
            if post.is_published and post.lang == lang and post.slug == slug:
                return post
        return None

    def find_old_slug(self, slug: str) -> Post | None:
        """wp_old_slug_redirect(): `_wp_old_slug` is looked up whatever the language."""
        for post in sorted(self.posts, key=lambda p: p.id):
            if post.is_published and slug in post.old_slugs:
                return post
        return None

    def guess_by_slug_prefix(self, name: str) -> Post | None:
        """redirect_guess_404_permalink(): the first published post or page whose slug starts
        with `name` (post_name LIKE 'name%', any language; by id, as MySQL returns it)."""
        for post in sorted(self.posts, key=lambda p: p.id):
            if post.is_published and post.slug.startswith(name):
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
        return {lang: group[lang] for lang in self.codes if lang in group}

    def events_category(self, code: str) -> Category | None:
        """Ground truth for tests: this language's events category, whatever its slug."""
        for cat in self.categories:
            if cat.lang == code and cat.translation_group == self.events_group:
                return cat
        return None

    def events_by_language(self) -> dict[str, list[int]]:
        """Ground truth for tests: the ids of the published events of each language."""
        out: dict[str, list[int]] = {}
        for code in self.codes:
            cat = self.events_category(code)
            out[code] = sorted(p.id for p in self.posts_in(cat)) if cat else []
        return out

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
        if post.lang not in self.codes:
            raise ValueError(f"unknown language {post.lang!r}; known: {self.codes}")
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
        """wp_trash_post(): the slug becomes '<slug>__trashed' (the old one is kept to restore)."""
        post = self._require(post_id)
        if post.status != "trash":
            post.status = "trash"
            if not post.slug.endswith(TRASHED_SUFFIX):
                post.desired_slug = post.slug
                post.slug = post.slug + TRASHED_SUFFIX
        post.modified_gmt = self.tick(now)
        return post

    def restore(self, post_id: int, now: str | datetime | None = None) -> Post:
        """wp_untrash_post() with the post published again and its `_wp_desired_post_slug` back."""
        post = self._require(post_id)
        post.status = "publish"
        if post.desired_slug:
            post.slug = self._unique_slug(post.lang, post.desired_slug, post.id)
            post.desired_slug = ""
        post.modified_gmt = self.tick(now)
        return post

    def media_item(self, media_id: int) -> Media:
        for item in self.media:
            if item.id == media_id:
                return item
        raise KeyError(f"no media with id {media_id}")

    def media_at(self, path: str) -> Media | None:
        """The upload served at `path`: the file itself or one of its resized copies."""
        for item in self.media:
            if path == item.path or any(path == variant for _w, _h, variant in item.sizes()):
                return item
        return None

    def replace_media(self, media_id: int, now: str | datetime | None = None, **changes: Any) -> Media:
        """Replace a file's content at the same URL (what "Enable Media Replace" does): the
        posts that link it are not modified, only the file and its modification time."""
        item = self.media_item(media_id)
        for name, value in changes.items():
            if name not in ("pdf", "image", "title", "alt"):
                raise ValueError(f"media has no replaceable field {name!r}")
            setattr(item, name, value)
        item.modified_gmt = self.tick(now)
        return item

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
        """wp_unique_post_slug(): -2, -3 … when a slug is taken. Polylang's free plugin keeps
        slugs unique across languages (sharing them is a Pro module); WPML allows one per language."""
        per_language = self.options.plugin == "wpml"
        taken = {p.slug for p in self.posts if p.id != post_id and (not per_language or p.lang == lang)}
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
    """An exclusive advisory lock beside the state file (os.replace swaps inodes, so a sidecar);
    the OS releases it if the holder dies. Kept here so the fixture needs only the stdlib."""
    with open(f"{os.fspath(path)}.lock", "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# Polylang's predefined languages (settings/languages.php) for the three of kisi.kz; the term ids
# are what an install that added Russian, then English, then Kazakh would get.
KNOWN_LANGUAGES: dict[str, dict[str, str]] = {
    "ru": {"locale": "ru_RU", "name": "Русский"},
    "en": {"locale": "en_US", "name": "English"},
    "kk": {"locale": "kk", "name": "Қазақ тілі"},
}


def default_languages() -> list[Language]:
    """kisi.kz as the seed models it: Russian at the root, English /en/, Kazakh /kz/."""
    return [
        Language(code="ru", slug="ru", locale="ru_RU", name="Русский", term_id=2),
        Language(code="en", slug="en", locale="en_US", name="English", term_id=5),
        Language(code="kk", slug="kz", locale="kk", name="Қазақ тілі", term_id=9),
    ]


def _upgrade_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 1 kept languages as {code: URL prefix} ('' for the default); make them Language data."""
    data = dict(data)
    prefixes: dict[str, str] = dict(data.get("languages") or {"ru": "", "en": "/en", "kk": "/kk"})
    default = next((code for code, prefix in prefixes.items() if prefix == ""), next(iter(prefixes)))
    languages = []
    for term_id, (code, prefix) in enumerate(prefixes.items(), start=1):
        known = KNOWN_LANGUAGES.get(code, {"locale": code, "name": code})
        languages.append(
            asdict(Language(code=code, slug=prefix.strip("/") or code, locale=known["locale"],
                            name=known["name"], term_id=term_id))
        )
    data["languages"] = languages
    data["default_language"] = default
    data["schema_version"] = SCHEMA_VERSION
    return data


def version_at_least(version: str, minimum: str) -> bool:
    def parts(v: str) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", v))

    return parts(version) >= parts(minimum)
