"""A run writer in a thread of its own, so storage overlaps with crawling.

Compression, hashing and SQLite release the GIL, so while the writer thread
stores one batch the crawl goes on parsing the next pages. Records are handed
over through a bounded queue; the thread owns its own connection.
"""

import queue
import threading

from archive.records import FetchRecord
from archive.store import Archive

_STOP = object()


class ArchiveWriteError(RuntimeError):
    """The writer thread failed; what it had committed before stays."""


class BackgroundWriter:
    def __init__(self, db_path: str, run_id: int, batch_size: int = 200, max_delay: float = 2.0,
                 max_pending: int = 2000):
        self.db_path = db_path
        self.run_id = run_id
        self.batch_size = batch_size
        self.max_delay = max_delay
        self.error: BaseException | None = None
        self._queue: queue.Queue = queue.Queue(max_pending)
        self._thread = threading.Thread(target=self._run, name="archive-writer", daemon=True)
        self._thread.start()

    def add(self, record: FetchRecord) -> None:
        """Queue a record; raises :class:`ArchiveWriteError` once the thread has failed."""
        self._raise_if_failed()
        self._queue.put(record)

    def close(self) -> None:
        """Write what is queued and stop the thread."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()
        self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self.error is not None:
            raise ArchiveWriteError(f"writing to {self.db_path} failed: {self.error}") from self.error

    def _run(self) -> None:
        archive = None
        try:
            archive = Archive(self.db_path)
            writer = archive.writer(self.run_id, batch_size=self.batch_size, max_delay=self.max_delay)
            while True:
                try:
                    record = self._queue.get(timeout=self.max_delay)
                except queue.Empty:
                    writer.flush()  # a quiet spell: put what is buffered on disk
                    continue
                if record is _STOP:
                    break
                writer.add(record)
            writer.flush()
        except BaseException as error:  # reported to the crawl through add() and close()
            self.error = error
            self._drain()
        finally:
            if archive is not None:
                archive.close()

    def _drain(self) -> None:
        """After a failure, keep taking records so that add() never blocks forever."""
        while self._queue.get() is not _STOP:
            pass
