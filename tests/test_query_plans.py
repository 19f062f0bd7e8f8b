"""The pages people open answer from indexes: no query scans a table that grows every night.

Asserted with SQLite's EXPLAIN QUERY PLAN on every statement the real code
runs (traced from the connection), not with timings.
"""

import re
import sqlite3

import pytest
from sqlite_utils import Database

from tests.test_archive import URL, record, run
from tests.test_header_blocks import fetch
from wwc_archive.archive import Archive, queries
from wwc_archive.archive.canned import FTS_FUNCTION, canned_queries, fts_query
from wwc_archive.reports import links
from wwc_archive.reports.datasette import views
from wwc_archive.reports.datasette_plugin import prepare_connection

#: Tables that grow with the archive's age (pages: every page leads to its fetches);
#: a plan line "SCAN <one of them>" reads all of it.
GROWING = {"snapshots", "changes", "contents", "pages", "listing_items", "paragraphs", "paragraph_pages", "link_urls",
           "header_blocks"}
ALIASES = {"s": "snapshots", "ns": "snapshots", "os": "snapshots", "ch": "changes", "c": "changes or contents",
           "nc": "contents", "oc": "contents", "p": "pages", "pp": "paragraph_pages"}


def full_scans(conn: sqlite3.Connection, sql: str, params=()) -> list[str]:
    """Plan lines of ``sql`` that read a growing table from end to end."""
    plan = [row[-1] for row in conn.execute("explain query plan " + sql, params)]
    scans = []
    for line in plan:
        # "SCAN t" reads every row; an AUTOMATIC index is built by reading every row first.
        match = re.match(r"(?:SCAN|SEARCH) (\w+)", line)
        scan = line.startswith("SCAN") or "AUTOMATIC" in line
        if match and scan and (match[1] in GROWING or match[1] in ALIASES) and "VIRTUAL TABLE" not in line:
            scans.append(line)
    return scans


@pytest.fixture
def archive(tmp_path):
    """Three nights of two pages: an edit, a failure, a removal."""
    archive = Archive(tmp_path / "a.db")
    other = URL + "-2"
    run(archive, record(), record(url=other))
    run(archive, record(text="Tulsa relaunched its portal."), record(url=other, outcome="failed", status=503))
    run(archive, record(text="Tulsa relaunched its portal.", noise="2"), record(url=other, outcome="gone", status=404))
    yield archive
    archive.close()


def traced(db: Database, action) -> list[str]:
    """The statements ``action()`` ran on ``db``, parameters filled in."""
    statements = []
    db.conn.set_trace_callback(statements.append)
    try:
        action()
    finally:
        db.conn.set_trace_callback(None)
    return [sql for sql in statements if sql.lstrip().lower().startswith(("select", "with"))]


def test_history_snapshot_and_diff_pages_read_only_through_indexes(archive):
    db = archive.db
    (changed,) = [c for c in queries.run_changes(db, 2)]
    statements = traced(db, lambda: (
        views.history_data(db, URL),
        views.snapshot_data(db, changed["new_snapshot"]),
        views.snapshot_data(db, changed["old_snapshot"]),
        views.diff_data(db, changed["old_snapshot"], changed["new_snapshot"]),
    ))
    assert len(statements) >= 8
    assert {sql: full_scans(db.conn, sql) for sql in statements if full_scans(db.conn, sql)} == {}


def test_a_listing_diff_reads_its_items_through_indexes(tmp_path):
    from tests.helpers import write_run as write_night
    from tests.test_listing_items import hub_record

    archive = Archive(tmp_path / "l.db")
    try:
        write_night(archive, hub_record([f"Article {n}" for n in range(600, 0, -1)], night=1))
        write_night(archive, hub_record([f"Article {n}" for n in range(601, 1, -1)], night=2))
        db = archive.db
        (changed,) = queries.run_changes(db, 2)
        old, new = changed["old_snapshot"], changed["new_snapshot"]
        recorded = traced(db, lambda: views.diff_data(db, old, new))  # told as the crawl recorded it
        reversed_pair = traced(db, lambda: views.diff_data(db, new, old))  # compared now, item by item
        assert not any("listing_items" in sql for sql in recorded)
        assert any("listing_items" in sql for sql in reversed_pair)
        statements = recorded + reversed_pair
        assert {sql: full_scans(db.conn, sql) for sql in statements if full_scans(db.conn, sql)} == {}
        assert views.diff_data(db, changed["old_snapshot"], changed["new_snapshot"])["items"]["counts"] == {
            "entered": 1, "left": 1, "changed": 0}
    finally:
        archive.close()


@pytest.mark.parametrize("name, params", [
    ("search", {"q": "Tulsa portal"}),
    ("page_history", {"url": URL}),
    ("page_fetches", {"url": URL}),
])
def test_search_and_history_canned_queries_use_indexes(archive, name, params):
    conn = archive.db.conn
    prepare_connection(conn, "wwc-archive", None)  # the functions serve gives the canned queries
    sql = canned_queries(links.diff_sql)[name]["sql"]
    assert conn.execute(sql, params).fetchall(), "the query finds the archived page"
    assert full_scans(conn, sql, params) == []


def test_fetch_queries_of_a_run_and_a_page_read_only_through_indexes(archive):
    """Expanding spans: a run's fetches (report counts, export, backfill resume) and a page's."""
    db = archive.db
    statements = traced(db, lambda: (
        queries.fetches(db, run_ids=[2]),
        queries.fetches(db, page_id=1),
        queries.run_fetches(db, 3),
        queries.run_fetch_outcomes(db, 2),
        queries.export_snapshots(db, [2, 3]),
        queries.first_snapshots_with_body(db, [3]),
        queries.snapshot(db, 1),
    ))
    assert len(statements) >= 6
    assert {sql: full_scans(db.conn, sql) for sql in statements if full_scans(db.conn, sql)} == {}


def test_the_checker_catches_a_full_scan(archive):
    """The check above can fail: a query on an unindexed column is a full scan."""
    assert full_scans(archive.db.conn, "select id from snapshots where fetched_at = ?", ["x"]) != []


def test_search_reads_the_paragraph_index_then_looks_up_pages_and_fetches(archive):
    conn = archive.db.conn
    conn.create_function(FTS_FUNCTION, 1, fts_query)
    sql = canned_queries(links.diff_sql)["search"]["sql"]
    plan = [row[-1] for row in conn.execute("explain query plan " + sql, {"q": "Tulsa"})]
    assert any("VIRTUAL TABLE INDEX" in line and "paragraphs_fts" in line for line in plan)
    assert any(line.startswith("SEARCH pp USING PRIMARY KEY (paragraph_id=?)") for line in plan)
    assert any(line.startswith("SEARCH s USING COVERING INDEX idx_snapshots_content_id_page_id") for line in plan)
    assert not [line for line in plan if line.startswith("SCAN") and "paragraphs_fts" not in line
                and not line.startswith(("SCAN hits", "SCAN found", "SCAN shown"))]


def test_storing_and_reading_texts_use_indexes(archive):
    """A new version's paragraphs are found by hash, its pages recorded by key, its text read by id."""
    db = archive.db
    statements = traced(db, lambda: run(archive, record(text="Tulsa relaunched its portal.\n\nA new paragraph.")))
    statements += traced(db, lambda: queries.snapshot(db, db.execute("select max(id) from snapshots").fetchone()[0]))
    statements = [sql for sql in statements if "paragraph" in sql]  # (a run starts by reading every page)
    assert any("from paragraphs where hash" in sql for sql in statements)
    assert any("json_each" in sql for sql in statements)
    assert {sql: full_scans(db.conn, sql) for sql in statements if full_scans(db.conn, sql)} == {}


def test_a_run_finds_its_request_and_response_heads_by_hash(archive):
    """Every fetch's request head is looked up (most are the night before's): by the hash index."""
    db = archive.db
    run(archive, fetch(1), fetch(2))
    statements = [sql for sql in traced(db, lambda: run(archive, fetch(1), fetch(2, text="Edited")))
                  if "header_blocks" in sql]
    assert any("from header_blocks where hash" in sql for sql in statements)
    assert {sql: full_scans(db.conn, sql) for sql in statements if full_scans(db.conn, sql)} == {}
