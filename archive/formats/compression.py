"""How stored bytes are compressed: ``zlib`` (older archives), ``zstd`` whole, ``zstd-delta`` against a base,
``zstd-n1`` against a base with the page's per-request noise split out (:mod:`~wwc_archive.archive.formats.noise_split`),
``zstd-h1`` (header sets) against a built-in dictionary of common HTTP headers, ``zstd-hd`` (header sets)
against that dictionary and a base set.

Pure functions, no SQL: :class:`~wwc_archive.archive.formats.bodies.BodyReader` finds a
delta body's base and hands both here.
"""

import functools
import zlib

import zstandard

from wwc_archive.archive.formats import noise_split

#: zstd level 3 (its default) for whole bodies: higher levels cost crawl time for
#: little on a page compressed on its own.
ZSTD_LEVEL = 3
#: Level 12 for deltas: against its base a Drupal page's delta is mostly the
#: per-request noise (tokens, ids, reshuffled markup), which level 12 packs 12%
#: tighter than level 3 at no measurable cost (the base's dictionary dominates);
#: levels 15-22 save 2-4% more at 5-20x the time.
DELTA_LEVEL = 12
#: Level 3 for a delta on another page's body (a new page's first): 0.07 ms an article
#: for 1.41 kB, against 0.13 ms for 1.28 kB at 6, 0.64 ms for 1.26 kB at 12 or 2.9 ms
#: for 1.15 kB split; a first crawl stores thousands while its storage shares a core.
ALIKE_LEVEL = 3


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
#: A header set as a delta: zstd against :data:`HEADERS_DICTIONARY_V1` followed by
#: its base set's JSON (:mod:`~wwc_archive.archive.formats.header_blocks`), in a magicless
#: frame without content size: about half a ``zstd-h1`` block.
HEADER_DELTA = "zstd-hd"

#: A body split from its noise, as a zstd delta on its base's split (the base's
#: :func:`payload`): a "Show more" page shifted by one article stores in about
#: 0.6 of a ``zstd-delta``, because the noise no longer breaks its matches.
SPLIT_DELTA = "zstd-n1"
#: zstd level 15 for split deltas: without the noise more of the delta is
#: matches, which 15 finds 2-3% tighter than 12 in 2 ms a "Show more" page.
SPLIT_LEVEL = 15
#: Compressions that name a base (``bodies.base_id``) they decode against.
DELTAS = ("zstd-delta", SPLIT_DELTA)


class Undecodable(ValueError):
    """Stored bytes that their compression cannot decode."""


def compress(data: bytes, base: bytes | None = None) -> tuple[str, bytes]:
    """``(compression, stored bytes)`` of ``data``: a delta against ``base`` when one is given.

    The delta is a ``zstd-n1`` when ``data`` splits and joins back exactly
    (:func:`split_delta`), else a ``zstd-delta``.
    """
    if base is None:
        return "zstd", zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(data)
    split = split_delta(data, payload(base))
    if split is not None:
        return SPLIT_DELTA, split[0]
    return plain_delta(data, base)


def plain_delta(data: bytes, base: bytes, level: int = DELTA_LEVEL) -> tuple[str, bytes]:
    """``data`` as a ``zstd-delta`` on ``base``."""
    return "zstd-delta", zstandard.ZstdCompressor(level=level, dict_data=_dictionary(base)).compress(data)


def split_delta(data: bytes, base_payload: bytes) -> tuple[bytes, bytes] | None:
    """``data`` as a ``zstd-n1`` on the base whose :func:`payload` is given, and its own payload;
    None when it does not split and join back exactly."""
    parts = noise_split.split(data)
    if parts is None or noise_split.join(parts) != data:
        return None
    own = noise_split.pack(parts)
    return _split_compressor(base_payload).compress(own), own


def payload(body: bytes) -> bytes:
    """What a ``zstd-n1`` delta on ``body`` is compressed against: its split, or itself if it has none."""
    parts = noise_split.split(body)
    return body if parts is None else noise_split.pack(parts)


def decompress_payload(data: bytes, base_payload: bytes) -> bytes:
    """The payload of a ``zstd-n1`` body, from its stored bytes and its base's payload."""
    try:
        return zstandard.ZstdDecompressor(dict_data=_dictionary(base_payload), format=_MAGICLESS).decompressobj(
            ).decompress(data)
    except zstandard.ZstdError as error:
        raise Undecodable(f"its {SPLIT_DELTA} data cannot be decompressed ({error})") from error


def body_of_payload(data: bytes) -> bytes:
    """The body a ``zstd-n1`` payload holds."""
    try:
        return noise_split.join(noise_split.unpack(data))
    except noise_split.Unsplittable as error:
        raise Undecodable(f"its {SPLIT_DELTA} parts cannot be joined ({error})") from error


#: ``zstd-n1`` and ``zstd-hd`` frames have no magic number and no content size: 4-6 bytes saved a frame.
_MAGICLESS = zstandard.FORMAT_ZSTD1_MAGICLESS


def _split_compressor(base_payload: bytes) -> zstandard.ZstdCompressor:
    parameters = zstandard.ZstdCompressionParameters.from_level(
        SPLIT_LEVEL, source_size=len(base_payload), dict_size=len(base_payload), format=_MAGICLESS,
        write_content_size=False, write_dict_id=False)
    return zstandard.ZstdCompressor(compression_params=parameters, dict_data=_dictionary(base_payload))


def compress_headers(data: bytes, base: bytes | None = None) -> tuple[str, bytes]:
    """``(compression, stored bytes)`` of a header set's JSON: zstd against :data:`HEADERS_DICTIONARY_V1`,
    followed by the JSON of ``base`` (a :data:`HEADER_DELTA`) when one is given."""
    if base is None:
        compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, dict_data=_headers_dictionary())
        return HEADERS_COMPRESSION, compressor.compress(data)
    dictionary = _dictionary(HEADERS_DICTIONARY_V1 + base)
    parameters = zstandard.ZstdCompressionParameters.from_level(
        ZSTD_LEVEL, source_size=len(data), dict_size=len(dictionary), format=_MAGICLESS,
        write_content_size=False, write_dict_id=False)
    return HEADER_DELTA, zstandard.ZstdCompressor(compression_params=parameters, dict_data=dictionary).compress(data)


def decompress(data: bytes, compression: str | None, base: bytes | None = None) -> bytes:
    """The original bytes; ``base`` is the decoded base of a delta (:data:`DELTAS`)."""
    try:
        if compression == "zlib":
            return zlib.decompress(data)
        if compression == "zstd":
            return zstandard.ZstdDecompressor().decompress(data)
        if compression == HEADERS_COMPRESSION:
            return zstandard.ZstdDecompressor(dict_data=_headers_dictionary()).decompress(data)
        if (compression in DELTAS or compression == HEADER_DELTA) and base is None:
            raise Undecodable(f"a {compression} needs its base")
        if compression == HEADER_DELTA:
            return zstandard.ZstdDecompressor(dict_data=_dictionary(HEADERS_DICTIONARY_V1 + base),
                                              format=_MAGICLESS).decompressobj().decompress(data)
        if compression == "zstd-delta":
            return zstandard.ZstdDecompressor(dict_data=_dictionary(base)).decompress(data)
        if compression == SPLIT_DELTA:
            return body_of_payload(decompress_payload(data, payload(base)))
    except (zlib.error, zstandard.ZstdError) as error:
        raise Undecodable(f"its {compression} data cannot be decompressed ({error})") from error
    return data


@functools.cache
def _headers_dictionary() -> zstandard.ZstdCompressionDict:
    return _dictionary(HEADERS_DICTIONARY_V1)


def _dictionary(base: bytes) -> zstandard.ZstdCompressionDict:
    return zstandard.ZstdCompressionDict(base, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
