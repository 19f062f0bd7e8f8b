"""A version's ``<time>`` dates stored once each (``m026``): read back in order, still folding dates when
versions are compared, and converted losing nothing from archives written by 0.2.0 and 0.2.1."""

import json
import sqlite3
from contextlib import closing

import pytest

from tests.conftest import run_cli
from tests.helpers import write_run
from tests.test_lookup_keys import kept as kept_by_0_2
from tests.test_release_upgrade import answers, released_archive
from wwc_archive.archive import Archive, Extracted, FetchRecord, queries
from wwc_archive.archive.formats import texts

SHOWN = "November 19, 2025"
MACHINE = "2025-11-19T12:00:00Z"


def record(url: str, text: str, times: tuple, noise: str = "1") -> FetchRecord:
    return FetchRecord(
        url=url, program="wwc", role="page", fetched_at="2026-11-27T03:00:00Z", outcome="ok", http_status=200,
        headers={"content-type": "text/html; charset=UTF-8"},
        body=f"<html><!-- {noise} --><p>{text}</p></html>".encode(), content_type="text/html",
        extracted=Extracted(title="A", text=text, times=times),
    )


def stored_times(path) -> dict[int, tuple]:
    with closing(sqlite3.connect(path)) as conn:
        ids = [row[0] for row in conn.execute("select id from contents order by id")]
        return {content_id: texts.stored_version(conn, content_id).times for content_id in ids}


def test_dates_shown_on_many_versions_are_stored_once_and_read_back_in_order(tmp_path):
    archive = Archive(tmp_path / "archive.db")
    listing = ((SHOWN, MACHINE), ("October 2, 2025", "2025-10-02T12:00:00Z"), (SHOWN, MACHINE))
    write_run(archive, record("https://example.org/a", f"Posted {SHOWN}. One.", listing[:1]),
              record("https://example.org/b", f"{SHOWN}, October 2, 2025 and {SHOWN}.", listing))
    archive.close()
    assert sorted(stored_times(tmp_path / "archive.db").values()) == sorted([listing[:1], listing])
    with closing(sqlite3.connect(tmp_path / "archive.db")) as conn:
        assert conn.execute("select count(*) from time_pairs").fetchone()[0] == 2
        assert conn.execute("select count(*) from contents where times is not null").fetchone()[0] == 0


def test_with_dates_stored_as_pairs_a_relative_date_is_still_no_edit(tmp_path):
    """The writer stores each night's dates as pairs and still folds them: "2 weeks ago" for the day it names is
    not a change, a changed sentence beside it is."""
    archive = Archive(tmp_path / "archive.db")
    url = "https://example.org/a"
    write_run(archive, record(url, f"Posted {SHOWN}. Tulsa opened its data.", ((SHOWN, MACHINE),)))
    quiet = write_run(archive, record(url, "Posted 2 weeks ago. Tulsa opened its data.",
                                      (("2 weeks ago", MACHINE),), noise="2"))
    edited = write_run(archive, record(url, "Posted 2 weeks ago. Tulsa closed its data.",
                                       (("2 weeks ago", MACHINE),), noise="3"))
    assert [row["change"] for row in queries.run_changes(archive.db, quiet)] == []
    assert [row["change"] for row in queries.run_changes(archive.db, edited)] == ["changed"]
    archive.close()


@pytest.mark.parametrize("release", ["0.2.0", "0.2.1"])
def test_an_archive_from_release_0_2_keeps_every_versions_dates_and_every_answer(tmp_path, release):
    path = released_archive(tmp_path, release)
    with closing(sqlite3.connect(path)) as conn:
        before = {content_id: tuple(map(tuple, json.loads(times))) if times else ()
                  for content_id, times in conn.execute("select id, times from contents order by id")}
    kept, stored = answers(path), kept_by_0_2(path)
    assert sum(map(len, before.values())) > 10

    run_cli("upgrade", "--db", path, check=True)
    assert stored_times(path) == before and answers(path) == kept and kept_by_0_2(path) == stored
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("select count(*) from contents where times is not null").fetchone()[0] == 0
        distinct = {pair for times in before.values() for pair in times}
        assert conn.execute("select count(*) from time_pairs").fetchone()[0] == len(distinct)
    assert run_cli("check", "--db", path).returncode == 0
