"""Machine-readable documents of the demo site: RSS, Atom, sitemaps (core's or Yoast's) and robots.txt."""

from __future__ import annotations

import email.utils
import hashlib
from datetime import timedelta, timezone
from html import escape as html_escape
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

from .i18n import COMMENTERS
from .pages import Context, excerpt_of, text
from .rest import author_ids
from .media import absolute_uploads
from .state import Post, SiteState, encode_slug, parse_iso, slugify, version_at_least

FEED_ITEMS = 10  # WordPress's default posts_per_rss
CORE_SITEMAP_MAX_URLS = 2000  # wp_sitemaps_get_max_urls()
YOAST_ENTRIES_PER_PAGE = 1000  # Yoast's `entries-per-page` default


def cdata(value: str) -> str:
    # A literal ']]>' inside would end the section early; split it across two sections.
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def rfc822(iso: str) -> str:
    return email.utils.format_datetime(parse_iso(iso))  # '+0000', as WordPress writes pubDate


def http_date(iso: str) -> str:
    return email.utils.format_datetime(parse_iso(iso), usegmt=True)


def w3c_local(iso: str, offset_hours: int) -> str:
    """wp_date( DATE_W3C, … ): the site's own timezone, e.g. 2025-03-14T13:12:00+05:00."""
    local = parse_iso(iso).astimezone(timezone(timedelta(hours=offset_hours)))
    return local.isoformat(timespec="seconds")


def _category_names(state: SiteState, post: Post) -> list[str]:
    names = [c.name for c in (state.category(post.lang, s) for s in post.categories) if c]
    return names + list(post.tags)


def rss(state: SiteState, lang: str, posts: list[Post], self_url: str, title: str, ctx: Context) -> str:
    """wp-includes/feed-rss2.php. `title` is XML-ready (wp_title_rss() prints it escaped)."""
    items = posts[:FEED_ITEMS]
    build = max((p.modified_gmt for p in items), default=state.last_modified() or state.clock)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"\n'
        '\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
        '\txmlns:wfw="http://wellformedweb.org/CommentAPI/"\n'
        '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        '\txmlns:atom="http://www.w3.org/2005/Atom"\n'
        '\txmlns:sy="http://purl.org/rss/1.0/modules/syndication/"\n'
        '\txmlns:slash="http://purl.org/rss/1.0/modules/slash/"\n\t>\n\n<channel>\n',
        f"\t<title>{title}</title>\n",
        f'\t<atom:link href="{xml_escape(self_url)}" rel="self" type="application/rss+xml" />\n',
        # bloginfo_rss('url'): home_url() unfiltered by the plugin outside theme files.
        f"\t<link>{xml_escape(ctx.root)}</link>\n",
        f"\t<description>{xml_escape(text(lang)['tagline'])}</description>\n",
        f"\t<lastBuildDate>{rfc822(build)}</lastBuildDate>\n",
        f"\t<language>{state.language(lang).w3c}</language>\n",
        "\t<sy:updatePeriod>\n\thourly\t</sy:updatePeriod>\n\t<sy:updateFrequency>\n\t1\t</sy:updateFrequency>\n",
        f"\t<generator>https://wordpress.org/?v={xml_escape(state.options.wp_version)}</generator>\n",
    ]
    for p in items:
        link = ctx.root + state.path_of(p)
        cats = "".join(f"\t\t<category>{cdata(name)}</category>\n" for name in _category_names(state, p))
        parts.append(
            "\t<item>\n"
            f"\t\t<title>{xml_escape(p.title)}</title>\n"
            f"\t\t<link>{xml_escape(link)}</link>\n"
            f"\t\t<comments>{xml_escape(link)}#comments</comments>\n"
            f"\t\t<dc:creator>{cdata(p.author)}</dc:creator>\n"
            f"\t\t<pubDate>{rfc822(p.date_gmt)}</pubDate>\n"
            f"{cats}"
            f'\t\t<guid isPermaLink="false">{xml_escape(ctx.root)}/?p={p.id}</guid>\n'
            f"\t\t<description>{cdata(excerpt_of(p))}</description>\n"
            f"\t\t<content:encoded>{cdata(absolute_uploads(p.content_html, ctx.root))}</content:encoded>\n"
            f"\t\t<wfw:commentRss>{xml_escape(link)}feed/</wfw:commentRss>\n"
            "\t\t<slash:comments>1</slash:comments>\n"
            "\t</item>\n"
        )
    parts.append("\t</channel>\n</rss>\n")
    return "".join(parts)


def atom(state: SiteState, lang: str, posts: list[Post], self_url: str, title: str, ctx: Context) -> str:
    """wp-includes/feed-atom.php; <id> is bloginfo('atom_url'), the language's main Atom feed."""
    items = posts[:FEED_ITEMS]
    updated = max((p.modified_gmt for p in items), default=state.last_modified() or state.clock)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?><feed\n  xmlns="http://www.w3.org/2005/Atom"\n'
        '  xmlns:thr="http://purl.org/syndication/thread/1.0"\n'
        f'  xml:lang="{state.language(lang).w3c}"\n  >\n',
        f'\t<title type="text">{title}</title>\n',
        f'\t<subtitle type="text">{xml_escape(text(lang)["tagline"])}</subtitle>\n',
        f"\t<updated>{updated}Z</updated>\n",
        f'\t<link rel="alternate" type="text/html" href={quoteattr(ctx.root)} />\n',
        f"\t<id>{xml_escape(ctx.root + state.link(lang, '/feed/atom/'))}</id>\n",
        f'\t<link rel="self" type="application/atom+xml" href={quoteattr(self_url)} />\n',
        f'\t<generator uri="https://wordpress.org/" version={quoteattr(state.options.wp_version)}>WordPress</generator>\n',
    ]
    for p in items:
        link = ctx.root + state.path_of(p)
        cats = "".join(
            f"\t\t<category scheme={quoteattr(ctx.root)} term={quoteattr(name)} />\n"
            for name in _category_names(state, p)
        )
        parts.append(
            "\t<entry>\n"
            f"\t\t<author>\n\t\t\t<name>{xml_escape(p.author)}</name>\n\t\t</author>\n"
            f'\t\t<title type="html">{cdata(html_escape(p.title, quote=False))}</title>\n'
            f'\t\t<link rel="alternate" type="text/html" href={quoteattr(link)} />\n'
            f"\t\t<id>{xml_escape(ctx.root)}/?p={p.id}</id>\n"
            f"\t\t<updated>{p.modified_gmt}Z</updated>\n"
            f"\t\t<published>{p.date_gmt}Z</published>\n"
            f"{cats}"
            f'\t\t<summary type="html">{cdata(excerpt_of(p))}</summary>\n'
            f'\t\t<content type="html" xml:base={quoteattr(link)}>{cdata(absolute_uploads(p.content_html, ctx.root))}</content>\n'
            "\t</entry>\n"
        )
    parts.append("</feed>\n")
    return "".join(parts)


def comments_rss(state: SiteState, lang: str, post: Post | None, self_url: str, ctx: Context) -> str:
    """wp-includes/feed-rss2-comments.php for one post: its one comment, or nothing at all when
    no post has the name (is_singular() is still true, so the title is 'Comments on: ')."""
    title = post.title if post else ""
    link = ctx.root + state.path_of(post) if post else ctx.root
    build = post.date_gmt if post else (state.last_modified() or state.clock)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"\n'
        '\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
        '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        '\txmlns:atom="http://www.w3.org/2005/Atom"\n'
        '\txmlns:sy="http://purl.org/rss/1.0/modules/syndication/"\n\t\n\t>\n<channel>\n',
        f"\t<title>\n\tComments on: {xml_escape(title)}\t</title>\n",
        f'\t<atom:link href="{xml_escape(self_url)}" rel="self" type="application/rss+xml" />\n',
        f"\t<link>{xml_escape(link)}</link>\n",
        f"\t<description>{xml_escape(text(lang)['tagline'])}</description>\n",
        f"\t<lastBuildDate>{rfc822(build)}</lastBuildDate>\n",
        "\t<sy:updatePeriod>\n\thourly\t</sy:updatePeriod>\n\t<sy:updateFrequency>\n\t1\t</sy:updateFrequency>\n",
        f"\t<generator>https://wordpress.org/?v={xml_escape(state.options.wp_version)}</generator>\n",
    ]
    if post is not None:
        comment_id = post.id * 3 + 1
        parts.append(
            "\t<item>\n"
            f"\t\t<title>By: {xml_escape(COMMENTERS[post.id % len(COMMENTERS)])}</title>\n"
            f"\t\t<link>{xml_escape(link)}#comment-{comment_id}</link>\n"
            f"\t\t<dc:creator>{cdata(COMMENTERS[post.id % len(COMMENTERS)])}</dc:creator>\n"
            f"\t\t<pubDate>{rfc822(post.date_gmt)}</pubDate>\n"
            f'\t\t<guid isPermaLink="false">{xml_escape(ctx.root)}/?p={post.id}#comment-{comment_id}</guid>\n'
            f"\t\t<description>{cdata(text(post.lang)['comment_text'])}</description>\n"
            f"\t\t<content:encoded>{cdata('<p>' + text(post.lang)['comment_text'] + '</p>')}</content:encoded>\n"
            "\t</item>\n"
        )
    parts.append("\t</channel>\n</rss>\n")
    return "".join(parts)


def break_xml(doc: str) -> str:
    """A feed or sitemap as broken sites serve it: a PHP notice before the prolog, cut short."""
    notice = (
        "<br />\n<b>Warning</b>:  Undefined array key \"lang\" in "
        "<b>/var/www/kisi.kz/wp-content/plugins/polylang/include/query.php</b> on line <b>142</b><br />\n"
    )
    return notice + doc[: max(1, int(len(doc) * 0.6))]


# ----- core sitemaps (wp-includes/sitemaps/), split per language by Polylang -----------------------

SITEMAP_PI = '<?xml version="1.0" encoding="UTF-8"?>\n<?xml-stylesheet type="text/xsl" href="{root}/wp-sitemap.xsl" ?>\n'
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
# Providers and their sub-types in registration order: posts, taxonomies, users.
SITEMAP_TYPES = (("posts", "post"), ("posts", "page"), ("taxonomies", "category"), ("taxonomies", "post_tag"),
                 ("users", ""))


def _split_languages(state: SiteState) -> list[str | None]:
    # PLL_Multilingual_Sitemaps_Provider::get_sitemap_type_data(): one entry per language for
    # translated types. WPML's handling of core sitemaps is not public: one unsplit sitemap.
    return list(state.codes) if state.options.plugin == "polylang" else [None]


def sitemap_index(state: SiteState, ctx: Context) -> str:
    entries = []
    for provider, subtype in SITEMAP_TYPES:
        name = f"{provider}-{subtype}" if subtype else provider
        for code in _split_languages(state):
            # get_sitemap_entries(): a type with no page (nothing to list) gets no entry.
            if not _sitemap_urls(state, code, provider, subtype, ctx):
                continue
            path = f"/wp-sitemap-{name}-1.xml"
            loc = ctx.root + (state.link(code, path) if code else path)
            entries.append(f"<sitemap><loc>{xml_escape(loc)}</loc></sitemap>")
    return (
        SITEMAP_PI.format(root=ctx.root).replace("wp-sitemap.xsl", "wp-sitemap-index.xsl")
        + f'<sitemapindex xmlns="{SITEMAP_NS}">{"".join(entries)}</sitemapindex>\n'
    )


def sitemap(state: SiteState, lang: str, provider: str, subtype: str, ctx: Context) -> str | None:
    """One sub-sitemap (page 1) in `lang`; None for names WordPress would not serve or empty ones."""
    if (provider, subtype) not in SITEMAP_TYPES:
        return None
    code = lang if state.options.plugin == "polylang" else None
    urls = _sitemap_urls(state, code, provider, subtype, ctx)
    if not urls:
        return None  # render_sitemaps(): "Force a 404 and bail early if no URLs are present."
    with_lastmod = version_at_least(state.options.wp_version, "6.5")
    body = "".join(
        f"<url><loc>{xml_escape(loc)}</loc>"
        + (f"<lastmod>{w3c_local(mod, state.options.gmt_offset)}</lastmod>" if with_lastmod and mod else "")
        + "</url>"
        for loc, mod in urls
    )
    return SITEMAP_PI.format(root=ctx.root) + f'<urlset xmlns="{SITEMAP_NS}">{body}</urlset>\n'


def _sitemap_urls(
    state: SiteState, code: str | None, provider: str, subtype: str, ctx: Context
) -> list[tuple[str, str | None]]:
    """(loc, modified_gmt or None) of one sub-sitemap; `code` None lists every language."""
    langs = [code] if code else state.codes
    link_lang = code or state.default_language
    urls: list[tuple[str, str | None]] = []
    if provider == "posts":
        posts = sorted((p for p in state.published(subtype) if p.lang in langs), key=lambda p: p.id)
        if subtype == "page":
            # show_on_front = posts: the home page first, dated by the newest of the latest posts.
            latest = [p for p in state.published("post") if p.lang in langs][: state.options.posts_per_page]
            home_mod = max((p.modified_gmt for p in latest), default=None)
            urls.append((ctx.root + state.home_path(link_lang), home_mod))
        urls += [(ctx.root + state.path_of(p), p.modified_gmt) for p in posts]
    elif provider == "taxonomies" and subtype == "category":
        cats = sorted((c for c in state.categories if c.lang in langs and state.posts_in(c)), key=lambda c: c.id)
        urls += [(ctx.root + state.category_path(c), None) for c in cats]
    elif provider == "taxonomies" and subtype == "post_tag":
        for lang in langs:
            tags = sorted({slugify(t) for p in state.published("post", lang) for t in p.tags})
            urls += [(ctx.root + state.link(lang, f"/tag/{encode_slug(t)}/"), None) for t in tags]
    elif provider == "users":
        # The users query is not filtered by language: every author, under this language's URL.
        ids = author_ids(state)
        authors = sorted({p.author for p in state.posts if p.is_published and p.post_type == "post"}, key=ids.get)
        urls += [(ctx.root + state.link(link_lang, f"/author/{slugify(a)}/"), None) for a in authors]
    return urls


# ----- Yoast SEO sitemaps (inc/sitemaps/), with Polylang's integrations/wpseo/wpseo.php --------------

YOAST_PI = '<?xml version="1.0" encoding="UTF-8"?><?xml-stylesheet type="text/xsl" href="{xsl}"?>\n'
YOAST_URLSET = (
    '<urlset xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1" '
    'xsi:schemaLocation="http://www.sitemaps.org/schemas/sitemap/0.9 http://www.sitemaps.org/schemas/sitemap/0.9/sitemap.xsd '
    'http://www.google.com/schemas/sitemap-image/1.1 http://www.google.com/schemas/sitemap-image/1.1/sitemap-image.xsd" '
    'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
)
YOAST_TYPES = ("post", "page", "category", "post_tag", "author")


def _yoast_date(iso: str) -> str:
    # Yoast's date helper formats the GMT column as DATE_W3C in UTC.
    return parse_iso(iso).isoformat(timespec="seconds")


def _yoast_output(ctx: Context, body: str) -> str:
    # The stylesheet URL loses its scheme (WPSEO_Sitemaps_Renderer::__construct()).
    xsl = ctx.root.split(":", 1)[1] + "/wp-content/plugins/wordpress-seo/css/main-sitemap.xsl"
    return YOAST_PI.format(xsl=xsl) + body + "\n<!-- XML Sitemap generated by Yoast SEO -->"


def _yoast_links(state: SiteState, kind: str, ctx: Context) -> list[tuple[str, str | None]]:
    """Entries of one Yoast sitemap type, all languages together (Polylang filters the queries
    by every active language when the language is in a directory)."""
    if kind in ("post", "page"):
        # get_first_links(): the home page (front page shows posts) opens both sitemaps.
        links: list[tuple[str, str | None]] = [(ctx.root + "/", None)]
        items = sorted(state.published(kind), key=lambda p: (p.modified_gmt, p.id))  # post_modified ASC
        links += [(ctx.root + state.path_of(p), max(p.modified_gmt, p.date_gmt)) for p in items]
        if kind == "post":
            # PLL_WPSEO::add_post_type_archive(): the other languages' home pages, last.
            newest = state.last_modified()
            links += [(ctx.root + state.home_path(c), newest) for c in state.codes if not state.is_hidden(c)]
        return links
    if kind == "category":
        cats = sorted((c for c in state.categories if state.posts_in(c)), key=lambda c: c.id)
        return [(ctx.root + state.category_path(c), max(p.modified_gmt for p in state.posts_in(c))) for c in cats]
    if kind == "post_tag":
        out = []
        for lang in state.codes:
            for tag in sorted({slugify(t) for p in state.published("post", lang) for t in p.tags}):
                tagged = [p for p in state.published("post", lang) if any(slugify(t) == tag for t in p.tags)]
                out.append((ctx.root + state.link(lang, f"/tag/{encode_slug(tag)}/"), max(p.modified_gmt for p in tagged)))
        return out
    if kind == "author":
        ids = author_ids(state)
        authors = sorted({p.author for p in state.published("post")}, key=ids.get)
        return [
            (ctx.root + state.link(state.default_language, f"/author/{slugify(a)}/"),
             max(p.modified_gmt for p in state.published("post") if p.author == a))
            for a in authors
        ]
    return []


def yoast_index(state: SiteState, ctx: Context) -> str:
    entries = []
    for kind in YOAST_TYPES:
        links = _yoast_links(state, kind, ctx)
        if not [mod for _, mod in links if mod]:
            continue
        pages = max(1, -(-len(links) // YOAST_ENTRIES_PER_PAGE))
        newest = max(mod for _, mod in links if mod)
        for n in range(1, pages + 1):
            name = f"{kind}-sitemap{n if pages > 1 else ''}.xml"
            entries.append(
                f"\t<sitemap>\n\t\t<loc>{xml_escape(ctx.root)}/{name}</loc>\n"
                f"\t\t<lastmod>{_yoast_date(newest)}</lastmod>\n\t</sitemap>\n"
            )
    return _yoast_output(ctx, '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + "".join(entries) + "</sitemapindex>")


def yoast_sitemap(state: SiteState, kind: str, page: int, ctx: Context) -> str | None:
    if kind not in YOAST_TYPES:
        return None
    links = _yoast_links(state, kind, ctx)[(page - 1) * YOAST_ENTRIES_PER_PAGE : page * YOAST_ENTRIES_PER_PAGE]
    if not links:
        return None  # set_bad_sitemap(): a 404
    body = "".join(
        f"\t<url>\n\t\t<loc>{xml_escape(loc)}</loc>\n"
        + (f"\t\t<lastmod>{_yoast_date(mod)}</lastmod>\n" if mod else "")
        + "\t</url>\n"
        for loc, mod in links
    )
    return _yoast_output(ctx, YOAST_URLSET + body + "</urlset>")


def robots(state: SiteState, ctx: Context) -> str:
    if state.options.sitemap_plugin == "yoast":
        # Yoast SEO writes its own block in place of core's lines.
        lines = ["# START YOAST BLOCK", "# ---------------------------", "User-agent: *", "Disallow:"]
        lines += [f"Disallow: {path}" for path in state.options.robots_disallow]
        if state.options.sitemap != "missing":
            lines += ["", f"Sitemap: {ctx.root}/sitemap_index.xml"]
        lines += ["# ---------------------------", "# END YOAST BLOCK"]
        return "\n".join(lines) + "\n"
    lines = ["User-agent: *", "Disallow: /wp-admin/", "Allow: /wp-admin/admin-ajax.php"]
    lines += [f"Disallow: {path}" for path in state.options.robots_disallow]
    if state.options.sitemap != "missing":  # core only advertises sitemaps it serves
        lines += ["", f"Sitemap: {ctx.root}/wp-sitemap.xml"]
    return "\n".join(lines) + "\n"


def feed_validators(state: SiteState) -> tuple[str, str]:
    """(ETag, Last-Modified) from the newest modification on the whole site, as core sends them."""
    newest = state.last_modified() or state.clock
    etag = '"' + hashlib.md5(newest.encode("ascii")).hexdigest() + '"'
    return etag, http_date(newest)

