"""The decade benchmark: years of nightly runs, written through the archive's own write path.

    python bench/decade.py --out /tmp/decade.db [--nights 3650] [--articles 2000] [--seed 0]

No HTTP: the bundled sample site renders every page as a crawl receives it
(Drupal markup, per-request noise, ETags and 304s), the crawler's extraction
reads it, and :class:`~wwc_archive.archive.write.RunWriter` stores the
records exactly as the crawl's storage process does. Each simulated night
(the clock is moved with time-machine, so runs, fetches and the site's dates
advance a day at a time) the site first changes and is then crawled:

- a new article every 3 nights, newest first on the hub, shifting every
  "Show more" page; 3 sentence edits in random articles; one article
  removed (404) every 60 nights;
- the hub and its "Show more" pages (15 teasers a page) are full 200s every
  night; articles and the 50 PDFs are conditional requests (304 unless
  changed); the 400 people pages have no validators and are 200s;
- each record carries the exchange as the spider records it from Scrapy
  (status line, every response header, the request's headers with its
  validators and Referer), which the archive keeps for WARC export;
- 1% of page fetches fail (503 or timeout); on 1% of nights one listing
  page fails, which fails the whole listing, as in a real crawl;
- after the first run of each month the archive is compacted, as
  ``wwc-archive crawl`` does (:mod:`wwc_archive.archive.compaction`).

Extraction is cached per page version (a listing page's teasers, a person's
article list), so an unchanged page is not re-extracted; its body is the
one rendered when that version first appeared, which is what the archive
keeps anyway. Prints the build rate, then the file's size by part, its rows
per table, bytes per night, and how many nights stored nothing for requisites.
"""

import argparse
import email.utils
import os
import random
import re
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import PurePosixPath

try:
    import time_machine
except ImportError:
    sys.exit("error: bench/decade.py needs time-machine: pip install -e '.[bench]'")

from wwc_archive.archive import Archive, compaction
from wwc_archive.config import DEFAULT_PROGRAM, SiteProfile
from wwc_archive.crawler.extract import extract_page
from wwc_archive.crawler.settings import user_agent
from wwc_archive.crawler.urls import normalize_url
from wwc_archive.crawler.spiders.program import add_items, add_paragraphs, merged_listing, outcome_for
from wwc_archive.demo_site import DemoSite, Person, content
from wwc_archive.records import KEPT_HEADERS, AssetFetch, Extracted, FetchRecord, utcnow
from wwc_archive.config import CrawlConfig
from wwc_archive.crawler.requisites import css_requisites, page_requisites

import sizes

BASE = "https://datasmart.hks.harvard.edu"
HOST = "datasmart.hks.harvard.edu"
PROFILE = SiteProfile()
PER_PAGE = 15
PEOPLE = 400
AUTHORS = 150  # people generated with the site (the demo site's name list runs out near 224)
DOCUMENTS = 50
PUBLISH_EVERY = 3
EDITS_PER_NIGHT = 3
REMOVE_EVERY = 60
FAILURE_RATE = 0.01
FIRST_NIGHT = datetime(2027, 1, 1, 3, 0, tzinfo=timezone.utc)
SENTENCE_END = re.compile(r"(?<=[.?!])\s+")
#: The request headers the crawl sends after its own (validators, Referer), as Scrapy orders them.
REQUEST_HEADERS = (("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
                   ("Accept-Language", "en"), ("User-Agent", user_agent()),
                   ("Accept-Encoding", "gzip, deflate, br, zstd"))


# The site and its changes -------------------------------------------------------


def make_site(articles: int, seed: int) -> DemoSite:
    """The sample site with ``articles`` articles, 400 people and 50 PDFs."""
    site = DemoSite(n_articles=articles, n_people=AUTHORS, per_page=PER_PAGE, seed=seed, special_pages=False)
    rng = random.Random(seed + 10)
    taken = {person.slug for person in site.people}
    while len(site.people) < PEOPLE:  # more people than the name list allows: add a middle initial
        base = content.make_person(rng, set())
        name = base.name.replace(" ", f" {rng.choice('ABCDEFGHJKLMNPRSTVW')}. ", 1)
        if content.slugify(name) in taken:
            continue
        person = Person(content.slugify(name), name, base.bio.replace(base.name, name), base.role)
        taken.add(person.slug)
        site.people.append(person)
        site._people[person.slug] = person  # DemoSite has no public way to add a person
    pdfs = [path for path, (kind, _) in site.documents.items() if kind == content.PDF_TYPE]
    for number in range(len(pdfs), DOCUMENTS):
        path = f"/sites/default/files/20{20 + number % 7}-{number % 12 + 1:02}/wwc-brief-{number}.pdf"
        site.update_document(path, content.make_pdf(f"What Works Cities brief {number}"), content.PDF_TYPE)
    return site


def change_site(site: DemoSite, night: int, rng: random.Random) -> None:
    """What happens on the site during the day before night ``night``."""
    if night % PUBLISH_EVERY == 0:
        publish(site, rng)
    for _ in range(EDITS_PER_NIGHT):
        edit_sentence(site, rng)
    if night % REMOVE_EVERY == 0:
        site.unpublish(rng.choice(site.published()).slug, 404)


def publish(site: DemoSite, rng: random.Random) -> None:
    """A new article, newest on the hub."""
    site.publish_article(content.make_title(rng), content.make_paragraphs(rng), style=rng.choice(("news", "slug")))


def edit_sentence(site: DemoSite, rng: random.Random) -> None:
    """One sentence of a random published article replaced by a new one."""
    article = rng.choice(site.published())
    old = rng.choice(SENTENCE_END.split(rng.choice(article.paragraphs)))
    new = SENTENCE_END.split(content.make_paragraphs(rng)[0])[0]
    site.edit_article(article.slug, old, new)


# One night's crawl ------------------------------------------------------------------


class Crawl:
    """Fetches the site as the spider does and hands the records to a run's writer."""

    def __init__(self, site: DemoSite, rng: random.Random):
        self.site = site
        self.rng = rng
        self.validators: dict[str, tuple] = {}  # URL -> (ETag, Last-Modified) held, for conditional requests
        self.versions: dict[str, tuple] = {}  # URL -> (version key, extracted, body, response, next page)
        self.listing: tuple = ((), None)  # (version keys of its pages, merged Extracted)
        self.requisites: dict[str, str] = {}  # requisite URL (normalized) -> kind, as pages referred to them
        self.assets: dict[str, tuple] = {}  # requisite URL -> (ETag, Last-Modified, night last checked)
        self.max_age_nights = CrawlConfig().requisites_max_age / 86400
        self.nights = 0

    def night(self, writer) -> None:
        self.crawl_listing(writer)
        for article in self.site.articles:
            self.fetch_conditional(writer, self.site.article_path(article), "page")
        for person, key in self.people_versions().items():
            self.fetch_versioned(writer, f"/people/{person}", "page", key)
        for path in self.site.documents:
            self.fetch_conditional(writer, path, "document")
        self.fetch_requisites(writer)

    # Requisites (crawler/requisites.py): checked at most once every requisites_max_age ----------------

    def refer(self, body: bytes, url: str) -> None:
        for requisite in page_requisites(body.decode("utf-8"), url):
            link = normalize_url(requisite.url, ignore_params=PROFILE.ignore_query_params)
            if link and link.startswith(BASE):
                self.requisites.setdefault(link, requisite.kind)

    def fetch_requisites(self, writer) -> None:
        self.nights += 1
        night = self.nights
        for url, kind in list(self.requisites.items()):
            held = self.assets.get(url)
            if held is not None and night - held[2] < self.max_age_nights:
                continue
            conditional = tuple((name, value) for name, value in zip(("If-None-Match", "If-Modified-Since"),
                                                                     held[:2] if held else ()) if value)
            response = self.site.handle("GET", url.removeprefix(BASE), {"Host": HOST, **dict(conditional)})
            headers = kept_headers(response.headers)
            outcome = outcome_for(response.status)
            if outcome == "ok":
                self.assets[url] = (headers.get("etag"), headers.get("last-modified"), night)
                if kind == "stylesheet":
                    for requisite in css_requisites(response.body.decode("utf-8"), url):
                        link = normalize_url(requisite.url, ignore_params=PROFILE.ignore_query_params)
                        if link and link.startswith(BASE):
                            self.requisites.setdefault(link, requisite.kind)
            elif held is not None:
                self.assets[url] = (*held[:2], night)
            pairs = exchange(response.status, response.body, response.headers, conditional + referred(BASE))
            writer.add(AssetFetch(url=url, program=DEFAULT_PROGRAM, kind=kind, fetched_at=utcnow(), outcome=outcome,
                                  http_status=response.status, body=response.body if outcome == "ok" else None,
                                  content_type=headers.get("content-type"), etag=headers.get("etag"),
                                  last_modified=headers.get("last-modified"), **pairs))

    # The hub and its "Show more" pages ---------------------------------------------

    def crawl_listing(self, writer) -> None:
        pages = self.site.hub_page_count
        failing = self.rng.randrange(pages) if self.rng.random() < FAILURE_RATE else None
        hub = BASE + self.site.hub_path
        url, keys, first, previous = hub, [], None, hub
        for page_no in range(pages):
            role = "program" if page_no == 0 else "pager"
            if page_no == failing:
                writer.add(self.failed(url, role))
                if role == "pager":
                    writer.add(FetchRecord(url=hub, program=DEFAULT_PROGRAM, role="program", fetched_at=utcnow(),
                                           outcome="failed", http_status=200, final_url=hub,
                                           error=f"Show more page {url} failed: HTTP 503"))
                return
            key = self.listing_key(page_no)
            _, extracted, body, response, next_page = self.version(url, key)
            keys.append((url, key))
            if role == "pager":
                writer.add(self.ok(url, role, body, response, extracted, referer=previous))
            else:
                first = (body, response, extracted)
            if not next_page:
                break
            previous, url = url, next_page
        body, response, extracted = first
        writer.add(self.ok(hub, "program", body, response, self.merged_listing(keys, extracted), referer=None))

    def listing_key(self, page_no: int) -> tuple:
        """What a listing page shows: its teasers and whether it has a next page."""
        listing = self.site.published()
        chunk = listing[page_no * PER_PAGE:(page_no + 1) * PER_PAGE]
        return page_no, (page_no + 1) * PER_PAGE < len(listing), tuple(
            (a.id, a.title, a.summary, a.published, a.author) for a in chunk)

    def merged_listing(self, keys: list, first: Extracted) -> Extracted:
        """The program record's content: every listing page's paragraphs, as the spider merges them."""
        if self.listing[0] != tuple(keys):
            paragraphs, links, items = [], set(), {}
            for url, _ in keys:
                extracted = self.versions[url][1]
                add_paragraphs(paragraphs, extracted.text)
                links.update(extracted.links)
                add_items(items, extracted.items)
            merged = merged_listing(first, paragraphs, links, items)
            self.listing = (tuple(keys), merged)
        return self.listing[1]

    # Pages --------------------------------------------------------------------------

    def people_versions(self) -> dict[str, tuple]:
        """Each person's page version: the articles it lists."""
        mine: dict[str, list] = {person.slug: [] for person in self.site.people}
        for article in self.site.published():
            mine[article.author].append((article.id, article.title, article.published))
        return {slug: tuple(articles) for slug, articles in mine.items()}

    def version(self, url: str, key) -> tuple:
        """The page at ``url`` as it is now: rendered and extracted only when ``key`` is new."""
        cached = self.versions.get(url)
        if cached is None or cached[0] != key:
            response = self.site.handle("GET", url.removeprefix(BASE), {"Host": HOST})
            page = extract_page(response.body.decode("utf-8"), url, PROFILE)
            self.refer(response.body, url)
            cached = (key, page.extracted, response.body, response.headers, page.next_page)
            self.versions[url] = cached
        return cached

    def fetch_versioned(self, writer, path: str, role: str, key) -> None:
        url = BASE + path
        if self.fails():
            writer.add(self.failed(url, role))
            return
        _, extracted, body, response, _ = self.version(url, key)
        writer.add(self.ok(url, role, body, response, extracted))

    def fetch_conditional(self, writer, path: str, role: str) -> None:
        """A page or document fetched with the ETag held: a 304 unless it changed."""
        url = BASE + path
        if self.fails():
            writer.add(self.failed(url, role))
            return
        validators = self.validators.get(url)
        conditional = ()
        if validators:
            conditional = tuple((name, value) for name, value in zip(("If-None-Match", "If-Modified-Since"), validators)
                                if value)
        response = self.site.handle("GET", path, {"Host": HOST, **dict(conditional)})
        headers = kept_headers(response.headers)
        outcome = outcome_for(response.status)
        if outcome in ("gone", "not_modified"):
            if outcome == "gone":
                self.validators.pop(url, None)  # the crawl sends validators only for live pages
            writer.add(FetchRecord(url=url, program=DEFAULT_PROGRAM, role=role, fetched_at=utcnow(), outcome=outcome,
                                   http_status=response.status, final_url=url, headers=headers,
                                   **exchange(response.status, response.body, response.headers,
                                              conditional + referred(BASE))))
            return
        self.validators[url] = (headers.get("etag"), headers.get("last-modified"))
        if role != "document":
            self.refer(response.body, url)
        if role == "document":
            extracted = Extracted(title=PurePosixPath(path).name)
        else:
            extracted = extract_page(response.body.decode("utf-8"), url, PROFILE, find_next=False).extracted
        writer.add(self.ok(url, role, response.body, response.headers, extracted, request=conditional))

    # Records --------------------------------------------------------------------------

    def fails(self) -> bool:
        return self.rng.random() < FAILURE_RATE

    def failed(self, url: str, role: str) -> FetchRecord:
        request = {"request_method": "GET", "request_headers": REQUEST_HEADERS}
        if self.rng.random() < 0.5:
            return FetchRecord(url=url, program=DEFAULT_PROGRAM, role=role, fetched_at=utcnow(), outcome="failed",
                               http_status=503, final_url=url, error="HTTP 503", **request)
        return FetchRecord(url=url, program=DEFAULT_PROGRAM, role=role, fetched_at=utcnow(), outcome="failed",
                           error=f"TimeoutError: Getting {url} took longer than 180.0 seconds.", **request)

    @staticmethod
    def ok(url: str, role: str, body: bytes, response: list[tuple[str, str]], extracted: Extracted,
           referer: str | None = BASE, request: tuple = ()) -> FetchRecord:
        """A 200 as the spider records it; ``referer`` is the page that linked it (the hub for a known page)."""
        headers = kept_headers(response)
        return FetchRecord(url=url, program=DEFAULT_PROGRAM, role=role, fetched_at=utcnow(), outcome="ok",
                           http_status=200, final_url=url, headers=headers, body=body,
                           content_type=headers.get("content-type"), extracted=extracted,
                           **exchange(200, body, response, request + referred(referer)))


def referred(referer: str | None) -> tuple:
    """The crawl's request headers after its validators: Referer (``BASE`` for the hub), then Scrapy's defaults."""
    if referer == BASE:
        referer = BASE + "/what-works-cities"
    return ((("Referer", referer),) if referer else ()) + REQUEST_HEADERS


def exchange(status: int, body: bytes, response: list[tuple[str, str]], request: tuple) -> dict:
    """A record's exchange fields as the spider fills them from Scrapy: the server's
    Content-Length, Date and Server first (the demo server's order), names as Scrapy spells them."""
    first = ([("Content-Length", str(len(body)))] if status != 304 else []) + [
        ("Date", email.utils.formatdate(time.time(), usegmt=True)), ("Server", "Apache")]
    pairs = tuple((name.title(), value) for name, value in first + response)
    return {"protocol": "HTTP/1.1", "response_headers": pairs, "request_method": "GET", "request_headers": request}


def kept_headers(headers: list[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers if name.lower() in KEPT_HEADERS}


# The build ----------------------------------------------------------------------------


def file_bytes(path: str) -> int:
    return sum(os.path.getsize(name) for name in (path, path + "-wal") if os.path.exists(name))


def build(out: str, nights: int, articles: int, seed: int) -> float:
    """Write ``nights`` nightly runs to a new archive at ``out``; returns the seconds taken."""
    site = make_site(articles, seed)
    crawl = Crawl(site, random.Random(seed + 20))
    events = random.Random(seed + 30)
    archive = Archive(out)
    started = time.perf_counter()
    every = max(1, nights // 20)
    try:
        with time_machine.travel(FIRST_NIGHT, tick=True) as clock:
            for night in range(nights):
                clock.move_to(FIRST_NIGHT + timedelta(days=night))
                if night:
                    change_site(site, night, events)
                run_id = archive.start_run([DEFAULT_PROGRAM], "scheduled")
                writer = archive.writer(run_id, batch_size=1000)
                crawl.night(writer)
                writer.flush()
                archive.finish_run(run_id, "complete")
                if compaction.due(archive.db, run_id):  # as `crawl` does after the month's first complete crawl
                    compaction.compact(archive)
                if (night + 1) % every == 0 or night + 1 == nights:
                    elapsed = time.perf_counter() - started
                    print(f"night {night + 1:>5,}  {elapsed:>7.0f} s  {(night + 1) / elapsed:5.2f} nights/s  "
                          f"{sizes.megabytes(file_bytes(out)):>12}  {len(site.published()):,} articles listed",
                          flush=True)
    finally:
        archive.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nights", type=int, default=3650, help="nightly runs to write (default 3650)")
    parser.add_argument("--articles", type=int, default=2000, help="articles on the site at the start (default 2000)")
    parser.add_argument("--out", required=True, help="the archive to create (must not exist)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args()
    if args.nights < 1 or args.articles < 1:
        sys.exit("error: --nights and --articles must be at least 1")
    if os.path.exists(args.out):
        sys.exit(f"error: {args.out} exists; remove it or choose another --out")
    seconds = build(args.out, args.nights, args.articles, args.seed)
    print(f"\nbuilt {args.nights:,} nights in {seconds:,.0f} s: {args.nights / seconds:.2f} nights/s "
          f"({seconds / args.nights * 3650 / 60:,.0f} min for 3,650 nights at this rate)")
    sizes.print_report(args.out, args.nights)
    sizes.print_requisites(args.out)


if __name__ == "__main__":
    main()
