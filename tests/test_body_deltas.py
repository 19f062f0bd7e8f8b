"""Bodies stored as zstd deltas against their page's previous body (a new page's against a page like it):
byte-exact, bounded, small, and old archives still read."""

import gzip
import hashlib
import sqlite3
import zlib
from contextlib import closing

from warcio.archiveiterator import ArchiveIterator

from tests.conftest import run_cli
from tests.test_release_upgrade import released_archive
from wwc_archive.archive import Archive, Extracted, FetchRecord, integrity, queries
from wwc_archive.archive.formats.bodies import KEYFRAME_EVERY

URL = "http://127.0.0.1:9/programs/what-works-cities/listing"


def version(n: int) -> bytes:
    """Version ``n`` of a large listing page: 400 teasers, a new one on top each version."""
    teasers = "".join(
        f'<article class="teaser"><h2><a href="/articles/{i}">Article {i}</a></h2>'
        f"<p>City {i % 37} shares what worked with data in year {i // 12}.</p></article>\n"
        for i in range(n + 400, n, -1))
    return f"<!DOCTYPE html><html><body><main>{teasers}</main></body></html>".encode()


def write_versions(path, bodies) -> None:
    """One run per body, each fetching the page and finding a new version."""
    archive = Archive(path)
    for n, body in enumerate(bodies):
        run_id = archive.start_run(["what-works-cities"], trigger="manual")
        writer = archive.writer(run_id)
        writer.add(FetchRecord(url=URL, program="what-works-cities", role="page",
                               fetched_at=f"2030-01-{n % 28 + 1:02d}T03:00:00Z", outcome="ok", http_status=200,
                               body=body, content_type="text/html; charset=utf-8",
                               extracted=Extracted(title="Listing", text=f"version {n}")))
        writer.flush()
        archive.finish_run(run_id, "complete")
    archive.close()


def stored(path) -> list[dict]:
    with closing(sqlite3.connect(path)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(
            "select id, lower(hex(sha256)) as sha256, compression, base_id, length(data) as stored "
            "from bodies order by id")]


def test_a_delta_body_decodes_byte_exact_and_check_passes(tmp_path):
    path = tmp_path / "archive.db"
    bodies = [version(n) for n in range(3)]
    write_versions(path, bodies)
    rows = stored(path)
    assert [row["compression"] for row in rows] == ["zstd", "zstd-n1", "zstd-n1"]  # HTML: split from its noise
    assert [row["base_id"] for row in rows] == [None, rows[0]["id"], rows[1]["id"]]
    archive = Archive(path)
    assert [queries.body_bytes(archive.db, row["id"]) for row in rows] == bodies
    assert integrity.body_problems(archive.db) == []
    archive.close()
    assert run_cli("check", "--db", path).returncode == 0


def test_a_chain_past_the_keyframe_bound_starts_a_new_keyframe(tmp_path):
    path = tmp_path / "archive.db"
    bodies = [version(n) for n in range(KEYFRAME_EVERY + 3)]
    write_versions(path, bodies)
    kinds = [row["compression"] for row in stored(path)]
    assert kinds == ["zstd"] + ["zstd-n1"] * (KEYFRAME_EVERY - 1) + ["zstd"] + ["zstd-n1"] * 2
    archive = Archive(path)
    assert [queries.body_bytes(archive.db, row["id"]) for row in stored(path)] == bodies
    archive.close()


def article(n: int) -> bytes:
    """Article ``n``: the site's template around text of its own."""
    menu = "".join(f'<li><a href="/topics/{t}">Topic {t}</a></li>' for t in range(60))
    text = "".join(f"<p>City {n * 7 + i} measured {n * 13 + i} permits in {n % 9 + i} days.</p>" for i in range(12))
    return (f'<!DOCTYPE html><html><head><title>Article {n}</title></head><body><nav><ul>{menu}</ul></nav>'
            f'<main><h1>Article {n}</h1>{text}</main><footer>{menu}</footer></body></html>').encode()


def test_a_new_pages_first_body_is_a_delta_on_the_last_body_stored_for_a_page_like_it(tmp_path):
    path = tmp_path / "archive.db"
    archive = Archive(path)
    run_id = archive.start_run(["what-works-cities"], trigger="manual")
    writer = archive.writer(run_id)
    pdf = b"%PDF-1.4 " + bytes(range(256)) * 8
    records = [(f"{URL}/article-{n}", "page", "text/html", article(n)) for n in range(3)]
    records.insert(1, (f"{URL}/report.pdf", "document", "application/pdf", pdf))
    for url, role, content_type, body in records:
        writer.add(FetchRecord(url=url, program="what-works-cities", role=role, fetched_at="2030-01-01T03:00:00Z",
                               outcome="ok", http_status=200, body=body, content_type=content_type,
                               extracted=Extracted(title=url, text=url) if role == "page" else None))
    writer.flush()
    archive.finish_run(run_id, "complete")
    assert [queries.body_bytes(archive.db, row["id"]) for row in stored(path)] == [r[-1] for r in records]
    archive.close()
    first, document, second, third = stored(path)
    assert (first["compression"], first["base_id"]) == ("zstd", None)
    assert document["base_id"] is None, "a PDF is not a delta on a web page"
    assert (second["compression"], second["base_id"]) == ("zstd-delta", first["id"])
    assert (third["compression"], third["base_id"]) == ("zstd-delta", second["id"])
    assert second["stored"] < first["stored"] / 2 and third["stored"] < first["stored"] / 2
    assert run_cli("check", "--db", path).returncode == 0


def test_ten_versions_of_a_large_page_take_under_a_fifth_of_whole_zlib(tmp_path):
    path = tmp_path / "archive.db"
    bodies = [version(n) for n in range(10)]
    write_versions(path, bodies)
    as_deltas = sum(row["stored"] for row in stored(path))
    as_zlib = sum(len(zlib.compress(body, 1)) for body in bodies)  # what each body took before
    assert as_deltas < as_zlib / 5, (as_deltas, as_zlib)


def test_an_archive_of_zlib_bodies_upgrades_and_still_reads_and_exports_exactly(tmp_path):
    path = released_archive(tmp_path)
    run_cli("upgrade", "--db", path, check=True)
    with closing(sqlite3.connect(path)) as conn:
        old = conn.execute("select id, lower(hex(sha256)) from bodies order by id").fetchall()
        assert {row[0] for row in conn.execute("select distinct compression from bodies")} == {"zlib"}
    archive = Archive(path)
    assert [hashlib.sha256(queries.body_bytes(archive.db, body_id)).hexdigest() for body_id, _ in old] == \
        [sha for _, sha in old]
    (url, old_body_id), = archive.db.execute(
        "select p.url, s.body_id from pages p join snapshots s on s.id = p.last_good_snapshot "
        "where s.body_id is not null order by p.id limit 1").fetchall()
    archive.close()
    new_body = queries.body_bytes(Archive(path).db, old_body_id).replace(b"</body>", b"<p>new</p></body>")
    archive = Archive(path)
    run_id = archive.start_run(["what-works-cities"], trigger="manual")
    writer = archive.writer(run_id)
    writer.add(FetchRecord(url=url, program="what-works-cities", role="page", fetched_at="2031-01-01T03:00:00Z",
                           outcome="ok", http_status=200, body=new_body, content_type="text/html",
                           extracted=Extracted(title="New", text="a new version")))
    writer.flush()
    archive.finish_run(run_id, "complete")
    archive.close()
    newest = stored(path)[-1]
    assert (newest["compression"], newest["base_id"]) == ("zstd-n1", old_body_id)  # a delta on a zlib body
    assert run_cli("check", "--db", path).returncode == 0

    run_cli("export-warc", "--db", path, "--all", "--output", tmp_path / "wwc", check=True)
    payloads = set()
    with gzip.open(tmp_path / "wwc.warc.gz") as stream:
        for warc in ArchiveIterator(stream):
            if warc.rec_type == "response":
                payloads.add(hashlib.sha256(warc.content_stream().read()).hexdigest())
    assert {sha for _, sha in old} | {newest["sha256"]} <= payloads
