"""How stored bytes are compressed: ``zlib`` (older archives), ``zstd`` whole, ``zstd-delta`` against a base,
``zstd-h1`` (header sets) against a built-in dictionary of common HTTP headers.

Pure functions, no SQL: :func:`wwc_archive.archive.queries.body_bytes` finds a
delta body's base and hands both here.
"""

import functools
import zlib

import zstandard

#: zstd level 3 (its default) for whole bodies: higher levels cost crawl time for
#: little on a page compressed on its own.
ZSTD_LEVEL = 3
#: Level 12 for deltas: against its base a Drupal page's delta is mostly the
#: per-request noise (tokens, ids, reshuffled markup), which level 12 packs 12%
#: tighter than level 3 at no measurable cost (the base's dictionary dominates);
#: levels 15-22 save 2-4% more at 5-20x the time.
DELTA_LEVEL = 12


#: What a header set (``header_blocks``) is compressed against, as ``zstd-h1``: the
#: vocabulary of a crawl's requests and a Drupal site's responses, as the writer
#: dumps them. Never change it: stored blocks decode with exactly these bytes (a
#: new vocabulary would be ``zstd-h2``). A block takes about a third of its zlib size.
HEADERS_DICTIONARY_V1 = (
    b'{"method":"GET","headers":[["Referer","https://"],["Accept","text/html,application/xhtml+xml,'
    b'application/xml;q=0.9,*/*;q=0.8"],["Accept-Language","en"],["User-Agent","wwc-archive/0.1.0 (nightly '
    b'archive of public program pages; +mailto:)"],["Accept-Encoding","gzip, deflate, br, zstd"],'
    b'["If-None-Match","\\""],["If-Modified-Since","Mon, 01 Jan 2026 00:00:00 GMT"],["Cookie",""]]}'
    b'{"protocol":"HTTP/1.1","status":200,"headers":[["Content-Length","1"],["Date","Mon, 01 Jan 2026 '
    b'00:00:00 GMT"],["Server","Apache"],["Content-Type","text/html; charset=UTF-8"],["Cache-Control",'
    b'"max-age=0, public"],["Etag","\\""],["Last-Modified","Mon, 01 Jan 2026 00:00:00 GMT"],["X-Generator",'
    b'"Drupal 10 (https://www.drupal.org)"],["X-Drupal-Cache","MISS"],["X-Drupal-Dynamic-Cache","MISS"],'
    b'["X-Content-Type-Options","nosniff"],["X-Frame-Options","SAMEORIGIN"],["Content-Language","en"],'
    b'["Vary","Cookie"],["Expires","Sun, 19 Nov 1978 05:00:00 GMT"],["Content-Encoding","gzip"],'
    b'["Location","https://"],["Set-Cookie",""],["Link","<https://>; rel=\\"canonical\\""],'
    b'["Strict-Transport-Security","max-age=31536000"],["Accept-Ranges","bytes"],["Transfer-Encoding",'
    b'"chunked"],["Connection","keep-alive"],["Age","0"],["Via","1.1 varnish"],["X-Cache","HIT"]]}'
)
HEADERS_COMPRESSION = "zstd-h1"


class Undecodable(ValueError):
    """Stored bytes that their compression cannot decode."""


def compress(data: bytes, base: bytes | None = None) -> tuple[str, bytes]:
    """``(compression, stored bytes)`` of ``data``: a delta against ``base`` when one is given."""
    if base is None:
        return "zstd", zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(data)
    return "zstd-delta", zstandard.ZstdCompressor(level=DELTA_LEVEL, dict_data=_dictionary(base)).compress(data)


def compress_headers(data: bytes) -> tuple[str, bytes]:
    """``(compression, stored bytes)`` of a header set's JSON: zstd against :data:`HEADERS_DICTIONARY_V1`."""
    return HEADERS_COMPRESSION, zstandard.ZstdCompressor(level=ZSTD_LEVEL, dict_data=_headers_dictionary()).compress(data)


def decompress(data: bytes, compression: str | None, base: bytes | None = None) -> bytes:
    """The original bytes; ``base`` is the decoded base of a ``zstd-delta``."""
    try:
        if compression == "zlib":
            return zlib.decompress(data)
        if compression == "zstd":
            return zstandard.ZstdDecompressor().decompress(data)
        if compression == HEADERS_COMPRESSION:
            return zstandard.ZstdDecompressor(dict_data=_headers_dictionary()).decompress(data)
        if compression == "zstd-delta":
            if base is None:
                raise Undecodable("a zstd-delta needs its base")
            return zstandard.ZstdDecompressor(dict_data=_dictionary(base)).decompress(data)
    except (zlib.error, zstandard.ZstdError) as error:
        raise Undecodable(f"its {compression} data cannot be decompressed ({error})") from error
    return data


@functools.cache
def _headers_dictionary() -> zstandard.ZstdCompressionDict:
    return _dictionary(HEADERS_DICTIONARY_V1)


def _dictionary(base: bytes) -> zstandard.ZstdCompressionDict:
    return zstandard.ZstdCompressionDict(base, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
