"""Texts stored as distinct paragraphs: exact round trips, small edits stored small, search over every version."""

import random
import sqlite3
from contextlib import closing
from urllib.parse import quote

import pytest

from tests.conftest import kill_upgrade_when, run_cli
from tests.test_datasette import get, record, rows, snapshots_of
from tests.helpers import write_run_to
from tests.test_release_upgrade import answers, released_archive
from wwc_archive.archive import Extracted, queries
from wwc_archive.archive.formats import paragraphs, texts
from wwc_archive.archive.canned import FTS_FUNCTION, canned_queries, fts_query
from wwc_archive.reports import links

ARTICLE = [
    f"Paragraph {n}: the city of Tulsa measured how long each permit took, street by street, "
    f"and published the numbers every month so residents could compare neighbourhoods ({n})."
    for n in range(10)
]


# The pure module --------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "one", "\n\n", "\n\na", "a\n\n", "a\n\n\nb", "a\n\n\n\nb", "\n", "a\nb",
                                  "\n\n\n\n\n", "zebra 🦓\r\n\r\nnext", "a\n\n\n\n\n\nb\n\n"])
def test_split_and_join_give_every_text_back_byte_for_byte(text):
    assert paragraphs.join(paragraphs.split(text)) == text


def test_id_lists_round_trip_and_listings_pack_small():
    rng = random.Random(9)
    cases = [[], [0], [1], [2**40, 0, 2**40], [5, 5, 5], list(range(3000, 0, -1))]
    cases += [[rng.randrange(0, rng.choice([10, 10**3, 10**9])) for _ in range(rng.randrange(0, 400))]
              for _ in range(300)]
    for ids in cases:
        assert paragraphs.decode(paragraphs.encode(ids)) == ids
    # A listing of 2,000 teasers, newest first: ids step by one, about a byte per thousand ids.
    assert len(paragraphs.encode(list(range(52000, 50000, -1)))) < 100


@pytest.mark.parametrize("data", [b"", b"\x02abc", b"\x00\x80", b"\x01not zstd"])
def test_bytes_that_are_not_an_id_list_are_refused(data):
    with pytest.raises(ValueError):
        paragraphs.decode(data)


# Storing and reading texts -------------------------------------------------------------------



@pytest.mark.parametrize("text", ["", "\n\nlead", "trail\n\n", "a\n\n\nb", "same\n\nsame\n\nsame", None])
def test_a_stored_text_reads_back_exactly(archive, text):
    conn = archive.db.conn
    content_id = conn.execute("insert into contents (fingerprint) values (?)", [repr(text)]).lastrowid
    texts.store(conn, content_id, text, "A title")
    assert conn.execute("select text from contents where id = ?", [content_id]).fetchone()[0] is None
    assert queries.content_text(archive.db, content_id) == text


def article(url, text, noise="1", title="Permits, street by street"):
    return record(url, http_status=200, headers={}, body=f"<p>{text}</p><!-- {noise} -->".encode(),
                  content_type="text/html", extracted=Extracted(title=title, text=text))


def test_an_edit_of_one_sentence_stores_one_paragraph_and_a_small_version(tmp_path):
    path, url = str(tmp_path / "a.db"), "https://example.org/permits"
    write_run_to(path, article(url, "\n\n".join(ARTICLE)))
    with sqlite3.connect(path) as conn:
        before = conn.execute("select count(*) from paragraphs").fetchone()[0]
    edited = ARTICLE[:4] + [ARTICLE[4].replace("every month", "every week")] + ARTICLE[5:]
    write_run_to(path, article(url, "\n\n".join(edited), noise="2"))
    with sqlite3.connect(path) as conn:
        assert conn.execute("select count(*) from paragraphs").fetchone()[0] == before + 1
        (new_text,) = conn.execute("select text from paragraphs order by id desc limit 1").fetchone()
        assert "every week" in new_text
        text, stored = conn.execute("select text, paragraph_ids from contents order by id desc limit 1").fetchone()
    assert text is None and len(stored) * 50 < len("\n\n".join(edited))
    first, second = snapshots_of(path, url)
    data = get(path, f"/-/wwc/diff/{first['id']}/{second['id']}.json").json()
    assert ["insert", "week"] in [list(op) for op in data["diff"]]
    assert get(path, f"/-/wwc/snapshot/{second['id']}").text.count("every week") >= 1


# Search -------------------------------------------------------------------------------------


def test_search_finds_a_removed_sentence_where_it_appeared(tmp_path):
    path, url = str(tmp_path / "a.db"), "https://example.org/permits"
    write_run_to(path, article(url, "\n\n".join(ARTICLE + ["The zebra crossing survey ran for a year."])))
    write_run_to(path, article(url, "\n\n".join(ARTICLE), noise="2"))
    write_run_to(path, article(url, "\n\n".join(ARTICLE), noise="3"))
    first = snapshots_of(path, url)[0]
    (hit,) = rows(path, "/wwc-archive/search.json?q=zebra")
    assert (hit["url"], hit["snapshot"], hit["title"]) == (url, first["id"], "Permits, street by street")
    assert hit["first_seen"].startswith("2030-01-15") and "[zebra]" in hit["snippet"]
    assert "Paragraph" not in hit["snippet"]  # the matching paragraph only, not the whole text
    page = get(path, "/wwc-archive/search?q=zebra").text
    assert f"/-/wwc/snapshot/{first['id']}" in page


def test_search_lists_every_page_a_text_appeared_on(tmp_path):
    path = str(tmp_path / "a.db")
    one, two = "https://example.org/one", "https://example.org/two"
    shared = "Kansas City mapped every pothole repair since 2019."
    write_run_to(path, article(one, "Intro one.\n\n" + shared), article(two, "Intro two."))
    write_run_to(path, article(one, "Intro one.\n\n" + shared, noise="2"), article(two, "Intro two.\n\n" + shared))
    found = rows(path, "/wwc-archive/search.json?q=" + quote('"pothole repair"'))
    assert sorted(hit["url"] for hit in found) == [one, two]
    by_url = {hit["url"]: hit for hit in found}
    assert by_url[one]["snapshot"] == snapshots_of(path, one)[0]["id"]
    assert by_url[two]["snapshot"] == snapshots_of(path, two)[1]["id"]  # where it first appeared there
    titles = rows(path, "/wwc-archive/search.json?q=" + quote('"street by street"'))
    assert {hit["url"] for hit in titles} == {one, two}  # titles are searched too


def test_sql_users_read_a_versions_text_with_wwc_content_text(tmp_path):
    path, url = str(tmp_path / "a.db"), "https://example.org/permits"
    write_run_to(path, article(url, "\n\n".join(ARTICLE)))
    found = rows(path, "/wwc-archive.json?sql=" + quote("select wwc_content_text(id) as text from contents"))
    assert found == [{"text": "\n\n".join(ARTICLE)}]


# Upgrading an older archive, killed half-way --------------------------------------------------


def older_archive(tmp_path, versions=3000):
    """Release 0.1.0's archive with ``versions`` more versions written as it wrote them (whole texts)."""
    tmp_path.mkdir()
    path = released_archive(tmp_path)
    rng = random.Random(3)
    with sqlite3.connect(path) as conn:
        pages = [row[0] for row in conn.execute("select id from pages")]
        for n in range(versions):
            text = "\n\n".join(rng.choice(ARTICLE) if rng.random() < 0.7 else f"Edit {n} of a sentence {rng.random()}."
                               for _ in range(rng.randrange(1, 8)))
            content_id = conn.execute("insert into contents (fingerprint, title, text, links) values (?, ?, ?, '[]')",
                                      [f"html:{n}", f"Version {n % 50}", text]).lastrowid
            conn.execute("insert into snapshots (run_id, page_id, fetched_at, http_status, outcome, content_id) "
                         "values (2, ?, ?, 200, 'ok', ?)", [rng.choice(pages), f"2026-11-{n % 28 + 1:02}", content_id])
    return path


def everything(path) -> dict:
    """What an upgraded archive answers: 0.1.0's promises, the paragraphs and their pages, searches."""
    found = answers(path)
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        conn.create_function(FTS_FUNCTION, 1, fts_query)
        search = canned_queries(links.diff_sql)["search"]["sql"]
        found["paragraphs"] = conn.execute("select * from paragraphs order by id").fetchall()
        found["paragraph_pages"] = conn.execute("select * from paragraph_pages").fetchall()
        found["searches"] = [conn.execute(search, {"q": q}).fetchall() for q in ("Tulsa permit", "edit", "version")]
        found["tables"] = conn.execute("select name from sqlite_master where name like 'contents_fts%'").fetchall()
    return found


def test_an_upgrade_killed_half_way_resumes_and_ends_as_an_uninterrupted_one(tmp_path):
    whole, killed = older_archive(tmp_path / "whole"), older_archive(tmp_path / "killed")
    small_batches = {"WWC_ARCHIVE_PARAGRAPH_BATCH": "10"}
    run_cli("upgrade", "--db", whole, env=small_batches, check=True)
    expected = everything(whole)
    assert expected["tables"] == [] and len(expected["versions"]) > 3000
    assert all(rows for rows in expected["searches"])

    converted = kill_upgrade_when(killed, small_batches,  # 0 until m009 adds the column
                                  "select count(*) from contents where paragraph_ids is not null")
    with closing(sqlite3.connect(killed)) as conn:
        left = conn.execute("select count(*) from contents where text is not null").fetchone()[0]
        recorded = conn.execute("select name from _sqlite_migrations where name = 'm010_paragraph_texts'").fetchall()
    assert converted and left > 1000 and recorded == [], "killed between batches of m010"

    refused = run_cli("runs", "--db", killed)  # half upgraded is still older: readers refuse it
    assert refused.returncode == 2 and "wwc-archive upgrade" in refused.stderr
    run_cli("upgrade", "--db", killed, env=small_batches, check=True)
    assert everything(killed) == expected
