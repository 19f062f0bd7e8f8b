"""The response headers a fetch keeps (:data:`~wwc_archive.records.KEPT_HEADERS`), each distinct set stored once.

``header_sets`` holds each distinct kept-headers JSON text once, found by
``hash`` (64 bits of BLAKE2b, as for paragraphs; equal hashes are told apart
by their text); ``snapshots.header_set`` and a span's answers name it by id.
Most fetches keep ``{"content-type": "text/html; charset=UTF-8"}``; a
version's ETag and Last-Modified make a set that its 304s share. The text is
stored exactly as the writer made it, so every reader gets the same JSON.
"""

import hashlib
import json
import sqlite3


def header_set_key(text: str) -> int:
    """A set's 64-bit lookup key (``header_sets.hash``)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


class HeaderSets:
    """Finds or stores header sets for a writer, remembering the ids it saw (forget them after a rollback)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self._ids: dict[str, int] = {}

    def id_of(self, text: str | None) -> int | None:
        """The id of the set with this JSON text (None for none), stored now if new."""
        if text is None:
            return None
        found = self._ids.get(text)
        if found is None:
            key = header_set_key(text)
            found = next((row_id for row_id, stored in self.conn.execute(
                "select id, headers from header_sets where hash = ?", [key]) if stored == text), None)
            if found is None:
                found = self.conn.execute("insert into header_sets (hash, headers) values (?, ?)",
                                          [key, text]).lastrowid
            self._ids[text] = found
        return found

    def forget(self) -> None:
        self._ids.clear()


def texts(conn: sqlite3.Connection, ids) -> dict[int, str]:
    """``id -> JSON text`` of these header sets (None ids are left out)."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return dict(conn.execute("select id, headers from header_sets where id in (select value from json_each(?))",
                             [json.dumps(wanted)]))
