"""The archive in Datasette, through its in-process client, on a real twice-crawled archive."""

import asyncio
import csv
import io
import hashlib
import json
import sqlite3
from urllib.parse import quote

import lxml.etree
import lxml.html
import pytest

from wwc_archive.archive import Archive, Extracted, FetchRecord
from wwc_archive.reports.datasette.app import archive_datasette
from tests.helpers import write_run_to

HOSTILE_TEXT = "Before <script>document.title='pwned'</script> after"


def fetch(db_path, *steps):
    """Serve ``db_path`` and run ``steps``: paths to GET (responses returned) or callables run in between."""
    async def run():
        ds = archive_datasette(db_path)
        responses = []
        for step in steps:
            if callable(step):
                step()
            else:
                responses.append(await ds.client.get(step))
        return responses

    return asyncio.run(run())


def get(db_path, path, status=200):
    (response,) = fetch(db_path, path)
    assert response.status_code == status, response.text[:500]
    return response


def rows(db_path, path):
    return get(db_path, path + ("&" if "?" in path else "?") + "_shape=array").json()


def sql(db_path, query, params=()):
    with sqlite3.connect(db_path) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(query, params)]


def record(url, outcome="ok", **fields):
    return FetchRecord(url=url, program="what-works-cities", role="page", fetched_at="2030-01-15T03:00:00Z",
                       outcome=outcome, **fields)


def snapshots_of(db_path, url):
    return sql(db_path, "select s.id, s.run_id, s.content_id from snapshots s join pages p on p.id = s.page_id "
                        "where p.url = ? order by s.id", [url])


def change(db_path, url, kind="changed"):
    return sql(db_path, "select c.* from changes c join pages p on p.id = c.page_id "
                        "where p.url = ? and c.change = ?", [url, kind])[0]


# Canned queries -------------------------------------------------------------------


def test_search_finds_words_of_every_version(edited_archive):
    path = edited_archive.path
    first, second = snapshots_of(path, edited_archive.edited_url)
    new = rows(path, "/wwc-archive/search.json?q=zebra")
    assert (edited_archive.edited_url, second["id"]) in [(r["url"], r["snapshot"]) for r in new]
    assert (edited_archive.edited_url, first["id"]) not in [(r["url"], r["snapshot"]) for r in new]
    hit = next(r for r in new if r["url"] == edited_archive.edited_url)
    assert hit["title"] and "[zebra]" in hit["snippet"] and hit["first_seen"].startswith("20")
    # The words the edit removed are still found, in the version that had them.
    old = rows(path, "/wwc-archive/search.json?q=" + quote(f'"{edited_archive.old_phrase}"'))
    assert (edited_archive.edited_url, first["id"]) in [(r["url"], r["snapshot"]) for r in old]


def test_latest_changes_lists_the_second_runs_changes_with_diff_links(edited_archive):
    path = edited_archive.path
    latest = rows(path, "/wwc-archive/latest_changes.json")
    run2 = {(r["change"], r["url"]): r for r in latest if r["run_id"] == 2}
    assert ("changed", edited_archive.edited_url) in run2
    assert ("changed", edited_archive.retitled_url) in run2
    assert ("removed", edited_archive.removed_url) in run2
    assert ("added", edited_archive.published_url) in run2
    assert latest[0]["run_id"] == 2
    edited = change(path, edited_archive.edited_url)
    assert run2[("changed", edited_archive.edited_url)]["diff_page"] == \
        f"/-/wwc/diff/{edited['old_snapshot']}/{edited['new_snapshot']}"
    assert run2[("changed", edited_archive.retitled_url)]["title"] == edited_archive.new_title
    assert run2[("removed", edited_archive.removed_url)]["snapshot"] == change(
        path, edited_archive.removed_url, "removed")["old_snapshot"]


def test_changes_between_two_dates(edited_archive):
    path = edited_archive.path
    day = sql(path, "select substr(started, 1, 10) as day from runs where id = 2")[0]["day"]
    found = rows(path, f"/wwc-archive/changes_between.json?start_date={day}&end_date={day}")
    assert ("changed", edited_archive.edited_url) in [(r["change"], r["url"]) for r in found]
    assert len(found) == len(sql(path, "select id from changes"))  # both runs ran today
    assert rows(path, "/wwc-archive/changes_between.json?start_date=2001-01-01&end_date=2001-12-31") == []


def test_page_history_and_pages_added_per_month(edited_archive):
    path = edited_archive.path
    history = rows(path, "/wwc-archive/page_history.json?url=" + quote(edited_archive.edited_url, safe=""))
    first, second = snapshots_of(path, edited_archive.edited_url)
    assert [r["snapshot"] for r in history] == [second["id"], first["id"]]
    assert [r["change"] for r in history] == ["changed", "added"]
    assert history[0]["diff_page"] == f"/-/wwc/diff/{first['id']}/{second['id']}"
    per_month = rows(path, "/wwc-archive/pages_added_per_month.json")
    month = sql(path, "select substr(started, 1, 7) as m from runs where id = 1")[0]["m"]
    added = sql(path, "select count(*) as n from changes where change = 'added'")[0]["n"]
    assert [(r["month"], r["program"], r["pages_added"]) for r in per_month] == [(month, "what-works-cities", added)]


def test_new_run_shows_up_without_restart(edited_archive):
    """A crawl that finishes while the archive is served is seen by the next request."""
    path = edited_archive.path
    failed = record(edited_archive.base_url + "/flaky", "failed", http_status=503, error="HTTP 503")
    before, before_failed, after, after_failed = fetch(
        path,
        "/wwc-archive/runs.json?_shape=array",
        "/wwc-archive/failed_fetches_last_run.json?_shape=array",
        lambda: write_run_to(path, failed),
        "/wwc-archive/runs.json?_shape=array",
        "/wwc-archive/failed_fetches_last_run.json?_shape=array",
    )
    assert [r["id"] for r in before.json()] == [2, 1]
    assert before_failed.json() == []
    assert [r["id"] for r in after.json()] == [3, 2, 1]
    assert [(r["run_id"], r["url"], r["http_status"], r["error"]) for r in after_failed.json()] == [
        (3, edited_archive.base_url + "/flaky", 503, "HTTP 503")]


# Read-only --------------------------------------------------------------------------


def test_nothing_can_write_to_the_served_archive(edited_archive):
    path = edited_archive.path
    runs_before = sql(path, "select * from runs")

    async def attempts():
        ds = archive_datasette(path)
        db = ds.get_database("wwc-archive")
        assert db.is_mutable
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await db.execute_write("update runs set note = 'vandalised'")
        statement = await ds.client.get("/wwc-archive.json?sql=" + quote("update runs set note = 'x'"))
        queries = (await ds.client.get("/wwc-archive.json")).json()["queries"]
        return statement, queries

    statement, canned = asyncio.run(attempts())
    assert statement.status_code == 400
    assert canned and not [q for q in canned if q.get("write")]
    assert sql(path, "select * from runs") == runs_before


# The /-/wwc/ pages --------------------------------------------------------------------


def test_history_page_lists_every_version(edited_archive):
    path, url = edited_archive.path, edited_archive.edited_url
    snapshots = snapshots_of(path, url)
    html = get(path, "/-/wwc/page?url=" + quote(url, safe="")).text
    tree = lxml.html.fromstring(html)
    links = tree.xpath("//table[contains(@class, 'wwc-history')]//tr/td[1]/a/@href")
    assert links == [f"/-/wwc/snapshot/{s['id']}" for s in reversed(snapshots)]
    assert tree.xpath("//a[starts-with(@href, '/-/wwc/diff/')]/@href") == [
        f"/-/wwc/diff/{snapshots[0]['id']}/{snapshots[1]['id']}"]
    data = get(path, "/-/wwc/page.json?url=" + quote(url, safe="")).json()
    assert data["page"]["url"] == url and [v["id"] for v in data["versions"]] == [s["id"] for s in reversed(snapshots)]
    table = list(csv.DictReader(io.StringIO(get(path, "/-/wwc/page.csv?url=" + quote(url, safe="")).text)))
    assert [int(r["id"]) for r in table] == [s["id"] for s in reversed(snapshots)]
    assert table[0]["diff_from"] == str(snapshots[0]["id"])


def test_diff_page_highlights_the_edited_words(edited_archive):
    path = edited_archive.path
    edited = change(path, edited_archive.edited_url)
    diff_path = f"/-/wwc/diff/{edited['old_snapshot']}/{edited['new_snapshot']}"
    tree = lxml.html.fromstring(get(path, diff_path).text)
    inserted = " ".join(tree.xpath("//div[contains(@class, 'wwc-diff')]//ins/text()"))
    deleted = " ".join(tree.xpath("//div[contains(@class, 'wwc-diff')]//del/text()"))
    assert edited_archive.new_phrase in inserted and "zebra" not in deleted
    assert edited_archive.old_phrase in deleted
    data = get(path, diff_path + ".json").json()
    assert ["insert", edited_archive.new_phrase] in [list(op) for op in data["diff"]]
    assert data["words_added"] == json.loads(edited["summary"])["words_added"]


def test_diff_page_shows_a_new_title(edited_archive):
    path = edited_archive.path
    retitled = change(path, edited_archive.retitled_url)
    tree = lxml.html.fromstring(get(path, f"/-/wwc/diff/{retitled['old_snapshot']}/{retitled['new_snapshot']}").text)
    (row,) = tree.xpath("//table[contains(@class, 'wwc-fields')]//tr[td[1] = 'title']")
    assert row.xpath("string(td[2])") == edited_archive.old_title
    assert row.xpath("string(td[3])") == edited_archive.new_title


def test_snapshot_page_shows_text_and_links_to_neighbours(edited_archive):
    path = edited_archive.path
    first, second = snapshots_of(path, edited_archive.edited_url)
    tree = lxml.html.fromstring(get(path, f"/-/wwc/snapshot/{second['id']}").text)
    assert edited_archive.new_phrase in tree.xpath("string(//div[@class='wwc-text'])")
    hrefs = tree.xpath("//a/@href")
    assert f"/-/wwc/snapshot/{first['id']}" in hrefs
    assert f"/-/wwc/diff/{first['id']}/{second['id']}" in hrefs
    assert f"/-/wwc/snapshot/{second['id']}/raw?download=1" in hrefs
    older = lxml.html.fromstring(get(path, f"/-/wwc/snapshot/{first['id']}").text)
    assert older.xpath("//a[@rel='next']/@href") == [f"/-/wwc/snapshot/{second['id']}"]
    data = get(path, f"/-/wwc/snapshot/{first['id']}.json").json()
    assert data["next"] == second["id"] and edited_archive.old_phrase in data["snapshot"]["text"]


def test_raw_bodies_are_sandboxed_or_downloaded(edited_archive):
    path = edited_archive.path
    _, second = snapshots_of(path, edited_archive.edited_url)
    stored = sql(path, "select lower(hex(b.sha256)) as sha256 from bodies b join snapshots s on s.body_id = b.id "
                 "where s.id = ?",
                 [second["id"]])[0]["sha256"]
    inline, download = fetch(path, f"/-/wwc/snapshot/{second['id']}/raw",
                             f"/-/wwc/snapshot/{second['id']}/raw?download=1")
    assert inline.content == download.content
    assert hashlib.sha256(inline.content).hexdigest() == stored  # byte-exact, whatever the storage
    assert b"zebra" in inline.content
    for response in (inline, download):
        assert response.headers["content-security-policy"].split(";")[0] == "sandbox"
    assert "content-disposition" not in inline.headers
    assert download.headers["content-disposition"].startswith(f'attachment; filename="snapshot-{second["id"]}-')


def test_hostile_archived_text_is_shown_as_text(edited_archive):
    path, url = edited_archive.path, edited_archive.base_url + "/hostile"
    write_run_to(path, record(url, http_status=200, body=b"<script>document.title='pwned'</script>",
                           content_type="text/html", extracted=Extracted(title="Hostile", text=HOSTILE_TEXT)))
    (snap,) = snapshots_of(path, url)
    html = get(path, f"/-/wwc/snapshot/{snap['id']}").text
    tree = lxml.html.fromstring(html)
    assert "<script>document.title='pwned'</script>" in tree.xpath("string(//div[@class='wwc-text'])")
    assert not [s for s in tree.xpath("//script") if "pwned" in (s.text or "")]
    assert "&lt;script&gt;document.title" in html


def test_bodies_table_shows_decoded_text(edited_archive):
    html = get(edited_archive.path, "/wwc-archive/bodies?_size=3").text
    cells = lxml.html.fromstring(html).xpath("//td[contains(@class, 'col-data')]")
    assert len(cells) == 3 and all(c.xpath("string(.)").lstrip().startswith("<!DOCTYPE html>") for c in cells)
    assert "Binary:" not in html


def test_a_delta_bodys_cell_shows_its_decoded_text(edited_archive):
    path = edited_archive.path
    _, second = snapshots_of(path, edited_archive.edited_url)
    (body,) = sql(path, "select b.id, b.compression from bodies b join snapshots s on s.body_id = b.id "
                        "where s.id = ?", [second["id"]])
    assert body["compression"] == "zstd-n1"
    cell = lxml.html.fromstring(get(path, f"/wwc-archive/bodies/{body['id']}").text)
    text = cell.xpath("string(//td[contains(@class, 'col-data')])")
    assert text.lstrip().startswith("<!DOCTYPE html>") and "do not decompress" not in text


def test_errors_are_clear(edited_archive):
    path = edited_archive.path
    other = snapshots_of(path, edited_archive.published_url)[0]["id"]
    edited = snapshots_of(path, edited_archive.edited_url)[0]["id"]
    missing_url, unknown_page, no_snapshot, mixed = fetch(
        path, "/-/wwc/page.json", "/-/wwc/page.json?url=http%3A%2F%2Fnowhere.example%2F",
        "/-/wwc/snapshot/999999.json", f"/-/wwc/diff/{edited}/{other}.json")
    assert (missing_url.status_code, unknown_page.status_code, no_snapshot.status_code, mixed.status_code) == (
        400, 404, 404, 400)
    assert "give the page's URL" in missing_url.json()["error"]
    assert "different pages" in mixed.json()["error"]


# Exports, facets, report and feed ---------------------------------------------------


def test_tables_and_canned_queries_export_json_and_csv(edited_archive):
    path = edited_archive.path
    n_changes = len(sql(path, "select id from changes"))
    table_csv, query_csv, table_json = fetch(
        path, "/wwc-archive/changes.csv?_size=max", "/wwc-archive/latest_changes.csv",
        "/wwc-archive/changes.json?_shape=array&_size=max")
    assert table_csv.status_code == query_csv.status_code == table_json.status_code == 200
    assert len(list(csv.DictReader(io.StringIO(table_csv.text)))) == n_changes
    query_rows = list(csv.DictReader(io.StringIO(query_csv.text)))
    assert len(query_rows) == n_changes and {"change", "url", "diff_page"} <= set(query_rows[0])
    assert len(table_json.json()) == n_changes


def test_month_facet_counts_and_filters(edited_archive):
    path = edited_archive.path
    month = sql(path, "select substr(fetched_at, 1, 7) as m from snapshots limit 1")[0]["m"]
    total = len(sql(path, "select id from snapshots"))
    data = get(path, "/wwc-archive/snapshots.json?_size=0&_facet_month=fetched_at").json()
    facet = data["facet_results"]["fetched_at"]
    assert facet["type"] == "month"
    assert [(r["value"], r["count"]) for r in facet["results"]] == [(month, total)]
    filtered = get(path, "/wwc-archive/snapshots.json?_size=0&fetched_at__startswith=2001-01").json()
    assert filtered["filtered_table_rows_count"] == 0


def test_run_report_and_atom_feed(edited_archive):
    path = edited_archive.path
    report, latest, feed = fetch(path, "/-/wwc/run/2/report", "/-/wwc/run/latest/report", "/-/wwc/changes.atom")
    assert report.status_code == latest.status_code == feed.status_code == 200
    assert report.text == latest.text
    assert edited_archive.new_title in lxml.html.fromstring(report.text).text_content()
    assert feed.headers["content-type"].startswith("application/atom+xml")
    entries = lxml.etree.fromstring(feed.content).findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) == len(sql(path, "select id from changes"))
    assert get(path, "/-/wwc/run/99/report", status=404)


# One differ everywhere -------------------------------------------------------------


def test_counts_and_marked_words_agree_everywhere(tmp_path):
    """`changes`, the HTML report and the Datasette diff page show one diff of a hyphen that became a space."""
    from sqlite_utils import Database

    from tests.conftest import changes_json
    from wwc_archive.reports.render import render_report

    path, url = str(tmp_path / "a.db"), "https://example.org/news/data"
    text = "The city is data-driven now.\n\nIt publishes every permit."
    write_run_to(path, record(url, http_status=200, body=b"1", extracted=Extracted(title="T", text=text)))
    write_run_to(path, record(url, http_status=200, body=b"2",
                           extracted=Extracted(title="T", text=text.replace("data-driven", "data driven"))))
    (row,) = changes_json(path)["changes"]
    assert (row["summary"]["words_added"], row["summary"]["words_removed"]) == (2, 1)
    data = get(path, f"/-/wwc/diff/{row['old_snapshot']}/{row['new_snapshot']}.json").json()
    assert (data["words_added"], data["words_removed"], data["change_count"]) == (2, 1, 1)
    assert [op for op in data["diff"] if op[0] != "equal"] == [["delete", "data-driven"], ["insert", "data driven"]]
    block = lxml.html.fromstring(render_report(Database(path), fmt="html"))
    assert [e.text_content() for e in block.xpath("//ins")] == ["data driven"]
    assert [e.text_content() for e in block.xpath("//del")] == ["data-driven"]
    assert "2 words added, 1 word removed" in " ".join(block.text_content().split())


def test_every_view_of_the_hub_change_shows_the_recorded_counts(edited_archive):
    from tests.conftest import changes_json

    hub = edited_archive.base_url + edited_archive.site.hub_path
    (row,) = [c for c in changes_json(edited_archive.path)["changes"] if c["url"] == hub]
    assert row["edits"] is None, "a listing change is recorded as items, without a word diff"
    data = get(edited_archive.path, f"/-/wwc/diff/{row['old_snapshot']}/{row['new_snapshot']}.json").json()
    assert data["items"] == row["summary"]["items"]
    assert data["items"]["counts"] == {"entered": 1, "left": 1, "changed": 2}


def test_an_archive_from_before_edit_scripts_upgrades_in_place(edited_archive):
    """m002 adds changes.edits to an existing archive and keeps every row; old changes are diffed live."""
    path = edited_archive.path
    with sqlite3.connect(path) as conn:
        conn.execute("alter table changes drop column edits")
        conn.execute("delete from _sqlite_migrations where name = 'm002_change_edit_scripts'")
    before = sql(path, "select id, summary, diff from changes order by id")
    Archive(path).close()
    assert sql(path, "select id, summary, diff from changes order by id") == before
    assert {r["edits"] for r in sql(path, "select edits from changes")} == {None}
    edited = change(path, edited_archive.edited_url)
    data = get(path, f"/-/wwc/diff/{edited['old_snapshot']}/{edited['new_snapshot']}.json").json()
    assert ["insert", edited_archive.new_phrase] in [list(op) for op in data["diff"]]


# No dead ends, no hostile input -------------------------------------------------------


@pytest.mark.parametrize("q", ["", "  ", '"', '""', "-", "*", "AND", "data AND", "NEAR(", 'a"b', '"unclosed',
                               "data-driven", "x:y", "(", "^"])
def test_search_never_fails_on_what_a_visitor_types(edited_archive, q):
    response = get(edited_archive.path, "/wwc-archive/search.json?_shape=array&q=" + quote(q))
    assert isinstance(response.json(), list)


def test_history_page_without_a_url_is_a_form_with_a_hint(edited_archive):
    tree = lxml.html.fromstring(get(edited_archive.path, "/-/wwc/page").text)
    assert tree.xpath("//form//input[@name='url']")
    assert "Search every version" in tree.text_content()
    unknown = fetch(edited_archive.path, "/-/wwc/page?url=" + quote("https://nowhere.example/", safe=""))[0]
    assert unknown.status_code == 404 and "has no page with the URL" in unknown.text


def test_a_hostile_facet_column_is_ignored(edited_archive):
    hostile = 'fetched_at") as value, 1 as count from snapshots; --'
    data = get(edited_archive.path, "/wwc-archive/snapshots.json?_size=0&_facet_month=fetched_at&_facet_month="
               + quote(hostile)).json()
    assert hostile not in data["facet_results"]
    assert data["facet_results"]["fetched_at"]["type"] == "month"


def test_a_query_cannot_make_a_huge_string(edited_archive):
    """SQLite refuses values over 16 MB: an error, or NULL where the function says so (printf)."""
    blob, text = fetch(edited_archive.path, *(
        "/wwc-archive.json?_shape=array&sql=" + quote(query) for query in (
            "select length(zeroblob(300000000)) as big", "select printf('%.*c', 300000000, 'x') as big")))
    assert blob.status_code == 400 and "too big" in blob.json()["error"]
    assert text.status_code == 200 and text.json() == [{"big": None}]


def test_no_sql_mode_refuses_arbitrary_sql_but_keeps_the_rest(edited_archive):
    from wwc_archive.reports.datasette.app import NO_SQL_SETTINGS

    edited = change(edited_archive.path, edited_archive.edited_url)

    async def run():
        ds = archive_datasette(edited_archive.path, settings=NO_SQL_SETTINGS)
        return [await ds.client.get(p) for p in (
            "/wwc-archive.json?sql=" + quote("select 1"), "/wwc-archive/latest_changes.json",
            "/wwc-archive/runs.json", f"/-/wwc/diff/{edited['old_snapshot']}/{edited['new_snapshot']}")]

    arbitrary, canned, table, page = asyncio.run(run())
    assert arbitrary.status_code == 403
    assert (canned.status_code, table.status_code, page.status_code) == (200, 200, 200)


@pytest.mark.parametrize("charset", ["utf-7", "idna", "rot13", "no-such-charset"])
def test_bodies_in_odd_charsets_decode_as_utf8(edited_archive, charset):
    path, url = edited_archive.path, edited_archive.base_url + "/odd-" + charset
    body = "+ADw-b+AD4-café".encode()
    write_run_to(path, record(url, http_status=200, body=body, content_type=f"text/html; charset={charset}",
                           extracted=Extracted(title="Odd", text="odd")))
    (snap,) = snapshots_of(path, url)
    raw = get(path, f"/-/wwc/snapshot/{snap['id']}/raw")
    assert raw.headers["content-type"] == "text/plain; charset=utf-8" and raw.content == body
    body_id = sql(path, "select body_id from snapshots where id = ?", [snap["id"]])[0]["body_id"]
    cell = lxml.html.fromstring(get(path, f"/wwc-archive/bodies/{body_id}").text)
    assert "+ADw-b+AD4-café" in cell.xpath("string(//td[contains(@class, 'col-data')])")
    assert get(path, f"/-/wwc/snapshot/{snap['id']}").status_code == 200


def test_raw_view_is_plain_text_and_the_download_the_original(edited_archive):
    path = edited_archive.path
    _, second = snapshots_of(path, edited_archive.edited_url)
    view, download = fetch(path, f"/-/wwc/snapshot/{second['id']}/raw",
                           f"/-/wwc/snapshot/{second['id']}/raw?download=1")
    assert view.headers["content-type"] == "text/plain; charset=utf-8"
    assert view.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-type"].startswith("text/html")
