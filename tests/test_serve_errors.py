"""Error pages of ``wwc-archive serve``: a bad URL is a 404 or 400 with a hint, printed as nothing, and cheap.

Datasette 0.65's own error handler prints a rich traceback with local variables
for every 404 (seconds of work on the event loop) and fails outright when no
exception is being handled (an unmatched URL). These tests go through the same
in-process client and the real ``serve`` process a visitor reaches.
"""

import asyncio
import time
import urllib.error
import urllib.request

import httpx
import lxml.html
import pytest
from wwc_archive.archive import Archive, Extracted, FetchRecord
from wwc_archive.reports.datasette import views
from wwc_archive.reports.datasette.app import archive_datasette

from tests.helpers import serving

URL = "https://example.org/news/a-story"
HUGE = "99999999999999999999"  # past SQLite's integers (2**63 - 1)


@pytest.fixture(scope="module")
def archive_path(tmp_path_factory):
    """Two runs of one page that changed: snapshots 1 and 2, run 1 and 2, a diff 1/2."""
    path = str(tmp_path_factory.mktemp("errors") / "archive.db")
    archive = Archive(path)
    for night, text in enumerate(["The city opened its data.", "The city opened all of its data."], start=1):
        run_id = archive.start_run(["what-works-cities"], trigger="manual")
        writer = archive.writer(run_id)
        writer.add(FetchRecord(url=URL, program="what-works-cities", role="page",
                               fetched_at=f"2030-01-{night:02d}T03:00:00Z", outcome="ok", http_status=200,
                               body=text.encode(), content_type="text/html",
                               extracted=Extracted(title="A story", text=text)))
        writer.flush()
        archive.finish_run(run_id, "complete")
    archive.close()
    return path


def fetch_all(db_path, paths):
    async def run():
        ds = archive_datasette(db_path)
        return [await ds.client.get(path) for path in paths]

    return asyncio.run(run())


# Every route the plugin registers (views.routes()), each part of it wrong, and URLs no route matches.
BAD_URLS = [
    # /-/wwc/snapshot/ID and .json
    ("/-/wwc/snapshot/abc", 400), ("/-/wwc/snapshot/-1", 400), ("/-/wwc/snapshot/1.5", 400),
    ("/-/wwc/snapshot/0", 404), ("/-/wwc/snapshot/999", 404), (f"/-/wwc/snapshot/{HUGE}", 404),
    ("/-/wwc/snapshot/abc.json", 400), (f"/-/wwc/snapshot/{HUGE}.json", 404), ("/-/wwc/snapshot", 404),
    # /-/wwc/snapshot/ID/raw
    ("/-/wwc/snapshot/abc/raw", 400), ("/-/wwc/snapshot/0/raw", 404), ("/-/wwc/snapshot/999/raw", 404),
    (f"/-/wwc/snapshot/{HUGE}/raw", 404), ("/-/wwc/snapshot/1/raw/more", 404),
    # /-/wwc/diff/OLD/NEW and .json
    ("/-/wwc/diff/9", 404), ("/-/wwc/diff", 404), ("/-/wwc/diff/1/2/3", 404),
    ("/-/wwc/diff/abc/2", 400), ("/-/wwc/diff/1/abc", 400), ("/-/wwc/diff/-1/2", 400),
    ("/-/wwc/diff/0/2", 404), (f"/-/wwc/diff/1/{HUGE}", 404), ("/-/wwc/diff/1/999", 404),
    (f"/-/wwc/diff/1/{HUGE}.json", 404), ("/-/wwc/diff/x/y.json", 400),
    # /-/wwc/run/RUN/report
    ("/-/wwc/run/2", 404), ("/-/wwc/run", 404), ("/-/wwc/runs", 404), ("/-/wwc/run/latest", 404),
    ("/-/wwc/run/abc/report", 400), ("/-/wwc/run/-1/report", 400), ("/-/wwc/run/0/report", 404),
    ("/-/wwc/run/99/report", 404), (f"/-/wwc/run/{HUGE}/report", 404),
    # /-/wwc/page and the feed
    ("/-/wwc/page.json", 400), ("/-/wwc/page.xml", 404), ("/-/wwc/changes.rss", 404),
    # nothing under /-/wwc/ or anywhere else
    ("/-/wwc", 404), ("/-/wwc/nothing", 404), ("/-/wwc/nothing/at/all", 404),
    ("/a/b/c/d/e/f", 404), ("/no-such-database", 404), ("/wwc-archive/no_such_table", 404),
    # Datasette's own pages: what it answered 500 for
    ("/wwc-archive/snapshots?_sort=nope", 400), (f"/wwc-archive/snapshots?id__gt={HUGE}", 400),
    ("/-/wwc/snapshot/%E2%91%A0", 400),  # ① is a digit to str.isdigit
]


@pytest.mark.parametrize("path,status", BAD_URLS, ids=[path for path, _ in BAD_URLS])
def test_a_bad_url_is_a_404_or_400_and_prints_no_traceback(archive_path, capfd, path, status):
    (response,) = fetch_all(archive_path, [path])
    assert response.status_code == status, response.text[:500]
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err and "Error" not in out + err, (out + err)[:2000]


def test_the_good_pages_still_answer(archive_path):
    """The same routes, as the links in the archive build them."""
    paths = ["/-/wwc/snapshot/1", "/-/wwc/snapshot/2.json", "/-/wwc/snapshot/1/raw", "/-/wwc/diff/1/2",
             "/-/wwc/diff/1/2.json", "/-/wwc/run/2/report", "/-/wwc/run/latest/report", "/-/wwc/changes.atom",
             "/-/wwc/page", "/-/wwc/page.json?url=" + URL, "/wwc-archive", "/wwc-archive/runs"]
    assert [(path, r.status_code) for path, r in zip(paths, fetch_all(archive_path, paths))] == [
        (path, 200) for path in paths]


def test_an_error_page_has_the_sites_navigation_and_a_hint_to_the_nearest_page(archive_path):
    (response,) = fetch_all(archive_path, ["/-/wwc/run/2"])
    tree = lxml.html.fromstring(response.text)
    assert tree.xpath("//header/nav//a[@href='/']") and tree.xpath("//footer")
    assert tree.findtext(".//title") == tree.findtext(".//h1") == "Not found"
    hint = tree.xpath("//p[@class='wwc-hint']")[0]
    assert [a.get("href") for a in hint.xpath(".//a")] == ["/-/wwc/run/2/report", "/wwc-archive/runs"]
    assert response.headers["content-security-policy"] == views.PAGE_CSP


@pytest.mark.parametrize("path,message,links", [
    ("/-/wwc/snapshot/abc", "'abc' is not a snapshot id", ["/-/wwc/page", "/wwc-archive/snapshots"]),
    ("/-/wwc/snapshot/999", "no snapshot with id 999", ["/-/wwc/page", "/wwc-archive/snapshots"]),
    ("/-/wwc/diff/9", "No such page", ["/wwc-archive/latest_changes"]),
    ("/-/wwc/run/abc/report", "'abc' is not a run id", ["/-/wwc/run/latest/report", "/wwc-archive/runs"]),
    ("/-/wwc/nothing", "No such page", ["/wwc-archive", "/-/wwc/page"]),
    ("/a/b/c/d/e/f", "No such page", ["/wwc-archive"]),
], ids=lambda value: value if isinstance(value, str) and value.startswith("/") else "")
def test_each_kind_of_bad_url_points_to_its_nearest_page(archive_path, path, message, links):
    (response,) = fetch_all(archive_path, [path])
    tree = lxml.html.fromstring(response.text)
    assert message in tree.xpath("string(//p[@class='wwc-error'])")
    assert [a.get("href") for a in tree.xpath("//p[@class='wwc-hint']//a")] == links


def test_a_json_url_gets_its_error_as_json(archive_path):
    (response,) = fetch_all(archive_path, ["/-/wwc/snapshot/abc.json"])
    data = response.json()
    assert (response.status_code, data["ok"], data["status"]) == (400, False, 400)
    assert "'abc' is not a snapshot id" in data["error"] and "/wwc-archive/snapshots" in data["hint"]


def test_a_real_server_error_is_a_500_with_one_traceback_in_the_log(archive_path, monkeypatch, caplog, capfd):
    def broken(db, snapshot_id):
        raise RuntimeError("a bug in snapshot_data")

    monkeypatch.setattr(views, "snapshot_data", broken)
    html, data = fetch_all(archive_path, ["/-/wwc/snapshot/1", "/-/wwc/snapshot/1.json"])
    assert (html.status_code, data.status_code) == (500, 500)
    assert "RuntimeError" in data.json()["error"] and "a bug" not in html.text  # the details stay in the log
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert [(r.exc_info[0], r.getMessage()) for r in errors] == [
        (RuntimeError, "GET /-/wwc/snapshot/1: 500"), (RuntimeError, "GET /-/wwc/snapshot/1.json: 500")]
    assert "╭" not in "".join(capfd.readouterr())  # no rich traceback besides


def test_a_burst_of_missing_snapshots_does_not_hold_up_a_good_page(archive_path):
    async def run():
        ds = archive_datasette(archive_path)
        app = ds.app()
        await ds.client.get("/-/wwc/snapshot/1")  # startup and first connections, outside the timing

        async def timed(path, visitor):  # 21 visitors: one client would get 429s past its share (fairness.py)
            transport = httpx.ASGITransport(app=app, client=(f"10.0.0.{visitor}", 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
                start = time.monotonic()
                response = await client.get(path)
                return response.status_code, time.monotonic() - start

        return await asyncio.gather(*[timed(f"/-/wwc/snapshot/{1000 + i}", i) for i in range(20)],
                                    timed("/-/wwc/snapshot/1", 99))

    *missing, (good_status, good_seconds) = asyncio.run(run())
    assert {status for status, _ in missing} == {404}
    assert good_status == 200 and good_seconds < 5


# The real process ------------------------------------------------------------------


def test_serve_logs_one_line_per_request_and_no_traceback(archive_path):
    requests = BAD_URLS[:20] + [("/-/wwc/snapshot/1", 200)]
    answered, started = [], []
    with serving(archive_path, process_out=started) as base:
        for path, _ in requests:
            try:
                with urllib.request.urlopen(base + path, timeout=10) as response:
                    answered.append((path, response.status))
            except urllib.error.HTTPError as error:
                answered.append((path, error.code))
    out, err = started[0].stdout_text, started[0].stderr_text
    assert answered == requests
    assert "Traceback" not in out + err, (out + err)[:2000]
    logged = [line for line in out.splitlines() if '"GET /-/wwc/' in line]  # uvicorn's access log
    assert [(path, status) for path, status in requests
            if any(f'"GET {path} HTTP/1.1" {status} ' in line for line in logged)] == requests
    assert len(logged) == len(requests)  # one line per request, nothing else
    assert err.strip() == ""
