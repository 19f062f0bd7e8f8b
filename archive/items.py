"""A listing version's item ids as compact bytes: zigzag-varint deltas, zstd when it helps.

A listing mostly keeps its order from one version to the next, so the
differences between neighbouring ids are small and repeat: one byte each,
and fewer once zstd has seen the pattern. Pure functions, no database.
"""

import zstandard

#: First byte of the encoding: the varints as they are, or zstd-compressed.
RAW, ZSTD = b"v", b"z"


def encode(ids) -> bytes:
    """``[12, 13, 14, 7]`` -> bytes that :func:`decode` turns back into that list."""
    out, previous = bytearray(), 0
    for value in ids:
        delta = value - previous
        previous = value
        zigzag = (delta << 1) if delta >= 0 else ((-delta << 1) - 1)
        while zigzag >= 0x80:
            out.append((zigzag & 0x7F) | 0x80)
            zigzag >>= 7
        out.append(zigzag)
    raw = bytes(out)
    packed = zstandard.ZstdCompressor(level=3).compress(raw)
    return ZSTD + packed if len(packed) < len(raw) else RAW + raw


def decode(data: bytes) -> list[int]:
    """The ids :func:`encode` encoded; ValueError for bytes it did not write."""
    kind, body = data[:1], data[1:]
    if kind == ZSTD:
        body = zstandard.ZstdDecompressor().decompress(body)
    elif kind != RAW:
        raise ValueError("not an encoded list of item ids")
    ids, value, zigzag, shift = [], 0, 0, 0
    for byte in body:
        zigzag |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
            continue
        value += (zigzag >> 1) if not zigzag & 1 else -((zigzag + 1) >> 1)
        ids.append(value)
        zigzag = shift = 0
    if shift:
        raise ValueError("the encoded item ids are cut short")
    return ids
