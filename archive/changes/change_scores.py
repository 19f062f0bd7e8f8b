"""Where a change's significance and echo are stored: at record time, at a run's end, and on upgrade.

The scoring itself is :mod:`~wwc_archive.archive.changes.significance` and the echo
rule :mod:`~wwc_archive.archive.changes.echoes` (pure functions); this module reads
what they need from the archive and writes ``changes.score``, ``reasons`` and
``echo_of``.
"""

import json
import sqlite3
from itertools import groupby

from wwc_archive.archive.changes import echoes, significance


def columns(result: significance.Significance) -> dict:
    """A score as the ``changes`` columns that store it."""
    return {"score": result.score, "reasons": json.dumps(list(result.reasons), ensure_ascii=False)}


def mark_echoes(conn: sqlite3.Connection, run_id: int) -> int:
    """Set ``echo_of`` on the run's changes that only echo a new or removed article; how many do."""
    rows = _run_rows(conn, "where c.run_id = ?", [run_id])
    found = echoes.find_echoes(rows)
    conn.execute("update changes set echo_of = null where run_id = ? and echo_of is not null", [run_id])
    conn.executemany("update changes set echo_of = ? where id = ?",
                     [(story, change) for change, story in found.echo_of.items()])
    return len(found.echo_of)


def score_past_changes(conn: sqlite3.Connection) -> None:
    """Score every change not scored yet, from its summary, and mark its run's echoes (one pass)."""
    rows = _run_rows(conn, "where c.score is null", [])
    updates, echo_rows = [], []
    for run_id, group in groupby(rows, key=lambda row: row["run_id"]):
        group = list(group)
        for row in group:
            scored = columns(significance.score_change(row["change"], row["role"], row["summary"]))
            updates.append((scored["score"], scored["reasons"], row["id"]))
        echo_rows += [(story, change) for change, story in echoes.find_echoes(group).echo_of.items()]
    conn.executemany("update changes set score = ?, reasons = ? where id = ?", updates)
    conn.executemany("update changes set echo_of = ? where id = ?", echo_rows)


def _run_rows(conn: sqlite3.Connection, where: str, args: list) -> list[dict]:
    cursor = conn.execute(
        f"select c.id, c.run_id, c.change, c.summary, p.url, p.role from changes c "
        f"join pages p on p.id = c.page_id {where} order by c.run_id, c.id", args)
    return [{"id": change_id, "run_id": run, "change": change, "summary": json.loads(summary) if summary else None,
             "url": url, "role": role} for change_id, run, change, summary, url, role in cursor]
