"""Request and response heads (``header_blocks``): each distinct one stored once, most as a small delta.

A block is a head's JSON as the writer dumps it (``writer.request_head``,
``writer.response_head``). It is found by ``hash``, the first 64 bits of its
SHA-256 (signed); equal hashes are told apart by decoding. Since ``m019`` a
writer stores a block as ``zstd-hd``: zstd against the built-in header
dictionary plus the block of the same kind (request or response) it stored
just before in the same run (``base_id``). From one head to the next mostly a
date, a length and an ETag change, so a delta is about half a ``zstd-h1``
block. The first block of each kind in a run, and every
:data:`KEYFRAME_EVERY`-th of a chain, is stored on its own (``zstd-h1``), so
reading a block decodes at most ``KEYFRAME_EVERY - 1`` others.
"""

import hashlib
import json
import sqlite3

from wwc_archive.archive.formats import compression

#: A chain of header deltas is at most this long: reading one block decodes at most 15 others.
KEYFRAME_EVERY = 16
#: Decoded blocks a :class:`Reader` keeps (a WARC export reads each chain's blocks in turn).
KEEP_DECODED = 4096


def key(data: bytes) -> int:
    """A block's lookup key: the first 64 bits of its SHA-256, signed."""
    return int.from_bytes(hashlib.sha256(data).digest()[:8], "big", signed=True)


def dump(head: dict) -> bytes:
    """A head's JSON, as every block has been stored."""
    return json.dumps(head, separators=(",", ":")).encode("utf-8")


class Reader:
    """Decodes blocks, following their bases, and keeps the latest decoded."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self._decoded: dict[int, bytes] = {}

    def data(self, block_id: int) -> bytes:
        """A block's JSON bytes."""
        chain, next_id = [], block_id
        while next_id not in self._decoded:
            row = self.conn.execute(
                "select compression, data, base_id from header_blocks where id = ?", [next_id]).fetchone()
            if row is None:
                raise compression.Undecodable(f"header block {next_id} is missing")
            if len(chain) == KEYFRAME_EVERY:
                raise compression.Undecodable(f"its chain of deltas is longer than {KEYFRAME_EVERY} blocks")
            chain.append((next_id, row))
            if row[0] != compression.HEADER_DELTA:
                break
            next_id = row[2]
        base = self._decoded.get(next_id)
        for chain_id, (kind, data, _) in reversed(chain):
            base = compression.decompress(data, kind, base)
            self.remember(chain_id, base)
        return base

    def head(self, block_id: int) -> dict:
        """A block, decoded."""
        return json.loads(self.data(block_id))

    def remember(self, block_id: int, data: bytes) -> None:
        if len(self._decoded) >= KEEP_DECODED:
            self._decoded.clear()
        self._decoded[block_id] = data


class Store:
    """A writer's view of ``header_blocks``: finds a head's block or stores it, as a delta when it can."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self._reader = Reader(conn)
        self._ids: dict[bytes, int] = {}  # JSON -> id, as found or written by this writer
        self._last: dict[bool, tuple[int, bytes, int]] = {}  # is a request -> (id, JSON, chain depth)

    def id_of(self, head: dict | None) -> int | None:
        """The id of the block holding ``head`` (None for none), stored now if new."""
        if head is None:
            return None
        data = dump(head)
        block_id = self._ids.get(data)
        if block_id is None:
            block_id = self._find(data) or self._store(data, "method" in head)
            self._ids[data] = block_id
        return block_id

    def forget(self) -> None:
        """Drop what is remembered: the transaction that wrote it rolled back."""
        self._reader = Reader(self.conn)
        self._ids.clear()
        self._last.clear()

    def _find(self, data: bytes) -> int | None:
        for (block_id,) in self.conn.execute("select id from header_blocks where hash = ?", [key(data)]).fetchall():
            if self._reader.data(block_id) == data:
                return block_id
        return None

    def _store(self, data: bytes, is_request: bool) -> int:
        base = self._last.get(is_request)
        if base is not None and base[2] < KEYFRAME_EVERY - 1:
            kind, packed = compression.compress_headers(data, base[1])
            base_id, depth = base[0], base[2] + 1
        else:
            kind, packed = compression.compress_headers(data)
            base_id, depth = None, 0
        block_id = self.conn.execute("insert into header_blocks (hash, compression, data, base_id) values (?, ?, ?, ?)",
                                     [key(data), kind, packed, base_id]).lastrowid
        self._last[is_request] = (block_id, data, depth)
        self._reader.remember(block_id, data)
        return block_id
