"""What a crawl prints while it runs: Scrapy's log one line per message, and on a
terminal a live progress line.

By default each warning or error is one line, its exception named at the end
instead of a traceback; ``verbose`` gives Scrapy's usual log, tracebacks and
all. The progress line (pages fetched, queued, failed, changes so far,
elapsed) is redrawn in place on a terminal only: cron, the scheduler and
pipes get the summary alone.
"""

import logging
import time

from scrapy import signals
from twisted.internet import task

from wwc_archive.crawler.items import PageToExtract
from wwc_archive.records import AssetFetch

LOG_FORMAT = "%(asctime)s [%(name)s] %(levelname)s: %(message)s"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
CLEAR = "\r\x1b[K"


class OneLineFormatter(logging.Formatter):
    """A log record on one line: no traceback, the exception's type and message at the end."""

    def format(self, record: logging.LogRecord) -> str:
        message = " ".join(record.getMessage().split())
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            detail = " ".join(str(error).split())
            if detail not in message:
                message += f" ({type(error).__name__}: {detail})" if detail else f" ({type(error).__name__})"
        record.message = message
        record.asctime = self.formatTime(record, self.datefmt)
        return self._style._fmt % {**record.__dict__, "message": message}


class TerminalHandler(logging.StreamHandler):
    """A stream handler that keeps the progress line, if any, below the log lines."""

    def __init__(self, stream, progress: "ProgressLine | None" = None):
        super().__init__(stream)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        shown = self.progress is not None and self.progress.shown
        if shown:
            self.progress.clear()
        super().emit(record)
        if shown:
            self.progress.draw()


def configure_logging(stream, level: str, verbose: int, progress: "ProgressLine | None" = None) -> None:
    """Send every log record (Scrapy's, Twisted's, ours) to ``stream`` at ``level``."""
    handler = TerminalHandler(stream, progress)
    if verbose:
        handler.setFormatter(logging.Formatter(LOG_FORMAT, DATE_FORMAT))
    else:
        handler.setFormatter(OneLineFormatter(LOG_FORMAT, DATE_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, TerminalHandler)]:
        root.removeHandler(old)
    handler.setLevel(level)
    root.addHandler(handler)
    # Scrapy puts its loggers at DEBUG and leaves the choice to handlers: a record made for every
    # page fetched and item stored, only to be dropped, cost 0.05 s of a 2,000-page crawl.
    logging.getLogger("scrapy").setLevel(level)


class ProgressLine:
    """``fetched 120, queued 31, failed 2, changes 5, 0:42`` redrawn in place on a terminal."""

    def __init__(self, crawler, stream, changes=lambda: 0, interval: float = 0.5):
        self.crawler = crawler
        self.stream = stream
        self.changes = changes
        self.interval = interval
        self.fetched = 0
        self.failed = 0
        self.started = time.monotonic()
        self.shown = False
        self._loop = None  # made once the engine runs: making it earlier would install a reactor
        crawler.signals.connect(self.engine_started, signal=signals.engine_started)
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)

    def engine_started(self):
        self.started = time.monotonic()
        self._loop = task.LoopingCall(self.draw)
        self._loop.start(self.interval, now=True)

    def engine_stopped(self):
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self.clear()

    def item_scraped(self, item, response=None, spider=None):
        record = item.record if isinstance(item, PageToExtract) else item
        if isinstance(record, AssetFetch):
            return  # a page requisite: never counted as a page
        outcome = getattr(record, "outcome", None)
        if outcome == "failed":
            self.failed += 1
        elif outcome is not None:
            self.fetched += 1

    def line(self) -> str:
        stats = self.crawler.stats
        queued = (stats.get_value("scheduler/enqueued") or 0) - (stats.get_value("scheduler/dequeued") or 0)
        try:
            changes = self.changes()
        except Exception:  # the archive is busy: show the count next time
            changes = "?"
        minutes, seconds = divmod(int(time.monotonic() - self.started), 60)
        return (f"fetched {self.fetched}, queued {max(queued, 0)}, failed {self.failed}, changes {changes}, "
                f"{minutes}:{seconds:02d}")

    def draw(self) -> None:
        self.stream.write(CLEAR + self.line())
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write(CLEAR)
            self.stream.flush()
            self.shown = False
