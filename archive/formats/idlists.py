"""A version's long id lists kept as deltas on its page's previous version's, and read back through them.

A hub's ``contents.paragraph_ids`` and ``contents.items`` hold thousands of
ids and change by one article a night. A list whose whole encoding takes
:data:`DELTA_FROM` bytes or more is stored as a delta
(:func:`~wwc_archive.archive.formats.paragraphs.encode_delta`) on the same column of
the page's previous version when that is smaller; every
:data:`KEYFRAME_EVERY`-th list of a chain stays whole, so reading one decodes
at most ``KEYFRAME_EVERY - 1`` deltas. A base is always an older row (a
smaller id), so chains cannot loop. Short lists (an article's paragraphs)
stay as they are.
"""

import sqlite3

from wwc_archive.archive.formats import paragraphs

#: The ``contents`` columns that may hold deltas (``link_ids`` stay whole: a hub links to few pages).
COLUMNS = ("paragraph_ids", "items")
#: A chain's keyframe every 64 lists: a hub version reads in ~15 ms, keyframes cost ~120 bytes a version.
KEYFRAME_EVERY = 64
#: Lists encoded smaller than this stay whole: a delta's own header and zstd frame take ~20 bytes.
DELTA_FROM = 128
#: Longer chains than the writer makes mean damage.
MAX_CHAIN = 256


def decode(conn: sqlite3.Connection, data: bytes, column: str) -> list[int]:
    """The ids of ``data`` (stored in ``contents.<column>``), through its bases if it is a delta."""
    return paragraphs.parse(varints(conn, data, column))


def varints(conn: sqlite3.Connection, data: bytes, column: str, known: dict | None = None) -> bytes:
    """The zigzag varints of ``data``, a delta's read through its chain of bases; ValueError if broken.

    ``known`` maps ``(column, content id)`` to varints already read, where a chain may stop.
    """
    if column not in COLUMNS:
        raise ValueError(f"{column} holds no id list deltas")
    chain, raw = [], None
    while (found := paragraphs.delta_base(data)) is not None:
        if len(chain) >= MAX_CHAIN:
            raise ValueError(f"an id list's chain of deltas is longer than {MAX_CHAIN}")
        chain.append(data)
        if known and (column, found[0]) in known:
            raw = known[(column, found[0])]
            break
        row = conn.execute(f"select {column} from contents where id = ?", [found[0]]).fetchone()
        if row is None or row[0] is None:
            raise ValueError(f"an id list's base (version {found[0]}) is missing")
        data = row[0]
    if raw is None:
        raw = paragraphs.varints(data)
    for delta in reversed(chain):
        raw = paragraphs.varints(delta, raw)
    return raw


def store_as_deltas(conn: sqlite3.Connection, content_id: int, base_id: int | None, known: dict | None = None) -> None:
    """Keep the long id lists of version ``content_id`` as deltas on version ``base_id``'s, where smaller.

    ``base_id`` is the same page's version before (None: there is none); an
    older row only. Lists already deltas, short, or whose base ends a chain
    of ``KEYFRAME_EVERY - 1`` deltas stay as they are; so do lists this
    release cannot read (left as they are, not rewritten). ``known`` (see
    :func:`varints`) saves reading a base's chain again; this version's lists are added to it.
    """
    if base_id is None or base_id >= content_id:
        return
    marks = ", ".join(COLUMNS)
    row = conn.execute(f"select {marks} from contents where id = ?", [content_id]).fetchone()
    if row is None or not any(data is not None and len(data) >= DELTA_FROM for data in row):
        return
    base = conn.execute(f"select {marks} from contents where id = ?", [base_id]).fetchone()
    updates = {}
    for column, data, base_data in zip(COLUMNS, row, base or (None,) * len(COLUMNS)):
        if data is None or base_data is None or len(data) < DELTA_FROM or paragraphs.delta_base(data):
            continue
        under = paragraphs.delta_base(base_data)
        depth = (under[1] if under else 0) + 1
        try:
            own = paragraphs.varints(data)
            if known is not None:
                known[(column, content_id)] = own
            if depth >= KEYFRAME_EVERY:
                continue  # a keyframe
            delta = paragraphs.delta_of_varints(own, base_id, varints(conn, base_data, column, known), depth)
        except ValueError:
            continue
        if len(delta) < len(data):
            updates[column] = delta
    if updates:
        assignments = ", ".join(f"{column} = ?" for column in updates)
        conn.execute(f"update contents set {assignments} where id = ?", [*updates.values(), content_id])


def previous_version(conn: sqlite3.Connection, content_id: int) -> int | None:
    """The version its page held before ``content_id`` first appeared there (an older row), or None."""
    first = conn.execute("select id, page_id from snapshots where content_id = ? order by id limit 1",
                         [content_id]).fetchone()
    if first is None:
        return None
    snapshot_id, page_id = first
    row = conn.execute("select content_id from snapshots where page_id = ? and id < ? and content_id is not null "
                       "order by id desc limit 1", [page_id, snapshot_id]).fetchone()
    return row[0] if row and row[0] < content_id else None


def current_version(conn: sqlite3.Connection, page_id: int) -> int | None:
    """The version a page holds now (its last good fetch's), the base of the next one stored."""
    row = conn.execute("select s.content_id from pages p join snapshots s on s.id = p.last_good_snapshot "
                       "where p.id = ?", [page_id]).fetchone()
    return row[0] if row else None


def convert_batch(conn: sqlite3.Connection, after: int, rows: int, known: dict | None = None) -> int | None:
    """Store the long lists of up to ``rows`` versions after id ``after`` as deltas (m017); the last id, or None.

    Versions are taken in id order, so a base is final before the versions
    on it; a version done twice is left as it is, so an upgrade killed
    between batches resumes from the start at the cost of a quick pass.
    ``known`` keeps the lists just read (see :func:`varints`), the last few only.
    """
    batch = conn.execute(
        "select id from contents where id > ? and (length(paragraph_ids) >= ? or length(items) >= ?) "
        "order by id limit ?", [after, DELTA_FROM, DELTA_FROM, rows]).fetchall()
    for (content_id,) in batch:
        store_as_deltas(conn, content_id, previous_version(conn, content_id), known)
        while known is not None and len(known) > 2 * len(COLUMNS) * 4:  # the bases of the next few versions
            del known[next(iter(known))]
    return batch[-1][0] if batch else None
