"""``wwc-archive check``: look for damage in an archive, and with --repair close dead runs."""

import sys

import click

from wwc_archive.cli.options import CONTEXT_SETTINGS, UsageError, db_option, open_existing_archive
from wwc_archive.exits import EXIT_BUSY, EXIT_PROBLEMS


@click.command(context_settings=CONTEXT_SETTINGS)
@db_option
@click.option("--repair", is_flag=True, help="Mark runs left running by a dead crawl as interrupted")
def check(db_path, repair):
    """Check an archive: SQLite integrity, foreign keys, every body's SHA-256, dead runs.

    Prints each problem on a line and exits 1 if there is any. Reads only;
    --repair marks runs left `running` by a crawl process that is gone as
    `interrupted` (under the crawl lock) and repairs nothing else.

    Example:

        wwc-archive check --db archive.db
    """
    from wwc_archive.archive import Archive, ArchiveBusy, ArchiveError, queries
    from wwc_archive.archive.integrity import problems, repair_dead_runs

    archive = open_existing_archive(db_path)
    try:
        found = problems(archive)
        bodies = queries.body_count(archive.db)
    finally:
        archive.close()
    for line in found:
        click.echo(line)
    if repair and any(" is marked running" in line for line in found):
        try:
            writer = Archive(archive.path)
        except ArchiveError as error:
            raise UsageError(str(error)) from None
        try:
            repaired = repair_dead_runs(writer)
        except ArchiveBusy as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(EXIT_BUSY)
        finally:
            writer.close()
        click.echo(f"Repaired: marked {repaired} dead run(s) interrupted")
        found = [line for line in found if " is marked running" not in line]
    if found:
        click.echo(f"{archive.path}: {len(found)} problem(s)", err=True)
        sys.exit(EXIT_PROBLEMS)
    click.echo(f"{archive.path}: no problems ({bodies} bodies verified)")
