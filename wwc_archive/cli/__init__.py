"""The ``wwc-archive`` command line: a thin layer over the packages."""

import json
import sys

import click

from wwc_archive.cli.options import (
    CONTEXT_SETTINGS,
    UsageError,
    config_option,
    db_option,
    load_config_or_exit,
    open_archive_for_writing,
    open_existing_archive,
    report_upgrade,
)
from wwc_archive.exits import EXIT_BUSY, EXIT_INTERRUPTED, EXIT_UNREACHABLE
from wwc_archive.cli.check import check
from wwc_archive.cli.compact import compact, compact_if_due
from wwc_archive.cli.export import export_warc
from wwc_archive.cli.dataset import export_dataset
from wwc_archive.cli.history import backfill, import_warc
from wwc_archive.cli.report import report
from wwc_archive.cli.schedule import schedule
from wwc_archive.cli.serve import serve
from wwc_archive.config import ConfigError, database_path, programs_for_start_urls
from wwc_archive.cli.formatting import change_lines, run_line, run_summary, terminal_text
from wwc_archive.cli.crawl_output import contact_note, unreachable_message


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="wwc-archive")
def cli():
    """Archive the What Works Cities pages nightly and report what changed."""


@cli.command(context_settings=CONTEXT_SETTINGS)
@config_option
@db_option
@click.option("--program", "program_names", multiple=True, metavar="NAME",
              help="Crawl only this configured program (repeatable)")
@click.option("--start-url", "start_urls", multiple=True, help="Crawl these URLs instead of the configured programs")
@click.option("-s", "--set", "settings", multiple=True, metavar="NAME=VALUE",
              help="Override a Scrapy setting (checked against Scrapy's settings)")
@click.option("--wait", type=click.FloatRange(0, 366 * 86400), default=0, show_default=True,
              help="Seconds to wait for another crawl to finish")
@click.option("-v", "--verbose", count=True, help="Scrapy's full log with tracebacks (-vv: debug)")
@click.option("--trigger", default="manual", hidden=True)
@click.option("--note", default=None, hidden=True)
def crawl(config_path, db_path, program_names, start_urls, settings, wait, verbose, trigger, note):
    """Crawl every configured program once and record what changed.

    Prints one line per warning or error (-v for Scrapy's full log), a live
    progress line when stderr is a terminal, and a summary. A run in which the
    site could not be reached at all exits 4 with one line saying so.

    Example:

        wwc-archive crawl --db archive.db -s DOWNLOAD_DELAY=2
    """
    from wwc_archive.archive import ArchiveBusy, ArchiveError
    from wwc_archive.crawler.process import run_crawl
    from wwc_archive.crawler.settings import parse_overrides

    config = load_config_or_exit(config_path)
    try:
        programs = programs_for_start_urls(list(start_urls)) if start_urls else config.select(program_names)
        overrides = parse_overrides(settings)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    note_line = contact_note(programs, config.crawl.contact)
    if note_line:
        click.echo(note_line, err=True)
    try:
        run = run_crawl(
            programs,
            database_path(db_path),
            crawl_options=config.crawl.model_dump(),
            overrides=overrides,
            trigger=trigger,
            note=note,
            lock_wait=wait,
            verbose=verbose,
            progress=sys.stderr.isatty(),
            on_open=report_upgrade,
        )
    except ArchiveError as error:
        raise UsageError(str(error)) from None
    except ArchiveBusy as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(EXIT_BUSY)
    click.echo(run_summary(run))
    compact_if_due(database_path(db_path), run["id"])
    if run["status"] == "interrupted":
        sys.exit(EXIT_INTERRUPTED)
    message = unreachable_message(database_path(db_path), run)
    if message:
        click.echo(f"Error: {message}", err=True)
        sys.exit(EXIT_UNREACHABLE)


@cli.command(context_settings=CONTEXT_SETTINGS)
@db_option
@click.option("--run", "run", default="latest", show_default=True, help="'latest' or a run id")
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="text", show_default=True)
def changes(db_path, run, fmt):
    """Show the changes a run found.

    Example:

        wwc-archive changes --run latest --format json
    """
    from wwc_archive.archive import queries

    archive = open_existing_archive(db_path)
    try:
        run_row = queries.get_run(archive.db, run)
    except queries.NoSuchRun as error:
        raise UsageError(str(error)) from None
    rows = queries.run_changes(archive.db, run_row["id"])
    if fmt == "json":
        dismissed = queries.run_dismissals(archive.db, run_row["id"])
        click.echo(json.dumps({"run": run_row, "changes": rows, "dismissed": dismissed}, indent=2))
        return
    click.echo(terminal_text(run_summary(run_row)))
    for line in change_lines(rows):
        click.echo(terminal_text(line))


@cli.command(context_settings=CONTEXT_SETTINGS)
@db_option
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="text", show_default=True)
def runs(db_path, fmt):
    """List the runs, newest first, with their status and counts.

    --format json prints a list of the same run objects as `changes --format json`'s "run".

    Example:

        wwc-archive runs --db archive.db --format json
    """
    from wwc_archive.archive import queries

    archive = open_existing_archive(db_path)
    rows = queries.list_runs(archive.db)
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    for run in rows:
        click.echo(terminal_text(run_line(run)))


@cli.command(context_settings=CONTEXT_SETTINGS)
@db_option
def upgrade(db_path):
    """Bring an archive made by an older release up to this release's schema.

    A copy of the file is saved first, next to it (ARCHIVE.vN-TIME.bak, made
    with SQLite's backup API); crawl and demo upgrade the same way.

    Example:

        wwc-archive upgrade --db archive.db
    """
    import os

    from wwc_archive.archive.migrations.schema import release_migrations

    path = database_path(db_path)
    if not os.path.exists(path):
        raise UsageError(f"no archive at {path}: nothing to upgrade")
    archive = open_archive_for_writing(db_path)
    archive.close()
    if archive.upgraded is None:
        click.echo(f"{path} is up to date (schema version {len(release_migrations())})")


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.option("--db", "db_path", type=click.Path(), default="wwc-archive-demo.db",
              show_default=True, help="Archive file for the demo (replaced on each demo run)")
@click.option("--articles", type=click.IntRange(1, 5000), default=12, show_default=True,
              help="Articles on the sample site")
def demo(db_path, articles):
    """Crawl a bundled sample site twice, editing it in between, and show the changes.

    Runs offline: the sample site is served on 127.0.0.1.

    Example:

        wwc-archive demo
    """
    from wwc_archive.cli.demo import DemoError, run_demo

    try:
        run_demo(db_path, articles=articles, echo=click.echo)
    except DemoError as error:
        raise UsageError(str(error)) from None


cli.add_command(report)
cli.add_command(serve)
cli.add_command(schedule)
cli.add_command(check)
cli.add_command(compact)
cli.add_command(export_warc)
cli.add_command(export_dataset)
cli.add_command(backfill)
cli.add_command(import_warc)
