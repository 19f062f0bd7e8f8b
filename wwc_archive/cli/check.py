"""``wwc-archive check``: look for damage in an archive, and with --repair close dead runs and settle impossible times."""

import sys

import click

from wwc_archive.cli.options import CONTEXT_SETTINGS, UsageError, db_option, open_existing_archive
from wwc_archive.exits import EXIT_BUSY, EXIT_PROBLEMS


@click.command(context_settings=CONTEXT_SETTINGS)
@db_option
@click.option("--repair", is_flag=True,
              help="Mark runs left running by a dead crawl as interrupted; settle times that cannot be real")
def check(db_path, repair):
    """Check an archive: SQLite integrity, foreign keys, every body's SHA-256, rows stored twice, dead runs,
    impossible times.

    Prints each problem on a line and exits 1 if there is any. Reads only;
    --repair (under the crawl lock) marks runs left `running` by a crawl
    process that is gone as `interrupted`, and gives each run or fetch time
    that cannot be real (malformed, before 1991, a century ahead) the nearest
    time the archive vouches for, noting the old value in the run's note. It
    deletes nothing and repairs nothing else.

    Example:

        wwc-archive check --db archive.db
    """
    from wwc_archive.archive import Archive, ArchiveBusy, ArchiveError, queries
    from wwc_archive.archive.integrity import IMPOSSIBLE, problems, repair_dead_runs, settle_dates

    archive = open_existing_archive(db_path)
    try:
        found = problems(archive)
        bodies = queries.body_count(archive.db)
    finally:
        archive.close()
    for line in found:
        click.echo(line)
    dead = any(" is marked running" in line for line in found)
    dates = any(IMPOSSIBLE in line for line in found)
    if repair and (dead or dates):
        try:
            writer = Archive(archive.path)
        except ArchiveError as error:
            raise UsageError(str(error)) from None
        try:
            if dead:
                click.echo(f"Repaired: marked {repair_dead_runs(writer)} dead run(s) interrupted")
            for line in settle_dates(writer) if dates else ():
                click.echo(f"Repaired: {line}")
        except ArchiveBusy as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(EXIT_BUSY)
        finally:
            writer.close()
        found = [line for line in found if " is marked running" not in line and IMPOSSIBLE not in line]
    if found:
        click.echo(f"{archive.path}: {len(found)} problem(s)", err=True)
        sys.exit(EXIT_PROBLEMS)
    click.echo(f"{archive.path}: no problems ({bodies} bodies verified)")
