"""A version's ``<time>`` elements, kept as ids of distinct (shown, machine) pairs.

The crawler keeps each ``<time datetime>`` a page shows as the text shown and
its ``datetime``, in document order (``Extracted.times``), so that a date's
format alone does not change a version
(:func:`~wwc_archive.archive.changes.comparison.fold_dates`). A "Show more"
page shows fifteen, and a teaser's date stands on page after page as new
articles shift it down the listing: as JSON they were about 430 bytes a
version, half of ``contents`` in ten years. Each pair is now stored once in
``time_pairs``, and a version keeps ``contents.time_ids``: their ids in order,
in the encoding of :mod:`~wwc_archive.archive.formats.paragraphs` (a byte or
two a date). Versions stored before ``m026`` are converted by it;
:func:`content_times` reads both kinds.
"""

import json
import sqlite3

from wwc_archive.archive.formats import paragraphs
from wwc_archive.archive.formats.distinct import DistinctRows, text_key

Times = tuple[tuple[str, str], ...]


def pair_key(shown: str, machine: str) -> int:
    """A pair's 64-bit lookup key (``time_pairs.hash``); equal keys are told apart by the pair."""
    return text_key(f"{shown}\n{machine}")


def time_table() -> DistinctRows:
    """The ``time_pairs`` table as a writer keeps it: found by hash, told apart by the pair."""
    return DistinctRows("time_pairs", ("hash", "shown", "machine"), identity=3)


def create_table(conn: sqlite3.Connection) -> None:
    """``time_pairs`` and its hash index, and ``contents.time_ids`` (each only if missing)."""
    conn.execute("create table if not exists time_pairs "
                 "(id integer primary key, hash integer not null, shown text not null, machine text not null)")
    conn.execute("create index if not exists idx_time_pairs_hash on time_pairs (hash)")
    if "time_ids" not in {row[1] for row in conn.execute("pragma table_info(contents)")}:
        conn.execute("alter table contents add column time_ids blob")


def store(conn: sqlite3.Connection, times: Times, table: DistinctRows | None = None) -> bytes | None:
    """The ``time_ids`` of a version showing ``times`` (None for none), each pair given an id now if new.

    New pairs wait in ``table`` for its ``write``; without a ``table`` they are written at once.
    """
    if not times:
        return None
    rows = [(pair_key(shown, machine), shown, machine) for shown, machine in times]
    ids = table.ids(conn, rows) if table is not None else time_table().ids_written(conn, rows)
    return paragraphs.encode(ids)


def times_of(conn: sqlite3.Connection, time_ids: bytes) -> Times:
    """The pairs that ``time_ids`` names, in order."""
    ids = paragraphs.decode(time_ids)
    found = {row[0]: (row[1], row[2]) for row in conn.execute(
        "select id, shown, machine from time_pairs where id in (select value from json_each(?))",
        [json.dumps(sorted(set(ids)))])}
    missing = set(ids) - found.keys()
    if missing:
        raise LookupError(f"time pair(s) {', '.join(map(str, sorted(missing)))} are missing")
    return tuple(found[pair] for pair in ids)


def content_times(conn: sqlite3.Connection, times: str | None, time_ids: bytes | None) -> Times:
    """A stored version's pairs from its ``times`` (JSON, before ``m026``) or ``time_ids`` columns."""
    if time_ids is not None:
        return times_of(conn, time_ids)
    return tuple(map(tuple, json.loads(times))) if times else ()


def convert(conn: sqlite3.Connection, rows: int = 2000) -> int:
    """Move every version's JSON ``times`` to ``time_ids``, ``rows`` versions a statement batch; returns how many."""
    converted = 0
    while True:
        batch = conn.execute("select id, times from contents where times is not null order by id limit ?",
                             [rows]).fetchall()
        if not batch:
            return converted
        table = time_table()
        updates = [(store(conn, tuple(map(tuple, json.loads(times))), table), content_id)
                   for content_id, times in batch]
        table.write(conn)
        conn.executemany("update contents set times = null, time_ids = ? where id = ?", updates)
        converted += len(batch)
