"""Opening an archive never surprises: readers never write, strangers' files stay untouched,
newer archives are refused, older ones are upgraded only by writers, after a backup."""

import hashlib
import os
import sqlite3
from contextlib import closing

import pytest
from click.testing import CliRunner
from sqlite_utils import Migrations

from wwc_archive.archive import Archive
from wwc_archive.archive.migrations import schema
from wwc_archive.archive.opening import inspect_file
from wwc_archive.cli import cli

UNREACHABLE = "http://127.0.0.1:9/"


def invoke(*args):
    return CliRunner().invoke(cli, [str(arg) for arg in args])


def digest(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def one_error_line(result, expected: str, status: int = 2):
    assert result.exit_code == status, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr


EVERY_COMMAND = {
    "runs": ["runs"],
    "changes": ["changes"],
    "check": ["check"],
    "report": ["report"],
    "upgrade": ["upgrade"],
    "crawl": ["crawl", "--start-url", UNREACHABLE],
}


def stranger(tmp_path, wal: bool) -> str:
    path = str(tmp_path / "another-apps.db")
    with closing(sqlite3.connect(path)) as conn, conn:  # closed: no connection left to checkpoint later
        if wal:
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("create table apps (id integer primary key, name text)")
        conn.execute("insert into apps (name) values ('mail')")
    return path


@pytest.mark.parametrize("wal", [False, True], ids=["rollback-journal", "wal"])
@pytest.mark.parametrize("args", EVERY_COMMAND.values(), ids=EVERY_COMMAND.keys())
def test_another_programs_database_is_refused_and_left_untouched(tmp_path, args, wal):
    path = stranger(tmp_path, wal)
    before, files = digest(path), sorted(os.listdir(tmp_path))
    result = invoke(*args, "--db", path)
    one_error_line(result, f"{path} is not a wwc-archive archive (it has no wwc-archive schema)")
    assert digest(path) == before
    assert sorted(os.listdir(tmp_path)) == files, "no -wal, -shm or lock file beside it"


BAD_FILES = {
    "not sqlite": (lambda p: p.write_bytes(b"name,url\nhub,https://example.org\n" * 20),
                   "is not a wwc-archive archive: it is not an SQLite database"),
    "a folder": (lambda p: p.mkdir(), "is a folder, not an archive file"),
}


@pytest.mark.parametrize("make, message", BAD_FILES.values(), ids=BAD_FILES.keys())
@pytest.mark.parametrize("args", [["runs"], ["crawl", "--start-url", UNREACHABLE]], ids=["reader", "writer"])
def test_files_that_are_not_archives_are_one_line_errors(tmp_path, make, message, args):
    path = tmp_path / "archive.db"
    make(path)
    before = digest(path) if path.is_file() else None
    one_error_line(invoke(*args, "--db", path), message)
    assert (digest(path) if path.is_file() else None) == before


def test_readers_never_create_an_archive(tmp_path):
    path = tmp_path / "none.db"
    for args in (["runs"], ["changes"], ["check"], ["report"], ["upgrade"]):
        assert invoke(*args, "--db", path).exit_code == 2
    assert os.listdir(tmp_path) == []


def test_readers_never_write_to_an_archive(edited_archive):
    path = edited_archive.path
    Archive(path).close()  # a writer's open and close leaves the file checkpointed
    before = digest(path)
    for args in (["runs"], ["runs", "--format", "json"], ["changes"], ["check"], ["report", "--format", "html"]):
        assert invoke(*args, "--db", path).exit_code == 0, args
    assert digest(path) == before


#: How many migrations this release knows: the schema version it writes and reads.
RELEASE = len(schema.migrations._migrations)


def future_archive(path) -> str:
    Archive(path).close()
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("insert into _sqlite_migrations (migration_set, name, applied_at) "
                     "values ('wwc-archive', 'm999_from_the_future', '2030-01-01')")
    return str(path)


@pytest.mark.parametrize("args", EVERY_COMMAND.values(), ids=EVERY_COMMAND.keys())
def test_an_archive_from_a_newer_release_is_refused_by_every_command(tmp_path, args):
    path = future_archive(tmp_path / "archive.db")
    before = digest(path)
    result = invoke(*args, "--db", path)
    one_error_line(result, f"{path} has schema version {RELEASE + 1}; this release reads up to {RELEASE}: "
                           "upgrade wwc-archive")
    assert digest(path) == before


def test_an_older_archive_is_upgraded_only_by_writers_after_a_backup(tmp_path, monkeypatch):
    path = str(tmp_path / "archive.db")
    archive = Archive(path)
    archive.finish_run(archive.start_run(["w"]), "complete")
    archive.close()
    before = digest(path)
    migrations = Migrations("wwc-archive")  # this release, plus one more migration
    for migration in schema.migrations._migrations:
        migrations(name=migration.name)(migration.fn)
    migrations(name="m999_page_notes")(lambda db: db["page_notes"].create({"id": int, "note": str}, pk="id"))
    monkeypatch.setattr(schema, "migrations", migrations)

    one_error_line(invoke("runs", "--db", path),
                   f"{path} has schema version {RELEASE}; this release reads version {RELEASE + 1}: "
                   f"run `wwc-archive upgrade --db {path}`")
    assert digest(path) == before

    result = invoke("upgrade", "--db", path)
    assert result.exit_code == 0, result.output
    backups = [name for name in os.listdir(tmp_path) if name.endswith(".bak")]
    assert len(backups) == 1 and backups[0].startswith(f"archive.db.v{RELEASE}-")
    assert f"saved as {tmp_path / backups[0]}" in result.stderr
    assert inspect_file(str(tmp_path / backups[0])).version == RELEASE
    with closing(sqlite3.connect(tmp_path / backups[0])) as conn:
        assert conn.execute("select status from runs").fetchall() == [("complete",)]
    assert inspect_file(path).kind == "current" and "page_notes" in Archive(path, readonly=True).db.table_names()
    assert invoke("runs", "--db", path).exit_code == 0
    assert f"is up to date (schema version {RELEASE + 1})" in invoke("upgrade", "--db", path).output
