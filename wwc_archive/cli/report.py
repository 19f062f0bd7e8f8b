"""``wwc-archive report``: render a run's changes, write them to the reports folder, mail them."""

from pathlib import Path

import click

from wwc_archive.cli.options import CONTEXT_SETTINGS, UsageError, config_option, db_option, load_config_or_exit, \
    open_archive_for_writing, open_existing_archive
from wwc_archive.config import ConfigError

SUFFIX_FORMATS = {".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown", ".txt": "text"}


@click.command(context_settings=CONTEXT_SETTINGS)
@config_option
@db_option
@click.option("--run", "run", default=None, metavar="latest|ID", help="The run to report on [default: latest]")
@click.option("--since", metavar="DATE", help="Report every run started on or after DATE (2026-05-01)")
@click.option("--format", "fmt", type=click.Choice(["html", "markdown", "text"]),
              help="[default: from --output's extension, else text]")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write here instead of stdout (atomically: the old file stays until the new one is complete)")
@click.option("--email", "emails", multiple=True, metavar="ADDR",
              help="Mail the report to ADDR (repeatable); also writes it to the reports folder")
@click.option("--deliver", is_flag=True,
              help="Write to the reports folder and mail the config's recipients (for the scheduler)")
@click.option("--force", is_flag=True,
              help="Send even when the run changed nothing, or when a channel already had this run")
def report(config_path, db_path, run, since, fmt, output, emails, deliver, force):
    """Report what a run added, changed and removed, with the changed words marked.

    Without --email or --deliver, prints the report (or writes --output).
    With them, writes run-NNNN.html/.md/.txt, index.html and changes.atom to
    the [report] reports_dir and mails the report if the run changed something
    or had failed fetches at or above failure_threshold, and sends it to each
    [report] notify URL (apprise). Each channel gets a run once: a second
    --deliver sends nothing and says so (--force sends again).

    Example:

        wwc-archive report --run latest --format html -o report.html

        wwc-archive report --since 2026-05-01 --format markdown

        wwc-archive report --config wwc.toml --deliver
    """
    from wwc_archive.archive import queries
    from wwc_archive.cli.formatting import terminal_text
    from wwc_archive.reports.delivery import DeliveryError, deliver as deliver_report, write_file
    from wwc_archive.reports.render import ReportError, render_report
    from wwc_archive.reports.settings import ReportSettings, parse_addresses

    config = load_config_or_exit(config_path)
    try:
        settings = ReportSettings.from_config(config.report)
        recipients = parse_addresses(list(emails), "--email") if emails else None
    except ConfigError as error:
        raise UsageError(str(error)) from None
    mailing = deliver or bool(emails)
    if since and run:
        raise UsageError("choose --run or --since, not both")
    if since and mailing:
        raise UsageError("--email and --deliver send one run's report: use --run instead of --since")
    if force and not mailing:
        raise UsageError("--force only applies with --email or --deliver")
    if fmt is None and output:
        fmt = SUFFIX_FORMATS.get(Path(output).suffix.lower())
        if fmt is None:
            raise UsageError(f"cannot tell a report format from {Path(output).name!r}: name it "
                             f"{', '.join('*' + suffix for suffix in SUFFIX_FORMATS)}, or give --format "
                             "(html, markdown or text)")
    fmt = fmt or "text"

    archive = open_existing_archive(db_path)  # it must exist, at this release's schema
    if mailing:  # deliveries are recorded in it
        archive.close()
        archive = open_archive_for_writing(db_path)
    try:
        run_id = None if run in (None, "latest") else queries.get_run(archive.db, run)["id"]
        if mailing:
            from wwc_archive.archive.deliveries import Ledger

            try:  # the archive records each channel's delivery (reports themselves only read it)
                result = deliver_report(archive.db, run_id, settings, recipients=recipients, force=force,
                                        ledger=Ledger(archive.db))
            except DeliveryError as error:
                raise click.ClickException(str(error)) from None
            written = ", ".join(str(path) for path in result.files.values())
            click.echo(f"Run {result.run_id}: wrote {written}; {result.describe()}")
            run_id = result.run_id
        if output or not mailing:
            text = render_report(archive.db, run_id=run_id, since=since, fmt=fmt, settings=settings)
            if output:
                write_file(Path(output), text)
            else:
                click.echo(text if fmt == "html" else terminal_text(text), nl=False)
    except (queries.NoSuchRun, ReportError) as error:
        raise UsageError(str(error)) from None
    except OSError as error:
        raise click.ClickException(f"cannot write {error.filename or output}: {error.strerror or error}") from None
