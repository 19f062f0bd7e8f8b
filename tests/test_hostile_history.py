"""Backfill and WARC import against hostile replay services and hostile WARC files, all on 127.0.0.1.

Each test is a finding of the issue tracker: a server the test starts on
loopback (a Wayback-compatible CDX API and replay service whose answers it
scripts) or a WARC file it writes. The program's own site is
``http://127.0.0.1:9``, where nothing listens: a backfill never contacts it.
Commands run in a child process that reports its own peak RSS
(``getrusage``) and runs under a 3 GiB address-space limit, so a regression
fails the test instead of exhausting the machine.
"""

import functools
import hashlib
import io
import json
import os
import re
import sqlite3
import struct
import subprocess
import sys
import threading
import time
import zlib
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from wwc_archive.crawler.replay import WaybackSource
from wwc_archive.crawler.wayback import Capture, capture_problem, checked_timestamp, warc_timestamp

SITE = "http://127.0.0.1:9"
HUB = SITE + "/hub"
DAY1, DAY2 = "20240301030000", "20240302030000"
MB = 1024 * 1024
#: Generous bounds for a busy two-core machine: a CLI process with its imports is about 80 MB.
PEAK_MB = 250


# Measured commands -----------------------------------------------------------------

MEASURED = r"""
import atexit, os, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
def peak():  # this process's own high-water mark: getrusage's ru_maxrss keeps the parent's across exec on Linux
    with open("/proc/self/status") as status:
        hwm = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(os.environ["WWC_TEST_PEAK"], "w") as out:
        out.write(hwm)
atexit.register(peak)
from wwc_archive.cli import cli
cli(prog_name="wwc-archive")
"""


def run_measured(folder, *args, timeout: float) -> tuple[subprocess.CompletedProcess | None, float | None, float]:
    """``wwc-archive ARGS`` in a child process: (result, or None past ``timeout``; peak RSS in MB, or None; seconds)."""
    peak = folder / "peak-rss"
    peak.unlink(missing_ok=True)
    started = time.monotonic()
    try:
        result = subprocess.run([sys.executable, "-c", MEASURED, *map(str, args)], capture_output=True, text=True,
                                timeout=timeout, env={**os.environ, "WWC_TEST_PEAK": str(peak)})
    except subprocess.TimeoutExpired:
        result = None
    return result, int(peak.read_text()) / 1024 if peak.exists() else None, time.monotonic() - started


def measured(tmp_path, *args, timeout=30):
    """``wwc-archive ARGS`` in a child process: (result, its peak RSS in MB, seconds)."""
    result, peak_mb, seconds = run_measured(tmp_path, *args, timeout=timeout)
    if result is None:
        pytest.fail(f"wwc-archive {args[0]} did not end within {timeout} s")
    peak_mb = float("inf") if peak_mb is None else peak_mb
    print(f"wwc-archive {args[0]}: exit {result.returncode}, {seconds:.1f} s, peak RSS {peak_mb:.0f} MB")
    return result, peak_mb, seconds


def one_line(stderr: str, pattern: str) -> str:
    """The only stderr line matching ``pattern`` (and no traceback)."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if re.search(pattern, line)]
    assert len(lines) == 1, stderr
    return lines[0]


def query(db, sql, *params):
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql, params).fetchall()


def runs(db):
    return query(db, "select started, status, note from runs order by id")


def fetches(db):
    """``(url, run start, outcome, error)`` of every snapshot, oldest first."""
    return query(db, "select p.url, r.started, s.outcome, s.error from snapshots s join pages p on p.id = s.page_id "
                     "join runs r on r.id = s.run_id order by s.id")


def write_config(tmp_path, crawl: str = "", **backfill) -> str:
    """A config for the program at ``HUB``: ``crawl`` lines, and ``[backfill]`` options fast by default."""
    options = {"requests_per_second": 1000, "retries": 0, "timeout": 5, **backfill}
    path = tmp_path / "hostile.toml"
    path.write_text(f'[[program]]\nname = "hostile"\nstart_urls = ["{HUB}"]\n\n[crawl]\n{crawl}\n\n[backfill]\n'
                    + "".join(f"{name} = {value}\n" for name, value in options.items()))
    return str(path)


# Hostile servers --------------------------------------------------------------------


class Loopback:
    """A server on 127.0.0.1 whose every GET ``answer(handler)`` writes; keeps the paths asked for."""

    def __init__(self, answer):
        self.paths: list[str] = []
        self.stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.paths.append(self.path)
                try:
                    answer(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading, as it should

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def close(self):
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


def send(handler, status: int, body: bytes = b"", headers=(), content_type="text/html"):
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    for name, value in headers:
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def cdx_json(rows) -> bytes:
    """The Internet Archive's JSON shape: ``rows`` of (timestamp, url, status)."""
    fields = ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]
    lines = [fields] + [["k", ts, url, "text/html", str(status), hashlib.sha1(f"{ts}{url}".encode()).hexdigest(), "1"]
                        for ts, url, status in rows]
    return json.dumps(lines).encode()


class Wayback(Loopback):
    """A Wayback-compatible service: ``cdx(handler, url)`` answers ``/cdx``, ``memento(handler, ts, url)`` ``/web``."""

    def __init__(self, cdx, memento=None):
        def answer(handler):
            parts = urlsplit(handler.path)
            if parts.path == "/cdx":
                return cdx(handler, parse_qs(parts.query)["url"][0])
            found = re.fullmatch(r"/web/(\d+)id_/(.+)", handler.path)
            if found and memento:
                return memento(handler, *found.groups())
            send(handler, 404)

        super().__init__(answer)

    def args(self, db):
        return ("--db", db, "--cdx-api", self.url + "/cdx", "--replay", self.url + "/web")


def html(title: str, links=(), text: str = "") -> bytes:
    anchors = "".join(f'<a href="{link}">{link}</a> ' for link in links)
    return (f"<html><head><title>{title}</title></head><body><main><h1>{title}</h1><p>{text or title} has "
            f"words enough to read.</p><p>{anchors}</p></main></body></html>").encode()


@pytest.fixture
def servers():
    """Start servers with ``servers(server)``; all are closed after the test."""
    started = []
    yield lambda server: started.append(server) or server
    for server in started:
        server.close()


@functools.cache
def gzip_of_zeros(mib: int) -> bytes:
    """One gzip member of ``mib`` MiB of zeros (about 1 KB a MiB), built without compressing them all.

    Once its window is all zeros, deflate writes the same bytes for every
    further MiB of zeros, so the member is its first MiB, that steady MiB
    repeated, and the end.
    """
    zeros = bytes(MB)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflate.compress(zeros) + deflate.flush(zlib.Z_SYNC_FLUSH)
    steady = deflate.compress(zeros) + deflate.flush(zlib.Z_SYNC_FLUSH)
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(zeros, crc)
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + first + steady * (mib - 1) + deflate.flush()
            + struct.pack("<II", crc, (mib * MB) & 0xFFFFFFFF))


def test_the_gzip_of_zeros_is_what_it_claims():
    assert zlib.decompress(gzip_of_zeros(5), 31) == bytes(5 * MB)


# Backfill ---------------------------------------------------------------------------


@pytest.mark.parametrize("answer", [b"<html>maintenance</html>", b"5\n", b'[["timestamp"], 7]'],
                         ids=["html", "a-number-per-line", "a-row-not-a-list"])
def test_a_cdx_answer_that_is_not_cdx_json_is_a_one_line_error(tmp_path, servers, answer):
    wayback = servers(Wayback(lambda handler, url: send(handler, 200, answer)))
    db = tmp_path / "a.db"
    result, _, _ = measured(tmp_path, "backfill", "--config", write_config(tmp_path), *wayback.args(db))
    assert result.returncode == 1
    assert "not a CDX JSON answer" in one_line(result.stderr, "Error")
    assert query(db, "select count(*) from runs") == [(0,)]


def test_a_redirect_off_the_replay_service_is_a_failed_fetch_and_never_followed(tmp_path, servers):
    secret = servers(Loopback(lambda handler: send(handler, 200, html("Internal secret page"))))

    def memento(handler, timestamp, url):
        if timestamp == DAY1:  # the service's own capture of the same page: followed
            send(handler, 302, headers=[("Location", f"/web/20240301030005id_/{HUB}")])
        elif timestamp == "20240301030005":
            send(handler, 200, html("Program hub"))
        else:
            send(handler, 302, headers=[("Location", secret.url + "/secret")])

    wayback = servers(Wayback(lambda handler, url: send(handler, 200, cdx_json([(DAY1, HUB, 200), (DAY2, HUB, 200)])),
                              memento))
    db = tmp_path / "a.db"
    result, _, _ = measured(tmp_path, "backfill", "--config", write_config(tmp_path), *wayback.args(db))
    assert result.returncode == 0, result.stderr
    assert secret.paths == []
    (_, _, ok, _), (_, _, failed, error) = fetches(db)
    assert ok == "ok" and failed == "failed"
    assert "redirected to" in error and "/secret" in error and "not followed" in error


def test_a_gzip_bomb_or_an_oversized_memento_is_a_failed_fetch_in_bounded_memory(tmp_path, servers):
    bomb = gzip_of_zeros(2048)  # 2 MB that decompress to 2 GiB

    def memento(handler, timestamp, url):
        if url == HUB:
            return send(handler, 200, html("Program hub", ["/bomb", "/huge"]))
        if url.endswith("/bomb"):
            return send(handler, 200, bomb, headers=[("Content-Encoding", "gzip")])
        handler.send_response(200)  # 200 MB, sent as long as it is read
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(200 * MB))
        handler.end_headers()
        for _ in range(200):
            handler.wfile.write(b"a" * MB)

    wayback = servers(Wayback(lambda handler, url: send(handler, 200, cdx_json([(DAY1, url, 200)])), memento))
    db = tmp_path / "a.db"
    result, peak, seconds = measured(tmp_path, "backfill", "--config", write_config(tmp_path), *wayback.args(db))
    assert result.returncode == 0, result.stderr
    outcomes = {url: (outcome, error) for url, _, outcome, error in fetches(db)}
    for page in ("/bomb", "/huge"):
        outcome, error = outcomes[SITE + page]
        assert outcome == "failed" and "larger than max_size (10,485,760 bytes after decompression)" in error
    assert query(db, "select max(size) from bodies")[0][0] < MB
    assert peak < PEAK_MB and seconds < 20


def endless_cdx(servers):
    """A Wayback whose CDX answer never ends: a megabyte of rows after another until it is stopped."""
    row = json.dumps(["k", DAY1, HUB, "text/html", "200", "X" * 32, "1"]).encode() + b",\n"
    rows = row * (MB // len(row))

    def endless(handler, url):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.end_headers()
        handler.wfile.write(b'[["urlkey","timestamp","original","mimetype","statuscode","digest","length"],\n')
        while not wayback.stop.is_set():
            handler.wfile.write(rows)

    wayback = servers(Wayback(endless))
    return wayback


def test_an_endless_cdx_answer_stops_at_its_cap_in_bounded_memory(tmp_path, servers):
    wayback = endless_cdx(servers)
    db = tmp_path / "a.db"
    result, peak, seconds = measured(tmp_path, "backfill", "--config", write_config(tmp_path), *wayback.args(db))
    assert result.returncode == 1
    assert "larger than 32 MB" in one_line(result.stderr, "Error")
    assert query(db, "select count(*) from runs") == [(0,)]
    assert peak < PEAK_MB + 100 and seconds < 20


def trickle_body(handler, url):
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.end_headers()
    while True:
        handler.wfile.write(b" ")
        time.sleep(0.1)


def trickle_headers(handler, url):
    handler.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    while True:
        handler.wfile.write(b"a")
        time.sleep(0.1)


@pytest.mark.parametrize("trickle", [trickle_body, trickle_headers], ids=["body", "headers"])
def test_an_answer_sent_a_byte_at_a_time_is_cut_at_the_whole_answer_deadline(tmp_path, servers, trickle):
    wayback = servers(Wayback(trickle))
    result, _, seconds = measured(tmp_path, "backfill", "--config", write_config(tmp_path, timeout=1),
                                  *wayback.args(tmp_path / "a.db"))
    assert result.returncode == 1
    assert "no whole answer within 1 s ([backfill] timeout)" in one_line(result.stderr, "Error")
    assert seconds < 10


def test_a_retry_after_beyond_max_retry_after_stops_the_backfill_in_one_line(tmp_path, servers):
    wayback = servers(Wayback(lambda handler, url: send(handler, 429, headers=[("Retry-After", "21600")])))
    db = tmp_path / "a.db"
    result, _, seconds = measured(tmp_path, "backfill", "--config", write_config(tmp_path, retries=5),
                                  *wayback.args(db))
    assert result.returncode == 1 and seconds < 10
    line = one_line(result.stderr, "Error")
    assert "asks to wait 21,600 s (Retry-After), more than [backfill] max_retry_after (300 s)" in line
    assert len(wayback.paths) == 1
    assert query(db, "select count(*) from runs where status = 'running'") == [(0,)]


def test_a_retry_after_within_the_maximum_is_waited_for_with_a_line(servers):
    def cdx(handler, url):
        if len(wayback.paths) == 1:
            return send(handler, 429, headers=[("Retry-After", "7")])
        send(handler, 200, cdx_json([(DAY1, HUB, 200)]))

    wayback = servers(Wayback(cdx))
    lines, slept = [], []
    source = WaybackSource(wayback.url + "/cdx", wayback.url + "/web", "test", requests_per_second=1000,
                           echo=lines.append, sleep=slept.append)
    assert [c.timestamp for c in source.captures(HUB)] == [DAY1]
    assert lines == [f"Waiting 7 s before asking {wayback.url[7:]} again: it answered 429 (Retry-After: 7 s)"]
    assert 7 in slept


def hub_of_hubs(handler, timestamp, url):
    """A hub linking 60 pages, each linking 60 PDFs."""
    path = urlsplit(url).path
    if path == "/hub":
        return send(handler, 200, html("Program hub", [f"/p{i}" for i in range(60)]))
    if path.endswith(".pdf"):
        return send(handler, 200, b"%PDF-1.4 " + path.encode(), content_type="application/pdf")
    send(handler, 200, html(f"Page {path}", [f"{path}/doc{j}.pdf" for j in range(60)]))


@pytest.mark.parametrize("crawl, limit", [("max_requests = 50", "after 50 requests (max_requests)"),
                                          ("max_run_seconds = 1", "after 1 seconds (max_run_seconds)")],
                         ids=["max_requests", "max_run_seconds"])
def test_the_crawl_limits_end_a_backfill_with_its_run_interrupted(tmp_path, servers, crawl, limit):
    def cdx(handler, url):
        time.sleep(0.005)  # 7,322 requests would take a minute
        send(handler, 200, cdx_json([(DAY1, url, 200)]))

    wayback = servers(Wayback(cdx, hub_of_hubs))
    db = tmp_path / "a.db"
    result, _, seconds = measured(tmp_path, "backfill", "--config", write_config(tmp_path, crawl=crawl),
                                  *wayback.args(db))
    assert result.returncode == 1, result.stderr
    assert limit in one_line(result.stderr, "^Stopped: ")
    [(_, status, note)] = runs(db)
    assert status == "interrupted" and limit in note and "no removals were decided" in note
    assert len(wayback.paths) <= 50 if "requests" in crawl else seconds < 10


def test_malformed_future_and_offsite_cdx_rows_are_skipped_and_counted(tmp_path, servers):
    rows = [("abcdefghijklmn", HUB, 200), ("2024", HUB, 200), ("99990101000000", HUB, 200), (DAY1, HUB, 200),
            (DAY2, "http://127.0.0.1:10/hub", 200), ("20240303030000", "ftp://127.0.0.1:9/hub", 200),
            ("20240304030000", "http://evil.example/hub", 200), ("20240305030000", HUB, 999)]
    wayback = servers(Wayback(lambda handler, url: send(handler, 200, cdx_json(rows)),
                              lambda handler, timestamp, url: send(handler, 200, html("Program hub"))))
    db = tmp_path / "a.db"
    result, _, _ = measured(tmp_path, "backfill", "--config", write_config(tmp_path), *wayback.args(db))
    assert result.returncode == 0, result.stderr
    line = one_line(result.stderr, "Skipped")
    assert line.startswith("Skipped 7 CDX rows: 3 with a malformed or impossible timestamp (first: 'abcdefghijklmn'")
    assert "3 naming another scheme, host or port" in line and "1 with an impossible HTTP status" in line
    assert [(started, status) for started, status, _ in runs(db)] == [("2024-03-01T03:00:00Z", "complete")]
    assert [path for path in wayback.paths if "id_/" in path] == [f"/web/{DAY1}id_/{HUB}"]


@pytest.mark.parametrize("row, problem", [
    ((DAY1, HUB), None),
    ((DAY1, "https://127.0.0.1:9/hub"), "naming another"),  # another scheme on the same port
    ((DAY1, "http://127.0.0.1:9/other"), None),  # the CDX API matches paths by its own canonical form
    (("abcdefghijklmn", HUB), "timestamp"),
    (("2024", HUB), "timestamp"),
    (("99990101000000", HUB), "timestamp"),
    (("20240230000000", HUB), "timestamp"),
    ((DAY1, "http://127.0.0.1:10/hub"), "naming another"),
    ((DAY1, "ftp://127.0.0.1:9/hub"), "naming another"),
    ((DAY1, "javascript:alert(1)"), "naming another"),
], ids=["good", "https-on-port-9", "other-path", "letters", "year-only", "year-9999", "feb-30", "other-port",
        "ftp", "javascript"])
def test_which_cdx_rows_are_captures_of_the_url_asked_for(row, problem):
    found = capture_problem(Capture(*row), HUB)
    assert (found is None) if problem is None else (problem in found)


def test_http_and_https_captures_of_one_host_are_the_same_pages():
    # The Wayback Machine's own index answers a query for either scheme with both.
    page = "https://datasmart.hks.harvard.edu/what-works-cities"
    assert capture_problem(Capture(DAY1, "http://datasmart.hks.harvard.edu/what-works-cities"), page) is None
    assert capture_problem(Capture(DAY1, "http://datasmart.hks.harvard.edu:443/x"), page) is not None


@pytest.mark.parametrize("value, expected", [
    ("2024-03-01T03:00:00Z", DAY1), ("2024-03-01T03:00:00.123456Z", DAY1), ("garbage", None),
    ("2024-03-01T03:00:00", None), ("9999-03-01T03:00:00Z", None), ("2024-02-30T03:00:00Z", None), (None, None)])
def test_warc_dates(value, expected):
    assert warc_timestamp(value) == expected
    assert checked_timestamp(DAY1) == DAY1


# WARC import ------------------------------------------------------------------------


def warc_record(writer, url, body: bytes, date="2024-03-01T03:00:00Z", headers=(("Content-Type", "text/html"),)):
    http = StatusAndHeaders("200 OK", list(headers) + [("Content-Length", str(len(body)))], protocol="HTTP/1.1")
    record = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http,
                                       warc_headers_dict={"WARC-Date": date})
    writer.write_record(record)
    return record


def random_page(title: str, size: int = 80_000) -> bytes:
    """A page that does not compress, so a cut lands inside it."""
    words = hashlib.shake_256(title.encode()).hexdigest(size // 2)
    return html(title, text=" ".join(words[i:i + 9] for i in range(0, len(words), 9)))


def import_warc(tmp_path, db, *files, crawl=""):
    return measured(tmp_path, "import-warc", "--config", write_config(tmp_path, crawl=crawl), "--db", db, *files)


def hub_days(db):
    return [(started, outcome) for url, started, outcome, _ in fetches(db) if url == HUB]


@pytest.mark.parametrize("damage", ["cut-in-half", "declares-500-MB"])
def test_a_cut_or_overlong_warc_record_is_skipped_and_counted(tmp_path, damage):
    path = tmp_path / ("hub.warc.gz" if damage == "cut-in-half" else "hub.warc")
    with open(path, "wb") as stream:
        writer = WARCWriter(stream, gzip=damage == "cut-in-half")
        warc_record(writer, HUB, random_page("Program hub"))
        second = stream.tell()
        warc_record(writer, HUB, random_page("Program hub, edited"), date="2024-03-02T03:00:00Z")
    data = path.read_bytes()
    if damage == "cut-in-half":
        data = data[:second + (len(data) - second) // 2]
    else:
        declared = re.search(rb"Content-Length: (\d+)\r\n", data[second:]).group(0)
        data = data[:second] + data[second:].replace(declared, b"Content-Length: 524288000\r\n", 1)
    path.write_bytes(data)
    db = tmp_path / "a.db"
    result, _, _ = import_warc(tmp_path, db, path)
    assert result.returncode == 0, result.stderr
    line = one_line(result.stderr, "Skipped .* damaged")
    assert "1 whose bytes disagree with their Content-Length (cut short or overlong)" in line
    assert hub_days(db) == [("2024-03-01T03:00:00Z", "ok")]


def test_a_gzip_of_zeros_posing_as_a_warc_is_refused_quickly_and_the_archive_left_as_it_was(tmp_path):
    good = tmp_path / "good.warc.gz"
    with open(good, "wb") as stream:
        warc_record(WARCWriter(stream, gzip=True), HUB, html("Program hub"))
    db = tmp_path / "a.db"
    assert import_warc(tmp_path, db, good)[0].returncode == 0
    before = db.read_bytes()
    zeros = tmp_path / "zeros.warc.gz"
    zeros.write_bytes(gzip_of_zeros(1024))  # 1 MB that decompresses to 1 GiB, with no line end
    result, peak, seconds = import_warc(tmp_path, db, zeros)
    assert result.returncode == 2
    assert "is not a readable WARC file: a line longer than 1,048,576 bytes" in one_line(result.stderr, "Error")
    assert db.read_bytes() == before
    assert peak < PEAK_MB and seconds < 10


def test_a_small_warc_holding_a_2_gib_gzip_body_is_skipped_in_bounded_memory(tmp_path):
    path = tmp_path / "bomb.warc.gz"
    with open(path, "wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        warc_record(writer, HUB, html("Program hub"))
        warc_record(writer, HUB, gzip_of_zeros(2048), date="2024-03-02T03:00:00Z",
                    headers=[("Content-Type", "text/html"), ("Content-Encoding", "gzip")])
    assert path.stat().st_size < 16 * 1024
    db = tmp_path / "a.db"
    result, peak, seconds = import_warc(tmp_path, db, path)
    assert result.returncode == 0, result.stderr
    assert "1 whose body is larger than max_size" in one_line(result.stderr, "Skipped .* damaged")
    assert hub_days(db) == [("2024-03-01T03:00:00Z", "ok")]
    assert peak < PEAK_MB and seconds < 10


@pytest.mark.parametrize("damage, reason", [
    ("warc-date", "1 with a malformed or impossible WARC-Date (first: 'yesterday-ish'"),
    ("not-brotli", "1 whose body does not decode"),
    ("bad-status", "1 with a malformed HTTP status line"),
], ids=["warc-date", "not-brotli", "bad-status"])
def test_a_garbage_warc_date_status_or_encoding_is_skipped_and_counted(tmp_path, damage, reason):
    path = tmp_path / "hub.warc.gz"
    with open(path, "wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        warc_record(writer, HUB, html("Program hub"))
        if damage == "warc-date":
            warc_record(writer, HUB, html("Program hub, edited"), date="yesterday-ish")
        elif damage == "not-brotli":
            warc_record(writer, HUB, b"not brotli at all, just words " * 20, date="2024-03-02T03:00:00Z",
                        headers=[("Content-Type", "text/html"), ("Content-Encoding", "br")])
        else:
            http = StatusAndHeaders("OK ABC", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(HUB, "response", payload=io.BytesIO(b"<p>x</p>"),
                                                          http_headers=http,
                                                          warc_headers_dict={"WARC-Date": "2024-03-02T03:00:00Z"}))
    db = tmp_path / "a.db"
    result, _, _ = import_warc(tmp_path, db, path)
    assert result.returncode == 0, result.stderr
    assert reason in one_line(result.stderr, "Skipped .* damaged")
    assert hub_days(db) == [("2024-03-01T03:00:00Z", "ok")]
    assert [status for _, status, _ in runs(db)] == ["complete"]


@pytest.mark.parametrize("link", ["digest", "record-id"])
def test_a_revisit_resolves_only_to_a_response_in_scope(tmp_path, link):
    path = tmp_path / "revisit.warc.gz"
    with open(path, "wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        warc_record(writer, HUB, html("Program hub"))
        offsite = warc_record(writer, "http://127.0.0.1:7/offsite", html("Another site's secret"),
                              date="2024-03-02T02:00:00Z")
        digest = offsite.rec_headers.get_header("WARC-Payload-Digest")
        extra = {"WARC-Date": "2024-03-02T03:00:00Z"}
        if link == "record-id":
            extra["WARC-Refers-To"] = offsite.rec_headers.get_header("WARC-Record-ID")
        writer.write_record(writer.create_revisit_record(HUB, digest, HUB, "2024-03-02T02:59:00Z",
                                                         warc_headers_dict=extra))
    db = tmp_path / "a.db"
    result, _, _ = import_warc(tmp_path, db, path)
    assert result.returncode == 0, result.stderr
    assert "1 revisits of another site's record" in one_line(result.stderr, "Skipped .* damaged")
    assert hub_days(db) == [("2024-03-01T03:00:00Z", "ok")]


def test_max_requests_ends_an_import_with_its_run_interrupted(tmp_path):
    path = tmp_path / "site.warc.gz"
    with open(path, "wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        warc_record(writer, HUB, html("Program hub", [f"/p{i}" for i in range(60)]))
        for i in range(60):
            warc_record(writer, f"{SITE}/p{i}", html(f"Page {i}"))
    db = tmp_path / "a.db"
    result, _, _ = import_warc(tmp_path, db, path, crawl="max_requests = 10")
    assert result.returncode == 1, result.stderr
    assert "after 10 requests (max_requests)" in one_line(result.stderr, "^Stopped: ")
    [(_, status, note)] = runs(db)
    assert status == "interrupted" and "max_requests" in note
    assert len(fetches(db)) == 10
