"""HTML bodies stored split from their per-request noise (``zstd-n1``): byte-exact, smaller, and upgraded in place."""

import hashlib
import random
import shutil
import sqlite3
from contextlib import closing

import pytest

from tests.conftest import kill_upgrade_when, run_cli
from wwc_archive.archive import Archive, Extracted, FetchRecord, queries
from wwc_archive.archive.formats import compression, noise_split
from wwc_archive.demo_site import DemoSite

HUB = "/what-works-cities"


def fetch(site: DemoSite, path: str) -> bytes:
    response = site.handle("GET", path)
    assert response.status == 200, path
    return response.body


def round_trip(body: bytes, base: bytes) -> tuple[str, bytes]:
    kind, data = compression.compress(body, base)
    assert compression.decompress(data, kind, base) == body
    return kind, data


def test_every_kind_of_demo_page_splits_and_joins_byte_exact():
    site = DemoSite(n_articles=40, n_people=6, per_page=10, seed=3)
    paths = [HUB, HUB + "?page=1", "/about", "/", *(site.article_path(a) for a in site.articles[:5]),
             *(f"/people/{p}" for p in list(site._people)[:3])]
    for path in paths:
        for _ in range(3):  # new noise each fetch
            body = fetch(site, path)
            parts = noise_split.split(body)
            assert parts is not None and noise_split.join(parts) == body, path
            assert len(parts.tokens) > 0  # the CSRF token at least went out of the skeleton


def test_a_shifted_show_more_page_stores_in_far_less_than_a_plain_delta():
    site = DemoSite(n_articles=120, n_people=6, per_page=15, seed=1)
    before = [fetch(site, f"{HUB}?page={n}") for n in range(1, 6)]
    site.publish_article("A new article on street trees", ["Mesa counted its trees.", "It used the data."])
    after = [fetch(site, f"{HUB}?page={n}") for n in range(1, 6)]
    split = plain = 0
    for old, new in zip(before, after):
        kind, data = round_trip(new, old)
        assert kind == "zstd-n1"
        split += len(data)
        plain += len(_plain_delta(new, old))
    assert split < 0.8 * plain, (split, plain)


def _plain_delta(new: bytes, old: bytes) -> bytes:
    import zstandard

    dictionary = zstandard.ZstdCompressionDict(old, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    return zstandard.ZstdCompressor(level=compression.DELTA_LEVEL, dict_data=dictionary).compress(new)


def test_bodies_that_do_not_split_stay_plain_deltas():
    pdf = b"%PDF-1.7\n\x01\x02 binary stream\x00\xff" * 50
    kind, _ = round_trip(pdf + b"% one more line\n", pdf)
    assert kind == "zstd-delta"


def test_the_writer_stores_html_split_and_a_pdf_as_a_plain_delta(tmp_path):
    site = DemoSite(n_articles=40, per_page=10, seed=6)
    pdf = b"%PDF-1.7\n\x00\x01 binary\xff" * 200
    versions = {URL: [fetch(site, HUB + "?page=2") for _ in range(3)],
                URL + "&file=report.pdf": [pdf, pdf + b"%% v2\n", pdf + b"%% v3\n"]}
    archive = Archive(tmp_path / "a.db")
    try:
        for night in range(3):
            run_id = archive.start_run(["what-works-cities"], trigger="manual")
            writer = archive.writer(run_id)
            for url, bodies in versions.items():
                content_type = "application/pdf" if url.endswith(".pdf") else "text/html"
                writer.add(FetchRecord(url=url, program="what-works-cities", role="pager", outcome="ok",
                                       fetched_at=f"2030-03-0{night + 1}T03:00:00Z", http_status=200,
                                       body=bodies[night], content_type=content_type,
                                       extracted=Extracted(title="Listing", text=f"{url} night {night}")))
            writer.flush()
            archive.finish_run(run_id, "complete")
        kinds = {url: [row[0] for row in archive.db.execute(
            "select b.compression from bodies b join snapshots s on s.body_id = b.id join pages p "
            "on p.id = s.page_id where p.url = ? order by b.id", [url])] for url in versions}
        assert kinds == {URL: ["zstd", "zstd-n1", "zstd-n1"],
                         URL + "&file=report.pdf": ["zstd", "zstd-delta", "zstd-delta"]}
        read = [queries.body_bytes(archive.db, body_id) for (body_id,) in archive.db.execute(
            "select id from bodies order by id")]
        assert sorted(read) == sorted(versions[URL] + versions[URL + "&file=report.pdf"])
    finally:
        archive.close()


def random_markup(rng: random.Random) -> bytes:
    """Markup at the edges of what the split reads: odd quoting, spacing, tokens of every length."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    spaces = [" ", "  ", "\n", "\t", "\r\n", "\f", "\v", "", " \n "]
    pieces = []
    for _ in range(rng.randrange(5, 60)):
        roll = rng.random()
        if roll < 0.4:
            attributes = [rng.choice(['a="1"', "b='2'", "c", 'd="x>y"', 'e=""', 'href="?v=%s"', 'f="%s"',
                                      'g="&quot;"', "h=bare", 'a="1"'])
                          for _ in range(rng.randrange(0, 6))]
            attributes = [a.replace("%s", "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 140))))
                          for a in attributes]
            pieces.append("<" + rng.choice(["div", "a", "img", "x-y", "p:q"]) + "".join(
                rng.choice(spaces[:-2] + [" "]) + a for a in attributes) + rng.choice(spaces) + rng.choice(
                ["", "/"]) + ">")
        elif roll < 0.6:
            pieces.append(rng.choice(spaces))
        elif roll < 0.8:
            length = rng.choice([6, 8, 19, 20, 31, 32, 43, 64, 127, 128, 200])
            pieces.append(rng.choice(["itok=", "?t=", ":", "-", " ", "js-view-dom-id-"]) + "".join(
                rng.choice(alphabet if rng.random() < 0.5 else "0123456789abcdef") for _ in range(length)))
        else:
            pieces.append(rng.choice(["text ", "é ", "</div>", "<!-- c -->", "><", ">>", "<<", "\x01", "&amp;"]))
    return "".join(pieces).encode()


@pytest.mark.parametrize("seed", range(4))
def test_odd_markup_round_trips_exactly(seed):
    rng = random.Random(seed)
    for _ in range(150):
        base, body = random_markup(rng), random_markup(rng)
        round_trip(body, base)
        round_trip(body, body)


def test_many_repeated_tokens_round_trip():
    tokens = ["".join(random.Random(n).choice("ABCdef0123") for _ in range(24)) for n in range(300)]
    body = "".join(f'<img src="/i.jpg?itok={t[:8]}" alt="{t}" class="c">' for t in tokens * 2).encode()
    round_trip(body, body[::-1])


def test_damaged_split_data_is_undecodable_not_wrong():
    site = DemoSite(n_articles=30, per_page=10, seed=2)
    old, new = fetch(site, HUB), fetch(site, HUB)
    kind, data = compression.compress(new, old)
    assert kind == "zstd-n1"
    payload = compression.decompress_payload(data, compression.payload(old))
    for damaged in (payload[:-3], payload[:len(payload) // 2], b"\x05\x05abc"):
        with pytest.raises(compression.Undecodable):
            compression.body_of_payload(damaged)


# Upgrading an archive whose deltas are all zstd-delta ----------------------------------------------

URL = "https://datasmart.hks.harvard.edu/what-works-cities?page=2"


def archive_before_m018(path, nights: int) -> list[bytes]:
    """An archive of ``nights`` versions of a noisy "Show more" page, stored as the writer before m018 did."""
    site = DemoSite(n_articles=90, n_people=4, per_page=15, seed=4)
    bodies = []
    archive = Archive(path)
    for night in range(nights):
        if night % 2:
            site.publish_article(f"Article {night}", [f"Paragraph {night}."])
        body = fetch(site, HUB + "?page=2")
        bodies.append(body)
        run_id = archive.start_run(["what-works-cities"], trigger="manual")
        writer = archive.writer(run_id)
        writer.add(FetchRecord(url=URL, program="what-works-cities", role="pager",
                               fetched_at=f"2030-02-{night % 28 + 1:02d}T03:00:00Z", outcome="ok", http_status=200,
                               body=body, content_type="text/html; charset=UTF-8",
                               extracted=Extracted(title="What Works Cities", text=f"night {night}")))
        writer.flush()
        archive.finish_run(run_id, "complete")
    reader = queries.BodyReader(archive.db, keep=1000)
    rows = archive.db.execute("select id, base_id from bodies where base_id is not null order by id").fetchall()
    plain = {body_id: _plain_delta(reader.read(body_id), reader.read(base_id)) for body_id, base_id in rows}
    with archive.db.conn:
        for body_id, data in plain.items():
            archive.db.execute("update bodies set compression = 'zstd-delta', data = ? where id = ?", [data, body_id])
        archive.db.execute("delete from _sqlite_migrations where name = 'm018_split_bodies'")
    archive.close()
    return bodies


def stored(path) -> list[tuple]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("select id, compression, base_id, length(data), lower(hex(sha256)) from bodies "
                            "order by id").fetchall()


def test_m018_stores_old_deltas_split_byte_exact_and_smaller(tmp_path):
    path = tmp_path / "a.db"
    bodies = archive_before_m018(path, 12)
    before = stored(path)
    assert {row[1] for row in before} == {"zstd", "zstd-delta"}
    run_cli("upgrade", "--db", path, check=True)
    after = stored(path)
    assert [row[1] for row in after] == ["zstd"] + ["zstd-n1"] * 11
    assert [(row[0], row[2], row[4]) for row in after] == [(row[0], row[2], row[4]) for row in before]
    assert sum(row[3] for row in after[1:]) < 0.8 * sum(row[3] for row in before[1:])
    archive = Archive(path)
    try:
        assert [queries.body_bytes(archive.db, row[0]) for row in after] == bodies
        assert [hashlib.sha256(body).hexdigest() for body in bodies] == [row[4] for row in after]
    finally:
        archive.close()
    assert run_cli("check", "--db", path).returncode == 0


def test_an_upgrade_killed_half_way_through_m018_resumes_and_ends_the_same(tmp_path):
    whole, killed = tmp_path / "whole.db", tmp_path / "killed.db"
    bodies = archive_before_m018(killed, 30)
    shutil.copy(killed, whole)
    run_cli("upgrade", "--db", whole, check=True)
    done = kill_upgrade_when(killed, {"WWC_ARCHIVE_RESPLIT_BATCH": "1"},  # a body a batch
                             "select count(*) from bodies where compression = 'zstd-n1'",
                             enough=lambda done: done >= 3)
    assert 3 <= done < 29, "killed between batches of m018"
    run_cli("upgrade", "--db", killed, check=True)
    assert [row[:4] for row in stored(killed)] == [row[:4] for row in stored(whole)]
    archive = Archive(killed)
    try:
        assert [queries.body_bytes(archive.db, row[0]) for row in stored(killed)] == bodies
    finally:
        archive.close()
