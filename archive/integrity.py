"""``wwc-archive check``: is the archive file sound, and is every stored body what its address says?

Read-only: SQLite's own integrity and foreign-key checks, each body's SHA-256
over its decompressed bytes, each header block's key over its decoded JSON,
and runs left ``running`` by a crawl process that is gone. Only
:func:`repair_dead_runs` writes, under the crawl lock.
"""

import hashlib
import json

from wwc_archive.archive import header_blocks, queries, spans
from wwc_archive.archive.compression import Undecodable


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
    found += header_block_problems(db)
    found += span_problems(db)
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
    reader = queries.BodyReader(db, keep=KEEP_DECODED)  # in id order, a delta's base was decoded before
    for body_id, address in db.execute("select id, sha256 from bodies order by id").fetchall():
        try:
            actual = hashlib.sha256(reader.read(body_id)).hexdigest()
        except Undecodable as error:
            found.append(f"body {body_id}: {error}")
            continue
        address = queries.body_address(address)
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
