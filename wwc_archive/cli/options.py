"""Options, errors and helpers shared by every ``wwc-archive`` command."""

import click

from wwc_archive.exits import EXIT_USAGE
from wwc_archive.config import ConfigError, database_path, load_config

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}


class UsageError(click.ClickException):
    """A one-line error for bad input, exit status 2; several problems give a line each."""

    exit_code = EXIT_USAGE

    def show(self, file=None) -> None:
        for line in self.format_message().splitlines() or [""]:
            click.echo(f"Error: {line}", err=True)


def db_option(fn):
    return click.option(
        "--db",
        "db_path",
        type=click.Path(),
        help="Archive file [default: $WWC_ARCHIVE_DB or ./wwc-archive.db]",
    )(fn)


def config_option(fn):
    return click.option(
        "--config",
        "config_path",
        type=click.Path(),
        envvar="WWC_ARCHIVE_CONFIG",
        help="TOML config file (see wwc-archive.example.toml)",
    )(fn)


def load_config_or_exit(path):
    try:
        return load_config(path)
    except ConfigError as error:
        raise UsageError(str(error)) from None


def open_existing_archive(db_path):
    """Open an archive read-only: it must exist and be of this release's schema (readers never write)."""
    from wwc_archive.archive import Archive, ArchiveError

    try:
        return Archive(database_path(db_path), readonly=True)
    except ArchiveError as error:
        raise UsageError(str(error)) from None


def open_archive_for_writing(db_path):
    """Open (or create) an archive to write; an older schema is upgraded after a backup, said on stderr."""
    from wwc_archive.archive import Archive, ArchiveError

    try:
        archive = Archive(database_path(db_path))
    except ArchiveError as error:
        raise UsageError(str(error)) from None
    report_upgrade(archive)
    return archive


def report_upgrade(archive) -> None:
    """Say on stderr that opening the archive upgraded it, and where the old file was saved."""
    if archive.upgraded is not None:
        text = archive.upgraded.describe()
        click.echo(text[:1].upper() + text[1:], err=True)
