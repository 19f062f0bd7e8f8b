"""One crawl run in this process: lock the archive, run the spider, close the run.

Twisted's reactor cannot be restarted, so a process runs at most one crawl;
the demo and the scheduler start a child process for each.
"""

from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from wwc_archive.archive import Archive
from wwc_archive.crawler.limits import STOP_REASONS, enforce_stop_limits, limits_note
from wwc_archive.crawler.pipelines import WRITE_ERROR_STAT
from wwc_archive.crawler.settings import crawl_settings
from wwc_archive.crawler.spiders.program import ProgramSpider


def run_crawl(programs, db_path: str, crawl_options: dict | None = None, overrides: dict | None = None,
              trigger: str = "manual", note: str | None = None, lock_wait: float = 0) -> dict:
    """Crawl ``programs`` into the archive at ``db_path``; returns the finished run row.

    Raises :class:`wwc_archive.archive.ArchiveBusy` when another crawl holds the archive.
    """
    archive = Archive(db_path)
    try:
        return _run_locked(archive, programs, db_path, crawl_options, overrides, trigger, note, lock_wait)
    finally:
        archive.close()


def _run_locked(archive, programs, db_path, crawl_options, overrides, trigger, note, lock_wait) -> dict:
    names = [program.name for program in programs]
    with archive.crawl_lock(wait=lock_wait):
        run_id = archive.start_run(names, trigger=trigger)
        settings = Settings(crawl_settings(crawl_options or {}))
        settings.setdict(overrides or {}, priority="cmdline")
        settings.set("WWC_ARCHIVE_DB", db_path, priority="cmdline")
        settings.set("WWC_RUN_ID", run_id, priority="cmdline")
        enforce_stop_limits(settings)
        process = CrawlerProcess(settings)
        crawler = process.create_crawler(ProgramSpider)
        closed = {}

        def on_closed(spider, reason):
            closed["reason"] = reason

        crawler.signals.connect(on_closed, signal=signals.spider_closed)
        process.crawl(crawler, programs=programs, known_pages=archive.known_pages(names))
        try:
            process.start()
        except BaseException:
            archive.finish_run(run_id, "interrupted", note="the crawl process failed")
            raise
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
