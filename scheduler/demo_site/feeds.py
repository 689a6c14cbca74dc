"""Machine-readable documents of the demo site: RSS, Atom, core sitemaps and robots.txt."""

from __future__ import annotations

import email.utils
import hashlib
from html import escape as html_escape
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

from .pages import Context, excerpt_of, text, w3c
from .state import Post, SiteState, parse_iso, version_at_least

FEED_ITEMS = 10  # WordPress's default posts_per_rss


def cdata(value: str) -> str:
    # A literal ']]>' inside would end the section early; split it across two sections.
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def rfc822(iso: str) -> str:
    return email.utils.format_datetime(parse_iso(iso))  # '+0000', as WordPress writes pubDate


def http_date(iso: str) -> str:
    return email.utils.format_datetime(parse_iso(iso), usegmt=True)


def _category_names(state: SiteState, post: Post) -> list[str]:
    names = [c.name for c in (state.category(post.lang, s) for s in post.categories) if c]
    return names + list(post.tags)


def rss(state: SiteState, lang: str, posts: list[Post], self_path: str, home_path: str, title: str, ctx: Context) -> str:
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
        f"\t<title>{xml_escape(title)}</title>\n",
        f'\t<atom:link href="{xml_escape(ctx.root + self_path)}" rel="self" type="application/rss+xml" />\n',
        f"\t<link>{xml_escape(ctx.root + home_path)}</link>\n",
        f"\t<description>{xml_escape(text(lang)['tagline'])}</description>\n",
        f"\t<lastBuildDate>{rfc822(build)}</lastBuildDate>\n",
        f"\t<language>{text(lang)['html_lang']}</language>\n",
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
            f"\t\t<content:encoded>{cdata(p.content_html)}</content:encoded>\n"
            f"\t\t<wfw:commentRss>{xml_escape(link)}feed/</wfw:commentRss>\n"
            "\t\t<slash:comments>1</slash:comments>\n"
            "\t</item>\n"
        )
    parts.append("\t</channel>\n</rss>\n")
    return "".join(parts)


def atom(state: SiteState, lang: str, posts: list[Post], self_path: str, home_path: str, title: str, ctx: Context) -> str:
    items = posts[:FEED_ITEMS]
    updated = max((p.modified_gmt for p in items), default=state.last_modified() or state.clock)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?><feed\n  xmlns="http://www.w3.org/2005/Atom"\n'
        '  xmlns:thr="http://purl.org/syndication/thread/1.0"\n'
        f'  xml:lang="{text(lang)["html_lang"]}"\n  >\n',
        f'\t<title type="text">{xml_escape(title)}</title>\n',
        f'\t<subtitle type="text">{xml_escape(text(lang)["tagline"])}</subtitle>\n',
        f"\t<updated>{updated}Z</updated>\n",
        f'\t<link rel="alternate" type="text/html" href={quoteattr(ctx.root + home_path)} />\n',
        f"\t<id>{xml_escape(ctx.root + self_path)}</id>\n",
        f'\t<link rel="self" type="application/atom+xml" href={quoteattr(ctx.root + self_path)} />\n',
        f'\t<generator uri="https://wordpress.org/" version={quoteattr(state.options.wp_version)}>WordPress</generator>\n',
    ]
    for p in items:
        link = ctx.root + state.path_of(p)
        cats = "".join(
            f"\t\t<category scheme={quoteattr(ctx.root + home_path)} term={quoteattr(name)} />\n"
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
            f'\t\t<content type="html" xml:base={quoteattr(link)}>{cdata(p.content_html)}</content>\n'
            "\t</entry>\n"
        )
    parts.append("</feed>\n")
    return "".join(parts)


def break_xml(doc: str) -> str:
    """A feed or sitemap as broken sites serve it: a PHP notice before the prolog, cut short."""
    notice = (
        "<br />\n<b>Warning</b>:  Undefined array key \"lang\" in "
        "<b>/var/www/kisi.kz/wp-content/plugins/polylang/include/query.php</b> on line <b>142</b><br />\n"
    )
    return notice + doc[: max(1, int(len(doc) * 0.6))]


SITEMAP_PI = '<?xml version="1.0" encoding="UTF-8"?>\n<?xml-stylesheet type="text/xsl" href="{root}/wp-sitemap.xsl" ?>\n'
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
SITEMAP_NAMES = ("posts-post", "posts-page", "taxonomies-category")


def sitemap_index(state: SiteState, ctx: Context) -> str:
    entries = "".join(
        f"<sitemap><loc>{xml_escape(ctx.root)}/wp-sitemap-{name}-1.xml</loc></sitemap>" for name in SITEMAP_NAMES
    )
    return (
        SITEMAP_PI.format(root=ctx.root).replace("wp-sitemap.xsl", "wp-sitemap-index.xsl")
        + f'<sitemapindex xmlns="{SITEMAP_NS}">{entries}</sitemapindex>\n'
    )


def sitemap(state: SiteState, name: str, ctx: Context) -> str | None:
    """One sub-sitemap (page 1); None for names WordPress would not serve."""
    with_lastmod = version_at_least(state.options.wp_version, "6.5")
    urls: list[tuple[str, str | None]] = []
    if name in ("posts-post", "posts-page"):
        post_type = name.split("-")[1]
        if post_type == "page":
            # With "latest posts" as the front page, core lists the home URL first.
            urls.append((ctx.root + "/", None))
        for p in sorted(state.published(post_type), key=lambda p: p.id):
            urls.append((ctx.root + state.path_of(p), p.modified_gmt))
    elif name == "taxonomies-category":
        for cat in state.categories:
            if state.posts_in(cat):
                urls.append((f"{ctx.root}{state.prefix(cat.lang)}/category/{cat.slug}/", None))
    else:
        return None
    body = "".join(
        f"<url><loc>{xml_escape(loc)}</loc>"
        + (f"<lastmod>{w3c(mod)}</lastmod>" if with_lastmod and mod else "")
        + "</url>"
        for loc, mod in urls
    )
    return SITEMAP_PI.format(root=ctx.root) + f'<urlset xmlns="{SITEMAP_NS}">{body}</urlset>\n'


def robots(state: SiteState, ctx: Context) -> str:
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
