"""What a page says: title, author, date, main text and links, with the noise removed.

Pure functions over a parsel ``Selector`` (Scrapy's ``response.selector``), so
the page is parsed once and the extraction is tested on plain HTML strings.
Text comes from html-text, which renders an lxml tree roughly as a browser
would lay it out; the noise rules decide what is removed first.
"""

import re
from dataclasses import dataclass

import html_text
from parsel import Selector

from archive.records import Extracted
from crawler.urls import normalize_url
from wwc_archive.config import NoiseRules

TITLE_SUFFIX = re.compile(r"\s+[|–-]\s+[^|–-]+$")


@dataclass(frozen=True)
class PageContent:
    extracted: Extracted
    #: Links to follow: in the content area, normalized, in document order.
    links: tuple[str, ...]
    #: The "Show more" / rel="next" page of a listing, if any.
    next_page: str | None


def extract_page(selector: Selector, url: str, rules: NoiseRules) -> PageContent:
    """Extract a page's content. Removes the ignored elements from ``selector``'s tree."""
    next_page = _next_page(selector, url, rules)
    content = _content_area(selector, rules)
    # Only a page's own byline counts: a listing's teasers have authors and dates too.
    author = _first(selector, ('meta[name="author"]::attr(content)',
                               ".node--view-mode-full .field--name-field-author", 'a[rel="author"]'))
    published = _first(selector, ('meta[property="article:published_time"]::attr(content)',
                                  'meta[name="dcterms.date"]::attr(content)',
                                  ".node--view-mode-full time::attr(datetime)"))
    for node in content.xpath(".//comment() | .//processing-instruction()"):
        node.drop()
    for css in rules.ignore_selectors:
        for node in content.css(css):
            node.drop()
    title = TITLE_SUFFIX.sub("", _first(content, ("h1",)) or _first(selector, (
        "main h1", 'meta[property="og:title"]::attr(content)', "title")))
    links = []
    for href in content.css("a::attr(href)").getall():
        link = normalize_url(href, url, rules.ignore_query_params)
        if link and link not in links:
            links.append(link)
    text = html_text.etree_to_text(content.root)
    for pattern in rules.ignore_text_patterns:
        text = re.sub(pattern, "", text)
    return PageContent(
        extracted=Extracted(title=title, author=author, published=published, text=text, links=tuple(sorted(links))),
        links=tuple(links),
        next_page=next_page,
    )


def _first(selector: Selector, queries: tuple[str, ...]) -> str:
    """The text (or attribute) of the first element any query matches, spaces folded."""
    for query in queries:
        for found in selector.css(query):
            value = found.get() if "::attr" in query else " ".join(found.css("::text").getall())
            value = " ".join(value.split())
            if value:
                return value
    return ""


def _content_area(selector: Selector, rules: NoiseRules) -> Selector:
    for css in rules.content_selectors:
        found = selector.css(css)
        if found:
            return found[0]
    body = selector.css("body")
    return body[0] if body else selector


def _next_page(selector: Selector, url: str, rules: NoiseRules) -> str | None:
    for query in ('a[rel="next"]::attr(href)', 'link[rel="next"]::attr(href)',
                  ".pager__item--next a::attr(href)", ".js-pager__items a::attr(href)"):
        href = selector.css(query).get()
        if href:
            return normalize_url(href, url, rules.ignore_query_params)
    return None
