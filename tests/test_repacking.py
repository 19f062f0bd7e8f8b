"""Migration m015 on an archive the release before it wrote: packed spans, header sets, nothing lost.

``fixtures/archive-before-m015.db.gz`` is 300 nights of 8 pages written by
that release's writer (``fixtures/make_archive_before_m015.py``); the JSON
beside it is every fetch as that release's ``queries.fetches`` read it.
"""

import asyncio
import gzip
import json
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlite_utils import Database

from tests.conftest import kill_upgrade_when, run_cli
from wwc_archive.archive import Archive, FetchRecord, queries
from wwc_archive.archive.formats import spans
from wwc_archive.reports.datasette.app import archive_datasette

FIXTURES = Path(__file__).parent / "fixtures"


def old_archive(path: Path) -> Path:
    with gzip.open(FIXTURES / "archive-before-m015.db.gz") as source, open(path, "wb") as target:
        shutil.copyfileobj(source, target)
    return path


@pytest.fixture(scope="module")
def before() -> list[dict]:
    with gzip.open(FIXTURES / "archive-before-m015.fetches.json.gz", "rt") as fetched:
        return json.load(fetched)


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory) -> Path:
    path = old_archive(tmp_path_factory.mktemp("m015") / "archive.db")
    result = run_cli("upgrade", "--db", path)
    assert result.returncode == 0, result.stderr
    return path


def every_fetch(path: Path) -> list[dict]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return queries.fetches(Database(conn))


def test_every_fetch_keeps_its_run_time_answer_and_headers(upgraded, before):
    after = every_fetch(upgraded)
    assert len(after) == len(before) == 2339
    assert [{name: fetch[name] for name in before[0]} for fetch in after] == before
    kinds = {(f["outcome"], f["http_status"], f["body_exact"], f["headers"] is not None) for f in after}
    assert {("ok", 200, 1, True), ("ok", 200, 0, True), ("not_modified", 304, None, True), ("gone", 404, None, True),
            ("failed", 503, None, False)} <= kinds
    assert run_cli("check", "--db", upgraded).returncode == 0


def test_spans_are_packed_and_each_header_set_is_stored_once(upgraded, before, tmp_path):
    old = old_archive(tmp_path / "old.db")
    with closing(sqlite3.connect(old)) as conn:
        (old_repeats,) = conn.execute("select sum(length(repeats)) from snapshots").fetchone()
    distinct = len({fetch["headers"] for fetch in before if fetch["headers"]})  # a span's own, or one of its answers
    with closing(sqlite3.connect(upgraded)) as conn:
        assert "headers" not in {row[1] for row in conn.execute("pragma table_info(snapshots)")}
        assert conn.execute("select count(*) from snapshots where repeats is not null "
                            "and substr(repeats, 1, 2) != ?", [spans.PACKED_FORMAT]).fetchone() == (0,)
        repeats = conn.execute("select sum(length(repeats)) from snapshots").fetchone()[0]
        assert repeats < old_repeats / 2.5  # fewer than a nightly archive: 304s, skipped nights
        assert conn.execute("select count(*), count(distinct headers) from header_sets").fetchone() == (distinct,) * 2
        shared = conn.execute("select count(*) from snapshots where header_set = (select id from header_sets "
                              "where headers = '{\"content-type\": \"text/html; charset=UTF-8\"}')").fetchone()[0]
        assert shared > 10  # the pages without validators keep one set between them
        assert not conn.execute("select name from sqlite_master where name like '%repack%'").fetchall()


#: README's SQL for every fetch's kept headers, in Datasette.
FETCH_HEADERS = """select s.id, f.value ->> 0 as run_id, f.value ->> 1 as fetched_at, h.headers
from snapshots s, json_each(wwc_fetches(s.run_id, s.fetched_at, s.repeats)) f
left join header_sets h on h.id = case when f.value ->> 2 > 0 then coalesce(s.answers -> (f.value ->> 2 - 1)
  ->> 4, s.header_set) else s.header_set end
where s.page_id in (3, 5)"""


def test_the_documented_join_reads_the_headers_a_span_kept(upgraded, before, tmp_path):
    """Researchers' SQL: ``snapshots.headers`` is now ``header_sets.headers`` through ``header_set``."""
    old = old_archive(tmp_path / "old.db")
    with closing(sqlite3.connect(old)) as conn:
        was = conn.execute("select id, headers from snapshots order by id").fetchall()
    with closing(sqlite3.connect(upgraded)) as conn:
        now = conn.execute("select s.id, h.headers from snapshots s "
                           "left join header_sets h on h.id = s.header_set order by s.id").fetchall()
    assert now == was

    async def requests():
        ds = archive_datasette(upgraded)
        return (await ds.client.get("/wwc-archive/snapshots.json?_shape=array&_labels=on&_size=max"),
                await ds.client.get("/wwc-archive.json?" + urlencode({"sql": FETCH_HEADERS, "_shape": "array"})))

    labelled, fetches = asyncio.run(requests())
    rows = {row["id"]: row["header_set"] for row in labelled.json()}
    assert {row_id: headers for row_id, headers in was if headers} == {
        row_id: cell["label"] for row_id, cell in rows.items() if cell}
    assert sorted(tuple(row.values()) for row in fetches.json()) == sorted(
        (f["id"], f["run_id"], f["fetched_at"], f["headers"]) for f in before if f["page_id"] in (3, 5))


def test_a_crawl_after_the_upgrade_extends_packed_spans_and_reuses_header_sets(upgraded, tmp_path):
    path = tmp_path / "archive.db"
    shutil.copy(upgraded, path)
    archive = Archive(path)
    try:
        db = archive.db
        (url,) = db.execute("select url from pages where id = 2").fetchone()
        span = queries.snapshot(db, db.execute("select last_snapshot from pages where id = 2").fetchone()[0])
        body, content_type = queries.snapshot_body(db, span["id"])
        sets = db["header_sets"].count
        run_id = archive.start_run(["wwc"])
        writer = archive.writer(run_id)
        at = spans.to_text(spans.to_seconds(span["last_fetched_at"]) + 86400)
        writer.add(FetchRecord(url=url, program="wwc", role="page", fetched_at=at, outcome="not_modified",
                               http_status=304, headers=span["headers"]))
        writer.flush()
        archive.finish_run(run_id, "complete")
        after = queries.snapshot(db, span["id"])
        assert (after["fetches"], after["last_run"], after["last_fetched_at"]) == (span["fetches"] + 1, run_id, at)
        assert queries.fetches(db, run_ids=[run_id])[0]["headers"] == json.dumps(span["headers"])
        assert db["header_sets"].count == sets
    finally:
        archive.close()


def test_killed_mid_way_it_resumes_to_the_same_archive(tmp_path):
    whole, killed = old_archive(tmp_path / "whole.db"), old_archive(tmp_path / "killed.db")
    assert run_cli("upgrade", "--db", whole).returncode == 0
    last = 112  # the fixture's snapshot rows
    done = kill_upgrade_when(killed, {"WWC_ARCHIVE_REPACK_ROWS": "1"},  # once some rows, not all, are converted
                             "select last_snapshot_id from _snapshot_repack_progress", lambda done: done > 10)
    assert 0 < done < last, "the upgrade was killed half-way"
    refused = run_cli("runs", "--db", killed)
    assert refused.returncode == 2 and "wwc-archive upgrade" in refused.stderr
    assert run_cli("upgrade", "--db", killed).returncode == 0

    def dump(path):
        with closing(sqlite3.connect(path)) as conn:
            return {table: conn.execute(f"select * from {table} order by 1").fetchall()
                    for table in ("snapshots", "header_sets")}

    assert dump(killed) == dump(whole)
    assert every_fetch(killed) == every_fetch(whole)


def test_check_reports_a_damaged_span_and_an_answer_naming_a_missing_header_set(upgraded, tmp_path):
    path = tmp_path / "archive.db"
    shutil.copy(upgraded, path)
    with closing(sqlite3.connect(path)) as conn, conn:
        (cut, repeats, _), (named, _, answers) = conn.execute(
            "select id, repeats, answers from snapshots where answers is not null order by id limit 2")
        conn.execute("update snapshots set repeats = ? where id = ?", [repeats[:-1] + b"\x00\x00", cut])
        palette = [[*answer, *[None] * 5][:5] for answer in json.loads(answers)]
        palette[-1][4] = 999999
        conn.execute("update snapshots set answers = ? where id = ?", [json.dumps(palette), named])
    result = run_cli("check", "--db", path)
    assert result.returncode != 0
    assert f"snapshot {cut}: its repeats are truncated" in result.stdout
    assert f"snapshot {named}: its answers name header set(s) 999999, which are missing" in result.stdout
