"""Content texts kept as distinct paragraphs: store a version's text, read it back, index where it appeared.

A version (a ``contents`` row) keeps its text as ``paragraph_ids``: its
paragraphs in order (see :mod:`wwc_archive.archive.formats.paragraphs`), each stored
once in ``paragraphs`` however many versions and pages repeat it.
``paragraph_pages`` says on which pages each paragraph (or title) ever
appeared, and since which version: full-text search (``paragraphs_fts``)
finds paragraphs, and this map turns them into pages without reading old
texts. Rows written before the paragraphs existed keep ``text`` until the
upgrade converts them; :func:`content_text` reads both kinds. A hub's long
list may be a delta on its previous version's (:mod:`wwc_archive.archive.formats.idlists`).
"""

import json
import sqlite3

from wwc_archive.archive.formats import idlists, paragraphs, time_pairs
from wwc_archive.archive.formats.distinct import DistinctRows, text_key
from wwc_archive.archive.formats.outlinks import content_links
from wwc_archive.records import Extracted


#: A paragraph's 64-bit lookup key (``paragraphs.hash``); equal keys are told apart by their text.
paragraph_key = text_key


def paragraph_table() -> DistinctRows:
    """The ``paragraphs`` table as a writer keeps it: found by hash, told apart by text."""
    return DistinctRows("paragraphs", ("hash", "text", "first_content"), identity=2)


def paragraph_ids(conn: sqlite3.Connection, table: DistinctRows | None, pieces: list[str],
                  content_id: int) -> list[int]:
    """The ids of the paragraphs ``pieces``, in order, each given an id now (first seen in ``content_id``) if new.

    New paragraphs wait in ``table`` for its ``write``; without a ``table`` they are written at once.
    """
    rows = [(paragraph_key(piece), piece, content_id) for piece in pieces]
    return table.ids(conn, rows) if table is not None else paragraph_table().ids_written(conn, rows)


def store(conn: sqlite3.Connection, content_id: int, text: str | None, title: str | None,
          table: DistinctRows | None = None) -> list[int]:
    """Keep ``text`` as the paragraph ids of the stored version ``content_id`` (its ``text`` left NULL).

    Returns the ids a search finds the version by: its paragraphs' and its
    title's (see :func:`paragraph_ids` for ``table``).
    """
    pieces = paragraphs.split(text) if text is not None else []
    ids = paragraph_ids(conn, table, pieces + ([title] if title else []), content_id)
    encoded = paragraphs.encode(ids[:len(pieces)]) if text is not None else None
    conn.execute("update contents set text = null, paragraph_ids = ? where id = ?", [encoded, content_id])
    return ids


def searchable_ids(conn: sqlite3.Connection, content_id: int, table: DistinctRows | None = None) -> list[int]:
    """The paragraph ids of a stored version, and its title's (both already stored, or waiting in ``table``)."""
    row = conn.execute("select paragraph_ids, title from contents where id = ?", [content_id]).fetchone()
    if row is None:
        return []
    ids = idlists.decode(conn, row[0], "paragraph_ids") if row[0] is not None else []
    return ids + (paragraph_ids(conn, table, [row[1]], content_id) if row[1] else [])


def record_pages(conn: sqlite3.Connection, page_id: int, content_id: int, ids: list[int]) -> None:
    """Note that the paragraphs ``ids`` appeared on ``page_id``, in ``content_id`` unless seen there before."""
    conn.executemany("insert or ignore into paragraph_pages (paragraph_id, page_id, first_content) values (?, ?, ?)",
                     [(paragraph, page_id, content_id) for paragraph in dict.fromkeys(ids)])


def texts_of(conn: sqlite3.Connection, ids: list[int]) -> str:
    """The text made of the paragraphs ``ids``, in order."""
    wanted = json.dumps(sorted(set(ids)))
    found = dict(conn.execute(
        "select id, text from paragraphs where id in (select value from json_each(?))", [wanted]))
    missing = set(ids) - found.keys()
    if missing:
        raise LookupError(f"paragraph(s) {', '.join(map(str, sorted(missing)))} are missing")
    return paragraphs.join([found[paragraph] for paragraph in ids])


def content_text(conn: sqlite3.Connection, content_id: int | None) -> str | None:
    """The whole text of one stored version (None: no such version, or one without text, like a PDF's)."""
    if content_id is None:
        return None
    row = conn.execute("select text, paragraph_ids from contents where id = ?", [content_id]).fetchone()
    if row is None or row[0] is not None:
        return row[0] if row else None
    return texts_of(conn, idlists.decode(conn, row[1], "paragraph_ids")) if row[1] is not None else None


def convert_batch(conn: sqlite3.Connection, rows: int) -> int:
    """Convert up to ``rows`` versions stored with whole texts to paragraphs; returns how many it converted.

    The versions left are those whose ``text`` is still set, so a batch
    rolled back (a killed upgrade) is simply done again.
    """
    batch = conn.execute("select id, text, title from contents where text is not null order by id limit ?",
                         [rows]).fetchall()
    table = paragraph_table()
    for content_id, text, title in batch:
        ids = store(conn, content_id, text, title, table)
        pages = conn.execute("select distinct page_id from snapshots where content_id = ?", [content_id])
        for (page_id,) in pages.fetchall():
            record_pages(conn, page_id, content_id, ids)
    table.write(conn)
    return len(batch)


def stored_version(conn: sqlite3.Connection, content_id: int):
    """A stored version as the crawler extracted it (title, byline, date, text, links, ``<time>`` texts;
    not its teasers), to compare it again (:mod:`~wwc_archive.archive.changes.comparison`)."""
    title, author, published, times, time_ids = conn.execute(
        "select title, author, published, times, time_ids from contents where id = ?", [content_id]).fetchone()
    return Extracted(title=title or "", author=author or "", published=published or "",
                     text=content_text(conn, content_id) or "", links=tuple(content_links(conn, content_id)),
                     times=time_pairs.content_times(conn, times, time_ids))
