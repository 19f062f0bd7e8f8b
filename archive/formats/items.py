"""A listing version's items (teasers): each distinct teaser once in ``listing_items``, a version's as an id list.

``contents.items`` holds the ids in listing order in the id-list encoding
paragraphs and links use (:mod:`~wwc_archive.archive.formats.paragraphs`); a hub's
long list may be a delta on its previous version's (:mod:`~wwc_archive.archive.formats.idlists`).
"""

import hashlib
import json
import sqlite3

from wwc_archive.archive.formats import idlists, paragraphs
from wwc_archive.archive.formats.distinct import DistinctRows

FIELDS = ("url", "title", "published", "byline", "summary")


def item_table() -> DistinctRows:
    """A writer's view of ``listing_items``: ids known this run, new rows written once a batch."""
    return DistinctRows("listing_items", ("sha256", *FIELDS))


def store(conn: sqlite3.Connection, teasers, table: DistinctRows) -> bytes:
    """The teasers' ids in order, encoded (:func:`~wwc_archive.archive.formats.paragraphs.encode`);
    new ones written with the batch."""
    rows = [(t.url, t.title, t.published, t.byline, t.summary) for t in teasers]
    shas = [hashlib.sha256(json.dumps(row, ensure_ascii=False).encode("utf-8")).hexdigest() for row in rows]
    return paragraphs.encode(table.ids(conn, [(sha, *row) for sha, row in zip(shas, rows)]))


def content_items(conn: sqlite3.Connection, content_id: int | None) -> list[dict] | None:
    """A listing version's items (teasers) in listing order, or None if it was stored without them."""
    if content_id is None:
        return None
    row = conn.execute("select items from contents where id = ?", [content_id]).fetchone()
    if row is None or row[0] is None:
        return None
    ids = idlists.decode(conn, row[0], "items")
    found = {}
    for start in range(0, len(ids), 500):  # SQLite caps the number of parameters
        chunk = sorted(set(ids[start:start + 500]))
        marks = ", ".join("?" for _ in chunk)
        for item_id, *values in conn.execute(f"select id, {', '.join(FIELDS)} from listing_items "
                                             f"where id in ({marks})", chunk):
            found[item_id] = dict(zip(FIELDS, values))
    return [found[item_id] for item_id in ids if item_id in found]
