"""The read door: one version of a page, its text, items, links, body and heads, from one object.

    v = read.version(db, snapshot_id)
    v.text, v.items, v.links, v.extracted, v.body, v.content_type, v.request_head, v.response_head

A version is read through a snapshot (a span of fetches; an id that m008 folded
into a span gives that span). Per ``contents`` id, the same readers serve SQL
functions and exports: :func:`text`, :func:`links`, :func:`items`,
:func:`extracted`; :func:`fingerprint` shows a stored fingerprint as text.
Lists of runs, changes and fetches are :mod:`~wwc_archive.archive.queries`;
the formats below are :mod:`~wwc_archive.archive.formats`.
"""

import sqlite3
from functools import cached_property

from sqlite_utils import Database

from wwc_archive.archive import queries
from wwc_archive.archive.formats import header_blocks, outlinks, spans, texts
from wwc_archive.archive.formats import items as item_lists
from wwc_archive.archive.formats.bodies import BodyReader
from wwc_archive.archive.formats.compression import Undecodable
from wwc_archive.archive.formats.fingerprint import unpack_fingerprint as fingerprint
from wwc_archive.records import Extracted

__all__ = ["Undecodable", "Version", "extracted", "fingerprint", "items", "links", "register_functions",
           "text", "version"]


def text(conn: sqlite3.Connection, content_id: int | None) -> str | None:
    """A version's whole extracted text, however it is stored (paragraphs, a delta, older ``text``)."""
    return texts.content_text(conn, content_id)


def links(conn: sqlite3.Connection, content_id: int | None) -> list[str]:
    """A version's outgoing links, in page order."""
    return outlinks.content_links(conn, content_id)


def items(conn: sqlite3.Connection, content_id: int | None) -> list[dict] | None:
    """A listing version's teasers in listing order (None: stored without them)."""
    return item_lists.content_items(conn, content_id)


def extracted(conn: sqlite3.Connection, content_id: int) -> Extracted:
    """A version as the crawler extracted it (title, byline, date, text, links, times; no teasers)."""
    return texts.stored_version(conn, content_id)


def register_functions(conn: sqlite3.Connection) -> None:
    """``wwc_fetches(run_id, fetched_at, repeats)``: a span's fetches as JSON, in SQL."""
    spans.register(conn)


class Version:
    """One snapshot's version of its page; each part is read when first asked for, then kept."""

    def __init__(self, db: Database, snapshot_id: int):
        self.db = db
        self.id = queries.resolve_snapshot(db, snapshot_id)
        row = db.execute("select page_id, content_id, body_id, request_head_id, response_head_id "
                         "from snapshots where id = ?", [self.id]).fetchone()
        if row is None:
            raise LookupError(f"no snapshot with id {snapshot_id}")
        self.page_id, self.content_id, self.body_id, self.request_head_id, self.response_head_id = row

    @cached_property
    def snapshot(self) -> dict:
        """The snapshot with its page's URL, title, byline, kept headers and extent (:func:`queries.snapshot`)."""
        return queries.snapshot(self.db, self.id)

    @cached_property
    def text(self) -> str | None:
        return text(self.db.conn, self.content_id)

    @cached_property
    def links(self) -> list[str]:
        return links(self.db.conn, self.content_id)

    @cached_property
    def items(self) -> list[dict] | None:
        return items(self.db.conn, self.content_id)

    @cached_property
    def extracted(self) -> Extracted | None:
        return None if self.content_id is None else extracted(self.db.conn, self.content_id)

    @cached_property
    def body(self) -> bytes | None:
        """The response body's original bytes (None: none was stored); raises :class:`Undecodable` if damaged."""
        return None if self.body_id is None else BodyReader(self.db).read(self.body_id)

    @cached_property
    def content_type(self) -> str | None:
        row = self.db.execute("select content_type from bodies where id = ?", [self.body_id]).fetchone()
        return row[0] if row else None

    @cached_property
    def request_head(self) -> dict | None:
        """The request as sent: ``{"method", "headers": [[name, value], ...]}`` (None: not kept)."""
        return self._head(self.request_head_id)

    @cached_property
    def response_head(self) -> dict | None:
        """The answer that stored this version: ``{"protocol", "status", "headers"}`` (None: not kept)."""
        return self._head(self.response_head_id)

    def _head(self, block_id: int | None) -> dict | None:
        return None if block_id is None else header_blocks.Reader(self.db.conn).head(block_id)


def version(db: Database, snapshot_id: int) -> Version:
    """Version N of its page: the snapshot ``snapshot_id`` (raises LookupError if there is none)."""
    return Version(db, snapshot_id)
