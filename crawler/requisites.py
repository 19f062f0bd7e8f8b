"""Page requisites: what a page needs to render (stylesheets, fonts, images, scripts, icons).

Two parts. Pure functions find them: :func:`page_requisites` in a page's HTML
(``<link rel=stylesheet|icon|preload>``, ``<img src/srcset>``, ``<source>``,
``<script src>``, ``style`` attributes and ``<style>`` blocks) and
:func:`css_requisites` in a stylesheet (``url(...)`` and ``@import``). They scan
tags with regular expressions instead of parsing the page: most pages of a
crawl are leaves whose extraction is deferred, so this runs where nothing else
parses them, and a scan of a 60 kB page costs about a tenth of a parse.

:class:`Requisites` makes the spider's requests for them and reads the answers
into :class:`~wwc_archive.records.AssetFetch` records: once per URL per run,
only on the crawl's origins (and ``requisites_origins``), not again within
``requisites_max_age`` of the last check, conditional when the archive holds
validators, capped at ``requisites_max_bytes`` (images at
``requisites_max_image_bytes``) and ``requisites_max_requests`` a run. Asset
requests go after the pages (a lower priority), through the same downloader:
robots.txt, the delay, AutoThrottle and ``max_requests`` apply to them too.
"""

import html
import re
from dataclasses import dataclass
from urllib.parse import urljoin

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import TextResponse

from wwc_archive.config import CrawlConfig, origin_of
from wwc_archive.crawler.urls import in_scope, normalize_url
from wwc_archive.records import AssetFetch, parse_utc, utcnow

#: Kinds of requisite, by what refers to them.
KINDS = ("stylesheet", "image", "font", "script", "icon")
#: Scrapy settings of the ``[crawl]`` requisites options (defaults: :class:`~wwc_archive.config.CrawlConfig`).
OPTIONS = {
    "requisites": "WWC_REQUISITES",
    "requisites_max_age": "WWC_REQUISITES_MAX_AGE",
    "requisites_max_bytes": "WWC_REQUISITES_MAX_BYTES",
    "requisites_max_image_bytes": "WWC_REQUISITES_MAX_IMAGE_BYTES",
    "requisites_max_requests": "WWC_REQUISITES_MAX_REQUESTS",
    "requisites_origins": "WWC_REQUISITES_ORIGINS",
}
#: Requests for requisites wait behind pages (Scrapy takes higher priorities first).
PRIORITY = -10
#: A crawler stat: requisites left unfetched because ``requisites_max_requests`` was reached.
SKIPPED_STAT = "wwc_archive/requisites/over_max_requests"

_TAG = re.compile(r"<(img|link|script|source|input|body|table|td|style|base)\b([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(r"""([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
_STYLE_ATTRIBUTE = re.compile(r"""\sstyle\s*=\s*(?:"([^"]*url\([^"]*)"|'([^']*url\([^']*)')""", re.IGNORECASE)
_STYLE_BLOCK = re.compile(r"<style\b[^>]*>(.*?)</style\s*>", re.IGNORECASE | re.DOTALL)
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\(\s*)?(?:"([^"]*)"|'([^']*)'|([^)\s;]+))""", re.IGNORECASE)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_FONT_EXTENSIONS = (".woff2", ".woff", ".ttf", ".otf", ".eot")
_IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".avif", ".ico", ".bmp")
_ICON_RELS = {"icon", "shortcut", "apple-touch-icon", "apple-touch-icon-precomposed", "mask-icon"}


@dataclass(frozen=True)
class Requisite:
    """A URL a page or stylesheet refers to, absolute (as referred to: not normalized), and its kind."""

    url: str
    kind: str


def attributes(text: str) -> dict[str, str]:
    """A tag's attributes (names lower-cased, values unescaped; the first of a repeated name wins)."""
    found: dict[str, str] = {}
    for name, double, single, bare in _ATTR.findall(text):
        found.setdefault(name.lower(), html.unescape(double or single or bare))
    return found


def srcset_urls(value: str) -> list[str]:
    """The URLs of a ``srcset`` (each candidate is a URL and an optional width or density)."""
    return [part.split()[0] for part in value.split(",") if part.split()]


def kind_of(url: str, default: str) -> str:
    """A URL's kind from its extension (a font or an image), else ``default``."""
    path = url.split("?", 1)[0].split("#", 1)[0].lower()
    if path.endswith(_FONT_EXTENSIONS):
        return "font"
    if path.endswith(_IMAGE_EXTENSIONS):
        return "image"
    if path.endswith(".css"):
        return "stylesheet"
    return default


def page_requisites(text: str, url: str) -> list[Requisite]:
    """What a page's HTML refers to for rendering, in document order, each URL once."""
    found: dict[str, Requisite] = {}
    base = url

    def add(href: str | None, kind: str) -> None:
        href = (href or "").strip()
        if not href or href.startswith(("data:", "#", "javascript:", "about:", "blob:")):
            return
        absolute = urljoin(base, href)
        found.setdefault(absolute, Requisite(absolute, kind))

    for tag, raw in _TAG.findall(text):
        tag = tag.lower()
        attrs = attributes(raw)
        if tag == "base":
            if attrs.get("href"):
                base = urljoin(url, attrs["href"])
            continue
        if tag == "link":
            rels = set(attrs.get("rel", "").lower().split())
            if "stylesheet" in rels:
                add(attrs.get("href"), "stylesheet")
            elif rels & _ICON_RELS:
                add(attrs.get("href"), "icon")
            elif "preload" in rels or "prefetch" in rels:
                kind = {"style": "stylesheet", "font": "font", "image": "image", "script": "script"}.get(
                    attrs.get("as", "").lower())
                if kind:
                    add(attrs.get("href"), kind)
                    for candidate in srcset_urls(attrs.get("imagesrcset", "")):
                        add(candidate, "image")
        elif tag == "script":
            add(attrs.get("src"), "script")
        elif tag in ("img", "source") or (tag == "input" and attrs.get("type", "").lower() == "image"):
            add(attrs.get("src"), "image")
            for candidate in srcset_urls(attrs.get("srcset", "")):
                add(candidate, "image")
        elif tag in ("body", "table", "td"):
            add(attrs.get("background"), "image")
    for double, single in _STYLE_ATTRIBUTE.findall(text):  # any element's style="…url(…)…"
        for requisite in css_requisites(html.unescape(double or single), base):
            found.setdefault(requisite.url, requisite)
    for block in _STYLE_BLOCK.findall(text):
        for requisite in css_requisites(block, base):
            found.setdefault(requisite.url, requisite)
    return list(found.values())


def css_requisites(css: str, url: str) -> list[Requisite]:
    """What a stylesheet refers to: ``@import``\\ ed stylesheets and ``url(...)`` fonts and images."""
    css = _CSS_COMMENT.sub("", css)
    found: dict[str, Requisite] = {}
    for match in _CSS_IMPORT.finditer(css):
        href = next(filter(None, match.groups()), "").strip()
        if href and not href.startswith("data:"):
            absolute = urljoin(url, href)
            found.setdefault(absolute, Requisite(absolute, "stylesheet"))
    for match in _CSS_URL.finditer(css):
        href = next(filter(None, match.groups()), "").strip()
        if href and not href.startswith(("data:", "#")):
            absolute = urljoin(url, html.unescape(href))
            found.setdefault(absolute, Requisite(absolute, kind_of(absolute, "image")))
    return list(found.values())


def requisite_settings(crawl_options: dict) -> dict:
    """The ``WWC_REQUISITES*`` settings from the ``[crawl]`` options, or :class:`CrawlConfig`'s defaults."""
    settings = {}
    for option, setting in OPTIONS.items():
        value = crawl_options.get(option, CrawlConfig.model_fields[option].default)
        settings[setting] = list(value) if isinstance(value, (tuple, list)) else value
    return settings


class Requisites:
    """The spider's requests for requisites, and their answers as :class:`AssetFetch` records."""

    def __init__(self, settings, known_assets=(), crawler=None):
        self.enabled = settings.getbool("WWC_REQUISITES", CrawlConfig.model_fields["requisites"].default)
        self.max_age = settings.getfloat("WWC_REQUISITES_MAX_AGE",
                                         CrawlConfig.model_fields["requisites_max_age"].default)
        self.max_bytes = settings.getint("WWC_REQUISITES_MAX_BYTES",
                                         CrawlConfig.model_fields["requisites_max_bytes"].default)
        self.max_image_bytes = settings.getint("WWC_REQUISITES_MAX_IMAGE_BYTES",
                                               CrawlConfig.model_fields["requisites_max_image_bytes"].default)
        self.max_requests = settings.getint("WWC_REQUISITES_MAX_REQUESTS",
                                            CrawlConfig.model_fields["requisites_max_requests"].default)
        self.origins = frozenset(origin_of(url) for url in settings.getlist("WWC_REQUISITES_ORIGINS"))
        self.known = {asset.url: asset for asset in known_assets}
        self.requested: set[str] = set()
        self.crawler = crawler  # for its stats, set once the crawl starts
        self.now = parse_utc(utcnow())

    def requests(self, text: str, page_url: str, program, referer: str):
        """Requests for what this page (or stylesheet, ``kind="stylesheet"``) needs that is due."""
        if not self.enabled:
            return
        for requisite in page_requisites(text, page_url):
            request = self.request(requisite, program, referer)
            if request is not None:
                yield request

    def request(self, requisite: Requisite, program, referer: str):
        url = normalize_url(requisite.url, ignore_params=program.profile.ignore_query_params)
        if url is None or url in self.requested:
            return None
        if not (in_scope(url, program.origins) or in_scope(url, self.origins)):
            return None
        self.requested.add(url)
        known = self.known.get(url)
        if known is not None and known.checked_at and self.max_age and \
                (self.now - parse_utc(known.checked_at)).total_seconds() < self.max_age:
            return None  # checked lately enough
        if self.max_requests and len(self.requested) > self.max_requests:
            if self.crawler is not None:
                self.crawler.stats.inc_value(SKIPPED_STAT)
            return None
        headers = {"Referer": referer}
        if known is not None:
            if known.etag:
                headers["If-None-Match"] = known.etag
            if known.last_modified:
                headers["If-Modified-Since"] = known.last_modified
        cap = self.max_image_bytes if requisite.kind in ("image", "icon") else self.max_bytes
        return scrapy.Request(url, callback=self.parse, errback=self.failed, headers=headers, dont_filter=True,
                              priority=PRIORITY,
                              meta={"url": url, "program": program.name, "role": "asset", "kind": requisite.kind,
                                    "requisite": program, "origins": program.origins | self.origins,
                                    "download_maxsize": cap, "download_warnsize": 0})

    def parse(self, response):
        """An asset's answer as a record; a stylesheet's own requisites requested in turn."""
        meta = response.meta
        status = response.status
        outcome = "ok" if status == 200 else "not_modified" if status == 304 else \
            "gone" if status in (404, 410) else "failed"
        yield self.record(response, outcome)
        if outcome == "ok" and meta["kind"] == "stylesheet":
            program = meta["requisite"]
            css = response.text if isinstance(response, TextResponse) else response.body.decode("utf-8", "replace")
            for requisite in css_requisites(css, response.url):
                request = self.request(requisite, program, response.url)
                if request is not None:
                    yield request

    def record(self, response, outcome: str) -> AssetFetch:
        meta = response.meta
        pairs = _pairs(response.headers)
        headers = {name.lower(): value for name, value in pairs}
        return AssetFetch(
            url=meta["url"], program=meta["program"], kind=meta["kind"], fetched_at=utcnow(), outcome=outcome,
            http_status=response.status, final_url=response.url if response.url != meta["url"] else None,
            body=response.body if outcome == "ok" else None, content_type=headers.get("content-type"),
            etag=headers.get("etag"), last_modified=headers.get("last-modified"), protocol=response.protocol,
            response_headers=pairs, request_method=response.request.method,
            request_headers=_pairs(response.request.headers),
            error=None if outcome in ("ok", "not_modified", "gone") else f"HTTP {response.status}")

    def failed(self, failure):
        """Robots.txt, the size cap, a timeout: a failed check, recorded (nothing is stored for it)."""
        request = failure.request
        error = failure.value
        if isinstance(error, IgnoreRequest):
            message = f"not fetched: {error or type(error).__name__}"
        else:
            message = f"{type(error).__name__}: {error}".strip().rstrip(":")
            if "download_maxsize" in message or "maxsize" in message.lower() or "larger than" in message:
                message = f"over requisites_max_bytes: {message}"
        meta = request.meta
        yield AssetFetch(url=meta["url"], program=meta["program"], kind=meta["kind"], fetched_at=utcnow(),
                         outcome="failed", error=message, request_method=request.method,
                         request_headers=_pairs(request.headers))


def _pairs(headers) -> tuple[tuple[str, str], ...]:
    return tuple((name.decode("latin-1"), value.decode("latin-1"))
                 for name, values in headers.items() for value in values)
