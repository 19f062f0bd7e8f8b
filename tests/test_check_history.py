"""``check`` notices what a broken history import leaves, and ``check --repair`` settles it without losing a body.

What an import before the guards could leave: a run left ``running`` by a
process that died (here a real one, SIGKILLed while holding the crawl lock),
and run and fetch times that cannot be real (a CDX timestamp of letters, the
year 9999, February 30th, 1970).
"""

import hashlib
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing

import pytest
from click.testing import CliRunner

from wwc_archive.archive import Archive, Extracted, FetchRecord
from wwc_archive.cli import cli

URL = "https://example.org/news/a-story"


def invoke(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


def query(db, sql, *params):
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql, params).fetchall()


def digest(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.fixture
def db(tmp_path):
    """Three complete runs of one page, each with its own text (three bodies)."""
    path = str(tmp_path / "archive.db")
    archive = Archive(path)
    for night in (1, 2, 3):
        run_id = archive.start_run(["what-works-cities"], trigger="manual", started=f"2024-03-0{night}T03:00:00Z")
        writer = archive.writer(run_id)
        text = f"The city opened its data, night {night}."
        writer.add(FetchRecord(url=URL, program="what-works-cities", role="page",
                               fetched_at=f"2024-03-0{night}T03:00:01Z", outcome="ok", http_status=200,
                               body=f"<p>{text}</p>".encode(), content_type="text/html",
                               extracted=Extracted(title="A story", text=text)))
        writer.flush()
        archive.finish_run(run_id, "complete")
    archive.close()
    return path


def spoil_dates(db):
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("update runs set started = 'abcdefghijklmn' where id = 1")
        conn.execute("update snapshots set fetched_at = 'abcdefghijklmn' where run_id = 1")
        conn.execute("update runs set started = '9999-01-01T00:00:00Z', finished = '1970-01-01T00:00:00Z' "
                     "where id = 2")
        conn.execute("update snapshots set fetched_at = '2024-02-30T03:00:00Z' where run_id = 3")


def test_check_reports_impossible_times_and_changes_nothing(db):
    spoil_dates(db)
    before = digest(db)
    result = invoke("check", "--db", db)
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if "cannot be a real time" in line]
    assert [line.split(" cannot")[0] for line in lines] == [
        "run 1: its started 'abcdefghijklmn'", "run 2: its started '9999-01-01T00:00:00Z'",
        "run 2: its finished '1970-01-01T00:00:00Z'", "snapshot 1: its fetched_at 'abcdefghijklmn'",
        "snapshot 3: its fetched_at '2024-02-30T03:00:00Z'"]
    assert "5 problem(s)" in result.stderr
    assert digest(db) == before


def test_repair_settles_impossible_times_keeps_every_body_and_notes_what_it_replaced(db, tmp_path):
    spoil_dates(db)
    bodies = query(db, "select s.id, b.sha256 from snapshots s join bodies b on b.id = s.body_id order by s.id")
    [(finished,)] = query(db, "select finished from runs where id = 1")  # nothing else in run 1 is a real time
    result = invoke("check", "--db", db, "--repair")
    assert result.exit_code == 0, result.output
    assert [line for line in result.stdout.splitlines() if line.startswith("Repaired: run")] == [
        "Repaired: run 1: started 'abcdefghijklmn'; 1 fetch time(s), the first 'abcdefghijklmn', set to its start "
        f"(now started {finished})",
        "Repaired: run 2: started '9999-01-01T00:00:00Z'; finished '1970-01-01T00:00:00Z' "
        "(now started 2024-03-02T03:00:01Z)",
        "Repaired: run 3: 1 fetch time(s), the first '2024-02-30T03:00:00Z', set to its start "
        "(now started 2024-03-03T03:00:00Z)"]
    assert query(db, "select id, started, finished, status from runs order by id") == [
        (1, finished, finished, "complete"),
        (2, "2024-03-02T03:00:01Z", "2024-03-02T03:00:01Z", "complete"),
        (3, "2024-03-03T03:00:00Z", query(db, "select finished from runs where id = 3")[0][0], "complete")]
    assert query(db, "select fetched_at from snapshots order by id") == [
        (finished,), ("2024-03-02T03:00:01Z",), ("2024-03-03T03:00:00Z",)]
    assert "'9999-01-01T00:00:00Z'" in query(db, "select note from runs where id = 2")[0][0]
    assert query(db, "select s.id, b.sha256 from snapshots s join bodies b on b.id = s.body_id order by s.id") \
        == bodies
    again = invoke("check", "--db", db)
    assert again.exit_code == 0 and "no problems (3 bodies verified)" in again.output
    assert invoke("export-warc", "--db", db, "--all", "-o", tmp_path / "x").exit_code == 0


HOLD_A_RUN = r"""
import sys, time
from wwc_archive.archive import Archive
archive = Archive(sys.argv[1])
with archive.crawl_lock():
    archive.start_run(["what-works-cities"], trigger="manual")
    print("running", flush=True)
    time.sleep(120)
"""


def test_a_run_whose_process_was_killed_is_found_and_settled_interrupted_without_removals(db):
    process = subprocess.Popen([sys.executable, "-c", HOLD_A_RUN, db], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "running"
        alive = invoke("check", "--db", db)
        assert alive.exit_code == 0, alive.output  # its crawl holds the lock: alive
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    result = invoke("check", "--db", db)
    assert result.exit_code == 1
    assert "run 4 (started " in result.stdout and f"pid {process.pid}) is marked running" in result.stdout
    repaired = invoke("check", "--db", db, "--repair")
    assert repaired.exit_code == 0 and "marked 1 dead run(s) interrupted" in repaired.output
    assert query(db, "select status, removed from runs where id = 4") == [("interrupted", None)]
    assert query(db, "select count(*) from changes where change = 'removed'") == [(0,)]
