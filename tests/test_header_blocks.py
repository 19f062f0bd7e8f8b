"""Header sets (``header_blocks``) compressed against a built-in dictionary: exact, small, and old blocks still read."""

import json
import sqlite3
import zlib
from contextlib import closing

from sqlite_utils import Database

from wwc_archive.archive import Archive, FetchRecord, queries

RESPONSE = (("Content-Length", "8929"), ("Date", "Tue, 01 Dec 2026 02:54:12 GMT"), ("Server", "Apache"),
            ("Content-Type", "text/html; charset=UTF-8"), ("Cache-Control", "max-age=0, public"),
            ("Etag", '"2217-3bae07f723df592ca440"'), ("Last-Modified", "Tue, 01 Dec 2026 12:00:00 GMT"),
            ("X-Generator", "Drupal 10 (https://www.drupal.org)"), ("X-Drupal-Cache", "MISS"),
            ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "SAMEORIGIN"), ("Content-Language", "en"))
REQUEST = (("Referer", "https://datasmart.hks.harvard.edu/what-works-cities"),
           ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
           ("Accept-Language", "en"), ("User-Agent", "wwc-archive/0.2 (+mailto:archive@example.org)"),
           ("Accept-Encoding", "gzip, deflate, br, zstd"), ("If-None-Match", '"2217-3bae07f723df592ca440"'))


def test_header_sets_read_back_exactly_at_a_third_of_their_zlib_size(tmp_path):
    path = str(tmp_path / "a.db")
    archive = Archive(path)
    run_id = archive.start_run(["what-works-cities"])
    writer = archive.writer(run_id)
    writer.add(FetchRecord(url="https://datasmart.hks.harvard.edu/news/article/a-1", program="what-works-cities",
                           role="page", fetched_at="2030-01-15T03:00:00Z", outcome="ok", http_status=200,
                           body=b"<p>Hello</p>", protocol="HTTP/1.1", response_headers=RESPONSE,
                           request_method="GET", request_headers=REQUEST))
    writer.flush()
    archive.finish_run(run_id, "complete")
    (request_id, response_id), = archive.db.execute("select request_head_id, response_head_id from snapshots")
    assert queries.header_block(archive.db, response_id) == {
        "protocol": "HTTP/1.1", "status": 200, "headers": [list(pair) for pair in RESPONSE]}
    assert queries.header_block(archive.db, request_id) == {"method": "GET", "headers": [list(p) for p in REQUEST]}
    archive.close()
    with closing(sqlite3.connect(path)) as conn:
        for block_id in (request_id, response_id):
            compression, size = conn.execute(
                "select compression, length(data) from header_blocks where id = ?", [block_id]).fetchone()
            as_zlib = len(zlib.compress(json.dumps(
                queries.header_block(Database(conn), block_id), separators=(",", ":")).encode(), 1))
            assert compression == "zstd-h1" and size < as_zlib / 2, (size, as_zlib)


def test_blocks_stored_with_zlib_before_still_read(tmp_path):
    path = str(tmp_path / "a.db")
    Archive(path).close()
    head = {"method": "GET", "headers": [list(pair) for pair in REQUEST]}
    with closing(sqlite3.connect(path)) as conn, conn:
        block_id = conn.execute("insert into header_blocks (sha256, compression, data) values ('x', 'zlib', ?)",
                                [zlib.compress(json.dumps(head).encode())]).lastrowid
    with closing(sqlite3.connect(path)) as conn:
        assert queries.header_block(Database(conn), block_id) == head
