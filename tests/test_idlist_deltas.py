"""A hub's long id lists stored as deltas on its previous version's: read back exactly, stored small, chains bounded."""

import os
import random
import sqlite3
import subprocess
import sys
import time
from contextlib import closing

import pytest

from sqlite_utils import Database

from tests.conftest import run_cli
from tests.test_listing_items import hub_record, write_night
from tests.test_query_plans import full_scans, traced
from wwc_archive.archive import Archive, idlists, paragraphs, queries, texts

ARTICLES = 400


def night_titles(night: int) -> list[str]:
    """The hub on ``night``: one more article than the night before, newest first.

    The first night lists them shuffled, so their paragraphs and items get ids
    in no order, as a real hub's have (stored at different times): whole
    lists then take about two bytes an id.
    """
    titles = [f"Article {n}" for n in range(ARTICLES + night, 0, -1)]
    if night == 1:
        random.Random(7).shuffle(titles)
    return titles


def write_nights(path, nights: int) -> None:
    archive = Archive(path)
    try:
        for night in range(1, nights + 1):
            write_night(archive, hub_record(night_titles(night), night=night % 28 + 1))
    finally:
        archive.close()


def read_back(path) -> list[tuple]:
    """Every version's text, searchable ids and items, as readers see them."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        db = Database(conn)
        return [(content_id, texts.content_text(conn, content_id), texts.searchable_ids(conn, content_id),
                 [item["title"] for item in queries.content_items(db, content_id) or []])
                for (content_id,) in conn.execute("select id from contents order by id")]


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
        statements = traced(db, lambda: write_night(archive, hub_record(night_titles(4), night=5)))
        statements += traced(db, lambda: read_back(path) and queries.run_changes(db, 4))
        statements += traced(db, lambda: idlists.convert_batch(db.conn, 0, 10))
        statements = [sql for sql in statements if ("contents" in sql or "last_good_snapshot" in sql)
                      and "as span" not in sql]  # (a run starts by reading every page)
        assert any("paragraph_ids, items from contents" in sql for sql in statements)
        assert {sql: full_scans(db.conn, sql) for sql in statements if full_scans(db.conn, sql)} == {}
    finally:
        archive.close()


# Upgrading an archive that stored them whole ---------------------------------------------------


def whole_lists_archive(path, nights: int):
    """An archive as the release before m017 left it: every list whole, m017 not applied."""
    write_nights(path, nights)
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


def test_an_upgrade_killed_half_way_through_m017_resumes_and_ends_the_same(tmp_path):
    batches = {"WWC_ARCHIVE_IDLIST_BATCH": "1"}
    whole = whole_lists_archive(tmp_path / "whole.db", 60)
    killed = tmp_path / "killed.db"
    killed.write_bytes(whole.read_bytes())
    run_cli("upgrade", "--db", whole, env=batches, check=True)

    child = subprocess.Popen([sys.executable, "-m", "wwc_archive", "upgrade", "--db", str(killed)],
                             env={**os.environ, **batches}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done = 0
    try:
        while not done and child.poll() is None:
            with closing(sqlite3.connect(f"file:{killed}?mode=ro", uri=True)) as conn:
                done = sum(paragraphs.delta_base(data) is not None for (data,) in conn.execute(
                    "select items from contents where items is not null"))
            time.sleep(0.005)
    finally:
        child.kill()
        child.wait()
    with closing(sqlite3.connect(killed)) as conn:
        left = sum(paragraphs.delta_base(data) is None for (data,) in conn.execute("select items from contents"))
        recorded = conn.execute("select name from _sqlite_migrations where name = 'm017_listing_deltas'").fetchall()
    assert done and left > 10 and recorded == [], "killed between batches of m017"

    run_cli("upgrade", "--db", killed, env=batches, check=True)
    assert stored_lists(killed) == stored_lists(whole)
    assert read_back(killed) == read_back(whole)
