"""``wwc-archive compact``: rewrite an archive file without its free space."""

import os
import sqlite3
import sys

import click

from wwc_archive.cli.formatting import megabytes
from wwc_archive.cli.options import CONTEXT_SETTINGS, UsageError, database_path, db_option, open_archive_for_writing
from wwc_archive.exits import EXIT_BUSY


@click.command(context_settings=CONTEXT_SETTINGS)
@db_option
def compact(db_path):
    """Rewrite an archive packed (SQLite's VACUUM), keeping every row.

    Nightly updates and upgrades leave part-empty pages behind; `crawl`
    compacts after the first complete crawl of each month, this does it now. Waits for
    nothing: exits 3 if a crawl holds the archive. Needs as much free disk
    space next to the archive as the file takes.

    Example:

        wwc-archive compact --db archive.db
    """
    from wwc_archive.archive import ArchiveBusy, ArchiveError
    from wwc_archive.archive.compaction import compact as compact_archive

    if not os.path.exists(database_path(db_path)):
        raise UsageError(f"no archive at {database_path(db_path)}: nothing to compact")
    archive = open_archive_for_writing(db_path)
    try:
        done = compact_archive(archive)
    except ArchiveBusy as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(EXIT_BUSY)
    except ArchiveError as error:
        raise UsageError(str(error)) from None
    finally:
        archive.close()
    click.echo(f"Compacted {archive.path}: {megabytes(done.before)} -> {megabytes(done.after)} in {done.seconds:.1f} s")


def compact_if_due(path: str, run_id: int) -> None:
    """After the month's first complete crawl, compact; a compaction that cannot run is a warning, not a failure."""
    from wwc_archive.archive import Archive, ArchiveBusy, ArchiveError
    from wwc_archive.archive.compaction import compact as compact_archive, due

    try:
        archive = Archive(path)
        try:
            if not due(archive.db, run_id):
                return
            done = compact_archive(archive)
        finally:
            archive.close()
    except (ArchiveBusy, ArchiveError, sqlite3.Error) as error:
        click.echo(f"Warning: the monthly compaction did not run: {error}", err=True)
        return
    click.echo(f"Monthly compaction: {megabytes(done.before)} -> {megabytes(done.after)} in {done.seconds:.1f} s")
