"""Scheduler logging: stderr, and optionally a rotating file."""

import logging
import logging.handlers
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(log_file: str | None = None, level: int = logging.INFO) -> list[logging.Handler]:
    """Send the scheduler's log to stderr (and ``log_file``); APScheduler's own at WARNING."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        handlers.append(logging.handlers.RotatingFileHandler(log_file, maxBytes=1_000_000, backupCount=5,
                                                             encoding="utf-8"))
    formatter = logging.Formatter(FORMAT)
    for handler in handlers:
        handler.setFormatter(formatter)
    for name, logger_level in (("wwc_archive.scheduler", level), ("apscheduler", logging.WARNING)):
        logger = logging.getLogger(name)
        logger.setLevel(logger_level)
        for handler in handlers:
            logger.addHandler(handler)
    return handlers
