"""A body's address (``bodies.sha256``) stored as the digest's 32 bytes: found, checked and shown as before."""

import hashlib
import random
import sqlite3
import zlib
from contextlib import closing

from tests.conftest import kill_upgrade_when, run_cli
from tests.test_datasette import get, record, rows
from tests.helpers import write_run_to
from tests.test_release_upgrade import released_archive
from wwc_archive.archive import Archive, Extracted, queries
from wwc_archive.archive.formats import lookup_keys

URL = "https://example.org/permits"


def page(url: str, text: str):
    return record(url, http_status=200, body=f"<html><p>{text}</p></html>".encode(), content_type="text/html",
                  extracted=Extracted(title="Permits", text=text))


def addresses(path) -> list[tuple]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("select id, typeof(sha256), lower(hex(sha256)) from bodies order by id").fetchall()


def test_the_same_bytes_on_two_pages_are_one_body_addressed_by_32_bytes(tmp_path):
    path = tmp_path / "a.db"
    first, second = page(URL, "Permits take 12 days."), page(URL + "-copy", "Permits take 12 days.")
    write_run_to(path, first, second)
    ((body_id, kind, address),) = addresses(path)
    assert kind == "blob" and address == hashlib.sha256(first.body).hexdigest()
    archive = Archive(path)
    try:
        assert queries.body_info(archive.db, body_id)["sha256"] == address
        assert archive.db.execute("select count(distinct body_id) from snapshots").fetchone()[0] == 1
    finally:
        archive.close()
    assert run_cli("check", "--db", path).returncode == 0


def test_datasette_shows_the_address_as_hex_and_sql_reads_it_with_hex(tmp_path):
    path = tmp_path / "a.db"
    body = page(URL, "Permits take 12 days.").body
    write_run_to(path, page(URL, "Permits take 12 days."))
    address = hashlib.sha256(body).hexdigest()
    assert address in get(path, "/wwc-archive/bodies").text
    (snapshot_id,) = [row[0] for row in sqlite3.connect(path).execute("select id from snapshots")]
    assert get(path, f"/-/wwc/snapshot/{snapshot_id}.json").json()["body"]["sha256"] == address
    assert rows(path, "/wwc-archive.json?sql=select+lower(hex(sha256))+as+sha256+from+bodies") == [{"sha256": address}]


# Upgrading an archive that stored them as hex ------------------------------------------------


def older_archive(path, bodies=3000):
    """Release 0.1.0's archive (hex addresses) with ``bodies`` more bodies stored as it stored them."""
    path.mkdir()
    path = released_archive(path)
    rng = random.Random(5)
    with closing(sqlite3.connect(path)) as conn:
        for n in range(bodies):
            data = f"<p>body {n} {rng.random()}</p>".encode()
            conn.execute("insert into bodies (sha256, size, content_type, compression, data) values (?, ?, ?, ?, ?)",
                         [hashlib.sha256(data).hexdigest(), len(data), "text/html", "zlib", zlib.compress(data)])
        conn.commit()
    return path


def test_an_upgrade_killed_half_way_through_m016_resumes_and_ends_the_same(tmp_path):
    whole, killed = older_archive(tmp_path / "whole"), older_archive(tmp_path / "killed")
    with closing(sqlite3.connect(whole)) as conn:
        expected = [(body_id, "blob", address) for body_id, address in conn.execute(
            "select id, sha256 from bodies order by id")]
    batches = {"WWC_ARCHIVE_DIGEST_BATCH": "10"}
    run_cli("upgrade", "--db", whole, env=batches, check=True)
    assert addresses(whole) == expected

    converted = kill_upgrade_when(killed, {"WWC_ARCHIVE_DIGEST_BATCH": "1"},  # a body a batch
                                  "select count(*) from bodies where typeof(sha256) = 'blob'")
    with closing(sqlite3.connect(killed)) as conn:
        left = conn.execute("select count(*) from bodies where typeof(sha256) = 'text'").fetchone()[0]
        recorded = conn.execute("select name from _sqlite_migrations where name = 'm016_body_digests'").fetchall()
    assert converted and left > 1000 and recorded == [], "killed between batches of m016"

    assert run_cli("runs", "--db", killed).returncode == 2  # half upgraded is still older: readers refuse it
    run_cli("upgrade", "--db", killed, env=batches, check=True)
    assert addresses(killed) == addresses(whole)
    with closing(sqlite3.connect(killed)) as conn:
        assert all(lookup_keys.body_id(conn, bytes.fromhex(address)) == body_id  # m025's short key finds each
                   for body_id, _, address in addresses(killed))
    assert run_cli("check", "--db", killed).returncode == 0  # every body hashes to its address


def test_an_address_that_is_not_a_digest_is_left_for_check_to_report(tmp_path):
    path = released_archive(tmp_path)
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("update bodies set sha256 = 'not-a-digest' where id = 1")
        conn.commit()
    run_cli("upgrade", "--db", path, check=True)
    assert addresses(path)[0][1] == "text" and all(kind == "blob" for _, kind, _ in addresses(path)[1:])
    result = run_cli("check", "--db", path)
    assert result.returncode != 0 and "not its address not-a-digest" in result.stdout + result.stderr
