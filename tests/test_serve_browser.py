"""``wwc-archive serve`` as a real process, looked at in headless Chromium."""

import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from urllib.parse import quote

import lxml.html
import pytest
from wwc_archive.archive import Archive, Extracted, FetchRecord
from wwc_archive.archive.canned import canned_queries
from wwc_archive.reports import links

from tests.cdp import Browser
from tests.helpers import free_port, serving

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HOSTILE_TEXT = "Before <script>document.title='pwned'</script> after"
HOSTILE_BODY = (b"<html><head><title>Hostile page</title><script>document.title='pwned'</script></head>"
                b"<body><p>archived</p></body></html>")


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "wwc_archive", *map(str, args)],
                          capture_output=True, text=True, timeout=60)






def chromium(tmp_path, url, *extra) -> str:
    """The DOM of ``url`` after Chromium has run the page's scripts."""
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'chromium-profile'}", *extra, url],
        capture_output=True, text=True, timeout=90,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def write_hostile_run(db_path, url) -> int:
    """A run that archived a page whose text and body carry a script; returns its snapshot id."""
    archive = Archive(db_path)
    run_id = archive.start_run(["what-works-cities"])
    writer = archive.writer(run_id)
    writer.add(FetchRecord(
        url=url, program="what-works-cities", role="page", fetched_at="2030-01-15T03:00:00Z", outcome="ok",
        http_status=200, headers={"content-type": "text/html"}, body=HOSTILE_BODY, content_type="text/html",
        extracted=Extracted(title="Hostile page", text=HOSTILE_TEXT),
    ))
    writer.flush()
    archive.finish_run(run_id, "complete")
    snapshot_id = archive.db.execute(
        "select s.id from snapshots s join pages p on p.id = s.page_id where p.url = ?", [url]).fetchone()[0]
    archive.close()
    return snapshot_id


def test_served_archive_in_a_browser(edited_archive, tmp_path):
    """History and diff pages render in Chromium; a run written while serving shows up; no archived script runs."""
    assert os.path.exists(CHROMIUM), "needs Debian's chromium: apt-get install chromium"
    path = edited_archive.path
    with sqlite3.connect(path) as conn:
        edited = conn.execute(
            "select c.old_snapshot, c.new_snapshot from changes c join pages p on p.id = c.page_id "
            "where p.url = ? and c.change = 'changed'", [edited_archive.edited_url]).fetchone()
        hub = conn.execute(
            "select c.old_snapshot, c.new_snapshot from changes c join pages p on p.id = c.page_id "
            "where p.url = ? and c.change = 'changed'", [edited_archive.base_url + edited_archive.site.hub_path]
        ).fetchone()
    hostile_url = edited_archive.base_url + "/hostile"
    with serving(path) as base:
        history = lxml.html.fromstring(chromium(
            tmp_path, base + "/-/wwc/page?url=" + quote(edited_archive.edited_url, safe=""), "--dump-dom"))
        assert history.xpath("string(//h1)").startswith("History: ")
        assert [a.text_content() for a in history.xpath("//table[contains(@class, 'wwc-history')]//td[1]/a")] == [
            f"#{edited[1]}", f"#{edited[0]}"]

        diff_url = f"{base}/-/wwc/diff/{edited[0]}/{edited[1]}"
        diff = lxml.html.fromstring(chromium(tmp_path, diff_url, "--dump-dom"))
        assert edited_archive.new_phrase in " ".join(diff.xpath("//div[contains(@class, 'wwc-diff')]//ins/text()"))
        assert edited_archive.old_phrase in " ".join(diff.xpath("//div[contains(@class, 'wwc-diff')]//del/text()"))
        screenshot = tmp_path / "diff.png"
        chromium(tmp_path, diff_url, f"--screenshot={screenshot}", "--window-size=1200,900")
        assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 20_000

        # The hub's change is told as items: the new article entered, the unpublished one left.
        listing_diff = lxml.html.fromstring(chromium(tmp_path, f"{base}/-/wwc/diff/{hub[0]}/{hub[1]}", "--dump-dom"))
        assert listing_diff.xpath("string(//ul[contains(@class, 'wwc-items-entered')]//a)") == \
            "Tulsa opens its permit data to residents"
        assert listing_diff.xpath("//ul[contains(@class, 'wwc-items-left')]//a/@href") == [
            "/-/wwc/page?url=" + quote(edited_archive.removed_url, safe="")]
        assert not listing_diff.xpath("//h2[.='Text']"), "no word diff of the whole listing"

        # A crawl finishes while the archive is served: no restart needed to see it.
        snapshot_id = write_hostile_run(path, hostile_url)
        page = lxml.html.fromstring(chromium(
            tmp_path, base + "/-/wwc/page?url=" + quote(hostile_url, safe=""), "--dump-dom"))
        assert page.xpath("//table[contains(@class, 'wwc-history')]//td[1]/a/@href") == [
            f"/-/wwc/snapshot/{snapshot_id}"]

        snapshot = lxml.html.fromstring(chromium(tmp_path, f"{base}/-/wwc/snapshot/{snapshot_id}", "--dump-dom"))
        assert "<script>document.title='pwned'</script>" in snapshot.xpath("string(//div[@class='wwc-text'])")
        assert snapshot.xpath("string(//title)") != "pwned"
        assert not [s for s in snapshot.xpath("//script") if "pwned" in (s.text or "")]

        # The raw body is the archived page itself, shown as text: nothing in it runs or loads.
        raw = lxml.html.fromstring(chromium(tmp_path, f"{base}/-/wwc/snapshot/{snapshot_id}/raw", "--dump-dom"))
        assert raw.xpath("string(//pre)") == HOSTILE_BODY.decode()
        assert raw.xpath("string(//title)") != "pwned"


def test_serve_fails_clearly_without_an_archive(tmp_path):
    result = run_cli("serve", "--db", tmp_path / "missing.db", "--port", free_port())
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"Error: no archive at {tmp_path / 'missing.db'}: run `wwc-archive crawl` first or pass --db"]


def test_serve_fails_clearly_when_the_port_is_taken(edited_archive):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("serve", "--db", edited_archive.path, "--port", port)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"Error: cannot listen on 127.0.0.1:{port}: Address already in use"]


ERROR_MARKS = ("//p[contains(@class, 'message-error')]", "//h1[starts-with(., 'Error')]")


def test_no_page_opened_without_parameters_shows_an_error(edited_archive, tmp_path):
    """Every canned query and every /-/wwc/ page that takes parameters, opened bare in Chromium."""
    pages = [f"/wwc-archive/{name}" for name in canned_queries(links.diff_sql)]
    pages += [links.history(), links.report("latest"), "/wwc-archive", "/", "/wwc-archive/search"]
    browser = Browser(tmp_path / "chromium-profile")  # one browser, a tab a page
    try:
        with serving(edited_archive.path) as base:
            trees = {}
            for path in pages:
                session = browser.open(base + path, settle=0)
                trees[path] = lxml.html.fromstring(browser.evaluate(session, "document.documentElement.outerHTML"))
                errors = [e.text_content().strip() for mark in ERROR_MARKS for e in trees[path].xpath(mark)]
                assert errors == [], f"{path}: {errors}"
    finally:
        browser.close()
    search = trees["/wwc-archive/search"]
    assert search.xpath("//form//input[@name='q']") and "a phrase" in search.text_content()
    assert trees[links.history()].xpath("//form//input[@name='url']")


def write_unrelated_versions(db_path, url, words=20000) -> tuple[int, int]:
    """Two snapshots of one page whose texts share no order: the slowest diff there is."""
    vocabulary = [f"w{i}" for i in range(2000)]
    texts = [" ".join(random.Random(seed).choice(vocabulary) for _ in range(words)) for seed in (1, 2)]
    ids = []
    for n, text in enumerate(texts):
        archive = Archive(db_path)
        run_id = archive.start_run(["what-works-cities"])
        writer = archive.writer(run_id)
        writer.add(FetchRecord(url=url, program="what-works-cities", role="page", fetched_at=f"2030-01-1{n}T03:00:00Z",
                               outcome="ok", http_status=200, body=text.encode(), content_type="text/html",
                               extracted=Extracted(title="Big", text=text)))
        writer.flush()
        archive.finish_run(run_id, "complete")
        ids.append(archive.db.execute("select max(id) from snapshots").fetchone()[0])
        archive.close()
    with sqlite3.connect(db_path) as conn:  # an arbitrary pair: nothing recorded, diffed live
        conn.execute("update changes set edits = null")
    return ids[0], ids[1]


def test_a_slow_page_does_not_hold_up_others_and_sigterm_stops_serve(edited_archive):
    old, new = write_unrelated_versions(edited_archive.path, edited_archive.base_url + "/big")
    finished = {}

    def get(name, path):
        urllib.request.urlopen(base + path, timeout=60).read()
        finished[name] = time.monotonic()

    processes = []
    with serving(edited_archive.path, process_out=processes) as base:
        heavy = threading.Thread(target=get, args=("heavy", links.diff(old, new)))
        heavy.start()
        time.sleep(0.3)
        get("cheap", links.snapshot(old, ".json"))
        heavy.join()
        assert finished["cheap"] < finished["heavy"]

        # SIGTERM while a slow diff is being computed: serve stops promptly.
        threading.Thread(target=lambda: _quietly(get, "again", links.diff(old, new)), daemon=True).start()
        time.sleep(0.3)
        sent = time.monotonic()
        processes[0].send_signal(signal.SIGTERM)
        processes[0].wait(timeout=15)
        assert time.monotonic() - sent < 10


def _quietly(fn, *args):
    try:
        fn(*args)
    except OSError:
        pass


def test_memory_stays_bounded_when_a_query_asks_for_a_huge_string(edited_archive):
    processes = []
    sql = quote("select printf('%.*c', 300000000, 'x') as big")
    with serving(edited_archive.path, process_out=processes) as base:
        urllib.request.urlopen(f"{base}/wwc-archive.json?sql={sql}", timeout=60).read()
        with open(f"/proc/{processes[0].pid}/status") as status:
            peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    assert peak_kb < 300_000 / 2, f"serve peaked at {peak_kb // 1024} MB"


def test_serve_warns_when_listening_beyond_localhost(edited_archive):
    processes = []
    with serving(edited_archive.path, "--host", "0.0.0.0", process_out=processes):
        pass
    assert "Warning: listening on 0.0.0.0" in processes[0].stderr_text


def test_serve_no_sql_refuses_arbitrary_sql(edited_archive):
    with serving(edited_archive.path, "--no-sql") as base:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base + "/wwc-archive.json?sql=" + quote("select 1"), timeout=30)
        assert refused.value.code == 403
        assert urllib.request.urlopen(base + "/wwc-archive/latest_changes.json", timeout=30).status == 200
