"""A version's outgoing links, kept as ids of distinct URLs.

Each in-scope URL a page links to is stored once in ``link_urls``; a version
(a ``contents`` row) keeps its links as ``link_ids``: their ids, sorted, in
the compact encoding of :mod:`wwc_archive.archive.formats.paragraphs`. A listing of
2,000 teasers links to 2,000 articles, and every "Show more" page to its 15
and the site's navigation: as JSON that was most of what a listing version
cost; as sorted ids it is a byte or two a link. Versions stored before keep
their JSON ``links``; :func:`content_links` reads both.
"""

import json
import sqlite3

from wwc_archive.archive.formats import paragraphs
from wwc_archive.archive.formats.distinct import DistinctRows


def link_table() -> DistinctRows:
    """The ``link_urls`` table as a writer keeps it."""
    return DistinctRows("link_urls", ("url",))


def store(conn: sqlite3.Connection, links, table: DistinctRows | None = None) -> bytes:
    """The ``link_ids`` of a version linking to ``links``, each URL given an id now if new.

    New URLs wait in ``table`` for its ``write``; without a ``table`` they are written at once.
    """
    rows = [(url,) for url in sorted(set(links))]
    ids = table.ids(conn, rows) if table is not None else link_table().ids_written(conn, rows)
    return paragraphs.encode(sorted(ids))


def links_of(conn: sqlite3.Connection, link_ids: bytes | None) -> list[str]:
    """The URLs that ``link_ids`` names, sorted."""
    ids = paragraphs.decode(link_ids) if link_ids else []
    if not ids:
        return []
    found = dict(conn.execute("select id, url from link_urls where id in (select value from json_each(?))",
                              [json.dumps(ids)]))
    missing = set(ids) - found.keys()
    if missing:
        raise LookupError(f"link URL(s) {', '.join(map(str, sorted(missing)))} are missing")
    return sorted(found[link] for link in ids)


def content_links(conn: sqlite3.Connection, content_id: int | None) -> list[str]:
    """A stored version's outgoing links, sorted, however they are stored (``[]``: none, or no such version)."""
    if content_id is None:
        return []
    row = conn.execute("select links, link_ids from contents where id = ?", [content_id]).fetchone()
    if row is None:
        return []
    if row[0] is not None:
        return json.loads(row[0])
    return links_of(conn, row[1])
