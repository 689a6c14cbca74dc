"""HTML of the demo site, shaped like a WordPress 6.x theme with Polylang or WPML (pure string builders).

The chrome around the content is deliberately noisy, like the real site: a Russian breadcrumb
on every language, menus and a language switcher, sidebar widgets that list other posts, a
views counter and a nonce that change on every request. What the multilingual plugin adds
(hreflang, the switcher, `<html lang>`) comes from multilingual.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape

from .i18n import COMMENTERS, MONTHS, TEXT
from .multilingual import View, hreflang_links, switcher
from .media import absolute_uploads
from .state import Post, SiteState, auto_excerpt, encode_slug, parse_iso, slugify


@dataclass(frozen=True)
class Context:
    """Per-request inputs: the site root and the values WordPress would vary per request."""

    root: str  # 'http://127.0.0.1:PORT'
    nonce: str = "0123456789"
    views: int = 1


@dataclass(frozen=True)
class Listing:
    lang: str
    heading: str  # e.g. 'Category: Events'
    body_class: str
    base_path: str  # without the language: '/category/events/'; ends with '/'
    posts: list[Post]
    view: View
    feed_title: str | None = None  # the <link rel="alternate"> title of the archive's own feed
    has_feed: bool = True

    def path(self, state: SiteState, tail: str = "") -> str:
        return state.link(self.lang, self.base_path + tail)


def text(lang: str) -> dict[str, str]:
    return TEXT.get(lang, TEXT["en"])


def display_date(iso: str, lang: str) -> str:
    dt = parse_iso(iso)
    if lang == "en":
        return f"{MONTHS['en'][dt.month - 1]} {dt.day}, {dt.year}"
    return dt.strftime("%d.%m.%Y")


def month_label(year: int, month: int, lang: str) -> str:
    return f"{MONTHS.get(lang, MONTHS['en'])[month - 1]} {year}"


def w3c(iso: str) -> str:
    return f"{iso}+00:00"


def url(ctx: Context, path: str) -> str:
    return ctx.root + path


def home_path(state: SiteState, lang: str) -> str:
    return state.home_path(lang)


def excerpt_of(post: Post) -> str:
    return post.excerpt or auto_excerpt(post.content_html)


# ----- shared pieces --------------------------------------------------------------------------


def _head(
    state: SiteState,
    lang: str,
    ctx: Context,
    title: str,
    charset: str = "UTF-8",
    extra: str = "",
    feed_path: str | None = None,
    feed_title: str | None = None,
    view: View | None = None,
) -> str:
    feeds = [
        f'<link rel="alternate" type="application/rss+xml" title="{escape(state.site_name)} &raquo; {text(lang)["feed"]}" '
        f'href="{url(ctx, state.link(lang, "/feed/"))}" />'
    ]
    if feed_path:
        feeds.append(
            f'<link rel="alternate" type="application/rss+xml" title="{escape(feed_title or "")}" '
            f'href="{url(ctx, feed_path)}" />'
        )
    api = "" if state.options.rest == "404" else f'<link rel="https://api.w.org/" href="{ctx.root}/wp-json/" />\n'
    ver = escape(state.options.wp_version)
    # Both plugins print hreflang at wp_head priority 1, after core's <title> (also priority 1).
    alternates = hreflang_links(state, view, ctx.root) if view is not None else ""
    # get_bloginfo('language'): the plugin filters the locale, WordPress writes it with '-'.
    html_lang = state.language(lang).w3c
    return f"""<!DOCTYPE html>
<html lang="{html_lang}">
<head>
<meta charset="{charset}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="profile" href="https://gmpg.org/xfn/11">
<title>{escape(title)} &#8211; {escape(state.site_name)}</title>
{alternates}<meta name='robots' content='max-image-preview:large' />
{chr(10).join(feeds)}
<link rel='stylesheet' id='wp-block-library-css' href='{ctx.root}/wp-includes/css/dist/block-library/style.min.css?ver={ver}' media='all' />
<link rel='stylesheet' id='kaziss-style-css' href='{ctx.root}/wp-content/themes/kaziss/style.css?ver=2.4.1' media='all' />
<script src="{ctx.root}/wp-includes/js/jquery/jquery.min.js?ver=3.7.1" id="jquery-core-js"></script>
{api}<link rel="EditURI" type="application/rsd+xml" title="RSD" href="{ctx.root}/xmlrpc.php?rsd" />
<meta name="generator" content="WordPress {ver}" />
{extra}</head>
"""


def _site_header(state: SiteState, view: View, ctx: Context) -> str:
    """Logo, menu and (for Polylang) the language switcher widget."""
    lang = view.lang
    t = text(lang)
    items = [f'<li class="menu-item menu-item-home"><a href="{url(ctx, home_path(state, lang))}">{t["home"]}</a></li>']
    for cat in state.categories:
        if cat.lang == lang and state.posts_in(cat):
            items.append(
                f'<li class="menu-item menu-item-type-taxonomy menu-item-object-category">'
                f'<a href="{url(ctx, state.category_path(cat))}">{escape(cat.name)}</a></li>'
            )
    for page in sorted(state.published("page", lang), key=lambda p: p.id):  # menu order
        items.append(
            f'<li class="menu-item menu-item-type-post_type menu-item-object-page">'
            f'<a href="{url(ctx, state.path_of(page))}">{escape(page.title)}</a></li>'
        )
    widget = switcher(state, view, ctx.root) if state.options.plugin == "polylang" else ""
    return f"""<a class="skip-link screen-reader-text" href="#content">Skip to content</a>
<div id="page" class="site">
<header id="masthead" class="site-header">
<div class="site-branding">
<p class="site-title"><a href="{url(ctx, home_path(state, lang))}" rel="home">{escape(state.site_name)}</a></p>
<p class="site-description">{t["tagline"]}</p>
</div>
<nav id="site-navigation" class="main-navigation" aria-label="Primary">
<button class="menu-toggle" aria-controls="primary-menu" aria-expanded="false">Menu</button>
<ul id="primary-menu" class="menu">{"".join(items)}</ul>
</nav>
{widget}</header>
"""


def _sidebar(state: SiteState, lang: str, ctx: Context) -> str:
    t = text(lang)
    recent = "".join(
        f'<li><a href="{url(ctx, state.path_of(p))}">{escape(p.title)}</a></li>'
        for p in state.published("post", lang)[:5]
    )
    months = sorted({(int(p.date_gmt[:4]), int(p.date_gmt[5:7])) for p in state.published("post", lang)}, reverse=True)
    archives = "".join(
        f"<li><a href='{url(ctx, state.link(lang, f'/{y:04d}/{m:02d}/'))}'>{month_label(y, m, lang)}</a></li>"
        for y, m in months
    )
    home = url(ctx, home_path(state, lang))
    return f"""<aside id="secondary" class="widget-area">
<section id="search-2" class="widget widget_search"><form role="search" method="get" class="search-form" action="{home}">
<label><span class="screen-reader-text">{t["search_for"]}</span><input type="search" class="search-field" value="" name="s" /></label>
<input type="submit" class="search-submit" value="{t["search"]}" /></form></section>
<section id="recent-posts-2" class="widget widget_recent_entries"><h2 class="widget-title">{t["recent"]}</h2>
<ul>{recent}</ul></section>
<section id="archives-2" class="widget widget_archive"><h2 class="widget-title">{t["archives"]}</h2>
<ul>{archives}</ul></section>
<section id="post-views-2" class="widget widget_views"><h2 class="widget-title">{t["views"]}</h2>
<div class="post-views"><span class="post-views-count">{ctx.views}</span></div></section>
<section id="newsletter-2" class="widget widget_newsletter"><h2 class="widget-title">{t["newsletter"]}</h2>
<form method="post" action="{ctx.root}/wp-admin/admin-ajax.php" class="newsletter-form">
<input type="email" name="email" placeholder="{t["email"]}" />
<input type="hidden" name="action" value="newsletter_subscribe" />
<input type="hidden" name="_wpnonce" value="{ctx.nonce}" />
<button type="submit">{t["subscribe"]}</button></form></section>
</aside>
"""


def _site_footer(state: SiteState, view: View, ctx: Context, year: int = 2026) -> str:
    t = text(view.lang)
    # WPML's default language switcher sits in the footer slot ("wpml-ls-statics-footer").
    wpml = switcher(state, view, ctx.root) if state.options.plugin == "wpml" else ""
    return f"""<footer id="colophon" class="site-footer">
<div class="site-info">{t["copyright"].format(year)} <a href="https://wordpress.org/">Proudly powered by WordPress</a></div>
</footer>
</div><!-- #page -->
{wpml}
<script id="kaziss-navigation-js" src="{ctx.root}/wp-content/themes/kaziss/js/navigation.js?ver=2.4.1"></script>
</body>
</html>
"""


def _breadcrumb(title: str) -> str:
    # kisi.kz keeps the breadcrumb in Russian whatever the page's language.
    return f'<div class="breadcrumbs">Главная страница » {escape(title)}</div>\n'


# ----- pages ----------------------------------------------------------------------------------


def single_page(state: SiteState, post: Post, ctx: Context) -> str:
    """A single post or static page, as the theme renders it."""
    t = text(post.lang)
    permalink = url(ctx, state.path_of(post))
    shortlink = f"{ctx.root}/?p={post.id}"
    view = View("single", post.lang, post=post)
    is_post = post.post_type == "post"
    rest_type = "posts" if is_post else "pages"
    json_link = (
        ""
        if state.options.rest == "404"
        else f'<link rel="alternate" title="JSON" type="application/json" href="{ctx.root}/wp-json/wp/v2/{rest_type}/{post.id}" />\n'
    )
    ld = json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle" if is_post else "WebPage",
            "headline": post.title,
            "datePublished": w3c(post.date_gmt),
            "dateModified": w3c(post.modified_gmt),
            "inLanguage": state.language(post.lang).w3c,
            "mainEntityOfPage": permalink,
            "author": {"@type": "Person", "name": post.author},
        }
    ).replace("</", "<\\/")
    og = f"""<meta property="og:locale" content="{t["og_locale"]}" />
<meta property="og:type" content="{"article" if is_post else "website"}" />
<meta property="og:title" content="{escape(post.title)}" />
<meta property="og:url" content="{permalink}" />
<meta property="og:site_name" content="{escape(state.site_name)}" />
<meta property="article:published_time" content="{w3c(post.date_gmt)}" />
<meta property="article:modified_time" content="{w3c(post.modified_gmt)}" />
"""
    extra = (
        f"{json_link}"
        f'<link rel="canonical" href="{permalink}" />\n'
        f"<link rel='shortlink' href='{shortlink}' />\n"
        f"{og}"
        f'<script type="application/ld+json" class="yoast-schema-graph">{ld}</script>\n'
    )
    charset = "windows-1251" if post.charset == "windows-1251" else "UTF-8"
    head = _head(state, post.lang, ctx, post.title, charset=charset, extra=extra, view=view)
    if is_post:
        body_class = f"post-template-default single single-post postid-{post.id} single-format-standard"
        cats = [c for c in (state.category(post.lang, s) for s in post.categories) if c]
        classes = " ".join(
            [f"post-{post.id} post type-post status-publish format-standard hentry"]
            + [f"category-{encode_slug(c.slug)}" for c in cats]
            + [f"tag-{encode_slug(slugify(tag))}" for tag in post.tags]
        )
        cat_links = ", ".join(
            f'<a href="{url(ctx, state.category_path(c))}" rel="category tag">{escape(c.name)}</a>'
            for c in cats
        )
        meta = (
            f'<div class="entry-meta"><span class="posted-on">'
            f'<time class="entry-date published" datetime="{w3c(post.date_gmt)}">{display_date(post.date_gmt, post.lang)}</time>'
            f'<time class="updated" datetime="{w3c(post.modified_gmt)}">{display_date(post.modified_gmt, post.lang)}</time></span> '
            f'<span class="byline"><span class="author vcard"><a class="url fn n" href="{url(ctx, state.link(post.lang, f"/author/{slugify(post.author)}/"))}" rel="author">{escape(post.author)}</a></span></span> '
            f'<span class="cat-links">{cat_links}</span></div>\n'
        )
        tag_links = ", ".join(
            f'<a href="{url(ctx, state.link(post.lang, f"/tag/{encode_slug(slugify(tag))}/"))}" rel="tag">{escape(tag)}</a>'
            for tag in post.tags
        )
        footer = f'<footer class="entry-footer"><span class="tags-links">{tag_links}</span></footer>\n'
        comments = _comments(post, ctx)
    else:
        body_class = f"page-template-default page page-id-{post.id}"
        classes = f"post-{post.id} page type-page status-publish hentry"
        meta = footer = comments = ""
    return (
        head
        + f'<body class="{body_class}">\n'
        + _site_header(state, view, ctx)
        + '<div id="primary" class="content-area">\n'
        + _breadcrumb(post.title)
        + f'<main id="content" class="site-main">\n<article id="post-{post.id}" class="{classes}">\n'
        + f'<header class="entry-header"><h1 class="entry-title">{escape(post.title)}</h1>\n{meta}</header>\n'
        + f'<div class="entry-content">\n{absolute_uploads(post.content_html, ctx.root)}\n</div><!-- .entry-content -->\n'
        + footer
        + "</article>\n"
        + comments
        + "</main>\n</div>\n"
        + _sidebar(state, post.lang, ctx)
        + _site_footer(state, view, ctx)
    )


def _comments(post: Post, ctx: Context) -> str:
    t = text(post.lang)
    comment_id = post.id * 3 + 1
    who = COMMENTERS[post.id % len(COMMENTERS)]
    return f"""<div id="comments" class="comments-area">
<h2 class="comments-title">{t["thoughts"].format(escape(post.title))}</h2>
<ol class="comment-list">
<li id="comment-{comment_id}" class="comment even thread-even depth-1">
<article id="div-comment-{comment_id}" class="comment-body">
<footer class="comment-meta"><div class="comment-author vcard"><b class="fn">{who}</b> <span class="says">{t["says"]}</span></div>
<div class="comment-metadata"><a href="{ctx.root}/?p={post.id}#comment-{comment_id}"><time datetime="{w3c(post.date_gmt)}">{display_date(post.date_gmt, post.lang)}</time></a></div></footer>
<div class="comment-content"><p>{t["comment_text"]}</p></div>
<div class="reply"><a rel="nofollow" class="comment-reply-link" href="#comment-{comment_id}">Reply</a></div>
</article></li>
</ol>
<div id="respond" class="comment-respond">
<h3 id="reply-title" class="comment-reply-title">{t["leave"]}</h3>
<form action="{ctx.root}/wp-comments-post.php" method="post" id="commentform" class="comment-form">
<p class="comment-form-comment"><label for="comment">{t["comment"]}</label><textarea id="comment" name="comment" cols="45" rows="8" required></textarea></p>
<p class="form-submit"><input name="submit" type="submit" id="submit" class="submit" value="{t["post_comment"]}" />
<input type='hidden' name='comment_post_ID' value='{post.id}' id='comment_post_ID' />
<input type='hidden' name='comment_parent' id='comment_parent' value='0' /></p>
</form>
</div>
</div><!-- #comments -->
"""


def listing_page(state: SiteState, listing: Listing, page: int, pages: int, ctx: Context) -> str:
    """An archive (home, category, tag, author, date): excerpts, pagination, same chrome."""
    t = text(listing.lang)
    per_page = state.options.posts_per_page
    shown = listing.posts[(page - 1) * per_page : page * per_page]

    def page_url(n: int) -> str:
        return url(ctx, listing.path(state) if n == 1 else listing.path(state, f"page/{n}/"))

    rel = ""
    if page > 1:
        rel += f'<link rel="prev" href="{page_url(page - 1)}" />\n'
    if page < pages:
        rel += f'<link rel="next" href="{page_url(page + 1)}" />\n'
    feed_path = listing.path(state, "feed/") if listing.has_feed and listing.feed_title else None
    view = View(
        listing.view.kind, listing.lang, page=page, category=listing.view.category,
        archive_path=listing.view.archive_path, archive_filter=listing.view.archive_filter,
    )
    head = _head(
        state, listing.lang, ctx, listing.heading, extra=rel, feed_path=feed_path, feed_title=listing.feed_title,
        view=view,
    )
    articles = []
    for p in shown:
        cats = " ".join(f"category-{encode_slug(slug)}" for slug in p.categories)
        articles.append(
            f'<article id="post-{p.id}" class="post-{p.id} post type-post status-publish format-standard hentry {cats}">'
            f'<h2 class="entry-title"><a href="{url(ctx, state.path_of(p))}" rel="bookmark">{escape(p.title)}</a></h2>'
            f'<div class="entry-summary"><p>{excerpt_of(p)}</p></div></article>'
        )
    if not articles:
        articles.append(
            f'<section class="no-results not-found"><h1 class="page-title">{t["nothing"]}</h1>'
            f'<p>{t["nothing_text"]}</p></section>'
        )
    nav = ""
    if pages > 1:
        links = []
        if page > 1:
            links.append(f'<a class="prev page-numbers" href="{page_url(page - 1)}">{t["prev"]}</a>')
        for n in range(1, pages + 1):
            if n == page:
                links.append(f'<span aria-current="page" class="page-numbers current">{n}</span>')
            else:
                links.append(f'<a class="page-numbers" href="{page_url(n)}">{n}</a>')
        if page < pages:
            links.append(f'<a class="next page-numbers" href="{page_url(page + 1)}">{t["next"]}</a>')
        nav = (
            f'<nav class="navigation pagination" aria-label="{t["posts_nav"]}">'
            f'<h2 class="screen-reader-text">{t["posts_nav"]}</h2>'
            f'<div class="nav-links">{"".join(links)}</div></nav>\n'
        )
    paged = f" paged paged-{page}" if page > 1 else ""
    return (
        head
        + f'<body class="{listing.body_class}{paged}">\n'
        + _site_header(state, view, ctx)
        + '<div id="primary" class="content-area">\n'
        + _breadcrumb(listing.heading)
        + '<main id="content" class="site-main">\n'
        + f'<header class="page-header"><h1 class="page-title">{escape(listing.heading)}</h1></header>\n'
        + "\n".join(articles)
        + "\n"
        + nav
        + "</main>\n</div>\n"
        + _sidebar(state, listing.lang, ctx)
        + _site_footer(state, view, ctx)
    )


def not_found_page(state: SiteState, lang: str, ctx: Context) -> str:
    t = text(lang)
    view = View("not_found", lang)
    return (
        _head(state, lang, ctx, t["not_found_title"], view=view)
        + '<body class="error404 hfeed">\n'
        + _site_header(state, view, ctx)
        + '<div id="primary" class="content-area">\n<main id="content" class="site-main">\n'
        + f'<section class="error-404 not-found"><header class="page-header"><h1 class="page-title">{t["not_found"]}</h1></header>'
        + f'<div class="page-content"><p>{t["not_found_text"]}</p></div></section>\n'
        + "</main>\n</div>\n"
        + _sidebar(state, lang, ctx)
        + _site_footer(state, view, ctx)
    )


def block_page(kind: str, ctx: Context) -> str:
    """What an anti-bot layer, a maintenance plugin or a members-only plugin serves with 200."""
    if kind == "empty":
        return ""
    if kind == "captcha":
        return f"""<!DOCTYPE html><html lang="en-US"><head><meta charset="UTF-8"><title>Just a moment...</title>
<meta name="robots" content="noindex,nofollow"></head>
<body class="no-js"><div class="main-wrapper" role="main"><div class="main-content">
<h1 class="zone-name-title h1">kisi.kz</h1>
<h2 class="h2" id="challenge-running">Checking if the site connection is secure</h2>
<div id="challenge-stage"><div class="cf-turnstile" data-sitekey="0x4AAAAAAADnPIDROrmt1Wwj"></div></div>
<noscript><div class="h2">Enable JavaScript and cookies to continue</div></noscript>
<form id="challenge-form" action="/?__cf_chl_f_tk={ctx.nonce}" method="POST"></form>
</div></div></body></html>
"""
    if kind == "maintenance":
        return """<!DOCTYPE html><html lang="ru-RU"><head><meta charset="UTF-8"><title>Maintenance</title></head>
<body class="maintenance"><div class="wrap"><h1>Briefly unavailable for scheduled maintenance. Check back in a minute.</h1>
<p>Сайт находится на техническом обслуживании.</p></div></body></html>
"""
    return f"""<!DOCTYPE html><html lang="ru-RU"><head><meta charset="UTF-8"><title>Log In &lsaquo; KazISS &#8212; WordPress</title>
<meta name='robots' content='noindex, nofollow, noarchive' /></head>
<body class="login no-js login-action-login wp-core-ui"><div id="login"><h1><a href="https://wordpress.org/">Powered by WordPress</a></h1>
<form name="loginform" id="loginform" action="{ctx.root}/wp-login.php" method="post">
<p><label for="user_login">Username or Email Address</label><input type="text" name="log" id="user_login" class="input" value="" size="20" autocapitalize="off" autocomplete="username" required="required" /></p>
<div class="user-pass-wrap"><label for="user_pass">Password</label><input type="password" name="pwd" id="user_pass" class="input password-input" value="" size="20" autocomplete="current-password" required="required" /></div>
<p class="submit"><input type="submit" name="wp-submit" id="wp-submit" class="button button-primary button-large" value="Log In" />
<input type="hidden" name="redirect_to" value="{ctx.root}/wp-admin/" /><input type="hidden" name="testcookie" value="1" /></p>
</form></div></body></html>
"""


def fault_page(status: int) -> str:
    reasons = {429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
               503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}
    reason = reasons.get(status, "Error")
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
