"""The record of each channel's delivery of a run's report: what was sent, what failed, what is owed.

Reports only read the archive; sending one is bookkeeping the archive keeps
(table ``deliveries``, migration m022), written here and called by the CLI and
the scheduler, never by templates. A channel is named by a non-secret
identifier (``mail:a@example.org`` or a masked apprise URL, see
:func:`wwc_archive.reports.notify.channel_id`). ``status`` is ``sent`` or
``failed``; a digest's row names its last run in ``run_id`` and its first in
``first_run``.
"""

from sqlite_utils import Database

from wwc_archive.archive.transaction import write_transaction
from wwc_archive.records import utcnow


def record(db: Database, run_id: int, channel: str, status: str, error: str | None = None,
           first_run: int | None = None) -> None:
    """Record one attempt to deliver ``run_id``'s report (or a digest ending with it) to ``channel``."""
    with write_transaction(db):
        db.execute("insert into deliveries (run_id, first_run, channel, status, at, error) values (?, ?, ?, ?, ?, ?)",
                   [run_id, first_run, channel, status, utcnow(), error])


def sent(db: Database, run_id: int, channel: str) -> str | None:
    """When ``run_id``'s report (or a digest that covered it) was sent to ``channel``, or None."""
    row = db.execute(
        "select at from deliveries where channel = ? and status = 'sent' "
        "and (run_id = ? or (first_run is not null and ? between first_run and run_id)) order by id limit 1",
        [channel, run_id, run_id]).fetchone()
    return row[0] if row else None


def owed(db: Database, channels: list[str], before: int | None = None) -> list[tuple[int, str, str]]:
    """``(run_id, channel, last error)`` for every delivery whose last attempt failed and that was never sent
    since, oldest first (runs before ``before`` only): what the next scheduled run retries."""
    if not channels:
        return []
    marks = ", ".join("?" for _ in channels)
    rows = db.execute(
        f"select d.run_id, d.channel, d.error from deliveries d where d.channel in ({marks}) "
        "and d.id = (select max(id) from deliveries e where e.run_id = d.run_id and e.channel = d.channel) "
        "and d.status = 'failed' and (? is null or d.run_id < ?) order by d.run_id, d.id",
        [*channels, before, before]).fetchall()
    return [(run_id, channel, error) for run_id, channel, error in rows if sent(db, run_id, channel) is None]


def last_sent_run(db: Database, channel: str) -> dict | None:
    """The newest run whose report (or digest) reached ``channel``: ``{"run_id", "at"}``, or None."""
    row = db.execute("select run_id, at from deliveries where channel = ? and status = 'sent' "
                     "order by run_id desc, id desc limit 1", [channel]).fetchone()
    return {"run_id": row[0], "at": row[1]} if row else None


def history(db: Database, run_id: int | None = None) -> list[dict]:
    """Every attempt (of one run), oldest first."""
    where, args = ("where run_id = ?", [run_id]) if run_id is not None else ("", [])
    return [dict(row) for row in db.query(f"select * from deliveries {where} order by id", args)]


class Ledger:
    """The ``deliveries`` table as :class:`wwc_archive.reports.delivery.Ledger` asks for it."""

    def __init__(self, db: Database):
        self.db = db

    def sent(self, run_id: int, channel: str) -> str | None:
        return sent(self.db, run_id, channel)

    def record(self, run_id: int, channel: str, status: str, error: str | None = None,
               first_run: int | None = None) -> None:
        record(self.db, run_id, channel, status, error, first_run)

    def last_sent_run(self, channel: str) -> dict | None:
        return last_sent_run(self.db, channel)

    def owed(self, channels: list[str], before: int | None = None) -> list[tuple[int, str, str]]:
        return owed(self.db, channels, before)
