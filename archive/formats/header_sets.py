"""The response headers a fetch keeps (:data:`~wwc_archive.records.KEPT_HEADERS`), each distinct set stored once.

``header_sets`` holds each distinct kept-headers JSON text once, found by
``hash`` (64 bits of BLAKE2b, as for paragraphs; equal hashes are told apart
by their text); ``snapshots.header_set`` and a span's answers name it by id.
Most fetches keep ``{"content-type": "text/html; charset=UTF-8"}``; a
version's ETag and Last-Modified make a set that its 304s share. The text is
stored exactly as the writer made it, so every reader gets the same JSON.
"""

import json
import sqlite3

from wwc_archive.archive.formats.distinct import DistinctRows, text_key


def table() -> DistinctRows:
    """The ``header_sets`` table as a writer keeps it: found by ``hash``, told apart by the text."""
    return DistinctRows("header_sets", ("hash", "headers"), identity=2)


def id_of(conn: sqlite3.Connection, sets: DistinctRows, text: str | None) -> int | None:
    """The id of the set with this JSON text (None for none), given one now if new (written with ``sets``)."""
    return None if text is None else sets.ids(conn, [(text_key(text), text)])[0]


def texts(conn: sqlite3.Connection, ids) -> dict[int, str]:
    """``id -> JSON text`` of these header sets (None ids are left out)."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return dict(conn.execute("select id, headers from header_sets where id in (select value from json_each(?))",
                             [json.dumps(wanted)]))
