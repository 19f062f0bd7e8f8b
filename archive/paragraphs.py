"""A text as a list of paragraphs, and a list of paragraph ids as compact bytes.

Pure functions, no SQL. A paragraph is a piece of ``text.split("\\n\\n")``, so
:func:`join` gives any text back byte for byte (empty pieces included). An id
list is stored as zigzag varints of the differences between neighbours (a
listing's ids run in steps of one, an article's near each other), prefixed by
one byte that says whether zstd compressed the varints further.
"""

import zstandard

SEPARATOR = "\n\n"
_RAW, _ZSTD = b"\x00", b"\x01"
#: zstd only pays beyond a few dozen bytes (its frame header alone is ~10).
_ZSTD_FROM = 64


def split(text: str) -> list[str]:
    """The paragraphs of ``text``: ``join(split(text)) == text`` for every string."""
    return text.split(SEPARATOR)


def join(paragraphs: list[str]) -> str:
    return SEPARATOR.join(paragraphs)


def encode(ids: list[int]) -> bytes:
    """``ids`` (non-negative integers, in order, repeats allowed) as bytes for ``contents.paragraph_ids``."""
    out, previous = bytearray(), 0
    for value in ids:
        delta = value - previous
        previous = value
        zigzag = delta * 2 if delta >= 0 else -delta * 2 - 1
        while zigzag >= 0x80:
            out.append(zigzag & 0x7F | 0x80)
            zigzag >>= 7
        out.append(zigzag)
    raw = bytes(out)
    if len(raw) >= _ZSTD_FROM:
        packed = zstandard.ZstdCompressor(level=3).compress(raw)
        if len(packed) < len(raw):
            return _ZSTD + packed
    return _RAW + raw


def decode(data: bytes) -> list[int]:
    """The ids :func:`encode` stored; raises ValueError on bytes it did not make."""
    if not data or data[:1] not in (_RAW, _ZSTD):
        raise ValueError("not a paragraph id list")
    try:
        raw = data[1:] if data[:1] == _RAW else zstandard.ZstdDecompressor().decompress(data[1:])
    except zstandard.ZstdError as error:
        raise ValueError(f"a paragraph id list that zstd cannot decode ({error})") from None
    ids, value, zigzag, shift = [], 0, 0, 0
    for byte in raw:
        zigzag |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
            continue
        value += (zigzag >> 1) ^ -(zigzag & 1)
        ids.append(value)
        zigzag = shift = 0
    if shift:
        raise ValueError("a paragraph id list ends inside a number")
    return ids
