"""How stored bytes are compressed: ``zlib`` (older archives), ``zstd`` whole, ``zstd-delta`` against a base.

Pure functions, no SQL: :func:`wwc_archive.archive.queries.body_bytes` finds a
delta body's base and hands both here.
"""

import zlib

import zstandard

#: zstd level 3 (its default): a delta of a Drupal page costs a few hundred bytes
#: at this level already; higher levels cost crawl time for little.
ZSTD_LEVEL = 3


class Undecodable(ValueError):
    """Stored bytes that their compression cannot decode."""


def compress(data: bytes, base: bytes | None = None) -> tuple[str, bytes]:
    """``(compression, stored bytes)`` of ``data``: a delta against ``base`` when one is given."""
    if base is None:
        return "zstd", zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(data)
    return "zstd-delta", zstandard.ZstdCompressor(level=ZSTD_LEVEL, dict_data=_dictionary(base)).compress(data)


def decompress(data: bytes, compression: str | None, base: bytes | None = None) -> bytes:
    """The original bytes; ``base`` is the decoded base of a ``zstd-delta``."""
    try:
        if compression == "zlib":
            return zlib.decompress(data)
        if compression == "zstd":
            return zstandard.ZstdDecompressor().decompress(data)
        if compression == "zstd-delta":
            if base is None:
                raise Undecodable("a zstd-delta needs its base")
            return zstandard.ZstdDecompressor(dict_data=_dictionary(base)).decompress(data)
    except (zlib.error, zstandard.ZstdError) as error:
        raise Undecodable(f"its {compression} data cannot be decompressed ({error})") from error
    return data


def _dictionary(base: bytes) -> zstandard.ZstdCompressionDict:
    return zstandard.ZstdCompressionDict(base, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
