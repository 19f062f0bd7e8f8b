"""Backfill and import-warc against a hostile Wayback and a hostile WARC set: peak memory and time per case.

Each case runs ``wwc-archive backfill`` or ``import-warc`` in a child process
(under a 3 GiB address-space limit) that reports its own peak RSS; the hostile
servers and files are those of ``tests/test_hostile_history.py``, all on
127.0.0.1:

- backfill: a 2 MB memento that gunzips to 2 GiB and a 200 MB memento; a CDX
  answer sent a byte every 0.1 s; an endless CDX answer; a memento that
  redirects to another local server; a hub of 60 pages of 60 PDFs under
  ``max_requests = 50``;
- import-warc: a ``.warc.gz`` cut in half; a record declaring 500 MB in an
  85 KB file; 1 MB of gzipped zeros posing as a WARC; a 4 KB WARC whose HTTP
  body gunzips to 2 GiB.

    python bench/hostile_history.py

Prints one line per case (exit status, wall time, peak RSS, what the command
said) and the totals; exits 1 if a case ended otherwise than expected.
"""

import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' hostile servers and files

from warcio.warcwriter import WARCWriter

from tests.test_hostile_history import (
    DAY1, HUB, MB, Loopback, Wayback, cdx_json, endless_cdx, gzip_of_zeros, html, hub_of_hubs, random_page,
    run_measured, send, trickle_body, warc_record, write_config,
)


def run(folder: Path, *args, timeout: float = 120) -> tuple[int, float, float, str]:
    """``wwc-archive ARGS``: (exit status, seconds, peak RSS in MB, its last stderr line)."""
    result, peak_mb, seconds = run_measured(folder, *args, timeout=timeout)
    if result is None:
        status, said = -1, f"did not end within {timeout:.0f} s"
    else:
        status = result.returncode
        said = (result.stderr.strip().splitlines() or result.stdout.strip().splitlines() or [""])[-1]
    return status, seconds, float("nan") if peak_mb is None else peak_mb, said


# Backfill cases: (name, expected exit, servers to start, config options) -> the Wayback ---------------------


def bomb_and_huge(servers):
    bomb = gzip_of_zeros(2048)

    def memento(handler, timestamp, url):
        if url == HUB:
            return send(handler, 200, html("Program hub", ["/bomb", "/huge"]))
        if url.endswith("/bomb"):
            return send(handler, 200, bomb, headers=[("Content-Encoding", "gzip")])
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(200 * MB))
        handler.end_headers()
        for _ in range(200):
            handler.wfile.write(b"a" * MB)

    return servers(Wayback(lambda handler, url: send(handler, 200, cdx_json([(DAY1, url, 200)])), memento))


def slow_drip(servers):
    return servers(Wayback(trickle_body))


def redirect_off_scope(servers):
    secret = servers(Loopback(lambda handler: send(handler, 200, html("Internal secret page"))))
    return servers(Wayback(lambda handler, url: send(handler, 200, cdx_json([(DAY1, HUB, 200)])),
                           lambda handler, ts, url: send(handler, 302, headers=[("Location", secret.url + "/s")])))


def request_cap(servers):
    return servers(Wayback(lambda handler, url: send(handler, 200, cdx_json([(DAY1, url, 200)])), hub_of_hubs))


BACKFILL = [
    ("gzip bomb + 200 MB memento", 0, bomb_and_huge, "", {}),
    ("slow drip CDX (1 B / 0.1 s)", 1, slow_drip, "", {"timeout": 1}),
    ("endless CDX answer", 1, endless_cdx, "", {}),
    ("redirect off the replay host", 0, redirect_off_scope, "", {}),
    ("60x60 hub, max_requests = 50", 1, request_cap, "max_requests = 50", {}),
]


# WARC cases: (name, expected exit, builder(path)) -------------------------------------------------------


def two_records(path: Path, gzip: bool) -> int:
    with open(path, "wb") as stream:
        writer = WARCWriter(stream, gzip=gzip)
        warc_record(writer, HUB, random_page("Program hub"))
        second = stream.tell()
        warc_record(writer, HUB, random_page("Program hub, edited"), date="2024-03-02T03:00:00Z")
    return second


def truncated(path: Path) -> Path:
    path = path.with_suffix(".warc.gz")
    second = two_records(path, gzip=True)
    data = path.read_bytes()
    path.write_bytes(data[:second + (len(data) - second) // 2])
    return path


def lying_length(path: Path) -> Path:
    path = path.with_suffix(".warc")
    second = two_records(path, gzip=False)
    data = path.read_bytes()
    declared = re.search(rb"Content-Length: (\d+)\r\n", data[second:]).group(0)
    path.write_bytes(data[:second] + data[second:].replace(declared, b"Content-Length: 524288000\r\n", 1))
    return path


def zeros(path: Path) -> Path:
    path = path.with_suffix(".warc.gz")
    path.write_bytes(gzip_of_zeros(1024))
    return path


def body_bomb(path: Path) -> Path:
    path = path.with_suffix(".warc.gz")
    with open(path, "wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        warc_record(writer, HUB, html("Program hub"))
        warc_record(writer, HUB, gzip_of_zeros(2048), date="2024-03-02T03:00:00Z",
                    headers=[("Content-Type", "text/html"), ("Content-Encoding", "gzip")])
    return path


WARCS = [
    ("WARC cut in half", 0, truncated),
    ("record declaring 500 MB", 0, lying_length),
    ("1 GiB of gzipped zeros as a WARC", 2, zeros),
    ("2 GiB gzip body in a 4 KB WARC", 0, body_bomb),
]


def main() -> int:
    rows, total_seconds, worst_peak, misses = [], 0.0, 0.0, 0
    with tempfile.TemporaryDirectory(prefix="wwc-hostile-") as scratch:
        folder = Path(scratch)
        for name, expected, start, crawl, options in BACKFILL:
            started: list = []
            try:
                wayback = start(lambda server, started=started: started.append(server) or server)
                db = folder / f"backfill-{len(rows)}.db"
                outcome = run(folder, "backfill", "--config", write_config(folder, crawl=crawl, **options),
                              *wayback.args(db))
            finally:
                for server in started:
                    server.close()
            rows.append(("backfill", name, expected, *outcome))
        for name, expected, build in WARCS:
            path = build(folder / f"hostile-{len(rows)}")
            db = folder / f"import-{len(rows)}.db"
            rows.append(("import-warc", name, expected, *run(folder, "import-warc", "--config",
                                                             write_config(folder), "--db", db, path)))
    print(f"{'command':<12} {'case':<34} {'exit':>4} {'seconds':>8} {'peak MB':>8}  said")
    for command, name, expected, status, seconds, peak, said in rows:
        miss = status != expected
        misses += miss
        total_seconds += seconds
        worst_peak = max(worst_peak, peak)
        print(f"{command:<12} {name:<34} {status:>4} {seconds:>8.1f} {peak:>8.0f}  {said[:100]}"
              + (f"  (expected exit {expected})" if miss else ""))
    print(f"{len(rows)} cases: {total_seconds:.1f} s in all, the highest peak RSS {worst_peak:.0f} MB"
          + (f"; {misses} ended otherwise than expected" if misses else ""))
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
