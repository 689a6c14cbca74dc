"""First contact with a site: its languages, and the archived category in each of them.

Pure, like the frontier it serves: it hands out `Fetch` orders and is told the answers. It
starts from one category in one language (the seed: `site` and `category` of the
configuration) and asks, all at once:

- the seed language's home page: hreflang alternates and the language switcher name every
  language's home; `<html lang>` names the seed's own language;
- the seed category's first listing page: Polylang prints hreflang alternates to the
  category's translations there (WPML too), and its switcher links them;
- Polylang's public `/wp-json/pll/v1/languages` (every language with its home URL);
- the REST categories endpoint for the seed slug (its id, name, post count and real link).

For a language still without its category it then asks the REST categories of that
language (`?lang=`: a category named like the seed's, or Polylang's `<slug>-<lang>`
suffix), and, where the REST API does not answer, that language's home page (a menu link
named like an events category). Every section records the evidence that found it; sources
that disagree are noted. The frontier later adds "the category a translation of an
archived event sits in" when it fetches one (see Frontier._adopt_translation_category).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from storage.urls import normalize_url

from .config import Section
from .extract import decode_html
from .orders import Fetch, FetchFailure, Reply, Step
from .structure import (FoundLanguage, FoundSection, RestCategory, SiteStructure, category_links_by_name,
                        category_slug_of, is_event_name, language_of_query, normalize_language, parse_pll_languages,
                        parse_rest_categories, read_languages, rest_url, same_page, site_root)

logger = logging.getLogger(__name__)

# How strongly each source links a language's category to the seed's (lower is stronger).
STRENGTH = {"seed": 0, "hreflang": 1, "switcher": 2, "rest-link": 3, "translation": 4, "rest-slug": 5, "rest-name": 6,
            "menu-name": 7}
# Fetch kinds of first contact.
HOME = "home"
SEED_LISTING = "seed-listing"
PLL_LANGUAGES = "pll-languages"
SEED_CATEGORY = "seed-category"
LANGUAGE_CATEGORIES = "language-categories"
LANGUAGE_HOME = "language-home"
KINDS = frozenset({HOME, SEED_LISTING, PLL_LANGUAGES, SEED_CATEGORY, LANGUAGE_CATEGORIES, LANGUAGE_HOME})


@dataclass
class _Candidate:
    listing: str
    source: str  # a STRENGTH key
    evidence: str
    category_id: int | None = None
    name: str | None = None
    posts: int | None = None


@dataclass
class Explorer:
    seed: Section
    checked_at: str
    structure: SiteStructure = field(init=False)
    _in_flight: int = 0
    _rest: str | None = None  # "ok", "refused (401)", …: what the REST API said
    _seed_language: str | None = None
    _seed_name: str | None = None
    _seed_listing_missing: bool = False
    _seed_listing_done: bool = False
    _languages: dict[str, FoundLanguage] = field(default_factory=dict)
    _candidates: dict[str, list[_Candidate]] = field(default_factory=dict)
    _second_round: bool = False
    _seed_rest: RestCategory | None = None  # the seed category as the REST API describes it

    def __post_init__(self) -> None:
        self.structure = SiteStructure(root=site_root(self.seed.url), seed=self.seed.listing_url,
                                       checked_at=self.checked_at)
        self._seed_language = normalize_language(self.seed.language) if self.seed.language else None

    @property
    def done(self) -> bool:
        return self._in_flight == 0 and self._second_round

    # -- orders ------------------------------------------------------------------------------------
    def _fetch(self, kind: str, url: str, **fields: object) -> Fetch:
        self._in_flight += 1
        return Fetch(url=url, kind=kind, section=self.seed.label, priority=40, **fields)  # type: ignore[arg-type]

    def start(self) -> Step:
        query = {"slug": self.seed.category, "_fields": "id,slug,name,link,count,parent"}
        if language_of_query(self.seed.url):  # WPML filters terms by the language the request names
            query["lang"] = language_of_query(self.seed.url)
        return Step([
            self._fetch(HOME, self.seed.url),
            self._fetch(SEED_LISTING, self.seed.listing_url),
            self._fetch(PLL_LANGUAGES, rest_url(self.seed.url, "pll/v1/languages")),
            self._fetch(SEED_CATEGORY, rest_url(self.seed.url, "wp/v2/categories", query)),
        ])

    # -- answers -----------------------------------------------------------------------------------
    def on_reply(self, order: Fetch, reply: Reply) -> Step:
        self._in_flight -= 1
        handler = {HOME: self._home, SEED_LISTING: self._seed_listing, PLL_LANGUAGES: self._pll_languages,
                   SEED_CATEGORY: self._seed_category, LANGUAGE_CATEGORIES: self._language_categories,
                   LANGUAGE_HOME: self._language_home}[order.kind]
        step = handler(order, reply)
        return step.extend(self._next_round())

    def on_failure(self, order: Fetch, failure: FetchFailure) -> Step:
        self._in_flight -= 1
        logger.info("first contact: %s failed: %s", order.url, failure.detail)
        if order.kind == SEED_LISTING:
            self._seed_listing_done = True
            self.structure.failure = f"the category listing {order.url} could not be read: {failure.detail}"
        if order.kind in (SEED_CATEGORY, LANGUAGE_CATEGORIES, PLL_LANGUAGES) and self._rest is None:
            self._rest = failure.detail
        return self._next_round()

    def _html(self, reply: Reply) -> str:
        return decode_html(reply.body, reply.header("Content-Type"))

    def _language(self, code: str, root: str, evidence: str) -> None:
        found = self._languages.setdefault(code, FoundLanguage(code, root))
        if evidence not in found.evidence:
            found.evidence.append(evidence)

    def _home(self, order: Fetch, reply: Reply) -> Step:
        if reply.status != 200:
            return Step()
        page = read_languages(self._html(reply), reply.url)
        self.structure.plugin = self.structure.plugin or page.plugin
        own = page.current or next((c for c, u in page.alternates.items() if same_page(u, reply.url)), None)
        self._seed_language = self._seed_language or own or page.declared or language_of_query(reply.url)
        for code, url in page.alternates.items():
            self._language(code, url, "hreflang on the home page")
        for code, url in page.switcher.items():
            self._language(code, url, "language switcher on the home page")
        if self._seed_language and self._seed_language not in self._languages:
            self._language(self._seed_language, reply.url, "the seed's home page")
        return Step()

    def _seed_listing(self, order: Fetch, reply: Reply) -> Step:
        self._seed_listing_done = True
        if reply.status in (404, 410):
            self._seed_listing_missing = True
            self.structure.failure = (f"category not found: {self.seed.category!r} ({order.url} answered "
                                      f"{reply.status})")
            return Step()
        if reply.status != 200:
            self.structure.failure = f"the category listing {order.url} answered {reply.status}"
            return Step()
        self.structure.failure = None
        page = read_languages(self._html(reply), reply.url)
        self.structure.plugin = self.structure.plugin or page.plugin
        self._seed_language = self._seed_language or page.current or page.declared or language_of_query(reply.url)
        seed_code = self._seed_language or "und"
        self._candidate(seed_code, _Candidate(reply.url, "seed", "the configured category"))
        homes = {normalize_url(lang.root) for lang in self._languages.values()}
        for code, url in page.alternates.items():
            if code != seed_code:
                self._candidate(code, _Candidate(url, "hreflang", f"hreflang on the {seed_code} listing"))
        for code, url in page.switcher.items():
            # A language without a translation of the category links its home instead.
            if code == seed_code or code in page.untranslated or normalize_url(url) in homes \
                    or category_slug_of(url) is None:
                continue
            self._candidate(code, _Candidate(url, "switcher", f"language switcher on the {seed_code} listing"))
        return Step()

    def _pll_languages(self, order: Fetch, reply: Reply) -> Step:
        if reply.status in (401, 403):
            self._rest = self._rest or f"refused ({reply.status})"
            return Step()
        for language in parse_pll_languages(reply.body) if reply.status == 200 else []:
            self.structure.plugin = "polylang"
            self._language(language.code, language.home_url, "Polylang's REST list of languages")
        return Step()

    def _seed_category(self, order: Fetch, reply: Reply) -> Step:
        if reply.status != 200:
            self._rest = self._rest or (f"refused ({reply.status})" if reply.status in (401, 403) else f"HTTP {reply.status}")
            return Step()
        self._rest = "ok"
        wanted = normalize_url(f"https://h/{self.seed.category}")
        for category in parse_rest_categories(reply.body):
            if normalize_url(f"https://h/{category.slug}") == wanted:
                self._seed_name = category.name
                self._seed_rest = category
                step = Step()
                if self._seed_listing_missing and not same_page(category.link, self.seed.listing_url):
                    # The listing is not at /category/<slug>/ (another category base): the REST
                    # API knows where it is.
                    self._seed_listing_missing = False
                    step.fetches.append(self._fetch(SEED_LISTING, category.link))
                return step
        return Step()

    def _language_categories(self, order: Fetch, reply: Reply) -> Step:
        code = order.doc_id or ""
        language = self._languages.get(code)
        if reply.status != 200 or language is None:
            return Step()
        root = normalize_url(language.root)
        seed_slug = normalize_url(f"https://h/{self.seed.category}").rsplit("/", 1)[-1].lower()
        linked = [c.listing for c in self._candidates.get(code, [])]
        for category in parse_rest_categories(reply.body):
            # Polylang answers an unknown ?lang= with the default language's terms: only a
            # category listed under this language's root is this language's.
            if not self._under_root(category.link, code, root):
                continue
            slug = normalize_url(f"https://h/{category.slug}").rsplit("/", 1)[-1].lower()
            if any(same_page(category.link, listing) for listing in linked):
                # The REST API confirms what a page linked, and gives its id and post count.
                self._candidate(code, _Candidate(category.link, "rest-link",
                                                 f"REST categories in {code}: {category.name!r} (id {category.id})",
                                                 category.id, category.name, category.count))
            elif seed_slug and slug.startswith(seed_slug + "-"):
                self._candidate(code, _Candidate(category.link, "rest-slug",
                                                 f"REST categories in {code}: slug {category.slug!r}",
                                                 category.id, category.name, category.count))
            elif is_event_name(category.name) or (self._seed_name and category.name == self._seed_name):
                self._candidate(code, _Candidate(category.link, "rest-name",
                                                 f"REST categories in {code}: named {category.name!r}",
                                                 category.id, category.name, category.count))
        return Step()

    def _language_home(self, order: Fetch, reply: Reply) -> Step:
        code = order.doc_id or ""
        if reply.status != 200:
            return Step()
        for name, url in category_links_by_name(self._html(reply), reply.url):
            if is_event_name(name) and self._under_root(url, code, normalize_url(self._languages[code].root)):
                self._candidate(code, _Candidate(url, "menu-name", f"menu of the {code} home page: {name!r}",
                                                 name=name))
        return Step()

    def _under_root(self, url: str, code: str, root: str) -> bool:
        """Whether a URL belongs to this language: under its root, and not under another's."""
        key = normalize_url(url)
        others = [normalize_url(lang.root) for c, lang in self._languages.items() if c != code]
        query_language = language_of_query(url)
        if query_language is not None:
            return query_language == code
        longer = [r for r in others if len(r) > len(root) and key.startswith(r.rstrip("/") + "/")]
        return key.startswith(root.split("?")[0].rstrip("/")) and not longer

    def _candidate(self, code: str, candidate: _Candidate) -> None:
        self._candidates.setdefault(code, []).append(candidate)

    # -- the second round and the result -----------------------------------------------------------
    def _next_round(self) -> Step:
        if self._in_flight or self._second_round:
            return Step()
        self._second_round = True
        step = Step()
        if self.structure.failure and self._seed_listing_missing:
            return step
        for code, language in sorted(self._languages.items()):
            if code == self._seed_language:
                continue
            if self._rest == "ok":
                # Asked even when a page linked the category: it cross-checks the link and
                # gives the category's id and post count (the crawl needs the id anyway).
                step.fetches.append(self._fetch(LANGUAGE_CATEGORIES, rest_url(
                    self.seed.url, "wp/v2/categories",
                    {"lang": code, "per_page": 100, "hide_empty": 1, "_fields": "id,slug,name,link,count,parent"}),
                    doc_id=code))
            elif code not in self._candidates:
                step.fetches.append(self._fetch(LANGUAGE_HOME, language.root, doc_id=code))
        return step

    def result(self) -> SiteStructure:
        """The structure found (call when `done`)."""
        structure = self.structure
        structure.languages = sorted(self._languages.values(), key=lambda lang: lang.code)
        structure.sections = []
        for code, candidates in sorted(self._candidates.items()):
            structure.sections.append(_choose(code, candidates))
        for found in structure.sections:
            if found.language not in self._languages:
                root = found.listing.split("/category/")[0] + "/" if "/category/" in found.listing else self.seed.url
                structure.languages.append(FoundLanguage(found.language, root, ["the category listing's language"]))
            if self._seed_rest is not None and found.evidence[0] == "the configured category":
                found.category_id, found.name, found.posts = self._seed_rest.id, self._seed_rest.name, self._seed_rest.count
        structure.languages.sort(key=lambda lang: lang.code)
        for code in sorted(self._languages):
            if structure.section(code) is None:
                structure.missing[code] = (f"no category of {code} is linked to {self.seed.category!r} "
                                           "(hreflang, language switcher, REST categories, home page menu)")
        return structure


def _choose(code: str, candidates: list[_Candidate]) -> FoundSection:
    """The strongest candidate; the evidence of every source that agrees with it, and a note of
    those that name another listing."""
    ranked = sorted(candidates, key=lambda c: STRENGTH[c.source])
    best = ranked[0]
    evidence, seen = [], set()
    for candidate in ranked:
        agrees = same_page(candidate.listing, best.listing)
        note = candidate.evidence if agrees else f"{candidate.evidence} names another listing: {candidate.listing}"
        if note not in seen:
            seen.add(note)
            evidence.append(note)
        if not agrees:
            logger.warning("sources disagree on the %s category: %s (%s) and %s (%s)", code, best.listing,
                           best.evidence, candidate.listing, candidate.evidence)
    detail = next((c for c in ranked if c.category_id is not None and same_page(c.listing, best.listing)), None)
    return FoundSection(language=code, listing=best.listing, category=category_slug_of(best.listing) or "",
                        evidence=evidence, category_id=detail.category_id if detail else None,
                        name=next((c.name for c in ranked if c.name), None), posts=detail.posts if detail else None)


def sections_of(structure: SiteStructure, seed: Section) -> list[Section]:
    """The structure's sections as the frontier crawls them."""
    found = []
    for section in structure.sections:
        language = next((lang for lang in structure.languages if lang.code == section.language), None)
        code = None if section.language == "und" else section.language
        found.append(Section(url=language.root if language else seed.url, category=section.category,
                             language=code, listing=section.listing))
    return found

