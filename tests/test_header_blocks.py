"""Request and response heads (``header_blocks``): exact, small (a dictionary, deltas on the block before),
found by a 64-bit hash, and blocks stored by earlier releases still read and are found after ``m019``."""

import hashlib
import json
import sqlite3
import zlib
from contextlib import closing

from sqlite_utils import Database

from tests.conftest import run_cli
from tests.test_release_upgrade import released_archive
from wwc_archive.archive import Archive, FetchRecord, queries
from wwc_archive.archive.formats import compression, header_blocks
from tests.helpers import write_run

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
        block_id = conn.execute("insert into header_blocks (hash, compression, data) values (1, 'zlib', ?)",
                                [zlib.compress(json.dumps(head).encode())]).lastrowid
    with closing(sqlite3.connect(path)) as conn:
        assert queries.header_block(Database(conn), block_id) == head


def fetch(n: int, *, when: str = "2030-01-15T03:00:00Z", etag: str | None = None, text: str = "Page") -> FetchRecord:
    """Page ``n``'s first fetch: its own length, date and ETag, as a real crawl's heads differ."""
    own = {"Content-Length": str(8000 + 37 * n), "Date": f"Tue, 15 Jan 2030 03:{n % 60:02}:00 GMT",
           "Etag": etag or f'"{n:04x}-{n * 7919:020x}"'}
    response = tuple((name, own.get(name, value)) for name, value in RESPONSE)
    return FetchRecord(url=f"https://datasmart.hks.harvard.edu/news/article/a-{n}", program="what-works-cities",
                       role="page", fetched_at=when, outcome="ok", http_status=200, body=f"<p>{text} {n}</p>".encode(),
                       protocol="HTTP/1.1", response_headers=response, request_method="GET",
                       request_headers=REQUEST)


def stored_heads(archive: Archive) -> list[tuple[int, dict, dict]]:
    """Each snapshot's (id, request head, response head), as read back."""
    return [(snapshot_id, queries.header_block(archive.db, request_id), queries.header_block(archive.db, response_id))
            for snapshot_id, request_id, response_id in archive.db.execute(
                "select id, request_head_id, response_head_id from snapshots order by id")]


def test_a_runs_heads_are_deltas_on_the_one_before_in_chains_of_at_most_16(tmp_path):
    archive = Archive(tmp_path / "a.db")
    records = [fetch(n) for n in range(40)]
    write_run(archive, *records)
    expected = [{"protocol": "HTTP/1.1", "status": 200, "headers": [list(pair) for pair in r.response_headers]}
                for r in records]
    assert [response for _, _, response in stored_heads(archive)] == expected

    blocks = {block_id: (kind, base_id, size) for block_id, kind, base_id, size in archive.db.execute(
        "select id, compression, base_id, length(data) from header_blocks")}
    assert len(blocks) == 41, "one request head (the same for all) and 40 response heads"
    depths = []
    for block_id in blocks:
        depth, next_id = 0, block_id
        while blocks[next_id][0] == compression.HEADER_DELTA:
            depth, next_id = depth + 1, blocks[next_id][1]
        depths.append(depth)
    assert max(depths) == header_blocks.KEYFRAME_EVERY - 1
    deltas = [size for kind, _, size in blocks.values() if kind == compression.HEADER_DELTA]
    wholes = [size for kind, _, size in blocks.values() if kind == compression.HEADERS_COMPRESSION]
    assert len(deltas) == 40 - 3 and max(deltas) < 0.7 * min(wholes), (deltas, wholes)
    archive.close()


def test_a_head_seen_in_an_earlier_run_is_found_not_stored_again(tmp_path):
    archive = Archive(tmp_path / "a.db")
    write_run(archive, *[fetch(n) for n in range(5)])
    before = archive.db.execute("select count(*) from header_blocks").fetchone()[0]
    # The next night page 3 changed: only its new response head is new (the request head is the same).
    write_run(archive, *[fetch(n, when="2030-01-16T03:00:00Z", etag='"changed"' if n == 3 else None,
                                  text="Edited" if n == 3 else "Page")
                        for n in range(5)])
    assert archive.db.execute("select count(*) from header_blocks").fetchone()[0] == before + 1
    assert stored_heads(archive)[-1][2]["headers"][5] == ["Etag", '"changed"']
    archive.close()


def test_blocks_with_the_same_hash_are_told_apart_by_their_bytes(tmp_path):
    archive = Archive(tmp_path / "a.db")
    record = fetch(1)
    request = header_blocks.dump({"method": "GET", "headers": [list(pair) for pair in REQUEST]})
    impostor = {"method": "GET", "headers": [["Referer", "https://example.org/"]]}
    archive.db.execute("insert into header_blocks (hash, compression, data) values (?, ?, ?)",
                       [header_blocks.key(request), *compression.compress_headers(header_blocks.dump(impostor))])
    write_run(archive, *[record])
    (_, stored_request, _), = stored_heads(archive)
    assert stored_request == {"method": "GET", "headers": [list(pair) for pair in REQUEST]}
    assert archive.db.execute("select count(*) from header_blocks where hash = ?",
                              [header_blocks.key(request)]).fetchone()[0] == 2
    archive.close()


def test_m019_keys_blocks_of_an_older_archive_by_hash_and_a_new_run_finds_them(tmp_path):
    path = released_archive(tmp_path)  # 0.1.0's archive: upgraded, then crawled by this release's writer
    archive = Archive(path)
    write_run(archive, *[fetch(n) for n in range(3)])
    archive.close()
    with closing(sqlite3.connect(path)) as conn, conn:  # as the release before m019 left it
        conn.execute("drop index idx_header_blocks_hash")
        conn.execute("alter table header_blocks add column sha256 text")
        rows = conn.execute("select id from header_blocks").fetchall()
        heads = {block_id: queries.header_block(Database(conn), block_id) for (block_id,) in rows}
        for block_id, head in heads.items():
            data = header_blocks.dump(head)
            conn.execute("update header_blocks set sha256 = ?, hash = null, base_id = null, compression = ?, "
                         "data = ? where id = ?", [hashlib.sha256(data).hexdigest(),
                                                   *compression.compress_headers(data), block_id])
        conn.execute("alter table header_blocks drop column hash")
        conn.execute("alter table header_blocks drop column base_id")
        conn.execute("create unique index idx_header_blocks_sha256 on header_blocks (sha256)")
        conn.execute("delete from _sqlite_migrations where name = 'm019_header_keys'")
    run_cli("upgrade", "--db", path, check=True)

    archive = Archive(path)
    assert {block_id: queries.header_block(archive.db, block_id) for block_id in heads} == heads
    columns = {row[1] for row in archive.db.execute("pragma table_info(header_blocks)")}
    assert "sha256" not in columns and {"hash", "base_id"} <= columns
    keys = dict(archive.db.execute("select id, hash from header_blocks"))
    assert keys == {block_id: header_blocks.key(header_blocks.dump(head)) for block_id, head in heads.items()}
    write_run(archive, *[fetch(n, when="2030-01-16T03:00:00Z") for n in range(3)])  # the same heads again
    assert archive.db.execute("select count(*) from header_blocks").fetchone()[0] == len(heads)
    archive.close()


def test_check_reports_a_block_that_no_longer_decodes_or_hashes_to_its_key(tmp_path):
    path = tmp_path / "a.db"
    archive = Archive(path)
    write_run(archive, *[fetch(n) for n in range(4)])
    archive.close()
    assert run_cli("check", "--db", path).returncode == 0
    with closing(sqlite3.connect(path)) as conn, conn:
        (delta,), (whole,) = conn.execute("select max(id) from header_blocks where compression = 'zstd-hd' "
                                          "union all select min(id) from header_blocks where base_id is null")
        conn.execute("update header_blocks set data = x'00ff' where id = ?", [delta])
        conn.execute("update header_blocks set hash = hash + 1 where id = ?", [whole])
        looped = conn.execute("select min(id) from header_blocks where compression = 'zstd-hd'").fetchone()[0]
        conn.execute("update header_blocks set base_id = id where id = ?", [looped])
    result = run_cli("check", "--db", path)
    assert result.returncode != 0
    assert f"header block {delta}: it cannot be decoded" in result.stdout
    assert f"header block {whole}: its headers hash to" in result.stdout
    assert f"header block {looped}: it cannot be decoded (its chain of deltas is longer than 16" in result.stdout
