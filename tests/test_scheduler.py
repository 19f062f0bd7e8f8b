"""The nightly scheduler: planning, real crawls in child processes, retries, alerts and shutdown."""

import email
import json
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from email import policy
from zoneinfo import ZoneInfo

import pytest
import sqlite_utils
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from wwc_archive.archive import Archive
from wwc_archive.scheduler import ScheduleOptions, Service
from wwc_archive.scheduler.planner import cron_trigger, late_note, missed_fire_time
from wwc_archive.cli import cli
from wwc_archive.config import load_config

UTC = timezone.utc
NY = ZoneInfo("America/New_York")
PROGRAM = "wwc"
CRAWL = ('settings = {AUTOTHROTTLE_ENABLED=false, DOWNLOAD_DELAY=0, CONCURRENT_REQUESTS=16, '
         'CONCURRENT_REQUESTS_PER_DOMAIN=16, RETRY_TIMES=0, DOWNLOAD_TIMEOUT=3}')


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# Planning ------------------------------------------------------------------

MISSED_CASES = [
    # id, last scheduled run, cron, zone, now, grace (h), expected late run
    ("missed-last-night", "2024-05-01T03:00:04+00:00", "0 3 * * *", "UTC", "2024-05-02T05:00:00+00:00", 6,
     "2024-05-02T03:00:00+00:00"),
    ("already-ran-tonight", "2024-05-02T03:00:02+00:00", "0 3 * * *", "UTC", "2024-05-02T05:00:00+00:00", 6, None),
    ("before-tonight's-time", "2024-05-01T03:00:02+00:00", "0 3 * * *", "UTC", "2024-05-02T02:59:00+00:00", 6,
     None),
    ("past-the-grace-time", "2024-05-01T03:00:02+00:00", "0 3 * * *", "UTC", "2024-05-02T09:00:01+00:00", 6, None),
    ("three-nights-down-runs-once", "2024-04-28T03:00:02+00:00", "0 3 * * *", "UTC",
     "2024-05-02T04:00:00+00:00", 6, "2024-05-02T03:00:00+00:00"),
    ("never-ran-nothing-owed", None, "0 3 * * *", "UTC", "2024-05-02T04:00:00+00:00", 6, None),
    ("new-york-on-the-dst-night", "2024-03-09T08:00:05+00:00", "0 3 * * *", "America/New_York",
     "2024-03-10T08:30:00+00:00", 6, "2024-03-10T03:00:00-04:00"),
    ("hourly-picks-the-newest", "2024-05-02T01:00:01+00:00", "0 * * * *", "UTC", "2024-05-02T04:30:00+00:00", 6,
     "2024-05-02T04:00:00+00:00"),
]


@pytest.mark.parametrize("last, cron, zone, now, grace, expected", [c[1:] for c in MISSED_CASES],
                         ids=[c[0] for c in MISSED_CASES])
def test_missed_fire_time(last, cron, zone, now, grace, expected):
    found = missed_fire_time(at(last) if last else None, cron_trigger(cron, zone), at(now), timedelta(hours=grace))
    assert (found.isoformat() if found else None) == expected


def test_late_note_uses_the_program_zone():
    planned = datetime(2024, 3, 10, 3, 0, tzinfo=NY)
    note = late_note(planned, datetime(2024, 3, 10, 9, 12, 5, tzinfo=UTC))
    assert note == "ran late: planned for 2024-03-10T03:00:00-04:00, started 2024-03-10T05:12:05-04:00"


def far_from_now() -> str:
    """A nightly cron line twelve hours from now: no night is missed (and caught up) while a test runs."""
    return f"0 {(datetime.now(UTC).hour + 12) % 24} * * *"


def write_config(tmp_path, start_url, *, cron=None, zone="UTC", smtp_port=None, schedule=""):
    cron = cron or far_from_now()
    path = tmp_path / "config.toml"
    mail = f'smtp_host = "127.0.0.1"\nsmtp_port = {smtp_port}\nsecurity = "none"\nrecipients = ["ops@example.org"]'
    path.write_text(
        f'[[program]]\nname = "{PROGRAM}"\nstart_urls = ["{start_url}"]\nschedule = "{cron}"\ntimezone = "{zone}"\n\n'
        f"[crawl]\n{CRAWL}\n\n[schedule]\n{schedule}\n\n"
        f'[report]\nreports_dir = "{tmp_path / "reports"}"\n{mail if smtp_port else ""}\n',
        encoding="utf-8",
    )
    return str(path)


def test_dry_run_prints_next_times_in_the_zone_across_dst(tmp_path, db_path):
    config = write_config(tmp_path, "http://127.0.0.1:9/", cron="0 3 * * *", zone="America/New_York")
    result = CliRunner().invoke(cli, ["schedule", "--config", config, "--db", db_path, "--dry-run",
                                      "--now", "2024-03-08T12:00:00Z"])
    assert result.exit_code == 0, result.output
    assert f"Job {PROGRAM}: cron '0 3 * * *' in America/New_York" in result.output
    times = [line.split()[-1] for line in result.output.splitlines() if line.startswith("  next run")]
    assert times == ["2024-03-09T03:00:00-05:00", "2024-03-10T03:00:00-04:00", "2024-03-11T03:00:00-04:00"]
    assert "misfire_grace_time 6h, retry_delay 30m" in result.output
    assert "missed run" not in result.output


def test_dry_run_shows_a_missed_night_and_creates_no_archive(tmp_path, db_path):
    config = write_config(tmp_path, "http://127.0.0.1:9/", cron="0 3 * * *", schedule='misfire_grace_time = "8h"')
    result = CliRunner().invoke(cli, ["schedule", "--config", config, "--db", db_path, "--dry-run",
                                      "--now", "2024-05-02T05:00:00Z", "--count", "1"])
    assert result.exit_code == 0 and "missed run" not in result.output
    assert not (tmp_path / "archive.db").exists()
    add_scheduled_run(db_path, datetime(2024, 5, 1, 3, 0, 4, tzinfo=UTC))
    result = CliRunner().invoke(cli, ["schedule", "--config", config, "--db", db_path, "--dry-run",
                                      "--now", "2024-05-02T05:00:00Z", "--count", "1"])
    assert "  missed run planned for 2024-05-02T03:00:00+00:00: would run late on start" in result.output


@pytest.mark.parametrize("program_lines, schedule, message", [
    ('schedule = "0 3 * *"', "", "Error: program 'bad'.schedule: bad cron expression '0 3 * *': Wrong number of fields"),
    ('timezone = "Mars/Olympus"', "", "Error: program 'bad'.timezone: unknown time zone 'Mars/Olympus'"),
    ("", "retry_delay = \"soon\"", "Error: [schedule].retry_delay must be seconds or a duration"),
    ("", "misfire_grace = 60", "Error: [schedule].misfire_grace is not a known setting (did you mean misfire_grace_time?)"),
], ids=["cron", "timezone", "duration", "unknown-option"])
def test_bad_schedule_is_a_one_line_error(tmp_path, program_lines, schedule, message):
    config = tmp_path / "bad.toml"
    config.write_text(f'[[program]]\nname = "bad"\nstart_urls = ["http://127.0.0.1:9/"]\n{program_lines}\n'
                      f"[schedule]\n{schedule}\n", encoding="utf-8")
    for extra in (["--dry-run"], []):
        result = CliRunner().invoke(cli, ["schedule", "--config", str(config), "--db", str(tmp_path / "a.db"),
                                          *extra])
        assert result.exit_code == 2
        assert result.output.startswith(message) and len(result.output.strip().splitlines()) == 1


# Running -------------------------------------------------------------------

class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def subjects(self):
        return [m["Subject"] for m in self.messages]


@pytest.fixture
def smtp():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.port = port
    yield inbox
    controller.stop()


def wait_for(condition, timeout=60, what="the condition"):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def runs(db_path):
    return list(sqlite_utils.Database(db_path).query("select * from runs order by id"))


def add_scheduled_run(db_path, started: datetime):
    """History: a complete scheduled crawl of PROGRAM that started at ``started``."""
    archive = Archive(db_path)
    stamp = started.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    archive.db["runs"].insert({"started": stamp, "finished": stamp, "status": "complete", "trigger": "scheduled",
                               "programs": json.dumps([PROGRAM]), "pages_checked": 1, "pages_fetched": 1})
    archive.close()


@pytest.fixture
def service_for(tmp_path, db_path):
    services = []

    def make(config_path, **options):
        service = Service(load_config(config_path), db_path, ScheduleOptions(**options) if options else None)
        services.append(service)
        return service

    yield make
    for service in services:
        service.stop()


def test_a_planned_job_crawls_then_writes_and_mails_the_report(site, server, tmp_path, db_path, smtp, service_for):
    config = write_config(tmp_path, server.url + site.hub_path, smtp_port=smtp.port)
    service = service_for(config)
    service.start()
    service.run_once(PROGRAM, when=datetime.now(UTC) + timedelta(seconds=1))
    wait_for(lambda: smtp.messages, what="the report mail")
    service.stop()
    (run,) = runs(db_path)
    assert run["trigger"] == "scheduled" and run["status"] == "complete" and run["exit_status"] == 0
    assert run["pages_fetched"] > 0 and run["added"] > 0 and run["duration"] > 0 and run["note"] is None
    report = (tmp_path / "reports" / "run-0001.html").read_text(encoding="utf-8")
    assert site.articles[0].title in report
    (message,) = smtp.messages
    assert message["To"] == "ops@example.org" and "alert" not in message["Subject"].lower()


def test_a_night_missed_while_down_runs_late_on_start(site, server, tmp_path, db_path, smtp, service_for):
    planned = (datetime.now(UTC) - timedelta(minutes=20)).replace(second=0, microsecond=0).astimezone(NY)
    add_scheduled_run(db_path, planned - timedelta(days=1))
    config = write_config(tmp_path, server.url + site.hub_path, cron=f"{planned.minute} {planned.hour} * * *",
                          zone="America/New_York", smtp_port=smtp.port)
    service = service_for(config)
    service.start()  # no job added by the test: the scheduler finds the missed night itself
    wait_for(lambda: smtp.messages, what="the report of the late run")
    service.stop()
    late = runs(db_path)[-1]
    assert late["status"] == "complete" and late["trigger"] == "scheduled"
    assert late["note"].startswith(f"ran late: planned for {planned.isoformat()}, started ")
    report = (tmp_path / "reports" / f"run-{late['id']:04d}.txt").read_text(encoding="utf-8")
    assert f"ran late: planned for {planned.isoformat()}" in report
    assert len(runs(db_path)) == 2, "the missed night ran once"


def test_a_failed_night_is_retried_once_then_mailed_to_the_maintainers(tmp_path, db_path, smtp, service_for):
    with socket.socket() as probe:  # a port nothing listens on: every fetch is refused
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    config = write_config(tmp_path, f"http://127.0.0.1:{closed}/what-works-cities", smtp_port=smtp.port,
                          schedule="retry_delay = 1")
    service = service_for(config)
    service.start()
    service.run_once(PROGRAM)
    wait_for(lambda: smtp.messages, what="the alert")
    service.stop()
    first, retry = runs(db_path)
    for run in (first, retry):
        assert run["status"] == "failed" and run["pages_fetched"] == 0 and run["exit_status"] == 4  # unreachable
        assert "every fetch failed" in run["note"]
    assert retry["note"].startswith("retry of the failed crawl planned for ")
    assert retry["started"] >= first["finished"]
    (alert,) = smtp.messages
    assert alert["Subject"] == f"[wwc-archive] the crawl of {PROGRAM} failed tonight"
    body = alert.get_content()
    assert "failed 2 time(s)" in body and "Reason: every fetch failed (1 of 1 pages)" in body
    assert f"http://127.0.0.1:{closed}/what-works-cities" in body and "Connection refused" in body


def test_a_crawl_that_gives_up_waiting_for_the_lock_is_recorded_and_retried(
        site, server, tmp_path, db_path, smtp, service_for):
    config = write_config(tmp_path, server.url + site.hub_path, smtp_port=smtp.port)
    service = service_for(config, lock_wait=0.5, retry_delay=2)
    archive = Archive(db_path)
    with archive.crawl_lock():  # another crawl holds the archive
        service.start()
        service.run_once(PROGRAM)
        wait_for(lambda: runs(db_path), what="the failed run")
    wait_for(lambda: smtp.messages, what="the report of the retry")
    service.stop()
    gave_up, retry = runs(db_path)
    assert gave_up["status"] == "failed" and gave_up["exit_status"] == 3 and gave_up["trigger"] == "scheduled"
    assert "another crawl held the archive" in gave_up["note"] and "another crawl is using" in gave_up["note"]
    assert retry["status"] == "complete" and retry["note"].startswith("retry of the failed crawl")
    assert "alert" not in " ".join(smtp.subjects()).lower() and len(smtp.messages) == 1


def test_sigterm_stops_the_scheduler_and_the_running_crawl_is_marked_interrupted(site, server, tmp_path, db_path):
    planned = (datetime.now(UTC) - timedelta(minutes=20)).replace(second=0, microsecond=0)
    add_scheduled_run(db_path, planned - timedelta(days=1))
    log_file = tmp_path / "scheduler.log"
    config = write_config(tmp_path, server.url + site.hub_path, cron=f"{planned.minute} {planned.hour} * * *",
                          schedule=f'log_file = "{log_file}"\nretry_delay = 1')
    site.timeout_delay = 30
    slow = site.article_path(site.articles[2])
    site.fail(slow, "timeout")
    process = subprocess.Popen([sys.executable, "-m", "wwc_archive", "schedule", "--config", config, "--db", db_path],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: any(r.path == slow for r in server.requests) or process.poll() is not None,
                 what="the crawl to reach the slow page")
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "SIGTERM: stopping" in err and "scheduler stopped" in err
    history, stopped = runs(db_path)
    assert stopped["status"] == "interrupted" and stopped["exit_status"] == 1
    assert "ran late: planned for" in stopped["note"] and "crawl stopped early" in stopped["note"]
    logged = log_file.read_text(encoding="utf-8")
    assert f"run start: {PROGRAM}" in logged and f"run end: {PROGRAM} run {stopped['id']} interrupted" in logged
    assert "retrying" not in logged, "a crawl stopped on purpose is not retried"
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"


def test_a_crawl_that_cannot_start_within_the_grace_time_is_mailed_as_missed(
        site, server, tmp_path, db_path, smtp, service_for):
    config = write_config(tmp_path, server.url + site.hub_path, smtp_port=smtp.port)
    service = service_for(config, misfire_grace_time=1, lock_wait=2, retry_delay=3600)
    with Archive(db_path).crawl_lock():  # the first crawl waits 2 s for the lock, then gives up
        service.start()
        service.run_once(PROGRAM)
        service.run_once(PROGRAM)  # queued behind the first: starts more than 1 s late
        wait_for(lambda: smtp.messages, what="the missed-run alert")
    service.stop()
    (alert,) = smtp.messages
    assert alert["Subject"].startswith(f"[wwc-archive] the crawl of {PROGRAM} planned for ")
    assert alert["Subject"].endswith(" was missed") and "misfire_grace_time (1s)" in alert.get_content()
    assert [run["status"] for run in runs(db_path)] == ["failed"], "the missed crawl never started"
