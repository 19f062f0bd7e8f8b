"""How fast an archive answers: the pages people open and the CLI commands they run.

    python bench/decade_probe.py ARCHIVE [--runs 5] [--timeout 60]

Starts ``wwc-archive serve`` on ARCHIVE (a child process on a free loopback
port) and prints the warm median latency of the plugin's pages, each canned
query of the Datasette metadata with realistic parameters, and the snapshots
table with its facets; then the median wall time of ``report``, ``changes``
and ``runs``, and of a crawl's start-up work: opening the archive as a crawl
does and loading what it knows (the pages to revisit with their validators,
and each page's latest body and content for the run's writer), without
starting a run. Each row is requested once to warm up, then ``--runs`` times; a
request slower than ``--timeout`` seconds is shown as "> 60 s" and not
repeated. The IDs come from read-only SQL; a row whose lookup fails (the
schema changed) is shown as "n/a".
"""

import argparse
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import date, timedelta
from urllib.parse import quote, urlencode

DB = "/wwc-archive"
SEARCH_WORD = "Tulsa"  # a city named in many teasers and articles: matches most versions


# What to probe ---------------------------------------------------------------------


def lookups(path: str) -> dict:
    """The IDs and URLs the probes need; a failed lookup leaves its key out."""
    found = {}
    queries = {
        "hub": "select url, id from pages where role = 'program' order by id limit 1",
        "article": "select p.url from pages p join changes c on c.page_id = p.id "
                   "where p.role = 'page' and c.change = 'changed' "
                   "group by p.id order by count(*) desc, p.id limit 1",
        "hub_snapshot": "select max(s.id) from snapshots s join pages p on p.id = s.page_id "
                        "where p.role = 'program' and s.outcome = 'ok'",
        "hub_change": "select c.old_snapshot, c.new_snapshot, c.run_id from changes c "
                      "join pages p on p.id = c.page_id where p.role = 'program' and c.change = 'changed' "
                      "order by c.id desc limit 1",
        "latest_run": "select max(id) from runs",
        "hub_first_snapshot": "select min(s.id) from snapshots s join pages p on p.id = s.page_id "
                              "where p.role = 'program' and s.content_id is not null",
        "latest_day": "select substr(max(started), 1, 10) from runs",
    }
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        for key, sql in queries.items():
            try:
                row = conn.execute(sql).fetchone()
            except sqlite3.Error:
                continue
            if row is not None and row[0] is not None:
                found[key] = row
    return found


def http_probes(ids: dict) -> list[tuple]:
    """(label, path) pairs, or (label, path, headers); path None when its IDs could not be found."""
    hub = ids.get("hub", [None])[0]
    article = ids.get("article", [None])[0]
    change = ids.get("hub_change")
    day = ids.get("latest_day", [None])[0]
    month_ago = (date.fromisoformat(day) - timedelta(days=30)).isoformat() if day else None
    half_year_ago = day and (date.fromisoformat(day) - timedelta(days=180)).strftime("%a, %d %b %Y 12:00:00 GMT")

    def when(ok, path):
        return path if ok else None

    def query(name, **params):
        return f"{DB}/{name}" + (f"?{urlencode(params)}" if params else "")

    us_day = day and date.fromisoformat(day).strftime("%m/%d/%Y")  # a date as people type it
    return [
        ("start page", "/"),
        ("database page (hidden tables)", DB),
        ("table: changes (summaries in words)", f"{DB}/changes"),
        ("compare form → diff: hub", when(change, change and f"/-/wwc/compare?old={change[0]}&new={change[1]}")),
        ("diff, reversed (swap note): hub", when(change, change and f"/-/wwc/diff/{change[1]}/{change[0]}")),
        ("query: changes_between (typed dates)", when(day, query("changes_between", start_date=us_day or "",
                                                                 end_date=us_day or ""))),
        ("query: page_history (URL + slash)", when(hub, query("page_history", url=(hub or "") + "/"))),
        ("page history: hub", when(hub, f"/-/wwc/page?url={quote(hub or '', safe='')}")),
        ("page history: article", when(article, f"/-/wwc/page?url={quote(article or '', safe='')}")),
        ("snapshot: latest hub", when("hub_snapshot" in ids, f"/-/wwc/snapshot/{ids.get('hub_snapshot', [0])[0]}")),
        ("diff: latest hub change", when(change, change and f"/-/wwc/diff/{change[0]}/{change[1]}")),
        ("run report: latest run", when("latest_run" in ids, f"/-/wwc/run/{ids.get('latest_run', [0])[0]}/report")),
        ("run report: hub-change night", when(change, change and f"/-/wwc/run/{change[2]}/report")),
        ("Atom feed", "/-/wwc/changes.atom"),
        (f"query: search '{SEARCH_WORD}'", query("search", q=SEARCH_WORD)),
        ("query: page_history (hub)", when(hub, query("page_history", url=hub or ""))),
        ("query: latest_changes", query("latest_changes")),
        ("query: changes_between (30 days)", when(day, query("changes_between", start_date=month_ago or "",
                                                              end_date=day or ""))),
        ("query: pages_added_per_month", query("pages_added_per_month")),
        ("query: failed_fetches_last_run", query("failed_fetches_last_run")),
        ("table: snapshots, with facets", f"{DB}/snapshots"),
        ("Memento TimeMap (link): hub", when(hub, f"/-/wwc/timemap/link/{hub}")),
        ("Memento TimeMap (JSON): article", when(article, f"/-/wwc/timemap/json/{article}")),
        # The TimeGate's 302 is followed: the time a Memento client waits for the memento.
        ("Memento TimeGate → memento: hub", when(hub and day, f"/-/wwc/timegate/{hub}"),
         {"Accept-Datetime": half_year_ago or ""}),
        ("memento: first hub version", when("hub_first_snapshot" in ids,
                                            f"/-/wwc/snapshot/{ids.get('hub_first_snapshot', [0])[0]}")),
        ("memento: first hub version, raw", when("hub_first_snapshot" in ids,
                                                 f"/-/wwc/snapshot/{ids.get('hub_first_snapshot', [0])[0]}/raw")),
        ("view as archived: latest hub (frame)", when("hub_snapshot" in ids,
                                                      f"/-/wwc/view/{ids.get('hub_snapshot', [0])[0]}")),
        ("view as archived: latest hub (page)", when("hub_snapshot" in ids,
                                                     f"/-/wwc/view/{ids.get('hub_snapshot', [0])[0]}/page")),
    ]


def cli_probes(ids: dict) -> list[tuple[str, list[str] | None]]:
    latest = ids.get("latest_run", [None])[0]
    change_run = ids.get("hub_change", [None, None, None])[2]
    rows = []
    for label, run in (("latest run", latest), ("hub-change night", change_run)):
        for command in ("report", "changes"):
            rows.append((f"{command}: {label}", None if run is None else [command, "--run", str(run)]))
    rows.append(("runs", ["runs"]))
    return rows


# Measuring -------------------------------------------------------------------------


STARTUP = """
import sys, time
started = time.perf_counter()
from wwc_archive.archive import Archive
archive = Archive(sys.argv[1])
programs = [row[0] for row in archive.db.execute("select distinct program from pages")]
known = archive.known_pages(programs)
writer = archive.writer(0)
print(time.perf_counter() - started, len(known))
archive.close()
"""


def crawl_startup(db: str, timeout: float) -> tuple[float, int]:
    """Seconds a crawl spends opening the archive and loading what it knows (imports excluded)."""
    done = subprocess.run([sys.executable, "-c", STARTUP, db], capture_output=True, text=True, timeout=timeout)
    if done.returncode:
        return 0.0, 500
    return float(done.stdout.split()[0]), 200


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str, timeout: float, headers: dict | None = None) -> tuple[float, int]:
    """(seconds, HTTP status) of one GET (redirects followed), reading the whole answer."""
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=timeout) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        error.read()
        status = error.code
    return time.perf_counter() - start, status


def run_cli(db: str, args: list[str], timeout: float) -> tuple[float, int]:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "wwc_archive", *args, "--db", db],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout)
    return time.perf_counter() - start, result.returncode


def median_of(measure, runs: int, timeout: float) -> str:
    """The warm median of ``measure()`` as a table cell."""
    times = []
    for attempt in range(runs + 1):
        try:
            seconds, status = measure()
        except (TimeoutError, subprocess.TimeoutExpired):
            return f"> {timeout:g} s"
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                return f"> {timeout:g} s"
            return f"error: {error.reason}"
        except OSError as error:
            return f"error: {error}"
        if seconds > timeout:
            return f"> {timeout:g} s"
        if status not in (0, 200):
            return f"status {status} ({seconds * 1000:,.0f} ms)"
        if attempt:  # the first request only warms up
            times.append(seconds)
    return f"{statistics.median(times) * 1000:>10,.0f} ms"


class Server:
    """``wwc-archive serve`` on ARCHIVE, in a child process on a free loopback port."""

    def __init__(self, archive: str):
        self.archive = archive
        self.start()

    def start(self) -> None:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen([sys.executable, "-m", "wwc_archive", "serve", "--db", self.archive,
                                         "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"error: wwc-archive serve exited with status {self.process.returncode}")
            try:
                fetch(self.base + "/-/versions.json", timeout=5)
                return
            except OSError:
                time.sleep(0.5)
        self.stop()
        sys.exit("error: wwc-archive serve did not answer within 300 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # busy with a slow request: it would finish it first
            self.process.kill()
            self.process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("archive", help="the archive to probe (opened read-only)")
    parser.add_argument("--runs", type=int, default=5, help="measured runs per row, after one warm-up (default 5)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds before a request counts as too slow")
    args = parser.parse_args()
    if args.runs < 1 or args.timeout <= 0:
        sys.exit("error: --runs must be at least 1 and --timeout positive")
    try:
        ids = lookups(args.archive)
    except sqlite3.Error as error:
        sys.exit(f"error: cannot read {args.archive}: {error}")
    server = Server(args.archive)
    try:
        print(f"{args.archive}: warm medians of {args.runs} runs (after one warm-up)\n")
        print(f"{'request':<38} {'median':>14}  path")
        for label, path, *headers in http_probes(ids):  # a third item: the request's headers
            cell = "n/a" if path is None else median_of(lambda: fetch(server.base + path, args.timeout, *headers),
                                                        args.runs, args.timeout)
            print(f"{label:<38} {cell:>14}  {path or ''}", flush=True)
            if cell.startswith(">"):
                server.restart()  # it is still working on the slow request: the next row starts afresh
    finally:
        server.stop()
    print(f"\n{'command (wall time, new process)':<38} {'median':>14}")
    for label, command in cli_probes(ids):
        cell = "n/a" if command is None else median_of(lambda: run_cli(args.archive, command, args.timeout),
                                                       args.runs, args.timeout)
        print(f"{label:<38} {cell:>14}  {' '.join(['wwc-archive', *command]) if command else ''}", flush=True)
    cell = median_of(lambda: crawl_startup(args.archive, args.timeout), args.runs, args.timeout)
    print(f"{'crawl start-up (loading what it knows)':<38} {cell:>14}")


if __name__ == "__main__":
    main()
