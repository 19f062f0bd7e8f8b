"""The archive file: opening it, locking it, and its runs."""

import json
import os
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass

from filelock import FileLock, Timeout
from sqlite_utils import Database

from wwc_archive.archive import queries, write
from wwc_archive.archive.changes import change_scores, comparison, run_review
from wwc_archive.archive.formats import texts
from wwc_archive.archive.migrations import schema
from wwc_archive.archive.opening import Upgrade, backup, check_writable, open_readonly
from wwc_archive.archive.transaction import write_transaction
from wwc_archive.records import parse_utc, utcnow


class ArchiveBusy(Exception):
    """Another process holds the archive's crawl lock."""


#: Pages of 16 KiB for a new archive (SQLite's default is 4 KiB): a stored body
#: (a delta of about 1 kB, a whole page of 5-8 kB) then fits its page instead of
#: spilling into part-filled overflow pages, and rows pack with less left over.
#: The ten-year benchmark's archive takes 9% less. An older archive gets them at
#: its next compaction (:mod:`~wwc_archive.archive.compaction`).
PAGE_SIZE = 16384


def _prepare(db: Database, path: str, attempts: int = 200) -> Upgrade | None:
    """Switch to WAL and bring the schema up to date, saving a copy of an older archive first.

    Two processes opening a brand-new archive at once can meet SQLITE_BUSY
    where SQLite does not wait on the busy timeout (the journal-mode switch,
    a read during it); both steps are idempotent, so they are retried.
    """
    for attempt in range(attempts):
        try:
            if db.execute("PRAGMA page_count").fetchone()[0] == 0:  # a new file: only now can it be chosen
                db.execute(f"PRAGMA page_size={PAGE_SIZE}")
            db.execute("PRAGMA journal_mode=WAL")
            upgrade = _backup_before_upgrade(db, path)
            schema.ensure_schema(db)
            return upgrade
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == attempts - 1:
                raise
            db.rollback()
            time.sleep(0.05)


def _backup_before_upgrade(db: Database, path: str) -> Upgrade | None:
    """A backup copy of an archive whose schema this release will upgrade (None if it need not)."""
    state = schema.inspect(db.conn)
    if state.kind != "older":
        return None
    copy = backup(db.conn, path, state.version)
    saved = sqlite3.connect(copy)
    try:
        copied = schema.inspect(saved)
    finally:
        saved.close()
    if copied.kind != "older":  # another process upgraded it in between: this copy is not the old file
        os.remove(copy)
        return None
    return Upgrade(path, state.version, state.release_version, copy)


@dataclass(frozen=True)
class KnownPage:
    url: str
    program: str
    role: str
    state: str
    etag: str | None
    last_modified: str | None
    #: The latest version's :func:`~wwc_archive.archive.changes.comparison.comparison_key` (None: not worked out yet).
    compare_key: bytes | None = None
    #: The latest version's title.
    title: str | None = None


class Archive:
    """A wwc-archive SQLite file, in WAL mode, with its schema up to date.

    Opening checks the file first (see :mod:`wwc_archive.archive.opening`):
    anything that is not an archive of this release, or of an older one, is
    refused with :class:`ArchiveError` before a byte is written. A writer
    creates a new archive or upgrades an older one (after a backup copy, see
    ``upgraded``); ``readonly=True`` opens with SQLite's ``mode=ro`` and never
    writes, creates or upgrades.
    """

    def __init__(self, path: str | os.PathLike, readonly: bool = False):
        self.path = os.fspath(path)
        self.readonly = readonly
        #: The schema upgrade this opening made, if any.
        self.upgraded: Upgrade | None = None
        if readonly:
            self.db = Database(open_readonly(self.path))
            return
        check_writable(self.path)
        self.db = Database(self.path)
        self.db.execute("PRAGMA busy_timeout=30000")  # first: the next statements may wait
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.upgraded = _prepare(self.db, self.path)

    def close(self) -> None:
        self.db.close()

    # Locking -----------------------------------------------------------------

    @contextmanager
    def crawl_lock(self, wait: float = 0):
        """Hold the archive's crawl lock; the kernel frees it if the holder dies.

        Raises :class:`ArchiveBusy` if another crawl still holds it after
        ``wait`` seconds. While held, runs left ``running`` by a killed process
        are marked ``interrupted``.
        """
        lock = FileLock(self.path + ".lock")
        try:
            lock.acquire(timeout=wait)
        except Timeout:
            holder = self._running_run()
            detail = f" (run {holder['id']}, pid {holder['pid']})" if holder else ""
            raise ArchiveBusy(
                f"another crawl is using {self.path}{detail}; try again when it finishes"
            ) from None
        try:
            self.mark_interrupted_runs()
            yield
        finally:
            lock.release()

    def crawl_lock_held(self) -> bool:
        """Whether a crawl holds the lock now (without taking it for longer than a test)."""
        if not os.path.exists(self.path + ".lock"):
            return False  # every holder creates the file
        lock = FileLock(self.path + ".lock")
        try:
            lock.acquire(timeout=0)
        except Timeout:
            return True
        lock.release()
        return False

    def dead_runs(self) -> list[dict]:
        """Runs left ``running`` by a crawl process that is gone (the crawl lock is free)."""
        running = list(self.db.query("select id, pid, started from runs where status = 'running' order by id"))
        if running and self.crawl_lock_held():
            running = running[:-1]  # the newest is the live crawl's; any older one died
        return running

    def change_count(self, run_id: int) -> int:
        """How many changes a run has recorded so far."""
        return self.db.execute("select count(*) from changes where run_id = ?", [run_id]).fetchone()[0]

    def _running_run(self) -> dict | None:
        rows = list(self.db.query("select id, pid from runs where status = 'running' order by id desc limit 1"))
        return rows[0] if rows else None

    def mark_interrupted_runs(self) -> int:
        """Mark runs still ``running`` as interrupted: call only with the lock held."""
        with write_transaction(self.db):
            cursor = self.db.execute(
                "update runs set status = 'interrupted', finished = coalesce(finished, ?), "
                "note = coalesce(note, 'the crawl process stopped before the run finished') "
                "where status = 'running'",
                [utcnow()],
            )
        return cursor.rowcount

    # Runs --------------------------------------------------------------------

    def start_run(self, programs: list[str], trigger: str = "manual", started: str | None = None) -> int:
        """Open a run; ``started`` (archive time format) defaults to now, a backfill gives the capture day's."""
        with write_transaction(self.db):
            run_id = self.db["runs"].insert(
                {
                    "started": started or utcnow(),
                    "status": "running",
                    "programs": json.dumps(programs),
                    "trigger": trigger,
                    "pid": os.getpid(),
                }
            ).last_pk
        return run_id

    def annotate_run(self, run_id: int, exit_status: int | None = None, note: str | None = None) -> None:
        """Record what the process that ran a crawl reported (the scheduler's view)."""
        fields = {"exit_status": exit_status}
        if note:
            fields["note"] = note
        with write_transaction(self.db):
            self.db["runs"].update(run_id, fields)

    def record_failed_run(self, programs: list[str], trigger: str, note: str, exit_status: int | None) -> int:
        """A run that never got to crawl (the crawl process failed before starting one)."""
        now = utcnow()
        with write_transaction(self.db):
            return self.db["runs"].insert(
                {"started": now, "finished": now, "status": "failed", "programs": json.dumps(programs),
                 "trigger": trigger, "note": note, "exit_status": exit_status, "duration": 0.0}
            ).last_pk

    def known_pages(self, programs: list[str]) -> list[KnownPage]:
        """Every page archived for these programs, except "Show more" pages, with their latest version's
        comparison key (worked out now for versions stored without one: a first crawl's, an upgrade's)."""
        placeholders = ", ".join("?" for _ in programs)
        rows = list(self.db.query(
            "select p.url, p.program, p.role, p.state, p.etag, p.last_modified, c.compare_key, p.title, "
            "c.id as content_id from pages p "
            "left join snapshots s on s.id = p.last_good_snapshot left join contents c on c.id = s.content_id "
            f"where p.program in ({placeholders}) and p.role != 'pager' order by p.id",
            programs,
        ))
        missing = [row for row in rows if row["compare_key"] is None and row["content_id"] is not None
                   and row["role"] in ("page", "program") and row["state"] == "live"]
        if missing and not self.readonly:  # versions new since the last crawl: their keys, once
            with write_transaction(self.db):
                for row in missing:
                    row["compare_key"] = comparison.comparison_key(texts.stored_version(self.db.conn,
                                                                                        row["content_id"]))
                    self.db.execute("update contents set compare_key = ? where id = ?",
                                    [row["compare_key"], row["content_id"]])
        return [KnownPage(**{name: value for name, value in row.items() if name != "content_id"}) for row in rows]

    def kept_cookies(self) -> list[dict]:
        """The cookies sites set to last, as the last crawl left them (see :mod:`wwc_archive.crawler.cookies`)."""
        return [dict(row) for row in self.db.query("select origin, name, value, path, expires from kept_cookies")]

    def keep_cookies(self, rows: list[dict]) -> None:
        """Replace the kept cookies with those a crawl ends with."""
        with write_transaction(self.db):
            self.db.execute("delete from kept_cookies")
            self.db.conn.executemany(
                "insert into kept_cookies (origin, name, value, path, expires) values (?, ?, ?, ?, ?)",
                [(r["origin"], r["name"], r["value"], r["path"], r["expires"]) for r in rows])

    def writer(self, run_id: int, batch_size: int = 200, max_delay: float = 2.0,
               key_terms: dict[str, tuple[str, ...]] | None = None) -> write.RunWriter:
        """A writer for this run's fetch records (``key_terms``: program -> terms its changes weigh)."""
        return write.RunWriter(self, run_id, batch_size=batch_size, max_delay=max_delay, key_terms=key_terms)

    def finish_run(self, run_id: int, status: str, note: str | None = None, exit_status: int | None = None,
                   finished: str | None = None) -> dict:
        """Close a run: review its changes together, count its snapshots and, if it completed, record removals.

        Removals are decided here and only for a complete run, so an
        interrupted run never reports a page as gone. Outage answers and
        template changes are dismissed here (:mod:`~wwc_archive.archive.changes.run_review`),
        and the run's note says so. The changes that only echo a new or
        removed article are marked (:mod:`~wwc_archive.archive.changes.echoes`). A
        complete run in which every fetch failed is recorded ``failed``.
        """
        with write_transaction(self.db):
            if status == "complete":
                write.record_removals(self.db, run_id)
            reviewed = run_review.review_run(self.db, run_id)
            change_scores.mark_echoes(self.db.conn, run_id)
            counts = self._run_counts(run_id)
            if status == "complete" and counts["pages_failed"] and not counts["pages_fetched"]:
                status = "failed"
                reviewed = [*reviewed, f"every fetch failed ({counts['pages_failed']} pages)"]
            note = "; ".join(filter(None, [note, *reviewed])) or None
            started = self.db["runs"].get(run_id)["started"]
            finished = finished or utcnow()
            duration = (parse_utc(finished) - parse_utc(started)).total_seconds()
            self.db["runs"].update(
                run_id,
                {
                    "finished": finished,
                    "status": status,
                    "note": note,
                    "exit_status": exit_status,
                    "duration": duration,
                    **counts,
                },
            )
        return self.db["runs"].get(run_id)

    def _run_counts(self, run_id: int) -> dict:
        fetched = queries.run_fetch_outcomes(self.db, run_id)
        outcomes = [fetch["outcome"] for fetch in fetched]
        row = {
            "pages_checked": len({fetch["page_id"] for fetch in fetched}),
            "pages_fetched": sum(outcome in ("ok", "not_modified", "gone") for outcome in outcomes),
            "pages_failed": outcomes.count("failed"),
            "pages_read": sum(outcome in ("ok", "not_modified") for outcome in outcomes),
        }
        kinds = dict(
            self.db.execute(
                "select change, count(*) from changes where run_id = ? group by change", [run_id]
            ).fetchall()
        )
        added, changed, removed = (kinds.get(kind, 0) for kind in ("added", "changed", "removed"))
        return {
            "pages_checked": row["pages_checked"] or 0,
            "pages_fetched": row["pages_fetched"] or 0,
            "pages_failed": row["pages_failed"] or 0,
            "pages_unchanged": (row["pages_read"] or 0) - added - changed,
            "added": added,
            "changed": changed,
            "removed": removed,
        }
