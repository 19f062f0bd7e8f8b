"""Bit-level integer codes for packed blobs: Rice codes and Exp-Golomb codes, most significant bit first.

A stream is read and written as a string of ``0``/``1`` characters (``str.find``
locates a run of ones in C, which keeps a pure-Python reader fast) and stored
as bytes, its last byte padded with ``1`` bits. A Rice code either holds a
``0`` or is longer than :data:`UNARY_LIMIT` bits, so after one, fewer than 8
ones left are padding, never a code: a stream whose items each end with a
Rice code needs no length.
"""

#: A Rice code's unary part is at most this many ones; a larger quotient is
#: this many ones and then the rest of the value as an Exp-Golomb code.
UNARY_LIMIT = 16


class Truncated(ValueError):
    """The stream ends inside a code, or its padding is not fewer than 8 ones."""


class Writer:
    """Appends codes to a stream; :meth:`getvalue` is the stream so far as bytes, padded."""

    def __init__(self, whole: bytes = b"", pending: str = ""):
        self._whole = bytearray(whole)  # complete bytes
        self._bits = [pending]  # the bits after them, not yet made bytes

    def rice(self, value: int, k: int) -> None:
        """``value`` (>= 0) as a Rice code with parameter ``k``: ``value >> k`` in unary, then its ``k`` low bits."""
        quotient = value >> k
        if quotient < UNARY_LIMIT:
            self._bits.append("1" * quotient + "0" + (format(value & ((1 << k) - 1), f"0{k}b") if k else ""))
        else:
            self._bits.append("1" * UNARY_LIMIT)
            self.gamma(value - (UNARY_LIMIT << k))

    def gamma(self, value: int) -> None:
        """``value`` (>= 0) as an Exp-Golomb code of order 0: ``n`` zeros, then ``value + 1`` in ``n + 1`` bits."""
        digits = format(value + 1, "b")
        self._bits.append("0" * (len(digits) - 1) + digits)

    def getvalue(self) -> bytes:
        bits = "".join(self._bits)
        whole = len(bits) // 8 * 8
        if whole:
            self._whole += int(bits[:whole], 2).to_bytes(whole // 8, "big")
        pending = bits[whole:]
        self._bits = [pending]
        return bytes(self._whole) + (bytes([int(pending.ljust(8, "1"), 2)]) if pending else b"")


class Reader:
    """Reads codes from a stream written by :class:`Writer`; raises :class:`Truncated` for a damaged one."""

    def __init__(self, data: bytes):
        self.bits = format(int.from_bytes(data, "big"), f"0{len(data) * 8}b") if data else ""
        self.pos = 0

    def at_end(self) -> bool:
        """Whether only padding is left (fewer than 8 ones); ask only after a Rice code."""
        rest = len(self.bits) - self.pos
        return rest < 8 and self.bits.find("0", self.pos) == -1

    def rice(self, k: int) -> int:
        bits, pos = self.bits, self.pos
        zero = bits.find("0", pos, pos + UNARY_LIMIT)
        if zero == -1:
            if pos + UNARY_LIMIT > len(bits):
                raise Truncated("the stream ends inside a code")
            self.pos = pos + UNARY_LIMIT
            return (UNARY_LIMIT << k) + self.gamma()
        end = zero + 1 + k
        if end > len(bits):
            raise Truncated("the stream ends inside a code")
        self.pos = end
        return ((zero - pos) << k) | (int(bits[zero + 1:end], 2) if k else 0)

    def gamma(self) -> int:
        bits, pos = self.bits, self.pos
        one = bits.find("1", pos)
        end = 2 * one - pos + 1
        if one == -1 or end > len(bits):
            raise Truncated("the stream ends inside a code")
        self.pos = end
        return int(bits[one:end], 2) - 1

    def tail(self) -> tuple[bytes, str]:
        """The stream up to here as :class:`Writer` arguments, to append after it."""
        whole = self.pos // 8 * 8
        return (int(self.bits[:whole], 2).to_bytes(whole // 8, "big") if whole else b""), self.bits[whole:self.pos]
