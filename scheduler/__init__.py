"""Nightly crawls with APScheduler: one job per program, each crawl in a child process.

:mod:`wwc_archive.scheduler.planner` decides when (pure functions), :mod:`wwc_archive.scheduler.jobs`
runs one crawl and records its outcome, :mod:`wwc_archive.scheduler.service` builds and
runs the APScheduler, :mod:`wwc_archive.scheduler.options` reads the ``[schedule]`` table.
"""

from wwc_archive.scheduler.options import ScheduleOptions
from wwc_archive.scheduler.service import Service

__all__ = ["ScheduleOptions", "Service"]
