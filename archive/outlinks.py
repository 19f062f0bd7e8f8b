"""A version's outgoing links, kept as ids of distinct URLs.

Each in-scope URL a page links to is stored once in ``link_urls``; a version
(a ``contents`` row) keeps its links as ``link_ids``: their ids, sorted, in
the compact encoding of :mod:`wwc_archive.archive.paragraphs`. A listing of
2,000 teasers links to 2,000 articles, and every "Show more" page to its 15
and the site's navigation: as JSON that was most of what a listing version
cost; as sorted ids it is a byte or two a link. Versions stored before keep
their JSON ``links``; :func:`content_links` reads both.
"""

import json
import sqlite3

from wwc_archive.archive import paragraphs

#: SQLite's default cap on bound parameters is 32766; stay far below it.
CHUNK = 500


def store(conn: sqlite3.Connection, links) -> bytes:
    """The ``link_ids`` of a version linking to ``links``, each URL stored now if new."""
    urls = sorted(set(links))
    known: dict[str, int] = {}
    for start in range(0, len(urls), CHUNK):
        chunk = urls[start:start + CHUNK]
        marks = ", ".join("?" for _ in chunk)
        known.update(conn.execute(f"select url, id from link_urls where url in ({marks})", chunk).fetchall())
    for url in urls:
        if url not in known:
            known[url] = conn.execute("insert into link_urls (url) values (?)", [url]).lastrowid
    return paragraphs.encode(sorted(known[url] for url in urls))


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
