"""What the bodies stored in a range of runs are made of: the pages' per-request noise, and what changed.

    python bench/body_floor.py PATH [--nights 30]

For every body stored in the archive's last ``--nights`` runs that splits
(:mod:`wwc_archive.archive.formats.noise_split`), it measures, against the body it
is a delta on:

- its tokens' values, packed at 4 or 6 bits a character: random per request,
  so no codec stores them in less;
- its choices (whitespace, attribute order), as a zstd delta on the base's;
- its skeleton, as a zstd delta on the base's (a body stored whole: alone),
  about what changed on the page plus its markup.

It prints each, in kB a night, next to what the bodies took as stored. The first
two are a floor for any archive that keeps bodies byte-exact.
"""

import argparse
import sqlite3
import sys

import zstandard
from sqlite_utils import Database

from wwc_archive.archive import queries
from wwc_archive.archive.formats import noise_split

#: zstd's strongest level: the floor, not what the writer can afford.
LEVEL = 19


def delta_size(data: bytes, base: bytes | None) -> int:
    """Bytes of ``data`` compressed at :data:`LEVEL` against ``base`` (no frame header or checksum)."""
    if not data:
        return 0
    dictionary = zstandard.ZstdCompressionDict(base, dict_type=zstandard.DICT_TYPE_RAWCONTENT) if base else None
    parameters = zstandard.ZstdCompressionParameters.from_level(
        LEVEL, format=zstandard.FORMAT_ZSTD1_MAGICLESS, write_content_size=False, write_dict_id=False)
    return len(zstandard.ZstdCompressor(compression_params=parameters, dict_data=dictionary).compress(data))


def body_parts(path: str, nights: int) -> tuple[int, dict[str, int]]:
    """``(bodies, {part: bytes})`` for the bodies first stored by the last ``nights`` runs."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        db = Database(conn)
        last = conn.execute("select max(id) from runs").fetchone()[0]
        rows = conn.execute(
            "select id, base_id, length(data) from bodies where id in (select body_id from snapshots "
            "where run_id > ? and body_id is not null) and id > (select coalesce(max(body_id), 0) from snapshots "
            "where run_id <= ?) order by id", [last - nights, last - nights]).fetchall()
        reader = queries.BodyReader(db)
        parts = dict.fromkeys(("stored", "tokens", "choices", "skeleton"), 0)
        for body_id, base_id, stored in rows:
            parts["stored"] += stored
            own = noise_split.split(reader.read(body_id))
            if own is None:
                continue
            base = noise_split.split(reader.read(base_id)) if base_id is not None else None
            parts["tokens"] += len(own.tokens)
            parts["choices"] += delta_size(own.choices, base and base.choices)
            parts["skeleton"] += delta_size(own.skeleton, base and base.skeleton)
    return len(rows), parts


def summary(path: str, nights: int) -> str:
    """One line: the parts of :func:`body_parts`, in kB a night."""
    count, parts = body_parts(path, nights)
    kb = {name: size / nights / 1e3 for name, size in parts.items()}
    return (f"bodies stored in the last {nights} nights: {count}, {kb['stored']:.2f} kB a night; their per-request "
            f"noise, a floor for byte-exact bodies: tokens {kb['tokens']:.2f} + choices {kb['choices']:.2f} kB "
            f"a night; their skeletons (what changed, as markup) {kb['skeleton']:.2f} kB a night at zstd {LEVEL}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", help="an archive")
    parser.add_argument("--nights", type=int, default=30, help="the last runs to look at (default 30)")
    args = parser.parse_args()
    if args.nights < 1:
        sys.exit("error: --nights must be at least 1")
    print(summary(args.path, args.nights))


if __name__ == "__main__":
    main()
