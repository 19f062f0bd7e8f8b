"""A version's outgoing links, stored once per URL: what a change, a snapshot and SQL users see of them."""

import json
from urllib.parse import quote

from tests.test_datasette import rows, sql
from tests.helpers import write_run_to
from tests.test_release_upgrade import released_archive
from wwc_archive.archive import Archive, Extracted, FetchRecord, queries

BASE = "https://datasmart.hks.harvard.edu"
LISTING = [f"{BASE}/news/article/story-{n}" for n in range(400)]


def listing(url, links, when="2030-01-15T03:00:00Z"):
    return FetchRecord(url=url, program="what-works-cities", role="page", fetched_at=when, outcome="ok",
                       http_status=200, body=f"<p>{len(links)}</p>".encode(), extracted=Extracted(title="Listing", text=f"{len(links)} stories", links=tuple(links)))


def test_links_read_back_sorted_and_whole_and_a_new_link_costs_bytes_not_the_list(tmp_path):
    path, url = str(tmp_path / "a.db"), f"{BASE}/what-works-cities"
    write_run_to(path, listing(url, LISTING[::-1]))
    write_run_to(path, listing(url, [f"{BASE}/news/article/new-one", *LISTING], when="2030-01-16T03:00:00Z"))
    archive = Archive(path)
    first, second = (queries.snapshot(archive.db, row["id"]) for row in archive.db.query(
        "select id from snapshots order by id"))
    assert first["links"] == sorted(LISTING)
    assert second["links"] == sorted([f"{BASE}/news/article/new-one", *LISTING])
    archive.close()
    stored = sql(path, "select length(link_ids) as size, links from contents order by id")
    assert all(row["links"] is None for row in stored)
    assert sql(path, "select count(*) as n from link_urls")[0]["n"] == len(LISTING) + 1  # each URL once
    as_json = len(json.dumps(sorted(LISTING)))
    assert stored[1]["size"] < as_json / 20, stored  # sorted ids: a byte or two a link, not the URLs again


def test_a_change_still_says_which_links_appeared_and_went(tmp_path):
    path, url = str(tmp_path / "a.db"), f"{BASE}/what-works-cities"
    write_run_to(path, listing(url, LISTING[:10]))
    write_run_to(path, listing(url, [*LISTING[1:10], LISTING[42]], when="2030-01-16T03:00:00Z"))
    (summary,) = [json.loads(row["summary"]) for row in sql(path, "select summary from changes where change = 'changed'")]
    assert summary["links_added"] == [LISTING[42]] and summary["links_removed"] == [LISTING[0]]


def test_sql_users_read_links_with_wwc_content_links_old_and_new_versions_alike(tmp_path):
    path = str(released_archive(tmp_path))
    Archive(path).close()  # upgraded: 0.1.0's versions keep their JSON links
    old = sql(path, "select id, links from contents where links is not null order by id limit 1")[0]
    url = f"{BASE}/news/article/added-later"
    write_run_to(path, listing(url, LISTING[:3], when="2030-02-01T03:00:00Z"))
    new_id = sql(path, "select max(id) as id from contents")[0]["id"]
    found = rows(path, "/wwc-archive.json?sql=" + quote(
        f"select id, wwc_content_links(id) as links from contents where id in ({old['id']}, {new_id}) order by id"))
    assert [json.loads(row["links"]) for row in found] == [json.loads(old["links"]), sorted(LISTING[:3])]
