"""What the archive remembers about scheduled crawls (APScheduler's memory store forgets)."""

from datetime import datetime

from wwc_archive.archive import queries
from wwc_archive.records import parse_utc


def last_scheduled_start(db_path: str, program: str) -> datetime | None:
    """When the newest complete scheduled crawl of ``program`` started, or None.

    Only complete runs count: a night whose crawls failed or were interrupted
    is still owed, and is run late on the next start within the grace time.
    """
    with queries.read_only(db_path) as db:
        started = queries.last_scheduled_start(db, program) if db is not None else None
    return parse_utc(started) if started else None
