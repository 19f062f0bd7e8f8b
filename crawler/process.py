"""One crawl run in this process: lock the archive, run the spider, close the run.

Twisted's reactor cannot be restarted, so a process runs at most one crawl;
the demo and the scheduler start a child process for each.
"""

import gc
import sys
from contextlib import contextmanager

from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from wwc_archive.archive import Archive, assets
from wwc_archive.crawler.limits import STOP_REASONS, enforce_stop_limits, limits_note
from wwc_archive.crawler.pipelines import WRITE_ERROR_STAT
from wwc_archive.crawler.progress import ProgressLine, configure_logging
from wwc_archive.crawler.settings import crawl_settings
from wwc_archive.crawler.spiders.program import ProgramSpider

#: Allocations between young-generation collections while crawling (Python's default is 700).
YOUNG_COLLECTION_THRESHOLD = 5000


def run_crawl(programs, db_path: str, crawl_options: dict | None = None, overrides: dict | None = None,
              trigger: str = "manual", note: str | None = None, lock_wait: float = 0, verbose: int = 0,
              progress: bool = False, on_open=None) -> dict:
    """Crawl ``programs`` into the archive at ``db_path``; returns the finished run row.

    ``verbose`` (0, 1, 2) shows Scrapy's log at WARNING with one line per message,
    at INFO with tracebacks, or at DEBUG; ``progress`` draws a live line on stderr.
    ``on_open(archive)`` is called once the archive is open (to report an upgrade).
    Raises :class:`wwc_archive.archive.ArchiveBusy` when another crawl holds the archive
    and :class:`wwc_archive.archive.ArchiveError` when the file is not a usable archive.
    """
    archive = Archive(db_path)
    try:
        if on_open is not None:
            on_open(archive)
        return _run_locked(archive, programs, db_path, crawl_options, overrides, trigger, note, lock_wait,
                           verbose, progress)
    finally:
        archive.close()


def _run_locked(archive, programs, db_path, crawl_options, overrides, trigger, note, lock_wait, verbose,
                progress) -> dict:
    names = [program.name for program in programs]
    with archive.crawl_lock(wait=lock_wait):
        run_id = archive.start_run(names, trigger=trigger)
        settings = Settings(crawl_settings(crawl_options or {}))
        if verbose:
            settings.set("LOG_LEVEL", "INFO" if verbose == 1 else "DEBUG", priority="project")
        settings.setdict(overrides or {}, priority="cmdline")
        settings.set("WWC_ARCHIVE_DB", db_path, priority="cmdline")
        settings.set("WWC_RUN_ID", run_id, priority="cmdline")
        enforce_stop_limits(settings)
        settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")  # ours: see configure_logging
        process = CrawlerProcess(settings)
        crawler = process.create_crawler(ProgramSpider)
        line = ProgressLine(crawler, sys.stderr, changes=lambda: archive.change_count(run_id)) if progress else None
        configure_logging(sys.stderr, settings.get("LOG_LEVEL"), verbose, line)
        closed = {}

        def on_closed(spider, reason):
            closed["reason"] = reason

        crawler.signals.connect(on_closed, signal=signals.spider_closed)
        process.crawl(crawler, programs=programs, known_pages=archive.known_pages(names),
                      cookies=archive.kept_cookies(), known_assets=assets.known_assets(archive.db))
        try:
            with crawl_heap():
                process.start()
        except BaseException:
            archive.finish_run(run_id, "interrupted", note="the crawl process failed")
            raise
        finally:
            if line is not None:
                line.clear()
        if crawler.spider is not None:
            archive.keep_cookies(crawler.spider.cookies.rows())
        reason = closed.get("reason")
        limits = limits_note(crawler.stats, settings, reason)
        write_error = crawler.stats.get_value(WRITE_ERROR_STAT)
        if write_error:
            return archive.finish_run(run_id, "interrupted", note=f"the archive could not be written: {write_error}")
        if reason == "finished":
            return archive.finish_run(run_id, "complete", note="; ".join(filter(None, [note, limits])) or None)
        if reason in STOP_REASONS:  # a limit stopped the crawl: not every page was visited
            return archive.finish_run(run_id, "interrupted", note=limits)
        return archive.finish_run(run_id, "interrupted", note=f"crawl stopped early ({reason or 'no spider ran'})")


@contextmanager
def crawl_heap():
    """Garbage collection sized for a crawl.

    What exists before the crawl starts (modules, settings, the archived pages
    it may revisit) lives as long as the crawl: frozen, it is not scanned again
    by every full collection. Each page makes thousands of short-lived objects,
    so young collections wait for more of them. Together these took the
    collector from 0.45 s to 0.1 s of a 2,000-page crawl.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
