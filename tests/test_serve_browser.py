"""``wwc-archive serve`` as a real process, looked at in headless Chromium."""

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from urllib.parse import quote

import lxml.html
from wwc_archive.archive import Archive, Extracted, FetchRecord

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HOSTILE_TEXT = "Before <script>document.title='pwned'</script> after"
HOSTILE_BODY = (b"<html><head><title>Hostile page</title><script>document.title='pwned'</script></head>"
                b"<body><p>archived</p></body></html>")


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "wwc_archive", *map(str, args)],
                          capture_output=True, text=True, timeout=60)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(db_path):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "wwc_archive", "serve", "--db", db_path, "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/-/versions.json", timeout=2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    raise AssertionError(f"serve did not start: {process.communicate()[1][-2000:]}")
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


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

        # The raw body is the archived page itself, scripts included, but the sandbox keeps them from running.
        raw = lxml.html.fromstring(chromium(tmp_path, f"{base}/-/wwc/snapshot/{snapshot_id}/raw", "--dump-dom"))
        assert raw.xpath("string(//title)") == "Hostile page"


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
