"""After a crawl: the normal report and its delivery, or an alert to the maintainers.

The reports package is imported lazily: the scheduler only needs it once a
crawl has finished.
"""

from wwc_archive.archive import Archive, queries
from wwc_archive.config import Config


def report_settings(config: Config):
    from wwc_archive.reports.settings import ReportSettings

    return ReportSettings.from_config(config.report)


def deliver_report(config: Config, db_path: str, run_id: int):
    """Send again what earlier runs failed to deliver, then write the run's report to the reports folder and
    send it to the recipients and notify channels; returns ``(result, retries)``. Each channel's delivery is
    recorded in the archive (:mod:`wwc_archive.archive.deliveries`)."""
    from wwc_archive.archive.deliveries import Ledger
    from wwc_archive.reports.delivery import deliver, retry_owed

    archive = Archive(db_path)
    try:
        settings, ledger = report_settings(config), Ledger(archive.db)
        retries = retry_owed(archive.db, settings, ledger, before=run_id)
        return deliver(archive.db, run_id, settings, ledger=ledger), retries
    finally:
        archive.close()


def send_alert(config: Config, subject: str, text: str) -> None:
    """Tell the maintainers (the report's recipients) that a night went wrong."""
    from wwc_archive.reports.delivery import send_alert as send

    send(report_settings(config), subject, text)


def failed_night_text(outcome, attempts: int, db_path: str) -> str:
    """The alert for a night whose crawl failed every attempt: what failed and where to look."""
    run = outcome.run
    lines = [
        f"The scheduled crawl of {outcome.program} failed {attempts} time(s) tonight.",
        "",
        f"Reason: {outcome.failure}",
        f"Last run: {run['id']} ({run['status']}, exit status {outcome.exit_status}), started {run['started']}",
        f"Pages: {run['pages_checked'] or 0} checked, {run['pages_fetched'] or 0} fetched, "
        f"{run['pages_failed'] or 0} failed",
    ]
    if run["note"]:
        lines.append(f"Note: {run['note']}")
    archive = Archive(db_path)
    try:
        failed = queries.failed_fetches(archive.db, run["id"])
    finally:
        archive.close()
    if failed:
        lines += ["", "Failed fetches:"]
        lines += [f"  {row['url']}  {row['error'] or row['http_status']}" for row in failed[:10]]
        if len(failed) > 10:
            lines.append(f"  ... and {len(failed) - 10} more")
    lines += ["", f"Archive: {db_path}", "See `wwc-archive runs` and the scheduler's log for details."]
    return "\n".join(lines)
