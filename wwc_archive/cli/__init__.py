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
    open_existing_archive,
)
from wwc_archive.exits import EXIT_BUSY, EXIT_INTERRUPTED
from wwc_archive.cli.export import export_warc
from wwc_archive.cli.report import report
from wwc_archive.cli.schedule import schedule
from wwc_archive.cli.serve import serve
from wwc_archive.config import ConfigError, database_path, programs_for_start_urls
from wwc_archive.cli.formatting import change_lines, run_summary

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
@click.option("-s", "--set", "settings", multiple=True, metavar="NAME=VALUE", help="Override a Scrapy setting")
@click.option("--wait", type=float, default=0, show_default=True, help="Seconds to wait for another crawl to finish")
@click.option("--trigger", default="manual", hidden=True)
@click.option("--note", default=None, hidden=True)
def crawl(config_path, db_path, program_names, start_urls, settings, wait, trigger, note):
    """Crawl every configured program once and record what changed.

    Example:

        wwc-archive crawl --db archive.db -s DOWNLOAD_DELAY=2
    """
    from wwc_archive.archive import ArchiveBusy
    from wwc_archive.crawler.process import run_crawl

    config = load_config_or_exit(config_path)
    try:
        programs = programs_for_start_urls(list(start_urls)) if start_urls else config.select(program_names)
        overrides = parse_settings(settings)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    try:
        run = run_crawl(
            programs,
            database_path(db_path),
            crawl_options=config.crawl,
            overrides=overrides,
            trigger=trigger,
            note=note,
            lock_wait=wait,
        )
    except ArchiveBusy as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(EXIT_BUSY)
    click.echo(run_summary(run))
    if run["status"] == "interrupted":
        sys.exit(EXIT_INTERRUPTED)


def parse_settings(pairs) -> dict:
    overrides = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"-s expects NAME=VALUE, got {pair!r}")
        overrides[name.strip()] = value
    return overrides


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
        click.echo(json.dumps({"run": run_row, "changes": rows}, indent=2))
        return
    click.echo(run_summary(run_row))
    for line in change_lines(rows):
        click.echo(line)


@cli.command(context_settings=CONTEXT_SETTINGS)
@db_option
def runs(db_path):
    """List the runs, newest first, with their status and counts."""
    from wwc_archive.archive import queries

    archive = open_existing_archive(db_path)
    for run in queries.list_runs(archive.db):
        click.echo(
            f"{run['id']:>4}  {run['started']}  {run['status']:<11} "
            f"checked {run['pages_checked'] or 0:>5}  failed {run['pages_failed'] or 0:>4}  "
            f"+{run['added'] or 0} ~{run['changed'] or 0} -{run['removed'] or 0}"
        )


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default="wwc-archive-demo.db",
              show_default=True, help="Archive file for the demo (replaced on each demo run)")
@click.option("--articles", default=12, show_default=True, help="Articles on the sample site")
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
cli.add_command(export_warc)
