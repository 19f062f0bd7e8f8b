"""What a page says: title, author, date, main text and links, with the noise removed.

Pure functions of the page's decoded HTML (Scrapy's ``response.text``), tested
directly on HTML strings. Text comes from html-text, which renders an lxml
tree roughly as a browser would lay it out; the noise rules decide what is
removed first.

This runs for every page of every crawl, so the page is parsed with lxml's
plain HTML parser (``lxml.html`` builds a Python object per element through a
Python class lookup, which costs more than the parse) and the rules' CSS
selectors are compiled to XPath once per rule set.
"""

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

import html_text
from cssselect import HTMLTranslator
from lxml import etree

from wwc_archive.records import Extracted
from wwc_archive.crawler.urls import DOCUMENT_EXTENSIONS, is_document, normalize_url
from wwc_archive.config import NoiseRules

TITLE_SUFFIX = re.compile(r"\s+[|–-]\s+[^|–-]+$")
#: Candidates for the next page of a listing: links with a rel, then links in a pager.
REL_LINKS = "descendant::a[@rel and @href] | descendant::link[@rel and @href]"
PAGER_LINKS = ("descendant::*[contains(@class, 'pager__item--next') or contains(@class, 'js-pager__items')]"
               "/descendant::a[@href]")
AUTHOR = (".node--view-mode-full .field--name-field-author", 'a[rel~="author"]')
PUBLISHED = (".node--view-mode-full time",)


@dataclass(frozen=True)
class PageContent:
    extracted: Extracted
    #: Links to follow: in the content area, normalized, in document order.
    links: tuple[str, ...]
    #: The "Show more" / rel="next" page of a listing, if any.
    next_page: str | None


_parsers = threading.local()


def parse_html(text: str):
    """The lxml tree of a page, as forgiving of broken markup as a browser."""
    parser = getattr(_parsers, "parser", None)
    if parser is None:  # a parser object is costly to make and not thread-safe: one per thread
        parser = _parsers.parser = etree.HTMLParser(recover=True, encoding="utf-8", remove_comments=True,
                                                    remove_pis=True)
    root = etree.fromstring(text.replace("\x00", "").encode("utf-8", "surrogatepass") or b"<html/>", parser)
    return root if root is not None else etree.fromstring(b"<html/>", parser)


def extract_page(text: str, url: str, rules: NoiseRules, find_next: bool = True) -> PageContent:
    """Extract a page's content from its decoded HTML (and its next page, if asked)."""
    queries = compiled(rules)
    root = parse_html(text)
    meta = _meta(root)
    next_href = _next_href(root, queries) if find_next else ""
    content = _content_area(root, queries)
    # Only a page's own byline counts: a listing's teasers have authors and dates too.
    author = meta.get("author") or _first_text(queries.author(root))
    published = (meta.get("article:published_time") or meta.get("dcterms.date")
                 or _first_attr(queries.published(root), "datetime"))
    for node in queries.noise(content):
        _drop(node)
    title = _first_text(content.iter("h1")) or _first_text(queries.main_h1(root)) or meta.get("og:title") \
        or _first_text(root.iter("title"))
    links = _links(content, url, rules)
    text = html_text.etree_to_text(content)
    for pattern in queries.text_patterns:
        text = pattern.sub("", text)
    return PageContent(
        extracted=Extracted(title=TITLE_SUFFIX.sub("", title), author=author, published=published, text=text,
                            links=tuple(sorted(links))),
        links=links,
        next_page=normalize_url(next_href, url, rules.ignore_query_params) if next_href else None,
    )


@dataclass(frozen=True)
class _Queries:
    content: tuple[etree.XPath, ...]
    noise: etree.XPath
    rel_links: etree.XPath
    pager_links: etree.XPath
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
        noise=etree.XPath(noise or "self::*[false()]"),
        rel_links=etree.XPath(REL_LINKS),
        pager_links=etree.XPath(PAGER_LINKS),
        author=_xpath(AUTHOR),
        published=_xpath(PUBLISHED),
        main_h1=_xpath(["main h1"]),
        text_patterns=tuple(re.compile(pattern) for pattern in rules.ignore_text_patterns),
    )


def document_links(text: str, url: str, rules: NoiseRules) -> tuple[str, ...]:
    """Just the links to documents (PDF, DOCX, …) in a page's content area, for a
    page whose extraction is deferred."""
    lowered = text.lower()
    if not any(extension in lowered for extension in DOCUMENT_EXTENSIONS):
        return ()  # most pages link no document: no need to parse them here
    content = _content_area(parse_html(text), compiled(rules))
    return _links(content, url, rules, only=is_document)


def _links(content, url: str, rules: NoiseRules, only=None) -> tuple[str, ...]:
    links = {}  # a dict keeps document order and finds a repeat in constant time
    for href in content.xpath("descendant::a/@href", smart_strings=False):
        if only is not None and not only(href):
            continue
        link = normalize_url(href, url, rules.ignore_query_params)
        if link:
            links.setdefault(link)
    return tuple(links)


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


def _next_href(root, queries: _Queries) -> str:
    """``rel="next"`` (Drupal's load-more pager has it), else the first link of a pager."""
    for element in queries.rel_links(root):
        if "next" in element.get("rel").lower().split():
            return element.get("href").strip()
    return _first_attr(queries.pager_links(root), "href")


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
