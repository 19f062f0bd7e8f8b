"""One scheduled crawl: run ``wwc-archive crawl`` in a child process and record how it ended.

Twisted's reactor cannot be restarted, so every crawl gets a fresh process.
The child writes its run; the parent adds the exit status and a note, or
records a failed run when the child never started one (crashed, busy).
"""

import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import datetime, timezone

from wwc_archive.archive import Archive, ArchiveBusy, queries
from wwc_archive.records import parse_utc
from wwc_archive.exits import EXIT_BUSY, EXIT_OK, EXIT_UNREACHABLE


class Children:
    """The crawl processes running now, so that a signal to the scheduler reaches them.

    Each child runs in its own session: a Ctrl-C in the terminal reaches only
    the scheduler, which forwards it once (a second SIGINT would make Scrapy
    stop uncleanly).
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen] = set()
        self.stop_signal: int | None = None

    def run(self, command: list[str]) -> tuple[int, int, str]:
        """Run ``command``; returns (pid, exit status, stderr)."""
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        with self._lock:
            self._running.add(proc)
            late_signal = self.stop_signal
        if late_signal is not None:  # the stop came while the child was starting
            proc.send_signal(late_signal)
        try:
            _, stderr = proc.communicate()
        finally:
            with self._lock:
                self._running.discard(proc)
        return proc.pid, proc.returncode, stderr

    def signal(self, signum: int) -> int:
        """Send ``signum`` to every running child; returns how many there were."""
        with self._lock:
            self.stop_signal = signum
            running = list(self._running)
        for proc in running:
            try:
                proc.send_signal(signum)
            except ProcessLookupError:
                pass
        return len(running)


@dataclass(frozen=True)
class CrawlOutcome:
    program: str
    exit_status: int
    run: dict
    #: Why this counts as a failed night; None when the crawl succeeded.
    failure: str | None

    @property
    def ok(self) -> bool:
        return self.failure is None


def crawl_command(config_path: str | None, program: str, db_path: str, wait: float, note: str | None) -> list[str]:
    command = [sys.executable, "-m", "wwc_archive", "crawl"]
    if config_path:
        command += ["--config", config_path, "--program", program]
    command += ["--db", db_path, "--trigger", "scheduled", "--wait", f"{wait:g}"]
    if note:
        command += ["--note", note]
    return command


def failure_reason(exit_status: int, run: dict | None) -> str | None:
    """Why a night failed, or None when it succeeded.

    Failed: a non-zero exit, a run that is not complete, or a complete run in
    which every fetch failed (the site was unreachable: nothing was archived).
    """
    if exit_status == EXIT_BUSY:
        return "another crawl held the archive for longer than lock_wait"
    if run is None:
        return f"the crawl process exited with status {exit_status} before starting a run"
    every_fetch_failed = f"every fetch failed ({run['pages_failed'] or 0} of {run['pages_checked'] or 0} pages)"
    if run["status"] == "failed" and run["pages_failed"] and not run["pages_fetched"]:
        return every_fetch_failed  # the archive records such a run as failed
    if run["status"] != "complete":
        return f"the run was {run['status']} (exit status {exit_status})"
    if exit_status not in (EXIT_OK, EXIT_UNREACHABLE):  # unreachable: said just below, with the counts
        return f"the crawl process exited with status {exit_status}"
    if not run["pages_fetched"]:
        return every_fetch_failed
    return None


def run_crawl(program: str, db_path: str, config_path: str | None, *, wait: float, note: str | None,
              children: Children) -> CrawlOutcome:
    """Crawl ``program`` of ``config_path`` and record the outcome in its run."""
    launched = datetime.now(timezone.utc).replace(microsecond=0)
    pid, exit_status, stderr = children.run(crawl_command(config_path, program, db_path, wait, note))
    archive = Archive(db_path)
    try:
        run = queries.run_by_pid(archive.db, pid)
        if run is not None and parse_utc(run["started"]) < launched:
            run = None  # an older run by a process that had the same pid
        if run is not None and run["status"] == "running":
            _mark_dead_run(archive)
            run = queries.get_run(archive.db, run["id"])
        failure = failure_reason(exit_status, run)
        detail = _last_line(stderr) if exit_status != EXIT_OK else None
        if run is None:
            run_id = archive.record_failed_run([program], "scheduled", _join(note, failure, detail), exit_status)
        else:
            run_id = run["id"]
            extra = _join(failure, detail) if failure else None
            archive.annotate_run(run_id, exit_status=exit_status, note=_join(run["note"], note, extra))
        return CrawlOutcome(program, exit_status, queries.get_run(archive.db, run_id), failure)
    finally:
        archive.close()


def _mark_dead_run(archive: Archive) -> None:
    """The child died without closing its run: taking the lock marks the run interrupted."""
    try:
        with archive.crawl_lock(wait=0):
            pass
    except ArchiveBusy:
        pass  # a new crawl holds the lock, and marked it when it took the lock


def _last_line(text: str) -> str | None:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else None


def _join(*parts: str | None) -> str | None:
    seen = []
    for part in parts:
        if part and part not in seen and not any(part in s for s in seen):
            seen.append(part)
    return "; ".join(seen) or None
