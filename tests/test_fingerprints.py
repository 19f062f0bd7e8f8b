"""A version's fingerprint (``contents.fingerprint``) stored packed in 33 bytes: found, exported and shown as text."""

import hashlib
import sqlite3
from contextlib import closing

from tests.conftest import run_cli
from tests.test_datasette import get, rows
from tests.test_release_upgrade import released_archive
from wwc_archive.archive.formats import lookup_keys
from wwc_archive.archive.formats.fingerprint import pack_fingerprint, unpack_fingerprint

DIGEST = hashlib.sha256(b"Permits take 12 days.").hexdigest()


def test_a_fingerprint_packs_into_its_kind_and_digest_and_back():
    for fingerprint in ("html:" + DIGEST, "bytes:" + DIGEST):
        packed = pack_fingerprint(fingerprint)
        assert isinstance(packed, bytes) and len(packed) == 33
        assert unpack_fingerprint(packed) == fingerprint
    assert pack_fingerprint("html:" + DIGEST) != pack_fingerprint("bytes:" + DIGEST)
    # What this release does not make stays text, so it still finds itself.
    for odd in ("html:" + DIGEST.upper(), "html:" + DIGEST[:-2], "sha1:" + DIGEST, "'Permits'", "html:zz"):
        assert pack_fingerprint(odd) == odd and unpack_fingerprint(odd) == odd


def test_m020_packs_an_older_archives_fingerprints_and_readers_show_the_text(tmp_path):
    path = released_archive(tmp_path)
    with closing(sqlite3.connect(path)) as conn:
        before = dict(conn.execute("select id, fingerprint from contents"))
    run_cli("upgrade", "--db", path, check=True)
    with closing(sqlite3.connect(path)) as conn:
        after = dict(conn.execute("select id, fingerprint from contents"))
        index = conn.execute("pragma index_list(contents)").fetchall()
    assert all(isinstance(value, bytes) and len(value) == 33 for value in after.values())
    assert {content_id: unpack_fingerprint(value) for content_id, value in after.items()} == before
    assert "idx_contents_fingerprint_prefix" in [row[1] for row in index]  # m025: a short key finds each
    with closing(sqlite3.connect(path)) as conn:
        assert all(lookup_keys.content_id(conn, value) == content_id for content_id, value in after.items())

    content_id, fingerprint = max(before.items())
    assert fingerprint in get(path, f"/wwc-archive/contents/{content_id}").text
    assert rows(path, f"/wwc-archive.json?sql=select+wwc_fingerprint(fingerprint)+as+f+from+contents+where+id={content_id}"
                ) == [{"f": fingerprint}]
    assert run_cli("check", "--db", path).returncode == 0
