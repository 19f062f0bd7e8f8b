"""Tables of distinct values (paragraphs, link URLs, teasers, header sets): ids found by key, new rows written in bulk.

A :class:`DistinctRows` keeps the ids a writer has seen, so a value met
again costs a dict lookup; values it has not seen are looked up in SQLite
together (one ``IN (...)`` query per call, in chunks), and new ones get the
table's next ids at once and wait in memory until :meth:`DistinctRows.write`
inserts them, a few hundred rows a statement. That matters for
``paragraphs``: a trigger feeds its full-text index, and FTS5 flushes its
pending terms at the end of every statement, so inserting one row a
statement cost about 0.1 ms a paragraph.

The writer owns the table while its transaction is open (the crawl lock
keeps other writers out): ids are given as SQLite would (the largest id
plus one). Ids remembered from a transaction that rolls back may be given
again: call :meth:`DistinctRows.forget` then.
"""

import hashlib
import sqlite3

#: Bound parameters per statement: far below SQLite's cap (32,766; 999 before 3.32).
CHUNK = 500


def text_key(text: str) -> int:
    """A text's 64-bit lookup key (BLAKE2b, signed), for a table whose rows are told apart by their text too."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


class DistinctRows:
    """One table of distinct rows, found by its first column.

    ``columns`` are the row's columns (the lookup key first); the first
    ``identity`` of them tell two rows apart (``paragraphs``: a 64-bit hash
    and the text, as hashes may collide). A row's other columns (a
    paragraph's first version) are those of its first occurrence.
    """

    def __init__(self, table: str, columns: tuple[str, ...], identity: int = 1):
        self.table = table
        self.columns = columns
        self.identity = identity
        self._known: dict[tuple, int] = {}
        self._pending: list[tuple] = []
        self._next: int | None = None

    def ids(self, conn: sqlite3.Connection, rows: list[tuple]) -> list[int]:
        """The ids of ``rows`` (tuples of :attr:`columns`), in order; a row not stored yet gets the next id."""
        identities = [row[:self.identity] for row in rows]
        self._look_up(conn, [row[0] for row, identity in zip(rows, identities) if identity not in self._known])
        ids = []
        for row, identity in zip(rows, identities):
            found = self._known.get(identity)
            if found is None:
                found = self._known[identity] = self._next_id(conn)
                self._pending.append((found, *row))
            ids.append(found)
        return ids

    def ids_written(self, conn: sqlite3.Connection, rows: list[tuple]) -> list[int]:
        """:meth:`ids`, the new rows written at once (for a caller that reads them before any batch ends)."""
        ids = self.ids(conn, rows)
        self.write(conn)
        return ids

    def _look_up(self, conn: sqlite3.Connection, keys: list) -> None:
        keys = list(dict.fromkeys(keys))
        wanted = ", ".join(self.columns[:self.identity])
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start:start + CHUNK]
            marks = ", ".join("?" for _ in chunk)
            for found_id, *identity in conn.execute(
                    f"select id, {wanted} from {self.table} where {self.columns[0]} in ({marks})", chunk):
                self._known.setdefault(tuple(identity), found_id)

    def _next_id(self, conn: sqlite3.Connection) -> int:
        if self._next is None:
            self._next = conn.execute(f"select coalesce(max(id), 0) + 1 from {self.table}").fetchone()[0]
        self._next += 1
        return self._next - 1

    def write(self, conn: sqlite3.Connection) -> None:
        """Insert the rows given ids since the last write (before anything reads them, and before commit)."""
        width = 1 + len(self.columns)
        per_statement = max(1, CHUNK // width)
        names = ", ".join(("id", *self.columns))
        for start in range(0, len(self._pending), per_statement):
            chunk = self._pending[start:start + per_statement]
            marks = ", ".join(["(" + ", ".join("?" * width) + ")"] * len(chunk))
            conn.execute(f"insert into {self.table} ({names}) values {marks}", [value for row in chunk for value in row])
        self._pending.clear()
        self._next = None  # read again next time: the table is only ours while a transaction is open

    def forget(self) -> None:
        """Drop every id remembered and every row not written: the transaction that gave them rolled back."""
        self._known.clear()
        self._pending.clear()
        self._next = None
