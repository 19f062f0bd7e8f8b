"""Options, errors and helpers shared by every ``wwc-archive`` command."""

import os

import click

from wwc_archive.exits import EXIT_USAGE
from wwc_archive.config import ConfigError, database_path, load_config

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}



class UsageError(click.ClickException):
    """A one-line error for bad input, exit status 2."""

    exit_code = EXIT_USAGE


def db_option(fn):
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False),
        help="Archive file [default: $WWC_ARCHIVE_DB or ./wwc-archive.db]",
    )(fn)


def config_option(fn):
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        envvar="WWC_ARCHIVE_CONFIG",
        help="TOML config file (see wwc-archive.example.toml)",
    )(fn)


def load_config_or_exit(path):
    try:
        return load_config(path)
    except ConfigError as error:
        raise UsageError(str(error)) from None


def open_existing_archive(db_path):
    """Open an archive that must already exist (read commands never create one)."""
    from wwc_archive.archive import Archive

    path = database_path(db_path)
    if not os.path.exists(path):
        raise UsageError(f"no archive at {path}: run `wwc-archive crawl` first or pass --db")
    return Archive(path)
