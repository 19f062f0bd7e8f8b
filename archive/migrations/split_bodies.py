"""m018: bodies stored as ``zstd-delta`` before ``zstd-n1`` existed, stored again split from their noise.

Pure data work over SQL, no schema change: each ``zstd-delta`` body is read,
split and compressed against its base (:func:`compression.split_delta`), and
rewritten only when that is smaller than what is stored. Its bytes, digest and base
stay the same, so every reader sees the same body.
"""

import sqlite3

from sqlite_utils import Database

from wwc_archive.archive.formats import compression
from wwc_archive.archive.formats.bodies import BodyReader

#: How many decoded bodies a conversion keeps: a night's bodies lie between a
#: body and its base (the same page's version before), a few hundred.
KEEP_DECODED = 1024


def reader(conn: sqlite3.Connection) -> BodyReader:
    """A body reader that keeps enough bases for a pass in id order."""
    return BodyReader(Database(conn), keep=KEEP_DECODED)


def convert_batch(conn: sqlite3.Connection, bodies: BodyReader, after: int, rows: int) -> int | None:
    """Store again up to ``rows`` ``zstd-delta`` bodies after id ``after``; the last id looked at, or None.

    Bodies come in id order, so a base is read before the bodies on it; one
    looked at twice (an upgrade killed between batches starts again at the
    first id again) is compressed again and left as it is.
    """
    batch = conn.execute("select id, base_id, length(data) from bodies where id > ? and compression = 'zstd-delta' "
                         "order by id limit ?", [after, rows]).fetchall()
    for body_id, base_id, stored in batch:
        body = bodies.read(body_id)
        split = compression.split_delta(body, bodies.payload(base_id))
        if split is None:
            continue
        data, payload = split
        bodies.remember(body_id, body, payload)  # the base of the page's next version
        if len(data) < stored:
            conn.execute("update bodies set compression = ?, data = ? where id = ?",
                         [compression.SPLIT_DELTA, data, body_id])
    return batch[-1][0] if batch else None
