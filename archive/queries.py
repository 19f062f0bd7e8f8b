"""Read-only questions asked of an archive, shared by the CLI, reports and Datasette."""

import json
import os
import sqlite3
from contextlib import contextmanager

from sqlite_utils import Database

from wwc_archive.archive.changes.diff import unified_diff
from wwc_archive.archive.formats import bodies, header_blocks, header_sets, items, outlinks, spans, texts
from wwc_archive.archive.formats import compression as codec
from wwc_archive.archive.formats.bodies import BodyReader, body_address
from wwc_archive.archive.formats.fingerprint import unpack_fingerprint

RUN_COLUMNS = (
    "id, pid, exit_status, started, finished, status, programs, trigger, pages_checked, pages_fetched, "
    "pages_unchanged, pages_failed, added, changed, removed, duration, note"
)


class NoSuchRun(LookupError):
    pass


def _run_row(row: dict) -> dict:
    row = dict(row)
    row["programs"] = json.loads(row["programs"] or "[]")
    return row


def list_runs(db: Database) -> list[dict]:
    """Every run, newest first."""
    return [_run_row(row) for row in db.query(f"select {RUN_COLUMNS} from runs order by id desc")]


def get_run(db: Database, run: str | int = "latest") -> dict:
    """One run by id, or ``"latest"``; raises :class:`NoSuchRun`."""
    if run in ("latest", None):
        rows = list(db.query(f"select {RUN_COLUMNS} from runs order by id desc limit 1"))
        if not rows:
            raise NoSuchRun("the archive has no runs yet: run `wwc-archive crawl` first")
    else:
        try:
            run_id = int(run)
        except ValueError:
            raise NoSuchRun(f"--run must be 'latest' or a run id, not {run!r}") from None
        rows = list(db.query(f"select {RUN_COLUMNS} from runs where id = ?", [run_id]))
        if not rows:
            raise NoSuchRun(f"no run with id {run_id}")
    return _run_row(rows[0])


def run_by_pid(db: Database, pid: int) -> dict | None:
    """The newest run started by process ``pid`` (how a parent finds its child's run)."""
    rows = list(db.query(f"select {RUN_COLUMNS} from runs where pid = ? order by id desc limit 1", [pid]))
    return _run_row(rows[0]) if rows else None


def last_scheduled_start(db: Database, program: str) -> str | None:
    """When the newest complete scheduled crawl of ``program`` started (ISO UTC), or None."""
    row = db.execute(
        "select max(started) from runs where trigger = 'scheduled' and status = 'complete' "
        "and exists (select 1 from json_each(runs.programs) where value = ?)",
        [program],
    ).fetchone()
    return row[0] if row else None


CHANGE_SELECT = """
select
  c.id, c.run_id, c.change, p.url, p.program, p.role,
  coalesce(new_content.title, old_content.title, p.title) as title,
  c.old_snapshot, c.new_snapshot,
  new_snap.fetched_at as detected_at,
  old_snap.fetched_at as previous_fetched_at,
  new_snap.http_status,
  c.summary, c.diff, c.edits, c.score, c.reasons, c.echo_of
from changes c
join pages p on p.id = c.page_id
join snapshots new_snap on new_snap.id = c.new_snapshot
left join snapshots old_snap on old_snap.id = c.old_snapshot
left join contents new_content on new_content.id = new_snap.content_id
left join contents old_content on old_content.id = old_snap.content_id
"""


def _change_row(row: dict) -> dict:
    row = dict(row)
    row["summary"] = json.loads(row["summary"]) if row["summary"] else None
    # How much it matters (archive/changes/significance.py), and the story it only echoes (archive/changes/echoes.py).
    reasons = row.pop("reasons")
    row["significance"] = {"score": row.pop("score"), "reasons": json.loads(reasons) if reasons else []}
    return row


def run_changes(db: Database, run_id: int, with_diff: bool = True) -> list[dict]:
    """The changes one run found: added, then changed, then removed, by URL.

    ``with_diff``: each text change with its unified ``diff`` (what ``changes``
    prints); reports compare the versions themselves and ask for none.
    """
    order = "case c.change when 'added' then 0 when 'changed' then 1 else 2 end, p.url"
    rows = db.query(CHANGE_SELECT + f" where c.run_id = ? order by {order}", [run_id])
    return [_with_text_diff(db, _change_row(row)) if with_diff else _change_row(row) for row in rows]


def changes_since(db: Database, since: str, with_diff: bool = True) -> list[dict]:
    """Changes found by runs started on or after ``since`` (an ISO date), newest first, with their ``diff``."""
    rows = db.query(
        CHANGE_SELECT
        + " join runs r on r.id = c.run_id where r.started >= ? order by c.run_id desc, c.id",
        [since],
    )
    return [_with_text_diff(db, _change_row(row)) if with_diff else _change_row(row) for row in rows]


def _with_text_diff(db: Database, row: dict) -> dict:
    """A text change's unified diff (``diff``), made from its two versions.

    Changes recorded before keep the one stored with them; a listing change
    told as items has none.
    """
    if row["diff"] is None and row["change"] == "changed" and row["edits"] is not None:
        old, new = (db.execute("select content_id from snapshots where id = ?", [snapshot_id]).fetchone()
                    for snapshot_id in (row["old_snapshot"], row["new_snapshot"]))
        if old and new:
            row["diff"] = unified_diff(content_text(db, old[0]) or "", content_text(db, new[0]) or "")
    return row


def recent_changes(db: Database, limit: int) -> list[dict]:
    """The newest ``limit`` changes, newest first."""
    rows = db.query(CHANGE_SELECT + " order by c.id desc limit ?", [limit])
    return [_change_row(row) for row in rows]


def run_dismissals(db: Database, run_id: int) -> list[dict]:
    """What a run saw differ and did not report, by URL: each fetch's rules (``typography``, ``dates``,
    ``counters``, ``template``, ``widget``, ``outage``) and what they saw."""
    return list(
        db.query(
            """
            select p.url, d.rules, d.detail, d.snapshot_id as snapshot
            from dismissals d join pages p on p.id = d.page_id
            where d.run_id = ? order by p.url, d.id
            """,
            [run_id],
        )
    )


def failed_fetches(db: Database, run_id: int) -> list[dict]:
    """Fetches of one run that failed (5xx, timeouts, resets, robots.txt, size cap)."""
    return list(
        db.query(
            """
            select p.url, p.program, s.http_status, s.error, s.fetched_at
            from snapshots s join pages p on p.id = s.page_id
            where s.run_id = ? and s.outcome = 'failed' order by p.url
            """,
            [run_id],
        )
    )


def resolve_snapshot(db: Database, snapshot_id: int) -> int:
    """The span that holds a snapshot id: the id itself, or, for a row folded by m008, its span's."""
    row = db.execute("select snapshot_id from snapshot_aliases where id = ?", [snapshot_id]).fetchone()
    return row[0] if row else snapshot_id


def snapshot(db: Database, snapshot_id: int) -> dict:
    """A snapshot (a span: see :func:`fetches`) with its page's URL, extracted content and kept headers.

    ``links`` and ``headers`` are decoded; ``fetches``, ``last_run`` and
    ``last_fetched_at`` say how often and until when the span was fetched. An
    id folded into a span by migration m008 gives that span.
    """
    snapshot_id = resolve_snapshot(db, snapshot_id)
    rows = list(
        db.query(
            """
            select s.id, s.run_id, s.page_id, p.url, p.program, p.role, s.fetched_at,
                   s.http_status, s.outcome, s.error, s.body_id, s.content_id,
                   c.title, c.author, c.published, h.headers, s.final_url, s.repeats
            from snapshots s join pages p on p.id = s.page_id
            left join contents c on c.id = s.content_id
            left join header_sets h on h.id = s.header_set
            where s.id = ?
            """,
            [snapshot_id],
        )
    )
    if not rows:
        raise LookupError(f"no snapshot with id {snapshot_id}")
    row = _with_span(rows[0])
    row["text"] = content_text(db, row["content_id"])
    row["links"] = outlinks.content_links(db.conn, row["content_id"])
    row["headers"] = json.loads(row["headers"] or "{}")
    return row


def content_text(db: Database, content_id: int | None) -> str | None:
    """The whole extracted text of one version (``contents`` row), however it is stored."""
    return texts.content_text(db.conn, content_id)


def _with_span(row: dict) -> dict:
    """A snapshot row with ``fetches``, ``last_run`` and ``last_fetched_at`` instead of its ``repeats`` blob."""
    row["fetches"], row["last_run"], row["last_fetched_at"] = spans.extent(
        row["run_id"], row["fetched_at"], row.pop("repeats"))
    return row


FETCH_COLUMNS = (
    "s.id, s.run_id, s.page_id, s.fetched_at, s.http_status, s.outcome, s.error, s.final_url, s.header_set, "
    "s.body_id, s.content_id, s.body_exact, s.request_head_id, s.response_head_id, s.source, s.memento_url, "
    "s.last_run, s.repeats, s.answers"
)


def fetches(db: Database, page_id: int | None = None, run_ids=None, select: str = FETCH_COLUMNS,
            joins: str = "") -> list[dict]:
    """Every fetch, one dict each, from the snapshot spans that hold them.

    A dict is its span's row (``id`` is the span's id) with this fetch's own
    ``run_id``, ``fetched_at`` and answer (``outcome``, ``http_status``,
    ``body_exact``, ``request_head_id``, ``header_set``: a 304 inside a span of
    200s is ``not_modified``; with ``header_set`` selected, ``headers`` is its
    JSON text), and ``repeat``: 0 for a span's first fetch
    (the one that may have stored a body and response head), more than 0 for
    the later ones (their index in the span when all of a page's are read). Give ``page_id`` (that page's fetches) and/or ``run_ids`` (the
    fetches of those runs); either way they come by run, time and span. ``select``
    and ``joins`` add columns from joined tables (the spans are ``s``; ``select``
    must include ``s.id, s.run_id, s.fetched_at, s.last_run, s.repeats``; the
    span's ``s.answers`` is added when missing).
    """
    where, params = [], []
    wanted = None
    if page_id is not None:
        where.append("s.page_id = ?")
        params.append(page_id)
    if run_ids is not None:
        wanted = {int(r) for r in run_ids}
        if not wanted:
            return []
        marks = ", ".join("?" for _ in wanted)
        # Spans that started in these runs, and spans started earlier that a later fetch extended into them.
        where.append(f"s.id in (select id from snapshots where run_id in ({marks}) "
                     "union select id from snapshots where last_run >= ? and run_id < ?)")
        params += [*sorted(wanted), min(wanted), max(wanted)]
    if "s.answers" not in select:
        select += ", s.answers"
    sql = f"select {select} from snapshots s {joins}" + (" where " + " and ".join(where) if where else "")
    found = []
    for row in db.query(sql + " order by s.id", params):
        repeats = row.pop("repeats")
        answers = spans.load_answers(row.pop("answers"), spans.answer_of(row))
        first = row["run_id"]
        span_fetches = spans.decode_answers(row["run_id"], row["fetched_at"], repeats, runs=wanted)
        for index, (run_id, fetched_at, answer) in enumerate(span_fetches):
            repeat = index if wanted is None else int(run_id != first)
            found.append({**spans.with_answer(row, answer, answers),
                          "run_id": run_id, "fetched_at": fetched_at, "repeat": repeat})
    if "s.header_set" in select:
        kept = header_sets.texts(db.conn, (fetch["header_set"] for fetch in found))
        for fetch in found:
            fetch["headers"] = kept.get(fetch["header_set"])
    # By run and time: a span may go on after a failure (a row of its own) that came between its fetches.
    found.sort(key=lambda fetch: (fetch["run_id"], fetch["fetched_at"], fetch["id"]))
    return found


def snapshot_body(db: Database, snapshot_id: int) -> tuple[bytes, str | None]:
    """The stored body of a snapshot, decompressed, and its content type."""
    rows = list(
        db.query(
            "select b.id, b.content_type from snapshots s "
            "join bodies b on b.id = s.body_id where s.id = ?",
            [resolve_snapshot(db, snapshot_id)],
        )
    )
    if not rows:
        raise LookupError(f"snapshot {snapshot_id} has no stored body")
    return body_bytes(db, rows[0]["id"]), rows[0]["content_type"]


def decompress(data: bytes, compression: str | None) -> bytes:
    """Whole stored bytes (a header block, or a body that is no delta), decompressed."""
    return codec.decompress(data, compression)


#: Compressions whose bodies decode against a base (``bodies.base_id``).
DELTAS = bodies.DELTAS


def body_bytes(db: Database, body_id: int) -> bytes:
    """A stored body's original bytes, through its chain of deltas if it is one
    (:class:`~wwc_archive.archive.formats.bodies.BodyReader` for many)."""
    return BodyReader(db).read(body_id)


def page_history(db: Database, url: str) -> list[dict]:
    """Every snapshot (span) of one page, oldest first, with the change it carried.

    Each row also has ``fetches`` (how many fetches the span holds),
    ``last_run`` and ``last_fetched_at`` (its last fetch).
    """
    return [_with_span(row) for row in db.query(
        """
        select s.id, s.run_id, s.fetched_at, s.http_status, s.outcome, s.error,
               s.content_id, c.title, ch.change, s.repeats
        from snapshots s join pages p on p.id = s.page_id
        left join contents c on c.id = s.content_id
        left join changes ch on ch.new_snapshot = s.id
        where p.url = ? order by s.id
        """,
        [url],
    )]


def page(db: Database, url: str) -> dict | None:
    """The ``pages`` row of one URL, or None."""
    rows = list(db.query(
        "select id, url, program, role, state, title, first_run, last_run from pages where url = ?", [url]))
    return rows[0] if rows else None


def page_titles(db: Database, urls: list[str]) -> dict[str, str]:
    """The titles the archive knows for these URLs (URLs without a title are left out)."""
    titles = {}
    for start in range(0, len(urls), 500):  # SQLite caps the number of parameters
        chunk = urls[start:start + 500]
        marks = ", ".join("?" for _ in chunk)
        for row in db.query(f"select url, title from pages where url in ({marks})", chunk):
            if row["title"]:
                titles[row["url"]] = row["title"]
    return titles


def body_info(db: Database, body_id: int) -> dict | None:
    """A stored body's size, type and hash (``sha256``, hex), without its bytes."""
    rows = list(db.query("select id, sha256, size, content_type from bodies where id = ?", [body_id]))
    if not rows:
        return None
    return {**rows[0], "sha256": body_address(rows[0]["sha256"])}


def snapshot_neighbours(db: Database, page_id: int, snapshot_id: int, content_id: int | None) -> dict:
    """A snapshot's neighbours among its page's snapshots, each found by an index seek.

    ``previous``/``next``: the fetches just before and after; ``previous_version``/
    ``next_version``: the nearest fetches with other content (for a fetch
    without content, no previous one and the next with any); ``same_text_since``: the first earlier fetch with the
    same content. Only the stretch of unchanged fetches around it is walked.
    """
    def one(sql: str, *params) -> int | None:
        row = db.execute(sql, [page_id, snapshot_id, *params]).fetchone()
        return row[0] if row else None

    found = {
        "previous": one("select max(id) from snapshots where page_id = ? and id < ?"),
        "next": one("select min(id) from snapshots where page_id = ? and id > ?"),
        "previous_version": None, "next_version": None, "same_text_since": None,
    }
    if content_id is None:  # a failed or gone fetch: the next fetch with any content
        found["next_version"] = one(
            "select id from snapshots where page_id = ? and id > ? and content_id is not null order by id limit 1")
        return found
    other = "page_id = ? and {} and content_id is not null and content_id != ? order by id {} limit 1"
    found["previous_version"] = one(f"select id from snapshots where {other.format('id < ?', 'desc')}", content_id)
    found["next_version"] = one(f"select id from snapshots where {other.format('id > ?', 'asc')}", content_id)
    found["same_text_since"] = db.execute(
        "select min(id) from snapshots where content_id = ? and page_id = ? and id < ?",
        [content_id, page_id, snapshot_id]).fetchone()[0]
    return found


def content_items(db: Database, content_id: int | None) -> list[dict] | None:
    """A listing version's items (teasers) in listing order, or None if it was stored without them."""
    return items.content_items(db.conn, content_id)


def recorded_change(db: Database, old_snapshot: int, new_snapshot: int) -> tuple[str | None, dict | None]:
    """The edit script and summary recorded for the change from one snapshot to another (Nones if none was)."""
    row = db.execute(
        "select edits, summary from changes where old_snapshot = ? and new_snapshot = ? and change = 'changed'",
        [resolve_snapshot(db, old_snapshot), resolve_snapshot(db, new_snapshot)],
    ).fetchone()
    return (row[0], json.loads(row[1]) if row[1] else None) if row else (None, None)


@contextmanager
def read_only(path: str | os.PathLike):
    """The archive at ``path`` opened read-only (SQLite's ``mode=ro``): yields None if there is none."""
    if not os.path.exists(path):
        yield None
        return
    db = Database(sqlite3.connect(f"file:{os.path.abspath(path)}?mode=ro", uri=True))
    try:
        yield db if db["runs"].exists() else None
    finally:
        db.close()
# WARC export ---------------------------------------------------------------------------

EXPORT_COLUMNS = """s.id, s.run_id, s.page_id, p.url, p.role, s.fetched_at, s.http_status, s.outcome, s.final_url,
       s.header_set, h.headers, s.body_id, s.body_exact, s.request_head_id, s.response_head_id,
       c.title, c.fingerprint, s.last_run, s.repeats, s.answers"""
EXPORT_JOINS = ("join pages p on p.id = s.page_id left join contents c on c.id = s.content_id "
                "left join header_sets h on h.id = s.header_set")
EXPORT_SELECT = f"select {EXPORT_COLUMNS} from snapshots s {EXPORT_JOINS}"


def runs_started_since(db: Database, since: str | None = None) -> list[dict]:
    """Runs started on or after ``since`` (an ISO date), or every run, oldest first."""
    rows = db.query(f"select {RUN_COLUMNS} from runs where started >= ? order by id", [since or ""])
    return [_run_row(row) for row in rows]


def export_snapshots(db: Database, run_ids: list[int]) -> list[dict]:
    """The fetches of these runs (see :func:`fetches`), by run and time."""
    found = fetches(db, run_ids=run_ids, select=EXPORT_COLUMNS, joins=EXPORT_JOINS)
    for fetch in found:
        fetch["fingerprint"] = unpack_fingerprint(fetch["fingerprint"])
    return found


def export_snapshot(db: Database, snapshot_id: int) -> dict:
    """One span's first fetch as :func:`export_snapshots` returns it."""
    row = next(db.query(EXPORT_SELECT + " where s.id = ?", [snapshot_id]))
    row.pop("repeats")
    row.pop("answers")
    return {**row, "fingerprint": unpack_fingerprint(row["fingerprint"]), "repeat": 0}


def first_snapshots_with_body(db: Database, run_ids: list[int]) -> dict[tuple[int, int], int]:
    """``(page_id, body_id) -> snapshot id`` of each page's first snapshot with that body,
    for the pages these runs fetched: the fetch whose bytes the body is (that span's first)."""
    marks = ", ".join("?" for _ in run_ids)
    rows = db.execute(
        f"""
        select page_id, body_id, min(id) from snapshots
        where body_id is not null
          and page_id in (select page_id from snapshots where run_id in ({marks})
                          union select page_id from snapshots where last_run >= ? and run_id < ?)
        group by page_id, body_id
        """,
        [*run_ids, min(run_ids), max(run_ids)],
    ).fetchall()
    return {(page_id, body_id): snapshot_id for page_id, body_id, snapshot_id in rows}


def header_block(db: Database, block_id: int) -> dict:
    """A stored set of headers (``header_blocks``), decoded; :func:`header_reader` for many."""
    return header_reader(db).head(block_id)


def header_reader(db: Database) -> header_blocks.Reader:
    """Reads header blocks (``.head(block_id)``), keeping the bases of their deltas decoded."""
    return header_blocks.Reader(db.conn)


def body_count(db: Database) -> int:
    """How many distinct bodies the archive stores."""
    return db.execute("select count(*) from bodies").fetchone()[0]


def runs_not_triggered_by(db: Database, trigger: str) -> int:
    """How many runs had another trigger than ``trigger`` (the demo's archive holds only its own)."""
    return db.execute("select count(*) from runs where trigger != ?", [trigger]).fetchone()[0]


# History read from web archives (backfill, import-warc) ------------------------------------

def backfill_runs(db: Database) -> list[dict]:
    """Every run a backfill or WARC import wrote, oldest first (one per capture day)."""
    return [_run_row(row) for row in db.query(
        f"select {RUN_COLUMNS} from runs where trigger = 'backfill' order by id")]


def crawl_runs(db: Database) -> list[dict]:
    """Runs other than backfills (crawls of the live site), oldest first."""
    return [_run_row(row) for row in db.query(
        f"select {RUN_COLUMNS} from runs where trigger != 'backfill' order by id")]


def run_fetch_outcomes(db: Database, run_id: int) -> list[dict]:
    """``{page_id, outcome}`` of every fetch of one run, cheaply for the newest run.

    A span that started in the run, or whose last fetch is of the run, holds
    one of its fetches without decoding; only spans that reach past it (a
    later run extended them) are decoded.
    """
    rows = list(db.query(
        "select page_id, outcome from snapshots where run_id = ? "
        "union all select page_id, outcome from snapshots where last_run = ? and run_id < ?",
        [run_id, run_id, run_id]))
    for row in db.query("select page_id, outcome, run_id, fetched_at, repeats from snapshots "
                        "where last_run > ? and run_id < ?", [run_id, run_id]):
        if spans.decode(row["run_id"], row["fetched_at"], row["repeats"], runs={run_id}):
            rows.append({"page_id": row["page_id"], "outcome": row["outcome"]})
    return rows


def run_fetches(db: Database, run_id: int) -> dict[tuple[str, str], dict]:
    """``(url, fetched_at) -> {outcome, links}`` for every fetch of one run (links decoded)."""
    rows = fetches(db, run_ids=[run_id], select="s.id, s.run_id, s.fetched_at, s.last_run, s.repeats, "
                   "p.url, s.outcome, s.content_id",
                   joins="join pages p on p.id = s.page_id")
    links: dict[int | None, list[str]] = {}
    for row in rows:
        if row["content_id"] not in links:
            links[row["content_id"]] = outlinks.content_links(db.conn, row["content_id"])
    return {(row["url"], row["fetched_at"]): {"outcome": row["outcome"], "links": links[row["content_id"]]}
            for row in rows}


def snapshot_sources(db: Database, snapshot_ids) -> dict[int, dict]:
    """``snapshot id -> {source, memento_url}`` for those of these snapshots read from a web archive."""
    ids = [int(i) for i in snapshot_ids if i is not None]
    found = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ", ".join("?" for _ in chunk)
        for row in db.query(f"select id, source, memento_url from snapshots where id in ({marks}) "
                            "and source is not null", chunk):
            found[row["id"]] = {"source": row["source"], "memento_url": row["memento_url"]}
    return found


def page_versions(db: Database, page_id: int) -> list[dict]:
    """A page's versions, oldest first: each a run of its spans with the same content (failures skipped).

    A version is ``{"id", "fetched_at", "content_id", "body_id", "last_span"}``:
    its first span's id, first fetch time and body, and the id of its last span
    (:func:`version_last_fetched` gives that span's last fetch). Content A, then
    B, then A again is three versions. One index seek on ``snapshots(page_id, id)``.
    """
    versions: list[dict] = []
    for snapshot_id, fetched_at, content_id, body_id in db.execute(
            "select id, fetched_at, content_id, body_id from snapshots where page_id = ? order by id", [page_id]):
        if content_id is None:
            continue
        if versions and versions[-1]["content_id"] == content_id:
            versions[-1]["last_span"] = snapshot_id
        else:
            versions.append({"id": snapshot_id, "fetched_at": fetched_at, "content_id": content_id,
                             "body_id": body_id, "last_span": snapshot_id})
    return versions


def version_last_fetched(db: Database, version: dict) -> str:
    """When a version (see :func:`page_versions`) was last fetched: its last span's last fetch."""
    row = db.execute("select run_id, fetched_at, repeats from snapshots where id = ?",
                     [version["last_span"]]).fetchone()
    return spans.extent(*row)[2]
