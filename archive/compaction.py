"""Compaction: rewrite the archive file without the space its updates and upgrades leave behind.

An archive only grows, but not tightly: a span row grows a little every
night, so its pages split and stay part empty; an upgrade that folds or
converts rows leaves free pages the file keeps. SQLite's ``VACUUM`` rebuilds
the file packed, keeping every row (and its id) exactly; an archive made
with SQLite's default 4 KiB pages gets the archive's 16 KiB ones then. It runs under the
crawl lock, so never during a crawl; readers (Datasette, reports) go on
reading the old pages until it commits.

``wwc-archive crawl`` compacts after the first complete crawl of each
calendar month (:func:`due`), however it is started (the scheduler, cron,
systemd, by hand); ``wwc-archive compact`` does it on demand.
"""

import os
import shutil
import sqlite3
import time
from dataclasses import dataclass

from sqlite_utils import Database

from wwc_archive.archive.opening import ArchiveError
from wwc_archive.archive.store import PAGE_SIZE


@dataclass(frozen=True)
class Compaction:
    """The file's size before and after, in bytes, and how long it took."""

    before: int
    after: int
    seconds: float


def file_bytes(db: Database) -> int:
    """The archive's pages in bytes, free ones included (what it takes on disk once its WAL is folded in)."""
    pages, size = (db.execute(f"pragma {name}").fetchone()[0] for name in ("page_count", "page_size"))
    return pages * size


def compact(archive, wait: float = 0) -> Compaction:
    """``VACUUM`` the archive under its crawl lock; raises :class:`~wwc_archive.archive.ArchiveBusy` during a crawl.

    Refuses (:class:`~wwc_archive.archive.ArchiveError`) when its folder has
    less free space than the file takes: ``VACUUM`` writes a whole new copy.
    """
    with archive.crawl_lock(wait):
        db = archive.db
        db.execute("pragma wal_checkpoint(truncate)")
        before = file_bytes(db)
        free = shutil.disk_usage(os.path.dirname(os.path.abspath(archive.path))).free
        if free < before:
            raise ArchiveError(f"cannot compact {archive.path}: it needs {before // 2**20 + 1} MiB free "
                               f"next to it, and there are {free // 2**20} MiB")
        started = time.perf_counter()
        _vacuum(db)
        db.execute("pragma wal_checkpoint(truncate)")
        return Compaction(before, file_bytes(db), time.perf_counter() - started)


def _vacuum(db: Database) -> None:
    """``VACUUM``, into :data:`~wwc_archive.archive.store.PAGE_SIZE` pages if the file has others.

    SQLite changes the page size only when it vacuums outside WAL mode, which
    it leaves only when no other connection has the file open; if one has
    (a Datasette reading it), the pages keep their size until next time.
    """
    if db.execute("pragma page_size").fetchone()[0] == PAGE_SIZE:
        db.execute("vacuum")
        return
    try:
        left_wal = db.execute("pragma journal_mode=delete").fetchone()[0] == "delete"
    except sqlite3.OperationalError:  # locked: another connection has it open
        left_wal = False
    if not left_wal:
        db.execute("vacuum")
        return
    try:
        db.execute(f"pragma page_size={PAGE_SIZE}")
        db.execute("vacuum")
    finally:
        db.execute("pragma journal_mode=wal")


def due(db: Database, run_id: int) -> bool:
    """Whether run ``run_id`` is the monthly compaction's turn: the first complete crawl of its calendar month (UTC).

    Not an archive's very first crawl (a new file has little to free; next
    month's first crawl compacts it), and runs that read history (``backfill``,
    dated by their captures) do not count.
    """
    row = db.execute("select status, substr(started, 1, 7), trigger from runs where id = ?", [run_id]).fetchone()
    if row is None or row[0] != "complete" or row[2] == "backfill":
        return False
    months = {month for (month,) in db.execute(
        "select distinct substr(started, 1, 7) from runs where status = 'complete' and trigger != 'backfill' "
        "and id < ?", [run_id])}
    return bool(months) and row[1] not in months
