"""Never two crawls at once on one archive: the crawl lock, seen from real crawl processes."""

import sqlite3
import subprocess
import sys
import time

import sqlite_utils

from tests.conftest import FAST

#: The slow page answers after 30 s; the crawl gives up on it after 3 s (no retry),
#: so each crawl holds the lock for a few seconds.
SLOW = ("-s", "DOWNLOAD_TIMEOUT=3", "-s", "RETRY_TIMES=0")


def start_crawl(site, server, db_path, *extra):
    return subprocess.Popen(
        [sys.executable, "-m", "wwc_archive", "crawl", "--db", db_path,
         "--start-url", server.url + site.hub_path, *FAST, *SLOW, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def slow_down(site):
    site.timeout_delay = 30
    site.fail(site.article_path(site.articles[2]), "timeout")


def integrity(db_path):
    with sqlite3.connect(db_path) as conn:
        return conn.execute("pragma integrity_check").fetchone()[0]


def runs(db_path):
    return list(sqlite_utils.Database(db_path).query("select * from runs order by id"))


def test_two_crawls_started_together_one_runs_the_other_refuses(site, server, db_path):
    slow_down(site)
    first, second = start_crawl(site, server, db_path), start_crawl(site, server, db_path)
    results = sorted((p.wait(timeout=120), *p.communicate()) for p in (first, second))
    (ok_status, ok_out, _), (busy_status, busy_out, busy_err) = results
    assert (ok_status, busy_status) == (0, 3), results
    assert busy_err.strip().startswith("Error: another crawl is using ") and db_path in busy_err
    assert len(busy_err.strip().splitlines()) == 1 and busy_out == ""
    assert [run["status"] for run in runs(db_path)] == ["complete"]
    assert integrity(db_path) == "ok"


def test_a_crawl_told_to_wait_runs_after_the_other_one(site, server, db_path):
    slow_down(site)
    first, second = start_crawl(site, server, db_path, "--wait", "60"), start_crawl(site, server, db_path, "--wait", "60")
    for process in (first, second):
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    one, two = runs(db_path)
    assert one["status"] == two["status"] == "complete"
    assert two["started"] >= one["finished"], "the second crawl started only once the first had finished"
    assert one["pages_checked"] == two["pages_checked"] > 0
    assert integrity(db_path) == "ok"


def test_a_lock_left_by_a_killed_crawl_does_not_block_the_next(site, server, db_path, crawl):
    slow_down(site)
    site.timeout_delay = 60
    killed = start_crawl(site, server, db_path, "-s", "DOWNLOAD_TIMEOUT=60")
    deadline = time.monotonic() + 60
    while not any(r.path == site.article_path(site.articles[2]) for r in server.requests):
        assert time.monotonic() < deadline and killed.poll() is None
        time.sleep(0.1)
    killed.kill()
    killed.wait()
    assert [run["status"] for run in runs(db_path)] == ["running"]
    site.clear_failures()
    result = crawl()  # no --wait: it would exit 3 if the dead crawl's lock still counted
    assert result.returncode == 0, result.stderr
    killed_run, new_run = runs(db_path)
    assert killed_run["status"] == "interrupted" and killed_run["finished"]
    assert new_run["status"] == "complete"
    assert integrity(db_path) == "ok"
