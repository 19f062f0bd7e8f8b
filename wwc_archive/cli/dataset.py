"""``wwc-archive export-dataset``: the archive as a documented research dataset (CSV, SQLite, Data Package)."""

from pathlib import Path

import click

from wwc_archive.cli.export import exporting, said_cleaned
from wwc_archive.cli.options import CONTEXT_SETTINGS, db_option


@click.command("export-dataset", context_settings=CONTEXT_SETTINGS)
@db_option
@click.option("-o", "--output", required=True, metavar="DIR", type=click.Path(file_okay=False),
              help="Write the dataset into the folder DIR (new or empty)")
@click.option("--since", metavar="DATE", help="Only runs started on or after DATE (2027-01-01, UTC)")
@click.option("--until", metavar="DATE", help="Only runs started on or before DATE (2027-12-31, UTC)")
@click.option("--force", is_flag=True, help="Replace DIR's content if it is not empty")
def export_dataset(db_path, output, since, until, force):
    """Write the archive's history as a research dataset that needs no wwc-archive to read.

    DIR gets a Frictionless Data Package (datapackage.json, every field
    described), one CSV file per table (runs, pages, versions, changes,
    listing_changes, fetches), the same tables in one SQLite file
    (wwc-archive.sqlite) and a README. Each version's full text is plain
    text. The folder appears whole or not at all.

    Example:

        wwc-archive export-dataset --db archive.db --output wwc-dataset

        wwc-archive export-dataset --since 2027-01-01 --until 2027-06-30 -o wwc-2027-h1
    """
    from wwc_archive.reports.dataset import ExportError, export, select_runs

    with exporting(db_path, output, ExportError) as archive:
        selection = select_runs(archive.db, since=since, until=until)
        result = export(archive.db, selection, output, archive_name=Path(archive.path).name, force=force)
    said_cleaned(result.cleaned)
    counts = ", ".join(f"{count} {table}" for table, count in result.rows.items())
    click.echo(f"Wrote {result.folder} ({selection.description}): {counts}")
