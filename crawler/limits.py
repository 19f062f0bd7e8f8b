"""Hard limits that make every crawl end, and the run note that says which were hit.

Two limits shape what is read and leave the run complete: "Show more" pages per
listing (the listing is archived as far as it was read) and links taken from
one page (the first N, in document order). Two stop the crawl: total requests
and wall time. They reuse Scrapy's CloseSpider extension (``CLOSESPIDER_PAGECOUNT``,
``CLOSESPIDER_TIMEOUT``); a crawl they stop has not visited every page, so its
run is ``interrupted`` and decides no removals.

A backfill or a WARC import has no Scrapy: :class:`RunBudget` enforces the same
two stopping limits there, counting every request sent to a replay service
(retries and redirects included) or every record read from a WARC file.
"""

import time

from scrapy.settings import Settings

from wwc_archive.config import CrawlConfig

#: ``[crawl]`` option -> its Scrapy setting (defaults: :class:`~wwc_archive.config.CrawlConfig`).
#: 0 (only through ``-s``) turns a limit off.
LIMITS = {
    "max_listing_pages": "WWC_MAX_LISTING_PAGES",
    "max_links_per_page": "WWC_MAX_LINKS_PER_PAGE",
    "max_requests": "WWC_MAX_REQUESTS",
    "max_run_seconds": "WWC_MAX_RUN_SECONDS",
}
#: The spider-close reasons of the limits that stop a crawl, and the option each enforces.
STOP_REASONS = {"closespider_pagecount": "max_requests", "closespider_timeout": "max_run_seconds"}
_STAT = "wwc_archive/limit/"


def limit_settings(crawl_options: dict) -> dict:
    """The ``WWC_MAX_*`` settings from the ``[crawl]`` options, or :class:`CrawlConfig`'s defaults."""
    return {setting: int(crawl_options.get(option, CrawlConfig.model_fields[option].default))
            for option, setting in LIMITS.items()}


def enforce_stop_limits(settings: Settings) -> None:
    """Hand the request and time limits, after ``-s`` overrides, to Scrapy's CloseSpider."""
    settings.set("CLOSESPIDER_PAGECOUNT", settings.getint("WWC_MAX_REQUESTS"), priority="cmdline")
    settings.set("CLOSESPIDER_TIMEOUT", settings.getfloat("WWC_MAX_RUN_SECONDS"), priority="cmdline")


def record_limit(stats, option: str, url: str) -> None:
    """Count one page a shaping limit cut short, remembering the first."""
    stats.inc_value(_STAT + option)
    if stats.get_value(_STAT + option + "/first") is None:
        stats.set_value(_STAT + option + "/first", url)


def limits_note(stats, settings: Settings, reason: str | None) -> str | None:
    """What the run's note says about the limits this crawl hit, or None."""
    parts = []
    listings = stats.get_value(_STAT + "max_listing_pages")
    if listings:
        parts.append(f"{_pages(listings, 'listing')} stopped after {settings.getint('WWC_MAX_LISTING_PAGES')} "
                     f"\"Show more\" pages and {'was' if listings == 1 else 'were'} archived as far as read "
                     f"(max_listing_pages), first {stats.get_value(_STAT + 'max_listing_pages/first')}")
    pages = stats.get_value(_STAT + "max_links_per_page")
    if pages:
        limit = settings.getint("WWC_MAX_LINKS_PER_PAGE")
        parts.append(f"{_pages(pages, 'page')} had more than {limit} links; only the first {limit} "
                     f"were followed (max_links_per_page), first {stats.get_value(_STAT + 'max_links_per_page/first')}")
    option = STOP_REASONS.get(reason or "")
    if option == "max_requests":
        parts.append(f"stopped after {settings.getint('WWC_MAX_REQUESTS')} responses (max_requests): "
                     "not every page was visited, so no removals were decided")
    elif option == "max_run_seconds":
        parts.append(f"stopped after {settings.getint('WWC_MAX_RUN_SECONDS')} seconds (max_run_seconds): "
                     "not every page was visited, so no removals were decided")
    return "; ".join(parts) or None


def _pages(count: int, noun: str) -> str:
    return f"1 {noun}" if count == 1 else f"{count} {noun}s"


class LimitReached(Exception):
    """A run without Scrapy (a backfill, a WARC import) reached ``max_requests`` or ``max_run_seconds``."""

    def __init__(self, option: str, limit: int):
        self.option, self.limit = option, limit
        what = f"{limit} requests" if option == "max_requests" else f"{limit} seconds"
        super().__init__(f"stopped after {what} ({option}): not every capture was read, so no removals "
                         "were decided; run the same command again to go on")


class RunBudget:
    """``max_requests`` and ``max_run_seconds`` for a run that has no Scrapy to enforce them.

    The source of captures calls :meth:`spend` before every request it sends
    (retries and redirects included) and :meth:`check_time` while it works
    without sending any; both raise :class:`LimitReached`. 0 turns a limit off.
    """

    def __init__(self, max_requests: int = 0, max_run_seconds: float = 0, clock=time.monotonic):
        self.max_requests, self.max_run_seconds = max_requests, max_run_seconds
        self.requests = 0
        self._clock = clock
        self._started = clock()

    def spend(self) -> None:
        self.check_time()
        if self.max_requests and self.requests >= self.max_requests:
            raise LimitReached("max_requests", self.max_requests)
        self.requests += 1

    def check_time(self) -> None:
        if self.max_run_seconds and self._clock() - self._started >= self.max_run_seconds:
            raise LimitReached("max_run_seconds", int(self.max_run_seconds))

    def remaining(self) -> float | None:
        """Seconds left before ``max_run_seconds``, or None without that limit."""
        if not self.max_run_seconds:
            return None
        return max(0.0, self.max_run_seconds - (self._clock() - self._started))
