"""Archived bodies as text, safely: only real text encodings, never UTF-7, UTF-8 otherwise."""

import codecs
from collections.abc import Callable

from markupsafe import Markup, escape

from wwc_archive.archive.read import Undecodable

#: Characters of a decoded body shown in a table cell.
BODY_PREVIEW = 1000
#: Encodings a page may not choose: UTF-7 smuggles markup past filters; IDNA and
#: Punycode encode host names and raise on ordinary text.
REFUSED = frozenset({"utf-7", "idna", "punycode"})


def text_encoding(content_type: str | None) -> str:
    """The ``charset`` of a Content-Type when it names a real text encoding, else ``utf-8``."""
    for part in (content_type or "").split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.strip().lower() != "charset":
            continue
        try:
            info = codecs.lookup(value.strip().strip('"\''))
        except LookupError:
            break
        if getattr(info, "_is_text_encoding", True) and info.name not in REFUSED:
            return info.name
        break
    return "utf-8"


def decode(raw: bytes, content_type: str | None) -> str:
    """``raw`` as text in its declared encoding, bad bytes replaced; UTF-8 if that fails."""
    try:
        return raw.decode(text_encoding(content_type), errors="replace")
    except (UnicodeError, LookupError, ValueError):
        return raw.decode("utf-8", errors="replace")


def is_text(content_type: str | None) -> bool:
    kind = (content_type or "").split(";")[0].strip().lower()
    return not kind or kind.startswith("text/") or kind.endswith(("+xml", "/xml", "/json"))


def body_preview(read: Callable[[], bytes], stored_size: int, content_type: str | None) -> Markup:
    """The start of a stored body as text (``read`` decodes it), or a note for binary files."""
    try:
        raw = read()
    except (Undecodable, LookupError):
        return Markup(f"&lt;{stored_size:,} bytes that do not decompress&gt;")
    if not is_text(content_type):
        kind = (content_type or "").split(";")[0].strip().lower()
        return Markup(f"&lt;{escape(kind)}: {len(raw):,} bytes&gt;")
    text = decode(raw, content_type)
    more = len(text) - BODY_PREVIEW
    tail = f"\n… {more:,} more characters" if more > 0 else ""
    return Markup(f'<pre style="white-space: pre-wrap; max-height: 20em; overflow: auto">'
                  f"{escape(text[:BODY_PREVIEW])}{escape(tail)}</pre>")
