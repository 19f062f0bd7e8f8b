"""What a report says, gathered from the archive as plain data for the templates.

Read-only: everything comes through :mod:`wwc_archive.archive.queries`; a changed
page's two versions are compared by :mod:`wwc_archive.reports.compare`, as Datasette's
diff page compares them, from the edit script recorded with the change.
"""

import threading
from datetime import datetime, timezone

from wwc_archive.archive import assets, queries
from wwc_archive.archive.changes import listing
from wwc_archive.archive.changes.diff import word_diff
from wwc_archive.records import TIME_FORMAT, utcnow
from wwc_archive.reports import links, stories
from wwc_archive.reports.compare import compare
from wwc_archive.reports.settings import ReportSettings
from wwc_archive.reports.worddiff import trim_diff

KINDS = ("added", "changed", "removed")
FIELD_LABELS = {"title": "Title", "author": "Author", "published": "Date"}
EXCERPT_WORDS = 60


class ReportError(ValueError):
    """The report cannot be made as asked (bad date, no such run); the message says why."""


def normalize_since(since: str) -> str:
    """An ISO date or date-time as the archive's UTC ``YYYY-MM-DDTHH:MM:SSZ``."""
    try:
        moment = datetime.fromisoformat(since.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ReportError(f"--since expects a date like 2026-05-01 or 2026-05-01T03:00, not {since!r}") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.strftime(TIME_FORMAT)


def report_data(db, run_id: int | None = None, since: str | None = None,
                settings: ReportSettings | None = None, cancel: threading.Event | None = None) -> dict:
    """Everything a report shows, for one run (default: the latest) or every run since a date.

    Setting ``cancel`` makes the diffs not yet computed coarse (a server's time limit).
    """
    settings = settings or ReportSettings()
    if run_id is not None and since is not None:
        raise ReportError("choose a run or a date (--since), not both")
    if since is not None:
        since = normalize_since(since)
        runs = [run for run in queries.list_runs(db) if (run["started"] or "") >= since]
        rows = queries.changes_since(db, since, with_diff=False)
    else:
        try:
            runs = [queries.get_run(db, "latest" if run_id is None else run_id)]
        except queries.NoSuchRun as error:
            raise ReportError(str(error)) from None
        rows = queries.run_changes(db, runs[0]["id"], with_diff=False)
    failures = [dict(row, run_id=run["id"], problem=_problem(row))
                for run in runs for row in queries.failed_fetches(db, run["id"])]
    titles = linked_titles(db, rows)
    # Most significant first, echoes folded into their story, minor changes in one line each.
    arranged = stories.arrange([change_view(db, row, settings, titles, cancel) for row in rows], rows,
                               settings.summarise_below)
    changes, minor = arranged["changes"], arranged["minor"]
    counts = {kind: sum(1 for c in changes + minor if c["kind"] == kind) for kind in KINDS}
    return {
        "since": since,
        "run": runs[0] if since is None else None,
        "runs": runs,
        "changes": changes,
        "minor": minor,
        "echoes": arranged["echoes"],
        "top_score": max((c["score"] or 0 for c in changes + minor), default=None),
        "run_url": settings.link(links.report(runs[0]["id"])) if since is None else None,
        "counts": counts,
        "failures": failures,
        "pages_checked": sum(run["pages_checked"] or 0 for run in runs),
        "pages_failed": len(failures),
        # Requisites the runs captured anew (new bytes, or gone): told apart from page changes, never among them.
        "assets_updated": sum(assets.captured_in_run(db, run["id"]) for run in runs),
        "archive_url": settings.archive_url,
        "generated": utcnow(),
        "title": report_title(runs, counts, since, len(failures)),
    }


def report_title(runs: list[dict], counts: dict, since: str | None, failed: int) -> str:
    """``Run 7 (2026-05-01): 1 added, 2 changed, 0 removed, 1 failed fetch``: also the mail subject."""
    what = f"{counts['added']} added, {counts['changed']} changed, {counts['removed']} removed"
    if failed:
        what += f", {failed} failed fetch" + ("es" if failed != 1 else "")
    if since is not None:
        return f"Changes since {since[:10]} ({len(runs)} run{'s' if len(runs) != 1 else ''}): {what}"
    run = runs[0]
    return f"Run {run['id']} ({(run['started'] or '')[:10]}): {what}"


def change_view(db, row: dict, settings: ReportSettings, titles: dict[str, str],
                cancel: threading.Event | None = None) -> dict:
    """One change as the templates show it; its words and counts from the one differ.

    A listing change recorded as items (``listing``: entered, left, changed)
    is shown as those, without a word diff of the whole listing.
    """
    summary = row["summary"] or {}
    old_id, new_id = row["old_snapshot"], row["new_snapshot"]
    links_added, links_removed = listing.other_links(summary)  # a listing's items say the rest
    view = {
        "id": row["id"],
        "run_id": row["run_id"],
        "kind": row["change"],
        "title": row["title"] or row["url"],
        "url": row["url"],
        "program": row["program"],
        "role": row["role"],
        "when": row["detected_at"],
        "score": (row.get("significance") or {}).get("score"),
        "reasons": (row.get("significance") or {}).get("reasons") or [],
        "fields": [
            {"name": FIELD_LABELS.get(name, name), "old": old, "new": new}
            for name, (old, new) in (summary.get("fields") or {}).items()
        ],
        "links_added": [{"url": u, "title": titles.get(u)} for u in links_added],
        "links_removed": [{"url": u, "title": titles.get(u)} for u in links_removed],
        "listing": teaser_diffs(summary.get("items")),
        "other_text": summary.get("other_text") or {},
        "words_added": summary.get("words_added", 0),
        "words_removed": summary.get("words_removed", 0),
        "diff": None,
        "excerpt": None,
        "snapshot_url": None,
        "old_snapshot_url": None,
        "diff_url": None,
        "history_url": settings.link(links.history(row["url"])),
    }
    # History read from a web archive says so, with the address a researcher cites.
    source = queries.snapshot_sources(db, [new_id]).get(new_id) or {}
    view["source"], view["memento_url"] = source.get("source"), source.get("memento_url")
    if row["change"] == "removed":
        # The archived version of a removed page is the last one that was live.
        view["snapshot_url"] = old_id and settings.link(links.snapshot(old_id))
    else:
        view["snapshot_url"] = settings.link(links.snapshot(new_id))
    if row["change"] == "changed" and old_id:
        view["old_snapshot_url"] = settings.link(links.snapshot(old_id))
        view["diff_url"] = settings.link(links.diff(old_id, new_id))
        compared = _compared(db, old_id, new_id, cancel)
        if compared is not None:
            view["fields"] = [{"name": FIELD_LABELS.get(name, name), "old": old, "new": new}
                              for name, (old, new) in compared["fields"].items()]
            view["links_added"] = [{"url": u, "title": titles.get(u)} for u in compared["links_added"]]
            view["links_removed"] = [{"url": u, "title": titles.get(u)} for u in compared["links_removed"]]
            if "items" in compared:
                view["listing"], view["other_text"] = teaser_diffs(compared["items"]), compared["other_text"]
            elif compared["change_count"]:
                view["words_added"], view["words_removed"] = compared["words_added"], compared["words_removed"]
                view["diff"] = trim_diff(compared["diff"], settings.context_words, settings.max_changed_words)
                view["diff"]["change_count"] = compared["change_count"]
    elif row["change"] == "added":
        view["excerpt"] = _excerpt(_text(db, new_id))
    return view


def _compared(db, old_id: int, new_id: int, cancel: threading.Event | None) -> dict | None:
    """The change's two versions compared as Datasette's diff page compares them (None: a version is gone)."""
    try:
        return compare(db, old_id, new_id, cancel=cancel)
    except LookupError:
        return None


def teaser_diffs(items: dict | None) -> dict | None:
    """A listing's items with each changed teaser field's word diff (``diffs``: field -> pieces)."""
    if not items or not items.get("changed"):
        return items
    changed = [dict(item, diffs={name: word_diff(old or "", new or "")["diff"]
                                 for name, (old, new) in item["fields"].items()})
               for item in items["changed"]]
    return {**items, "changed": changed}


def _problem(failure: dict) -> str:
    """``HTTP 503``, ``timeout``, or both when the error does not already say the status."""
    status, error = failure["http_status"], (failure["error"] or "").strip()
    if status and str(status) not in error:
        return f"HTTP {status}: {error}" if error else f"HTTP {status}"
    return error or "failed"


def _text(db, snapshot_id: int | None) -> str | None:
    if not snapshot_id:
        return None
    try:
        return queries.snapshot(db, snapshot_id)["text"]
    except LookupError:
        return None


def _excerpt(text: str | None) -> str | None:
    if not text:
        return None
    words = text.split()
    return " ".join(words[:EXCERPT_WORDS]) + (" …" if len(words) > EXCERPT_WORDS else "")


def linked_titles(db, rows: list[dict]) -> dict[str, str]:
    """Titles of the pages newly linked or unlinked, where the archive knows them."""
    urls = sorted({u for row in rows for key in ("links_added", "links_removed")
                   for u in ((row["summary"] or {}).get(key) or ())})
    return queries.page_titles(db, urls)
