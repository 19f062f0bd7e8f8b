"""Backfill from a local pywb serving captures written with historical dates, and WARC import.

The captures are the demo site's own answers (noise and all) on four days: the
first capture of everything, a noise-only recapture with one byte-identical
page, a new article and an edit, then a 503 and a 404. A counting proxy in
front of pywb shows what the backfill asked for.
"""

import io
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tests.conftest import FAST, changes_json, run_cli
from wwc_archive.demo_site import DemoServer, DemoSite

DAYS = ["2024-03-01", "2024-03-02", "2024-03-03", "2024-03-04"]
REASONS = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}


class Captures:
    """Writes the demo site's answers as WARC responses dated on a chosen day."""

    def __init__(self, path: Path, site: DemoSite, host: str):
        self.stream = open(path, "wb")
        self.writer = WARCWriter(self.stream, gzip=True)
        self.site, self.host = site, host
        self.last: dict[str, tuple] = {}

    def paths(self) -> list[str]:
        hub = self.site.hub_path
        return ([hub] + [f"{hub}?page={n}" for n in range(1, self.site.hub_page_count)]
                + [self.site.article_path(a) for a in self.site.articles]
                + [f"/people/{p.slug}" for p in self.site.people] + list(self.site.documents))

    def day(self, day: str, identical: tuple[str, ...] = ()) -> None:
        for second, path in enumerate(self.paths()):
            if path in identical:
                status, headers, body = self.last[path]
            else:
                answer = self.site.handle("GET", path, {"host": self.host})
                status, body = answer.status, answer.body
                headers = [(k, v) for k, v in answer.headers if k.lower() != "content-length"]
                headers.append(("Content-Length", str(len(body))))
                self.last[path] = (status, headers, body)
            http = StatusAndHeaders(f"{status} {REASONS.get(status, 'Other')}", headers, protocol="HTTP/1.1")
            when = f"{day}T03:{second // 60:02d}:{second % 60:02d}Z"
            record = self.writer.create_warc_record(f"http://{self.host}{path}", "response",
                                                    payload=io.BytesIO(body), http_headers=http,
                                                    warc_headers_dict={"WARC-Date": when})
            self.writer.write_record(record)

    def close(self):
        self.stream.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_pywb(root: Path, warc: Path):
    bin_dir = Path(os.environ.get("WWC_PYWB_BIN") or Path(__file__).parent.parent / ".venv-pywb" / "bin")
    if not (bin_dir / "wayback").exists():
        if os.environ.get("WWC_PYWB_BIN"):
            pytest.fail(f"WWC_PYWB_BIN={bin_dir} has no pywb")
        pytest.skip("pywb is not installed: `make test` installs it in .venv-pywb")
    for args in (("init", "wwc"), ("add", "wwc", warc)):
        result = subprocess.run([bin_dir / "wb-manager", *map(str, args)], cwd=root, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    port = free_port()
    process = subprocess.Popen([bin_dir / "wayback", "-b", "127.0.0.1", "-p", str(port)], cwd=root,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(base + "/", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    process.terminate()
    pytest.fail("pywb did not start")


class CountingProxy:
    """Forwards every GET to pywb and keeps the paths asked for."""

    def __init__(self, upstream: str):
        self.paths: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                proxy.paths.append(self.path)
                answer = httpx.get(upstream + self.path, timeout=30)
                self.send_response(answer.status_code)
                for name, value in answer.headers.multi_items():
                    if name.lower() not in ("content-length", "transfer-encoding", "content-encoding",
                                            "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def counts(db):
    with sqlite3.connect(db) as conn:
        return {table: conn.execute(f"select count(*) from {table}").fetchone()[0]
                for table in ("runs", "snapshots", "changes", "pages")}


def day_changes(db):
    """``{day: {(change, url)}}`` over every run, by the day of its start."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("select substr(r.started, 1, 10), c.change, p.url from changes c "
                            "join runs r on r.id = c.run_id join pages p on p.id = c.page_id").fetchall()
    found = {}
    for day, change, url in rows:
        found.setdefault(day, set()).add((change, url))
    return found


def kill_and_resume(folder: Path, start: str, proxy: str) -> dict:
    """A slower backfill killed (SIGKILL) once its first day is written, then run again."""
    config = folder / "slow.toml"
    config.write_text("[[program]]\nname = \"demo\"\nstart_urls = [\"%s\"]\n\n"
                      "[backfill]\nrequests_per_second = 15\n" % start)
    db = str(folder / "killed.db")
    args = ["backfill", "--db", db, "--config", str(config), "--cdx-api", proxy + "/wwc/cdx", "--replay",
            proxy + "/wwc"]
    process = subprocess.Popen([sys.executable, "-m", "wwc_archive", *args], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    written = 0
    for _ in range(600):
        time.sleep(0.05)
        if os.path.exists(db):
            with sqlite3.connect(db) as conn:
                try:
                    written = conn.execute("select count(*) from runs where status = 'complete'").fetchone()[0]
                except sqlite3.OperationalError:
                    continue
            if written:
                break
    process.kill()
    process.wait(timeout=10)
    resumed = run_cli(*args, check=True)
    return {"db": db, "written_before_kill": written, "resumed": resumed.stdout}


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    folder = tmp_path_factory.mktemp("backfill")
    site = DemoSite(n_articles=5, per_page=3, seed=7, special_pages=False)
    with DemoServer(site) as server:
        base = server.url
        host = base.removeprefix("http://")
        published = site.hub_listing()
        same, edited, failing, removed = (a.slug for a in published[:4])
        captures = Captures(folder / "captures.warc.gz", site, host)
        captures.day(DAYS[0])
        captures.day(DAYS[1], identical=(site.article_path(same),))  # noise differs, except on one page
        new = site.publish_article("Tulsa opens its permit data", ["Tulsa published every permit since 2012."])
        old = " ".join(site.article(edited).paragraphs[0].split()[2:5])
        site.edit_article(edited, old, "relaunched its zebra-striped open-data portal")
        captures.day(DAYS[2])
        site.fail(site.article_path(failing), 503, times=1)
        site.unpublish(removed)
        captures.day(DAYS[3])
        captures.close()

        process, pywb = start_pywb(folder, folder / "captures.warc.gz")
        proxy = CountingProxy(pywb)
        config = folder / "wwc.toml"
        config.write_text('[[program]]\nname = "demo"\nstart_urls = ["%s%s"]\n\n'
                          "[backfill]\nrequests_per_second = 200\n" % (base, site.hub_path))
        db = str(folder / "archive.db")
        args = ("backfill", "--db", db, "--config", config, "--cdx-api", proxy.url + "/wwc/cdx",
                "--replay", proxy.url + "/wwc")
        try:
            started = time.monotonic()
            first = run_cli(*args, check=True)
            seconds = time.monotonic() - started
            first_paths, proxy.paths = proxy.paths, []
            after_first = counts(db)
            history = day_changes(db)
            runs = json.loads(run_cli("runs", "--db", db, "--format", "json", check=True).stdout)
            second = run_cli(*args, check=True)
            second_paths, proxy.paths = proxy.paths, []
            after_second = counts(db)
            killed = kill_and_resume(folder, base + site.hub_path, proxy.url)
        finally:
            proxy.close()
            process.terminate()
            process.wait(timeout=10)
        crawl = run_cli("crawl", "--db", db, "--start-url", base + site.hub_path, *FAST, check=True)
        live = changes_json(db)
    url = base.__add__
    return {
        "db": db, "folder": folder, "config": config, "first": first, "second": second, "seconds": seconds,
        "first_paths": first_paths, "second_paths": second_paths, "after_first": after_first,
        "after_second": after_second, "history": history, "killed": killed, "runs": runs, "crawl": crawl, "live": live,
        "hub": url(site.hub_path), "same": url(site.article_path(same)), "edited": url(site.article_path(edited)),
        "failing": url(site.article_path(failing)), "removed": url(site.article_path(removed)),
        "new": url(site.article_path(new)), "new_author": url(f"/people/{new.author}"),
        "removed_author": url(f"/people/{site.article(removed).author}"),
        "documents": [url(path) for path in site.documents],
    }


def test_each_change_is_recorded_on_its_capture_day_and_nothing_else(history):
    days = history["history"]
    assert sorted(days) == [DAYS[0], DAYS[2], DAYS[3]]  # the noise-only day changed nothing
    assert {change for change, _ in days[DAYS[0]]} == {"added"}
    assert {history["hub"], history["same"], history["edited"], history["removed"], *history["documents"]} <= \
        {url for _, url in days[DAYS[0]]}
    assert days[DAYS[2]] == {("added", history["new"]), ("changed", history["edited"]),
                             ("changed", history["hub"]), ("changed", history["new_author"])}
    # The 503 capture is a failed fetch, not a removal; the 404 capture is one.
    assert days[DAYS[3]] == {("removed", history["removed"]), ("changed", history["hub"]),
                             ("changed", history["removed_author"])}


def test_one_complete_backfill_run_per_capture_day_in_date_order(history):
    runs = sorted(history["runs"], key=lambda run: run["id"])
    assert [run["started"][:10] for run in runs] == DAYS
    assert {run["trigger"] for run in runs} == {"backfill"} and {run["status"] for run in runs} == {"complete"}
    assert runs[0]["started"] == f"{DAYS[0]}T03:00:00Z"  # the day's first capture
    assert [run["pages_failed"] for run in runs] == [0, 0, 0, 1]


def test_changes_show_the_capture_time_and_cite_the_memento(history):
    run = next(r for r in history["runs"] if r["started"].startswith(DAYS[2]))
    changes = changes_json(history["db"], run["id"])["changes"]
    edited = next(c for c in changes if c["url"] == history["edited"])
    assert edited["detected_at"].startswith(DAYS[2] + "T03:")
    with sqlite3.connect(history["db"]) as conn:
        source, memento = conn.execute("select source, memento_url from snapshots where id = ?",
                                       [edited["new_snapshot"]]).fetchone()
    stamp = edited["detected_at"].replace("-", "").replace(":", "").replace("T", "").rstrip("Z")
    assert source == "wayback" and memento.endswith(f"/wwc/{stamp}/{history['edited']}")


def test_an_identical_capture_is_not_fetched_again(history):
    fetched = [path for path in history["first_paths"] if "id_/" in path]
    day2 = DAYS[1].replace("-", "")
    assert any(path.endswith("id_/" + history["same"]) for path in fetched)  # its first capture was read
    assert not any(f"/{day2}" in path and path.endswith("id_/" + history["same"]) for path in fetched)
    for document in history["documents"]:  # the same bytes every day: read once
        assert sum(path.endswith("id_/" + document) for path in fetched) == 1
    # 503 and 404 captures are known from the CDX line: nothing to fetch.
    assert not any(f"/{DAYS[3].replace('-', '')}" in path and path.endswith(("id_/" + history["failing"],
                                                                              "id_/" + history["removed"]))
                   for path in fetched)


def test_a_second_backfill_adds_and_fetches_nothing(history):
    assert history["after_second"] == history["after_first"]
    assert not any("id_/" in path for path in history["second_paths"])
    assert "4 already in the archive, 0 written" in history["second"].stdout


def test_the_next_live_crawl_compares_with_the_latest_capture(history):
    assert history["live"]["changes"] == [], history["live"]["changes"]
    assert history["live"]["run"]["status"] == "complete"
    print(f"backfill of the fixture: {history['seconds']:.1f} s")


def test_a_backfill_after_a_crawl_is_refused_in_one_line(history):
    result = run_cli("backfill", "--db", history["db"], "--config", history["config"], "--cdx-api",
                     "http://127.0.0.1:9/cdx", "--replay", "http://127.0.0.1:9")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "already has crawls" in result.stderr


def test_import_warc_of_an_export_rebuilds_the_same_history(history, tmp_path):
    run_cli("export-warc", "--db", history["db"], "--all", "--output", tmp_path / "export", check=True)
    other = tmp_path / "other.warc.gz"
    with open(other, "wb") as stream:  # another site's capture: not this archive's
        writer = WARCWriter(stream, gzip=True)
        writer.write_record(writer.create_warc_record(
            "https://example.org/elsewhere", "response", payload=io.BytesIO(b"<p>elsewhere</p>"),
            http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-Date": "2024-03-02T10:00:00Z"}))
    db = str(tmp_path / "imported.db")
    result = run_cli("import-warc", "--db", db, "--start-url", history["hub"], tmp_path / "export.warc.gz", other,
                     check=True)
    assert "Skipped 1 of " in result.stdout
    assert day_changes(db) == day_changes(history["db"])
    with sqlite3.connect(db) as conn:
        assert {row[0] for row in conn.execute("select distinct source from snapshots")} == {"warc"}
        assert {row[0] for row in conn.execute("select distinct trigger from runs")} == {"backfill"}


@pytest.mark.parametrize("args, message", [
    (("--since", "2024-13-01"), "--since must be a date"),
    (("--since", "2024-03-04", "--until", "2024-03-01"), "is after --until"),
    (("--cdx-api", "ftp://example.org/cdx"), "--cdx-api must be an http(s) URL"),
])
def test_bad_backfill_input_is_a_one_line_error(tmp_path, args, message):
    result = run_cli("backfill", "--db", tmp_path / "a.db", *args)
    assert result.returncode == 2 and result.stderr.strip().count("\n") == 0 and message in result.stderr


def test_a_missing_warc_file_is_a_one_line_error(tmp_path):
    result = run_cli("import-warc", "--db", tmp_path / "a.db", tmp_path / "none.warc.gz")
    assert result.returncode == 2 and result.stderr.strip().count("\n") == 0 and "none.warc.gz" in result.stderr


def test_reports_feed_and_datasette_say_the_history_came_from_the_wayback_machine(history, tmp_path):
    from tests.test_datasette import get

    run = next(r for r in history["runs"] if r["started"].startswith(DAYS[2]))
    change = next(c for c in changes_json(history["db"], run["id"])["changes"] if c["url"] == history["edited"])
    with sqlite3.connect(history["db"]) as conn:
        (memento,) = conn.execute("select memento_url from snapshots where id = ?", [change["new_snapshot"]]).fetchone()
    run_cli("report", "--db", history["db"], "--run", run["id"], "--format", "html", "-o", tmp_path / "r.html",
            check=True)
    report = (tmp_path / "r.html").read_text()
    assert "Captured by the Wayback Machine" in report and f'href="{memento}"' in report
    for fmt in ("text", "markdown"):
        text = run_cli("report", "--db", history["db"], "--run", run["id"], "--format", fmt, check=True).stdout
        assert f"Captured by the Wayback Machine: {memento}" in text or f"Wayback Machine: <{memento}>" in text
    feed = get(history["db"], "/-/wwc/changes.atom").text
    assert "Captured by the Wayback Machine" in feed and memento in feed
    page = get(history["db"], f"/-/wwc/snapshot/{change['new_snapshot']}").text
    assert "the Wayback Machine" in page and f'href="{memento}"' in page
    live = history["live"]["run"]["id"]
    with sqlite3.connect(history["db"]) as conn:  # the live crawl's fetches are the crawler's own
        (crawled,) = conn.execute("select max(id) from snapshots where run_id = ?", [live]).fetchone()
    assert "Captured by" not in get(history["db"], f"/-/wwc/snapshot/{crawled}").text


def test_the_client_waits_as_retry_after_says_and_names_the_contact():
    from wwc_archive.crawler.replay import RateLimiter, WaybackSource

    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append((time.monotonic(), self.headers["User-Agent"]))
            busy = len(seen) == 1
            self.send_response(429 if busy else 200)
            body = b"" if busy else b'[["timestamp","original","statuscode","digest"]]'
            if busy:
                self.send_header("Retry-After", "1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        source = WaybackSource(f"http://127.0.0.1:{server.server_port}/cdx", "http://127.0.0.1:9/web",
                               "wwc-archive/0.1.0 (+mailto:me@example.org; test)", requests_per_second=100)
        assert source.captures("http://example.org/") == []
    finally:
        server.shutdown()
        server.server_close()
    assert len(seen) == 2 and seen[1][0] - seen[0][0] >= 1  # Retry-After: 1 second
    assert all("me@example.org" in agent for _, agent in seen)
    # The rate: evenly spaced calls, on a clock the test moves itself.
    now, slept = [0.0], []
    limiter = RateLimiter(0.5, clock=lambda: now[0], sleep=lambda s: (slept.append(s), now.__setitem__(0, now[0] + s)))
    for _ in range(3):
        limiter.wait()
    assert slept == [2.0, 2.0]


def test_a_killed_backfill_resumes_without_duplicates(history):
    killed = history["killed"]
    assert 1 <= killed["written_before_kill"] < len(DAYS)
    assert f"{killed['written_before_kill']} already in the archive" in killed["resumed"]
    assert counts(killed["db"]) == history["after_first"]
    assert day_changes(killed["db"]) == history["history"]
