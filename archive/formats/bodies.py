"""The ``bodies`` table: each distinct response body once, most as a zstd delta on another body.

A page's bodies form chains of deltas, each on the page's previous body
(:mod:`~wwc_archive.archive.formats.compression` holds the codecs):
:class:`BodyStore` is the write side (which base, which codec, where a chain
starts again), :class:`BodyReader` the read side (a body's bytes through its
chain), shared by the write door, the read door, ``check``, WARC export and
the ``m018`` upgrade.
"""

from collections import OrderedDict

from sqlite_utils import Database

from wwc_archive.archive.formats import compression as codec, lookup_keys

#: A page's bodies form chains of zstd deltas, each against the page's previous
#: body; a chain is at most 128 bodies long, so reading one decodes at most 127
#: deltas (about 4 ms for a listing page). A "Show more" page changes whenever an
#: article is published: at 16 its keyframes were a third of its bytes, at 128
#: they are a twentieth. A page's first body, and the body that would make its
#: chain too long, is a delta on the last body the run stored for a page of the
#: same role and type when that is smaller than whole (a new article is about a
#: third of its size), so chains may cross pages.
KEYFRAME_EVERY = 128
#: The longest chain of deltas a body may sit on: the writer starts a keyframe
#: well before (:data:`KEYFRAME_EVERY`); longer means damage.
MAX_CHAIN = 256
#: Compressions whose bodies decode against a base (``bodies.base_id``).
DELTAS = codec.DELTAS


def body_address(stored) -> str:
    """A body's SHA-256 as lowercase hex: ``bodies.sha256`` holds its 32 bytes (hex text before m016)."""
    if isinstance(stored, bytes):
        return stored.hex()
    return str(stored or "")


class BodyReader:
    """Reads bodies' original bytes through their delta chains, keeping the last decoded ones.

    Reading many bodies in id order (``check``, an export) decodes each base once.
    """

    def __init__(self, db: Database, keep: int = 64):
        self.db = db
        self.keep = keep
        self._decoded: OrderedDict[int, _Decoded] = OrderedDict()

    def read(self, body_id: int) -> bytes:
        """The body's original bytes; raises ``compression.Undecodable`` for damaged data."""
        return self._decode(body_id).body()

    def payload(self, body_id: int) -> bytes:
        """What a ``zstd-n1`` delta on this body is compressed against (:func:`compression.payload`)."""
        return self._decode(body_id).payload()

    def remember(self, body_id: int, data: bytes, payload: bytes | None = None) -> None:
        """Keep a body's decoded bytes, and its payload if known (bodies never change once stored)."""
        self._keep(body_id, _Decoded(body=data, split=payload))

    def _decode(self, body_id: int) -> "_Decoded":
        chain = []  # (id, compression, data), newest first
        next_id, base = body_id, None
        while next_id is not None:
            if next_id in self._decoded:
                base = self._decoded[next_id]
                self._decoded.move_to_end(next_id)
                break
            if len(chain) > MAX_CHAIN:
                raise codec.Undecodable(f"its delta chain is longer than {MAX_CHAIN}")
            row = self.db.execute(
                "select compression, data, base_id from bodies where id = ?", [next_id]).fetchone()
            if row is None:
                raise LookupError(f"no body with id {next_id}")
            compression, data, base_id = row
            chain.append((next_id, compression, data or b""))
            next_id = base_id if compression in codec.DELTAS else None
        for chain_id, compression, data in reversed(chain):
            if compression == codec.SPLIT_DELTA:  # read against the base's split; joined only when asked
                base = _Decoded(split=codec.decompress_payload(data, base.payload()))
            else:
                base = _Decoded(body=codec.decompress(data, compression, base and base.body()))
            self._keep(chain_id, base)
        return base

    def _keep(self, body_id: int, decoded: "_Decoded") -> None:
        self._decoded[body_id] = decoded
        while len(self._decoded) > self.keep:
            self._decoded.popitem(last=False)


class _Decoded:
    """A decoded body: its bytes, its split payload, or both, each made from the other when first asked."""

    __slots__ = ("_body", "_split")

    def __init__(self, body: bytes | None = None, split: bytes | None = None):
        self._body, self._split = body, split

    def body(self) -> bytes:
        if self._body is None:
            self._body = codec.body_of_payload(self._split)
        return self._body

    def payload(self) -> bytes:
        if self._split is None:
            self._split = codec.payload(self._body)
        return self._split


class BodyStore:
    """A writer's view of ``bodies``: finds a body by its SHA-256 or stores it, as a delta when it can."""

    def __init__(self, db: Database):
        self.db = db
        self.reader = BodyReader(db)  # bases for deltas, the newest stored kept decoded
        self._depths: dict[int, int] = {}  # body id -> deltas between it and its keyframe
        self._alike: dict[tuple, int] = {}  # (role, content type) -> the last body stored for such a page

    def id_of(self, body: bytes, sha: bytes, content_type: str | None, role: str, previous: int | None) -> int:
        """The id of the body with this SHA-256, stored now if new: as a delta on ``previous`` (the page's
        last body), or (a new page, or its chain is full) on the last body stored for a page like it."""
        body_id = lookup_keys.body_id(self.db.conn, sha)
        if body_id is None:
            alike = (role, content_type)
            base_id = self._open_base(previous)
            if base_id is not None:
                kind, data = self._compress(body, base_id)
            else:
                base_id = self._open_base(self._alike.get(alike))
                kind, data = self._compress_alike(body, base_id)
                if kind not in codec.DELTAS:
                    base_id = None  # stored whole
            body_id = self.db.conn.execute(
                "insert into bodies (sha256, size, content_type, compression, data, base_id) "
                "values (?, ?, ?, ?, ?, ?)", [sha, len(body), content_type, kind, data, base_id]).lastrowid
            self._depths[body_id] = 0 if base_id is None else self._depth(base_id) + 1
            self._alike[alike] = body_id
        self.reader.remember(body_id, body)
        return body_id

    def forget(self) -> None:
        """Drop what is remembered: the transaction that wrote it rolled back."""
        self.reader = BodyReader(self.db)
        self._depths.clear()
        self._alike.clear()

    def _open_base(self, body_id: int | None) -> int | None:
        """``body_id`` if a delta on it keeps its chain shorter than :data:`KEYFRAME_EVERY`, else None."""
        return body_id if body_id is not None and self._depth(body_id) + 1 < KEYFRAME_EVERY else None

    def _compress(self, body: bytes, base_id: int) -> tuple[str, bytes]:
        """``body`` as a delta on ``base_id`` (split from its noise when it splits).

        The base is still in memory when stored lately, else read through its chain.
        """
        split = codec.split_delta(body, self.reader.payload(base_id))
        if split is not None:
            return codec.SPLIT_DELTA, split[0]
        return codec.plain_delta(body, self.reader.read(base_id))

    def _compress_alike(self, body: bytes, base_id: int | None) -> tuple[str, bytes]:
        """``body`` whole, or as a quick ``zstd-delta`` on another page's body when that is smaller.

        A new article against the article stored before it takes about a third
        of its size whole (its template, menus and footer are the base's). The
        delta is a plain one at :data:`~wwc_archive.archive.formats.compression.ALIKE_LEVEL`:
        a first crawl stores thousands of them, and splitting costs 2-3 ms a page.
        A delta of under a tenth of the body is kept without compressing the
        body whole too (zstd alone packs a Drupal page to about a fifth).
        """
        if base_id is None:
            return codec.compress(body)
        delta = codec.plain_delta(body, self.reader.read(base_id), level=codec.ALIKE_LEVEL)
        if len(delta[1]) < len(body) // 10:
            return delta
        whole = codec.compress(body)
        return delta if len(delta[1]) < len(whole[1]) else whole

    def _depth(self, body_id: int) -> int:
        """How many deltas lie between a body and its keyframe (0: stored whole)."""
        depth = self._depths.get(body_id)
        if depth is None:
            depth, next_id = 0, body_id
            while depth < KEYFRAME_EVERY:
                row = self.db.conn.execute(
                    "select compression, base_id from bodies where id = ?", [next_id]).fetchone()
                if row is None or row[0] not in codec.DELTAS:
                    break
                depth, next_id = depth + 1, row[1]
            self._depths[body_id] = depth
        return depth
