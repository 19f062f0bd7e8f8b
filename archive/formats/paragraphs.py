"""A text as a list of paragraphs, and a list of paragraph ids as compact bytes.

Pure functions, no SQL. A paragraph is a piece of ``text.split("\\n\\n")``, so
:func:`join` gives any text back byte for byte (empty pieces included). An id
list is stored as zigzag varints of the differences between neighbours (a
listing's ids run in steps of one, an article's near each other), prefixed by
one byte that says whether zstd compressed the varints further.

A long list (a hub's thousands of ids) may instead be stored as a delta: zstd
with the varints of the same page's previous list as its dictionary, which
costs a few dozen bytes when one article was added. It names its base (a
``contents`` id) and how many deltas lie under it; :func:`varints` needs the
base's varints to read it, and finding them is the caller's job
(:mod:`wwc_archive.archive.formats.idlists`).
"""

import zstandard

from wwc_archive.archive.formats import varints as varints_codec

SEPARATOR = "\n\n"
_RAW, _ZSTD, _DELTA = b"\x00", b"\x01", b"\x02"
#: zstd only pays beyond a few dozen bytes (its frame header alone is ~10).
_ZSTD_FROM = 64
#: zstd level of a delta: its dictionary (the base) does the work; level 3 gives ~30 bytes a version.
_DELTA_LEVEL = 3


def split(text: str) -> list[str]:
    """The paragraphs of ``text``: ``join(split(text)) == text`` for every string."""
    return text.split(SEPARATOR)


def join(paragraphs: list[str]) -> str:
    return SEPARATOR.join(paragraphs)


def encode(ids: list[int]) -> bytes:
    """``ids`` (non-negative integers, in order, repeats allowed) as bytes for ``contents.paragraph_ids``."""
    raw = varints_codec.encode_steps(ids)
    if len(raw) >= _ZSTD_FROM:
        packed = zstandard.ZstdCompressor(level=3).compress(raw)
        if len(packed) < len(raw):
            return _ZSTD + packed
    return _RAW + raw


def encode_delta(ids: list[int], base_id: int, base_varints: bytes, depth: int) -> bytes:
    """``ids`` as a delta against the list whose :func:`varints` are ``base_varints``.

    ``base_id`` names that list's ``contents`` row; ``depth`` is how many
    deltas it takes to read this one (1 on a whole list).
    """
    return delta_of_varints(varints_codec.encode_steps(ids), base_id, base_varints, depth)


def delta_of_varints(raw: bytes, base_id: int, base_varints: bytes, depth: int) -> bytes:
    """:func:`encode_delta` of the list whose :func:`varints` are ``raw``."""
    packed = zstandard.ZstdCompressor(level=_DELTA_LEVEL, dict_data=_dictionary(base_varints)).compress(raw)
    return _DELTA + varints_codec.encode_steps([base_id, base_id + depth]) + packed  # the header: base id, then depth


def delta_base(data: bytes) -> tuple[int, int] | None:
    """``(base id, depth)`` of a delta, None for a whole list."""
    if data[:1] != _DELTA:
        return None
    base_id, depth, _ = _delta_header(data)
    return base_id, depth


def varints(data: bytes, base_varints: bytes | None = None) -> bytes:
    """The zigzag varints of a stored list; a delta needs its base's (``base_varints``)."""
    kind = data[:1]
    try:
        if kind == _RAW:
            return data[1:]
        if kind == _ZSTD:
            return zstandard.ZstdDecompressor().decompress(data[1:])
        if kind == _DELTA:
            if base_varints is None:
                raise ValueError("a delta id list needs its base")
            packed = data[_delta_header(data)[2]:]
            return zstandard.ZstdDecompressor(dict_data=_dictionary(base_varints)).decompress(packed)
    except zstandard.ZstdError as error:
        raise ValueError(f"a paragraph id list that zstd cannot decode ({error})") from None
    raise ValueError("not a paragraph id list")


def decode(data: bytes, base_varints: bytes | None = None) -> list[int]:
    """The ids :func:`encode` (or :func:`encode_delta`) stored; raises ValueError on bytes it did not make."""
    return parse(varints(data, base_varints))


def parse(raw: bytes) -> list[int]:
    """The ids of zigzag varints (:func:`varints`)."""
    try:
        return varints_codec.decode_steps(raw)
    except varints_codec.Truncated:
        raise ValueError("a paragraph id list ends inside a number") from None


def _delta_header(data: bytes) -> tuple[int, int, int]:
    """``(base id, depth, offset of the zstd frame)`` of a delta."""
    end = 1
    for _ in range(2):  # two varints
        while end < len(data) and data[end] & 0x80:
            end += 1
        end += 1
    if end > len(data):
        raise ValueError("a delta id list ends inside its header")
    base_id, until_depth = parse(data[1:end])
    return base_id, until_depth - base_id, end


def _dictionary(base_varints: bytes) -> zstandard.ZstdCompressionDict:
    return zstandard.ZstdCompressionDict(base_varints, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
