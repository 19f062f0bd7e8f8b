"""``wwc-archive export-warc``: the archive's fetches as WARC and WACZ files."""

from contextlib import contextmanager
from pathlib import Path

import click

from wwc_archive.cli.formatting import megabytes
from wwc_archive.cli.options import CONTEXT_SETTINGS, UsageError, db_option, open_existing_archive


@click.command("export-warc", context_settings=CONTEXT_SETTINGS)
@db_option
@click.option("--run", "run", metavar="ID", help="Export this run's fetches ('latest' or a run id)")
@click.option("--since", metavar="DATE", help="Export the runs started on or after DATE (2026-05-01)")
@click.option("--all", "all_runs", is_flag=True, help="Export every run")
@click.option("-o", "--output", required=True, metavar="FILE",
              help="Write FILE.warc.gz and FILE.wacz (replacing both, or neither)")
@click.option("--include-running", is_flag=True, help="Let --run export a run that is still running")
def export_warc(db_path, run, since, all_runs, output, include_running):
    """Write the selected fetches as a WARC file and a WACZ package.

    Each body is written once, as a response; later fetches of the same page
    are revisit records pointing to it. Both files are written beside their
    targets and renamed into place together: an export that fails or is
    killed replaces neither. --run refuses a run still running unless
    --include-running is given. Open the WACZ in ReplayWeb.page, or
    the WARC in pywb.

    Example:

        wwc-archive export-warc --all --output wwc-2026

        wwc-archive export-warc --run latest -o tonight.warc.gz
    """
    from wwc_archive.reports.warc import ExportError, export, select_runs

    with exporting(db_path, output, ExportError) as archive:
        selection = select_runs(archive.db, run=run, since=since, all_runs=all_runs,
                                include_running=include_running)
        result = export(archive.db, selection, output, archive_name=Path(archive.path).name)
    said_cleaned(result.cleaned)
    counts = ", ".join(f"{count} {kind}" for kind, count in sorted(result.records.items()))
    click.echo(f"Wrote {result.warc} ({megabytes(result.warc.stat().st_size)}) and {result.wacz} "
               f"({megabytes(result.wacz.stat().st_size)}): "
               f"{selection.description}; {counts}")


@contextmanager
def exporting(db_path, output, export_error: type[Exception]):
    """The archive, opened to export from: the export's refusals one-line usage errors, a write error one line."""
    archive = open_existing_archive(db_path)
    try:
        yield archive
    except export_error as error:
        raise UsageError(str(error)) from None
    except OSError as error:
        raise click.ClickException(f"cannot write {error.filename or output}: {error.strerror or error}") from None
    finally:
        archive.close()


def said_cleaned(leftovers) -> None:
    """A line on stderr per scratch folder of a stopped export that this one removed."""
    for leftover in leftovers:
        click.echo(f"Removed {leftover}, left by an export that was stopped", err=True)
