"""What a page says: title, author, date, main text and links, with the noise removed.

Pure functions over a parsel ``Selector`` (Scrapy's ``response.selector``), so
the page is parsed once and the extraction is tested on plain HTML strings.
Text comes from html-text, which renders an lxml tree roughly as a browser
would lay it out; the noise rules decide what is removed first. The CSS
selectors of the rules are compiled to XPath once per rule set, since this
runs for every page of every crawl.
"""

import re
from dataclasses import dataclass
from functools import lru_cache

import html_text
from cssselect import HTMLTranslator
from lxml import etree
from parsel import Selector

from archive.records import Extracted
from crawler.urls import normalize_url
from wwc_archive.config import NoiseRules

TITLE_SUFFIX = re.compile(r"\s+[|–-]\s+[^|–-]+$")
NEXT_PAGE = ('a[rel~="next"]', 'link[rel~="next"]', ".pager__item--next a", ".js-pager__items a")
AUTHOR = (".node--view-mode-full .field--name-field-author", 'a[rel~="author"]')
PUBLISHED = (".node--view-mode-full time",)


@dataclass(frozen=True)
class PageContent:
    extracted: Extracted
    #: Links to follow: in the content area, normalized, in document order.
    links: tuple[str, ...]
    #: The "Show more" / rel="next" page of a listing, if any.
    next_page: str | None


def extract_page(selector: Selector, url: str, rules: NoiseRules) -> PageContent:
    """Extract a page's content. Removes the ignored elements from ``selector``'s tree."""
    queries = compiled(rules)
    root = selector.root
    meta = _meta(root)
    next_href = _first_attr(queries.next_page(root), "href")
    content = _content_area(root, queries)
    # Only a page's own byline counts: a listing's teasers have authors and dates too.
    author = meta.get("author") or _first_text(queries.author(root))
    published = (meta.get("article:published_time") or meta.get("dcterms.date")
                 or _first_attr(queries.published(root), "datetime"))
    for node in queries.noise(content):
        _drop(node)
    title = _first_text(content.iter("h1")) or _first_text(queries.main_h1(root)) or meta.get("og:title") \
        or _first_text(root.iter("title"))
    links = []
    for anchor in content.iter("a"):
        link = normalize_url(anchor.get("href") or "", url, rules.ignore_query_params)
        if link and link not in links:
            links.append(link)
    text = html_text.etree_to_text(content)
    for pattern in queries.text_patterns:
        text = pattern.sub("", text)
    return PageContent(
        extracted=Extracted(title=TITLE_SUFFIX.sub("", title), author=author, published=published, text=text,
                            links=tuple(sorted(links))),
        links=tuple(links),
        next_page=normalize_url(next_href, url, rules.ignore_query_params) if next_href else None,
    )


@dataclass(frozen=True)
class _Queries:
    content: tuple[etree.XPath, ...]
    noise: etree.XPath
    next_page: etree.XPath
    author: etree.XPath
    published: etree.XPath
    main_h1: etree.XPath
    text_patterns: tuple[re.Pattern, ...]


def _xpath(selectors) -> etree.XPath:
    translator = HTMLTranslator()
    return etree.XPath(" | ".join(translator.css_to_xpath(css) for css in selectors))


@lru_cache(maxsize=32)
def compiled(rules: NoiseRules) -> _Queries:
    """The rules' CSS selectors as XPath, and their text patterns as regexes."""
    translator = HTMLTranslator()
    noise = " | ".join(translator.css_to_xpath(css, prefix="descendant::") for css in rules.ignore_selectors)
    return _Queries(
        content=tuple(_xpath([css]) for css in rules.content_selectors),
        noise=etree.XPath(noise + " | descendant::comment() | descendant::processing-instruction()"
                          if noise else "descendant::comment() | descendant::processing-instruction()"),
        next_page=_xpath(NEXT_PAGE),
        author=_xpath(AUTHOR),
        published=_xpath(PUBLISHED),
        main_h1=_xpath(["main h1"]),
        text_patterns=tuple(re.compile(pattern) for pattern in rules.ignore_text_patterns),
    )


def _meta(root) -> dict[str, str]:
    """``<meta name|property=… content=…>`` of the page; the first of each wins."""
    found = {}
    for meta in root.iter("meta"):
        key = meta.get("name") or meta.get("property")
        content = meta.get("content")
        if key and content and key.lower() not in found:
            found[key.lower()] = " ".join(content.split())
    return found


def _first_text(elements) -> str:
    for element in elements:
        text = " ".join(" ".join(element.itertext()).split())
        if text:
            return text
    return ""


def _first_attr(elements, name: str) -> str:
    for element in elements:
        value = (element.get(name) or "").strip()
        if value:
            return value
    return ""


def _content_area(root, queries: _Queries):
    for query in queries.content:
        found = query(root)
        if found:
            return found[0]
    body = root.find("body")
    return body if body is not None else root


def _drop(node) -> None:
    """Remove an element or comment, keeping the text that follows it."""
    parent = node.getparent()
    if parent is None:
        return
    if node.tail:
        previous = node.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + node.tail
        else:
            parent.text = (parent.text or "") + node.tail
    parent.remove(node)
