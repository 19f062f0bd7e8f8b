"""The demo site's theme files: stylesheets, a web font, a background image, a logo, an icon, a script.

Everything is made here from code (no file is downloaded or bundled): a tiny
TrueType font whose every printable ASCII glyph is a box, solid-colour PNGs
and an SVG logo. Each file has fixed bytes, an ETag and a Last-Modified date,
so a crawl's conditional request for it is answered 304.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from functools import cache

from .content import make_jpeg

FONT_PATH = "/themes/custom/datasmart/fonts/datasmart-sans.ttf"
BACKGROUND_PATH = "/themes/custom/datasmart/images/paper.png"
LOGO_PATH = "/themes/custom/datasmart/logo.svg"
ICON_PATH = "/themes/custom/datasmart/favicon.ico"
TYPOGRAPHY_PATH = "/themes/custom/datasmart/css/typography.css"
#: The family name the stylesheet gives the font.
FONT_FAMILY = "Datasmart Sans"
#: The page background the stylesheet sets (what a replay with the stylesheet applied shows).
BACKGROUND_COLOR = "rgb(246, 243, 238)"
#: All theme files were last modified then.
MODIFIED = "Tue, 03 Nov 2026 09:00:00 GMT"

STYLESHEET = (
    f'@import url("{TYPOGRAPHY_PATH}");\n'
    f'@font-face{{font-family:"{FONT_FAMILY}";src:url({FONT_PATH}) format("truetype");font-display:block}}\n'
    f'body{{font-family:"{FONT_FAMILY}",sans-serif;background:#f6f3ee url({BACKGROUND_PATH}) repeat;'
    "color:#1d2a3a;margin:0}\n"
    ".site-header{border-bottom:4px solid #a51c30;padding:8px 16px}\n"
    ".site-logo img{width:120px;height:32px}\n"
    ".visually-hidden{position:absolute!important;clip:rect(1px,1px,1px,1px)}\n"
).encode()
TYPOGRAPHY = b"h1,h2,h3{color:#a51c30;letter-spacing:.01em}\n.node__meta{font-size:.875rem;color:#55606e}\n"
SCRIPT = b"(function(){window.Drupal=window.Drupal||{behaviors:{}};})();\n"
LOGO = (b'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="32" viewBox="0 0 120 32">'
        b'<rect width="120" height="32" fill="#a51c30"/><rect x="6" y="6" width="20" height="20" fill="#fff"/>'
        b'</svg>\n')


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A solid-colour 8-bit RGB PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(rgb) * width
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * height, 9)) + chunk(b"IEND", b""))


@cache
def font() -> bytes:
    """A minimal valid TrueType font: glyph 0 ``.notdef``, then a box for each of U+0021..U+007E and an
    empty space (U+0020)."""
    first, last = 0x20, 0x7E
    count = last - first + 2  # .notdef + the ASCII range
    box = _glyph(60, 0, 440, 700)
    glyphs = [box, b""] + [box] * (last - first)
    offsets, glyf = [0], b""
    for glyph in glyphs:
        glyf += glyph + b"\x00" * (-len(glyph) % 4)
        offsets.append(len(glyf))
    loca = b"".join(struct.pack(">I", offset) for offset in offsets)
    hmtx = b"".join(struct.pack(">Hh", 500, 60) for _ in range(count))
    head = struct.pack(">IIIIHHqqhhhhHHhhh", 0x00010000, 0x00010000, 0, 0x5F0F3CF5, 0x000B, 1000, 0, 0,
                       60, 0, 440, 700, 0, 8, 2, 1, 0)
    hhea = struct.pack(">IhhhHhhhhhh4hhH", 0x00010000, 800, -200, 0, 500, 60, 60, 440, 1, 0, 0, 0, 0, 0, 0, 0,
                       count)
    maxp = struct.pack(">IHHHHHHHHHHHHHH", 0x00010000, count, 4, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0)
    os2 = struct.pack(">HhHHHhhhhhhhhhhh10s4I4sHHHhhhHHII", 4, 500, 400, 5, 0, 650, 600, 0, 75, 650, 600, 0, 350,
                      50, 250, 0, bytes(10), 1, 0, 0, 0, b"WWCA", 0x40, first, last, 800, -200, 0, 800, 200,
                      1, 0) + struct.pack(">hhHHH", 500, 700, 0, 0x20, 0)
    post = struct.pack(">IIhhIIIII", 0x00030000, 0, -100, 50, 0, 0, 0, 0, 0)
    cmap = _cmap(first, last)
    name = _name({1: FONT_FAMILY, 2: "Regular", 3: FONT_FAMILY + " Regular", 4: FONT_FAMILY,
                  5: "Version 1.000", 6: FONT_FAMILY.replace(" ", "") + "-Regular"})
    tables = {b"OS/2": os2, b"cmap": cmap, b"glyf": glyf, b"head": head, b"hhea": hhea, b"hmtx": hmtx,
              b"loca": loca, b"maxp": maxp, b"name": name, b"post": post}
    return _sfnt(tables)


def _glyph(x0: int, y0: int, x1: int, y1: int) -> bytes:
    """One contour, four on-curve points (a rectangle), no instructions."""
    points = [(x0, y0), (x0, y1), (x1, y1), (x1, y0)]
    flags = bytes([0x01] * 4)
    xs, ys, px, py = b"", b"", 0, 0
    for x, y in points:
        xs += struct.pack(">h", x - px)
        ys += struct.pack(">h", y - py)
        px, py = x, y
    return struct.pack(">hhhhhHH", 1, x0, y0, x1, y1, 3, 0) + flags + xs + ys


def _cmap(first: int, last: int) -> bytes:
    """A format 4 subtable (Windows, Unicode BMP): ``first``..``last`` to glyphs 1.., then the end segment."""
    segments = [(first, last, 1 - first), (0xFFFF, 0xFFFF, 1)]
    count = len(segments)
    search = 2 * 2 ** (count.bit_length() - 1)
    body = struct.pack(">HHHH", count * 2, search, (search // 2).bit_length() - 1, count * 2 - search)
    body += b"".join(struct.pack(">H", end) for _, end, _ in segments) + b"\x00\x00"
    body += b"".join(struct.pack(">H", start) for start, _, _ in segments)
    body += b"".join(struct.pack(">h", ((delta + 0x8000) % 0x10000) - 0x8000) for _, _, delta in segments)
    body += b"\x00\x00" * count
    subtable = struct.pack(">HHH", 4, 6 + len(body), 0) + body
    return struct.pack(">HHHHI", 0, 1, 3, 1, 12) + subtable


def _name(names: dict[int, str]) -> bytes:
    records, strings = b"", b""
    for name_id, text in sorted(names.items()):
        data = text.encode("utf-16-be")
        records += struct.pack(">HHHHHH", 3, 1, 0x409, name_id, len(data), len(strings))
        strings += data
    return struct.pack(">HHH", 0, len(names), 6 + len(records)) + records + strings


def _checksum(data: bytes) -> int:
    data += b"\x00" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(data) // 4}I", data)) & 0xFFFFFFFF


def _sfnt(tables: dict[bytes, bytes]) -> bytes:
    count = len(tables)
    power = 2 ** (count.bit_length() - 1)
    header = struct.pack(">IHHHH", 0x00010000, count, power * 16, power.bit_length() - 1, count * 16 - power * 16)
    offset = 12 + 16 * count
    directory, data, head_offset = b"", b"", 0
    for tag in sorted(tables):
        table = tables[tag]
        if tag == b"head":
            head_offset = offset + len(data)
        directory += struct.pack(">4sIII", tag, _checksum(table), offset + len(data), len(table))
        data += table + b"\x00" * (-len(table) % 4)
    whole = header + directory + data
    adjustment = (0xB1B0AFBA - _checksum(whole)) & 0xFFFFFFFF  # head's checkSumAdjustment, at its byte 8
    return whole[:head_offset + 8] + struct.pack(">I", adjustment) + whole[head_offset + 12:]


@cache
def files() -> dict[str, tuple[str, bytes]]:
    """Path -> (content type, bytes) of every theme file but the article images."""
    from .pages import CSS_HREF, JS_SRC

    return {
        CSS_HREF: ("text/css", STYLESHEET),
        TYPOGRAPHY_PATH: ("text/css", TYPOGRAPHY),
        JS_SRC: ("application/javascript", SCRIPT),
        FONT_PATH: ("font/ttf", font()),
        BACKGROUND_PATH: ("image/png", png(8, 8, (246, 243, 238))),
        LOGO_PATH: ("image/svg+xml", LOGO),
        ICON_PATH: ("image/vnd.microsoft.icon", png(16, 16, (165, 28, 48))),
    }


def lookup(path: str) -> tuple[str, bytes] | None:
    """A theme file or an article image (``/sites/default/files/….jpg``) at ``path``, or None."""
    found = files().get(path)
    if found is None and path.startswith("/sites/default/files/") and path.endswith(".jpg"):
        found = ("image/jpeg", make_jpeg())
    return found


def etag(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
