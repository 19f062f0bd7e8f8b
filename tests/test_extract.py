"""What a page says, and why per-request noise never changes its fingerprint."""

import pytest
from scrapy.http import HtmlResponse

from wwc_archive.archive.formats.fingerprint import content_fingerprint
from wwc_archive.crawler.extract import extract_page
from wwc_archive.config import SiteProfile

URL = "https://datasmart.hks.harvard.edu/news/article/open-data-in-tulsa-1234"

ARTICLE = """<!DOCTYPE html>
<html lang="en" dir="ltr"><head>
<meta charset="utf-8"><meta name="csrf-token" content="{csrf}">
<title>Open data in Tulsa | Data-Smart City Solutions</title>
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2026-11-01T12:00:00Z">
<link rel="stylesheet" href="/sites/default/files/css/css_abc.css?v={buster}">
<script src="/core/misc/drupal.js?t={buster}"></script>
</head><body>
<header><nav><a href="/about">About</a></nav></header>
<main role="main">{generated}
<div class="view js-view-dom-id-{viewid}">
<article class="node node--type-article node--view-mode-full">
<h1 class="page-title"><span class="field field--name-title">{title}</span></h1>
<div class="field field--name-field-author"><a href="/people/jane-doe">Jane Doe</a></div>
<img src="/sites/default/files/styles/wide/public/tulsa.jpg?itok={itok}" alt="Tulsa">
{wrap_open}<div class="clearfix text-formatted field field--name-body">
<p>Tulsa {verb} its open data portal in 2019.</p>
<p>Read <a href="/news/article/permits-in-tulsa-99?utm_source=newsletter&amp;t={buster}">the permits story</a>
and <a href="/sites/default/files/2026-11/report.pdf?v={buster}">the report</a>.</p>
</div>{wrap_close}
<form><input type="hidden" name="form_build_id" value="form-{csrf}"></form>
</article></div></main>
<footer>Page generated at {timestamp}</footer>
</body></html>"""

DEFAULTS = dict(csrf="aaa", buster="111", viewid="0f" * 32, itok="AbCd1234", generated="<!-- Generated on 2026-11-27T01:00:00Z -->",
                timestamp="2026-11-27 01:00:00", title="Open data in Tulsa", verb="launched", wrap_open="", wrap_close="")


def page(**overrides) -> str:
    return ARTICLE.format(**{**DEFAULTS, **overrides})


def fingerprint(html: str) -> str:
    return content_fingerprint(extract_page(html, URL, SiteProfile()).extracted)


NOISE = {
    "csrf meta token and form_build_id": dict(csrf="zzz-other-token"),
    "css and js cache busters": dict(buster="999"),
    "views dom id": dict(viewid="a1" * 32),
    "image itok token": dict(itok="ZyXw9876"),
    "generated-at comment": dict(generated="<!-- Generated on 2026-11-28T03:00:00Z in 0.12 seconds -->"),
    "footer timestamp": dict(timestamp="2026-11-28 03:00:01"),
    "extra wrapper div": dict(wrap_open='<div class="contextual-region">', wrap_close="</div>"),
}


@pytest.mark.parametrize("overrides", NOISE.values(), ids=NOISE.keys())
def test_noise_is_not_a_change(overrides):
    assert fingerprint(page(**overrides)) == fingerprint(page())


def test_whitespace_and_attribute_order_are_not_a_change():
    reshuffled = page().replace('<p>Tulsa', '\n\n   <p   >Tulsa').replace(
        'class="node node--type-article node--view-mode-full"',
        'data-history-node-id="12"   class="node node--type-article node--view-mode-full"')
    assert fingerprint(reshuffled) == fingerprint(page())


CHANGES = {
    "a word in the body": dict(verb="relaunched"),
    "the title": dict(title="Open data in Tulsa, five years on"),
}


@pytest.mark.parametrize("overrides", CHANGES.values(), ids=CHANGES.keys())
def test_content_edits_are_changes(overrides):
    assert fingerprint(page(**overrides)) != fingerprint(page())


def test_a_new_outgoing_link_is_a_change():
    linked = page().replace("the report</a>.</p>", 'the report</a>, <a href="/people/sam">Sam</a>.</p>')
    assert fingerprint(linked) != fingerprint(page())


def test_extracts_title_byline_text_and_links():
    content = extract_page(page(), URL, SiteProfile())
    extracted = content.extracted
    assert extracted.title == "Open data in Tulsa"
    assert extracted.author == "Jane Doe"
    assert extracted.published == "2026-11-01T12:00:00Z"
    assert "Tulsa launched its open data portal in 2019." in extracted.text
    assert "About" not in extracted.text and "Page generated" not in extracted.text
    assert extracted.links == (
        "https://datasmart.hks.harvard.edu/news/article/permits-in-tulsa-99",
        "https://datasmart.hks.harvard.edu/people/jane-doe",
        "https://datasmart.hks.harvard.edu/sites/default/files/2026-11/report.pdf",
    )


def test_load_more_pager_gives_the_next_page():
    html = """<html><body><main><div class="view-content"><article><a href="/a">A</a></article></div>
    <ul class="js-pager__items pager"><li class="pager__item">
    <a class="button" href="?page=2" title="Load more items" rel="next">Show more</a></li></ul></main></body></html>"""
    content = extract_page(html, "https://example.org/what-works-cities?page=1", SiteProfile())
    assert content.next_page == "https://example.org/what-works-cities?page=2"
    assert "Show more" not in content.extracted.text


def test_windows_1252_page_is_decoded():
    body = ('<html><head><meta charset="windows-1252"><title>Caf\u00e9</title></head><body><main>'
            '<h1>Caf\u00e9 data</h1><p>\u201cNa\u00efve\u201d budgets cost \u20ac5.</p></main></body></html>').encode("cp1252")
    response = HtmlResponse(URL, body=body, headers={"Content-Type": "text/html; charset=windows-1252"})
    extracted = extract_page(response.text, URL, SiteProfile()).extracted
    assert extracted.title == "Caf\u00e9 data"
    assert "\u201cNa\u00efve\u201d budgets cost \u20ac5." in extracted.text


def test_malformed_html_still_yields_text():
    html = ('<html><body><main><h1>Broken <b>page</h1><div><p>First para<span><p>inside span</span>'
            '</div></div><a href=/news/article/x-1 class=teaser>unquoted</a><p>last words')
    extracted = extract_page(html, URL, SiteProfile()).extracted
    assert "Broken" in extracted.title
    assert "inside span" in extracted.text and "last words" in extracted.text
    assert extracted.links == ("https://datasmart.hks.harvard.edu/news/article/x-1",)


def test_noise_rules_are_configurable():
    html = page().replace("<p>Tulsa", '<p class="updated">Updated 3 minutes ago</p><p>Tulsa')
    profile = SiteProfile.from_table({"extra_ignore_selectors": [".updated"]}, "noise")
    assert "Updated 3 minutes ago" in extract_page(html, URL, SiteProfile()).extracted.text
    assert "Updated 3 minutes ago" not in extract_page(html, URL, profile).extracted.text


REDESIGNED = """<html><head><title>Ignored | Site</title>
<meta name="byline" content="  Ana   Lima ">
</head><body>
<div class="masthead"><span class="headline">Tulsa opens its permits ~ City Desk</span></div>
<h1>Site name in a heading outside the story</h1>
<section id="story">
<p class="kicker">Sponsored</p>
<p>Tulsa published every permit since 2015.</p>
<p class="when" data-iso="2026-11-02">Nov 2</p>
<a class="keep" href="/news/permits-data">data</a> <a href="/elsewhere">elsewhere</a>
</section>
<div class="more"><a data-role="next" href="/stories?pg=2&amp;cb=123">More stories</a></div>
</body></html>"""

CUSTOM = {
    "content_selectors": ["#story"],
    "ignore_selectors": [".kicker"],
    "title_selectors": [],
    "page_title_selectors": [".masthead .headline"],
    "title_suffix_pattern": r"\s*~[^~]*$",
    "author_selectors": ['meta[name="byline"]@content'],
    "date_selectors": [".when@data-iso"],
    "next_page_selectors": ['.more a[data-role="next"]'],
    "link_selectors": ["a.keep"],
    "ignore_query_params": ["cb"],
}


def test_a_custom_profile_reads_a_redesigned_page():
    from wwc_archive.profile import SiteProfile

    content = extract_page(REDESIGNED, "https://example.org/stories", SiteProfile.from_table(CUSTOM))
    extracted = content.extracted
    assert extracted.title == "Tulsa opens its permits"
    assert extracted.author == "Ana Lima"
    assert extracted.published == "2026-11-02"
    assert "Sponsored" not in extracted.text and "Tulsa published every permit" in extracted.text
    assert content.links == ("https://example.org/news/permits-data",)
    assert content.next_page == "https://example.org/stories?pg=2"
    default = extract_page(REDESIGNED, "https://example.org/stories", SiteProfile()).extracted
    assert (default.title, default.author, default.published) == ("Site name in a heading outside the story", "", "")


def test_extra_lists_add_to_the_defaults():
    from wwc_archive.profile import SiteProfile

    profile = SiteProfile.from_table({"extra_ignore_selectors": [".updated"]})
    assert profile.ignore_selectors[:-1] == SiteProfile().ignore_selectors
    assert profile.ignore_selectors[-1] == ".updated"
