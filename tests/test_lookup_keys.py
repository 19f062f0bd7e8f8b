"""Bodies, versions and assets found by short keys (``m025``): an archive from 0.2.0 upgrades losing nothing,
every lookup searches an index, the indexes take less than half the bytes, and ``check`` reports doubles."""

import hashlib
import sqlite3
import zlib
from contextlib import closing

from sqlite_utils import Database

from tests.conftest import run_cli
from tests.test_release_upgrade import answers, released_archive
from wwc_archive.archive import assets
from wwc_archive.archive.formats import lookup_keys

#: What 0.2.0 stored beside the answers 0.1.0 promised: requisites and scored changes.
KEPT_BY_0_2_0 = {
    "assets": "select id, url, program, kind, first_run, etag, last_modified, checked_at, checked_run, last_capture, "
              "last_error from assets order by id",
    "asset_captures": "select * from asset_captures order by id",
    "scores": "select id, score, reasons, echo_of from changes order by id",
}


def kept(path) -> dict:
    with closing(sqlite3.connect(path)) as conn:
        return {name: conn.execute(sql).fetchall() for name, sql in KEPT_BY_0_2_0.items()}


def upgraded_0_2_0(tmp_path):
    path = released_archive(tmp_path, "0.2.0")
    run_cli("upgrade", "--db", path, check=True)
    return path


def test_an_archive_from_release_0_2_0_upgrades_in_place_and_keeps_every_answer(tmp_path):
    path = released_archive(tmp_path, "0.2.0")
    before, stored = answers(path), kept(path)
    assert len(before["runs"]) == 2 and before["changes"] and stored["assets"] and stored["asset_captures"]
    refused = run_cli("runs", "--db", path)  # a reader never upgrades
    assert refused.returncode == 2 and "wwc-archive upgrade" in refused.stderr

    run_cli("upgrade", "--db", path, check=True)
    assert answers(path) == before and kept(path) == stored
    assert run_cli("check", "--db", path).returncode == 0
    with closing(sqlite3.connect(path)) as conn:  # each found by its short key
        for body_id, sha in conn.execute("select id, sha256 from bodies"):
            assert lookup_keys.body_id(conn, sha) == body_id
        for content_id, fingerprint in conn.execute("select id, fingerprint from contents"):
            assert lookup_keys.content_id(conn, fingerprint) == content_id
        db = Database(conn)
        for url, last_capture in conn.execute("select url, last_capture from assets"):
            assert assets.capture_at(db, url, "9999-12-31T00:00:00Z")["id"] == last_capture


def test_every_lookup_searches_an_index_and_never_scans_the_table(tmp_path):
    path = upgraded_0_2_0(tmp_path)
    plans = {"bodies": (lookup_keys.BODY_BY_SHA, [b"k" * 8, b"s" * 32]),
             "contents": (lookup_keys.CONTENT_BY_FINGERPRINT, [b"k" * 9, b"f" * 33]),
             "assets": ("select id from assets where url_key = ? and url = ?", [1, "https://example.org/a.png"])}
    with closing(sqlite3.connect(path)) as conn:
        for table, (sql, values) in plans.items():
            (plan,) = [row[3] for row in conn.execute("explain query plan " + sql, values)]
            assert plan.startswith(f"SEARCH {table} USING INDEX"), plan


def test_the_short_indexes_take_less_than_half_the_bytes_of_the_unique_ones(tmp_path):
    path = released_archive(tmp_path, "0.2.0")
    with closing(sqlite3.connect(path)) as conn:  # 5,000 more bodies, so the index is pages, not one
        for n in range(5000):
            data = f"<p>body {n}</p>".encode()
            conn.execute("insert into bodies (sha256, size, content_type, compression, data) values (?, ?, ?, ?, ?)",
                         [hashlib.sha256(data).digest(), len(data), "text/html", "zlib", zlib.compress(data)])
        conn.commit()

    def index_bytes(name):
        with closing(sqlite3.connect(path)) as conn:
            return conn.execute("select sum(pgsize) from dbstat where name = ?", [name]).fetchone()[0]

    unique = index_bytes("idx_bodies_sha256")
    run_cli("upgrade", "--db", path, check=True)
    assert index_bytes("idx_bodies_sha256") is None
    assert index_bytes("idx_bodies_sha256_prefix") < unique / 2


def test_check_reports_a_body_a_version_and_an_asset_stored_twice(tmp_path):
    path = upgraded_0_2_0(tmp_path)
    with closing(sqlite3.connect(path)) as conn:
        columns = {table: ", ".join(row[1] for row in conn.execute(f"pragma table_info({table})") if row[1] != "id")
                   for table in ("bodies", "contents", "assets")}
        for table, names in columns.items():
            conn.execute(f"insert into {table} ({names}) select {names} from {table} order by id limit 1")
        conn.commit()
    result = run_cli("check", "--db", path)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "rows hold the same sha256" in output and "rows hold the same fingerprint" in output
    assert "one URL held twice" in output
