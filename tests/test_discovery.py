"""crawler.discovery: listings, feeds, sitemaps and REST answers as WordPress 6 serves them."""
from __future__ import annotations

import ast
import gzip
import json
from pathlib import Path

import pytest

import crawler.discovery
from crawler.discovery import (
    DiscoveryError,
    FeedEntry,
    Listing,
    RestPost,
    Sitemap,
    SitemapEntry,
    category_feed_url,
    category_listing_url,
    is_post_candidate,
    parse_category_listing,
    parse_feed,
    parse_rest_category_id,
    parse_rest_posts,
    parse_sitemap,
    to_utc_iso,
)

SITE = "https://kisi.kz/"
EVENTS = "https://kisi.kz/en/category/events/"

# --------------------------------------------------------------------------- category listings

# Page 1 of a category as a classic WordPress 6 theme (Twenty Twenty-One markup) prints it: a
# menu, the loop with category/tag/author/comment links inside each article, a "Recent Posts"
# sidebar widget that links to posts of *other* categories, a footer widget, pagination.
CLASSIC_PAGE = """<!doctype html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
<title>Events &#8211; Kazakhstan Institute for Strategic Studies</title>
<link rel="alternate" type="application/rss+xml" title="Events feed" href="https://kisi.kz/en/category/events/feed/" />
<link rel='shortlink' href='https://kisi.kz/?p=1' />
</head>
<body class="archive category category-events category-3 wp-embed-responsive hfeed">
<div id="page" class="site">
<a class="skip-link screen-reader-text" href="#content">Skip to content</a>
<header id="masthead" class="site-header" role="banner">
  <div class="site-branding"><a href="https://kisi.kz/en/" rel="home">KISI</a></div>
  <nav id="site-navigation" class="primary-navigation" aria-label="Primary menu">
    <ul id="primary-menu-list" class="menu-wrapper">
      <li class="menu-item"><a href="https://kisi.kz/en/about/">About</a></li>
      <li class="menu-item current-menu-item"><a href="https://kisi.kz/en/category/events/">Events</a></li>
    </ul>
  </nav>
</header>
<div id="content" class="site-content">
 <div id="primary" class="content-area">
  <main id="main" class="site-main">
   <header class="page-header alignwide"><h1 class="page-title">Category: <span>Events</span></h1></header>

   <article id="post-2368" class="post-2368 post type-post status-publish format-standard has-post-thumbnail hentry category-events tag-politics entry">
    <header class="entry-header alignwide">
     <h2 class="entry-title default-max-width"><a href="https://kisi.kz/en/experts-discussed-the-process-of-political-transformation-in-kazakhstan/">Experts discussed the process of political transformation in Kazakhstan</a></h2>
     <figure class="post-thumbnail"><a class="post-thumbnail-inner alignwide" href="https://kisi.kz/en/experts-discussed-the-process-of-political-transformation-in-kazakhstan/" aria-hidden="true" tabindex="-1"><img src="https://kisi.kz/wp-content/uploads/2024/03/round-table.jpg" alt=""></a></figure>
    </header>
    <div class="entry-content"><p>On 5 March KISI held a round table&hellip; <a href="https://kisi.kz/en/experts-discussed-the-process-of-political-transformation-in-kazakhstan/#more-2368" class="more-link">Continue reading</a></p>
     <p>See also <a href="https://kisi.kz/en/an-older-event/">an older event</a> and <a href="https://kisi.kz/wp-content/uploads/2024/03/programme.pdf">the programme</a>.</p></div>
    <footer class="entry-footer default-max-width">
     <span class="byline">By <a href="https://kisi.kz/en/author/editor/" rel="author">editor</a></span>
     <span class="posted-on">Published <time class="entry-date published" datetime="2024-03-05T10:00:00+06:00">March 5, 2024</time></span>
     <span class="cat-links">Categorized as <a href="https://kisi.kz/en/category/events/" rel="category tag">Events</a></span>
     <span class="tags-links">Tagged <a href="https://kisi.kz/en/tag/politics/" rel="tag">politics</a></span>
     <span class="comments-link"><a href="https://kisi.kz/en/experts-discussed-the-process-of-political-transformation-in-kazakhstan/#respond">Leave a comment</a></span>
    </footer>
   </article>

   <article id="post-2360" class="post-2360 post type-post status-publish format-standard hentry category-events entry">
    <header class="entry-header alignwide">
     <h2 class="entry-title default-max-width"><a href="/en/%d0%ba%d1%80%d1%83%d0%b3%d0%bb%d1%8b%d0%b9-%d1%81%d1%82%d0%be%d0%bb/">Круглый стол &laquo;Казахстан &amp; ЕАЭС&raquo;</a></h2>
    </header>
    <div class="entry-content"><p>&hellip;</p></div>
   </article>

   <article id="post-2355" class="post-2355 post type-post status-publish format-standard hentry category-events entry">
    <header class="entry-header alignwide">
     <h2 class="entry-title default-max-width"><a href="../../seminar-on-water-security/?lang=en&#038;ref=list">Seminar on water security</a></h2>
    </header>
   </article>

   <!-- The same post listed twice, once with upper-case escapes: a sticky post shown again. -->
   <article id="post-2360-sticky" class="post-2360 post type-post sticky hentry category-events entry">
    <h2 class="entry-title"><a href="https://kisi.kz/en/%D0%BA%D1%80%D1%83%D0%B3%D0%BB%D1%8B%D0%B9-%D1%81%D1%82%D0%BE%D0%BB/">Круглый стол</a></h2>
   </article>

   <nav class="navigation pagination" aria-label="Posts">
    <h2 class="screen-reader-text">Posts navigation</h2>
    <div class="nav-links"><span aria-current="page" class="page-numbers current">1</span>
     <a class="page-numbers" href="https://kisi.kz/en/category/events/page/2/">2</a>
     <a class="page-numbers" href="https://kisi.kz/en/category/events/page/3/">3</a>
     <a class="next page-numbers" href="https://kisi.kz/en/category/events/page/2/">Older posts</a></div>
   </nav>
  </main>
 </div>
 <aside id="secondary" class="widget-area" role="complementary">
  <section id="search-2" class="widget widget_search"><form role="search" method="get" action="https://kisi.kz/en/"><input type="search" name="s"></form></section>
  <section id="recent-posts-2" class="widget widget_recent_entries">
   <h2 class="widget-title">Recent Posts</h2>
   <nav aria-label="Recent Posts"><ul>
    <li><a href="https://kisi.kz/en/kazakhstan-and-central-asia-analytics/">Kazakhstan and Central Asia: analytics</a></li>
    <li><a href="https://kisi.kz/en/interview-with-the-director/">Interview with the director</a></li>
   </ul></nav>
  </section>
  <section id="block-3" class="widget widget_block">
   <ul class="wp-block-latest-posts__list wp-block-latest-posts">
    <li><article class="post hentry"><h3 class="entry-title"><a href="https://kisi.kz/en/a-news-item/">A news item</a></h3></article></li>
   </ul>
  </section>
  <section id="archives-2" class="widget widget_archive"><ul><li><a href="https://kisi.kz/en/2024/03/">March 2024</a></li></ul></section>
 </aside>
</div>
<footer id="colophon" class="site-footer" role="contentinfo">
 <div class="widget-area"><section class="widget"><article class="post"><a rel="bookmark" href="https://kisi.kz/en/footer-post/">Footer post</a></article></section></div>
 <div class="site-info"><a href="https://wordpress.org/">Proudly powered by WordPress</a></div>
</footer>
</div>
</body>
</html>
"""

CLASSIC_POSTS = (
    "https://kisi.kz/en/experts-discussed-the-process-of-political-transformation-in-kazakhstan/",
    "https://kisi.kz/en/%d0%ba%d1%80%d1%83%d0%b3%d0%bb%d1%8b%d0%b9-%d1%81%d1%82%d0%be%d0%bb/",
    "https://kisi.kz/en/seminar-on-water-security/?lang=en&ref=list",
)


def test_classic_listing_takes_only_the_main_loop() -> None:
    listing = parse_category_listing(CLASSIC_PAGE, EVENTS)
    assert listing == Listing(post_urls=CLASSIC_POSTS, next_url="https://kisi.kz/en/category/events/page/2/")


def test_classic_listing_ignores_sidebar_menu_footer_and_taxonomy_links() -> None:
    urls = " ".join(parse_category_listing(CLASSIC_PAGE, EVENTS).post_urls)
    for foreign in (
        "kazakhstan-and-central-asia-analytics", "interview-with-the-director", "a-news-item",
        "footer-post", "/about/", "/author/", "/tag/", "/2024/03/", "an-older-event", "programme.pdf",
        "#respond", "#more",
    ):
        assert foreign not in urls


# The same listing from a block theme (Twenty Twenty-Four): the loop is a Query Loop block, the
# footer template part carries a Latest Posts block, pagination is the Query Pagination block.
BLOCK_THEME_PAGE = """<!DOCTYPE html>
<html lang="en-US"><head><meta charset="UTF-8"><title>Events – KISI</title></head>
<body class="archive category category-events category-3 wp-embed-responsive">
<div class="wp-site-blocks">
<header class="wp-block-template-part"><nav class="wp-block-navigation"><ul class="wp-block-navigation__container">
 <li class="wp-block-navigation-item"><a class="wp-block-navigation-item__content" href="https://kisi.kz/en/about/">About</a></li></ul></nav></header>
<main class="wp-block-group is-layout-constrained" style="margin-top:0">
 <h1 class="wp-block-query-title">Category: <span>Events</span></h1>
 <div class="wp-block-query alignfull is-layout-flow">
  <ul class="columns-3 alignfull wp-block-post-template is-layout-grid">
   <li class="wp-block-post post-2368 post type-post status-publish format-standard hentry category-events">
    <figure class="wp-block-post-featured-image"><a href="https://kisi.kz/en/experts-discussed/"><img src="https://kisi.kz/wp-content/uploads/a.jpg" alt=""></a></figure>
    <h2 class="wp-block-post-title has-x-large-font-size"><a href="https://kisi.kz/en/experts-discussed/" target="_self">Experts discussed</a></h2>
    <div class="wp-block-post-date"><time datetime="2024-03-05T10:00:00+06:00"><a href="https://kisi.kz/en/experts-discussed/">March 5, 2024</a></time></div>
    <div class="taxonomy-category wp-block-post-terms"><a href="https://kisi.kz/en/category/events/" rel="tag">Events</a></div>
   </li>
   <li class="wp-block-post post-2301 event type-event status-publish hentry">
    <h2 class="wp-block-post-title"><a href="https://kisi.kz/en/event/forum-2024/" target="_self">Forum 2024</a></h2>
   </li>
  </ul>
  <nav class="wp-block-query-pagination is-layout-flex" aria-label="Pagination">
   <a href="https://kisi.kz/en/category/events/page/2/" class="wp-block-query-pagination-next">Older Posts</a>
  </nav>
 </div>
</main>
<footer class="wp-block-template-part">
 <ul class="wp-block-latest-posts__list wp-block-latest-posts"><li><a class="wp-block-latest-posts__post-title" href="https://kisi.kz/en/latest/">Latest</a></li></ul>
 <ul class="wp-block-post-template"><li class="wp-block-post post-99 post type-post hentry"><h2 class="wp-block-post-title"><a href="https://kisi.kz/en/footer-query/">Footer query loop</a></h2></li></ul>
</footer>
</div></body></html>
"""


def test_block_theme_listing() -> None:
    assert parse_category_listing(BLOCK_THEME_PAGE, EVENTS) == Listing(
        post_urls=("https://kisi.kz/en/experts-discussed/", "https://kisi.kz/en/event/forum-2024/"),
        next_url="https://kisi.kz/en/category/events/page/2/",
    )


# An older theme (Twenty Twelve era): posts are div.post with a rel=bookmark title link and
# the_posts_navigation()'s "Older posts" link; the listing is page 2 and uses relative links.
OLDER_THEME_PAGE = """<html><head><title>Events | KISI</title></head><body class="archive category paged paged-2">
<div id="wrapper"><div id="container"><div id="content" role="main">
 <div id="post-101" class="post-101 post type-post hentry category-events">
  <h2 class="entry-title"><a href="../../../../2019/05/14/conference-astana/" title="Permalink to Conference" rel="bookmark">Conference</a></h2>
  <div class="entry-meta"><a href="/en/2019/05/14/conference-astana/" title="10:00" rel="bookmark"><span class="entry-date">May 14, 2019</span></a></div>
 </div>
 <div id="post-97" class="post-97 post type-post hentry category-events">
  <div class="entry-meta"><a href="/en/author/admin/" rel="author">admin</a></div>
  <h3><a rel="bookmark" href="/en/2019/04/02/%D1%81%D0%B5%D0%BC%D0%B8%D0%BD%D0%B0%D1%80/">Семинар</a></h3>
 </div>
 <div id="post-90" class="post-90 post type-post hentry category-events">
  <h2 class="entry-title"><a href="https://example.org/external-report" rel="bookmark">A link-format post pointing off-site</a></h2>
 </div>
 <div class="navigation"><div class="nav-previous"><a href="/en/category/events/page/3/"><span class="meta-nav">&larr;</span> Older posts</a></div>
 <div class="nav-next"><a href="/en/category/events/">Newer posts <span class="meta-nav">&rarr;</span></a></div></div>
</div></div>
<div id="primary" class="widget-area"><ul class="xoxo"><li class="widget-container"><ul><li><a href="/en/2019/06/01/other/">Other</a></li></ul></li></ul></div>
</div></body></html>
"""


def test_older_theme_listing_with_nav_previous_and_relative_links() -> None:
    listing = parse_category_listing(OLDER_THEME_PAGE, "https://kisi.kz/en/category/events/page/2/")
    assert listing == Listing(
        post_urls=(
            "https://kisi.kz/en/2019/05/14/conference-astana/",
            "https://kisi.kz/en/2019/04/02/%D1%81%D0%B5%D0%BC%D0%B8%D0%BD%D0%B0%D1%80/",
        ),
        next_url="https://kisi.kz/en/category/events/page/3/",
    )


def test_last_page_has_no_next_url() -> None:
    page = CLASSIC_PAGE.replace(
        '<a class="next page-numbers" href="https://kisi.kz/en/category/events/page/2/">Older posts</a>', ""
    )
    assert parse_category_listing(page, EVENTS).next_url is None


def test_link_rel_next_in_head_is_used_when_the_body_has_no_pagination() -> None:
    page = """<html><head><link rel="next" href="https://kisi.kz/en/category/events/page/2/" /></head>
    <body><main><article class="post"><h2 class="entry-title"><a href="/en/one/">One</a></h2></article></main></body></html>"""
    assert parse_category_listing(page, EVENTS).next_url == "https://kisi.kz/en/category/events/page/2/"


def test_next_url_pointing_at_the_page_itself_is_ignored() -> None:
    page = """<html><body><main><a class="next page-numbers" href="/en/category/events/#top">Next</a></main></body></html>"""
    assert parse_category_listing(page, EVENTS).next_url is None


def test_pagination_inside_a_sidebar_is_not_the_listing_s_next_page() -> None:
    page = """<html><body><main><article class="post"><h2 class="entry-title"><a href="/en/one/">1</a></h2></article></main>
    <aside id="secondary"><div class="nav-previous"><a href="/en/category/news/page/2/">Older news</a></div></aside></body></html>"""
    assert parse_category_listing(page, EVENTS) == Listing(post_urls=("https://kisi.kz/en/one/",), next_url=None)


def test_base_href_is_honoured() -> None:
    page = """<html><head><base href="https://kisi.kz/en/"></head>
    <body><main><article><h2 class="entry-title"><a href="relative-post/">R</a></h2></article></main></body></html>"""
    assert parse_category_listing(page, "https://kisi.kz/category/x/").post_urls == ("https://kisi.kz/en/relative-post/",)


def test_raw_cyrillic_and_entities_in_hrefs_become_request_safe() -> None:
    page = """<html><body><div id="primary"><article class="post">
    <h2 class="entry-title"><a href="  /ru/круглый-стол/?a=1&amp;b=2#more ">x</a></h2></article></div></body></html>"""
    assert parse_category_listing(page, "https://kisi.kz/ru/category/sobytiya/").post_urls == (
        "https://kisi.kz/ru/%D0%BA%D1%80%D1%83%D0%B3%D0%BB%D1%8B%D0%B9-%D1%81%D1%82%D0%BE%D0%BB/?a=1&b=2",
    )


def test_without_a_main_container_the_whole_page_is_searched_but_sidebars_still_excluded() -> None:
    page = """<html><body><div class="wrap">
    <article class="post"><h2 class="entry-title"><a href="/en/one/">One</a></h2></article>
    <div class="sidebar"><article class="post"><h2 class="entry-title"><a href="/en/side/">Side</a></h2></article></div>
    </div></body></html>"""
    assert parse_category_listing(page, EVENTS).post_urls == ("https://kisi.kz/en/one/",)


def test_articles_outside_the_main_container_are_ignored() -> None:
    page = """<html><body><main><article><h2 class="entry-title"><a href="/en/in/">In</a></h2></article></main>
    <div class="below"><article class="post"><h2 class="entry-title"><a href="/en/out/">Out</a></h2></article></div></body></html>"""
    assert parse_category_listing(page, EVENTS).post_urls == ("https://kisi.kz/en/in/",)


def test_title_without_a_link_falls_back_to_the_more_link() -> None:
    page = """<html><body><main><article class="post"><h2 class="entry-title">Unlinked title</h2>
    <p>Text <a href="/en/elsewhere/">elsewhere</a> <a href="/en/the-post/#more-12" class="more-link">Continue reading</a></p>
    </article></main></body></html>"""
    assert parse_category_listing(page, EVENTS).post_urls == ("https://kisi.kz/en/the-post/",)


# An empty category, a 404 page, and no HTML at all: nothing to list, nothing raised.
NOT_FOUND_PAGE = """<!doctype html><html><body class="error404"><main id="main" class="site-main">
<section class="error-404 not-found"><h1 class="page-title">Nothing here</h1>
<p>It looks like nothing was found at this location. Maybe try a search?</p></section></main>
<aside id="secondary"><section class="widget widget_recent_entries"><ul><li><a href="https://kisi.kz/en/x/">X</a></li></ul></section></aside>
</body></html>"""


@pytest.mark.parametrize("page", [NOT_FOUND_PAGE, "", "   \n", "<html></html>", "plain text, no markup", "\x00\x00"])
def test_pages_without_articles_give_an_empty_listing(page: str) -> None:
    assert parse_category_listing(page, EVENTS) == Listing(post_urls=(), next_url=None)


MALFORMED_PAGES = [
    # cut off mid-document, as a dropped connection leaves it
    CLASSIC_PAGE[: CLASSIC_PAGE.index("<nav class=\"navigation pagination\"")],
    # unclosed tags and stray end tags everywhere
    """<html><body><main><article class="post"><h2 class="entry-title"><a href="/en/one/">One</h2></p></div>
    <article class="post"><h2 class="entry-title"><a href='/en/two/'>Two</a></span></main></body>""",
    # an XML declaration in a str (lxml refuses it in a str), mixed-up encodings
    """<?xml version="1.0" encoding="windows-1251"?><html><body><main><article><a rel="bookmark" href="/en/one/">Один</a></article>
    <article><a rel="bookmark" href="/en/two/">Два</a></article></main></body></html>""",
]


@pytest.mark.parametrize("page", MALFORMED_PAGES)
def test_malformed_html_is_recovered(page: str) -> None:
    listing = parse_category_listing(page, EVENTS)
    assert listing.post_urls[:1] in (
        ("https://kisi.kz/en/one/",),
        ("https://kisi.kz/en/experts-discussed-the-process-of-political-transformation-in-kazakhstan/",),
    )
    assert len(listing.post_urls) >= 2


# --------------------------------------------------------------------------- feeds

# /en/category/events/feed/ as WordPress 6.4 writes it: guid is the shortlink, full text in
# content:encoded, categories in CDATA.
RSS_FEED = b"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
	xmlns:content="http://purl.org/rss/1.0/modules/content/"
	xmlns:wfw="http://wellformedweb.org/CommentAPI/"
	xmlns:dc="http://purl.org/dc/elements/1.1/"
	xmlns:atom="http://www.w3.org/2005/Atom"
	xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"
	xmlns:slash="http://purl.org/rss/1.0/modules/slash/"
	>

<channel>
	<title>Events &#8211; Kazakhstan Institute for Strategic Studies</title>
	<atom:link href="https://kisi.kz/en/category/events/feed/" rel="self" type="application/rss+xml" />
	<link>https://kisi.kz/en</link>
	<description>under the President of the Republic of Kazakhstan</description>
	<lastBuildDate>Wed, 06 Mar 2024 08:12:45 +0000</lastBuildDate>
	<language>en-US</language>
	<sy:updatePeriod>hourly</sy:updatePeriod>
	<sy:updateFrequency>1</sy:updateFrequency>
	<generator>https://wordpress.org/?v=6.4.3</generator>
	<item>
		<title>Experts discussed the process of political transformation in Kazakhstan</title>
		<link>https://kisi.kz/en/experts-discussed-the-process-of-political-transformation-in-kazakhstan/</link>
		<comments>https://kisi.kz/en/experts-discussed-the-process-of-political-transformation-in-kazakhstan/#respond</comments>
		<dc:creator><![CDATA[editor]]></dc:creator>
		<pubDate>Tue, 05 Mar 2024 10:00:00 +0000</pubDate>
		<category><![CDATA[Events]]></category>
		<category><![CDATA[Politics]]></category>
		<category><![CDATA[Events]]></category>
		<guid isPermaLink="false">https://kisi.kz/?p=2368</guid>
		<description><![CDATA[On 5 March KISI held a round table [&#8230;]]]></description>
		<content:encoded><![CDATA[<p>On 5 March KISI held a round table on <a href="https://kisi.kz/en/other-post/">political</a> transformation.</p>
<p><img src="https://kisi.kz/wp-content/uploads/2024/03/round-table.jpg" /></p>]]></content:encoded>
		<wfw:commentRss>https://kisi.kz/en/experts-discussed-the-process-of-political-transformation-in-kazakhstan/feed/</wfw:commentRss>
		<slash:comments>0</slash:comments>
	</item>
	<item>
		<title>&#171;Kazakhstan &#38; the EAEU&#187;: a round table</title>
		<link>https://kisi.kz/en/%d0%ba%d1%80%d1%83%d0%b3%d0%bb%d1%8b%d0%b9-%d1%81%d1%82%d0%be%d0%bb/</link>
		<pubDate>Mon, 04 Mar 2024 18:30:00 +0600</pubDate>
		<category><![CDATA[Events]]></category>
		<guid isPermaLink="false">https://kisi.kz/?p=2360</guid>
		<content:encoded><![CDATA[<p>&#8230;</p>]]></content:encoded>
	</item>
	<item>
		<title>A post whose guid is its permalink</title>
		<link>/en/relative-link/</link>
		<pubDate>not a date</pubDate>
		<guid>https://kisi.kz/en/relative-link/</guid>
	</item>
	<item>
		<title>An item with no link at all</title>
		<guid isPermaLink="false">urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66</guid>
	</item>
	<item>
		<guid>https://kisi.kz/en/guid-only/</guid>
	</item>
</channel>
</rss>
"""


def test_rss_feed() -> None:
    assert parse_feed(RSS_FEED, "https://kisi.kz/en/category/events/feed/") == [
        FeedEntry(
            url="https://kisi.kz/en/experts-discussed-the-process-of-political-transformation-in-kazakhstan/",
            post_id=2368,
            published="2024-03-05T10:00:00+00:00",
            modified=None,
            title="Experts discussed the process of political transformation in Kazakhstan",
            categories=("Events", "Politics"),
        ),
        FeedEntry(
            url="https://kisi.kz/en/%d0%ba%d1%80%d1%83%d0%b3%d0%bb%d1%8b%d0%b9-%d1%81%d1%82%d0%be%d0%bb/",
            post_id=2360,
            published="2024-03-04T12:30:00+00:00",
            modified=None,
            title="\u00abKazakhstan & the EAEU\u00bb: a round table",
            categories=("Events",),
        ),
        FeedEntry(
            url="https://kisi.kz/en/relative-link/", post_id=None, published=None, modified=None,
            title="A post whose guid is its permalink", categories=(),
        ),
        FeedEntry(
            url="https://kisi.kz/en/guid-only/", post_id=None, published=None, modified=None, title=None, categories=(),
        ),
    ]


def test_rss_feed_with_blank_lines_before_the_xml_declaration() -> None:
    # A plugin or theme printing whitespace before "<?xml" is the classic WordPress feed bug.
    entries = parse_feed(b"\n\n  " + RSS_FEED, "https://kisi.kz/en/feed/")
    assert [e.post_id for e in entries] == [2368, 2360, None, None]


def test_rss_feed_in_a_legacy_encoding() -> None:
    body = """<?xml version="1.0" encoding="windows-1251"?><rss version="2.0"><channel><title>КИСИ</title>
    <item><title>Семинар</title><link>https://kisi.kz/ru/seminar/</link><guid isPermaLink="false">https://kisi.kz/?p=7</guid>
    <pubDate>Fri, 01 Dec 2023 09:00:00 GMT</pubDate><category>События</category></item></channel></rss>""".encode("cp1251")
    assert parse_feed(body, "https://kisi.kz/ru/feed/") == [
        FeedEntry("https://kisi.kz/ru/seminar/", 7, "2023-12-01T09:00:00+00:00", None, "Семинар", ("События",))
    ]


# /en/feed/atom/ as WordPress writes it.
ATOM_FEED = b"""<?xml version="1.0" encoding="UTF-8"?><feed
  xmlns="http://www.w3.org/2005/Atom"
  xmlns:thr="http://purl.org/syndication/thread/1.0"
  xml:lang="en-US"
  xml:base="https://kisi.kz/en/wp-atom.php"
   >
	<title type="text">Kazakhstan Institute for Strategic Studies</title>
	<updated>2024-03-06T08:12:45Z</updated>
	<link rel="alternate" type="text/html" href="https://kisi.kz/en" />
	<id>https://kisi.kz/en/feed/atom/</id>
	<link rel="self" type="application/atom+xml" href="https://kisi.kz/en/feed/atom/" />
	<generator uri="https://wordpress.org/" version="6.4.3">WordPress</generator>
	<entry>
		<author><name>editor</name></author>
		<title type="html"><![CDATA[Experts discussed &#8220;political transformation&#8221;]]></title>
		<link rel="alternate" type="text/html" href="https://kisi.kz/en/experts-discussed/" />
		<id>https://kisi.kz/?p=2368</id>
		<updated>2024-03-06T08:12:45Z</updated>
		<published>2024-03-05T10:00:00Z</published>
		<category scheme="https://kisi.kz/en" term="Events" />
		<category scheme="https://kisi.kz/en" term="Politics" />
		<summary type="html"><![CDATA[On 5 March KISI held a round table [&#8230;]]]></summary>
		<content type="html" xml:base="https://kisi.kz/en/experts-discussed/"><![CDATA[<p>Full text</p>]]></content>
		<link rel="replies" type="text/html" href="https://kisi.kz/en/experts-discussed/#comments" thr:count="0" />
		<link rel="replies" type="application/atom+xml" href="https://kisi.kz/en/experts-discussed/feed/atom/" thr:count="0" />
		<thr:total>0</thr:total>
	</entry>
	<entry>
		<title type="text">Relative link, offset dates</title>
		<link rel="replies" href="/en/wrong/#comments" />
		<link href="seminar/" />
		<id>tag:kisi.kz,2024:seminar</id>
		<updated>2024-03-02T12:00:00+06:00</updated>
		<published>2024-03-01T09:30:15.250+06:00</published>
	</entry>
	<entry>
		<title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">An <b>xhtml</b> title</div></title>
		<link rel="alternate" href="https://kisi.kz/en/xhtml/" />
		<id>https://kisi.kz/?p=2301</id>
	</entry>
</feed>
"""


def test_atom_feed() -> None:
    assert parse_feed(ATOM_FEED, "https://kisi.kz/en/feed/atom/") == [
        FeedEntry(
            url="https://kisi.kz/en/experts-discussed/", post_id=2368,
            published="2024-03-05T10:00:00+00:00", modified="2024-03-06T08:12:45+00:00",
            title="Experts discussed \u201cpolitical transformation\u201d", categories=("Events", "Politics"),
        ),
        FeedEntry(
            # resolved against the document's xml:base, as Atom requires
            url="https://kisi.kz/en/seminar/", post_id=None,
            published="2024-03-01T03:30:15+00:00", modified="2024-03-02T06:00:00+00:00",
            title="Relative link, offset dates", categories=(),
        ),
        FeedEntry(
            url="https://kisi.kz/en/xhtml/", post_id=2301, published=None, modified=None,
            title="An xhtml title", categories=(),
        ),
    ]


# /en/feed/rdf/ (RSS 1.0), which WordPress still serves.
RDF_FEED = b"""<?xml version="1.0" encoding="UTF-8"?><rdf:RDF
	xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
	xmlns="http://purl.org/rss/1.0/"
	xmlns:dc="http://purl.org/dc/elements/1.1/"
	xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel rdf:about="https://kisi.kz/en/feed/rdf/"><title>KISI</title><link>https://kisi.kz/en</link></channel>
<item rdf:about="https://kisi.kz/en/experts-discussed/">
	<title>Experts discussed</title>
	<link>https://kisi.kz/en/experts-discussed/</link>
	<dc:date>2024-03-05T10:00:00+00:00</dc:date>
	<dc:creator><![CDATA[editor]]></dc:creator>
	<dc:subject><![CDATA[Events]]></dc:subject>
	<content:encoded><![CDATA[<p>Full text</p>]]></content:encoded>
</item>
</rdf:RDF>
"""


def test_rdf_feed() -> None:
    assert parse_feed(RDF_FEED, "https://kisi.kz/en/feed/rdf/") == [
        FeedEntry("https://kisi.kz/en/experts-discussed/", None, "2024-03-05T10:00:00+00:00", None, "Experts discussed", ("Events",))
    ]


def test_empty_feed() -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Events</title></channel></rss>'
    assert parse_feed(body, EVENTS + "feed/") == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty body"),
        (b"   \n", "empty body"),
        (RSS_FEED[: len(RSS_FEED) // 2], "malformed XML"),
        (RSS_FEED.replace(b"</title>", b"", 1), "malformed XML"),
        (b"<rss><channel><item><title>A & B</title></item></channel></rss>", "malformed XML"),
        # what a feed URL answers when a security plugin or the CDN steps in
        (b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><p>Checking<br></body></html>", "malformed XML"),
        (b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>', "not a feed"),
        (b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"/>', "not a feed"),
        (b'<feed><entry/></feed>', "not a feed"),  # Atom without its namespace
        (b'<rss version="2.0"><item/></rss>', "no <channel>"),
        (b'{"code":"rest_no_route"}', "malformed XML"),
    ],
)
def test_malformed_feeds_raise(body: bytes, message: str) -> None:
    with pytest.raises(DiscoveryError, match=message) as info:
        parse_feed(body, "https://kisi.kz/en/feed/")
    assert "https://kisi.kz/en/feed/" in str(info.value)


def test_feed_does_not_expand_entities_or_fetch_dtds() -> None:
    body = b"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
    <rss version="2.0"><channel><item><title>&xxe;</title><link>https://kisi.kz/en/x/</link></item></channel></rss>"""
    [entry] = parse_feed(body, "https://kisi.kz/en/feed/")
    assert entry.url == "https://kisi.kz/en/x/"
    assert entry.title in (None, "&xxe;")  # left unexpanded, never the file's contents


# --------------------------------------------------------------------------- sitemaps

# /wp-sitemap.xml before WordPress 6.5 (no lastmod) and after (lastmod on some entries).
SITEMAP_INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet type="text/xsl" href="https://kisi.kz/wp-sitemap-index.xsl" ?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://kisi.kz/wp-sitemap-posts-post-1.xml</loc><lastmod>2024-03-06T08:12:45+00:00</lastmod></sitemap>
<sitemap><loc>https://kisi.kz/wp-sitemap-posts-post-2.xml</loc></sitemap>
<sitemap><loc>https://kisi.kz/wp-sitemap-posts-page-1.xml</loc></sitemap>
<sitemap><loc>https://kisi.kz/wp-sitemap-taxonomies-category-1.xml</loc></sitemap>
<sitemap><loc>https://kisi.kz/wp-sitemap-users-1.xml</loc></sitemap>
</sitemapindex>
"""

SITEMAP_URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet type="text/xsl" href="https://kisi.kz/wp-sitemap.xsl" ?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
<url><loc>https://kisi.kz/en/an-old-post/</loc></url>
<url><loc>https://kisi.kz/en/%d0%ba%d1%80%d1%83%d0%b3%d0%bb%d1%8b%d0%b9-%d1%81%d1%82%d0%be%d0%bb/</loc><lastmod>2024-03-04T12:30:00+00:00</lastmod></url>
<url>
  <loc>
    https://kisi.kz/en/experts-discussed/
  </loc>
  <lastmod>2024-03-06</lastmod>
  <changefreq>weekly</changefreq><priority>0.6</priority>
  <image:image><image:loc>https://kisi.kz/wp-content/uploads/a.jpg</image:loc></image:image>
</url>
<url><lastmod>2024-01-01T00:00:00Z</lastmod></url>
<url><loc>https://kisi.kz/en/odd-lastmod/</loc><lastmod>sometime</lastmod></url>
</urlset>
"""


def test_sitemap_index() -> None:
    assert parse_sitemap(SITEMAP_INDEX, "https://kisi.kz/wp-sitemap.xml") == Sitemap(
        is_index=True,
        entries=(
            SitemapEntry("https://kisi.kz/wp-sitemap-posts-post-1.xml", "2024-03-06T08:12:45+00:00"),
            SitemapEntry("https://kisi.kz/wp-sitemap-posts-post-2.xml", None),
            SitemapEntry("https://kisi.kz/wp-sitemap-posts-page-1.xml", None),
            SitemapEntry("https://kisi.kz/wp-sitemap-taxonomies-category-1.xml", None),
            SitemapEntry("https://kisi.kz/wp-sitemap-users-1.xml", None),
        ),
    )


def test_sitemap_urlset() -> None:
    assert parse_sitemap(SITEMAP_URLSET, "https://kisi.kz/wp-sitemap-posts-post-1.xml") == Sitemap(
        is_index=False,
        entries=(
            SitemapEntry("https://kisi.kz/en/an-old-post/", None),
            SitemapEntry(
                "https://kisi.kz/en/%d0%ba%d1%80%d1%83%d0%b3%d0%bb%d1%8b%d0%b9-%d1%81%d1%82%d0%be%d0%bb/",
                "2024-03-04T12:30:00+00:00",
            ),
            SitemapEntry("https://kisi.kz/en/experts-discussed/", "2024-03-06T00:00:00+00:00"),
            SitemapEntry("https://kisi.kz/en/odd-lastmod/", None),
        ),
    )


def test_gzipped_sitemap_and_one_without_namespace() -> None:
    assert parse_sitemap(gzip.compress(SITEMAP_URLSET), "https://kisi.kz/sitemap.xml.gz") == parse_sitemap(
        SITEMAP_URLSET, "https://kisi.kz/sitemap.xml.gz"
    )
    bare = b"<urlset><url><loc>https://kisi.kz/en/a/</loc></url></urlset>"
    assert parse_sitemap(bare, "https://kisi.kz/sitemap.xml") == Sitemap(False, (SitemapEntry("https://kisi.kz/en/a/", None),))


def test_empty_urlset() -> None:
    body = b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>'
    assert parse_sitemap(body, "https://kisi.kz/wp-sitemap-posts-post-3.xml") == Sitemap(False, ())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty body"),
        (SITEMAP_URLSET[:300], "malformed XML"),
        (b"<urlset><url><loc>https://kisi.kz/a</url></urlset>", "malformed XML"),
        (b"\x1f\x8b\x08\x00garbage", "broken gzip"),
        (b"<!doctype html><html><body><h1>404 Not Found</h1></body></html>", "malformed XML"),
        (RSS_FEED, "not a sitemap: its root element is <rss>"),
        (b'<?xml version="1.0"?><html><body/></html>', "not a sitemap"),
    ],
)
def test_malformed_sitemaps_raise(body: bytes, message: str) -> None:
    with pytest.raises(DiscoveryError, match=message):
        parse_sitemap(body, "https://kisi.kz/wp-sitemap.xml")


# --------------------------------------------------------------------------- REST API

# /wp-json/wp/v2/posts?categories=3&per_page=100, trimmed of the fields nobody reads.
REST_POSTS = json.dumps([
    {
        "id": 2368,
        "date": "2024-03-05T16:00:00",
        "date_gmt": "2024-03-05T10:00:00",
        "guid": {"rendered": "https://kisi.kz/?p=2368"},
        "modified": "2024-03-06T14:12:45",
        "modified_gmt": "2024-03-06T08:12:45",
        "slug": "experts-discussed-the-process-of-political-transformation-in-kazakhstan",
        "status": "publish",
        "type": "post",
        "link": "https://kisi.kz/en/experts-discussed-the-process-of-political-transformation-in-kazakhstan/",
        "title": {"rendered": "Experts discussed &#8220;political transformation&#8221; in Kazakhstan"},
        "content": {"rendered": "<p>On 5 March KISI held a round table&#8230;</p>\n", "protected": False},
        "excerpt": {"rendered": "<p>On 5 March&#8230;</p>\n", "protected": False},
        "author": 2,
        "featured_media": 2369,
        "categories": [3, 17],
        "tags": [41],
        "lang": "en",
        "translations": {"ru": 2350, "en": 2368},
        "_links": {"self": [{"href": "https://kisi.kz/wp-json/wp/v2/posts/2368"}]},
    },
    {
        "id": 2360,
        "date_gmt": "2024-03-04T12:30:00",
        "modified_gmt": "2024-03-04T12:30:00",
        "slug": "%d0%ba%d1%80%d1%83%d0%b3%d0%bb%d1%8b%d0%b9-%d1%81%d1%82%d0%be%d0%bb",
        "link": "https://kisi.kz/ru/%d0%ba%d1%80%d1%83%d0%b3%d0%bb%d1%8b%d0%b9-%d1%81%d1%82%d0%be%d0%bb/",
        "title": {"rendered": "<em>Круглый</em> стол &laquo;Казахстан &amp; ЕАЭС&raquo;"},
        "categories": [5],
        "wpml_current_locale": "ru_RU",
    },
    {
        # a scheduled post seen by an authenticated client: no date_gmt yet
        "id": 2400, "date_gmt": None, "modified_gmt": "2024-03-07T00:00:00", "slug": "", "link": "https://kisi.kz/?p=2400",
        "title": {"rendered": ""}, "categories": [],
    },
], ensure_ascii=False).encode("utf-8")


def test_rest_posts() -> None:
    assert parse_rest_posts(REST_POSTS) == [
        RestPost(
            id=2368,
            url="https://kisi.kz/en/experts-discussed-the-process-of-political-transformation-in-kazakhstan/",
            slug="experts-discussed-the-process-of-political-transformation-in-kazakhstan",
            date_gmt="2024-03-05T10:00:00+00:00",
            modified_gmt="2024-03-06T08:12:45+00:00",
            categories=(3, 17),
            title="Experts discussed \u201cpolitical transformation\u201d in Kazakhstan",
            language="en",
        ),
        RestPost(
            id=2360,
            url="https://kisi.kz/ru/%d0%ba%d1%80%d1%83%d0%b3%d0%bb%d1%8b%d0%b9-%d1%81%d1%82%d0%be%d0%bb/",
            slug="%d0%ba%d1%80%d1%83%d0%b3%d0%bb%d1%8b%d0%b9-%d1%81%d1%82%d0%be%d0%bb",
            date_gmt="2024-03-04T12:30:00+00:00",
            modified_gmt="2024-03-04T12:30:00+00:00",
            categories=(5,),
            title="Круглый стол \u00abКазахстан & ЕАЭС\u00bb",
            language="ru",
        ),
        RestPost(
            id=2400, url="https://kisi.kz/?p=2400", slug="", date_gmt=None,
            modified_gmt="2024-03-07T00:00:00+00:00", categories=(), title=None, language=None,
        ),
    ]


def test_rest_posts_narrowed_with_fields_and_an_empty_page() -> None:
    body = b'[{"id": 5, "link": "https://kisi.kz/en/five/"}]'
    assert parse_rest_posts(body) == [RestPost(5, "https://kisi.kz/en/five/", "", None, None, (), None, None)]
    assert parse_rest_posts(b"[]") == []
    assert parse_rest_posts(b'\xef\xbb\xbf[{"id": 6, "link": "https://kisi.kz/en/six/"}]')[0].id == 6  # UTF-8 BOM


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "not JSON"),
        (b"<!DOCTYPE html><html><body>Forbidden</body></html>", "not JSON"),
        (REST_POSTS[:-40], "not JSON"),
        (b'{"code":"rest_forbidden","message":"Sorry, you are not allowed to do that.","data":{"status":401}}',
         "rest_forbidden.*401"),
        (b'{"code":"rest_post_invalid_page_number","message":"The page number requested is larger than the number of pages available.","data":{"status":400}}',
         "rest_post_invalid_page_number"),
        (b'{"posts": []}', "expected a JSON array, got an object"),
        (b'"posts"', "expected a JSON array, got str"),
        (b"[1, 2]", r"posts\[0\]: expected an object"),
        (b'[{"link": "https://kisi.kz/a/"}]', "'id' must be a positive integer"),
        (b'[{"id": "5", "link": "https://kisi.kz/a/"}]', "'id' must be a positive integer"),
        (b'[{"id": true, "link": "https://kisi.kz/a/"}]', "'id' must be a positive integer"),
        (b'[{"id": 5}]', r"\(id 5\): 'link'"),
        (b'[{"id": 5, "link": ""}]', r"\(id 5\): 'link'"),
        (b'[{"id": 5, "link": "https://kisi.kz/a/", "categories": ["3"]}]', "'categories' must be a list of integers"),
        (b'[{"id": 5, "link": "https://kisi.kz/a/", "categories": 3}]', "'categories' must be a list of integers"),
    ],
)
def test_bad_rest_posts_raise(body: bytes, message: str) -> None:
    with pytest.raises(DiscoveryError, match=message):
        parse_rest_posts(body)


# /wp-json/wp/v2/categories?slug=events
REST_CATEGORIES = json.dumps([
    {"id": 3, "count": 152, "description": "", "link": "https://kisi.kz/en/category/events/", "name": "Events",
     "slug": "events", "taxonomy": "category", "parent": 0, "meta": [], "lang": "en"},
]).encode()


@pytest.mark.parametrize(
    ("body", "slug", "expected"),
    [
        (REST_CATEGORIES, "events", 3),
        (REST_CATEGORIES, "Events", 3),
        (REST_CATEGORIES, "/events/", 3),
        (REST_CATEGORIES, "news", None),
        (b"[]", "events", None),
        (b'[{"id": 9, "slug": "%d1%81%d0%be%d0%b1%d1%8b%d1%82%d0%b8%d1%8f"}]', "события", 9),
        (b'[{"id": 9, "slug": "%d1%81%d0%be%d0%b1%d1%8b%d1%82%d0%b8%d1%8f"}]', "%D1%81%D0%BE%D0%B1%D1%8B%D1%82%D0%B8%D1%8F", 9),
        # the API matched several (e.g. a plugin ignoring ?slug=): the exact slug is picked
        (b'[{"id": 4, "slug": "events-archive"}, {"id": 3, "slug": "events"}, {"id": 8, "slug": "events"}]', "events", 3),
    ],
)
def test_rest_category_id(body: bytes, slug: str, expected: int | None) -> None:
    assert parse_rest_category_id(body, slug) == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not JSON"),
        (b'{"code":"rest_forbidden","message":"Sorry","data":{"status":403}}', "rest_forbidden"),
        (b'{"id": 3, "slug": "events"}', "expected a JSON array"),
        (b'[["events", 3]]', "expected an object"),
        (b'[{"slug": "events"}]', "'id' must be a positive integer"),
    ],
)
def test_bad_rest_categories_raise(body: bytes, message: str) -> None:
    with pytest.raises(DiscoveryError, match=message):
        parse_rest_category_id(body, "events")


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Tue, 05 Mar 2024 10:00:00 +0000", "2024-03-05T10:00:00+00:00"),
        ("Tue, 05 Mar 2024 10:00:00 GMT", "2024-03-05T10:00:00+00:00"),
        ("Tue, 05 Mar 2024 10:00:00 -0000", "2024-03-05T10:00:00+00:00"),
        ("Tue, 05 Mar 2024 16:00:00 +0600", "2024-03-05T10:00:00+00:00"),
        ("05 Mar 2024 10:00:00 +0000", "2024-03-05T10:00:00+00:00"),
        ("Tue, 5 Mar 24 10:00 EST", "2024-03-05T15:00:00+00:00"),
        ("2024-03-05T10:00:00", "2024-03-05T10:00:00+00:00"),  # REST date_gmt: no zone, UTC
        ("2024-03-05T10:00:00Z", "2024-03-05T10:00:00+00:00"),
        ("2024-03-05T16:00:00+06:00", "2024-03-05T10:00:00+00:00"),
        ("2024-03-05T10:00:00.123456+00:00", "2024-03-05T10:00:00+00:00"),
        ("2024-03-05 10:00:00", "2024-03-05T10:00:00+00:00"),
        ("2024-03-05T16:00+06:00", "2024-03-05T10:00:00+00:00"),
        ("2024-03-05", "2024-03-05T00:00:00+00:00"),
        ("  2024-03-05T10:00:00Z\n", "2024-03-05T10:00:00+00:00"),
        ("2024-01-01T02:00:00+06:00", "2023-12-31T20:00:00+00:00"),
        ("", None),
        ("   ", None),
        (None, None),
        ("yesterday", None),
        ("2024-13-45T10:00:00", None),
        ("Tue, 32 Mar 2024 10:00:00 +0000", None),
        ("9999-12-31T23:59:59-01:00", None),
    ],
)
def test_to_utc_iso(value: str | None, expected: str | None) -> None:
    assert to_utc_iso(value) == expected


# --------------------------------------------------------------------------- URL builders


@pytest.mark.parametrize(
    ("base", "slug", "page", "expected"),
    [
        ("https://kisi.kz", "events", 1, "https://kisi.kz/category/events/"),
        ("https://kisi.kz/", "events", 1, "https://kisi.kz/category/events/"),
        ("https://kisi.kz/en", "events", 1, "https://kisi.kz/en/category/events/"),
        ("https://kisi.kz/en/", "events", 2, "https://kisi.kz/en/category/events/page/2/"),
        ("https://kisi.kz/en/", "/events/", 10, "https://kisi.kz/en/category/events/page/10/"),
        ("http://127.0.0.1:8000", "events", 3, "http://127.0.0.1:8000/category/events/page/3/"),
        ("https://kisi.kz/ru/", "события", 1,
         "https://kisi.kz/ru/category/%D1%81%D0%BE%D0%B1%D1%8B%D1%82%D0%B8%D1%8F/"),
        ("https://kisi.kz/ru/", "%d1%81%d0%be%d0%b1%d1%8b%d1%82%d0%b8%d1%8f", 1,
         "https://kisi.kz/ru/category/%d1%81%d0%be%d0%b1%d1%8b%d1%82%d0%b8%d1%8f/"),
        ("https://kisi.kz/", "analytics/events", 2, "https://kisi.kz/category/analytics/events/page/2/"),
    ],
)
def test_category_listing_url(base: str, slug: str, page: int, expected: str) -> None:
    assert category_listing_url(base, slug, page) == expected


def test_category_feed_url_and_custom_category_base() -> None:
    assert category_feed_url("https://kisi.kz/en/", "events") == "https://kisi.kz/en/category/events/feed/"
    assert category_feed_url("https://kisi.kz", "events", category_base="topics") == "https://kisi.kz/topics/events/feed/"
    assert category_listing_url("https://kisi.kz", "events", 2, category_base="/rubric/") == "https://kisi.kz/rubric/events/page/2/"


@pytest.mark.parametrize(
    ("base", "slug", "page"),
    [
        ("https://kisi.kz", "events", 0),
        ("https://kisi.kz", "events", -1),
        ("https://kisi.kz", "events", True),
        ("https://kisi.kz", "events", 1.5),
        ("https://kisi.kz", "", 1),
        ("https://kisi.kz", " / ", 1),
        ("kisi.kz", "events", 1),
        ("/en/", "events", 1),
        ("ftp://kisi.kz", "events", 1),
        ("https://kisi.kz/?lang=en", "events", 1),
    ],
)
def test_category_listing_url_rejects_bad_arguments(base: str, slug: str, page: int) -> None:
    with pytest.raises(ValueError):
        category_listing_url(base, slug, page)


# --------------------------------------------------------------------------- post candidates


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # posts
        ("https://kisi.kz/en/experts-discussed-the-process-of-political-transformation-in-kazakhstan/", True),
        ("http://kisi.kz/en/experts-discussed/", True),  # scheme does not matter
        ("https://www.kisi.kz/en/experts-discussed/", True),
        ("https://kisi.kz/en/%d0%ba%d1%80%d1%83%d0%b3%d0%bb%d1%8b%d0%b9-%d1%81%d1%82%d0%be%d0%bb/", True),
        ("https://kisi.kz/ru/круглый-стол/", True),
        ("https://kisi.kz/?p=2368", True),
        ("https://kisi.kz/en/?p=2368", True),
        ("https://kisi.kz/index.php?p=2368", True),
        ("https://kisi.kz/?page_id=12", True),
        ("https://kisi.kz/en/2024/03/05/round-table/", True),  # date-based permalink
        ("https://kisi.kz/en/2368/", True),  # %post_id% permalink: not a year
        ("https://kisi.kz/index.php/en/events/2021-year/8030-round-table", True),  # old Joomla URL
        ("https://kisi.kz/en/experts-discussed/#more-2368", True),
        ("https://kisi.kz/en/experts-discussed/?lang=en", True),
        ("https://kisi.kz/ai/", True),  # a two-letter slug that is no language prefix
        ("https://kisi.kz/en/wp-6-4-released/", True),
        ("https://kisi.kz/en/page/", True),  # a page whose slug is "page"
        ("/en/relative-post/", True),
        # other sites
        ("https://example.org/en/experts-discussed/", False),
        ("https://kisi.kz.example.org/en/post/", False),
        ("https://cdn.kisi.kz/en/post/", False),
        ("https://kisi.kz:8080/en/post/", False),
        ("mailto:info@kisi.kz", False),
        ("javascript:void(0)", False),
        ("tel:+77172000000", False),
        ("http://[broken/", False),
        # WordPress machinery
        ("https://kisi.kz/wp-admin/post.php?post=2368&action=edit", False),
        ("https://kisi.kz/wp-login.php?action=lostpassword", False),
        ("https://kisi.kz/wp-json/wp/v2/posts/2368", False),
        ("https://kisi.kz/wp-sitemap.xml", False),
        ("https://kisi.kz/xmlrpc.php", False),
        ("https://kisi.kz/wp-includes/js/jquery.js", False),
        # feeds
        ("https://kisi.kz/en/feed/", False),
        ("https://kisi.kz/en/feed/atom/", False),
        ("https://kisi.kz/en/category/events/feed/", False),
        ("https://kisi.kz/en/experts-discussed/feed/", False),
        ("https://kisi.kz/?feed=rss2", False),
        # archives
        ("https://kisi.kz/en/category/events/", False),
        ("https://kisi.kz/en/category/events/page/2/", False),
        ("https://kisi.kz/en/tag/politics/", False),
        ("https://kisi.kz/en/author/editor/", False),
        ("https://kisi.kz/en/page/2/", False),
        ("https://kisi.kz/page/2/", False),
        ("https://kisi.kz/2024/", False),
        ("https://kisi.kz/2024/03/", False),
        ("https://kisi.kz/en/2024/03/", False),
        ("https://kisi.kz/en/2024/03/05/", False),
        ("https://kisi.kz/2024/03/page/2/", False),
        ("https://kisi.kz/?s=transformation", False),
        ("https://kisi.kz/?cat=3", False),
        ("https://kisi.kz/?m=202403", False),
        ("https://kisi.kz/", False),
        ("https://kisi.kz", False),
        ("https://kisi.kz/en/", False),
        ("https://kisi.kz/kk/", False),
        # attachments, uploads, comments
        ("https://kisi.kz/?attachment_id=2369", False),
        ("https://kisi.kz/en/experts-discussed/attachment/round-table/", False),
        ("https://kisi.kz/en/experts-discussed/round-table-2/attachment/", False),
        ("https://kisi.kz/wp-content/uploads/2024/03/round-table.jpg", False),
        ("https://kisi.kz/wp-content/uploads/2024/03/programme.pdf", False),
        ("https://kisi.kz/files/report.PDF", False),
        ("https://kisi.kz/en/experts-discussed/?replytocom=15#respond", False),
        ("https://kisi.kz/en/experts-discussed/#comments", False),
        ("https://kisi.kz/en/experts-discussed/#respond", False),
        ("https://kisi.kz/en/experts-discussed/#comment-15", False),
        ("https://kisi.kz/en/experts-discussed/embed/", False),
        ("https://kisi.kz/en/experts-discussed/trackback/", False),
    ],
)
def test_is_post_candidate(url: str, expected: bool) -> None:
    assert is_post_candidate(url, SITE) is expected


def test_is_post_candidate_compares_host_and_port_without_scheme() -> None:
    assert is_post_candidate("http://127.0.0.1:8000/en/post/", "http://127.0.0.1:8000/")
    assert is_post_candidate("https://127.0.0.1:8000/en/post/", "http://127.0.0.1:8000")
    assert not is_post_candidate("http://127.0.0.1:8001/en/post/", "http://127.0.0.1:8000/")
    assert is_post_candidate("http://kisi.kz:80/en/post/", "https://kisi.kz:443/")
    # the site root may be a language root: its own home is not a post
    assert not is_post_candidate("https://kisi.kz/qq/", "https://kisi.kz/qq/")


# --------------------------------------------------------------------------- boundaries


def test_discovery_does_not_import_scrapy() -> None:
    tree = ast.parse(Path(crawler.discovery.__file__).read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not {name for name in imported if name.split(".")[0] in {"scrapy", "twisted"}}


def test_records_are_frozen() -> None:
    entry = SitemapEntry("https://kisi.kz/", None)
    with pytest.raises(AttributeError):
        entry.url = "https://example.org/"  # type: ignore[misc]


def test_a_gzip_sitemap_is_inflated_up_to_the_limit_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import gzip as gz

    from crawler import discovery

    monkeypatch.setattr(discovery, "_MAX_XML_BYTES", 3 << 20)
    body = b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    bomb = gz.compress(body + b" " * (8 << 20) + b"</urlset>")
    with pytest.raises(discovery.DiscoveryError, match="MiB once unzipped"):
        discovery.parse_sitemap(bomb, "https://kisi.kz/post-sitemap.xml.gz")
    small = gz.compress(body + b"<url><loc>https://kisi.kz/a/</loc></url></urlset>")
    assert len(discovery.parse_sitemap(small, "https://kisi.kz/post-sitemap.xml.gz").entries) == 1
