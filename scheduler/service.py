"""The APScheduler that runs each program's crawl on its cron schedule, in the foreground.

One cron job per program; crawls run one at a time (a single worker), each
in a child process. On start, a planned crawl missed while the scheduler was
down is run once, late, within the grace time. A failed night is retried once,
then reported to the maintainers. SIGTERM/SIGINT stop the scheduler and ask a
running crawl to stop, which marks its run interrupted.
"""

import logging
import os
import signal
import threading
import uuid
from datetime import datetime, timedelta, timezone

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from wwc_archive.scheduler import history, jobs, notify, planner
from wwc_archive.scheduler.options import ScheduleOptions, format_duration
from wwc_archive.config import Config, ConfigError

log = logging.getLogger("wwc_archive.scheduler")


def program_triggers(config: Config) -> dict:
    """A cron trigger per program; raises ConfigError naming the program with a bad schedule."""
    triggers = {}
    for program in config.programs:
        try:
            triggers[program.name] = planner.cron_trigger(program.schedule, program.timezone)
        except planner.BadSchedule as error:
            raise ConfigError(f"program {program.name!r}: {error}") from None
    return triggers


def describe(config: Config, db_path: str, options: ScheduleOptions, now: datetime, count: int = 3) -> list[str]:
    """What ``schedule --dry-run`` prints: each job, its next run times, and a missed run if any."""
    triggers = program_triggers(config)
    lines = [f"Archive: {db_path}", f"Options: {options.describe()}"]
    for program in config.programs:
        lines.append(f"Job {program.name}: cron {program.schedule!r} in {program.timezone}")
        for fire in planner.next_fire_times(triggers[program.name], now, count):
            lines.append(f"  next run {fire.isoformat()}")
        last = history.last_scheduled_start(db_path, program.name)
        missed = planner.missed_fire_time(last, triggers[program.name], now,
                                          timedelta(seconds=options.misfire_grace_time))
        if missed:
            lines.append(f"  missed run planned for {missed.isoformat()}: would run late on start")
    return lines


class Service:
    """Build, start and stop the scheduler for one config and archive."""

    def __init__(self, config: Config, db_path: str, options: ScheduleOptions | None = None):
        self.config = config
        self.db_path = os.path.abspath(db_path)
        self.options = options or ScheduleOptions.from_table(config.schedule)
        self.triggers = program_triggers(config)
        notify.report_settings(config)  # a bad [report] table fails now, not after the first crawl
        self.children = jobs.Children()
        self.stopping = threading.Event()
        self.scheduler = BackgroundScheduler(
            timezone=timezone.utc,
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": max(1, int(self.options.misfire_grace_time)),
            },
        )
        self.scheduler.add_listener(self._on_event, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR)

    @property
    def grace(self) -> timedelta:
        return timedelta(seconds=self.options.misfire_grace_time)

    # Planning ----------------------------------------------------------------

    def plan(self) -> None:
        """One cron job per program."""
        for name, trigger in self.triggers.items():
            self.scheduler.add_job(self.night, trigger, id=f"nightly:{name}", name=f"crawl {name}",
                                   kwargs={"program": name}, replace_existing=True)

    def catch_up(self, now: datetime | None = None) -> list[tuple[str, datetime]]:
        """Run once, now, each program's planned crawl missed while the scheduler was down."""
        now = now or datetime.now(timezone.utc)
        missed = []
        for program in self.config.programs:
            last = history.last_scheduled_start(self.db_path, program.name)
            planned = planner.missed_fire_time(last, self.triggers[program.name], now, self.grace)
            if planned:
                log.warning("missed: the crawl of %s planned for %s did not run; running it now",
                            program.name, planned.isoformat())
                self.run_once(program.name, planned=planned)
                missed.append((program.name, planned))
        return missed

    def run_once(self, program: str, when: datetime | None = None, planned: datetime | None = None,
                 attempt: int = 1) -> None:
        """A one-off crawl of ``program`` at ``when`` (default: now)."""
        self.scheduler.add_job(
            self.night, "date", run_date=when or datetime.now(timezone.utc),
            id=f"once:{program}:{uuid.uuid4().hex[:8]}", name=f"crawl {program} (attempt {attempt})",
            kwargs={"program": program, "planned": planned, "attempt": attempt},
        )

    # Running -----------------------------------------------------------------

    def start(self) -> None:
        self.plan()
        self.scheduler.start()
        log.info("scheduler started: archive %s; %s", self.db_path, self.options.describe())
        for job in self.scheduler.get_jobs():
            log.info("next %s: %s", job.name, job.next_run_time.isoformat())
        self.catch_up()

    def stop(self, signum: int = signal.SIGTERM) -> None:
        """Stop scheduling; ask a running crawl to stop and wait until its run is recorded."""
        self.stopping.set()
        if self.children.stop_signal is None:
            self.children.signal(signum)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        log.info("scheduler stopped")

    def serve_forever(self) -> None:
        """Run until SIGTERM or SIGINT."""
        handlers = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.start()
            self.stopping.wait()
        finally:
            self.stop()
            for sig, handler in handlers.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum, frame) -> None:
        first = not self.stopping.is_set()
        self.stopping.set()
        running = self.children.signal(signum)
        name = signal.Signals(signum).name
        if first and running:
            log.info("%s: stopping; the running crawl was asked to stop and will mark its run interrupted", name)
        elif first:
            log.info("%s: stopping", name)

    # One night ---------------------------------------------------------------

    def night(self, program: str, planned: datetime | None = None, attempt: int = 1) -> None:
        """The job: crawl ``program``, then deliver the report, retry once, or alert."""
        if self.stopping.is_set():
            return
        try:
            self._night(program, planned, attempt)
        except Exception as error:  # a bug or a broken archive: tell someone rather than only log
            log.exception("crawl of %s could not be run", program)
            self._alert(f"the scheduled crawl of {program} could not be run",
                        f"The scheduler could not run the crawl of {program}: {error}")

    def _night(self, program: str, planned: datetime | None, attempt: int) -> None:
        started = datetime.now(timezone.utc)
        trigger = self.triggers[program]
        if planned is None:
            planned = planner.latest_fire_time(trigger, started - self.grace, started) or started
        planned = planned.astimezone(trigger.timezone)
        if attempt > 1:
            note = f"retry of the failed crawl planned for {planned.isoformat()}"
        elif (started - planned).total_seconds() > self.options.late_after:
            note = planner.late_note(planned, started)
        else:
            note = None
        log.info("run start: %s (planned for %s, attempt %d)%s", program, planned.isoformat(), attempt,
                 f": {note}" if note else "")
        config_path = os.path.abspath(self.config.path) if self.config.path else None
        outcome = jobs.run_crawl(program, self.db_path, config_path,
                                 wait=self.options.lock_wait, note=note, children=self.children)
        run = outcome.run
        log.log(logging.INFO if outcome.ok else logging.WARNING,
                "run end: %s run %s %s, exit status %s, %s: %s checked, %s failed; +%s ~%s -%s%s",
                program, run["id"], run["status"], outcome.exit_status, format_duration(run["duration"] or 0),
                run["pages_checked"] or 0, run["pages_failed"] or 0, run["added"] or 0, run["changed"] or 0,
                run["removed"] or 0, f"; FAILED: {outcome.failure}" if outcome.failure else "")
        if outcome.ok:
            self._deliver(run["id"])
        elif self.stopping.is_set():
            log.info("%s: not retried, the scheduler is stopping; the next start runs it late "
                     "if within the grace time", program)
        elif attempt == 1:
            retry_at = datetime.now(timezone.utc) + timedelta(seconds=self.options.retry_delay)
            log.warning("%s: retrying at %s", program, retry_at.astimezone(trigger.timezone).isoformat())
            self.run_once(program, when=retry_at, planned=planned, attempt=attempt + 1)
        else:
            self._alert(f"the crawl of {program} failed tonight",
                        notify.failed_night_text(outcome, attempt, self.db_path))

    def _deliver(self, run_id: int) -> None:
        try:
            result, retries = notify.deliver_report(self.config, self.db_path, run_id)
        except Exception as error:  # a failed channel is recorded, and retried after the next run
            log.error("report for run %s not delivered: %s", run_id, error)
        else:
            for retry in retries:  # deliveries earlier runs owed
                (log.error if retry.failed else log.info)("report for run %s sent again: %s", retry.run_id,
                                                          retry.describe())
            log.info("report for run %s written to %s; %s", run_id, result.files.get("html"), result.describe())

    def _alert(self, subject: str, text: str) -> None:
        log.error("alert: %s", subject)
        try:
            notify.send_alert(self.config, subject, text)
        except Exception as error:
            log.error("alert not sent: %s", error)

    def _on_event(self, event) -> None:
        job_id = event.job_id
        program = job_id.split(":")[1] if ":" in job_id else job_id
        if event.code == EVENT_JOB_MISSED:
            planned = event.scheduled_run_time
            if program in self.triggers:
                planned = planned.astimezone(self.triggers[program].timezone)
            self._alert(f"the crawl of {program} planned for {planned.isoformat()} was missed",
                        f"The crawl of {program} planned for {planned.isoformat()} could not start within "
                        f"misfire_grace_time ({format_duration(self.options.misfire_grace_time)}): the "
                        "scheduler was busy with other crawls or the machine was asleep.")
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            log.warning("crawl of %s skipped: the previous one is still running", program)
        elif event.code == EVENT_JOB_ERROR:
            log.error("job %s failed: %s", job_id, event.exception)
