"""What the archive remembers about scheduled crawls (APScheduler's memory store forgets)."""

import os
import sqlite3
from datetime import datetime

from sqlite_utils import Database

from wwc_archive.archive import queries
from wwc_archive.records import parse_utc


def last_scheduled_start(db_path: str, program: str) -> datetime | None:
    """When the newest complete scheduled crawl of ``program`` started, or None.

    Only complete runs count: a night whose crawls failed or were interrupted
    is still owed, and is run late on the next start within the grace time.
    """
    if not os.path.exists(db_path):
        return None
    db = Database(sqlite3.connect(f"file:{os.path.abspath(db_path)}?mode=ro", uri=True))
    try:
        if not db["runs"].exists():
            return None
        started = queries.last_scheduled_start(db, program)
    finally:
        db.close()
    return parse_utc(started) if started else None
