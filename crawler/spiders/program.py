"""The spider: program pages with their "Show more" pages, the pages they link to,
and every page archived before. It only fetches and yields records."""

from pathlib import PurePosixPath
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import TextResponse

from wwc_archive.archive.changes.comparison import comparison_key, substitutions
from wwc_archive.archive.formats.fingerprint import normalized
from wwc_archive.records import KEPT_HEADERS, Extracted, FetchRecord, Teaser, utcnow
from wwc_archive.crawler.extract import document_links, extract_page
from wwc_archive.crawler.items import PageToExtract
from wwc_archive.crawler.limits import record_limit
from wwc_archive.config import origin_of
from wwc_archive.crawler.cookies import KeptCookies
from wwc_archive.crawler.middlewares import OutOfScope
from wwc_archive.crawler.not_found import NotFoundPage, probe_url, reads_as
from wwc_archive.crawler.requisites import Requisites
from wwc_archive.crawler.urls import in_scope, is_document, normalize_url

#: Pages larger than this are not compared in the crawl (nor fetched a second time): they are read beside it.
SECOND_FETCH_MAX_BYTES = 512 * 1024
#: The message of the IgnoreRequest with which Scrapy's RobotsTxtMiddleware refuses a request.
ROBOTS_REFUSAL = "Forbidden by robots.txt"


def outcome_for(status: int) -> str:
    if 200 <= status < 300:
        return "ok"
    if status == 304:
        return "not_modified"
    if status in (404, 410):
        return "gone"
    return "failed"


def forbidden_by_robots(error) -> bool:
    """Whether a request failed because robots.txt forbids it (Scrapy says so only in the message)."""
    return type(error) is IgnoreRequest and str(error) == ROBOTS_REFUSAL


def add_paragraphs(paragraphs: list[str], text: str) -> None:
    """Append a listing page's paragraphs, less the page chrome every "Show more" page repeats.

    The chrome is what a "Show more" page begins with that the listing begins
    with too (the title, the introduction, the view's heading), and any later
    repeat of it. Everything else is kept in order, repeats included: two
    teasers may well read "3 weeks ago | Marcus Kessler". So the listing reads
    as one list and a newly published article is one insertion, not a shift of
    every page.
    """
    page = [p.strip() for p in text.split("\n\n") if p.strip()]
    if not paragraphs:
        paragraphs.extend(page)
        return
    start = 0
    while start < min(len(page), len(paragraphs)) and page[start] == paragraphs[start]:
        start += 1
    chrome = set(paragraphs[:start])
    paragraphs.extend(p for p in page[start:] if p not in chrome)


def add_items(items: dict[str, Teaser], page_items) -> None:
    """Append a "Show more" page's teasers to the listing's, by URL, the first of each kept."""
    for item in page_items:
        items.setdefault(item.url, item)


def merged_listing(first: Extracted, paragraphs: list[str], links, items: dict[str, Teaser],
                   times: list | None = None) -> Extracted:
    """The program record's content: the first page's title and byline, every page's text, links, teasers
    and dates."""
    return Extracted(title=first.title, author=first.author, published=first.published,
                     text="\n\n".join(paragraphs), links=tuple(sorted(links)), items=tuple(items.values()),
                     times=tuple(times or ()))


class ProgramSpider(scrapy.Spider):
    name = "wwc-archive"

    def __init__(self, programs=(), known_pages=(), cookies=(), known_assets=(), **kwargs):
        super().__init__(**kwargs)
        #: Page requisites (crawler/requisites.py): made in from_crawler, which has the settings.
        self.requisites: Requisites | None = None
        self._known_assets = known_assets
        #: The cookies sites set to last, kept from the last crawl (see crawler/cookies.py).
        self.cookies = KeptCookies(cookies)
        #: The origins whose cookies a second fetch replaced this run (once each).
        self.adopted: set[str] = set()
        #: Each origin's not-found page, learned by a probe; sent to storage once a program page reads otherwise.
        self.not_found: dict[str, NotFoundPage | None] = {}
        self.programs = {program.name: program for program in programs}
        self.known = {page.url: page for page in known_pages}
        #: Every origin some program may fetch from: no request leaves them.
        self.origins = frozenset().union(*(program.origins for program in self.programs.values()))
        self.requested: set[str] = set()
        self._revisited = False
        self.max_listing_pages = self.max_links_per_page = 0  # no limit unless the settings say
        # Each callback bound once: Scrapy remembers that a callback is no generator returning a value
        # by a weak reference to it, so a bound method made per request had its source parsed again
        # whenever the requests holding the last one were done (0.35 s of CPU in a 2,000-page crawl).
        self._callbacks = {"program": self.parse_program, "pager": self.parse_pager, "page": self.parse_page}
        self._errback = self.failed

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.max_listing_pages = crawler.settings.getint("WWC_MAX_LISTING_PAGES")
        spider.max_links_per_page = crawler.settings.getint("WWC_MAX_LINKS_PER_PAGE")
        spider.requisites = Requisites(crawler.settings, spider._known_assets, crawler)
        crawler.signals.connect(spider.revisit_known_pages, signal=signals.spider_idle)
        return spider

    async def start(self):
        """First, once per origin, a URL that cannot exist (the site's not-found answer, and any cookie it
        sets); then that origin's program pages."""
        origins = {}
        for program in self.programs.values():
            for url in program.start_urls:
                origins.setdefault(origin_of(url), program)
        for origin, program in origins.items():
            yield scrapy.Request(probe_url(origin), callback=self.parse_probe, errback=self.probe_failed,
                                 dont_filter=True, meta={"origin": origin, "probe_program": program.name,
                                                         "origins": program.origins})

    def start_requests_for(self, origin: str):
        for program in self.programs.values():
            for url in program.start_urls:
                if origin_of(url) == origin:
                    request = self.page_request(url, program, role="program", depth=0)
                    if request is not None:
                        yield request

    def parse_probe(self, response):
        """The origin's answer to a URL that cannot exist: a 200 HTML page is its not-found page."""
        origin = response.meta["origin"]
        if self.is_html_page(response):
            program = self.programs[response.meta["probe_program"]]
            asked = response.request.meta.get("redirect_urls", [response.request.url])[0]
            content = extract_page(response.text, response.url, program.profile, find_next=False)
            self.not_found[origin] = NotFoundPage.learned(origin, content.extracted, asked,
                                                          response.url if response.url != asked else None)
        yield from self.start_requests_for(origin)

    def probe_failed(self, failure):
        yield from self.start_requests_for(failure.request.meta["origin"])

    def confirm_not_found(self, response, extracted: Extracted):
        """Hand the origin's not-found page to storage, unless this program page reads as it (an outage)."""
        origin = origin_of(response.url)
        page = self.not_found.pop(origin, None)
        if page is None:
            return
        if reads_as(page, response.meta["url"], response.url, extracted):
            self.logger.warning("%s reads as the site's not-found page: soft 404s are not judged this run",
                                response.url)
            return
        yield page

    # Requests ------------------------------------------------------------------

    def page_request(self, url, program, role, depth, **meta):
        """A request for ``url`` once per run, in scope, with the validators we hold."""
        url = normalize_url(url, ignore_params=program.profile.ignore_query_params)
        if url is None or url in self.requested or not in_scope(url, program.origins):
            return None
        self.requested.add(url)
        headers = {}
        known = self.known.get(url)
        if known and known.state == "live" and role in ("page", "document"):
            if known.etag:
                headers["If-None-Match"] = known.etag
            if known.last_modified:
                headers["If-Modified-Since"] = known.last_modified
        return scrapy.Request(
            url,
            callback=self._callbacks.get(role, self._callbacks["page"]),
            errback=self._errback,
            headers=headers,
            dont_filter=True,
            meta={"url": url, "program": program.name, "role": role, "depth": depth,
                  "origins": program.origins, **meta},
        )

    def follow(self, links, program, depth, source):
        """Requests for the in-scope links of page ``source`` at ``depth - 1``:
        the first ``max_links_per_page`` of them, in document order."""
        if self.max_links_per_page and len(links) > self.max_links_per_page:
            record_limit(self.crawler.stats, "max_links_per_page", source)
            links = links[:self.max_links_per_page]
        for link in links:
            if is_document(link):
                request = self.page_request(link, program, role="document", depth=depth)
            elif depth <= program.depth:
                request = self.page_request(link, program, role="page", depth=depth)
            else:
                request = None
            if request is not None:
                yield request

    def revisit_known_pages(self):
        """Once the linked pages are done, fetch every archived page not seen yet."""
        if self._revisited:
            return
        self._revisited = True
        scheduled = False
        for page in self.known.values():
            program = self.programs.get(page.program)
            if program is None:
                continue
            request = self.page_request(page.url, program, role=page.role, depth=program.depth + 1)
            if request is not None:
                self.crawler.engine.crawl(request)
                scheduled = True
        if scheduled:
            raise DontCloseSpider

    # Callbacks ------------------------------------------------------------------

    def parse_program(self, response):
        """A program page: its content plus that of all its "Show more" pages."""
        if not self.is_html_page(response):
            yield self.record(response)
            return
        program = self.programs[response.meta["program"]]
        content = extract_page(response.text, response.url, program.profile)
        yield from self.confirm_not_found(response, content.extracted)
        yield from self.requisite_requests(response, program)
        listing = {"response": response, "extracted": content.extracted, "paragraphs": [], "links": set(),
                   "items": {}, "times": [], "pages": 0}
        yield from self.continue_listing(listing, content, program, response.url)

    def parse_pager(self, response):
        listing = response.meta["listing"]
        if not self.is_html_page(response):
            yield self.record(response)
            yield self.listing_failed(listing, f"Show more page {response.url} answered {response.status}")
            return
        program = self.programs[response.meta["program"]]
        content = extract_page(response.text, response.url, program.profile)
        yield self.record(response, extracted=content.extracted)
        yield from self.requisite_requests(response, program)
        yield from self.continue_listing(listing, content, program, response.url)

    def continue_listing(self, listing, content, program, url):
        """Fold one page of a program's listing in, then ask for the next or record the whole.

        A "Show more" URL already requested this run (the program page itself, a
        pager loop) ends the listing, as does one out of scope, and so does the
        ``max_listing_pages``-th "Show more" page: a pager without end is read
        that far and archived as read.
        """
        yield from self.follow(content.links, program, depth=1, source=url)
        add_paragraphs(listing["paragraphs"], content.extracted.text)
        listing["links"].update(content.extracted.links)
        add_items(listing["items"], content.extracted.items)
        listing["times"].extend(content.extracted.times)
        if content.next_page and self.max_listing_pages and listing["pages"] >= self.max_listing_pages:
            record_limit(self.crawler.stats, "max_listing_pages", listing["response"].url)
        elif content.next_page:
            request = self.page_request(content.next_page, program, role="pager", depth=0, listing=listing)
            if request is not None:
                listing["pages"] += 1
                yield request
                return
        extracted = merged_listing(listing["extracted"], listing["paragraphs"], listing["links"], listing["items"],
                                   listing["times"])
        record = self.record(listing["response"], extracted=extracted)
        known = self.known.get(record.url)
        if known is not None and known.state == "live" and known.compare_key is not None and \
                comparison_key(normalized(extracted)) != known.compare_key:
            yield self.second_fetch(listing["response"], record, callback=self.parse_program_again,
                                    first_page=listing["extracted"])
            return
        yield record

    def parse_program_again(self, response):
        """A program page that seemed changed, its first page fetched again as a new visitor: what differs
        between the two answers is that visitor's (:meth:`differed`); the listing as first read is recorded."""
        first = response.meta["first"]
        if self.is_html_page(response):
            program = self.programs[response.meta["program"]]
            again = extract_page(response.text, response.url, program.profile).extracted
            first_page = response.meta["first_page"]
            if comparison_key(normalized(again)) != comparison_key(normalized(first_page)):
                self.learn_variant(first, first_page, again)
        yield first

    def listing_failed(self, listing, error):
        response = listing["response"]
        return self.record(response, outcome="failed", error=error)

    def parse_page(self, response):
        """A linked or archived page. One whose content seems changed is fetched once more, as a new visitor
        (without the kept cookies), before it is recorded: see :meth:`read_as_before` and :meth:`differed`."""
        program = self.programs[response.meta["program"]]
        first = response.meta.get("first")  # the answer this second fetch confirms, if it is one
        if not self.is_html_page(response):
            if first is not None:
                yield first  # no second reading: the first answer stands
                return
            document = response.status == 200  # a 200 that is not HTML is archived as bytes
            yield self.record(response, extracted=self.document_fields(response),
                              role="document" if document else None)
            return
        depth = response.meta["depth"]
        yield from self.requisite_requests(response, program)
        known = self.known.get(response.meta["url"])
        archived_key = known.compare_key if known is not None and known.state == "live" else None
        if len(response.body) > SECOND_FETCH_MAX_BYTES and first is None:
            archived_key = None  # read beside the crawl, as a new page is: comparing it here would hold the crawl
        if archived_key is None and depth >= program.depth:
            # A leaf with nothing to compare with: beyond it only documents are followed, so the
            # storage process extracts its content, beside the crawl instead of inside it.
            yield PageToExtract(self.record(response), response.text)
            yield from self.follow(document_links(response.text, response.url, program.profile), program, depth + 1,
                                   source=response.url)
            return
        content = extract_page(response.text, response.url, program.profile)
        record = self.record(response, extracted=content.extracted)
        if archived_key is not None:
            key = comparison_key(normalized(content.extracted))
            if first is None and key != archived_key:
                yield self.second_fetch(response, record, first_key=key)
                return
            if first is not None:
                if key == archived_key:
                    record = self.read_as_before(response, first, record)
                elif key != response.meta["first_key"]:
                    record = self.differed(response, first, record, known)
                else:
                    record = first  # both answers say the page changed
        yield record
        yield from self.follow(content.links, program, depth=depth + 1, source=response.url)

    def requisite_requests(self, response, program):
        """Requests for what this page needs to render that is due (crawler/requisites.py); none for a
        second fetch of a page."""
        if self.requisites is None or response.meta.get("first") is not None:
            return ()
        return self.requisites.requests(response.text, response.url, program, referer=response.url)

    def second_fetch(self, response, first: FetchRecord, callback=None, **meta):
        """The same page again, as a new visitor: what differs between two fetches is per-request or
        per-visitor (an A/B test), not an edit."""
        meta.update({name: response.meta[name] for name in ("url", "program", "role", "depth", "origins")})
        return scrapy.Request(meta["url"], callback=callback or self._callbacks["page"], errback=self._errback,
                              dont_filter=True, meta={**meta, "first": first, "new_visitor": True})

    def adopt_cookies(self, response) -> None:
        """Keep, from now on, the cookies the site gave the new visitor of a second fetch (once a run per
        origin): its bucket shows the site as archived."""
        origin = origin_of(response.url)
        if origin not in self.adopted:
            self.adopted.add(origin)
            for value in response.meta.get("visitor_cookies", ()):
                self.cookies.adopt(response.url, value)

    def differed(self, response, first: FetchRecord, second: FetchRecord, known) -> FetchRecord:
        """Two fetches of a page that seemed changed disagree, and neither reads as archived: the one that
        keeps the archived title is recorded (and its visitor's cookies kept: its bucket shows the site as
        archived), else the first; what one showed in place of the other is learned as a variant."""
        fold = lambda e: " ".join((e.title if e else "").split())  # noqa: E731
        if known.title and fold(second.extracted) == " ".join(known.title.split()) != fold(first.extracted):
            self.learn_variant(second, second.extracted, first.extracted)
            self.adopt_cookies(response)
            return second
        self.learn_variant(first, first.extracted, second.extracted)
        return first

    @staticmethod
    def learn_variant(record: FetchRecord, one: Extracted, other: Extracted) -> None:
        """What one answer showed in place of the other is one visitor's or one request's (the archive learns
        it: :mod:`~wwc_archive.archive.changes.run_review`)."""
        record.dismissed = ("a second fetch, as a new visitor, read otherwise: what differs between the two "
                            "answers is one visitor's or one request's")
        record.shown_instead = tuple(substitutions(normalized(one), normalized(other)))

    def read_as_before(self, response, first: FetchRecord, second: FetchRecord) -> FetchRecord:
        """A page that seemed changed read as archived on a second fetch: the second is recorded, the first
        dismissed (the archive learns what it showed instead, see :mod:`~wwc_archive.archive.changes.run_review`),
        and the cookies the site gave that new visitor are kept from now on, once a run per origin: its
        bucket shows the site as archived. When the second fetch differs from the archive too, the first
        answer is recorded instead: both say the page changed."""
        self.adopt_cookies(response)
        title = first.extracted.title if first.extracted else ""
        second.dismissed = (f"a second fetch, as a new visitor, read the page as before: the first answer "
                            f"(\"{title}\") was that visitor's or that request's only")
        second.shown_instead = tuple(substitutions(normalized(second.extracted), normalized(first.extracted)))
        return second

    def failed(self, failure):
        """Timeouts, resets, size cap, robots.txt, out-of-scope redirects."""
        request = failure.request
        meta = request.meta
        if "url" not in meta:
            return None
        if meta.get("first") is not None:
            return iter([meta["first"]])  # the second fetch failed: the first answer stands
        error = failure.value
        if isinstance(error, OutOfScope):
            message = f"redirected out of scope to {request.url}"
        elif forbidden_by_robots(error):
            if meta["url"] not in self.known:
                return None  # a new link that robots.txt forbids: not ours to archive
            message = f"not fetched: {error}"
        elif isinstance(error, IgnoreRequest):  # over the size cap once decompressed, a redirect loop
            message = f"not fetched: {error or type(error).__name__}"
        else:
            message = f"{type(error).__name__}: {error}".strip().rstrip(":")
        records = [FetchRecord(url=meta["url"], program=meta["program"], role=meta["role"],
                               fetched_at=utcnow(), outcome="failed", error=message,
                               request_method=request.method, request_headers=self.header_pairs(request.headers))]
        if meta["role"] == "pager":
            records.append(self.listing_failed(meta["listing"], f"Show more page {meta['url']} failed: {message}"))
        return iter(records)

    # Records --------------------------------------------------------------------

    @staticmethod
    def is_html_page(response) -> bool:
        return response.status == 200 and isinstance(response, TextResponse) and b"html" in (
            response.headers.get(b"Content-Type") or b"text/html"
        )

    @staticmethod
    def document_fields(response) -> Extracted | None:
        if response.status != 200:
            return None
        return Extracted(title=PurePosixPath(urlsplit(response.url).path).name)

    def record(self, response, extracted=None, outcome=None, error=None, role=None) -> FetchRecord:
        meta = response.meta
        outcome = outcome or outcome_for(response.status)
        if outcome == "failed" and error is None:
            error = f"HTTP {response.status}"
        headers = {
            name: value.decode("latin-1")
            for name in KEPT_HEADERS
            if (value := response.headers.get(name))
        }
        ok = outcome == "ok"
        return FetchRecord(
            url=meta["url"],
            program=meta["program"],
            role=role or meta["role"],
            fetched_at=utcnow(),
            outcome=outcome,
            http_status=response.status,
            error=error,
            final_url=response.url,
            headers=headers,
            body=response.body if ok else None,
            content_type=headers.get("content-type"),
            extracted=extracted if ok else None,
            protocol=response.protocol,
            response_headers=self.header_pairs(response.headers),
            request_method=response.request.method,
            request_headers=self.header_pairs(response.request.headers),
        )

    @staticmethod
    def header_pairs(headers) -> tuple[tuple[str, str], ...]:
        """Scrapy's headers as ``(name, value)`` pairs, one per value, in order."""
        return tuple((name.decode("latin-1"), value.decode("latin-1"))
                     for name, values in headers.items() for value in values)
