"""Change detection and storage rules, driven through the archive's own writer."""

import os
import sqlite3
import threading

import pytest

from wwc_archive.archive import Archive, ArchiveBusy, Extracted, FetchRecord, queries
from wwc_archive.archive.migrations.schema import schema_version
from tests.helpers import write_run

URL = "https://example.org/news/article/a-1"


def record(url=URL, outcome="ok", text="Tulsa launched its portal.", status=200, title="A", noise="1"):
    ok = outcome == "ok"
    return FetchRecord(
        url=url, program="wwc", role="page", fetched_at="2026-11-27T03:00:00Z", outcome=outcome,
        http_status=status, error=None if outcome != "failed" else f"HTTP {status}",
        headers={"content-type": "text/html; charset=UTF-8"},
        body=f"<html><!-- {noise} --><p>{text}</p></html>".encode() if ok else None,
        content_type="text/html", extracted=Extracted(title=title, text=text) if ok else None,
    )



def run(archive, *records, status="complete"):
    run_id = write_run(archive, *records, status=status)
    return {row["url"]: row["change"] for row in queries.run_changes(archive.db, run_id)}


def test_first_run_adds_every_page_and_a_rerun_adds_nothing(archive):
    assert run(archive, record(), record(url=URL + "/b")) == {URL: "added", URL + "/b": "added"}
    assert run(archive, record(noise="2"), record(url=URL + "/b", noise="3")) == {}


def test_an_unchanged_page_does_not_store_its_body_again(archive):
    run(archive, record(noise="1"))
    bodies = archive.db["bodies"].count
    run(archive, record(noise="2"))
    run(archive, record(noise="3"))
    assert archive.db["bodies"].count == bodies
    assert [(f["run_id"], f["outcome"]) for f in queries.fetches(archive.db)] == [(1, "ok"), (2, "ok"), (3, "ok")]


def test_edit_is_a_change_with_a_text_diff(archive):
    run(archive, record())
    changes = run(archive, record(text="Tulsa relaunched its portal."))
    assert changes == {URL: "changed"}
    (change,) = queries.run_changes(archive.db, queries.get_run(archive.db)["id"])
    assert "-Tulsa launched its portal." in change["diff"]
    assert "+Tulsa relaunched its portal." in change["diff"]
    assert change["summary"]["words_added"] == 1 and change["summary"]["words_removed"] == 1
    old = queries.snapshot(archive.db, change["old_snapshot"])
    assert old["text"] == "Tulsa launched its portal."


@pytest.mark.parametrize("status", [404, 410])
def test_gone_is_a_removal(archive, status):
    run(archive, record())
    assert run(archive, record(outcome="gone", status=status)) == {URL: "removed"}
    assert run(archive, record(outcome="gone", status=status)) == {}, "reported once"
    assert run(archive, record()) == {URL: "added"}, "back again"


@pytest.mark.parametrize("status", [500, 503, None])
def test_failures_are_not_removals_and_the_last_good_snapshot_stands(archive, status):
    run(archive, record())
    assert run(archive, record(outcome="failed", status=status)) == {}
    page = archive.db["pages"].get(1)
    assert page["state"] == "live"
    assert queries.snapshot(archive.db, page["last_good_snapshot"])["outcome"] == "ok"
    assert run(archive, record()) == {}, "recovery is not a change"
    failed = queries.failed_fetches(archive.db, 2)
    assert [row["url"] for row in failed] == [URL]


def test_an_interrupted_run_reports_no_removals(archive):
    run(archive, record())
    assert run(archive, record(outcome="gone", status=404), status="interrupted") == {}
    assert archive.db["pages"].get(1)["state"] == "live"
    assert run(archive, record(outcome="gone", status=404)) == {URL: "removed"}


def test_not_modified_reuses_the_last_content(archive):
    run(archive, record())
    assert run(archive, record(outcome="not_modified", status=304)) == {}
    snapshots = queries.fetches(archive.db, page_id=1)
    assert [(f["run_id"], f["outcome"], f["http_status"]) for f in snapshots] == [(1, "ok", 200), (2, "not_modified", 304)]
    assert snapshots[1]["content_id"] == snapshots[0]["content_id"] is not None


def test_counts_on_the_run(archive):
    run(archive, record(), record(url=URL + "/b"))
    run(archive, record(text="New words here."), record(url=URL + "/b", outcome="failed", status=503),
        record(url=URL + "/c"))
    latest = queries.get_run(archive.db)
    assert (latest["added"], latest["changed"], latest["removed"]) == (1, 1, 0)
    assert (latest["pages_checked"], latest["pages_failed"], latest["pages_unchanged"]) == (3, 1, 0)


def test_schema_is_versioned_and_reopening_is_harmless(tmp_path):
    path = tmp_path / "a.db"
    Archive(path).close()
    archive = Archive(path)
    assert schema_version(archive.db) >= 1
    assert archive.db.execute("pragma journal_mode").fetchone()[0] == "wal"
    archive.close()


def test_full_text_search_finds_archived_text(archive):
    run(archive, record(text="The zebra crossing dataset."))
    hits = list(archive.db.query("select text from paragraphs_fts where paragraphs_fts match 'zebra'"))
    assert hits == [{"text": "The zebra crossing dataset."}]


def test_crawl_lock_refuses_a_second_crawl_and_recovers_dead_runs(archive, tmp_path):
    stale = archive.start_run(["wwc"])  # a run whose process died without closing it
    with archive.crawl_lock():
        assert archive.db["runs"].get(stale)["status"] == "interrupted"
        other = Archive(archive.path)
        with pytest.raises(ArchiveBusy, match="another crawl is using"):
            with other.crawl_lock(wait=0.1):
                pass
        other.close()
    with archive.crawl_lock():
        pass


def test_integrity_after_writes(archive):
    run(archive, record(), record(url=URL + "/b"))
    archive.close()
    with sqlite3.connect(archive.path) as conn:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert os.path.getsize(archive.path) > 0


def hold_write_lock(path, seconds):
    """Another connection's write transaction, committed after ``seconds``."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("begin immediate")
    conn.execute("insert into runs (status, note) values ('failed', 'another writer')")
    timer = threading.Timer(seconds, lambda: (conn.execute("commit"), conn.close()))
    timer.start()
    return timer


@pytest.mark.parametrize("write", ["start_run", "writer", "finish_run", "annotate_run"])
def test_archive_writes_wait_for_another_writer_instead_of_failing(archive, write):
    """Another connection holding the write lock (a second crawl opening the archive,
    the scheduler annotating a run) makes a write wait, not fail with "database is locked"."""
    run_id = archive.start_run(["wwc"])
    timer = hold_write_lock(archive.path, 0.5)
    if write == "start_run":
        archive.start_run(["wwc"])
    elif write == "writer":
        writer = archive.writer(run_id)
        writer.add(record())
        writer.flush()
    elif write == "finish_run":
        archive.finish_run(run_id, "complete")
    else:
        archive.annotate_run(run_id, exit_status=0, note="ok")
    timer.join()
    notes = [row["note"] for row in archive.db.query("select note from runs order by id")]
    assert "another writer" in notes
