"""The storage process: extracts deferred pages and writes records to the archive.

The crawl hands records over a bounded queue to a child process (started with
``spawn``: the crawl's reactor and threads are not forked), so extraction,
compression, hashing and SQLite run beside the crawl on another core instead
of sharing its interpreter. The child writes batched transactions through
:class:`wwc_archive.archive.RunWriter`; killing the crawl loses at most the batch in hand.
"""

import multiprocessing
import os
import queue
import signal
import threading
import time
from dataclasses import replace

from wwc_archive.archive import Archive, FetchRecord
from wwc_archive.records import AssetFetch
from wwc_archive.crawler.extract import extract_page
from wwc_archive.crawler.items import PageToExtract
from wwc_archive.config import origin_of
from wwc_archive.crawler.not_found import NotFoundPage, answers_not_found

_STOP = None
_QUIET = object()
HANDOVER_SIZE = 32
HANDOVER_DELAY = 0.5
#: Once it has caught up with the crawl, the storage process writes what it holds when that is
#: this many records, so the end of a crawl waits for the write of about this many instead of a
#: whole batch (transactions of a bundle each would cost more CPU than they save).
CAUGHT_UP_WRITE = 64


class StorageError(RuntimeError):
    """The storage process failed; what it had committed before stays."""


class StorageProcess:
    def __init__(self, db_path: str, run_id: int, profiles: dict, batch_size: int = 200,
                 max_delay: float = 2.0, max_pending: int = 100, key_terms: dict | None = None):
        context = multiprocessing.get_context("spawn")
        self._inbox = context.Queue(max_pending)
        self._outbox = context.Queue()
        # A crawl stopped by force exits without close(): records still in a queue's pipe are lost, as a kill
        # loses them (the run is interrupted either way), and the exit must not wait on a pipe nobody reads.
        self._inbox.cancel_join_thread()
        self._outbox.cancel_join_thread()
        self.error: str | None = None
        self._bundle: list = []
        self._handed_over = time.monotonic()
        self._process = context.Process(
            target=run_storage,
            args=(db_path, run_id, profiles, batch_size, max_delay, os.getpid(), self._inbox, self._outbox,
                  key_terms),
            name="wwc-archive-storage",
            daemon=True,
        )
        self._process.start()

    @property
    def pid(self) -> int:
        return self._process.pid

    def add(self, item: FetchRecord | PageToExtract) -> None:
        """Queue a record; raises :class:`StorageError` once the process has failed.

        Records cross to the process in small bundles (a queue transfer costs
        more than the pickling), at least every ``HANDOVER_DELAY`` seconds; the
        process's answer is read before each bundle (a poll of its pipe per
        record cost more than the rest of this method).
        """
        if self.error is not None:
            raise StorageError(self.error)
        self._bundle.append(item)
        now = time.monotonic()
        if len(self._bundle) >= HANDOVER_SIZE or now - self._handed_over > HANDOVER_DELAY:
            self._check()
            self._hand_over(now)

    def _hand_over(self, now: float) -> None:
        if self._bundle:
            self._inbox.put(self._bundle)
            self._bundle = []
        self._handed_over = now

    def close(self) -> None:
        """Write what is queued, stop the process, and raise if anything failed."""
        if self._process.is_alive():
            self._hand_over(time.monotonic())
            self._inbox.put(_STOP)
        self._process.join()
        self._check(block=True)
        if self.error is None and self._process.exitcode != 0:
            self.error = f"the storage process exited with status {self._process.exitcode}"
        if self.error is not None:
            raise StorageError(self.error)

    def _check(self, block: bool = False) -> None:
        if self.error is None:
            try:
                status, message = self._outbox.get(block=block, timeout=5 if block else None)
            except queue.Empty:
                return
            if status == "error":
                self.error = message
        if self.error is not None and not block:
            raise StorageError(self.error)


def run_storage(db_path, run_id, profiles, batch_size, max_delay, parent_pid, inbox, outbox,
                key_terms=None) -> None:
    """The storage process's main loop."""
    # Ctrl-C reaches the whole process group: the crawl decides when storage stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_with_parent(parent_pid)
    archive = None
    try:
        archive = Archive(db_path)
        writer = archive.writer(run_id, batch_size=batch_size, max_delay=max_delay, key_terms=key_terms)
        held = 0  # records added since the last write (about: the writer also writes on its own)
        not_found: dict[str, NotFoundPage] = {}  # origin -> its not-found page, once the spider learned it
        while True:
            try:
                item = inbox.get(timeout=max_delay)
            except queue.Empty:
                item = _QUIET
            if os.getppid() != parent_pid:
                # The crawl was killed: stop as it did, without the batch in hand, and
                # before the next crawl (free to start now) sees this run's pages change.
                return
            if item is _STOP:
                break
            if item is _QUIET:
                writer.flush()  # a quiet spell: put what is buffered on disk
                held = 0
                continue
            for record in item:
                if isinstance(record, NotFoundPage):
                    not_found[record.origin] = record
                elif isinstance(record, AssetFetch):  # a page requisite: written as it came
                    writer.add(record)
                else:
                    writer.add(soft_404_as_gone(extracted_record(record, profiles), not_found))
            held = (held + len(item)) % max(batch_size, 1)
            if held >= CAUGHT_UP_WRITE and inbox.empty():
                writer.flush()
                held = 0
        writer.flush()
        outbox.put(("ok", None))
    except BaseException as error:  # reported to the crawl, which stops
        outbox.put(("error", f"{type(error).__name__}: {error}"))
        while inbox.get() is not _STOP:  # keep the crawl's puts from blocking until it stops
            pass
    finally:
        if archive is not None:
            archive.close()


def exit_with_parent(parent_pid: int, interval: float = 0.5) -> None:
    """Exit this process as soon as the crawl that started it is gone (killed).

    Whatever the main loop is blocked on, such as a bundle the killed crawl had
    half written to the queue or a stop it will never send, an orphan must not
    hold the archive, or its parent's output pipes, for ever. An unfinished
    transaction is rolled back, as if this process had been killed too.
    """
    def watch():
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os._exit(0)

    threading.Thread(target=watch, name="wwc-archive-parent-watch", daemon=True).start()


def soft_404_as_gone(record: FetchRecord, not_found: dict) -> FetchRecord:
    """A page that answered with its site's not-found page, as ``gone`` (see :mod:`~wwc_archive.crawler.not_found`)."""
    page = not_found.get(origin_of(record.url))
    if page is None or not answers_not_found(page, record):
        return record
    return replace(record, outcome="gone", body=None, extracted=None,
                   error=f"soft 404: answered {record.http_status} with the site's \"not found\" page")


def extracted_record(item, profiles) -> FetchRecord:
    if isinstance(item, PageToExtract):
        record = item.record
        content = extract_page(item.html, record.url, profiles[record.program], find_next=False)
        return replace(record, extracted=content.extracted)
    return item
