"""``wwc-archive check``: is the archive file sound, and is every stored body what its address says?

Read-only: SQLite's own integrity and foreign-key checks, each body's SHA-256
over its decompressed bytes, each header block's key over its decoded JSON,
runs left ``running`` by a crawl process that is gone, times that cannot be
real, and bodies, versions or assets stored twice. Only :func:`repair_dead_runs` and :func:`settle_dates` write, under
the crawl lock.
"""

import hashlib
import json
from datetime import datetime, timedelta, timezone

from wwc_archive.archive.formats import bodies, header_blocks, lookup_keys, spans
from wwc_archive.archive.formats.compression import Undecodable
from wwc_archive.archive.transaction import write_transaction
from wwc_archive.records import TIME_FORMAT, utcnow


def problems(archive) -> list[str]:
    """Every problem found, one line each (empty: the archive is sound)."""
    found = []
    db = archive.db
    for (message,) in db.execute("PRAGMA integrity_check").fetchall():
        if message != "ok":
            found.append(f"integrity: {message}")
    for table, rowid, parent, _fk in db.execute("PRAGMA foreign_key_check").fetchall():
        found.append(f"foreign key: {table} row {rowid} points at a missing {parent} row")
    found += body_problems(db)
    found += lookup_keys.duplicate_problems(db.conn)
    found += header_block_problems(db)
    found += span_problems(db)
    found += [date.describe() for date in impossible_dates(db)]
    for run in archive.dead_runs():
        found.append(f"run {run['id']} (started {run['started']}, pid {run['pid']}) is marked running, "
                     "but no crawl holds the archive: its process is gone")
    return found


#: Decoded bodies ``check`` keeps: a night's pages lie between a body and its base,
#: so a few hundred; fewer would decode a listing page's chain again for every body.
KEEP_DECODED = 1024


def body_problems(db) -> list[str]:
    """Bodies whose bytes do not hash to their SHA-256 address, or cannot be decompressed."""
    found = []
    reader = bodies.BodyReader(db, keep=KEEP_DECODED)  # in id order, a delta's base was decoded before
    for body_id, address in db.execute("select id, sha256 from bodies order by id").fetchall():
        try:
            actual = hashlib.sha256(reader.read(body_id)).hexdigest()
        except Undecodable as error:
            found.append(f"body {body_id}: {error}")
            continue
        address = bodies.body_address(address)
        if actual != address:
            found.append(f"body {body_id}: its bytes hash to {actual[:12]}…, not its address {address[:12]}…")
    return found


def header_block_problems(db) -> list[str]:
    """Header blocks that cannot be decoded, or whose JSON does not hash to the key they are found by (``hash``)."""
    found = []
    reader = header_blocks.Reader(db.conn)  # in id order, a delta's base was decoded just before
    for block_id, key in db.execute("select id, hash from header_blocks order by id").fetchall():
        try:
            data = reader.data(block_id)
            json.loads(data)
        except (Undecodable, ValueError) as error:
            found.append(f"header block {block_id}: it cannot be decoded ({error})")
            continue
        if header_blocks.key(data) != key:
            found.append(f"header block {block_id}: its headers hash to {header_blocks.key(data)}, not its key {key}")
    return found


def span_problems(db) -> list[str]:
    """Snapshot spans whose repeated fetches or answers do not decode or disagree with ``last_run``,
    answers naming a header set that is missing, and dangling aliases."""
    found = []
    header_sets = {row[0] for row in db.execute("select id from header_sets")}
    rows = db.execute("select id, run_id, fetched_at, last_run, repeats, answers from snapshots "
                      "where last_run is not null")
    for snapshot_id, run_id, fetched_at, last_run, repeats, answers in rows:
        try:
            fetched = spans.decode_answers(run_id, fetched_at, repeats)
            palette = spans.load_answers(answers, [None] * len(spans.ANSWER_FIELDS))
            if max(answer for _, _, answer in fetched) > len(palette):
                raise spans.BadSpan(f"a fetch gives an answer it does not hold (it has {len(palette)} more)")
            missing = {a[_HEADER_SET] for a in palette if a[_HEADER_SET] is not None} - header_sets
            if missing:
                raise spans.BadSpan(f"its answers name header set(s) {', '.join(map(str, sorted(missing)))}, "
                                    "which are missing")
        except (spans.BadSpan, ValueError, TypeError) as error:
            found.append(f"snapshot {snapshot_id}: {error}")
            continue
        if fetched[-1][0] != last_run:
            found.append(f"snapshot {snapshot_id}: its last fetch is of run {fetched[-1][0]}, not last_run {last_run}")
    dangling = db.execute("select a.id, a.snapshot_id from snapshot_aliases a "
                          "left join snapshots s on s.id = a.snapshot_id where s.id is null").fetchall()
    found += [f"snapshot alias {alias}: points at a missing snapshot {target}" for alias, target in dangling]
    return found


_HEADER_SET = spans.ANSWER_FIELDS.index("header_set")


def repair_dead_runs(archive) -> int:
    """Mark runs left ``running`` by a dead process ``interrupted``, under the crawl lock; returns how many."""
    running = archive.db.execute("select count(*) from runs where status = 'running'").fetchone()[0]
    with archive.crawl_lock(wait=0):  # taking the lock marks every run still running (raises ArchiveBusy if held)
        pass
    return running


# Times ----------------------------------------------------------------------------

#: The first web page went up in 1991: no fetch or run of the web is older.
EARLIEST = "1991-01-01T00:00:00Z"
#: What the archive stores times as, for SQLite's strftime.
SQL_FORMAT = TIME_FORMAT
#: The columns holding a moment the archive vouches for.
DATE_COLUMNS = (("runs", "started"), ("runs", "finished"), ("snapshots", "fetched_at"))


#: What :meth:`ImpossibleDate.describe` says, for finding its lines.
IMPOSSIBLE = "cannot be a real time"


class ImpossibleDate:
    """A stored time that is not one: malformed, not a calendar date, before 1991 or a century ahead."""

    def __init__(self, table: str, row_id: int, column: str, value, run_id: int):
        self.table, self.row_id, self.column, self.value, self.run_id = table, row_id, column, value, run_id

    def describe(self) -> str:
        what = "run" if self.table == "runs" else "snapshot"
        return (f"{what} {self.row_id}: its {self.column} {self.value!r} {IMPOSSIBLE} "
                f"(a time is YYYY-MM-DDTHH:MM:SSZ, from {EARLIEST[:4]} to a century from now)")


#: How far ahead a stored time may lie. Backfill and import refuse captures past tomorrow at the
#: door; the archive itself may hold simulated nights ahead of the clock (``bench/decade.py``
#: writes 2027-2036), so only times no clock of this century could give are impossible here.
FUTURE_YEARS = 100


def latest_possible() -> str:
    """A century from now: later than that, a time is garbage, not a clock set ahead."""
    return (datetime.now(timezone.utc) + timedelta(days=365 * FUTURE_YEARS)).strftime(TIME_FORMAT)


def impossible_dates(db) -> list[ImpossibleDate]:
    """Every stored run and fetch time that is malformed, not on the calendar, before 1991 or a century ahead.

    SQLite's strftime, given a modifier, rewrites a well-formed time as itself
    and anything else (garbage, February 30th, a missing Z) as another time or NULL.
    """
    found = []
    latest = latest_possible()
    for table, column in DATE_COLUMNS:
        run = "id" if table == "runs" else "run_id"
        rows = db.execute(f"select id, {column}, {run} from {table} where {column} is not null and "
                          f"(strftime('{SQL_FORMAT}', {column}, '+0 seconds') is not {column} "
                          f"or {column} < ? or {column} > ?) "
                          "order by id", [EARLIEST, latest]).fetchall()
        found += [ImpossibleDate(table, row_id, column, value, run_id) for row_id, value, run_id in rows]
    return found


def settle_dates(archive) -> list[str]:
    """Give every impossible time the nearest time the archive can vouch for; returns a line per run settled.

    Nothing is deleted: a run's start becomes its earliest real fetch time
    (else its real finish, else now); its finish, its latest real fetch time
    or its start; a fetch's time, its run's start. Each run settled says so in
    its ``note``, with the values it replaced. Under the crawl lock
    (:class:`~wwc_archive.archive.store.ArchiveBusy` if a crawl holds it).
    """
    db = archive.db
    with archive.crawl_lock(wait=0):
        bad = impossible_dates(db)
        if not bad:
            return []
        latest = latest_possible()
        ok = f"strftime('{SQL_FORMAT}', {{0}}, '+0 seconds') is {{0}} and {{0}} between ? and ?"
        by_run: dict[int, list[ImpossibleDate]] = {}
        for date in bad:
            by_run.setdefault(date.run_id, []).append(date)
        lines = []
        with write_transaction(db):
            for run_id, dates in sorted(by_run.items()):
                first, last = db.execute(
                    "select min(fetched_at), max(fetched_at) from snapshots where run_id = ? and "
                    + ok.format("fetched_at"), [run_id, EARLIEST, latest]).fetchone()
                row = db.execute("select started, finished from runs where id = ?", [run_id]).fetchone()
                if row is None:
                    continue  # fetches of a missing run: the foreign key check reports them
                started, finished = row
                bad_columns = {(d.table, d.column) for d in dates}
                if ("runs", "started") in bad_columns:
                    real_finish = finished if ("runs", "finished") not in bad_columns else None
                    started = first or real_finish or utcnow()
                if ("runs", "finished") in bad_columns:
                    finished = max(last or started, started)
                fetches = [d for d in dates if d.table == "snapshots"]
                if fetches:
                    db.conn.executemany("update snapshots set fetched_at = ? where id = ?",
                                        [(started, d.row_id) for d in fetches])
                replaced = [f"{d.column} {d.value!r}" for d in dates if d.table == "runs"]
                if fetches:
                    replaced.append(f"{len(fetches)} fetch time(s), the first {fetches[0].value!r}, set to its start")
                replaced = "; ".join(replaced)
                note = f"check --repair settled impossible times on {utcnow()}: {replaced}"
                db.execute("update runs set started = ?, finished = ?, "
                           "note = case when note is null or note = '' then ? else note || ' ' || ? end "
                           "where id = ?", [started, finished, note, note, run_id])
                lines.append(f"run {run_id}: {replaced} (now started {started})")
        return lines
