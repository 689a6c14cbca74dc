"""A multilingual WordPress site built from a seed, that no crawler test was written against.

`stranger_state(seed)` picks, deterministically per seed: the plugin (mostly Polylang, sometimes
WPML), which language is the default and where the others live (`/ru/`, `/kk/` or `/kz/`, or
`?lang=`), whether the default language's prefix is hidden, every category slug (transliterated
or Cyrillic, with Polylang's `-<lang>` suffix when two languages collide), posts_per_page, the
timezone, whether REST answers 401, and whether Yoast or core serves the sitemap. Events are a
mix of one-language posts (the majority in Russian and Kazakh, as on kisi.kz) and translation
groups of two and three languages. Tests learn the ground truth from the state itself:
`state.events_by_language()` and `state.events_category(code)`, never from slugs.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from .state import Category, Language, Options, Post, SiteState, parse_iso, slugify, to_iso

SITE_NAMES = ("Eurasian Policy Centre", "Steppe Institute for Policy Studies", "Astana Analytical Forum",
              "Centre for Central Asian Research")
NAMES = {"ru": "Русский", "en": "English", "kk": "Қазақ тілі"}
LOCALES = {"ru": "ru_RU", "en": "en_US", "kk": "kk"}

# Per language: (name, slug candidates) of the events category and of the other categories.
EVENT_CATEGORIES = {
    "en": ("Events", ["events", "event", "activities", "meetings"]),
    "ru": ("События", ["sobytiya", "meropriyatiya", "события", "мероприятия"]),
    "kk": ("Іс-шаралар", ["is-sharalar", "oqigalar", "іс-шаралар", "events"]),
}
OTHER_CATEGORIES = {
    "en": [("News", ["news"]), ("Analytics", ["analytics", "analysis"]), ("Publications", ["publications"])],
    "ru": [("Новости", ["novosti", "новости"]), ("Аналитика", ["analitika", "аналитика"]),
           ("Публикации", ["publikacii", "публикации"])],
    "kk": [("Жаңалықтар", ["zhanalyqtar", "жаңалықтар", "news"]), ("Сараптама", ["saraptama", "сараптама"]),
           ("Басылымдар", ["basylymdar", "басылымдар"])],
}

KINDS = {
    "en": ["Round table on", "Expert seminar on", "Conference on", "Book presentation on", "Panel discussion on"],
    "ru": ["Круглый стол по теме", "Экспертный семинар о", "Конференция по вопросам", "Презентация доклада о",
           "Дискуссия о"],
    "kk": ["Дөңгелек үстел:", "Сарапшылық семинар:", "Конференция:", "Баяндама таныстырылымы:", "Пікірталас:"],
}
TOPICS = [
    {"en": "water security in Central Asia", "ru": "водной безопасности в Центральной Азии",
     "kk": "Орталық Азиядағы су қауіпсіздігі"},
    {"en": "the Middle Corridor", "ru": "Среднего коридора", "kk": "Орта дәліз"},
    {"en": "digital government", "ru": "цифрового государства", "kk": "цифрлық мемлекет"},
    {"en": "the energy transition", "ru": "энергетического перехода", "kk": "энергетикалық ауысу"},
    {"en": "youth employment", "ru": "занятости молодёжи", "kk": "жастарды жұмыспен қамту"},
    {"en": "regional security", "ru": "региональной безопасности", "kk": "өңірлік қауіпсіздік"},
    {"en": "food security", "ru": "продовольственной безопасности", "kk": "азық-түлік қауіпсіздігі"},
    {"en": "the Caspian region", "ru": "Каспийского региона", "kk": "Каспий өңірі"},
    {"en": "parliamentary reform", "ru": "парламентской реформы", "kk": "парламенттік реформа"},
    {"en": "migration", "ru": "миграции", "kk": "көші-қон"},
    {"en": "critical minerals", "ru": "критически важного сырья", "kk": "сирек металдар"},
    {"en": "climate adaptation", "ru": "адаптации к изменению климата", "kk": "климаттың өзгеруіне бейімделу"},
]
SENTENCES = {
    "en": [
        "Experts from universities, state bodies and civil society took part in the discussion.",
        "The speakers presented the results of recent field research and compared them with international practice.",
        "Participants agreed that the issue requires coordinated action by the countries of the region.",
        "A separate session was devoted to the financing of the proposed measures and to their legal basis.",
        "Several speakers warned that the current statistics underestimate the scale of the problem.",
        "Following the meeting, the organisers prepared recommendations for the relevant ministries.",
        "The materials of the event will be published in the institute's journal and on its website.",
    ],
    "ru": [
        "В обсуждении приняли участие эксперты университетов, государственных органов и гражданского общества.",
        "Докладчики представили результаты последних полевых исследований и сравнили их с международной практикой.",
        "Участники сошлись во мнении, что проблема требует согласованных действий стран региона.",
        "Отдельная сессия была посвящена финансированию предлагаемых мер и их правовой основе.",
        "Ряд выступающих предупредил, что текущая статистика недооценивает масштаб проблемы.",
        "По итогам встречи организаторы подготовили рекомендации для профильных министерств.",
        "Материалы мероприятия будут опубликованы в журнале института и на его сайте.",
    ],
    "kk": [
        "Пікірталасқа университеттердің, мемлекеттік органдардың және азаматтық қоғамның сарапшылары қатысты.",
        "Баяндамашылар соңғы далалық зерттеулердің нәтижелерін ұсынып, оларды халықаралық тәжірибемен салыстырды.",
        "Қатысушылар бұл мәселе өңір елдерінің келісілген іс-әрекетін талап ететінін атап өтті.",
        "Жеке сессия ұсынылған шаралардың қаржыландырылуы мен құқықтық негізіне арналды.",
        "Бірқатар баяндамашылар қазіргі статистика мәселенің ауқымын толық көрсетпейтінін ескертті.",
        "Кездесу қорытындысы бойынша ұйымдастырушылар тиісті министрліктерге ұсыныстар дайындады.",
        "Іс-шара материалдары институт журналында және сайтында жарияланады.",
    ],
}
CYRILLIC_LATIN = {
    "а": "a", "ә": "a", "б": "b", "в": "v", "г": "g", "ғ": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh",
    "з": "z", "и": "i", "й": "j", "і": "i", "к": "k", "қ": "q", "л": "l", "м": "m", "н": "n", "ң": "n",
    "о": "o", "ө": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ұ": "u", "ү": "u", "ф": "f",
    "х": "h", "һ": "h", "ц": "c", "ч": "ch", "ш": "sh", "щ": "shh", "ъ": "", "ы": "y", "ь": "", "э": "e",
    "ю": "yu", "я": "ya",
}


def transliterate(text: str) -> str:
    """What a Cyr-To-Lat style plugin makes of a Cyrillic title before WordPress slugifies it."""
    return "".join(CYRILLIC_LATIN.get(ch, ch) for ch in text.lower())


def stranger_state(seed: int) -> SiteState:
    """A site generated from `seed`; the same seed always gives the same site."""
    rng = random.Random(seed)
    plugin = rng.choice(["polylang", "polylang", "polylang", "wpml"])
    link_model = "directory" if plugin == "polylang" else rng.choice(["query", "directory"])
    codes = ["en", "ru", "kk"]
    rng.shuffle(codes)  # the plugin's language order
    default = rng.choice(codes)
    kk_slug = rng.choice(["kk", "kz"]) if plugin == "polylang" else "kk"
    term_ids = iter(sorted(rng.sample(range(2, 40), 3)))
    languages = [
        Language(code=c, slug=kk_slug if c == "kk" else c, locale=LOCALES[c], name=NAMES[c],
                 term_id=next(term_ids) if plugin == "polylang" else 0)
        for c in codes
    ]
    options = Options(
        plugin=plugin,
        link_model=link_model,
        hide_default=link_model == "query" or rng.random() < 0.75,
        posts_per_page=rng.choice([4, 5, 6, 7, 8, 9, 10, 12]),
        rest=rng.choice(["open", "open", "401"]),
        sitemap_plugin=rng.choice(["core", "yoast"]),
        gmt_offset=rng.choice([5, 6]),
    )
    categories = _categories(rng, codes, languages, per_language_slugs=plugin == "wpml")
    posts = _posts(rng, codes, categories)
    clock = to_iso(max(parse_iso(p.modified_gmt) for p in posts) + timedelta(days=1))
    return SiteState(
        posts=posts,
        categories=categories,
        languages=languages,
        default_language=default,
        options=options,
        site_name=rng.choice(SITE_NAMES),
        clock=clock,
    )


def _categories(rng: random.Random, codes: list[str], languages: list[Language],
                per_language_slugs: bool) -> list[Category]:
    slugs_of = {lang.code: lang.slug for lang in languages}
    taken: set[str] = set()
    next_id = rng.randint(2, 30)
    out: list[Category] = []
    groups = [("events", EVENT_CATEGORIES)] + [
        (f"other-{i}", {c: OTHER_CATEGORIES[c][i] for c in codes}) for i in range(len(OTHER_CATEGORIES["en"]))
    ]
    for group, table in groups:
        for code in codes:
            name, candidates = table[code]
            slug = rng.choice(candidates)
            if not per_language_slugs and slug in taken:
                # Polylang's PLL_Term_Slug::get_suffixed_slug(): the slug exists in another language.
                slug = f"{slug}-{slugs_of[code]}"
            taken.add(slug)
            next_id += rng.randint(1, 4)
            out.append(Category(id=next_id, lang=code, slug=slug, name=name, translation_group=group))
    return out


def _posts(rng: random.Random, codes: list[str], categories: list[Category]) -> list[Post]:
    events = {c.lang: c.slug for c in categories if c.translation_group == "events"}
    others = {code: [c.slug for c in categories if c.lang == code and c.translation_group != "events"]
              for code in codes}
    # Which languages each event exists in: mostly one, a few pairs and triples; English gets
    # its share of one-language events too, but Russian and Kazakh are mostly alone.
    plans: list[list[str]] = []
    for _ in range(rng.randint(26, 44)):
        r = rng.random()
        if r < 0.10:
            plans.append(list(codes))
        elif r < 0.25:
            plans.append(sorted(rng.sample(codes, 2), key=codes.index))
        else:
            plans.append([rng.choices(["ru", "kk", "en"], weights=[4, 3, 3])[0]])
    plans += [["ru"], ["kk"], ["en"]]  # every language has a one-language event, whatever the draw
    for code in ("ru", "kk"):
        alone = sum(plan == [code] for plan in plans)
        translated = sum(code in plan and len(plan) > 1 for plan in plans)
        plans += [[code]] * max(0, translated - alone + 1)
    rng.shuffle(plans)
    when = datetime(2023, 1, 9, 5, 0)
    next_id = rng.randint(150, 4000)
    taken: set[str] = set()
    posts: list[Post] = []
    for plan in plans:
        when += timedelta(days=rng.randint(3, 16), hours=rng.randint(0, 5))
        topic = rng.choice(TOPICS)
        group = f"event-{next_id}" if len(plan) > 1 else None
        for offset, code in enumerate(plan):
            next_id += rng.randint(1, 3)
            posts.append(_post(rng, next_id, code, topic, when + timedelta(hours=offset), [events[code]],
                               group, taken))
        next_id += rng.randint(0, 6)  # revisions, attachments and drafts take ids too
    for code in codes:
        for _ in range(rng.randint(2, 5)):
            next_id += rng.randint(1, 9)
            stamp = datetime(2023, 1, 9) + timedelta(days=rng.randint(0, 900), hours=rng.randint(0, 23))
            posts.append(_post(rng, next_id, code, rng.choice(TOPICS), stamp, [rng.choice(others[code])], None, taken))
    return sorted(posts, key=lambda p: p.id)


def _post(rng: random.Random, post_id: int, code: str, topic: dict[str, str], when: datetime,
          categories: list[str], group: str | None, taken: set[str]) -> Post:
    title = f"{rng.choice(KINDS[code])} {topic[code]}"
    if code == "en":
        title = title[0].upper() + title[1:]
    sentences = list(SENTENCES[code])
    rng.shuffle(sentences)
    paragraphs = [" ".join(sentences[i : i + 3]) for i in range(0, 6, 3)] + [sentences[6]]
    content = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    # Russian and Kazakh slugs: transliterated (a Cyr-To-Lat plugin) or Cyrillic, per post.
    base = slugify(title if code == "en" or rng.random() < 0.4 else transliterate(title))[:60].strip("-")
    slug = base
    n = 2
    while slug in taken:  # wp_unique_post_slug()
        slug = f"{base}-{n}"
        n += 1
    taken.add(slug)
    date = to_iso(when)
    modified = to_iso(when + timedelta(days=rng.choice([0, 0, 0, 1, 3, 40])))
    return Post(id=post_id, lang=code, slug=slug, title=title, content_html=content, date_gmt=date,
                modified_gmt=modified, categories=categories, translation_group=group)
