"""History from web archives: captures walked day by day, written as the crawl writes.

A backfill walks a capture source (a Wayback-compatible server, or WARC files)
the way a nightly crawl walks the site: for each capture day, in date order, the
program page's capture with its "Show more" pages folded in (the spider's own
folding), the pages it links to within the program's depth and scope, the
documents they link, and every page linked on an earlier day. Each URL's capture
of that day (its last one that answered, else its last) becomes a
:class:`~wwc_archive.records.FetchRecord` with the capture time, and the day's
records go through ``Archive.start_run`` → ``writer.add`` → ``finish_run(complete)``:
change detection is the crawl's own code, so noise is not a change, a 5xx is a
failed fetch, and only a 404/410 capture in a complete run is a removal.

Decisions:
- A capture whose CDX digest equals the previous capture of the same URL, which
  was read, is not fetched: it is written as ``not_modified``, as a 304 would
  be (the archive keeps the content it holds; no change, no new body). A
  program page is the exception: its record folds in its "Show more" pages, so
  its bytes are reused from memory and the listing is read again.
- The status comes from the CDX line: 404/410 is ``gone``, any other non-2xx
  (5xx, and 3xx redirects, which are not followed) is a failed fetch; neither
  is fetched.
- A day is fetched whole before anything is written, then written in one run:
  a kill loses at most the day in hand. A day whose run is complete is walked
  from the archive without fetching; a run left interrupted is reused, and the
  fetches it already holds are not written again.
- ``max_requests`` and ``max_run_seconds`` (a :class:`~wwc_archive.crawler.limits.RunBudget`
  the source spends) stop a backfill as they stop a crawl: the day in hand is
  written as far as it was read, in a run closed ``interrupted`` whose note names
  the limit, so it decides no removals; the next backfill goes on from there.
- A day whose writing fails closes its run ``interrupted``: no run is left ``running``.
"""

import heapq
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from w3lib.encoding import html_to_unicode

from wwc_archive.archive import queries
from wwc_archive.config import Program, origin_of
from wwc_archive.crawler.extract import extract_page
from wwc_archive.crawler.limits import LimitReached
from wwc_archive.crawler.replay import Fetched, ReplayError
from wwc_archive.crawler.spiders.program import add_items, add_paragraphs, merged_listing, outcome_for
from wwc_archive.crawler.urls import in_scope, is_document, normalize_url
from wwc_archive.crawler.wayback import Capture
from wwc_archive.records import KEPT_HEADERS, Extracted, FetchRecord


class BackfillError(Exception):
    """The backfill cannot run (a one-line reason)."""


@dataclass
class Summary:
    days: int = 0
    runs_written: int = 0
    days_already_done: int = 0
    captures: int = 0
    identical: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    run_ids: list[int] = field(default_factory=list)
    #: Why the backfill stopped before its last day (a limit), or None.
    stopped: str | None = None


def history_scope(programs):
    """Whether a URL is one of the programs' pages: their origins and previous origins."""
    origins = frozenset().union(*(program.origins | {origin_of(old) for old in program.previous_origins}
                                  for program in programs))
    return lambda url: in_scope(url, origins)


def _ok_status(status: int | None) -> bool:
    return status is None or 200 <= status < 300


class Backfill:
    """One backfill of ``programs`` from ``source`` into ``archive`` (hold the crawl lock)."""

    def __init__(self, archive, programs, source, since: date | None = None, until: date | None = None,
                 max_listing_pages: int = 200, max_links_per_page: int = 2000, user_agent: str | None = None,
                 echo=None):
        self.archive = archive
        self.programs = tuple(programs)
        self.names = [program.name for program in self.programs]
        self.source = source
        self.since, self.until = since, until
        self.max_listing_pages = max_listing_pages
        self.max_links_per_page = max_links_per_page
        self.request_headers = (("User-Agent", user_agent),) if user_agent else ()
        self.echo = echo or (lambda line: None)
        self.summary = Summary()
        self._tracked: dict[str, tuple[Program, str]] = {}  # url -> (program, role)
        self._days: dict[str, dict[str, Capture]] = {}  # url -> day -> the day's capture
        self._heap: list[str] = []
        self._previous: dict[str, tuple[str | None, str]] = {}  # url -> (digest, outcome) of its last capture
        self._links: dict[str, tuple[str, ...]] = {}  # url -> links of its last content
        self._listing_bytes: dict[str, tuple[Capture, Fetched]] = {}  # listing page -> last fetch

    # The walk over days -------------------------------------------------------------

    def run(self) -> Summary:
        crawled = queries.crawl_runs(self.archive.db)
        if crawled:
            raise BackfillError(
                f"the archive already has crawls (run {crawled[0]['id']} on "
                f"{crawled[0]['started'][:10]}): history is written in time order, so backfill into a new "
                "archive, before its first crawl")
        runs = {}
        for run in queries.backfill_runs(self.archive.db):
            if run["programs"] == self.names:
                runs[run["started"][:10]] = run
        try:
            for program in self.programs:
                for start in program.start_urls:
                    url = normalize_url(start, ignore_params=program.profile.ignore_query_params)
                    self._track(url, program, "program", from_day="")
        except LimitReached as stop:
            self.summary.stopped = str(stop)
            return self.summary
        done: set[str] = set()
        while self._heap and self.summary.stopped is None:
            day = heapq.heappop(self._heap)
            if day in done:
                continue
            done.add(day)
            self._day(day, runs.get(day))
        return self.summary

    def _track(self, url: str, program: Program, role: str, from_day: str) -> None:
        """Follow ``url`` from ``from_day`` on: its later capture days join the walk."""
        if url in self._tracked:
            return
        self._tracked[url] = (program, role)
        for day in self._captures_by_day(url, program):
            if day >= from_day:
                heapq.heappush(self._heap, day)

    def _captures_by_day(self, url: str, program: Program) -> dict[str, Capture]:
        if url not in self._days:
            captures = []
            for address in self._addresses(url, program):
                captures.extend(self.source.captures(address, self.since, self.until))
            by_day: dict[str, list[Capture]] = {}
            for capture in sorted(captures, key=lambda c: c.timestamp):
                by_day.setdefault(capture.fetched_at[:10], []).append(capture)
            self._days[url] = {day: _day_capture(found) for day, found in by_day.items()}
        return self._days[url]

    def _nearest(self, url: str, program: Program, timestamp: str) -> Capture | None:
        """The capture of a "Show more" page nearest in time to its program page's."""
        captures = list(self._captures_by_day(url, program).values())
        if not captures:
            return None
        return min(captures, key=lambda c: abs(int(c.timestamp.ljust(14, "0")) - int(timestamp.ljust(14, "0"))))

    @staticmethod
    def _addresses(url: str, program: Program) -> list[str]:
        """``url`` and the same page at each of the program's previous origins."""
        parts = urlsplit(url)
        rest = url[len(f"{parts.scheme}://{parts.netloc}"):]
        return [url] + [old.rstrip("/") + rest for old in program.previous_origins]

    # One day -------------------------------------------------------------------------

    def _day(self, day: str, run: dict | None) -> None:
        recorded = queries.run_fetches(self.archive.db, run["id"]) if run else {}
        complete = run is not None and run["status"] == "complete"
        day_walk = _DayWalk(self, day, recorded)
        try:
            records = day_walk.walk()
        except LimitReached as stop:  # written as far as read, in an interrupted run
            records, self.summary.stopped = day_walk.records, str(stop)
        self.summary.days += 1
        if complete:
            self.summary.days_already_done += 1
            return
        new = [record for record in records if (record.url, record.fetched_at) not in recorded]
        if not new:
            return
        times = sorted({record.fetched_at for record in records if record.role != "pager"}
                       | {fetched_at for _, fetched_at in recorded}) or sorted(r.fetched_at for r in records)
        run_id = run["id"] if run else self.archive.start_run(self.names, trigger="backfill", started=times[0])
        note = f"backfilled from {self.source.kind} captures of {day}"
        try:
            writer = self.archive.writer(run_id, batch_size=200, max_delay=3600)
            for record in new:
                writer.add(record)
            writer.flush()
        except BaseException as error:
            self.archive.finish_run(run_id, "interrupted", finished=times[-1],
                                    note=f"{note}; the day could not be written: {type(error).__name__}")
            raise
        if self.summary.stopped:
            finished = self.archive.finish_run(run_id, "interrupted", finished=times[-1],
                                               note=f"{note}; {self.summary.stopped}")
        else:
            finished = self.archive.finish_run(run_id, "complete", finished=times[-1], note=note)
        self.summary.runs_written += 1
        self.summary.run_ids.append(run_id)
        self.summary.captures += len(new)
        self.summary.identical += day_walk.identical
        for kind in ("added", "changed", "removed"):
            setattr(self.summary, kind, getattr(self.summary, kind) + (finished[kind] or 0))
        self.echo(f"{day}: run {run_id}{' (interrupted)' if self.summary.stopped else ''}, {len(new)} captures "
                  f"({day_walk.identical} identical to the one before, not fetched): {finished['added']} added, "
                  f"{finished['changed']} changed, {finished['removed']} removed")


def _day_capture(captures: list[Capture]) -> Capture:
    """A URL's capture for its day: the last that answered (2xx, 404, 410), else the last."""
    answered = [c for c in captures if _ok_status(c.status) or c.status in (404, 410)]
    return (answered or captures)[-1]


class _DayWalk:
    """The records of one capture day, walked as the spider walks the site."""

    def __init__(self, backfill: Backfill, day: str, recorded: dict):
        self.b = backfill
        self.day = day
        self.recorded = recorded
        self.records: list[FetchRecord] = []
        self.requested: set[str] = set()
        self.identical = 0

    def walk(self) -> list[FetchRecord]:
        for program in self.b.programs:
            queue = deque()
            for start in program.start_urls:
                url = normalize_url(start, ignore_params=program.profile.ignore_query_params)
                if url in self.requested:
                    continue
                self.requested.add(url)
                capture = self.b._captures_by_day(url, program).get(self.day)
                if capture is not None:
                    self._follow(queue, self._listing(url, program, capture), program, depth=1)
            self._drain(queue, program)
            # Pages linked on an earlier day, as the crawl revisits every archived page.
            for url, (owner, role) in list(self.b._tracked.items()):
                if owner is program and role != "program" and url not in self.requested:
                    self.requested.add(url)
                    queue.append((url, role, program.depth + 1))
            self._drain(queue, program)
        return self.records

    def _follow(self, queue, links, program: Program, depth: int) -> None:
        """The spider's ``follow``: documents at any depth, pages to the program's depth, in scope, once."""
        for link in links[:self.b.max_links_per_page] if self.b.max_links_per_page else links:
            link = normalize_url(_current(link, program), ignore_params=program.profile.ignore_query_params)
            if link is None or link in self.requested or not in_scope(link, program.origins):
                continue
            if is_document(link):
                role = "document"
            elif depth <= program.depth:
                role = "page"
            else:
                continue
            self.requested.add(link)
            self.b._track(link, program, role, from_day=self.day)
            queue.append((link, role, depth))

    def _drain(self, queue, program: Program) -> None:
        while queue:
            url, role, depth = queue.popleft()
            capture = self.b._captures_by_day(url, program).get(self.day)
            if capture is None:
                continue  # not captured that day: not fetched, never a removal
            links, html = self._page(url, program, role, capture)
            if role == "page" and html:
                if depth >= program.depth:
                    links = tuple(link for link in links if is_document(link))
                self._follow(queue, links, program, depth + 1)

    # Pages ---------------------------------------------------------------------------

    def _page(self, url: str, program: Program, role: str, capture: Capture) -> tuple[tuple[str, ...], bool]:
        """Record one page or document capture; returns the links to follow and whether it was read as HTML."""
        known = self._known(url, capture)
        if known is not None:
            return known
        previous = self.b._previous.get(url)
        if not _ok_status(capture.status):
            self._add_status(url, program, role, capture)
            return (), False
        if capture.digest and previous == (capture.digest, "read"):
            self.identical += 1
            self._add(url, program, role, capture, "not_modified", capture.status or 200)
            return self.b._links.get(url, ()), role == "page"
        try:
            fetched = self.b.source.fetch(capture)
        except ReplayError as error:
            self._add(url, program, role, capture, "failed", None, error=str(error))
            return (), False
        if not _is_html(fetched):
            document = fetched.status == 200
            extracted = Extracted(title=PurePosixPath(urlsplit(url).path).name) if document else None
            self._add(url, program, "document" if document else role, capture,
                      outcome_for(fetched.status), fetched.status, fetched=fetched, extracted=extracted)
            return (), False
        content = extract_page(_text(fetched), url, program.profile)
        extracted = _current_extracted(content.extracted, program)
        self._add(url, program, role, capture, "ok", fetched.status, fetched=fetched, extracted=extracted)
        return tuple(_current(link, program) for link in content.links), True

    def _known(self, url: str, capture: Capture):
        """A capture the archive already holds (a complete day, or one an interrupted run wrote)."""
        found = self.recorded.get((url, capture.fetched_at))
        if found is None:
            return None
        read = found["outcome"] in ("ok", "not_modified")
        self.b._previous[url] = (capture.digest, "read" if read else found["outcome"])
        self.b._links[url] = tuple(found["links"])
        return tuple(found["links"]), read

    def _listing(self, url: str, program: Program, capture: Capture) -> tuple[str, ...]:
        """A program page with its "Show more" pages folded in, as the spider records it; returns its links."""
        known = self._known(url, capture)
        if known is not None:
            return known[0]
        if not _ok_status(capture.status):
            self._add_status(url, program, "program", capture)
            return ()
        fetched, error = self._listing_fetch(url, capture)
        if fetched is None or not _is_html(fetched):
            self._add(url, program, "program", capture, outcome_for(fetched.status) if fetched else "failed",
                      fetched.status if fetched else None, fetched=fetched, error=error)
            return ()
        content = extract_page(_text(fetched), url, program.profile)
        first = _current_extracted(content.extracted, program)
        follow = list(content.links[:self.b.max_links_per_page] if self.b.max_links_per_page else content.links)
        paragraphs, links, items = [], set(first.links), {}
        add_paragraphs(paragraphs, first.text)
        add_items(items, first.items)
        next_page, pages = content.next_page, 0
        while next_page:
            if self.b.max_listing_pages and pages >= self.b.max_listing_pages:
                break
            next_url = normalize_url(_current(next_page, program), ignore_params=program.profile.ignore_query_params)
            if next_url is None or next_url in self.requested or not in_scope(next_url, program.origins):
                break
            self.requested.add(next_url)
            pages += 1
            pager_capture = self.b._nearest(next_url, program, capture.timestamp)
            failure = None
            pager, pager_error = self._listing_fetch(next_url, pager_capture) if pager_capture else (None, None)
            if pager_capture is None:
                failure = f"Show more page {next_url} has no capture"
            elif pager is None or not _is_html(pager):
                self._add(next_url, program, "pager", pager_capture, outcome_for(pager.status) if pager else "failed",
                          pager.status if pager else None, fetched=pager, error=pager_error)
                failure = f"Show more page {next_url} answered {pager.status if pager else 'nothing'}"
            if failure:
                self._add(url, program, "program", capture, "failed", fetched.status, error=failure)
                return tuple(_current(link, program) for link in follow)
            page_content = extract_page(_text(pager), next_url, program.profile)
            page_extracted = _current_extracted(page_content.extracted, program)
            self._add(next_url, program, "pager", pager_capture, "ok", pager.status, fetched=pager,
                      extracted=page_extracted)
            follow.extend(page_content.links[:self.b.max_links_per_page] if self.b.max_links_per_page
                          else page_content.links)
            add_paragraphs(paragraphs, page_extracted.text)
            links.update(page_extracted.links)
            add_items(items, page_extracted.items)
            next_page = page_content.next_page
        extracted = merged_listing(first, paragraphs, links, items)
        self._add(url, program, "program", capture, "ok", fetched.status, fetched=fetched,
                  extracted=extracted)
        return tuple(_current(link, program) for link in follow)

    def _listing_fetch(self, url: str, capture: Capture) -> tuple[Fetched | None, str | None]:
        """A listing page's capture, or why it could not be read.

        The same capture, or an identical one (same digest), is not fetched again.
        """
        last = self.b._listing_bytes.get(url)
        if last is not None and (last[0].timestamp == capture.timestamp
                                 or capture.digest and last[0].digest == capture.digest):
            if last[0].timestamp != capture.timestamp:
                self.identical += 1
            return last[1], None
        try:
            fetched = self.b.source.fetch(capture)
        except ReplayError as error:
            return None, str(error)
        self.b._listing_bytes[url] = (capture, fetched)
        return fetched, None

    # Records -------------------------------------------------------------------------

    def _add_status(self, url: str, program: Program, role: str, capture: Capture) -> None:
        """Record a capture whose CDX status says it need not be fetched (404/410, 5xx, 3xx)."""
        status = capture.status
        error = None
        if not status or status >= 500 or status < 400:
            error = f"the capture is an HTTP {status} answer" + (" (a redirect, not followed)"
                                                                  if status and 300 <= status < 400 else "")
        self._add(url, program, role, capture, outcome_for(status) if status in (404, 410) else "failed",
                  status, error=error)

    def _add(self, url, program, role, capture, outcome, status, fetched: Fetched | None = None,
             extracted=None, error=None) -> None:
        """Add the day's record of one capture, and remember it as the URL's last."""
        if outcome == "failed" and error is None:
            error = f"HTTP {status}"
        headers = {}
        if fetched is not None:
            headers = {name: fetched.header(name) for name in KEPT_HEADERS if fetched.header(name)}
        ok = outcome == "ok"
        record = FetchRecord(
            url=url, program=program.name, role=role, fetched_at=capture.fetched_at, outcome=outcome,
            http_status=status, error=error, final_url=url, headers=headers,
            body=fetched.body if ok and fetched else None, content_type=headers.get("content-type"),
            extracted=extracted if ok else None,
            protocol=fetched.protocol if fetched else None,
            response_headers=fetched.headers if fetched else (),
            request_method="GET" if fetched else None,
            request_headers=self.b.request_headers if fetched else (),
            source=self.b.source.kind, memento_url=self.b.source.memento_url(capture),
        )
        self.b._previous[url] = (capture.digest, "read" if outcome in ("ok", "not_modified") else outcome)
        if ok and extracted is not None:
            self.b._links[url] = tuple(extracted.links)
        self.records.append(record)


def _is_html(fetched: Fetched) -> bool:
    return fetched.status == 200 and "html" in (fetched.header("content-type") or "text/html").lower()


def _text(fetched: Fetched) -> str:
    """The body decoded as Scrapy decodes it (header, BOM, meta charset), with w3lib."""
    return html_to_unicode(fetched.header("content-type"), fetched.body)[1]


def _current(url: str, program: Program) -> str:
    """A URL at one of the program's previous origins, moved to its current origin."""
    if not program.previous_origins:
        return url
    try:
        origin = origin_of(url)
    except Exception:
        return url
    for old in program.previous_origins:
        if origin_of(old) == origin:
            parts = urlsplit(url)
            current = urlsplit(program.start_urls[0])
            return url.replace(f"{parts.scheme}://{parts.netloc}", f"{current.scheme}://{current.netloc}", 1)
    return url


def _current_extracted(extracted: Extracted, program: Program) -> Extracted:
    if not program.previous_origins:
        return extracted
    return replace(extracted, links=tuple(sorted({_current(link, program) for link in extracted.links})),
                   items=tuple(replace(item, url=_current(item.url, program)) for item in extracted.items))
