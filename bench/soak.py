"""A season of nights: nightly crawls of a local site that is edited, broken and killed.

Each night is a seeded random mix of real edits (edited paragraphs, new titles,
new articles, deletions, articles delisted from the hub) and faults (5xx,
connection resets, responses slower than the download timeout, truncated
bodies, a redirect loop, pages over the size cap, gzipped or not, robots.txt
briefly disallowing a section, a full disk, a reader holding a read
transaction open on the archive). A page with a fault is never edited the same
night, so what the archive should report is well defined. On ``--kills``
nights the crawl is killed with SIGKILL at a random moment and the night
retried; so is a night whose disk filled up.

The simulator keeps its own truth and compares it with what ``wwc-archive
changes --format json`` reports for each run: every real edit reported exactly
once, on its night; no fault reported as a change; every version of every
article in the page's history; an archive that passes an integrity check; a
WAL file that stays bounded. Exits 1 on any miss or false alarm.

    python bench/soak.py [--nights 90] [--kills 10] [--seed 0]

The archive lives on a small tmpfs in a private mount namespace (``unshare``),
so the full disk is a real ENOSPC; where that is not allowed, a SQLite trigger
raising "database or disk is full" stands in (the summary says which).
"""

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict

from sqlite_utils import Database

from wwc_archive.archive import queries
from wwc_archive.archive.formats import texts
from wwc_archive.demo_site import DemoServer, DemoSite

CRAWL_SETTINGS = {  # tests/conftest.py FAST, a shorter timeout, small batches so a kill lands mid-run
    "AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_DELAY": "0", "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16", "RETRY_TIMES": "1", "DOWNLOAD_TIMEOUT": "2", "WWC_BATCH_SIZE": "5",
}
PAGE_FAULTS = ("503", "500", "reset", "timeout", "truncate", "redirect-loop", "oversized", "gzip-oversized")
NAMESPACE_FLAG = "WWC_SOAK_IN_NAMESPACE"
TMPFS_SIZE = "96m"


# --- running the CLI -------------------------------------------------------------------

def cli(*args, check=True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "wwc_archive", *map(str, args)], capture_output=True, text=True)
    if check and result.returncode != 0:
        sys.exit(f"wwc-archive {' '.join(map(str, args))} exited {result.returncode}:\n{result.stderr}")
    return result


def crawl_command(db: str, start_url: str) -> list[str]:
    command = [sys.executable, "-m", "wwc_archive", "crawl", "--db", db, "--start-url", start_url]
    for name, value in CRAWL_SETTINGS.items():
        command += ["-s", f"{name}={value}"]
    return command


def run_ids(db: str) -> list[int]:
    """Every run id, oldest first (from ``wwc-archive runs``)."""
    lines = cli("runs", "--db", db).stdout.splitlines()
    return sorted(int(line.split()[0]) for line in lines if line.strip())


def run_changes(db: str, run_id: int) -> dict:
    return json.loads(cli("changes", "--db", db, "--run", run_id, "--format", "json").stdout)


# --- what the server publishes -------------------------------------------------------

class Truth:
    """The visible content of every tracked page, night by night, as the simulator knows it."""

    def __init__(self, site: DemoSite, base: str):
        self.site, self.base = site, base
        self.previous: dict[str, tuple] = {}
        self.versions: dict[str, list[tuple]] = defaultdict(list)  # article url -> [(title, paragraphs)]

    def signatures(self) -> dict[str, tuple]:
        """url -> what a reader of that page sees, for the hub, live articles and people."""
        site, base = self.site, self.base
        found = {base + site.hub_path: tuple((a.slug, a.title, a.summary, a.author, a.published)
                                             for a in site.hub_listing())}
        for article in site.articles:
            if article.status == 200:
                found[base + site.article_path(article)] = (article.title, article.author, article.published,
                                                            tuple(article.paragraphs), tuple(article.links))
        for person in site.people:
            found[base + "/people/" + person.slug] = (person.bio, tuple(
                (site.article_path(a), a.title, a.published) for a in site.published() if a.author == person.slug))
        return found

    def expected(self) -> set[tuple[str, str]]:
        """The changes tonight's edits make visible: (url, kind); remembers tonight's state."""
        now = self.signatures()
        expected = set()
        for url, signature in now.items():
            if url not in self.previous:
                expected.add((url, "added"))
            elif signature != self.previous[url]:
                expected.add((url, "changed"))
        expected |= {(url, "removed") for url in self.previous if url not in now}
        for article in self.site.articles:
            url = self.base + self.site.article_path(article)
            version = (article.title, tuple(article.paragraphs))
            if article.status == 200 and (not self.versions[url] or self.versions[url][-1] != version):
                self.versions[url].append(version)
        self.previous = now
        return expected


def edit_tonight(site: DemoSite, rng: random.Random, night: int) -> list[str]:
    """Zero to three real edits, of the kinds a newsroom makes; returns their kinds."""
    kinds = []
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        live = [a for a in site.articles if a.status == 200 and a.kind == "article"]
        kind = rng.choice(("paragraph", "paragraph", "title", "publish", "delete", "delist"))
        if kind in ("delete", "delist") and len(live) < 6:
            kind = "publish"
        article = rng.choice(live)
        token = f"zq{night}x{rng.randrange(10**6)}"
        if kind == "paragraph":
            paragraph = rng.choice(article.paragraphs)
            word = rng.choice([w for w in paragraph.split() if w.isalpha()] or paragraph.split())
            site.edit_article(article.slug, word, f"{word} {token}")
        elif kind == "title":
            site.set_title(article.slug, f"{article.title.split(' (rev')[0]} (rev {token})")
        elif kind == "publish":
            site.publish_article(f"Night {night} story {token}",
                                 [f"{token} is a new program that cities adopted this week.",
                                  "Residents can follow its progress on the open data portal."],
                                 style=rng.choice(("news", "slug")))
        elif kind == "delete":
            site.unpublish(article.slug)
        elif kind == "delist" and article.slug not in site.delisted:
            site.delist(article.slug)
        else:
            continue
        kinds.append(kind)
    return kinds


def choose_faults(site: DemoSite, rng: random.Random, base: str, touched: set[str]) -> list[tuple[str, str]]:
    """Page faults and robots.txt refusals for tonight, only where nothing was edited tonight."""
    untouched = [url for url in Truth(site, base).signatures() if url not in touched]
    hub_edited = base + site.hub_path in touched
    faults = []
    for _ in range(rng.choice((0, 1, 2, 3))):
        kind = rng.choice(PAGE_FAULTS + ("robots",))
        if kind == "robots":
            section = rng.choice(("/people/", "/news/"))
            if not any(url.startswith(base + section) for url in touched):
                faults.append(("robots", section))
            continue
        if not hub_edited and rng.random() < 0.2:  # a "Show more" page: the listing fails
            faults.append((kind, f"{site.hub_path}?page={rng.randrange(1, site.hub_page_count)}"))
        elif untouched:
            faults.append((kind, rng.choice(untouched)[len(base):]))
    return faults


# --- the disk, the reader, the WAL --------------------------------------------------

def enter_namespace(argv: list[str]) -> None:
    """Re-run this script in a private mount namespace, where it may mount a tmpfs."""
    if os.environ.get(NAMESPACE_FLAG) or "--no-tmpfs" in argv or shutil.which("unshare") is None:
        return
    probe = subprocess.run(["unshare", "--mount", "--map-root-user", "true"], capture_output=True)
    if probe.returncode == 0:
        env = {**os.environ, NAMESPACE_FLAG: "1"}
        os.execvpe("unshare", ["unshare", "--mount", "--map-root-user", sys.executable, *sys.argv], env)


def mount_tmpfs(path: str) -> bool:
    """A small tmpfs at ``path``, in this process's own mount namespace; whether it worked."""
    if not os.environ.get(NAMESPACE_FLAG):
        return False
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", path], capture_output=True)
    return result.returncode == 0


def unmount(path: str) -> None:
    subprocess.run(["umount", path], capture_output=True)


class FullDisk:
    """Fill the archive's filesystem to a few kilobytes (real ENOSPC), or stand in with a trigger."""

    def __init__(self, directory: str, db: str, real: bool):
        self.filler, self.db, self.real = os.path.join(directory, "filler"), db, real

    def fill(self, rng: random.Random) -> None:
        if self.real:
            free = os.statvfs(os.path.dirname(self.filler))
            room = free.f_bavail * free.f_frsize - rng.randrange(4096, 64 * 1024)
            with open(self.filler, "wb") as filler:
                os.posix_fallocate(filler.fileno(), 0, max(room, 1))
        else:
            with sqlite3.connect(self.db) as conn:  # a few more fetches fit: new snapshot rows or folded ones
                conn.execute("create table soak_room (fetches int)")
                conn.execute("insert into soak_room values (?)", [rng.randrange(0, 30)])
                for event in ("insert", "update of repeats"):
                    conn.execute(f"create trigger \"soak_disk_full {event}\" before {event} on snapshots begin "
                                 "select raise(abort, 'database or disk is full') where (select fetches from soak_room) <= 0; "
                                 "update soak_room set fetches = fetches - 1; end")

    def free(self) -> None:
        if self.real:
            os.remove(self.filler)
        else:
            with sqlite3.connect(self.db) as conn:
                for event in ("insert", "update of repeats"):
                    conn.execute(f"drop trigger if exists \"soak_disk_full {event}\"")
                conn.execute("drop table if exists soak_room")


def holders(path: str) -> list[int]:
    """Other processes with ``path`` open (Linux /proc; empty elsewhere): not this one's reader."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc") if os.path.isdir("/proc") else ()):
        if int(pid) == os.getpid():
            continue
        try:
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") == path for fd in os.listdir(f"/proc/{pid}/fd")):
                found.append(int(pid))
        except OSError:
            continue
    return found


class Reader:
    """A read transaction held open on the archive, as a Datasette query would."""

    def __init__(self, db: str):
        self.conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None)
        self.conn.execute("begin")
        self.conn.execute("select count(*) from snapshots").fetchone()

    def close(self) -> None:
        self.conn.execute("commit")
        self.conn.close()


class WalWatch(threading.Thread):
    """Samples the WAL file's size while the season runs."""

    def __init__(self, db: str):
        super().__init__(daemon=True)
        self.path, self.max, self.samples, self.stopping = db + "-wal", 0, [], threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.05):
            try:
                self.max = max(self.max, os.path.getsize(self.path))
            except OSError:
                pass

    def night_end(self) -> None:
        self.samples.append(self.max)

    def unbounded(self) -> list[str]:
        """A WAL that keeps growing: the second half of the season's peak well above the first's."""
        half = len(self.samples) // 2
        first, second = max(self.samples[:half], default=0), max(self.samples[half:], default=0)
        if second > 2 * first + 1024 * 1024:
            return [f"the WAL grew from {first} to {second} bytes between the halves of the season"]
        return []


# --- one night ------------------------------------------------------------------------

class Season:
    def __init__(self, args, workdir: str):
        self.args, self.rng = args, random.Random(args.seed)
        self.site = DemoSite(n_articles=args.articles, per_page=4, seed=args.seed, timeout_delay=2.6)
        self.server = DemoServer(self.site).start()
        self.base = self.server.url
        self.disk_dir = os.path.join(workdir, "disk")
        os.mkdir(self.disk_dir)
        self.real_disk = mount_tmpfs(self.disk_dir) if not args.no_tmpfs else False
        self.db = os.path.join(self.disk_dir, "archive.db")
        self.truth = Truth(self.site, self.base)
        self.disk = FullDisk(self.disk_dir, self.db, self.real_disk)
        self.wal = WalWatch(self.db)
        self.counts = Counter()
        self.faults = Counter()
        self.problems: list[str] = []
        self.durations: list[float] = [4.0]
        self.last_run = 0
        self.last_error = ""

    def attempt(self, kill_after: float | None = None) -> str:
        """One crawl; returns "killed", "done" or "failed" (non-zero exit)."""
        started = time.monotonic()
        # Output goes to a file, not a pipe: a killed crawl's children must not be able to hold us up.
        with tempfile.TemporaryFile("w+") as output:
            process = subprocess.Popen(crawl_command(self.db, self.base + self.site.hub_path),
                                       stdout=output, stderr=subprocess.STDOUT, text=True)
            try:
                process.wait(timeout=kill_after if kill_after is not None else 600)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
                process.wait()
                if kill_after is None:
                    self.last_error = "the crawl took more than ten minutes"
                    return "failed"
                self.check_no_orphans()
                return "killed"
            output.seek(0)
            lines = output.read().strip().splitlines()
        if process.returncode == 0:
            self.durations.append(time.monotonic() - started)
            return "done"
        self.last_error = lines[-1] if lines else f"exit status {process.returncode}"
        return "failed"

    def check_no_orphans(self, wait: float = 10) -> None:
        """After a kill, nothing the crawl started may keep the archive open."""
        deadline = time.monotonic() + wait
        while holders(self.db) and time.monotonic() < deadline:
            time.sleep(0.1)
        if holders(self.db):
            self.problems.append(f"processes {holders(self.db)} still hold the archive {wait:.0f} s after a kill")

    def night(self, number: int, kill: bool) -> bool:
        """Edit, break, crawl (killing and retrying as planned), then compare; returns whether a kill landed."""
        rng = self.rng
        for kind in edit_tonight(self.site, rng, number) if number > 1 else []:
            self.counts["edit:" + kind] += 1
        expected = self.truth.expected()
        faults = choose_faults(self.site, rng, self.base, {url for url, _ in expected}) if number > 1 else []
        disk_full = number > 1 and not kill and rng.random() < 0.12
        reader = Reader(self.db) if number > 1 and rng.random() < 0.25 else None
        saved_robots = list(self.site.robots_disallow)
        for kind, target in faults:
            self.faults[kind] += 1
            if kind == "robots":
                self.site.robots_disallow.append(target)
            else:
                self.site.fail(target, kind)
        self.faults["reader"] += reader is not None
        outcome, landed = None, False
        try:
            if disk_full:
                self.faults["disk full (real ENOSPC)" if self.real_disk else "disk full (trigger)"] += 1
                self.disk.fill(rng)
                try:
                    outcome = self.attempt()
                finally:
                    self.disk.free()
                self.counts["disk-full runs stopped"] += outcome == "failed"
            if kill:
                estimate = statistics.median(self.durations[-5:])
                outcome = self.attempt(kill_after=rng.uniform(0.1, 0.7) * estimate)
                landed = outcome == "killed"
                self.counts["kills survived"] += landed
            if outcome != "done":  # the night's retry
                outcome = self.attempt()
            if outcome != "done":
                self.problems.append(f"night {number}: the crawl did not complete: {self.last_error}")
        finally:
            if reader is not None:
                reader.close()
            self.site.clear_failures()
            self.site.robots_disallow[:] = saved_robots
        self.wal.night_end()
        self.compare(number, expected)
        print(f"night {number}: {len(expected)} change(s) expected, faults {[kind for kind, _ in faults]}"
              f"{', disk full' if disk_full else ''}{', reader' if reader else ''}"
              f"{', killed' if landed else ''}", file=sys.stderr, flush=True)
        return landed

    def compare(self, number: int, expected: set[tuple[str, str]]) -> None:
        ids = [run_id for run_id in run_ids(self.db) if run_id > self.last_run]
        self.last_run = max(ids, default=self.last_run)
        reported = Counter()
        for run_id in ids:
            result = run_changes(self.db, run_id)
            status = result["run"]["status"]
            if run_id == ids[-1] and status != "complete":
                self.problems.append(f"night {number}: run {run_id} is {status}: {result['run']['note']}")
            for change in result["changes"]:
                reported[(change["url"], change["change"])] += 1
        if number == 1:  # the first night adds every page; only the tracked ones are checked
            expected_now = expected
            extra = {key for key in reported if key[1] != "added"}
        else:
            expected_now = expected
            extra = set(reported) - expected
        self.counts["edits"] += len(expected) if number > 1 else 0
        for key in expected_now:
            if reported[key] == 0:
                self.problems.append(f"night {number}: missed {key[1]} {key[0]}")
                self.counts["missed"] += 1
            elif reported[key] > 1:
                self.problems.append(f"night {number}: {key[1]} {key[0]} reported {reported[key]} times")
                self.counts["reported twice"] += 1
            elif number > 1:
                self.counts["reported"] += 1
        for key in sorted(extra):
            self.problems.append(f"night {number}: false alarm: {key[1]} {key[0]}")
            self.counts["false alarms"] += 1


# --- the end of the season ------------------------------------------------------------

def check_history(db: str, truth: Truth) -> list[str]:
    """Every version of every article the server published is among its page's snapshots."""
    problems = []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    for url, versions in truth.versions.items():
        rows = conn.execute("select c.title, c.id from snapshots s join pages p on p.id = s.page_id "
                            "join contents c on c.id = s.content_id where p.url = ?", [url]).fetchall()
        archived = [(title, " ".join((texts.content_text(conn, content_id) or "").split())) for title, content_id in rows]
        for title, paragraphs in versions:
            if not any(title == got_title and all(" ".join(p.split()) in text for p in paragraphs)
                       for got_title, text in archived):
                problems.append(f"history of {url} lacks the version titled {title!r}")
    conn.close()
    return problems


def check_integrity(db: str) -> list[str]:
    """``wwc-archive check`` where this release has it, else SQLite's checks and every body's hash."""
    result = cli("check", "--db", db, check=False)
    if "No such command" not in result.stderr:
        return [] if result.returncode == 0 else [f"wwc-archive check: {result.stdout}{result.stderr}".strip()]
    problems = []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    if conn.execute("pragma integrity_check").fetchone()[0] != "ok":
        problems.append("pragma integrity_check failed")
    if conn.execute("pragma foreign_key_check").fetchall():
        problems.append("pragma foreign_key_check found dangling references")
    bodies = queries.BodyReader(Database(conn))
    for body_id, sha in conn.execute("select id, sha256 from bodies order by id").fetchall():
        if hashlib.sha256(bodies.read(body_id)).hexdigest() != queries.body_address(sha):
            problems.append(f"body {body_id} does not match its sha256")
    conn.close()
    return problems


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nights", type=int, default=90, help="nights in the season (default: 90)")
    parser.add_argument("--kills", type=int, default=10, help="nights whose crawl is killed (default: 10)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the edits, faults and kills (default: 0)")
    parser.add_argument("--articles", type=int, default=16, help="articles on the site (default: 16)")
    parser.add_argument("--no-tmpfs", action="store_true", help="simulate the full disk with a SQLite trigger")
    args = parser.parse_args(argv)
    if args.kills >= args.nights:
        parser.error("--kills must be less than --nights (the first night is never killed)")
    enter_namespace(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="wwc-soak-") as workdir:
        season = Season(args, workdir)
        season.wal.start()
        kill_nights = set(season.rng.sample(range(2, args.nights + 1), args.kills))
        owed = 0
        try:
            for number in range(1, args.nights + 1):
                kill = number in kill_nights or (owed > 0 and number > 1)
                landed = season.night(number, kill)
                owed = max(0, owed + (number in kill_nights) - landed)
            problems = (season.problems + check_history(season.db, season.truth) + check_integrity(season.db)
                        + season.wal.unbounded())
            if season.counts["kills survived"] < args.kills:
                problems.append(f"only {season.counts['kills survived']} of {args.kills} kills landed")
        finally:
            season.wal.stopping.set()
            season.server.stop()
            if season.real_disk:
                unmount(season.disk_dir)
        report(args, season, problems, time.monotonic() - started)
    return 1 if problems else 0


def report(args, season: Season, problems: list[str], seconds: float) -> None:
    counts, wal = season.counts, season.wal
    edits = ", ".join(f"{kind[5:]} {n}" for kind, n in sorted(counts.items()) if kind.startswith("edit:"))
    faults = ", ".join(f"{kind} {n}" for kind, n in sorted(season.faults.items()) if n)
    half = len(wal.samples) // 2
    print(f"nights            {args.nights} (seed {args.seed})")
    print(f"edits made        {edits or 'none'}")
    print(f"changes expected  {counts['edits']}")
    print(f"reported          {counts['reported']}")
    print(f"missed            {counts['missed']}")
    print(f"false alarms      {counts['false alarms']}")
    print(f"reported twice    {counts['reported twice']}")
    print(f"kills survived    {counts['kills survived']}")
    print(f"disk-full stops   {counts['disk-full runs stopped']}")
    print(f"faults injected   {faults or 'none'}")
    print(f"max WAL size      {wal.max} bytes (first half {max(wal.samples[:half], default=0)}, "
          f"second half {max(wal.samples[half:], default=0)})")
    print(f"wall time         {seconds:.1f} s")
    for problem in problems:
        print("PROBLEM", problem)
    print("OK" if not problems else f"FAILED: {len(problems)} problem(s)")


if __name__ == "__main__":
    sys.exit(main())
