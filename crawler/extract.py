"""What a page says: title, author, date, main text and links, with the noise removed.

Pure functions of the page's decoded HTML (Scrapy's ``response.text``), tested
directly on HTML strings. Text comes from html-text, which renders an lxml
tree roughly as a browser would lay it out; the site profile decides what is
removed first.

Every selector and pattern comes from the program's
:class:`~wwc_archive.profile.SiteProfile`. This runs for every page of every
crawl, so the page is parsed with lxml's plain HTML parser (``lxml.html``
builds a Python object per element through a Python class lookup, which costs
more than the parse) and the profile's CSS selectors are compiled to XPath
once per profile (:mod:`wwc_archive.crawler.selectors`).
"""

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

import html_text
from lxml import etree

from wwc_archive.records import Extracted, Teaser
from wwc_archive.crawler.selectors import Query, query
from wwc_archive.crawler.urls import DOCUMENT_EXTENSIONS, is_document, normalize_url
from wwc_archive.profile import SiteProfile, split_attribute

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


def extract_page(text: str, url: str, profile: SiteProfile, find_next: bool = True) -> PageContent:
    """Extract a page's content from its decoded HTML (and its next page, if asked)."""
    queries = compiled(profile)
    root = parse_html(text)
    next_href = _first_value(queries.next_page, root) if find_next else ""
    content = _content_area(root, queries)
    # Only a page's own byline counts: a listing's teasers have authors and dates too.
    author = _first_value(queries.author, root)
    published = _first_value(queries.published, root)
    for node in queries.noise(content):
        _drop(node)
    for node in queries.volatile(content):
        _drop(node)
    title = _first_value(queries.title, content) or _first_value(queries.page_title, root)
    absolute = _normalizer(url, profile.ignore_query_params)
    links = _links(content, absolute, queries)
    items = _teasers(content, absolute, queries)
    times = _times(content)
    text = html_text.etree_to_text(content)
    for pattern in queries.text_patterns:
        text = pattern.sub("", text)
    if queries.title_suffix is not None:
        title = queries.title_suffix.sub("", title)
    return PageContent(
        extracted=Extracted(title=title, author=author, published=published, text=text,
                            links=tuple(sorted(links)), items=items, times=times),
        links=links,
        next_page=absolute(next_href) if next_href else None,
    )


#: One profile entry compiled: a query, and the attribute to read (None: the element's text).
_Source = tuple[Query, str | None]


@dataclass(frozen=True)
class _Queries:
    content: tuple[Query, ...]
    noise: Query
    volatile: Query
    next_page: tuple[_Source, ...]
    author: tuple[_Source, ...]
    published: tuple[_Source, ...]
    title: tuple[_Source, ...]
    page_title: tuple[_Source, ...]
    links: Query
    teasers: tuple[Query, ...]
    teaser_link: tuple[_Source, ...]
    teaser_date: tuple[_Source, ...]
    teaser_byline: tuple[_Source, ...]
    teaser_summary: tuple[_Source, ...]
    title_suffix: re.Pattern | None
    text_patterns: tuple[re.Pattern, ...]


def _xpath(selectors, prefix: str = "descendant-or-self::") -> Query:
    return query(selectors, prefix)


def _class_words(words) -> Query:
    """Elements below a node whose class or id contains one of ``words`` (case-insensitive)."""
    if not words:
        return lambda node: []
    pattern = re.compile("|".join(map(re.escape, words)), re.IGNORECASE)

    def find(node) -> list:
        found = []
        for element in node.iterdescendants(etree.Element):
            marks = (element.get("class") or "") + " " + (element.get("id") or "")
            if len(marks) > 1 and pattern.search(marks):
                found.append(element)
        return found

    return find


def _sources(specs, attribute: str | None = None, prefix: str = "descendant-or-self::") -> tuple[_Source, ...]:
    """Each ``css[@attr]`` entry as a query and the attribute it reads (``attribute`` by default)."""
    sources = []
    for spec in specs:
        css, attr = split_attribute(spec)
        sources.append((_xpath([css], prefix), attr or attribute))
    return tuple(sources)


@lru_cache(maxsize=32)
def compiled(profile: SiteProfile) -> _Queries:
    """The profile's CSS selectors as queries, and its patterns as regexes."""
    return _Queries(
        content=tuple(_xpath([css]) for css in profile.content_selectors),
        noise=_xpath(profile.ignore_selectors, "descendant::"),
        volatile=_class_words(profile.volatile_class_words),
        next_page=_sources(profile.next_page_selectors, attribute="href"),
        author=_sources(profile.author_selectors),
        published=_sources(profile.date_selectors),
        title=_sources(profile.title_selectors),
        page_title=_sources(profile.page_title_selectors),
        links=_xpath([split_attribute(css)[0] for css in profile.link_selectors]),
        teasers=tuple(_xpath([css], "descendant::") for css in profile.teaser_selectors),
        teaser_link=_sources(profile.teaser_link_selectors, prefix=".//"),
        teaser_date=_sources(profile.teaser_date_selectors, prefix=".//"),
        teaser_byline=_sources(profile.teaser_byline_selectors, prefix=".//"),
        teaser_summary=_sources(profile.teaser_summary_selectors, prefix=".//"),
        title_suffix=re.compile(profile.title_suffix_pattern) if profile.title_suffix_pattern else None,
        text_patterns=tuple(re.compile(pattern) for pattern in profile.ignore_text_patterns),
    )


#: Any document extension, in any case: a page without one links no document. (Unicode case
#: folding makes it match a little more than ``text.lower()`` would, never less.)
_ANY_EXTENSION = re.compile("|".join(map(re.escape, DOCUMENT_EXTENSIONS)), re.IGNORECASE)


def document_links(text: str, url: str, profile: SiteProfile) -> tuple[str, ...]:
    """Just the links to documents (PDF, DOCX, …) in a page's content area, for a
    page whose extraction is deferred."""
    if not _ANY_EXTENSION.search(text):
        return ()  # most pages link no document: no need to parse them here (one scan, no lowered copy)
    queries = compiled(profile)
    content = _content_area(parse_html(text), queries)
    return _links(content, _normalizer(url, profile.ignore_query_params), queries, only=is_document)


def _normalizer(url: str, ignore_params: tuple[str, ...]):
    """:func:`normalize_url` against the page's URL, each distinct href worked out once
    (a listing's teasers link the same articles as its content)."""
    known: dict[str, str | None] = {}

    def absolute(href: str) -> str | None:
        try:
            return known[href]
        except KeyError:
            link = known[href] = normalize_url(href, url, ignore_params)
            return link

    return absolute


def _links(content, absolute, queries: _Queries, only=None) -> tuple[str, ...]:
    links = {}  # a dict keeps document order and finds a repeat in constant time
    for element in queries.links(content):
        href = element.get("href")
        if href is None or (only is not None and not only(href)):
            continue
        link = absolute(href)
        if link:
            links.setdefault(link)
    return tuple(links)


def _teasers(content, absolute, queries: _Queries) -> tuple[Teaser, ...]:
    """A listing's items in page order, each once (by URL): every match of the first teaser selector that finds any."""
    rows = next((found for found in (query(content) for query in queries.teasers) if found), [])
    items: dict[str, Teaser] = {}
    for row in rows:
        link = _first_element(queries.teaser_link, row)
        href = absolute(link.get("href") or "") if link is not None else None
        if not href or href in items:
            continue
        items[href] = Teaser(
            url=href,
            title=_clean(" ".join(link.itertext()), queries),
            published=_clean(_first_value(queries.teaser_date, row), queries),
            byline=_clean(_first_value(queries.teaser_byline, row), queries),
            summary=_clean(_first_value(queries.teaser_summary, row), queries),
        )
    return tuple(items.values())


def _times(content) -> tuple[tuple[str, str], ...]:
    """Each ``<time datetime>`` in the content area, in document order: its text (whitespace collapsed) and
    its ``datetime``."""
    found = []
    for element in content.iter("time"):
        machine = (element.get("datetime") or "").strip()
        shown = " ".join(" ".join(element.itertext()).split())
        if machine and shown:
            found.append((shown, machine))
    return tuple(found)


def _first_element(sources: tuple[_Source, ...], root):
    for query, _attribute in sources:
        for element in query(root):
            if isinstance(element.tag, str):
                return element
    return None


def _clean(value: str, queries: _Queries) -> str:
    """A teaser field without the noise patterns, whitespace collapsed."""
    for pattern in queries.text_patterns:
        value = pattern.sub("", value)
    return " ".join(value.split())


def _first_value(sources: tuple[_Source, ...], root) -> str:
    """The first non-empty text (or attribute) that the sources find, in order, whitespace collapsed."""
    for query, attribute in sources:
        for element in query(root):
            if attribute is None:
                value = " ".join(element.itertext()) if isinstance(element.tag, str) else ""
            else:
                value = element.get(attribute) or ""
            value = " ".join(value.split())
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
