"""``wwc-archive schedule``: run the configured crawls nightly with APScheduler."""

import os
from datetime import datetime, timezone

import click

from wwc_archive.cli.options import CONTEXT_SETTINGS, UsageError, config_option, db_option, load_config_or_exit
from wwc_archive.config import ConfigError, database_path


def parse_now(text: str | None) -> datetime:
    if text is None:
        return datetime.now(timezone.utc)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--now expects an ISO 8601 time such as 2024-03-09T12:00:00Z, not {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@click.command(context_settings=CONTEXT_SETTINGS)
@config_option
@db_option
@click.option("--dry-run", is_flag=True, help="Print each job and its next run times, then exit")
@click.option("--count", default=3, show_default=True, type=click.IntRange(1, 100),
              help="How many next run times --dry-run prints")
@click.option("--now", "now", metavar="TIME", help="With --dry-run: plan as if it were TIME (ISO 8601)")
def schedule(config_path, db_path, dry_run, count, now):
    """Crawl each configured program on its schedule, in the foreground, until stopped.

    Each program's `schedule` (cron, default "0 3 * * *") and `timezone`
    (default UTC) set when it is crawled; the [schedule] table sets
    misfire_grace_time, retry_delay, lock_wait and log_file. A crawl missed
    while the scheduler was down runs once on start, within the grace time.
    A failed crawl is retried once, then reported by mail. SIGTERM or Ctrl-C
    stops the scheduler; a running crawl stops and its run is marked interrupted.

    Example:

        wwc-archive schedule --config wwc-archive.toml --dry-run
    """
    from wwc_archive.scheduler import ScheduleOptions, Service
    from wwc_archive.scheduler.logs import configure
    from wwc_archive.scheduler.service import describe

    config = load_config_or_exit(config_path)
    path = os.path.abspath(database_path(db_path))
    moment = parse_now(now)
    try:
        options = ScheduleOptions.from_table(config.schedule)
        if dry_run:
            for line in describe(config, path, options, moment, count):
                click.echo(line)
            return
        if now is not None:
            raise UsageError("--now only works with --dry-run")
        service = Service(config, path, options)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    try:
        configure(options.log_file)
    except OSError as error:
        raise UsageError(f"cannot write the log file {options.log_file}: {error.strerror}") from None
    service.serve_forever()
