"""Short index keys: a digest found by its first bytes, an asset's URL by a 64-bit hash of it.

A unique index on a whole SHA-256 holds its 32 bytes again, about 48 bytes
a row; an index on its first 8 bytes finds the row as surely for about 20:
the lookup then compares the whole digest, so two digests sharing a prefix
only cost a second look. Ten years hold about 222,000 bodies and 40,000
versions, so this saves about 7 MB (``m025_short_lookup_keys``). An asset's
URL (about 90 characters, which a unique index held a second time) is found
by ``assets.url_key``, the first 8 bytes of the URL's SHA-256 as a signed
integer, beside the URL itself.

SQLite uses an index on an expression only for a query that spells the same
expression, so every lookup goes through the functions here. Nothing enforces
uniqueness in the file any more: the writer looks before it inserts (one
writer at a time, under the crawl lock), and ``check`` reports duplicates
(:func:`duplicate_problems`).
"""

import hashlib

#: The expression ``idx_bodies_sha256_prefix`` indexes: a body's address's first 8 bytes.
BODY_KEY = "substr(sha256, 1, 8)"
#: The expression ``idx_contents_fingerprint_prefix`` indexes: a packed fingerprint's kind byte and 8 digest bytes.
CONTENT_KEY = "substr(fingerprint, 1, 9)"


# The whole value is compared as ``+column``: given ``column = ?``, SQLite propagates the constant into the
# key's expression (``substr(?, 1, 8)``), which then no longer matches the index, and it scans the table.
#: A body by its address: its key, then the whole address.
BODY_BY_SHA = f"select id from bodies where {BODY_KEY} = ? and +sha256 = ?"
#: A version by its fingerprint: its key, then the whole fingerprint.
CONTENT_BY_FINGERPRINT = f"select id from contents where {CONTENT_KEY} = ? and +fingerprint = ?"


def body_id(conn, sha: bytes) -> int | None:
    """The id of the body whose SHA-256 is ``sha`` (32 bytes), or None."""
    row = conn.execute(BODY_BY_SHA, [sha[:8], sha]).fetchone()
    return row[0] if row else None


def content_id(conn, fingerprint: bytes | str) -> int | None:
    """The id of the version with this fingerprint (packed; text for one that could not be packed), or None."""
    row = conn.execute(CONTENT_BY_FINGERPRINT, [fingerprint[:9], fingerprint]).fetchone()
    return row[0] if row else None


def url_key(url: str) -> int:
    """``assets.url_key``: the first 8 bytes of the URL's SHA-256, as a signed 64-bit integer."""
    return int.from_bytes(hashlib.sha256(url.encode("utf-8")).digest()[:8], "big", signed=True)


def duplicate_problems(conn) -> list[str]:
    """Bodies sharing an address, versions sharing a fingerprint, assets sharing a URL: the unique indexes
    these keys replaced refused them; now ``check`` reports them."""
    found = []
    for table, column, key, what in (("bodies", "sha256", BODY_KEY, "bodies"),
                                     ("contents", "fingerprint", CONTENT_KEY, "versions")):
        for ids, count in conn.execute(
                f"select group_concat(id, ', '), count(*) from {table} "
                f"group by {key}, {column} having count(*) > 1 order by min(id)"):
            found.append(f"{what} {ids}: {count} rows hold the same {column}")
    for ids, url in conn.execute(
            "select group_concat(id, ', '), url from assets group by url_key, url having count(*) > 1 order by min(id)"):
        found.append(f"assets {ids}: one URL held twice ({url})")
    return found
