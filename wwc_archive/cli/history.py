"""``wwc-archive backfill`` and ``import-warc``: history from web archives, as backfill runs."""

import sys
from datetime import date, datetime

import click

from wwc_archive.cli.options import (
    CONTEXT_SETTINGS,
    UsageError,
    config_option,
    db_option,
    load_config_or_exit,
    open_archive_for_writing,
)
from wwc_archive.config import ConfigError, origin_of, programs_for_start_urls
from wwc_archive.crawler.wayback import IA_CDX
from wwc_archive.exits import EXIT_BUSY, EXIT_INTERRUPTED

IA_REPLAY = "https://web.archive.org/web"


def program_options(fn):
    fn = click.option("--start-url", "start_urls", multiple=True,
                      help="Walk these program pages instead of the configured programs")(fn)
    fn = click.option("--program", "program_names", multiple=True, metavar="NAME",
                      help="Only this configured program (repeatable)")(fn)
    return db_option(config_option(fn))


@click.command(context_settings=CONTEXT_SETTINGS)
@program_options
@click.option("--since", metavar="DATE", help="First capture day (2015-06-01) [default: the first capture]")
@click.option("--until", metavar="DATE", help="Last capture day (2019-12-31) [default: the last capture]")
@click.option("--cdx-api", default=IA_CDX, show_default=True, metavar="URL",
              help="A Wayback-compatible CDX API (pywb: HOST/COLLECTION/cdx)")
@click.option("--replay", default=IA_REPLAY, show_default=True, metavar="URL",
              help="Its replay prefix: captures are read raw from URL/TIMESTAMPid_/PAGE (pywb: HOST/COLLECTION)")
def backfill(config_path, db_path, program_names, start_urls, since, until, cdx_api, replay):
    """Read the programs' history from the Wayback Machine into backfill runs, one per capture day.

    Walks each capture day in date order as a crawl walks the site: the program
    page (with its "Show more" pages), the pages it links to, and the pages
    linked before. Changes are decided exactly as for nightly crawls. Polite
    ([backfill] requests_per_second, backoff on 429/5xx) and resumable: run it
    again after a kill and it fetches only the days still missing. The crawl's
    limits apply ([crawl] max_size, max_requests, max_run_seconds), and each
    answer must arrive whole within [backfill] timeout.

    Example:

        wwc-archive backfill --config wwc.toml --since 2015-06-01 --until 2019-12-31
    """
    from wwc_archive.crawler.backfill import history_scope
    from wwc_archive.crawler.limits import RunBudget
    from wwc_archive.crawler.replay import WaybackSource
    from wwc_archive.crawler.settings import user_agent

    config = load_config_or_exit(config_path)
    programs = _programs(config, program_names, start_urls)
    first, last = _day(since, "--since"), _day(until, "--until")
    if first and last and first > last:
        raise UsageError(f"--since {since} is after --until {until}")
    for option, url in (("--cdx-api", cdx_api), ("--replay", replay)):
        try:
            origin_of(url)
        except ConfigError:
            raise UsageError(f"{option} must be an http(s) URL, not {url!r}") from None
    agent = user_agent(config.crawl.contact)
    budget = RunBudget(config.crawl.max_requests, config.crawl.max_run_seconds)
    source = WaybackSource(cdx_api, replay, agent, requests_per_second=config.backfill.requests_per_second,
                           retries=config.backfill.retries, timeout=config.backfill.timeout,
                           max_size=config.crawl.max_size, max_retry_after=config.backfill.max_retry_after,
                           scope=history_scope(programs), budget=budget, echo=lambda line: click.echo(line, err=True))
    if _run(db_path, programs, source, first, last, config, agent).stopped:
        sys.exit(EXIT_INTERRUPTED)


@click.command("import-warc", context_settings=CONTEXT_SETTINGS)
@program_options
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def import_warc(config_path, db_path, program_names, start_urls, files):
    """Bring in captures from WARC files made by any crawler, as backfill runs.

    Captures of the programs' pages (walked as a backfill walks the Wayback
    Machine: the program page, what it links to, what it linked before) become
    history with their capture times; every other record is skipped and counted.
    Revisit records are read as the response they refer to (of the same page,
    or another of the programs' pages). Damaged or unsafe records (cut short,
    a bad WARC-Date, a body over [crawl] max_size or that does not decode) are
    skipped and counted too; max_requests and max_run_seconds apply.

    Example:

        wwc-archive import-warc --config wwc.toml crawl-2019.warc.gz crawl-2020.warc.gz
    """
    from wwc_archive.crawler.backfill import history_scope
    from wwc_archive.crawler.limits import LimitReached, RunBudget
    from wwc_archive.crawler.warc_source import WarcError, WarcSource

    config = load_config_or_exit(config_path)
    programs = _programs(config, program_names, start_urls)
    budget = RunBudget(config.crawl.max_requests, config.crawl.max_run_seconds)
    try:
        source = WarcSource(files, scope=history_scope(programs), max_size=config.crawl.max_size, budget=budget)
    except WarcError as error:
        raise UsageError(str(error)) from None
    except LimitReached as error:
        click.echo(f"Error: the WARC files were not read within {error.option} ({error.limit:,} s); "
                   "nothing was written", err=True)
        sys.exit(EXIT_INTERRUPTED)
    if source.damaged:
        click.echo(f"Skipped {len(source.damaged)} damaged or unsafe WARC records: {source.damaged.summary()}",
                   err=True)
    summary = _run(db_path, programs, source, None, None, config, None)
    if summary.stopped:  # the walk did not reach every page: the captures it left are not known to be others'
        sys.exit(EXIT_INTERRUPTED)
    click.echo(f"Skipped {source.skipped()} of {source.records} WARC captures: not of this archive's pages")
    if source.skipped_requisites():
        click.echo(f"Left out {source.skipped_requisites()} captures of page requisites (stylesheets, images, fonts, "
                   "scripts): import-warc reads pages; the next crawl captures requisites")
    return summary


def _programs(config, names, start_urls):
    try:
        return programs_for_start_urls(list(start_urls)) if start_urls else config.select(names)
    except ConfigError as error:
        raise UsageError(str(error)) from None


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise UsageError(f"{option} must be a date like 2019-12-31, not {text!r}") from None


def _run(db_path, programs, source, since, until, config, agent):
    from wwc_archive.archive import ArchiveBusy
    from wwc_archive.crawler.backfill import Backfill, BackfillError
    from wwc_archive.crawler.replay import ReplayError, ServiceBusy
    from wwc_archive.crawler.wayback import CdxError

    archive = open_archive_for_writing(db_path)
    walk = Backfill(archive, programs, source, since=since, until=until,
                    max_listing_pages=config.crawl.max_listing_pages,
                    max_links_per_page=config.crawl.max_links_per_page, user_agent=agent, echo=click.echo)
    try:
        with archive.crawl_lock(wait=0):
            summary = walk.run()
    except ArchiveBusy as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(EXIT_BUSY)
    except BackfillError as error:
        raise UsageError(str(error)) from None
    except (CdxError, ReplayError, ServiceBusy) as error:
        _skipped_rows(source)
        click.echo(f"Error: {error}; {walk.summary.runs_written} days were written: run the same command "
                   "again to go on", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except KeyboardInterrupt:
        click.echo(f"Interrupted: {walk.summary.runs_written} days were written; run the same command again "
                   "to go on", err=True)
        sys.exit(EXIT_INTERRUPTED)
    finally:
        archive.close()
        source.close()
    _skipped_rows(source)
    click.echo(f"Backfilled {summary.days} capture days ({summary.days_already_done} already in the archive, "
               f"{summary.runs_written} written): {summary.captures} captures, {summary.identical} identical "
               f"to the one before and not fetched, {source.requests} requests; {summary.added} added, "
               f"{summary.changed} changed, {summary.removed} removed")
    if summary.stopped:
        click.echo(f"Stopped: {summary.stopped}", err=True)
    return summary


def _skipped_rows(source) -> None:
    """One line for the CDX rows that could not be captures of the URLs asked for."""
    skipped = getattr(source, "skipped_rows", None)
    if skipped:
        click.echo(f"Skipped {len(skipped)} CDX rows: {skipped.summary()}", err=True)
