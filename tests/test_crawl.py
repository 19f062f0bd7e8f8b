"""End to end: real crawls of the bundled Drupal-like site on 127.0.0.1 into real archives."""

import signal
import sqlite3
import subprocess
import sys
import time

import pytest
import sqlite_utils

from tests.conftest import FAST, changes_json, run_cli
from wwc_archive.archive import queries
from wwc_archive.config import SiteProfile
from wwc_archive.crawler.extract import extract_page
from wwc_archive.demo_site import DemoServer, DemoSite


def changes_by_url(db_path, run="latest"):
    return {change["url"]: change["change"] for change in changes_json(db_path, run)["changes"]}


def archived_urls(db_path):
    return {row["url"] for row in sqlite_utils.Database(db_path).query("select url from pages")}


def paths(server):
    return [record.path for record in server.requests]


def test_first_crawl_archives_hub_pagination_articles_people_and_documents(site, server, crawl, db_path):
    crawl()
    urls = archived_urls(db_path)
    for article in site.articles:
        if article.kind != "oversized":
            assert server.url + site.article_path(article) in urls
    assert any("/people/" in url for url in urls)
    assert any(url.endswith(".pdf") for url in urls)
    pager_pages = [p for p in paths(server) if p.startswith(site.hub_path + "?page=")]
    assert len(pager_pages) == site.hub_page_count - 1
    changes = changes_json(db_path)
    assert changes["run"]["status"] == "complete"
    assert {c["change"] for c in changes["changes"]} == {"added"}
    hub = next(c for c in changes["changes"] if c["url"] == server.url + site.hub_path)
    assert hub["title"] == "What Works Cities"


def test_program_page_content_spans_its_show_more_pages(site, server, crawl, db_path):
    crawl()
    db = sqlite_utils.Database(db_path)
    (snapshot_id,) = db.execute("select last_good_snapshot from pages where url = ?",
                                [server.url + site.hub_path]).fetchone()
    links = queries.snapshot(db, snapshot_id)["links"]
    last_article = site.published()[-1]
    assert server.url + site.article_path(last_article) in links, "an article only on the last page"


def test_recrawl_with_fresh_noise_reports_nothing_and_stores_no_new_bodies(site, server, crawl, db_path):
    crawl()
    bodies = sqlite_utils.Database(db_path)["bodies"].count
    crawl()
    assert changes_json(db_path)["changes"] == []
    assert sqlite_utils.Database(db_path)["bodies"].count == bodies


def test_validators_are_sent_and_304_is_an_unchanged_snapshot(site, server, crawl, db_path):
    crawl()
    crawl()
    article_path = site.article_path(site.articles[0])
    second = [r for r in server.requests if r.path == article_path][-1]
    assert second.headers.get("If-None-Match") == site.etag(site.articles[0])
    assert second.status == 304
    db = sqlite_utils.Database(db_path)
    page = db.execute("select id from pages where url = ?", [server.url + article_path]).fetchone()[0]
    assert [(f["run_id"], f["outcome"], f["http_status"]) for f in queries.fetches(db, page_id=page)] == [
        (1, "ok", 200), (2, "not_modified", 304)]


def test_edit_publish_and_unpublish_are_changed_added_and_removed(site, server, crawl, db_path):
    crawl()
    edited, removed = site.articles[0], site.articles[1]
    old = " ".join(edited.paragraphs[0].split()[:3])
    site.edit_article(edited.slug, old, old + " quietly")
    site.unpublish(removed.slug, status=410)
    new = site.publish_article("Tulsa opens permit data", ["Tulsa published its permits as open data."])
    crawl()
    changes = changes_json(db_path)["changes"]
    kinds = {c["url"]: c["change"] for c in changes}
    assert kinds == {
        server.url + site.article_path(edited): "changed",
        server.url + site.article_path(removed): "removed",
        server.url + site.article_path(new): "added",
        server.url + site.hub_path: "changed",
        # people pages list their articles: the new one's author gains one, the removed one's loses one
        server.url + "/people/" + new.author: "changed",
        server.url + "/people/" + removed.author: "changed",
    }
    edit = next(c for c in changes if c["change"] == "changed" and c["url"].endswith(site.article_path(edited)))
    assert f"+{old} quietly" in edit["diff"] or "quietly" in edit["diff"]
    assert edit["summary"]["words_added"] == 1 and edit["summary"]["words_removed"] == 0
    hub = next(c for c in changes if c["url"] == server.url + site.hub_path)
    assert hub["summary"]["links_added"] == [server.url + site.article_path(new)]
    assert hub["summary"]["links_removed"] == [server.url + site.article_path(removed)]


@pytest.mark.parametrize("mode", ["503", "timeout", "reset", "truncate", "gzip-oversized"])
def test_transient_failures_are_not_removals(site, server, crawl, db_path, mode):
    crawl()
    site.timeout_delay = 4
    target = site.article_path(site.articles[2])
    site.fail(target, mode)
    crawl()
    assert changes_json(db_path)["changes"] == []
    db = sqlite_utils.Database(db_path)
    (failed,) = list(db.query("select s.error, s.http_status from snapshots s join pages p on p.id = s.page_id "
                              "where p.url = ? and s.outcome = 'failed'", [server.url + target]))
    assert failed["error"]
    assert db.execute("select state from pages where url = ?", [server.url + target]).fetchone()[0] == "live"
    site.clear_failures()
    crawl()
    assert changes_json(db_path)["changes"] == [], "recovering from a failure is not a change"


def test_a_page_that_disappears_from_the_listing_is_still_revisited(site, server, crawl, db_path):
    crawl()
    gone = site.articles[4]
    site.unpublish(gone.slug)  # no longer linked from anywhere: only the revisit can notice
    crawl()
    assert changes_by_url(db_path)[server.url + site.article_path(gone)] == "removed"


def test_other_ports_and_hosts_are_never_requested(site, server, crawl, db_path):
    other_site = DemoSite(n_articles=2, seed=3)
    with DemoServer(other_site) as other:
        site.extra_links = [other.url + other_site.hub_path, other.url + "/robots.txt",
                            "http://localhost:%d/what-works-cities" % int(other.url.rsplit(":", 1)[1])]
        crawl()
        assert other.requests == []
    assert all(url.startswith(server.url) for url in archived_urls(db_path))


def test_robots_txt_is_obeyed_and_the_user_agent_names_the_tool(site, server, crawl, db_path):
    site.robots_disallow.append("/people/")
    crawl()
    assert paths(server)[0] == "/robots.txt"
    assert not any(p.startswith("/people/") for p in paths(server))
    agent = server.requests[-1].headers.get("User-Agent")
    assert agent.startswith("wwc-archive/") and "+" not in agent, "no [crawl] contact: no invented address"


def test_a_page_over_the_size_cap_is_a_failed_fetch(site, server, crawl, db_path):
    crawl("-s", "DOWNLOAD_MAXSIZE=1000000")
    db = sqlite_utils.Database(db_path)
    row = db.execute("select s.outcome, s.error from snapshots s join pages p on p.id = s.page_id where p.url = ?",
                     [server.url + site.oversized_path]).fetchone()
    assert row[0] == "failed" and "max size" in row[1]
    assert server.url + site.oversized_path not in changes_by_url(db_path)


def test_windows_1252_and_malformed_pages_are_archived_as_text(site, server, crawl, db_path):
    crawl()
    db = sqlite_utils.Database(db_path)

    def text(path):
        content_id = db.execute("select s.content_id from pages p join snapshots s on s.id = p.last_good_snapshot "
                                "where p.url = ?", [server.url + path]).fetchone()[0]
        return queries.content_text(db, content_id)

    assert "caf\u00e9" in text(site.encoding_path).lower() and "\u201c" in text(site.encoding_path)
    assert len(text(site.malformed_path).split()) > 20


def test_an_interrupted_crawl_keeps_the_archive_and_reports_no_removals(site, server, crawl, db_path):
    crawl()
    site.unpublish(site.articles[0].slug)
    site.timeout_delay = 30
    site.fail(site.article_path(site.articles[5]), "timeout")
    process = subprocess.Popen(
        [sys.executable, "-m", "wwc_archive", "crawl", "--db", db_path,
         "--start-url", server.url + site.hub_path, *FAST, "-s", "DOWNLOAD_TIMEOUT=60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not any(r.path == site.article_path(site.articles[5]) for r in server.requests[-40:]):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.1)
    time.sleep(2.5)  # past the writer's flush interval: some of the run is on disk
    process.send_signal(signal.SIGKILL)
    process.wait()
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    site.clear_failures()
    site.timeout_delay = 4
    crawl()
    db = sqlite_utils.Database(db_path)
    statuses = [row["status"] for row in db.query("select status from runs order by id")]
    assert statuses == ["complete", "interrupted", "complete"]
    removed = db.execute("select run_id from changes where change = 'removed'").fetchall()
    assert removed == [(3,)], "the removal is reported by the complete run only"


def test_sigterm_stops_gracefully_and_marks_the_run_interrupted(site, server, crawl, db_path):
    site.timeout_delay = 30
    site.fail(site.article_path(site.articles[3]), "timeout")
    process = subprocess.Popen(
        [sys.executable, "-m", "wwc_archive", "crawl", "--db", db_path,
         "--start-url", server.url + site.hub_path, *FAST, "-s", "DOWNLOAD_TIMEOUT=60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not any(r.path == site.article_path(site.articles[3]) for r in server.requests):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)  # Scrapy's second signal forces the stop
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1, err
    assert "interrupted" in out
    run = sqlite_utils.Database(db_path)["runs"].get(1)
    assert run["status"] == "interrupted" and run["removed"] == 0


def test_a_failing_archive_write_stops_the_crawl_and_the_run_is_not_complete(site, server, crawl, db_path):
    crawl()
    db = sqlite_utils.Database(db_path)
    # the unchanged re-crawl adds its fetches to the spans: the disk fills after two batches of five
    db.execute("create trigger disk_full before update on snapshots when "
               "(select count(*) from snapshots where last_run = 2) >= 10 begin select raise(abort, 'disk full'); end")
    db.close()
    result = crawl("-s", "WWC_BATCH_SIZE=5", check=False)
    assert result.returncode == 1
    run = sqlite_utils.Database(db_path)["runs"].get(2)
    assert run["status"] == "interrupted" and "disk full" in run["note"]
    assert run["removed"] == 0
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        assert conn.execute("select count(*) from snapshots where last_run = 2").fetchone()[0] == 10


def test_redirects_are_followed_in_scope_and_never_out_of_it(site, server, crawl, db_path):
    other_site = DemoSite(n_articles=2, seed=3)
    with DemoServer(other_site) as other:
        moved, escaped = site.articles[0], site.articles[1]
        site.redirects[site.article_path(moved)] = "/news/article/moved-here-1"
        site.redirects["/news/article/moved-here-1"] = site.article_path(site.articles[2])
        site.redirects[site.article_path(escaped)] = other.url + other_site.hub_path
        crawl()
        assert other.requests == [], "a redirect out of scope is never requested"
    db = sqlite_utils.Database(db_path)
    rows = {row["url"]: row for row in db.query(
        "select p.url, s.outcome, s.error, s.final_url from snapshots s join pages p on p.id = s.page_id")}
    followed = rows[server.url + site.article_path(moved)]
    assert followed["outcome"] == "ok" and followed["final_url"] == server.url + site.article_path(site.articles[2])
    blocked = rows[server.url + site.article_path(escaped)]
    assert blocked["outcome"] == "failed" and "redirected out of scope" in blocked["error"]


def test_pages_robots_txt_newly_forbids_are_failed_fetches_not_removals(site, server, crawl, db_path):
    crawl()
    site.robots_disallow.append("/people/")
    first_crawl_requests = len(server.requests)
    crawl()
    assert not any(r.path.startswith("/people/") for r in server.requests[first_crawl_requests:])
    assert changes_json(db_path)["changes"] == []
    db = sqlite_utils.Database(db_path)
    errors = [row["error"] for row in db.query(
        "select s.error from snapshots s join pages p on p.id = s.page_id "
        "where s.run_id = 2 and p.url like '%/people/%'")]
    assert errors and all("robots.txt" in error.lower() for error in errors)


def run_row(db_path, run_id):
    return sqlite_utils.Database(db_path)["runs"].get(run_id)


def hub_pages_requested(site, server, since=0):
    return [p for p in paths(server)[since:] if p.startswith(site.hub_path + "?page=")]


def test_a_pager_without_end_is_read_up_to_max_listing_pages(site, server, crawl, db_path):
    site.endless_pager = True
    result = crawl("-s", "WWC_MAX_LISTING_PAGES=5", timeout=60)
    assert result.returncode == 0
    run = run_row(db_path, 1)
    assert run["status"] == "complete"
    assert "max_listing_pages" in run["note"] and server.url + site.hub_path in run["note"]
    assert len(hub_pages_requested(site, server)) == 5
    assert server.url + site.article_path(site.published()[-1]) in archived_urls(db_path), "read as far as allowed"
    before = len(server.requests)
    crawl("-s", "WWC_MAX_LISTING_PAGES=5", timeout=60)
    assert len(hub_pages_requested(site, server, before)) == 5
    assert changes_json(db_path)["changes"] == [], "the same truncated listing is no change"


def test_the_wall_time_limit_ends_a_crawl_that_would_not_end_and_decides_no_removals(site, server, crawl, db_path):
    crawl()
    site.unpublish(site.articles[0].slug)
    site.endless_pager = True
    started = time.monotonic()
    result = crawl("-s", "WWC_MAX_LISTING_PAGES=0", "-s", "WWC_MAX_RUN_SECONDS=3", check=False, timeout=60)
    assert result.returncode == 1 and "interrupted" in result.stdout
    run = run_row(db_path, 2)
    assert run["status"] == "interrupted" and "max_run_seconds" in run["note"] and "no removals" in run["note"]
    assert run["removed"] == 0
    assert "removed" not in {c["change"] for c in changes_json(db_path)["changes"]}
    assert len(hub_pages_requested(site, server)) > 10, "the pager was followed until the time ran out"
    assert time.monotonic() - started < 30


def test_the_request_limit_stops_the_crawl_and_decides_no_removals(db_path):
    big = DemoSite(n_articles=60, per_page=5, seed=2)
    with DemoServer(big) as server:
        def crawl(*extra):
            return run_cli("crawl", "--db", db_path, "--start-url", server.url + big.hub_path, *FAST, *extra)

        crawl()
        full = len(server.requests)
        big.unpublish(big.articles[0].slug)
        result = crawl("-s", "WWC_MAX_REQUESTS=5")
        limited = len(server.requests) - full
    assert result.returncode == 1
    run = run_row(db_path, 2)
    assert run["status"] == "interrupted" and "max_requests" in run["note"]
    assert run["removed"] == 0
    assert "removed" not in {c["change"] for c in changes_json(db_path)["changes"]}
    # robots.txt, the five, and at most one concurrent batch already on the wire
    assert limited <= 1 + 5 + 16 < full
    db = sqlite_utils.Database(db_path)
    assert db.execute("select count(*) from pages where state = 'removed'").fetchone()[0] == 0


def test_only_the_first_max_links_per_page_links_of_a_page_are_followed(site, server, crawl, db_path):
    site.extra_links = [f"/partner/{i}" for i in range(40)]
    crawl("-s", "WWC_MAX_LINKS_PER_PAGE=10")
    followed = {p for p in paths(server) if p.startswith("/partner/")}
    assert followed == {f"/partner/{i}" for i in range(10)}, "the first ten, in document order"
    run = run_row(db_path, 1)
    assert run["status"] == "complete" and "max_links_per_page" in run["note"]
    crawl("-s", "WWC_MAX_LINKS_PER_PAGE=10")
    assert changes_json(db_path)["changes"] == []


def test_a_robots_txt_redirect_out_of_scope_is_never_followed(site, server, crawl, db_path):
    recorder = DemoSite(n_articles=1, seed=3)
    with DemoServer(recorder) as other:
        site.redirects["/robots.txt"] = other.url + "/robots.txt"
        crawl()
        assert other.requests == [], "no request left the crawl's origins"
    assert changes_json(db_path)["run"]["status"] == "complete"


@pytest.mark.parametrize("mode, error", [("gzip-oversized", "DOWNLOAD_MAXSIZE"),
                                         ("redirect-loop", "max redirections")])
def test_a_new_page_that_cannot_be_read_is_a_failed_fetch_not_dropped(site, server, crawl, db_path, mode, error):
    target = site.article_path(site.articles[2])
    site.fail(target, mode)
    site.robots_disallow.append("/people/")
    crawl()
    db = sqlite_utils.Database(db_path)
    rows = db.execute("select s.outcome, s.error from snapshots s join pages p on p.id = s.page_id "
                      "where p.url = ?", [server.url + target]).fetchall()
    assert len(rows) == 1 and rows[0][0] == "failed" and error in rows[0][1]
    assert server.url + target not in changes_by_url(db_path)
    assert not any("/people/" in url for url in archived_urls(db_path)), "new pages robots.txt forbids leave no record"


def test_a_link_given_twice_is_one_link():
    """Each URL once, in order (that this stays linear in the links: bench/scaling.py)."""
    html = "<main>" + "".join(f'<a href="/p/{i}">x</a><a href="/p/{i}#top">y</a>' for i in range(1000)) + "</main>"
    links = extract_page(html, "http://127.0.0.1/", SiteProfile()).links
    assert list(links) == [f"http://127.0.0.1/p/{i}" for i in range(1000)]


STORAGE_PARENT = """
import sqlite3, sys, time
from wwc_archive.archive import Archive, FetchRecord
from wwc_archive.config import SiteProfile
from wwc_archive.crawler.storage import StorageError, StorageProcess
db = sys.argv[1]
archive = Archive(db)
run_id = archive.start_run(["p"])
archive.db.execute("create trigger full before insert on snapshots begin select raise(abort, 'disk full'); end")
archive.close()
storage = StorageProcess(db, run_id, {"p": SiteProfile()}, batch_size=1, max_delay=0.2)
print(storage.pid, flush=True)
record = FetchRecord(url="http://127.0.0.1/", program="p", role="page", fetched_at="2026-11-27T00:00:00Z",
                     outcome="failed", error="x")
try:
    while True:  # until the storage process reports its failed write and waits for a stop
        storage.add(record)
        time.sleep(0.1)
except StorageError:
    print("failed", flush=True)
time.sleep(120)
"""


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_the_storage_process_does_not_outlive_a_killed_crawl(db_path):
    parent = subprocess.Popen([sys.executable, "-c", STORAGE_PARENT, db_path], stdout=subprocess.PIPE, text=True)
    storage_pid = int(parent.stdout.readline())
    assert parent.stdout.readline().strip() == "failed"
    parent.send_signal(signal.SIGKILL)  # the crawl dies before it can tell storage to stop
    parent.wait()
    deadline = time.monotonic() + 10
    while alive(storage_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(storage_pid), "an orphaned storage process holds the archive and its parent's pipes"
