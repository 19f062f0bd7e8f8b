"""How stored bytes are compressed: ``zlib`` (older archives), ``zstd`` whole, ``zstd-delta`` against a base.

Pure functions, no SQL: :func:`wwc_archive.archive.queries.body_bytes` finds a
delta body's base and hands both here.
"""

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


class Undecodable(ValueError):
    """Stored bytes that their compression cannot decode."""


def compress(data: bytes, base: bytes | None = None) -> tuple[str, bytes]:
    """``(compression, stored bytes)`` of ``data``: a delta against ``base`` when one is given."""
    if base is None:
        return "zstd", zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(data)
    return "zstd-delta", zstandard.ZstdCompressor(level=DELTA_LEVEL, dict_data=_dictionary(base)).compress(data)


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
