"""A hub's long id lists stored as deltas on its previous version's: read back exactly, stored small, chains bounded."""

import random
import sqlite3
from contextlib import closing

import pytest

from sqlite_utils import Database

from tests.conftest import kill_upgrade_when, run_cli
from tests.helpers import write_run
from tests.test_listing_items import hub_record
from tests.test_query_plans import full_scans, traced
from wwc_archive.archive import Archive, queries
from wwc_archive.archive.formats import idlists, paragraphs, texts

ARTICLES = 400


def night_titles(night: int, articles: int = ARTICLES) -> list[str]:
    """The hub on ``night``: one more article than the night before, newest first.

    The first night lists them shuffled, so their paragraphs and items get ids
    in no order, as a real hub's have (stored at different times): whole
    lists then take about two bytes an id.
    """
    titles = [f"Article {n}" for n in range(articles + night, 0, -1)]
    if night == 1:
        random.Random(7).shuffle(titles)
    return titles


def write_nights(path, nights: int, articles: int = ARTICLES) -> None:
    archive = Archive(path)
    try:
        for night in range(1, nights + 1):
            write_run(archive, hub_record(night_titles(night, articles), night=night % 28 + 1))
    finally:
        archive.close()


def read_back(path, every: int = 1) -> list[tuple]:
    """Every version's (or every ``every``-th's) text, searchable ids and items, as readers see them."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        db = Database(conn)
        return [(content_id, texts.content_text(conn, content_id), texts.searchable_ids(conn, content_id),
                 [item["title"] for item in queries.content_items(db, content_id) or []])
                for (content_id,) in conn.execute("select id from contents where id % ? = 0 order by id", [every])]


def stored_lists(path) -> list[bytes]:
    with closing(sqlite3.connect(path)) as conn:
        return [data for row in conn.execute("select paragraph_ids, items from contents order by id")
                for data in row if data is not None]


# The pure codec -------------------------------------------------------------------------------


@pytest.mark.parametrize("base, ids", [
    ([], [1]),
    (list(range(3000, 0, -1)), list(range(3001, 0, -1))),
    ([5, 9, 2**40, 3], [5, 9, 3]),
    (list(range(100)), list(range(100, 0, -1))),
])
def test_a_delta_decodes_with_its_base_and_names_it(base, ids):
    base_varints = paragraphs.varints(paragraphs.encode(base))
    data = paragraphs.encode_delta(ids, 4321, base_varints, 7)
    assert paragraphs.delta_base(data) == (4321, 7)
    assert paragraphs.decode(data, base_varints) == ids
    with pytest.raises(ValueError):
        paragraphs.decode(data)  # without its base


def test_one_new_id_on_a_shuffled_list_costs_a_few_dozen_bytes():
    rng = random.Random(4)
    base = rng.sample(range(10**6), 5000)  # a hub's paragraph ids: far apart, not in order
    whole = paragraphs.encode([rng.randrange(10**6), *base])
    delta = paragraphs.encode_delta([rng.randrange(10**6), *base], 1, paragraphs.varints(paragraphs.encode(base)), 1)
    assert len(delta) < 60 < 5000 < len(whole)


# Written by the crawler ------------------------------------------------------------------------


def test_a_hub_night_after_night_reads_back_exactly_and_stores_a_fraction(tmp_path):
    path, nights = tmp_path / "a.db", idlists.KEYFRAME_EVERY + 6
    write_nights(path, nights)
    versions = read_back(path)
    assert len(versions) == nights
    for night, (_, text, _, items) in enumerate(versions, start=1):
        assert text == "\n\n".join(night_titles(night)) and items == night_titles(night)

    lists = stored_lists(path)
    whole = [paragraphs.encode(paragraphs.parse(idlists.varints(sqlite3.connect(path), data, column)))
             for data, column in zip(lists, ["paragraph_ids", "items"] * nights)]
    depths = [(paragraphs.delta_base(data) or (0, 0))[1] for data in lists]
    # Night 2 reorders night 1's shuffled list: a delta no smaller, so it stays whole; then one
    # delta on another until a chain is 63 long, and the next list is whole again.
    chain = [0, 0, *range(1, idlists.KEYFRAME_EVERY), 0, 1, 2, 3, 4]
    assert depths[0::2] == depths[1::2] == chain  # the text's and the items'
    assert sum(map(len, lists)) * 5 < sum(map(len, whole))


def test_a_listing_change_is_told_the_same_through_deltas(tmp_path):
    path = tmp_path / "a.db"
    write_nights(path, 3)
    archive = Archive(path, readonly=True)
    try:
        (change,) = queries.run_changes(archive.db, 3)
        assert change["summary"]["items"]["entered"][0]["title"] == night_titles(3)[0]
        assert change["summary"]["items"]["counts"] == {"entered": 1, "left": 0, "changed": 0}
    finally:
        archive.close()
    assert paragraphs.delta_base(stored_lists(path)[-1]) is not None


def test_a_broken_chain_is_an_error_not_a_wrong_list(tmp_path):
    path = tmp_path / "a.db"
    write_nights(path, 3)
    with closing(sqlite3.connect(path)) as conn:
        (data,) = conn.execute("select items from contents order by id desc limit 1").fetchone()
        base_id, _ = paragraphs.delta_base(data)
        conn.execute("update contents set items = null where id = ?", [base_id])
        with pytest.raises(ValueError, match="base"):
            idlists.decode(conn, data, "items")


def test_storing_and_reading_deltas_and_converting_old_ones_use_indexes(tmp_path):
    path = tmp_path / "a.db"
    write_nights(path, 3)
    archive = Archive(path)
    try:
        db = archive.db
        statements = traced(db, lambda: write_run(archive, hub_record(night_titles(4), night=5)))
        statements += traced(db, lambda: read_back(path) and queries.run_changes(db, 4))
        statements += traced(db, lambda: idlists.convert_batch(db.conn, 0, 10))
        statements = [sql for sql in statements if ("contents" in sql or "last_good_snapshot" in sql)
                      and "as span" not in sql]  # (a run starts by reading every page)
        assert any("paragraph_ids, items from contents" in sql for sql in statements)
        assert {sql: full_scans(db.conn, sql) for sql in statements if full_scans(db.conn, sql)} == {}
    finally:
        archive.close()


# Upgrading an archive that stored them whole ---------------------------------------------------


def whole_lists_archive(path, nights: int, articles: int = ARTICLES):
    """An archive as the release before m017 left it: every list whole, m017 not applied."""
    write_nights(path, nights, articles)
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("select id, paragraph_ids, items from contents order by id").fetchall()
        for content_id, *lists in reversed(rows):  # newest first: each one's bases are still readable
            whole = [paragraphs.encode(idlists.decode(conn, data, column)) for data, column in
                     zip(lists, idlists.COLUMNS)]
            conn.execute("update contents set paragraph_ids = ?, items = ? where id = ?", [*whole, content_id])
        conn.execute("delete from _sqlite_migrations where name = 'm017_listing_deltas'")
        conn.commit()
    return path


def test_an_upgrade_stores_old_hub_versions_as_deltas_and_reads_the_same(tmp_path):
    written = tmp_path / "written.db"
    write_nights(written, 40)
    old = whole_lists_archive(tmp_path / "old.db", 40)
    expected = read_back(old)
    assert expected == read_back(written)
    before = sum(map(len, stored_lists(old)))
    run_cli("upgrade", "--db", old, check=True)
    assert read_back(old) == expected
    assert stored_lists(old) == stored_lists(written)  # as the crawler would have stored them
    assert sum(map(len, stored_lists(old))) * 5 < before
    assert run_cli("check", "--db", old).returncode == 0


def many_versions_archive(path, versions=2000, listed=150):
    """An archive as the release before m017 left it, with ``versions`` versions of one hub, made in SQL.

    Each version lists ``listed`` articles: one new at the top, the oldest
    gone from the bottom; its paragraphs and items are the articles' ids,
    whole lists in no order (as :func:`night_titles` explains).
    """
    Archive(path).close()
    rng = random.Random(11)
    order = list(range(1, listed + versions + 1))
    rng.shuffle(order)
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("insert into runs (id, started, status) values (1, '2030-01-01T03:00:00Z', 'complete')")
        conn.execute("insert into pages (id, url, program, role, state) values (1, 'https://example.org/hub', "
                     "'what-works-cities', 'program', 'live')")
        conn.executemany("insert into paragraphs (id, hash, text) values (?, ?, ?)",
                         [(n, texts.paragraph_key(f"Article {n}"), f"Article {n}") for n in order])
        conn.execute("insert into paragraphs (hash, text) values (?, 'Hub')", [texts.paragraph_key("Hub")])
        conn.executemany("insert into listing_items (id, sha256, url, title) values (?, ?, ?, ?)",
                         [(n, str(n), f"https://example.org/{n}", f"Article {n}") for n in order])
        for version in range(versions):
            ids = order[version:version + listed][::-1]
            data = paragraphs.encode(ids)
            content_id = conn.execute("insert into contents (fingerprint, title, paragraph_ids, items) "
                                      "values (?, 'Hub', ?, ?)", [f"html:{version}", data, data]).lastrowid
            conn.execute("insert into snapshots (run_id, page_id, fetched_at, http_status, outcome, content_id) "
                         "values (1, 1, ?, 200, 'ok', ?)", [f"2030-01-01T03:{version:06}Z", content_id])
        conn.execute("delete from _sqlite_migrations where name = 'm017_listing_deltas'")
        conn.commit()
    return path


def test_an_upgrade_killed_half_way_through_m017_resumes_and_ends_the_same(tmp_path):
    batches = {"WWC_ARCHIVE_IDLIST_BATCH": "2"}
    whole = many_versions_archive(tmp_path / "whole.db")
    killed = tmp_path / "killed.db"
    killed.write_bytes(whole.read_bytes())
    expected = read_back(whole, every=7)
    run_cli("upgrade", "--db", whole, env=batches, check=True)

    done = kill_upgrade_when(killed, batches, "select count(*) from contents where substr(items, 1, 1) = x'02'")
    with closing(sqlite3.connect(killed)) as conn:
        left = conn.execute("select count(*) from contents where substr(items, 1, 1) != x'02'").fetchone()[0]
        recorded = conn.execute("select name from _sqlite_migrations where name = 'm017_listing_deltas'").fetchall()
    assert done and left > 1000 and recorded == [], "killed between batches of m017"

    run_cli("upgrade", "--db", killed, env=batches, check=True)
    assert stored_lists(killed) == stored_lists(whole)
    assert read_back(killed, every=7) == expected
