"""Migration m015: every span's ``repeats`` packed, and its kept headers named by a header set's id.

Rows are converted in id order, a batch per transaction (see
:func:`~wwc_archive.archive.migrations.batches.in_batches`); ``_snapshot_repack_progress``
holds the last id converted, so a killed upgrade resumes after the last
committed batch. A row's fetches keep every run, time and answer: its
``repeats`` are read in the older format and written packed (a span that does
not decode is left as it is, for ``check`` to report), its ``headers`` text
becomes a ``header_sets`` row shared by every fetch that kept the same, and its
answers name header sets too. Once every row is converted, ``snapshots.headers``
is dropped: while that column exists, the migration is not done.
"""

import os

from sqlite_utils import Database

from wwc_archive.archive.formats import header_sets, spans
from wwc_archive.archive.formats.distinct import DistinctRows
from wwc_archive.archive.migrations.batches import in_batches

#: Rows converted per batch (``WWC_ARCHIVE_REPACK_ROWS`` overrides it, for tests).
BATCH_ROWS = 2000
PROGRESS = "_snapshot_repack_progress"
_OLD_ANSWER = ("outcome", "http_status", "body_exact", "request_head_id", "headers")


def repack_archive(db: Database) -> None:
    """Convert every row not converted yet (see the module's docstring)."""
    in_batches(db, repack_batch)


def repack_batch(db: Database) -> bool:
    """Convert the next batch of rows, or finish; whether batches remain."""
    db.execute("create table if not exists header_sets (id integer primary key, hash integer, headers text not null)")
    db.execute("create index if not exists idx_header_sets_hash on header_sets (hash)")
    columns = db["snapshots"].columns_dict
    if "header_set" not in columns:
        db.execute("alter table snapshots add column header_set integer references header_sets(id)")
    if "headers" not in columns:
        return False  # the last batch dropped it: done
    db.execute(f"create table if not exists {PROGRESS} (id integer primary key, last_snapshot_id integer)")
    row = db.execute(f"select last_snapshot_id from {PROGRESS} where id = 1").fetchone()
    limit = int(os.environ.get("WWC_ARCHIVE_REPACK_ROWS") or BATCH_ROWS)
    rows = db.execute(f"select id, run_id, fetched_at, repeats, answers, {', '.join(_OLD_ANSWER)} from snapshots "
                      "where id > ? order by id limit ?", [row[0] if row else 0, limit]).fetchall()
    if not rows:
        db.execute("alter table snapshots drop column headers")
        db.execute(f"drop table {PROGRESS}")
        return False
    sets = header_sets.table()
    db.conn.executemany("update snapshots set header_set = ?, headers = null, repeats = ?, answers = ? where id = ?",
                        [(*_converted(db.conn, sets, *row[1:]), row[0]) for row in rows])
    sets.write(db.conn)
    db.execute(f"insert or replace into {PROGRESS} (id, last_snapshot_id) values (1, ?)", [rows[-1][0]])
    return True


def _converted(conn, sets: DistinctRows, run_id, fetched_at, repeats, answers, *own) -> tuple:
    """A row's ``(header_set, repeats, answers)`` as this release stores them."""
    header_set = header_sets.id_of(conn, sets, own[-1])
    if repeats and repeats[:len(spans.PACKED_FORMAT)] != spans.PACKED_FORMAT:
        try:
            repeats = spans.Tail(run_id, fetched_at, repeats).repeats
        except spans.BadSpan:
            pass
    if answers:
        try:
            palette = spans.load_answers(answers, list(own))
        except ValueError:
            palette = None  # not JSON: left as it is
        if palette is not None:
            answers = spans.dump_answers([[*answer[:-1], header_sets.id_of(conn, sets, answer[-1]) if isinstance(answer[-1], str)
                                           else answer[-1]] for answer in palette], [*own[:-1], header_set])
    return header_set, repeats, answers
