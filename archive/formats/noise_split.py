"""An HTML body split into its skeleton and its per-request noise, and joined back byte for byte.

Two fetches of a Drupal page differ, even when nothing on it changed, in
tokens (form build ids, CSRF tokens, views DOM ids, image ``itok``\\ s, cache
busters), in the order and spacing of tags' attributes, and in the whitespace
between tags. In a zstd delta on the page's previous version each such spot
breaks a match and costs a few bytes more than its information. :func:`split`
takes them out of the way:

- the *skeleton*: the body with each token replaced by a three-byte marker,
  each tag's attributes sorted and single-spaced, and no whitespace between
  ``>`` and ``<``. Two versions of a page have different skeletons only where
  the page changed, so a delta of skeletons is about the size of the change;
- the *choices*: for each gap between tags its whitespace, then for each tag
  with two or more attributes their order and spacing, one byte or so each;
- the *tokens*: each new token's value in whole bytes, packed (a value
  repeated in the body is a reference to its first).

:func:`join` reverses it exactly. :mod:`~wwc_archive.archive.formats.compression`
stores ``zstd-n1`` bodies with it (and checks the round trip before it
does). Never change what this module computes: stored bodies decode with it.
"""

import re
from typing import NamedTuple

from wwc_archive.archive.formats import varints

#: Bytes a splittable body must not contain: the marker byte.
MARKER = b"\x01"
_NEW_HEX, _NEW_B64, _REPEAT = b"h", b"b", b"r"
_MAX = 127  # longest token, and the highest index a reference can name

#: Tokens: an image style's itok, a one-letter cache buster, a long hex id (views DOM
#: ids), a long base64url string (form build ids, CSRF tokens; see ``_looks_random``).
_TOKEN = re.compile(
    rb"(?<=itok=)[A-Za-z0-9_-]{8}(?![A-Za-z0-9_-])"
    rb"|(?<=[?&][a-z]=)[A-Za-z0-9_-]{4,16}(?=[\"'&])"
    rb"|(?<![A-Za-z0-9])[0-9a-f]{32,127}(?![A-Za-z0-9])"
    rb"|(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{20,127}(?![A-Za-z0-9_-])")
#: A long hex id inside a run that is not itself a token (``js-view-dom-id-…``).
_HEX_INSIDE = re.compile(rb"(?<![A-Za-z0-9])[0-9a-f]{32,127}(?![A-Za-z0-9])")
_HEX = frozenset(b"0123456789abcdef")
_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_B64_VALUE = {c: i for i, c in enumerate(_B64)}
_HAS_DIGIT, _HAS_UPPER, _HAS_LOWER = re.compile(rb"[0-9]"), re.compile(rb"[A-Z]"), re.compile(rb"[a-z]")
_MARKERS = re.compile(rb"\x01([hbr])([\x80-\xff])")

_SPACE = rb"[ \t\n\r\f]"
_ATTRIBUTE = rb"[a-zA-Z_:@][-a-zA-Z0-9_:.@]*(?:=\"[^\"<>]*\"|='[^'<>]*')?"
#: A start tag with two or more attributes, each quoted or bare.
_TAG = re.compile(rb"<([a-zA-Z][a-zA-Z0-9:-]*)((?:" + _SPACE + rb"+" + _ATTRIBUTE + rb"){2,})(" + _SPACE
                  + rb"*)(/?)>")
_ATTRIBUTES = re.compile(rb"(" + _SPACE + rb"+)(" + _ATTRIBUTE + rb")")
_CANONICAL_ATTRIBUTES = re.compile(rb" (" + _ATTRIBUTE + rb")")
_GAP = re.compile(rb">(" + _SPACE + rb"*)<")

#: Whitespace as one byte: the index of a common string here, or 255 then its length and bytes.
_WHITESPACE = (b"", b" ", b"\n", b"\n  ", b"\n    ", b"\n\n", b"\t", b"  ", b"\n ", b"\n   ", b"\n      ",
               b"\n        ", b" \n ", b"\n\t", b"\n\t\t", b"\r\n", b"\r\n  ", b"\r\n    ", b"\r\n\r\n",
               b"   ", b"    ", b"\n\n\n", b"\n\n  ", b"\n  \n")
_WHITESPACE_CODE = {text: code for code, text in enumerate(_WHITESPACE)}
_OTHER = 255


class Split(NamedTuple):
    """A body as :func:`split` gives it: three streams that :func:`join` makes it again from."""

    skeleton: bytes
    choices: bytes
    tokens: bytes  # new tokens' values, each in whole bytes: 4 bits a hex digit, 6 a base64url character


class Unsplittable(ValueError):
    """Streams :func:`join` cannot make a body from."""


def pack(parts: Split) -> bytes:
    """The three parts as one byte string: the first two's lengths, then the parts."""
    return varints.encode(len(parts.skeleton)) + varints.encode(len(parts.choices)) + parts.skeleton + parts.choices + parts.tokens


def unpack(data: bytes) -> Split:
    """The :class:`Split` that :func:`pack` gave ``data`` for."""
    reader = _Reader(data)
    skeleton_length, choices_length = reader.varint(), reader.varint()
    skeleton, choices = reader.take(skeleton_length), reader.take(choices_length)
    return Split(skeleton, choices, data[reader.at:])


def split(body: bytes) -> Split | None:
    """``body`` split; ``None`` for a body that holds the marker byte (not HTML text)."""
    if MARKER in body:
        return None
    seen: dict[bytes, int] = {}
    values = bytearray()

    def token(match: re.Match) -> bytes:
        value = match.group(0)
        if value in seen:
            return MARKER + _REPEAT + bytes([0x80 + seen[value]])
        if _HEX.issuperset(value):
            marker = _NEW_HEX
            values.extend(_pack(int(value, 16), 4 * len(value)))
        elif len(value) < 20 or _looks_random(value):
            marker = _NEW_B64
            values.extend(_pack(_base64_number(value), 6 * len(value)))
        else:
            return _HEX_INSIDE.sub(token, value)
        if len(seen) <= _MAX:
            seen[value] = len(seen)
        return MARKER + marker + bytes([0x80 + len(value)])

    tagged = _TOKEN.sub(token, body)
    tag_choices = bytearray()

    def tag(match: re.Match) -> bytes:
        spaces, attributes = zip(*_ATTRIBUTES.findall(match.group(2)))
        order = sorted(range(len(attributes)), key=attributes.__getitem__)
        tag_choices.extend(varints.encode(_lehmer(order)))
        for space in spaces + (match.group(3),):
            tag_choices.extend(_whitespace(space))
        return b"<" + match.group(1) + b"".join(b" " + attributes[i] for i in order) + match.group(4) + b">"

    canonical = _TAG.sub(tag, tagged)
    gap_choices = bytearray()

    def gap(match: re.Match) -> bytes:
        gap_choices.extend(_whitespace(match.group(1)))
        return b"><"

    skeleton = _GAP.sub(gap, canonical)
    return Split(skeleton, bytes(gap_choices + tag_choices), bytes(values))


def join(parts: Split) -> bytes:
    """The body :func:`split` gave ``parts`` for; raises :class:`Unsplittable` for damaged parts."""
    reader = _Reader(parts.choices)
    pieces = parts.skeleton.split(b"><")
    canonical = [pieces[0]]
    for piece in pieces[1:]:
        canonical += (b">", reader.whitespace(), b"<", piece)
    canonical = b"".join(canonical)

    def tag(match: re.Match) -> bytes:
        attributes = _CANONICAL_ATTRIBUTES.findall(match.group(2))
        order = _unlehmer(reader.varint(), len(attributes))
        original = [b""] * len(attributes)
        for sorted_at, position in enumerate(order):
            original[position] = attributes[sorted_at]
        spaces = [reader.whitespace() for _ in range(len(attributes) + 1)]
        return (b"<" + match.group(1) + b"".join(s + a for s, a in zip(spaces, original)) + spaces[-1]
                + match.group(4) + b">")

    tagged = _TAG.sub(tag, canonical)
    if not reader.at_end():
        raise Unsplittable("its choices outlast its tags")
    values = _Reader(parts.tokens)
    tokens: list[bytes] = []

    def token(match: re.Match) -> bytes:
        kind, number = match.group(1), match.group(2)[0] - 0x80
        if kind == _REPEAT:
            if number >= len(tokens):
                raise Unsplittable("a token repeats one it does not have")
            return tokens[number]
        if kind == _NEW_HEX:
            value = format(values.number(4 * number), f"0{number}x").encode()
        else:
            packed = values.number(6 * number)
            value = bytes(_B64[packed >> 6 * (number - 1 - i) & 63] for i in range(number))
        if len(tokens) <= _MAX:
            tokens.append(value)
        return value

    body = _MARKERS.sub(token, tagged)
    if not values.at_end():
        raise Unsplittable("its token values outlast its tokens")
    return body


def _looks_random(value: bytes) -> bool:
    """A long base64url run with digits and both cases: a token, not a slug or a word."""
    return bool(_HAS_DIGIT.search(value) and _HAS_UPPER.search(value) and _HAS_LOWER.search(value))


def _whitespace(text: bytes) -> bytes:
    code = _WHITESPACE_CODE.get(text)
    return bytes([code]) if code is not None else bytes([_OTHER]) + varints.encode(len(text)) + text


def _lehmer(order: list[int]) -> int:
    """The rank of a permutation (``order[k]`` is the original position of the k-th sorted item)."""
    rank = [0] * len(order)
    for sorted_at, position in enumerate(order):
        rank[position] = sorted_at
    code, left = 0, list(range(len(order)))
    for position, sorted_at in enumerate(rank):
        index = left.index(sorted_at)
        left.pop(index)
        code = code * (len(order) - position) + index
    return code


def _unlehmer(code: int, n: int) -> list[int]:
    """The ``order`` whose :func:`_lehmer` is ``code``."""
    indexes = []
    for size in range(1, n + 1):
        code, index = divmod(code, size)
        indexes.append(index)
    left, rank = list(range(n)), []
    for index in reversed(indexes):
        rank.append(left.pop(index))
    order = [0] * n
    for position, sorted_at in enumerate(rank):
        order[sorted_at] = position
    return order


def _base64_number(value: bytes) -> int:
    number = 0
    for character in value:
        number = number << 6 | _B64_VALUE[character]
    return number


def _pack(number: int, bits: int) -> bytes:
    """``number`` of ``bits`` bits in whole bytes, padded at the end."""
    padding = -bits % 8
    return (number << padding).to_bytes((bits + padding) // 8, "big")


class _Reader:
    """Reads a stream in the order :func:`split` wrote it."""

    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def at_end(self) -> bool:
        return self.at == len(self.data)

    def whitespace(self) -> bytes:
        code = self._byte()
        if code != _OTHER:
            if code >= len(_WHITESPACE):
                raise Unsplittable(f"unknown whitespace code {code}")
            return _WHITESPACE[code]
        length = self.varint()
        return self.take(length)

    def varint(self) -> int:
        try:
            value, self.at = varints.read(self.data, self.at)
        except varints.Truncated:
            raise Unsplittable("it ends early") from None
        return value

    def number(self, bits: int) -> int:
        """A value :func:`_pack` wrote with ``bits`` bits."""
        padding = -bits % 8
        return int.from_bytes(self.take((bits + padding) // 8), "big") >> padding

    def _byte(self) -> int:
        return self.take(1)[0]

    def take(self, length: int) -> bytes:
        """The next ``length`` bytes."""
        if self.at + length > len(self.data):
            raise Unsplittable("it ends early")
        self.at += length
        return self.data[self.at - length:self.at]
