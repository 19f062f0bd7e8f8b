"""``wwc-archive check`` finds real damage in real archives, and repairs only with --repair."""

import hashlib
import sqlite3
import zlib
from contextlib import closing

from click.testing import CliRunner
from filelock import FileLock

from wwc_archive.archive import Archive
from wwc_archive.cli import cli


def invoke(*args):
    return CliRunner().invoke(cli, [str(arg) for arg in args])


def digest(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def damage(path) -> int:
    """Alter one stored delta that no other body is a delta on, and leave a run `running` as a killed
    crawl would; returns the body id."""
    Archive(path).close()
    with closing(sqlite3.connect(path)) as conn, conn:
        body_id = conn.execute("select min(id) from bodies b where compression in ('zstd-delta', 'zstd-n1') "
                               "and not exists (select 1 from bodies d where d.base_id = b.id)").fetchone()[0]
        conn.execute("update bodies set data = ? where id = ?", [zlib.compress(b"<p>altered</p>"), body_id])
        conn.execute("update bodies set compression = 'zlib' where id = ?", [body_id])
        conn.execute("insert into runs (started, status, programs, trigger, pid) "
                     "values ('2026-11-27T03:00:00Z', 'running', '[]', 'scheduled', 999999)")
    return body_id


def test_a_sound_archive_has_no_problems(edited_archive):
    result = invoke("check", "--db", edited_archive.path)
    assert result.exit_code == 0, result.output
    assert "no problems" in result.output and "bodies verified" in result.output


def test_check_reports_an_altered_body_and_a_dead_run_and_changes_nothing(edited_archive):
    path = edited_archive.path
    body_id = damage(path)
    before = digest(path)
    result = invoke("check", "--db", path)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith(f"body {body_id}: its bytes hash to ") for line in lines), lines
    assert any(line.startswith("run 3 (") and "its process is gone" in line for line in lines), lines
    assert "2 problem(s)" in result.stderr
    assert digest(path) == before


def test_repair_marks_the_dead_run_interrupted_and_leaves_the_body_problem(edited_archive):
    path = edited_archive.path
    damage(path)
    result = invoke("check", "--db", path, "--repair")
    assert result.exit_code == 1, "the altered body is still a problem"
    assert "marked 1 dead run(s) interrupted" in result.stdout
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("select status from runs where id = 3").fetchone() == ("interrupted",)
    again = invoke("check", "--db", path)
    assert "its process is gone" not in again.output and "1 problem(s)" in again.stderr


def test_the_run_of_a_crawl_holding_the_lock_is_alive(edited_archive):
    path = edited_archive.path
    archive = Archive(path)
    archive.start_run(["w"])
    archive.close()
    with FileLock(path + ".lock"):
        result = invoke("check", "--db", path)
    assert result.exit_code == 0 and "no problems" in result.output
