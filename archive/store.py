"""The archive file: opening it, locking it, runs, and batched snapshot writes."""

import hashlib
import json
import os
import sqlite3
import time
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone

from filelock import FileLock, Timeout
from sqlite_utils import Database

from archive.fingerprint import document_fingerprint, normalized, normalized_fingerprint
from archive.records import KEPT_HEADERS, Extracted, FetchRecord, utcnow
from archive.schema import ensure_schema
from archive.textdiff import content_summary, unified_text_diff

#: zlib level 1: within 10% of level 6's size on Drupal pages, at under half the time.
ZLIB_LEVEL = 1



class ArchiveBusy(Exception):
    """Another process holds the archive's crawl lock."""


def _prepare(db: Database, attempts: int = 200) -> None:
    """Switch to WAL and bring the schema up to date.

    Two processes opening a brand-new archive at once can meet SQLITE_BUSY
    where SQLite does not wait on the busy timeout (the journal-mode switch,
    a read during it); both steps are idempotent, so they are retried.
    """
    for attempt in range(attempts):
        try:
            db.execute("PRAGMA journal_mode=WAL")
            ensure_schema(db)
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == attempts - 1:
                raise
            db.rollback()
            time.sleep(0.05)


@dataclass(frozen=True)
class KnownPage:
    url: str
    program: str
    role: str
    state: str
    etag: str | None
    last_modified: str | None


class Archive:
    """A wwc-archive SQLite file, in WAL mode, with its schema up to date."""

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        self.db = Database(self.path)
        self.db.execute("PRAGMA busy_timeout=30000")  # first: the next statements may wait
        self.db.execute("PRAGMA synchronous=NORMAL")
        _prepare(self.db)

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

    def _running_run(self) -> dict | None:
        rows = list(self.db.query("select id, pid from runs where status = 'running' order by id desc limit 1"))
        return rows[0] if rows else None

    def mark_interrupted_runs(self) -> int:
        """Mark runs still ``running`` as interrupted: call only with the lock held."""
        with self.db.atomic():
            cursor = self.db.execute(
                "update runs set status = 'interrupted', finished = coalesce(finished, ?), "
                "note = coalesce(note, 'the crawl process stopped before the run finished') "
                "where status = 'running'",
                [utcnow()],
            )
        return cursor.rowcount

    # Runs --------------------------------------------------------------------

    def start_run(self, programs: list[str], trigger: str = "manual") -> int:
        with self.db.atomic():
            run_id = self.db["runs"].insert(
                {
                    "started": utcnow(),
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
        with self.db.atomic():
            self.db["runs"].update(run_id, fields)

    def record_failed_run(self, programs: list[str], trigger: str, note: str, exit_status: int | None) -> int:
        """A run that never got to crawl (the crawl process failed before starting one)."""
        now = utcnow()
        with self.db.atomic():
            return self.db["runs"].insert(
                {"started": now, "finished": now, "status": "failed", "programs": json.dumps(programs),
                 "trigger": trigger, "note": note, "exit_status": exit_status, "duration": 0.0}
            ).last_pk

    def known_pages(self, programs: list[str]) -> list[KnownPage]:
        """Every page archived for these programs, except "Show more" pages."""
        placeholders = ", ".join("?" for _ in programs)
        rows = self.db.query(
            "select url, program, role, state, etag, last_modified from pages "
            f"where program in ({placeholders}) and role != 'pager' order by id",
            programs,
        )
        return [KnownPage(**row) for row in rows]

    def writer(self, run_id: int, batch_size: int = 200, max_delay: float = 2.0) -> "RunWriter":
        return RunWriter(self, run_id, batch_size=batch_size, max_delay=max_delay)

    def finish_run(self, run_id: int, status: str, note: str | None = None, exit_status: int | None = None) -> dict:
        """Close a run: count its snapshots and, if it completed, record removals.

        Removals are decided here and only for a complete run, so an
        interrupted run never reports a page as gone.
        """
        with self.db.atomic():
            if status == "complete":
                self._record_removals(run_id)
            counts = self._run_counts(run_id)
            started = self.db["runs"].get(run_id)["started"]
            duration = (
                datetime.now(timezone.utc)
                - datetime.strptime(started, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
            ).total_seconds()
            self.db["runs"].update(
                run_id,
                {
                    "finished": utcnow(),
                    "status": status,
                    "note": note,
                    "exit_status": exit_status,
                    "duration": duration,
                    **counts,
                },
            )
        return self.db["runs"].get(run_id)

    def _record_removals(self, run_id: int) -> None:
        gone = self.db.query(
            "select s.id as snapshot, p.id as page, p.last_good_snapshot as old "
            "from snapshots s join pages p on p.id = s.page_id "
            "where s.run_id = ? and s.outcome = 'gone' and p.state = 'live' and p.role != 'pager'",
            [run_id],
        )
        for row in list(gone):
            self.db["changes"].insert(
                {
                    "run_id": run_id,
                    "page_id": row["page"],
                    "change": "removed",
                    "old_snapshot": row["old"],
                    "new_snapshot": row["snapshot"],
                }
            )
            self.db["pages"].update(row["page"], {"state": "removed"})

    def _run_counts(self, run_id: int) -> dict:
        row = next(
            self.db.query(
                """
                select
                  count(distinct page_id) as pages_checked,
                  sum(outcome in ('ok', 'not_modified', 'gone')) as pages_fetched,
                  sum(outcome = 'failed') as pages_failed
                from snapshots where run_id = ?
                """,
                [run_id],
            )
        )
        kinds = dict(
            self.db.execute(
                "select change, count(*) from changes where run_id = ? group by change", [run_id]
            ).fetchall()
        )
        changed_snapshots = self.db.execute(
            "select count(*) from changes where run_id = ? and change != 'removed'", [run_id]
        ).fetchone()[0]
        unchanged = self.db.execute(
            "select count(*) from snapshots where run_id = ? and outcome in ('ok', 'not_modified')",
            [run_id],
        ).fetchone()[0] - changed_snapshots
        return {
            "pages_checked": row["pages_checked"] or 0,
            "pages_fetched": row["pages_fetched"] or 0,
            "pages_failed": row["pages_failed"] or 0,
            "pages_unchanged": unchanged,
            "added": kinds.get("added", 0),
            "changed": kinds.get("changed", 0),
            "removed": kinds.get("removed", 0),
        }


class RunWriter:
    """Buffers a run's fetch records and writes them in transactions.

    A batch is written as one transaction, so killing the process at any
    moment loses at most the unwritten batch and never leaves half a snapshot.
    """

    def __init__(self, archive: Archive, run_id: int, batch_size: int = 200, max_delay: float = 2.0):
        self.archive = archive
        self.db = archive.db
        self.run_id = run_id
        self.batch_size = batch_size
        self.max_delay = max_delay
        self._buffer: list[FetchRecord] = []
        self._last_flush = time.monotonic()
        self._pages = self._load_pages()

    def _load_pages(self) -> dict[str, dict]:
        rows = self.db.query(
            """
            select p.id, p.url, p.state, p.role, p.last_good_snapshot,
                   s.body_id, s.content_id, c.fingerprint
            from pages p
            left join snapshots s on s.id = p.last_good_snapshot
            left join contents c on c.id = s.content_id
            """
        )
        return {row["url"]: row for row in rows}

    def add(self, record: FetchRecord) -> None:
        self._buffer.append(record)
        if len(self._buffer) >= self.batch_size or time.monotonic() - self._last_flush > self.max_delay:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            with self.db.atomic():  # one transaction per batch
                for record in self._buffer:
                    self._write(record)
            self._buffer.clear()
        self._last_flush = time.monotonic()

    # One record --------------------------------------------------------------

    def _write(self, record: FetchRecord) -> None:
        page = self._page(record)
        snapshot = {
            "run_id": self.run_id,
            "page_id": page["id"],
            "fetched_at": record.fetched_at,
            "http_status": record.http_status,
            "outcome": record.outcome,
            "error": record.error,
            "final_url": record.final_url if record.final_url != record.url else None,
            "headers": _kept_headers(record.headers),
        }
        page_update = {"last_run": self.run_id}
        change = None
        fingerprint = page["fingerprint"]
        if record.outcome == "ok":
            content = normalized(record.extracted) if record.extracted is not None else None
            fingerprint = _fingerprint(record, content)
            if fingerprint == page["fingerprint"]:
                snapshot["body_id"], snapshot["content_id"] = page["body_id"], page["content_id"]
            else:
                snapshot["body_id"] = self._store_body(record)
                snapshot["content_id"] = self._store_content(content, fingerprint)
                change = "changed" if page["state"] == "live" and page["fingerprint"] else "added"
            if page["state"] != "live" and change is None:
                change = "added"  # back after a removal, with the same content
            page_update.update(state="live", etag=record.headers.get("etag"),
                               last_modified=record.headers.get("last-modified"))
            if content is not None:
                page_update["title"] = content.title or None
        elif record.outcome == "not_modified":
            snapshot["body_id"], snapshot["content_id"] = page["body_id"], page["content_id"]
        snapshot_id = self._insert("snapshots", snapshot)
        page_update["last_snapshot"] = snapshot_id
        if record.outcome in ("ok", "not_modified") and snapshot.get("content_id"):
            page_update["last_good_snapshot"] = snapshot_id
        if change and page["role"] != "pager":
            self._record_change(page, change, snapshot_id, snapshot["content_id"])
        self._update("pages", page["id"], page_update)
        if "last_good_snapshot" in page_update:
            page.update(
                state="live",
                last_good_snapshot=snapshot_id,
                body_id=snapshot["body_id"],
                content_id=snapshot["content_id"],
                fingerprint=fingerprint,
            )

    def _page(self, record: FetchRecord) -> dict:
        page = self._pages.get(record.url)
        if page is None:
            page_id = self._insert(
                "pages",
                {
                    "url": record.url,
                    "program": record.program,
                    "role": record.role,
                    "state": "unseen",
                    "first_run": self.run_id,
                },
            )
            page = {"id": page_id, "url": record.url, "state": "unseen", "role": record.role,
                    "last_good_snapshot": None, "body_id": None, "content_id": None, "fingerprint": None}
            self._pages[record.url] = page
        return page

    def _store_body(self, record: FetchRecord) -> int | None:
        if record.body is None:
            return None
        sha = hashlib.sha256(record.body).hexdigest()
        existing = self.db.conn.execute("select id from bodies where sha256 = ?", [sha]).fetchone()
        if existing:
            return existing[0]
        return self._insert(
            "bodies",
            {
                "sha256": sha,
                "size": len(record.body),
                "content_type": record.content_type,
                "compression": "zlib",
                "data": zlib.compress(record.body, ZLIB_LEVEL),
            },
        )

    def _store_content(self, e: Extracted | None, fingerprint: str) -> int:
        existing = self.db.conn.execute("select id from contents where fingerprint = ?", [fingerprint]).fetchone()
        if existing:
            return existing[0]
        return self._insert(
            "contents",
            {
                "fingerprint": fingerprint,
                "title": e.title if e else None,
                "author": e.author if e else None,
                "published": e.published if e else None,
                "text": e.text if e else None,
                "links": json.dumps(list(e.links)) if e else None,
            },
        )

    def _record_change(self, page: dict, change: str, snapshot_id: int, content_id: int) -> None:
        row = {
            "run_id": self.run_id,
            "page_id": page["id"],
            "change": change,
            "old_snapshot": page["last_good_snapshot"] if change == "changed" else None,
            "new_snapshot": snapshot_id,
        }
        if change == "changed":
            old, new = self._content(page["content_id"]), self._content(content_id)
            row["summary"] = json.dumps(content_summary(old, new))
            row["diff"] = unified_text_diff(old["text"] or "", new["text"] or "")
        self._insert("changes", row)

    def _content(self, content_id: int) -> dict:
        row = dict(self.db["contents"].get(content_id))
        row["links"] = json.loads(row["links"] or "[]")
        return row

    # Plain SQL on the hot path: sqlite-utils' insert() and update() inspect
    # the table on every call, which costs more than the write itself.

    def _insert(self, table: str, row: dict) -> int:
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        cursor = self.db.conn.execute(f"insert into {table} ({columns}) values ({marks})", list(row.values()))
        return cursor.lastrowid

    def _update(self, table: str, row_id: int, fields: dict) -> None:
        assignments = ", ".join(f"{name} = ?" for name in fields)
        self.db.conn.execute(f"update {table} set {assignments} where id = ?", [*fields.values(), row_id])


def _fingerprint(record: FetchRecord, content: Extracted | None) -> str:
    if record.role == "document" or content is None:
        return document_fingerprint(record.body or b"")
    return normalized_fingerprint(content)


def _kept_headers(headers: dict[str, str]) -> str | None:
    kept = {name: headers[name] for name in KEPT_HEADERS if headers.get(name)}
    return json.dumps(kept) if kept else None
