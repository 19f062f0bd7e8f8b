"""HTML rendering of the demo site's pages in Drupal 10 markup, plus per-request noise.

Noise never touches the text inside ``<main>``: it varies tokens, cache
busters, timestamps, attribute order and in-tag whitespace, inter-tag
whitespace outside ``<main>``, and text-free ``contextual-region`` wrappers.
"""

from __future__ import annotations

import base64
import datetime as dt
import random
from html import escape

from .content import Article, Person
from .display import PLAIN, Display

SITE_NAME = "Data-Smart City Solutions"
CSS_HREF = "/sites/default/files/css/css_hRz0K3sPqL7dW2vY9uXbN4eTmJ6aFcGi1oZsB8yHkUw.css"
JS_SRC = "/core/misc/drupal.js"
HUB_NID = 12
_WS = ("\n", "\n  ", "\n    ", " ", "", "\n\n", "\t")
_SEPS = (" ", "  ", "\n  ", " \n ")


class Noise:
    """Per-request random variation; with ``on=False`` every value is fixed."""

    __slots__ = ("on", "rng")

    def __init__(self, on: bool, rng: random.Random | None = None):
        self.on = on
        self.rng = rng or random.Random()

    def hex(self) -> str:
        """64 hex digits (a views DOM id)."""
        return format(self.rng.getrandbits(256), "064x") if self.on else "0" * 64

    def token(self, n: int = 43) -> str:
        """A base64url token like Drupal's CSRF tokens and form build ids."""
        if not self.on:
            return "x" * n
        raw = self.rng.getrandbits(n * 6).to_bytes((n * 6 + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).decode()[:n]

    def ws(self) -> str:
        """Whitespace between tags (only used outside ``<main>``)."""
        return self.rng.choice(_WS) if self.on else "\n"

    def attrs(self, *pairs: tuple[str, str | None]) -> str:
        """Render attributes (values pre-escaped), order and spacing varied."""
        sep = " "
        if self.on and len(pairs) > 1:
            r = self.rng.getrandbits(8)
            k = r % len(pairs)
            pairs = pairs[k:] + pairs[:k]
            if r & 64:
                pairs = pairs[::-1]
            sep = _SEPS[(r >> 4) & 3]
        return "".join(f"{sep}{k}" if v is None else f'{sep}{k}="{v}"' for k, v in pairs)

    def wrap(self, html: str) -> str:
        """Sometimes wrap a block in a text-free contextual-region div."""
        if self.on and self.rng.random() < 0.3:
            return f'<div class="contextual-region">{html}</div>'
        return html

    def stamp(self) -> tuple[str, str, str]:
        """(ISO timestamp, human timestamp, generation seconds)."""
        if not self.on:
            return "2026-11-27T00:00:00Z", "2026-11-27 00:00:00", "0.042"
        now = dt.datetime.now(dt.timezone.utc)
        secs = f"0.0{self.rng.randint(10, 99)}"
        return now.strftime("%Y-%m-%dT%H:%M:%SZ"), now.strftime("%Y-%m-%d %H:%M:%S.%f"), secs


def human_date(d: dt.date) -> str:
    return f"{d:%B} {d.day}, {d.year}"


def iso_noon(d: dt.date) -> str:
    return f"{d.isoformat()}T12:00:00Z"


# --- page shell -----------------------------------------------------------------

_NAV = (("/", "Home"), ("/what-works-cities", "What Works Cities"), ("/about", "About"),
        ("/search", "Search"))


def _settings_json(n: Noise, view_dom_id: str, current: str) -> str:
    return (
        '{"path":{"baseUrl":"\\/","pathPrefix":"","currentPath":"' + current + '",'
        '"currentPathIsAdmin":false,"isFront":false,"currentLanguage":"en"},'
        '"pluralDelimiter":"\\u0003","suppressDeprecationErrors":true,'
        '"ajaxPageState":{"libraries":"eJxLzs_VT0nNTSzJzM9TSM7PS8tMBwBBkAdO",'
        '"theme":"datasmart","theme_token":null},"ajaxTrustedUrl":{"\\/search":true},'
        '"views":{"ajax_path":"\\/views\\/ajax","ajaxViews":{"views_dom_id:' + view_dom_id + '":'
        '{"view_name":"articles","view_display_id":"block_wwc","view_args":"",'
        '"view_path":"\\/node\\/' + str(HUB_NID) + '","view_base_path":null,'
        '"view_dom_id":"' + view_dom_id + '","pager_element":0}}},'
        '"user":{"uid":0,"permissionsHash":"' + n.token(64) + '"}}')


def page(n: Noise, *, title: str, main: str, canonical: str, body_class: str,
         head: tuple[tuple[tuple[str, str | None], ...], ...] = (), sidebar: str = "",
         charset: str = "utf-8", shortlink: str | None = None,
         view_dom_id: str | None = None, current: str = "node") -> str:
    """Wrap a ``<main>`` fragment in the full Drupal page (head, header, footer)."""
    ws = n.ws
    view_dom_id = view_dom_id or n.hex()
    iso, human, secs = n.stamp()
    metas = [f'<meta charset="{charset}">',
             f'<meta{n.attrs(("name", "csrf-token"), ("content", n.token()))}>',
             '<meta name="Generator" content="Drupal 10 (https://www.drupal.org)">',
             '<meta name="MobileOptimized" content="width">',
             '<meta name="HandheldFriendly" content="true">',
             '<meta name="viewport" content="width=device-width, initial-scale=1.0">']
    metas += [f"<meta{n.attrs(*pairs)}>" for pairs in head]
    metas.append(f'<link{n.attrs(("rel", "canonical"), ("href", escape(canonical)))}>')
    if shortlink:
        metas.append(f'<link{n.attrs(("rel", "shortlink"), ("href", shortlink))}>')
    metas += [
        '<link rel="icon" href="/themes/custom/datasmart/favicon.ico" type="image/vnd.microsoft.icon">',
        f"<title>{escape(title)} | {SITE_NAME}</title>",
        f'<link{n.attrs(("rel", "stylesheet"), ("media", "all"), ("href", f"{CSS_HREF}?v={n.token(6)}"))}>',
        f'<script{n.attrs(("src", f"{JS_SRC}?t={n.token(6)}"))}></script>',
        '<script type="application/json" data-drupal-selector="drupal-settings-json">'
        + _settings_json(n, view_dom_id, current) + "</script>",
    ]
    nav = ws().join(
        f'<li class="menu-item"><a{n.attrs(("href", h), ("data-drupal-link-system-path", h.strip("/") or "<front>"))}>'
        f"{t}</a></li>" for h, t in _NAV)
    form = n.attrs(("action", "/search"), ("method", "get"), ("id", "search-block-form"),
                   ("accept-charset", "UTF-8"))
    header = ws().join([
        n.wrap('<div id="block-datasmart-branding" class="block block-system block-system-branding-block">'
               '<a href="/" rel="home" class="site-logo"><img src="/themes/custom/datasmart/logo.svg" alt="Home"></a>'
               f'<div class="site-name"><a href="/" rel="home">{SITE_NAME}</a></div></div>'),
        n.wrap('<nav role="navigation" aria-labelledby="block-datasmart-main-menu-menu" id="block-datasmart-main-menu">'
               '<h2 class="visually-hidden" id="block-datasmart-main-menu-menu">Main navigation</h2>'
               f'<ul class="menu">{nav}</ul></nav>'),
        n.wrap('<div class="search-block-form block block-search" id="block-datasmart-search" role="search">'
               f"<form{form}>"
               '<input type="search" id="edit-keys" name="keys" size="15" maxlength="128" '
               'class="form-search" title="Enter the terms you wish to search for.">'
               f'<input type="hidden" name="form_build_id" value="form-{n.token()}">'
               '<input type="hidden" name="form_id" value="search_block_form">'
               '<input type="submit" id="edit-submit" value="Search" class="button js-form-submit form-submit">'
               "</form></div>"),
    ])
    footer = ws().join([
        n.wrap('<div class="block block-menu"><ul class="menu"><li><a href="/about">About</a></li>'
               '<li><a href="/user/login">Log in</a></li></ul></div>'),
        "<p>&copy; 2026 President and Fellows of Harvard College</p>",
        f'<p class="page-generated">Page generated at {human}</p>',
    ])
    aside = f'<aside class="layout-sidebar-first" role="complementary">{sidebar}</aside>' if sidebar else ""
    return ws().join([
        "<!DOCTYPE html>",
        '<html lang="en" dir="ltr" prefix="og: https://ogp.me/ns#">',
        "<head>", ws().join(metas), "</head>",
        f'<body class="{body_class}">',
        '<a href="#main-content" class="visually-hidden focusable skip-link">Skip to main content</a>',
        '<div class="dialog-off-canvas-main-canvas" data-off-canvas-main-canvas>',
        '<div class="layout-container">',
        f'<header role="banner" class="site-header">{ws()}{header}{ws()}</header>',
        main, aside,
        f'<footer role="contentinfo" class="site-footer">{ws()}{footer}{ws()}</footer>',
        "</div>", "</div>",
        f"<!-- Generated on {iso} in {secs} seconds -->",
        "</body>", "</html>", "",
    ])


def main_region(n: Noise, *blocks: str) -> str:
    """The ``<main>`` element holding content blocks (fixed inter-tag whitespace)."""
    inner = "\n".join(n.wrap(b) for b in blocks)
    return ('<main role="main">\n<a id="main-content" tabindex="-1"></a>\n'
            '<div class="layout-content">\n<div data-drupal-messages-fallback class="hidden"></div>\n'
            f"{inner}\n</div>\n</main>")


def title_block(title: str) -> str:
    return ('<div id="block-datasmart-page-title" class="block block-core block-page-title-block">\n'
            f'<h1 class="page-title"><span class="field field--name-title">{escape(title)}</span></h1>\n</div>')


def simple_page(n: Noise, title: str, paragraphs: list[str], canonical: str,
                body_class: str = "path-node page-node-type-page", current: str = "node") -> str:
    """A basic page: title and paragraphs (paragraphs may contain markup)."""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    content = ('<div id="block-datasmart-content" class="block block-system block-system-main-block">\n'
               f'<div class="clearfix text-formatted field field--name-body">\n{body}\n</div>\n</div>')
    return page(n, title=title, main=main_region(n, title_block(title), content),
                canonical=canonical, body_class=body_class, current=current)


# --- articles -----------------------------------------------------------------------

def body_html(article: Article) -> str:
    """The article body paragraphs, with each link anchored on its first occurrence."""
    paras = [escape(p, quote=False) for p in article.paragraphs]
    for href, anchor in article.links:
        a = escape(anchor, quote=False)
        for i, p in enumerate(paras):
            if a in p:
                paras[i] = p.replace(a, f'<a href="{escape(href)}">{a}</a>', 1)
                break
    return "\n".join(f"<p>{p}</p>" for p in paras)


def image_src(article: Article, style: str) -> str:
    return (f"/sites/default/files/styles/{style}/public/"
            f"{article.published:%Y-%m}/img{article.image}.jpg?itok=\x00")


def teaser(article: Article, person: Person, path: str, display: Display = PLAIN,
           sticky: bool = False) -> str:
    """Teaser markup; each ``\\x00`` must be replaced by a fresh itok."""
    t = escape(article.title)
    return (
        f'<article data-history-node-id="{article.id}" role="article" about="{path}" '
        f'class="node node--type-article node--promoted{" node--sticky" if sticky else ""} '
        'node--view-mode-teaser">\n'
        f'<h3 class="node__title"><a href="{path}" rel="bookmark">{t}</a></h3>\n'
        f'<div class="node__meta"><span class="field field--name-field-date">'
        f'<time datetime="{iso_noon(article.published)}">{escape(display.date(article.published))}</time>'
        f'</span> | <span class="field field--name-field-author"><a href="/people/{person.slug}" '
        f'hreflang="en">{escape(person.name)}</a></span></div>\n'
        f'<div class="field field--name-field-image"><img loading="lazy" '
        f'src="{image_src(article, "teaser")}" width="360" height="240" alt="{t}" '
        'class="image-style-teaser"></div>\n'
        '<div class="clearfix text-formatted field field--name-body field--type-text-with-summary">'
        f"<p>{escape(article.summary, quote=False)}</p></div>\n</article>")


def article_main(n: Noise, article: Article, person: Person, body: str, path: str,
                 extra: str = "", display: Display = PLAIN, stats: str = "") -> str:
    """The ``<main>`` region of a full article (``extra`` goes after the body, inside
    the node; ``stats`` closes the byline)."""
    node_attrs = n.attrs(("data-history-node-id", str(article.id)), ("role", "article"), ("about", path),
                         ("class", "node node--type-article node--promoted node--view-mode-full"))
    img_attrs = n.attrs(("src", image_src(article, "wide").replace("\x00", n.token(8))), ("width", "1200"),
                        ("height", "600"), ("alt", escape(article.title)), ("loading", "lazy"))
    node = (
        f"<article{node_attrs}>\n"
        f'<h1 class="page-title"><span class="field field--name-title field--type-string">'
        f"{escape(article.title)}</span></h1>\n"
        '<div class="node__meta">\n'
        '<div class="field field--name-field-author field--type-entity-reference field--label-inline">'
        '<div class="field__label">By</div><div class="field__item">'
        f'<a{n.attrs(("href", f"/people/{person.slug}"), ("hreflang", "en"))}>{escape(person.name)}</a></div></div>\n'
        '<div class="field field--name-field-date field--type-datetime">'
        f'<time datetime="{iso_noon(article.published)}">{escape(display.date(article.published))}</time></div>\n'
        f"{stats}</div>\n"
        f'<div class="field field--name-field-image"><img{img_attrs}></div>\n'
        '<div class="clearfix text-formatted field field--name-body field--type-text-with-summary field__item">\n'
        f"{body}\n</div>{extra}\n</article>")
    block = ('<div id="block-datasmart-content" class="block block-system block-system-main-block">\n'
             f"{node}\n</div>")
    return main_region(n, block)


def stats_line(views: int, comments: int, shares: int) -> str:
    """The byline's counters (``node__stats``), one line."""
    def count(k: int, noun: str) -> str:
        return f"{k:,} {noun}{'' if k == 1 else 's'}"
    return ('<div class="node__stats">'
            f'<span class="statistics-counter">{count(views, "view")}</span> · '
            f'<span class="comment-count">{count(comments, "comment")}</span> · '
            f'<span class="share-count">{count(shares, "share")}</span></div>\n')


#: style -> ((wrapper open, heading), ...) for the "most read" then the "related" block
_WIDGETS = {
    "drupal": (
        ('<div class="views-element-container block block-views block-views-blockmost-read-block-1">'
         "<h2>Most read</h2>"
         '<div class="view view-most-read view-id-most_read view-display-id-block_1 js-view-dom-id-{dom}">'
         '<div class="item-list">', "</div></div></div>"),
        ('<div class="views-element-container block block-views block-views-blockrelated-articles-block-1">'
         "<h2>Related articles</h2>"
         '<div class="view view-related-articles view-id-related_articles view-display-id-block_1 '
         'js-view-dom-id-{dom}"><div class="item-list">', "</div></div></div>"),
    ),
    "plain": (
        ('<div class="box box-a"><h3>Readers also viewed</h3>', "</div>"),
        ('<div class="box box-b"><h3>You might also like</h3>', "</div>"),
    ),
}
WIDGET_STYLES = tuple(_WIDGETS)


def widget_blocks(n: Noise, style: str, most_read: list[tuple[str, str]],
                  related: list[tuple[str, str]]) -> str:
    """The "Most read" and "Related articles" blocks, (path, title) pairs each, in
    Drupal views markup (``style="drupal"``) or in boxes whose classes say nothing."""
    html = []
    for (head, tail), items in zip(_WIDGETS[style], (most_read, related)):
        li = "".join(f'<li><a href="{escape(p)}">{escape(t)}</a></li>' for p, t in items)
        html.append(f"\n{head.format(dom=n.hex())}<ul>{li}</ul>{tail}")
    return "".join(html)


def article_head(article: Article, person: Person, canonical: str) -> tuple:
    """Metatag pairs for an article's ``<head>``."""
    e = escape
    return (
        (("name", "description"), ("content", e(article.summary))),
        (("name", "author"), ("content", e(person.name))),
        (("property", "og:site_name"), ("content", SITE_NAME)),
        (("property", "og:type"), ("content", "article")),
        (("property", "og:url"), ("content", e(canonical))),
        (("property", "og:title"), ("content", e(article.title))),
        (("property", "article:published_time"), ("content", f"{article.published.isoformat()}T12:00:00+00:00")),
        (("property", "article:modified_time"), ("content", article.modified.isoformat())),
    )


def sidebar(n: Noise, latest: list[tuple[str, str]], view_dom_id: str) -> str:
    """'More from What Works Cities' view block: (path, title) pairs."""
    items = "".join(f'<li><a href="{p}" hreflang="en">{escape(t)}</a></li>' for p, t in latest)
    return n.wrap(
        '<div class="views-element-container block" id="block-views-block-articles-block-latest">'
        "<h2>More from What Works Cities</h2>"
        f'<div class="view view-articles view-display-id-block_latest js-view-dom-id-{view_dom_id}">'
        f'<div class="item-list"><ul>{items}</ul></div></div></div>')


# --- hub, people, misc --------------------------------------------------------------

HUB_TITLE = "What Works Cities"
HUB_INTRO = [
    "What Works Cities, launched by Bloomberg Philanthropies in 2015, helps local "
    "governments across the United States use data and evidence to make better decisions, "
    "engage residents, and improve lives.",
    "Data-Smart City Solutions chronicles how certified cities build the habits and "
    "infrastructure behind that work: open data, performance management, evaluations, "
    "and results-driven contracting.",
]


def hub_main(n: Noise, teasers: list[str], page_no: int, has_next: bool,
             extra_links: list[str], view_dom_id: str) -> str:
    """The hub's ``<main>``: intro, extra links, teaser view and load-more pager."""
    intro = "\n".join(f"<p>{escape(p, quote=False)}</p>" for p in HUB_INTRO)
    links = ""
    if extra_links:
        items = "\n".join(f'<li><a href="{escape(u)}">Partner resource {i}</a></li>'
                          for i, u in enumerate(extra_links, 1))
        links = (f'\n<div class="field field--name-field-related-links">\n<h2>Partner resources</h2>\n'
                 f"<ul>\n{items}\n</ul>\n</div>")
    content = ('<div id="block-datasmart-content" class="block block-system block-system-main-block">\n'
               f'<article data-history-node-id="{HUB_NID}" role="article" '
               'class="node node--type-landing-page node--view-mode-full">\n'
               f'<div class="clearfix text-formatted field field--name-body">\n{intro}\n</div>{links}\n'
               "</article>\n</div>")
    rows = "\n".join(f'<div class="views-row">{t}</div>' for t in teasers) or \
        '<div class="view-empty">No articles found.</div>'
    pager = ""
    if has_next:
        more = n.attrs(("class", "button"), ("href", f"?page={page_no + 1}"),
                       ("title", "Load more items"), ("rel", "next"))
        pager = ('\n<ul class="js-pager__items pager" data-drupal-views-infinite-scroll-pager>\n'
                 f'<li class="pager__item"><a{more}>Show more</a></li>\n</ul>')
    view = ('<div class="views-element-container block" id="block-views-block-articles-block-wwc">\n'
            "<h2>Latest from What Works Cities</h2>\n"
            f'<div class="view view-articles view-id-articles view-display-id-block_wwc js-view-dom-id-{view_dom_id}">\n'
            f'<div class="view-content">\n{rows}\n</div>{pager}\n</div>\n</div>')
    return main_region(n, title_block(HUB_TITLE), content, view)


def person_main(n: Noise, person: Person, articles: list[tuple[str, str, str]]) -> str:
    """A person's profile: role, bio and (path, title, date) of their articles."""
    items = "\n".join(f'<li><a href="{p}" hreflang="en">{escape(t)}</a> <span class="date">{escape(d)}</span></li>'
                      for p, t, d in articles) or "<li>No articles yet.</li>"
    content = ('<div id="block-datasmart-content" class="block block-system block-system-main-block">\n'
               '<article role="article" class="node node--type-person node--view-mode-full">\n'
               f'<div class="field field--name-field-job-title">{escape(person.role)}</div>\n'
               f'<div class="clearfix text-formatted field field--name-body"><p>{escape(person.bio, quote=False)}</p></div>\n'
               f"<h2>Articles by {escape(person.name)}</h2>\n<ul class=\"person-articles\">\n{items}\n</ul>\n"
               "</article>\n</div>")
    return main_region(n, title_block(person.name), content)


def malformed_page(n: Noise, article: Article, person: Person, canonical: str,
                   display: Display = PLAIN) -> str:
    """A legacy page with broken markup whose text lxml can still read."""
    p = [escape(x, quote=False) for x in article.paragraphs] + [""] * 4
    rest = "\n".join(f"<p>{x}" for x in p[4:] if x)
    return (
        "<!DOCTYPE html>\n<html lang=en dir=ltr>\n<head>\n<meta charset=utf-8>\n"
        f'<meta name="csrf-token" content="{n.token()}">\n'
        f"<title>{escape(article.title)} | {SITE_NAME}</title>\n"
        f"<meta name=author content=\"{escape(person.name)}\">\n"
        f'<link rel="canonical" href="{escape(canonical)}">\n'
        f'<link rel="stylesheet" href="{CSS_HREF}?v={n.token(6)}">\n'
        f'<script src="{JS_SRC}?t={n.token(6)}"></script>\n'
        "</head>\n<body class=path-node>\n"
        '<header role="banner"><a href="/" rel=home>Data-Smart City Solutions</a>'
        '<nav><a href="/what-works-cities">What Works Cities</a> <a href=/about>About</a></nav>\n'
        "<main role=main>\n"
        "<article class=\"node node--type-article node--view-mode-full\">\n"
        f'<h1 class="page-title"><span class="field field--name-title">{escape(article.title)}</span></h1>\n'
        f'<div class="field field--name-field-author">By <a href=/people/{person.slug}>{escape(person.name)}</a>\n'
        f'<div class="field field--name-field-date"><time datetime="{iso_noon(article.published)}">'
        f"{escape(display.date(article.published))}</time></div>\n"
        '<div class="clearfix text-formatted field field--name-body">\n'
        f"<span class=lead><p>{p[0]}</span>\n"
        f"<p><b>{p[1]}<i></b></i>\n"
        f"<p>{p[2]}\n</div></div></div></div>\n"
        f"<p>{p[3]}\n{rest}\n"
        "</article>\n</main>\n"
        f"<footer><p>&copy; 2026 President and Fellows of Harvard College<p>Page generated at {n.stamp()[1]}\n")
