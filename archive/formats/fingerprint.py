"""What counts as a page's *content*, and its fingerprint.

Content is the extracted title, author, published date, main text and the
sorted set of outgoing in-scope links. Markup, attributes, comments, scripts,
the page chrome and the noise rules' matches are not content, so per-request
noise never changes the fingerprint; neither do line breaks, so wrappers that
move text between blocks are not changes. A document's content is its bytes.

A fingerprint reads ``html:<sha256 hex>`` or ``bytes:<sha256 hex>``;
``contents.fingerprint`` stores it packed (:func:`pack_fingerprint`, since
``m020``): its kind as one byte, then the digest's 32 bytes.
"""

import hashlib
import json
import re

from wwc_archive.records import Extracted

_SPACE = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def normalize_text(text: str) -> str:
    """Fold runs of spaces, trim lines, keep one blank line between paragraphs."""
    lines = _SPACE.sub(" ", text).split("\n")
    return _BLANK_LINES.sub("\n\n", "\n".join(line.strip() for line in lines)).strip()


def normalized(extracted: Extracted) -> Extracted:
    return Extracted(
        title=" ".join(extracted.title.split()),
        author=" ".join(extracted.author.split()),
        published=extracted.published.strip(),
        text=normalize_text(extracted.text),
        links=tuple(sorted(set(extracted.links))),
        items=extracted.items,  # kept with the content, not part of its fingerprint
        times=extracted.times,  # read when comparing versions (archive.comparison)
    )


def content_fingerprint(extracted: Extracted) -> str:
    """A stable hash of a page's content."""
    return normalized_fingerprint(normalized(extracted))


def normalized_fingerprint(e: Extracted) -> str:
    """:func:`content_fingerprint` of content already passed through :func:`normalized`."""
    words = " ".join(e.text.split())  # layout (line breaks) is not content
    payload = json.dumps([e.title, e.author, e.published, words, list(e.links)], ensure_ascii=False)
    return "html:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()


def document_fingerprint(body: bytes) -> str:
    return "bytes:" + hashlib.sha256(body).hexdigest()


#: A fingerprint's kind, packed as one byte.
_KINDS = {"html:": b"h", "bytes:": b"b"}


def pack_fingerprint(fingerprint: str) -> bytes | str:
    """A fingerprint as ``contents.fingerprint`` stores it: 33 bytes, or the text itself if it is not one
    this module makes (so it still compares equal to itself)."""
    for prefix, kind in _KINDS.items():
        if fingerprint.startswith(prefix):
            try:
                packed = kind + bytes.fromhex(fingerprint[len(prefix):])
            except ValueError:
                return fingerprint
            return packed if len(packed) == 33 and unpack_fingerprint(packed) == fingerprint else fingerprint
    return fingerprint


def unpack_fingerprint(stored: bytes | str | None) -> str | None:
    """The fingerprint ``contents.fingerprint`` holds, as text (``html:…`` or ``bytes:…``)."""
    if isinstance(stored, bytes):
        for prefix, kind in _KINDS.items():
            if stored[:1] == kind:
                return prefix + stored[1:].hex()
        return stored.hex()
    return stored
