"""Varints and zigzag, the one integer codec of id lists, spans and the noise split.

A varint is an unsigned integer in groups of 7 bits, low group first, every
byte but the last with its high bit set (LEB128). Zigzag maps signed to
unsigned (0, -1, 1, -2 … to 0, 1, 2, 3 …). Stored bytes depend on both:
never change them.
"""

from itertools import accumulate


class Truncated(ValueError):
    """The bytes end inside a varint."""


def encode(value: int) -> bytes:
    """``value`` (>= 0) as a varint."""
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def encode_all(values) -> bytes:
    """Each of ``values`` (>= 0) as a varint, one after another."""
    return b"".join(map(encode, values))


def decode_all(data: bytes) -> list[int]:
    """Every varint of ``data``; raises :class:`Truncated` if it ends inside one."""
    values, value, shift = [], 0, 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
        else:
            values.append(value)
            value = shift = 0
    if shift:
        raise Truncated("the bytes end inside a varint")
    return values


def read(data: bytes, at: int) -> tuple[int, int]:
    """The varint that starts at ``data[at]``, and where the next starts; raises :class:`Truncated`."""
    value = shift = 0
    while True:
        if at >= len(data):
            raise Truncated("the bytes end inside a varint")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7


def zigzag(value: int) -> int:
    return value * 2 if value >= 0 else -value * 2 - 1


def unzigzag(value: int) -> int:
    return (value >> 1) ^ -(value & 1)


def encode_steps(values) -> bytes:
    """``values`` as the zigzag varints of each one's difference from the one before (the first's from 0)."""
    out, previous = [], 0
    for value in values:
        out.append(zigzag(value - previous))
        previous = value
    return encode_all(out)


def decode_steps(data: bytes) -> list[int]:
    """The values :func:`encode_steps` wrote; raises :class:`Truncated`."""
    return list(accumulate(map(unzigzag, decode_all(data))))
