"""An archive written by a released version upgrades in place and loses nothing.

``fixtures/archive-0.1.0.db.gz`` is ``wwc-archive demo --articles 4`` as release
0.1.0 wrote it: two crawls of the sample site, with an edit, a new article and
a changed people page in between; ``archive-0.2.0.db.gz`` and ``archive-0.2.1.db.gz``
the same as 0.2.0 and 0.2.1 wrote it (with page requisites and scored changes; see
``test_lookup_keys`` and ``test_time_pairs``).
"""

import gzip
import json
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

from sqlite_utils import Database

from tests.conftest import run_cli
from wwc_archive.archive import Archive, FetchRecord, Extracted, queries
from wwc_archive.archive.formats import texts
from wwc_archive.archive.formats.fingerprint import unpack_fingerprint

FIXTURES = Path(__file__).parent / "fixtures"


def released_archive(tmp_path, release: str = "0.1.0") -> Path:
    """``wwc-archive demo --articles 4`` as ``release`` wrote it (``fixtures/archive-RELEASE.db.gz``)."""
    path = tmp_path / "archive.db"
    with gzip.open(FIXTURES / f"archive-{release}.db.gz") as source, open(path, "wb") as target:
        shutil.copyfileobj(source, target)
    return path


def answers(path) -> dict:
    """Everything 0.1.0 promised: every run, every fetch's outcome, time and status, every version, every change.

    Snapshot ids are given as the fetch they named (its run and time): since
    m008 an id folded into a span resolves to that span, whose first fetch
    may be earlier, so a change or page is compared by the span that holds
    the fetch it named (see :func:`holding_span`).
    """
    sql = {
        "runs": "select id, started, finished, status, trigger, pages_checked, pages_fetched, pages_unchanged, "
                "pages_failed, added, changed, removed, note from runs order by id",
        # Since m010 a version's text is stored as paragraphs: read back whole through wwc_content_text.
        # Since m020 a fingerprint is stored packed: read back as the text 0.1.0 stored.
        "versions": "select id, wwc_fingerprint(fingerprint), title, author, published, "
                    "coalesce(text, wwc_content_text(id)), links "
                    "from contents order by id",
        "changes": "select id, run_id, page_id, change, old_snapshot, new_snapshot, summary, diff from changes "
                   "order by id",
        # Since m016 a body's address is its digest's 32 bytes: read back as the hex 0.1.0 stored.
        "bodies": "select id, case typeof(sha256) when 'blob' then lower(hex(sha256)) else sha256 end, size, "
                  "content_type from bodies order by id",
        "pages": "select id, url, program, role, state, title, last_good_snapshot from pages order by id",
    }
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        conn.create_function("wwc_content_text", 1, lambda content_id: texts.content_text(conn, content_id))
        conn.create_function("wwc_fingerprint", 1, unpack_fingerprint)
        found = {name: conn.execute(query).fetchall() for name, query in sql.items()}
        columns = {row[1] for row in conn.execute("pragma table_info(snapshots)")}
        select = "s.id, s.run_id, s.fetched_at, s.last_run, s.repeats, p.url, s.http_status, s.outcome, s.error, " \
                 "s.body_id, s.content_id, s.page_id"
        db = Database(conn)
        if "repeats" in columns:
            fetches = queries.fetches(db, select=select, joins="join pages p on p.id = s.page_id")
        else:  # one row per fetch
            fetches = [{**row, "repeat": 0} for row in db.query(
                "select " + select.replace("s.last_run, s.repeats", "null as last_run") +
                " from snapshots s join pages p on p.id = s.page_id")]
        found["fetches"] = sorted((f["run_id"], f["url"], f["fetched_at"], f["http_status"], f["outcome"], f["error"],
                                   f["body_id"], f["content_id"]) for f in fetches)
        # A snapshot id -> the fetches of the span that holds it (one fetch before m008).
        spans = {}
        for f in fetches:
            spans.setdefault(f["id"], []).append((f["run_id"], f["fetched_at"], f["url"]))
        aliases = dict(conn.execute("select id, snapshot_id from snapshot_aliases")) \
            if "repeats" in columns else {}

        def fetch_of(snapshot_id):
            return None if snapshot_id is None else spans[aliases.get(snapshot_id, snapshot_id)]

        found["changes"] = [(*row[:4], fetch_of(row[4]), fetch_of(row[5]), *row[6:]) for row in found["changes"]]
        found["pages"] = [(*row[:6], fetch_of(row[6])) for row in found["pages"]]
    return found


def same_answers(before: dict, after: dict) -> None:
    """``after`` answers as ``before``: equal, but each snapshot a span holding the fetch ``before`` named."""
    assert {k: v for k, v in after.items() if k not in ("changes", "pages")} == \
        {k: v for k, v in before.items() if k not in ("changes", "pages")}
    for name in ("changes", "pages"):
        assert len(after[name]) == len(before[name])
        for old, new in zip(before[name], after[name]):
            for was, now in zip(old, new):
                if isinstance(was, list):  # the named fetch is among its span's fetches
                    assert set(was) <= set(now), (name, old[0])
                else:
                    assert was == now, (name, old[0])


def test_an_archive_from_release_0_1_0_upgrades_in_place_and_keeps_every_answer(tmp_path):
    path = released_archive(tmp_path)
    before, original = answers(path), path.read_bytes()
    assert len(before["runs"]) == 2 and before["changes"]

    refused = run_cli("runs", "--db", path)  # a reader never upgrades
    assert refused.returncode == 2 and "wwc-archive upgrade" in refused.stderr
    assert path.read_bytes() == original

    upgraded = run_cli("upgrade", "--db", path)
    assert upgraded.returncode == 0, upgraded.stderr
    (backup,) = tmp_path.glob("archive.db.v1-*.bak")
    assert answers(backup) == before

    after = answers(path)
    same_answers(before, after)
    assert len(after["fetches"]) > sqlite3.connect(path).execute("select count(*) from snapshots").fetchone()[0]
    with closing(sqlite3.connect(path)) as conn:  # a 304 after a 200 of the same content joined its span
        not_modified = [f for f in queries.fetches(Database(conn)) if f["outcome"] == "not_modified"]
    assert not_modified and all(f["repeat"] and f["http_status"] == 304 for f in not_modified)
    assert run_cli("check", "--db", path).returncode == 0  # integrity, foreign keys, every body's hash
    report = json.loads(run_cli("changes", "--db", path, "--run", "2", "--format", "json", check=True).stdout)
    kinds = sorted(change["change"] for change in report["changes"])
    assert kinds == ["added", "changed", "changed", "changed"]
    for change in report["changes"]:
        if change["change"] == "changed":  # old changes have no edit script: diffed when shown
            assert change["summary"]["words_added"] + change["summary"]["words_removed"] > 0
    text = run_cli("report", "--db", path, "--run", "2", "--format", "text", check=True).stdout
    assert "CHANGED" in text and "{+" in text


def test_after_the_upgrade_the_same_content_is_no_change(tmp_path):
    """Every page fetched again with the content its latest version has (text read back from paragraphs):
    the fingerprints the upgrade kept match, so the run finds nothing and stores no new version."""
    path = released_archive(tmp_path)
    run_cli("upgrade", "--db", path, check=True)
    archive = Archive(path)
    try:
        db = archive.db
        assert db["contents"].count_where("text is not null") == 0 and not db["contents_fts"].exists()
        versions = db["contents"].count
        latest = [queries.snapshot(db, row["last_good_snapshot"]) | {"role": row["role"]} for row in db.query(
            "select last_good_snapshot, role from pages where last_good_snapshot is not null")]
        run_id = archive.start_run(["what-works-cities"])
        writer = archive.writer(run_id)
        for page in latest:
            body, content_type = queries.snapshot_body(db, page["id"])
            extracted = Extracted(title=page["title"] or "", author=page["author"] or "",
                                  published=page["published"] or "", text=page["text"] or "",
                                  links=tuple(page["links"]))
            writer.add(FetchRecord(
                url=page["url"], program=page["program"], role=page["role"], fetched_at="2026-12-01T03:00:00Z",
                outcome="ok", http_status=200, headers={}, body=body, content_type=content_type,
                extracted=None if page["role"] == "document" else extracted))
        writer.flush()
        archive.finish_run(run_id, "complete")
        assert len(latest) > 10 and any(len(page["text"] or "") > 1000 for page in latest)
        assert queries.run_changes(db, run_id) == []
        assert db["contents"].count == versions
    finally:
        archive.close()
