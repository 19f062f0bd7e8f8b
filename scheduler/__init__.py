"""Nightly crawls with APScheduler: one job per program, each crawl in a child process.

:mod:`scheduler.planner` decides when (pure functions), :mod:`scheduler.jobs`
runs one crawl and records its outcome, :mod:`scheduler.service` builds and
runs the APScheduler, :mod:`scheduler.options` reads the ``[schedule]`` table.
"""

from scheduler.options import ScheduleOptions
from scheduler.service import Service

__all__ = ["ScheduleOptions", "Service"]
