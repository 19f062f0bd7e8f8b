"""Snapshot rows as run-length spans: the encoding, the writer's folding, m008's batched upgrade."""

import asyncio
import hashlib
import json
import random
import sqlite3
from contextlib import closing

import pytest
from sqlite_utils import Database

from tests.conftest import kill_upgrade_when, run_cli
from wwc_archive.archive import Archive, Extracted, FetchRecord, queries
from wwc_archive.archive.formats import compression, header_blocks, spans
from wwc_archive.archive.migrations.schema import migrations
from wwc_archive.reports.datasette.app import archive_datasette
from tests.helpers import write_run

URL = "https://example.org/news/article/a-1"


def night(n: int, hour: int = 3, second: int = 0) -> str:
    return spans.to_text(spans.to_seconds("2027-01-01T00:00:00Z") + n * 86400 + hour * 3600 + second)


def record(at: str, url=URL, outcome="ok", status=200, text="Tulsa launched its portal.", noise="", etag=None):
    ok = outcome == "ok"
    return FetchRecord(
        url=url, program="wwc", role="page", fetched_at=at, outcome=outcome, http_status=status,
        error=None if outcome != "failed" else f"HTTP {status}",
        headers={"content-type": "text/html", **({"etag": etag} if etag else {})},
        body=f"<p>{text}</p>{noise}".encode() if ok else None, content_type="text/html",
        extracted=Extracted(title="A", text=text) if ok else None)


def fetched(db, **where) -> list[tuple]:
    return [(f["run_id"], f["fetched_at"], f["outcome"], f["http_status"]) for f in queries.fetches(db, **where)]


# The encoding ---------------------------------------------------------------------------------

def test_random_spans_round_trip_exactly():
    rng = random.Random(9)
    for _ in range(300):
        run, seconds = rng.randrange(1, 10**6), rng.randrange(0, 2 * 10**9)
        first = (run, spans.to_text(seconds))
        later = []
        for _ in range(rng.randrange(0, 60)):
            run += rng.choice([1, 1, 1, 2, rng.randrange(1, 10**5)])
            seconds += rng.choice([86400, 86400 + rng.randrange(-900, 900), -rng.randrange(0, 10**6),
                                   rng.randrange(0, 10**8)])
            later.append((run, spans.to_text(seconds)))
        blob = spans.encode(first, later)
        assert spans.decode(*first, blob) == [first, *later]
        assert spans.count(blob) == 1 + len(later)
        tail = spans.Tail(*first, None)
        for run_id, at in later:
            appended = tail.append(run_id, spans.to_seconds(at))
        assert not later or appended == blob


def test_nightly_fetches_cost_about_three_bits_each():
    first = (1, night(0))
    steady = [(n + 1, night(n, second=n % 3)) for n in range(1, 250)]  # crawl order keeps the time within seconds
    assert len(spans.encode(first, steady)) <= len(steady) * 4 / 8 + 3
    jittery = [(n + 1, night(n, second=random.Random(n).randrange(0, 600))) for n in range(1, 250)]
    assert len(spans.encode(first, jittery)) <= 1.5 * len(jittery)
    frequent = [(n + 1, spans.to_text(spans.to_seconds(first[1]) + 7 * n + n % 2)) for n in range(1, 250)]
    assert len(spans.encode(first, frequent)) <= len(frequent)  # runs seconds apart: under a byte too
    assert len(spans.encode(first, steady)) < len(old_format(first, steady)) / 4


def old_format(first: tuple, later: list[tuple]) -> bytes:
    """``repeats`` as written before m015: the first format, or the palette format if an answer is not 0."""
    def varint(value):
        while value >= 0x80:
            out.append((value & 0x7F) | 0x80)
            value >>= 7
        out.append(value)

    palette = any(fetch[2:] and fetch[2] for fetch in later)
    out = bytearray([spans.PALETTE_FORMAT] if palette else [])
    run, seconds, step, answer = first[0], spans.to_seconds(first[1]), 0, 0
    for fetch in later:
        at, new_answer = spans.to_seconds(fetch[1]), fetch[2] if fetch[2:] else 0
        change = at - seconds - step
        varint((fetch[0] - run) * 2 + (new_answer != answer) if palette else fetch[0] - run)
        varint(change * 2 if change >= 0 else -change * 2 - 1)
        if palette and new_answer != answer:
            varint(new_answer)
        run, step, seconds, answer = fetch[0], at - seconds, at, new_answer
    return bytes(out)


def random_span(rng: random.Random, answers: bool) -> tuple[tuple, list[tuple]]:
    run, seconds, answer = rng.randrange(1, 10**6), rng.randrange(0, 2 * 10**9), 0
    first, later = (run, spans.to_text(seconds)), []
    for _ in range(rng.randrange(1, 60)):
        run += rng.choice([1, 1, 2, rng.randrange(1, 10**5)])
        seconds += rng.choice([86400, 86400 + rng.randrange(-900, 900), rng.randrange(0, 10**8)])
        if answers and rng.random() < 0.3:
            answer = rng.randrange(0, spans.MAX_ANSWERS)
        later.append((run, spans.to_text(seconds), answer))
    return first, later


def test_random_spans_with_answers_round_trip_exactly():
    rng = random.Random(12)
    for _ in range(300):
        first, later = random_span(rng, answers=True)
        blob = spans.encode(first, later)
        assert blob[:2] == spans.PACKED_FORMAT
        assert spans.decode_answers(*first, blob) == [(*first, 0), *later]
        assert spans.decode(*first, blob) == [first, *(fetch[:2] for fetch in later)]
        assert spans.count(blob) == 1 + len(later)
        wanted = {fetch[0] for fetch in later[::3]}
        assert spans.decode_answers(*first, blob, runs=wanted) == [f for f in later if f[0] in wanted]
        assert json.loads(spans.sql_fetches(*first, blob)) == [[*first, 0], *map(list, later)]
        tail = spans.Tail(*first, None)  # appending one at a time, from a blob read back each time
        for run_id, at, answer in later:
            tail = spans.Tail(*first, tail.append(run_id, spans.to_seconds(at), answer))
        assert tail.repeats == blob


@pytest.mark.parametrize("answers", [False, True], ids=["first format", "palette format"])
def test_older_formats_decode_exactly_and_a_tail_goes_on_packed(answers):
    rng = random.Random(5)
    for _ in range(300):
        first, later = random_span(rng, answers)
        old = old_format(first, later)
        assert old[:2] != spans.PACKED_FORMAT and (old[0] == spans.PALETTE_FORMAT) == any(f[2] for f in later)
        assert spans.decode_answers(*first, old) == [(*first, 0), *later]
        assert spans.count(old) == 1 + len(later)
        assert json.loads(spans.sql_fetches(*first, old)) == [[*first, 0], *map(list, later)]
        cut = rng.randrange(1, len(later) + 1)  # a span written before m015, continued after it
        tail = spans.Tail(*first, old_format(first, later[:cut]))
        for run_id, at, answer in later[cut:]:
            tail.append(run_id, spans.to_seconds(at), answer)
        assert tail.repeats == spans.encode(first, later)


def test_an_unchanged_answer_costs_nothing_more():
    first = (1, night(0))
    steady = [(n + 1, night(n)) for n in range(1, 250)]
    with_304s = spans.encode(first, [(run, at, 1) for run, at in steady])  # a 200, then 304s every night
    assert len(with_304s) <= len(spans.encode(first, steady)) + 1  # answer 1 said once
    assert spans.decode_answers(*first, with_304s)[1:] == [(run, at, 1) for run, at in steady]


def test_answers_round_trip_exactly_and_leave_out_what_the_span_says():
    rng = random.Random(3)
    heads = [None, 1, 2, 3, 250, 70000]  # header set ids
    for _ in range(300):
        own = ["ok", 200, rng.choice([None, 0, 1]), rng.randrange(1, 9), rng.choice(heads)]
        answers = [[rng.choice(["ok", "not_modified"]), rng.choice([200, 304]), rng.choice([None, 0, 1]),
                    rng.choice([None, own[3], rng.randrange(1, 9)]), rng.choice([*heads, own[4]])]
                   for _ in range(rng.randrange(1, spans.MAX_ANSWERS))]
        answers = [a for a in answers if a != own]
        stored = spans.dump_answers(answers, own)
        assert spans.load_answers(stored, own) == answers
        assert not answers or len(stored) <= len(json.dumps(answers, separators=(",", ":")))
    noisy = ["ok", 200, 0, 5, 3]
    assert spans.dump_answers([noisy], ["ok", 200, 1, 2, noisy[4]]) == '[["ok",200,0,5]]'
    # a palette written before m015 holds the kept headers' JSON (as text, or as the object itself)
    old_own = ["ok", 200, 1, 2, '{"content-type": "text/html"}']
    assert spans.load_answers('[["not_modified",304,null,2,{"etag": "e"}],["ok",200,0]]', old_own) == [
        ["not_modified", 304, None, 2, '{"etag": "e"}'], ["ok", 200, 0, 2, old_own[4]]]


@pytest.mark.parametrize("blob", [b"\x81", b"\x01", b"\x00\x00", b"\x00\x02", b"\x00\x03\x00", b"\x00\x00\x00",
                                  b"\x00\x01", b"\x00\x01\x00", b"\x00\x01\xff\xff", b"\x00\x01\x1f\xff"],
                         ids=["cut varint", "odd count", "no run step", "palette: no time", "palette: no answer",
                              "palette: no run step", "packed: no fetch", "packed: cut escape",
                              "packed: cut long code", "packed: more than padding"])
def test_damaged_repeats_do_not_decode(blob):
    with pytest.raises(spans.BadSpan):
        spans.decode(1, night(0), blob)


# The writer -----------------------------------------------------------------------------------


def test_a_503_night_is_a_row_of_its_own_and_the_span_goes_on_after_it(archive):
    for n in range(3):
        write_run(archive, record(night(n, second=n)))
    write_run(archive, record(night(3), outcome="failed", status=503))
    for n in range(4, 6):
        write_run(archive, record(night(n)))
    rows = archive.db.execute("select run_id, last_run, outcome from snapshots order by id").fetchall()
    assert rows == [(1, 6, "ok"), (4, None, "failed")]
    assert fetched(archive.db, page_id=1) == [
        (1, night(0), "ok", 200), (2, night(1, second=1), "ok", 200), (3, night(2, second=2), "ok", 200),
        (4, night(3), "failed", 503), (5, night(4), "ok", 200), (6, night(5), "ok", 200)]
    assert [r["pages_fetched"] for r in queries.list_runs(archive.db)] == [1, 1, 0, 1, 1, 1]
    assert [(f["run_id"], f["http_status"]) for f in queries.fetches(archive.db, run_ids=[3, 4])] == [
        (3, 200), (4, 503)]


def test_304s_and_noisy_200s_fold_each_with_its_own_answer(archive):
    write_run(archive, record(night(0)))
    write_run(archive, record(night(1), outcome="not_modified", status=304))
    write_run(archive, record(night(2), noise="<!-- token 2 -->"))
    write_run(archive, record(night(3), outcome="not_modified", status=304))
    write_run(archive, record(night(4), outcome="failed", status=503))
    write_run(archive, record(night(5), outcome="not_modified", status=304))
    write_run(archive, record(night(6), outcome="not_modified", status=304))
    write_run(archive, record(night(7), text="Tulsa relaunched its portal."))
    rows = archive.db.execute("select run_id, last_run, outcome, answers is not null from snapshots order by id")
    assert rows.fetchall() == [(1, 7, "ok", 1), (5, None, "failed", 0), (8, None, "ok", 0)]
    assert [(f["run_id"], f["fetched_at"], f["outcome"], f["http_status"], f["body_exact"])
            for f in queries.fetches(archive.db, page_id=1)] == [
        (1, night(0), "ok", 200, 1), (2, night(1), "not_modified", 304, None), (3, night(2), "ok", 200, 0),
        (4, night(3), "not_modified", 304, None), (5, night(4), "failed", 503, None),
        (6, night(5), "not_modified", 304, None), (7, night(6), "not_modified", 304, None),
        (8, night(7), "ok", 200, 1)]
    assert [(f["run_id"], f["outcome"]) for f in queries.fetches(archive.db, run_ids=[2, 3])] == [
        (2, "not_modified"), (3, "ok")]
    assert [r["pages_fetched"] for r in queries.list_runs(archive.db)] == [1, 1, 1, 0, 1, 1, 1, 1]  # newest first
    assert [c["change"] for c in queries.run_changes(archive.db, 8)] == ["changed"]
    assert run_cli("check", "--db", archive.path).returncode == 0


def test_a_span_holds_at_most_max_answers(archive, monkeypatch):
    monkeypatch.setattr(spans, "MAX_ANSWERS", 3)
    for n in range(6):  # a new etag each night: another answer each time, the same content
        write_run(archive, record(night(n), etag=f'"e{n % 5}"'))
    rows = archive.db.execute("select run_id, last_run, answers from snapshots order by id").fetchall()
    assert [(run, last) for run, last, _ in rows] == [(1, 3), (4, 6)]
    assert len(json.loads(rows[0][2])) == 2
    assert [json.loads(f["headers"])["etag"] for f in queries.fetches(archive.db, page_id=1)] == [
        f'"e{n % 5}"' for n in range(6)]


def test_an_edit_starts_a_new_span_and_the_change_points_at_it(archive):
    write_run(archive, record(night(0)))
    write_run(archive, record(night(1)))
    write_run(archive, record(night(2), text="Tulsa relaunched its portal."))
    write_run(archive, record(night(3), text="Tulsa relaunched its portal."))
    (change,) = queries.run_changes(archive.db, 3)
    assert (change["old_snapshot"], change["new_snapshot"]) == (1, 2)
    assert [(v["id"], v["fetches"], v["last_run"]) for v in queries.page_history(archive.db, URL)] == [
        (1, 2, 2), (2, 2, 4)]


def test_the_cap_starts_a_new_row(archive, monkeypatch):
    monkeypatch.setattr(spans, "MAX_REPEATS", 3)
    for n in range(6):
        write_run(archive, record(night(n)))
    assert [(v["run_id"], v["fetches"]) for v in queries.page_history(archive.db, URL)] == [(1, 4), (5, 2)]
    assert [f[0] for f in fetched(archive.db)] == [1, 2, 3, 4, 5, 6]


def test_a_removed_pages_nightly_404s_fold_into_one_row_and_stay_answerable(archive):
    write_run(archive, record(night(0)))
    for n in range(1, 5):  # removed on night 1, then 404 every night
        write_run(archive, record(night(n), outcome="gone", status=404))
    write_run(archive, record(night(5)))  # back
    rows = archive.db.execute("select run_id, last_run, outcome from snapshots order by id").fetchall()
    assert rows == [(1, None, "ok"), (2, 5, "gone"), (6, None, "ok")]  # the removal's row holds the later 404s
    assert fetched(archive.db, page_id=1) == [
        (1, night(0), "ok", 200), *((n + 1, night(n), "gone", 404) for n in range(1, 5)), (6, night(5), "ok", 200)]
    assert [r["pages_fetched"] for r in queries.list_runs(archive.db)] == [1] * 6
    assert [[c["change"] for c in queries.run_changes(archive.db, run)] for run in range(1, 7)] == [
        ["added"], ["removed"], [], [], [], ["added"]]
    assert run_cli("check", "--db", archive.path).returncode == 0


def test_a_404_in_an_interrupted_run_never_swallows_the_removal_of_the_next_complete_one(archive):
    write_run(archive, record(night(0)))
    interrupted = archive.start_run(["wwc"])
    writer = archive.writer(interrupted)
    writer.add(record(night(1), outcome="gone", status=404))
    writer.flush()
    archive.finish_run(interrupted, "interrupted")
    complete = write_run(archive, record(night(2), outcome="gone", status=404))
    write_run(archive, record(night(3), outcome="gone", status=404))
    assert [c["change"] for c in queries.run_changes(archive.db, interrupted)] == []
    assert [c["change"] for c in queries.run_changes(archive.db, complete)] == ["removed"]
    assert archive.db.execute("select run_id, last_run from snapshots where outcome = 'gone' order by id").fetchall() == [
        (interrupted, None), (complete, complete + 1)]


def test_the_first_recrawl_of_an_unchanged_site_adds_no_snapshot_row(crawl, db_path):
    crawl()
    rows = sqlite3.connect(db_path).execute("select count(*) from snapshots").fetchone()[0]
    crawl()  # 304s and noisy 200s, with conditional request headers: the same content, other answers
    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("select count(*) from snapshots").fetchone()[0] == rows
        db = Database(conn)
        run = queries.get_run(db, 2)
        first, second = queries.fetches(db, run_ids=[1]), queries.fetches(db, run_ids=[2])
        assert run["pages_checked"] == len(second) == len(first) > 10
        assert all(run["started"] <= f["fetched_at"] <= run["finished"] for f in second)
        by_url = {f["page_id"]: f for f in first}
        answers = {(f["outcome"], f["http_status"]) for f in second}
        assert ("not_modified", 304) in answers and ("ok", 200) in answers
        assert answers <= {("not_modified", 304), ("ok", 200)}
        for fetch in second:
            sent = {name.lower() for name, _ in queries.header_block(db, fetch["request_head_id"])["headers"]}
            before = by_url[fetch["page_id"]]
            if fetch["outcome"] == "not_modified":  # a conditional request, answered 304: its own headers
                assert "if-none-match" in sent and fetch["request_head_id"] != before["request_head_id"]
                assert fetch["body_exact"] is None
            else:  # a 200 whose per-request noise differs: the same content, not its exact bytes
                assert "if-none-match" not in sent and fetch["body_exact"] == 0
            assert (fetch["id"], fetch["body_id"], fetch["content_id"]) == (
                before["id"], before["body_id"], before["content_id"])
        page = next(f["page_id"] for f in second if f["outcome"] == "not_modified")
        assert [(f["run_id"], f["outcome"], f["http_status"]) for f in queries.fetches(db, page_id=page)] == [
            (1, "ok", 200), (2, "not_modified", 304)]
    result = run_cli("runs", "--db", db_path, check=True)
    assert result.returncode == 0
    assert run_cli("check", "--db", db_path).returncode == 0


def test_datasette_shows_a_span_as_one_row_and_every_fetch_on_request(archive):
    for n in range(4):  # a 200, then 304s and a 200: one span
        write_run(archive, record(night(n)) if n % 2 == 0 else record(night(n), outcome="not_modified", status=304))
    path = archive.path

    async def pages():
        ds = archive_datasette(path)
        history = await ds.client.get("/-/wwc/page?url=" + URL)
        every = await ds.client.get(f"/wwc-archive/page_fetches.json?url={URL}&_shape=array")
        by_sql = await ds.client.get("/wwc-archive.json?_shape=array&sql=" + (
            "select count(*) as n from snapshots s, json_each(wwc_fetches(s.run_id, s.fetched_at, s.repeats))"))
        return history, every, by_sql

    history, every, by_sql = asyncio.run(pages())
    assert "unchanged, fetched 4 times until " + night(3) in " ".join(history.text.split())
    assert [(r["run_id"], r["fetched_at"], r["outcome"], r["http_status"]) for r in every.json()] == [
        (n + 1, night(n), *(("ok", 200) if n % 2 == 0 else ("not_modified", 304))) for n in reversed(range(4))]
    assert by_sql.json() == [{"n": 4}]


# m008: folding an older archive ------------------------------------------------------------------

def unfold(source: str, target: str) -> None:
    """``target``: ``source`` as an archive before m007 held it, one row per fetch (ids keep page order)."""
    with closing(sqlite3.connect(target)) as conn:
        migrations.apply(Database(conn), stop_before="m007_snapshot_spans")
        conn.execute("attach ? as src", [source])
        tables = [name for (name,) in conn.execute(
            "select name from sqlite_master where type = 'table' and name not like 'contents_fts%' "
            "and name not like '\\_%' escape '\\' and sql not like 'create virtual%'")]
        src = Database(sqlite3.connect(source))
        for table in tables:
            columns = [row[1] for row in conn.execute(f"pragma table_info({table})")]
            if table == "snapshots":
                conn.executemany(
                    f"insert into snapshots ({', '.join(columns)}) values ({', '.join('?' * len(columns))})",
                    [[{**f, "id": f["id"] * 1000 + f["repeat"]}[name] for name in columns]
                     for f in queries.fetches(src)])
            elif table == "header_blocks":  # as releases before m019 stored them: whole, by hex SHA-256
                for (block_id,) in src.execute("select id from header_blocks"):
                    data = header_blocks.dump(queries.header_block(src, block_id))
                    conn.execute("insert into header_blocks (id, sha256, compression, data) values (?, ?, ?, ?)",
                                 [block_id, hashlib.sha256(data).hexdigest(), *compression.compress_headers(data)])
            else:
                conn.execute(f"insert into {table} ({', '.join(columns)}) select {', '.join(columns)} from src.{table}")
        conn.execute("update changes set old_snapshot = old_snapshot * 1000, new_snapshot = new_snapshot * 1000")
        conn.execute("update pages set last_snapshot = last_snapshot * 1000, "
                     "last_good_snapshot = last_good_snapshot * 1000")
        conn.commit()


def every_answer(path) -> dict:
    with closing(sqlite3.connect(path)) as conn:
        db = Database(conn)
        dump = {table: conn.execute(f"select * from {table} order by 1").fetchall()
                for table in ("snapshots", "snapshot_aliases", "changes", "pages", "runs")}
        dump["fetches"] = sorted((f["page_id"], f["run_id"], f["fetched_at"], f["outcome"], f["http_status"])
                                 for f in queries.fetches(db))
        return dump


@pytest.fixture(scope="module")
def many_pages(tmp_path_factory):
    """An archive of 1,500 pages over 5 nights (one edit, one failure, 304s), as the release before m007 stored it."""
    folder = tmp_path_factory.mktemp("spans")
    archive = Archive(folder / "new.db")
    urls = [f"{URL}-{i}" for i in range(1500)]

    def answer(n, i):
        return ("failed", 503) if (n == 2 and i % 100 == 0) else ("not_modified", 304) if (n == 1 and i % 3 == 0) \
            else ("ok", 200)

    for n in range(5):
        write_run(archive, *[record(night(n, second=i % 50), url=url,
                                text="Edited." if (n >= 3 and i == 7) else "Tulsa.",
                                outcome=answer(n, i)[0], status=answer(n, i)[1])
                         for i, url in enumerate(urls)])
    archive.close()
    unfold(str(folder / "new.db"), str(folder / "old.db"))
    return folder


def test_m008_folds_an_old_archive_and_old_ids_keep_working(many_pages, tmp_path):
    old = tmp_path / "old.db"
    old.write_bytes((many_pages / "old.db").read_bytes())
    with closing(sqlite3.connect(old)) as conn, conn:
        conn.execute("update changes set old_snapshot = old_snapshot + 2 where change = 'changed'")  # night 3's row
        before = sorted(conn.execute("select page_id, run_id, fetched_at, outcome, http_status from snapshots"))
        changed = conn.execute("select old_snapshot, new_snapshot from changes where change = 'changed'").fetchone()
    assert run_cli("upgrade", "--db", old).returncode == 0
    after = every_answer(old)
    assert after["fetches"] == before
    assert len(after["snapshots"]) < len(before) / 4.5  # 304s folded into their pages' spans too
    assert any(fetch[3:] == ("not_modified", 304) for fetch in before)
    with closing(sqlite3.connect(old)) as conn:
        db = Database(conn)
        old_span, new_span = (queries.snapshot(db, i) for i in changed)
        assert old_span["id"] != changed[0] and old_span["fetches"] == 3 and new_span["fetches"] == 2
        assert queries.recorded_change(db, *changed) == queries.recorded_change(db, old_span["id"], new_span["id"])
        assert conn.execute("select old_snapshot, new_snapshot from changes where change = 'changed'").fetchone() == (
            old_span["id"], new_span["id"])
    assert run_cli("check", "--db", old).returncode == 0


def test_m008_killed_mid_way_resumes_to_the_same_archive(many_pages, tmp_path):
    whole, killed = tmp_path / "whole.db", tmp_path / "killed.db"
    for copy in (whole, killed):
        copy.write_bytes((many_pages / "old.db").read_bytes())
    assert run_cli("upgrade", "--db", whole).returncode == 0
    done = kill_upgrade_when(killed, {"WWC_ARCHIVE_FOLD_PAGES": "1"},  # once some pages, not all, are folded
                             "select last_page_id from _snapshot_fold_progress", lambda done: done > 20)
    assert 0 < done < 1500, "the upgrade was killed half-way"
    refused = run_cli("runs", "--db", killed)
    assert refused.returncode == 2 and "wwc-archive upgrade" in refused.stderr
    assert run_cli("upgrade", "--db", killed).returncode == 0
    assert every_answer(killed) == every_answer(whole)


def test_m014_folds_the_404s_an_older_writer_kept_one_row_each(tmp_path, monkeypatch):
    from wwc_archive.archive import write as writer_module

    path = tmp_path / "old.db"
    archive = Archive(path)
    monkeypatch.setattr(writer_module, "_folds_into",  # the writer before m014: 404s never fold
                        lambda outcome, span, state: outcome in spans.FOLDING_OUTCOMES and span in spans.FOLDING_OUTCOMES)
    write_run(archive, record(night(0)), record(night(0), url=URL + "-b"))
    for n in range(1, 6):
        write_run(archive, record(night(n), outcome="gone", status=404), record(night(n), url=URL + "-b"))
    monkeypatch.undo()
    archive.db.execute(f"delete from {migrations.migrations_table} where name = 'm014_fold_removed_pages'")
    archive.db.conn.commit()
    before = fetched(archive.db, page_id=1)
    (removal,) = [c for c in queries.changes_since(archive.db, 0) if c["change"] == "removed"]
    assert archive.db.execute("select count(*) from snapshots where page_id = 1").fetchone()[0] == 6
    archive.close()

    assert run_cli("upgrade", "--db", path).returncode == 0
    with closing(sqlite3.connect(path)) as conn:
        db = Database(conn)
        assert fetched(db, page_id=1) == before
        assert conn.execute("select run_id, last_run, outcome from snapshots where page_id = 1 order by id").fetchall() == [
            (1, None, "ok"), (2, 6, "gone")]
        (after,) = [c for c in queries.changes_since(db, 0) if c["change"] == "removed"]
        assert after["new_snapshot"] == removal["new_snapshot"]
        assert conn.execute("select count(*) from snapshots where page_id = 2").fetchone()[0] == 1
    assert run_cli("check", "--db", path).returncode == 0
