"""Compaction: ``wwc-archive compact`` and the scheduler's monthly VACUUM keep every answer and free the slack."""

import sqlite3
from contextlib import closing

from sqlite_utils import Database

from tests.conftest import run_cli
from wwc_archive.archive import Archive, Extracted, FetchRecord, compaction, queries
from wwc_archive.exits import EXIT_BUSY, EXIT_USAGE


def night(n: int) -> str:
    return f"2027-01-{n + 1:02d}T03:00:{n:02d}Z"


def nightly_archive(path, pages=400, nights=8) -> None:
    """Spans that grow every night (the slack nightly updates leave) and one edit a night."""
    archive = Archive(path)
    for n in range(nights):
        run_id = archive.start_run(["wwc"], started=night(n))
        writer = archive.writer(run_id)
        for i in range(pages):
            text = f"Page {i} says {'edited ' * (n if i == n else 0)}something long enough to matter. " * 20
            writer.add(FetchRecord(url=f"https://example.org/news/article/a-{i}", program="wwc", role="page",
                                   fetched_at=night(n), outcome="ok", http_status=200,
                                   headers={"content-type": "text/html"}, body=f"<p>{text}</p>".encode(),
                                   content_type="text/html", extracted=Extracted(title=f"A {i}", text=text)))
        writer.flush()
        archive.finish_run(run_id, "complete")
    archive.close()


def answers(path) -> tuple:
    with closing(sqlite3.connect(path)) as conn:
        db = Database(conn)
        fetches = [(f["page_id"], f["run_id"], f["fetched_at"], f["outcome"], f["body_id"], f["content_id"])
                   for f in queries.fetches(db)]
        rows = {table: conn.execute(f"select * from {table} order by 1").fetchall()
                for table in ("snapshots", "bodies", "contents", "changes", "pages", "runs")}
    return fetches, rows


def test_compact_frees_the_slack_and_keeps_every_row_and_id(tmp_path):
    path = tmp_path / "a.db"
    nightly_archive(path)
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("create table dropped_by_an_upgrade as select * from bodies")  # m010 drops a whole index
        conn.execute("drop table dropped_by_an_upgrade")
        conn.commit()
    before = answers(path)
    with closing(sqlite3.connect(path)) as conn:
        pages, free, page_size = (conn.execute(f"pragma {name}").fetchone()[0]
                                  for name in ("page_count", "freelist_count", "page_size"))
    assert free > 0 and path.stat().st_size == pages * page_size
    result = run_cli("compact", "--db", path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Compacted {path}: ") and " -> " in result.stdout
    assert path.stat().st_size <= (pages - free) * page_size  # the free pages and some part-empty ones
    assert answers(path) == before
    assert run_cli("check", "--db", path).returncode == 0


def four_kib_archive(path) -> None:
    """An archive made with SQLite's default 4 KiB pages, as releases before 0.2 made them."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("pragma page_size = 4096")
        conn.execute("vacuum")
    nightly_archive(path, pages=60, nights=3)


def page_size(path) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("pragma page_size").fetchone()[0]


def test_a_new_archive_has_16_kib_pages_and_an_older_one_gets_them_at_compaction(tmp_path):
    nightly_archive(tmp_path / "new.db", pages=5, nights=1)
    assert page_size(tmp_path / "new.db") == 16384
    path = tmp_path / "old.db"
    four_kib_archive(path)
    assert page_size(path) == 4096
    before = answers(path)
    assert run_cli("compact", "--db", path).returncode == 0
    assert page_size(path) == 16384 and answers(path) == before
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert run_cli("check", "--db", path).returncode == 0


def test_a_reader_holding_the_archive_open_keeps_its_page_size_but_not_its_slack(tmp_path):
    path = tmp_path / "old.db"
    four_kib_archive(path)
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("create table dropped_by_an_upgrade as select * from bodies")
        conn.execute("drop table dropped_by_an_upgrade")
        conn.commit()
        free = conn.execute("pragma freelist_count").fetchone()[0]
    before = answers(path)
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as reader:  # Datasette, say
        reader.execute("select count(*) from snapshots").fetchone()
        result = run_cli("compact", "--db", path)
        assert result.returncode == 0, result.stderr
        assert reader.execute("select count(*) from snapshots").fetchone()[0] == len(before[1]["snapshots"])
    assert free > 0 and page_size(path) == 4096 and answers(path) == before
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("pragma freelist_count").fetchone()[0] == 0


def test_compact_waits_for_no_crawl_and_needs_an_archive(tmp_path):
    path = tmp_path / "a.db"
    nightly_archive(path, pages=5, nights=2)
    archive = Archive(path)
    try:
        with archive.crawl_lock():
            busy = run_cli("compact", "--db", path)
    finally:
        archive.close()
    assert busy.returncode == EXIT_BUSY
    assert busy.stderr.startswith("Error: another crawl is using") and busy.stderr.count("\n") == 1
    missing = run_cli("compact", "--db", tmp_path / "none.db")
    assert missing.returncode == EXIT_USAGE and "no archive at" in missing.stderr
    assert not (tmp_path / "none.db").exists()


def test_the_first_complete_crawl_of_each_month_is_the_compactions_turn(tmp_path):
    archive = Archive(tmp_path / "a.db")
    runs = {}
    for started, status, trigger in [
            ("2027-01-01T03:00:00Z", "interrupted", "manual"), ("2027-01-02T03:00:00Z", "complete", "scheduled"),
            ("2027-01-03T03:00:00Z", "complete", "scheduled"), ("2027-01-31T23:59:59Z", "failed", "scheduled"),
            ("2027-02-01T00:00:00Z", "complete", "manual"), ("2027-02-02T03:00:00Z", "complete", "scheduled"),
            ("2027-03-05T03:00:00Z", "complete", "backfill"), ("2027-03-06T03:00:00Z", "complete", "scheduled")]:
        runs[started[:10]] = run_id = archive.start_run(["wwc"], trigger=trigger, started=started)
        archive.finish_run(run_id, status, finished=started)
    due = {day for day, run_id in runs.items() if compaction.due(archive.db, run_id)}
    archive.close()
    assert due == {"2027-02-01", "2027-03-06"}  # not the archive's first crawl, not history read back


def test_the_first_crawl_of_a_new_month_compacts_and_the_next_does_not(crawl, db_path):
    very_first = crawl()
    with closing(sqlite3.connect(db_path)) as conn, conn:  # as if that crawl was last month
        conn.execute("update runs set started = '2020-01-01T03:00:00Z'")
    first, second = crawl(), crawl()
    assert "compaction" not in very_first.stdout + very_first.stderr  # a new file has little to free
    assert [line for line in first.stdout.splitlines() if line.startswith("Monthly compaction: ")]
    assert "compaction" not in second.stdout + second.stderr
    assert run_cli("check", "--db", db_path).returncode == 0
