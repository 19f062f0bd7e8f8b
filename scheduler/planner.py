"""When to crawl: cron fire times, and the planned crawl a stopped scheduler missed.

Pure functions of their arguments (no clock, no database), so each rule has a
test table. Times are timezone-aware datetimes.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger


class BadSchedule(ValueError):
    """A cron expression or time zone that cannot be used; the message says which."""


def cron_trigger(cron: str, timezone: str) -> CronTrigger:
    """An APScheduler trigger for a five-field crontab line in an IANA time zone."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise BadSchedule(f"unknown time zone {timezone!r} (use a name like 'America/New_York')") from None
    try:
        return CronTrigger.from_crontab(cron, timezone=zone)
    except (ValueError, TypeError) as error:
        raise BadSchedule(f"bad cron expression {cron!r}: {error}") from None


def next_fire_times(trigger: CronTrigger, now: datetime, count: int) -> list[datetime]:
    """The next ``count`` fire times at or after ``now``, in the trigger's time zone."""
    times = []
    fire = trigger.get_next_fire_time(None, now)
    while fire is not None and len(times) < count:
        times.append(fire.astimezone(trigger.timezone))
        fire = trigger.get_next_fire_time(fire, fire)
    return times


def latest_fire_time(trigger: CronTrigger, after: datetime, now: datetime) -> datetime | None:
    """The newest fire time ``t`` with ``after < t <= now``, or None."""
    latest = None
    fire = trigger.get_next_fire_time(None, after)
    while fire is not None and fire <= now:
        if fire > after:
            latest = fire
        fire = trigger.get_next_fire_time(fire, fire)
    return latest.astimezone(trigger.timezone) if latest else None


def missed_fire_time(last_run: datetime | None, trigger: CronTrigger, now: datetime,
                     grace: timedelta) -> datetime | None:
    """The planned crawl to run late on start, if any.

    That is the newest fire time after the last scheduled run and no more than
    ``grace`` before ``now``; older misses are skipped, several misses are
    coalesced into one. With no scheduled run yet there is nothing to catch up.
    """
    if last_run is None:
        return None
    return latest_fire_time(trigger, max(last_run, now - grace), now)


def late_note(planned: datetime, started: datetime) -> str:
    """The note a late crawl carries into its run and report, in the planned time's zone."""
    zone = planned.tzinfo
    return (f"ran late: planned for {planned.isoformat(timespec='seconds')}, "
            f"started {started.astimezone(zone).isoformat(timespec='seconds')}")
