"""Migration m008: fold an older archive's snapshot rows into spans, a batch of pages at a time.

A page's rows are walked in id order; a row folds into the span before it
under the writer's rule (see :mod:`wwc_archive.archive.formats.spans`): an ``ok`` or
``not_modified`` fetch from a later run with the same content (or a removed
page's 404 after the one that removed it), that carried no change and stored
no response head, while the span has room; its answer
(a 304 after a 200, its request headers) goes into the span's palette. A
folded row is deleted and its id kept in ``snapshot_aliases``, so old links
resolve; ``changes`` and ``pages`` are pointed at the surviving span.

Each batch is one transaction that also records the last page it folded in
``_snapshot_fold_progress``: a killed upgrade loses at most one batch and
resumes after the last committed one.
"""

import os

from sqlite_utils import Database

from wwc_archive.archive.formats import spans
from wwc_archive.archive.migrations.batches import in_batches

#: Pages folded per batch (``WWC_ARCHIVE_FOLD_PAGES`` overrides it, for tests), and
#: the rows after which a batch ends early.
BATCH_PAGES = 300
BATCH_ROWS = 50_000
PROGRESS = "_snapshot_fold_progress"

_NAMES = ("id", "run_id", "fetched_at", "repeats", "answers", "response_head_id", *spans.SAME_FIELDS)
#: A fetch's answer as stored before migration m015 (its kept headers' JSON, not a header set's id).
OLD_ANSWER_FIELDS = (*spans.ANSWER_FIELDS[:-1], "headers")


def answer_fields(db: Database) -> tuple:
    """The answer columns ``snapshots`` has: m008 and m014 run before m015 gives it ``header_set``."""
    return OLD_ANSWER_FIELDS if "headers" in db["snapshots"].columns_dict else spans.ANSWER_FIELDS


def fold_archive(db: Database) -> None:
    """Fold every page not folded yet (see the module's docstring)."""
    in_batches(db, fold_batch)


def fold_removed_pages(db: Database) -> None:
    """Migration m014: fold again the pages with more than one ``gone`` row (a removed page's nightly 404s).

    Archives folded by m008 before it folded 404s keep one row per such fetch;
    this pass walks only those pages, with its own progress row.
    """
    in_batches(db, lambda db: fold_batch(db, progress_id=2, only_pages=(
        "select page_id from snapshots where outcome = 'gone' group by page_id having count(*) > 1")))


def fold_batch(db: Database, progress_id: int = 1, only_pages: str | None = None) -> bool:
    """Fold the next batch of pages (of those ``only_pages`` selects, else all); whether pages remain."""
    db.execute("create table if not exists snapshot_aliases (id integer primary key, snapshot_id integer)")
    db.execute(f"create table if not exists {PROGRESS} (id integer primary key, last_page_id integer)")
    if "answers" not in db["snapshots"].columns_dict:  # m012's column, needed for folded answers
        db.execute("alter table snapshots add column answers text")
    row = db.execute(f"select last_page_id from {PROGRESS} where id = ?", [progress_id]).fetchone()
    done = row[0] if row else 0
    limit = int(os.environ.get("WWC_ARCHIVE_FOLD_PAGES") or BATCH_PAGES)
    pages = f"select id from pages where id > ? {'' if only_pages is None else f'and id in ({only_pages})'}"
    page_ids = [r[0] for r in db.execute(f"{pages} order by id limit ?", [done, limit])]
    rows, fields = 0, answer_fields(db)
    for page_id in page_ids:
        rows += fold_page(db, page_id, fields)
        done = page_id
        if rows >= BATCH_ROWS:
            break
    db.execute(f"insert or replace into {PROGRESS} (id, last_page_id) values (?, ?)", [progress_id, done])
    return db.execute(f"{pages} limit 1", [done]).fetchone() is not None


def fold_page(db: Database, page_id: int, fields: tuple | None = None) -> int:
    """Fold one page's rows into spans (``fields``: its :func:`answer_fields`); returns how many rows it read."""
    fields = fields or answer_fields(db)
    names = (*_NAMES, *fields)
    rows = [dict(zip(names, r)) for r in db.execute(
        f"select {', '.join(names)} from snapshots where page_id = ? order by id", [page_id])]
    changed = {r[0] for r in db.execute("select new_snapshot from changes where page_id = ?", [page_id])}
    aliases: dict[int, int] = {}
    current, fetches, grown = None, [], False
    for row in rows:
        own = _own_fetches(row, fields)
        if current is not None and own is not None and _folds(current, fetches, row, own, changed):
            fetches += own
            aliases[row["id"]] = current["id"]
            grown = True
            continue
        if grown:
            _save(db, current, fetches)
        current, fetches, grown = row, own, False
    if grown:
        _save(db, current, fetches)
    if aliases:
        _point_at_spans(db, page_id, aliases)
    return len(rows)


def _own_fetches(row: dict, fields: tuple) -> list | None:
    """A row's fetches as ``(run_id, fetched_at, answer values)``; None if its span does not decode."""
    try:
        answers = spans.load_answers(row["answers"], spans.answer_of(row, fields))
        return [(run, at, tuple(spans.answer_of(spans.with_answer(row, answer, answers, fields), fields)))
                for run, at, answer in spans.decode_answers(row["run_id"], row["fetched_at"], row["repeats"])]
    except (spans.BadSpan, ValueError):
        return None


def _folds(span: dict, fetches: list | None, row: dict, own: list, changed: set) -> bool:
    return (
        fetches is not None
        and _same_kind(span["outcome"], row["outcome"], [answer[0] for _, _, answer in own])
        and row["response_head_id"] is None
        and row["id"] not in changed
        and all(row[name] == span[name] for name in spans.SAME_FIELDS)
        and own[0][0] > fetches[-1][0]
        and len(fetches) - 1 + len(own) <= spans.MAX_REPEATS
        and len({answer for _, _, answer in fetches + own}) <= spans.MAX_ANSWERS
        and all(spans.to_seconds(at) is not None for _, at, _ in (fetches[-1], *own))
    )


def _same_kind(span_outcome: str, outcome: str, answered: list[str]) -> bool:
    """Both read the page (``ok``/``not_modified``), or both are 404s of a removed page.

    The ``gone`` row that recorded a removal is a change's new snapshot, so it
    never folds into the one before; the 404s after it fold into it.
    """
    if outcome == spans.REMOVED_OUTCOME:
        return span_outcome == outcome and all(answer == outcome for answer in answered)
    return (span_outcome in spans.FOLDING_OUTCOMES and outcome in spans.FOLDING_OUTCOMES
            and all(answer in spans.FOLDING_OUTCOMES for answer in answered))


def _save(db: Database, span: dict, fetches: list) -> None:
    """Write a grown span: its fetches' runs, times and answer indexes, and its answers 1..n."""
    palette = [fetches[0][2]]
    for _, _, answer in fetches:
        if answer not in palette:
            palette.append(answer)
    later = [(run, at, palette.index(answer)) for run, at, answer in fetches[1:]]
    repeats = spans.encode(fetches[0][:2], later)
    db.execute("update snapshots set last_run = ?, repeats = ?, answers = ? where id = ?",
               [fetches[-1][0], repeats, spans.dump_answers([list(a) for a in palette[1:]], list(palette[0])), span["id"]])


def _point_at_spans(db: Database, page_id: int, aliases: dict[int, int]) -> None:
    """Delete the folded rows, keep their ids as aliases, and repoint changes and the page."""
    for old, new in aliases.items():
        db.execute("delete from snapshots where id = ?", [old])
        db.execute("insert or replace into snapshot_aliases (id, snapshot_id) values (?, ?)", [old, new])
    for change_id, old_snapshot, new_snapshot in db.execute(
            "select id, old_snapshot, new_snapshot from changes where page_id = ?", [page_id]).fetchall():
        if old_snapshot in aliases or new_snapshot in aliases:
            db.execute("update changes set old_snapshot = ?, new_snapshot = ? where id = ?",
                       [aliases.get(old_snapshot, old_snapshot), aliases.get(new_snapshot, new_snapshot), change_id])
    last, good = db.execute("select last_snapshot, last_good_snapshot from pages where id = ?", [page_id]).fetchone()
    if last in aliases or good in aliases:
        db.execute("update pages set last_snapshot = ?, last_good_snapshot = ? where id = ?",
                   [aliases.get(last, last), aliases.get(good, good), page_id])
