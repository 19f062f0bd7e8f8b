"""The archive as a research dataset: plain tables that need nothing of ours to read.

``export-dataset`` writes a folder holding a Frictionless Data Package
(``datapackage.json``, every field described), one CSV file per table, one
plain SQLite file with the same tables (``wwc-archive.sqlite``, with full-text
search on the versions' texts) and a ``README.md`` generated from the same
descriptions. :data:`TABLES` is the one place the tables and their fields are
described; every output is made from it.

Read-only on the archive, in one read transaction. Texts, links and listing
items are stored encoded (id lists, deltas); they are read through the
archive's own read functions (:func:`wwc_archive.archive.read.text`,
:func:`~wwc_archive.archive.read.links`,
:func:`~wwc_archive.archive.queries.fetches`), so a version's text is the one
``serve`` shows for it. The work goes page by page: a page's fetches, its
versions (each decoded once), its changes, then its row; no table is held in
memory. Output is atomic: everything is written into a scratch folder beside
the target (:func:`wwc_archive.leftovers.export_scratch`, as ``export-warc``
does: a killed export's is removed by the next), renamed into place at the end.
"""

import csv
import hashlib
import json
import os
import shutil
import sqlite3
from collections import OrderedDict
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from importlib.metadata import version
from pathlib import Path

from sqlite_utils import Database

from wwc_archive.archive import queries, read
from wwc_archive.archive.changes.diff import unified_diff
from wwc_archive.archive.changes.listing import FIELD_NAMES
from wwc_archive.leftovers import export_scratch
from wwc_archive.reports.datasette.words import summary_words

SQLITE_NAME = "wwc-archive.sqlite"
#: Rows inserted into the SQLite file per ``executemany``, or fewer when their texts reach BATCH_CHARACTERS.
BATCH = 2000
BATCH_CHARACTERS = 8_000_000
#: Version texts kept decoded for the changes that compare them (a page's last few).
KEEP_TEXTS = 4


class ExportError(Exception):
    """The selection or the output folder cannot be exported (a one-line reason)."""


# What the dataset holds ---------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # a Frictionless type: integer, number, string, datetime, array
    description: str


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    description: str
    fields: tuple[Field, ...]
    primary_key: str | None = None
    foreign_keys: tuple[tuple[str, str, str], ...] = ()  # (field, table, its field)
    indexes: tuple[str, ...] = ()
    long_texts: bool = False  # rows may hold megabytes (a hub's text): batches are cut by size too

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]


F = Field
TIME = "UTC, ISO 8601 (2027-01-01T03:00:00Z)"

RUNS = Table(
    "runs", "Runs", "One row per crawl of the site (normally one a night) that started in the selected period.",
    (
        F("run_id", "integer", "The run's id in the archive."),
        F("started", "datetime", f"When the run started, {TIME}."),
        F("finished", "datetime", f"When it finished, {TIME}; empty if it never finished."),
        F("status", "string", "complete, interrupted (stopped part-way), failed, or running (not finished "
                              "when the dataset was exported)."),
        F("trigger", "string", "What started it: scheduled, manual, demo, or backfill (history read from web "
                               "archives such as the Wayback Machine)."),
        F("pages_checked", "integer", "Pages the run asked for."),
        F("pages_fetched", "integer", "Pages that answered (with a page, a 304 Not Modified or a 404/410)."),
        F("pages_failed", "integer", "Pages that could not be fetched (server errors, timeouts)."),
        F("added", "integer", "Changes of kind added the run found."),
        F("changed", "integer", "Changes of kind changed the run found."),
        F("removed", "integer", "Changes of kind removed the run found."),
    ),
    primary_key="run_id",
)

PAGES = Table(
    "pages", "Pages", "One row per page (URL) fetched in the selected period.",
    (
        F("page_id", "integer", "The page's id in the archive; other tables refer to it."),
        F("url", "string", "The page's URL, as the crawler normalises it."),
        F("program", "string", "The configured program (site section) the page was crawled for."),
        F("kind", "string", "program: a program's hub page, whose listing of articles is compared item by "
                            "item; pager: one of the hub's \"Show more\" pages (their items count as the hub's); "
                            "page: an article, a person or another HTML page the hub links to; "
                            "document: a PDF, DOCX or XLSX file."),
        F("state", "string", "Its state at export time: live, removed (answered 404 or 410), or unseen "
                             "(never fetched successfully)."),
        F("title", "string", "Its latest title."),
        F("first_seen", "datetime", f"Its first fetch in the period, {TIME}."),
        F("last_seen", "datetime", f"Its last fetch in the period, {TIME}."),
        F("fetches", "integer", "How many times it was fetched in the period (rows in fetches)."),
        F("versions", "integer", "How many distinct versions of it were seen in the period (rows in versions)."),
        F("changes", "integer", "How many changes to it runs of the period reported (rows in changes)."),
    ),
    primary_key="page_id",
    indexes=("url",),
)

VERSIONS = Table(
    "versions", "Versions",
    "One row per distinct version of a page seen in the period: what the crawler extracted from the page "
    "(title, byline, date, main text, links), with when that version was first and last seen. Two fetches are "
    "the same version when what was extracted is the same after per-request noise (tokens, timestamps, "
    "session ids) is removed; a document is a new version when its bytes differ.",
    (
        F("version_id", "integer", "The archive's snapshot id of the first fetch that saw this version (in the "
                                   "archive's Datasette: /-/wwc/snapshot/ID). Stable across exports."),
        F("page_id", "integer", "The page (pages.page_id)."),
        F("url", "string", "The page's URL."),
        F("first_seen", "datetime", f"The version's first fetch in the period, {TIME}."),
        F("last_seen", "datetime", f"Its last fetch in the period, {TIME}."),
        F("fetches", "integer", "How many fetches in the period saw this version."),
        F("title", "string", "The page's title."),
        F("author", "string", "The byline, as printed on the page."),
        F("published", "string", "The publication date, as printed on the page (not normalised)."),
        F("text", "string", "The page's main text, as extracted: paragraphs separated by a blank line; "
                            "navigation, headers and footers left out. Empty for a document with no text."),
        F("links", "array", "The in-scope URLs the version links to, sorted, as a JSON array."),
        F("body_sha256", "string", "SHA-256 (hex) of the response body the archive kept for this version: the "
                                   "bytes of the first fetch that brought it, decoded from gzip or brotli."),
        F("body_size", "integer", "That body's size in bytes."),
        F("content_type", "string", "That body's Content-Type."),
    ),
    primary_key="version_id",
    foreign_keys=(("page_id", "pages", "page_id"),),
    indexes=("page_id",),
    long_texts=True,
)

CHANGES = Table(
    "changes", "Changes",
    "One row per change a run of the period reported: a page that appeared (added), changed, or was removed "
    "(answered 404 or 410). Differences the archive judged noise (typography, reformatted dates, counters, "
    "template and widget churn, outages) are not changes.",
    (
        F("change_id", "integer", "The change's id in the archive."),
        F("run_id", "integer", "The run that found it (runs.run_id)."),
        F("run_date", "datetime", f"When that run started, {TIME}."),
        F("detected_at", "datetime", f"The fetch that showed the change, {TIME}."),
        F("page_id", "integer", "The page (pages.page_id)."),
        F("url", "string", "The page's URL."),
        F("kind", "string", "added, changed or removed."),
        F("title", "string", "The page's title (the new version's, else the old one's)."),
        F("summary", "string", "What changed, in words: for a text, places changed and words added and "
                               "removed; for a listing, the items that entered, left or changed; fields "
                               "(title, author, date) and links that changed."),
        F("words_added", "integer", "Words inserted (text changes only)."),
        F("words_removed", "integer", "Words deleted (text changes only)."),
        F("old_version_id", "integer", "The version before (versions.version_id; it may lie before the "
                                       "period). Empty for an added page."),
        F("new_version_id", "integer", "The version after (versions.version_id). Empty for a removed page."),
        F("diff", "string", "For a text change, a unified diff of the two texts, one paragraph a line "
                            "(lines starting - were removed, + added); for a listing, a line per item: + "
                            "entered, - left, ~ changed. Empty for added and removed pages."),
    ),
    primary_key="change_id",
    foreign_keys=(("run_id", "runs", "run_id"), ("page_id", "pages", "page_id"),
                  ("new_version_id", "versions", "version_id")),
    indexes=("page_id", "run_id"),
    long_texts=True,
)

LISTING = Table(
    "listing_changes", "Listing history",
    "One row per item (article teaser) that entered, left or changed in a program's listing, per run: "
    "the hub's listing and its \"Show more\" pages compared as one list of items, known by their URL. "
    "Where an item stands in the list is not compared.",
    (
        F("run_id", "integer", "The run that saw it (runs.run_id)."),
        F("run_date", "datetime", f"When that run started, {TIME}."),
        F("change_id", "integer", "The listing's change (changes.change_id)."),
        F("page_id", "integer", "The listing's hub page (pages.page_id)."),
        F("listing_url", "string", "The hub page's URL."),
        F("event", "string", "entered (new in the listing), left (gone from it) or changed (its teaser's "
                             "title, date, byline or summary changed)."),
        F("item_url", "string", "The URL the teaser links to."),
        F("item_title", "string", "The teaser's title (for left, as last listed)."),
        F("item_published", "string", "The teaser's date, as printed."),
        F("item_byline", "string", "The teaser's byline."),
        F("detail", "string", "For changed: each field that changed, old → new."),
    ),
    foreign_keys=(("run_id", "runs", "run_id"), ("page_id", "pages", "page_id"),
                  ("change_id", "changes", "change_id")),
    indexes=("run_id", "item_url"),
)

FETCHES = Table(
    "fetches", "Fetches",
    "One row per fetch of a page in the period: when, what the server answered, and which version it saw.",
    (
        F("run_id", "integer", "The run (runs.run_id)."),
        F("fetched_at", "datetime", f"When the page was fetched, {TIME}."),
        F("page_id", "integer", "The page (pages.page_id)."),
        F("url", "string", "The page's URL."),
        F("http_status", "integer", "The HTTP status the server answered (empty if none: a timeout, a reset)."),
        F("outcome", "string", "ok (a page), not_modified (304: unchanged since the last fetch), gone (404 or "
                               "410) or failed (5xx, timeout, reset, robots.txt, size cap)."),
        F("error", "string", "Why a failed fetch failed."),
        F("final_url", "string", "The URL it redirected to, if it did."),
        F("version_id", "integer", "The version it saw (versions.version_id); empty for gone and failed."),
        F("source", "string", "crawl (the archive's own fetch), wayback or warc (a capture read from a web "
                              "archive)."),
        F("memento_url", "string", "For a capture read from a web archive, its address there."),
    ),
    foreign_keys=(("run_id", "runs", "run_id"), ("page_id", "pages", "page_id"),
                  ("version_id", "versions", "version_id")),
    indexes=("page_id", "run_id"),
)

TABLES = (RUNS, PAGES, VERSIONS, CHANGES, LISTING, FETCHES)

#: The dataset's own metadata table in the SQLite file: every field described.
FIELDS_TABLE = "dataset_fields"


# The selection ------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    run_ids: frozenset[int]
    since: str | None
    until: str | None

    @property
    def description(self) -> str:
        if self.since and self.until:
            return f"runs started from {self.since} to {self.until}"
        if self.since:
            return f"runs started on or after {self.since}"
        if self.until:
            return f"runs started on or before {self.until}"
        return "all runs"


def parse_date(text: str | None, option: str) -> str | None:
    """``text`` as an ISO date (``2027-01-31``), or ExportError saying what is expected."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise ExportError(f"{option} expects a date like 2027-01-31, not {text!r}") from None


def select_runs(db: Database, since: str | None = None, until: str | None = None) -> Selection:
    """The runs started on or after ``since`` and on or before ``until`` (ISO dates, UTC; both optional)."""
    since, until = parse_date(since, "--since"), parse_date(until, "--until")
    if since and until and since > until:
        raise ExportError(f"--since {since} is after --until {until}")
    rows = db.execute("select id from runs where substr(started, 1, 10) between ? and ? order by id",
                      [since or "0000-00-00", until or "9999-99-99"]).fetchall()
    selection = Selection(frozenset(row[0] for row in rows), since, until)
    if not rows:
        raise ExportError(f"no {selection.description}" if since or until else "the archive has no runs yet")
    return selection


# Writing ------------------------------------------------------------------------------


@dataclass
class ExportResult:
    folder: Path
    rows: dict[str, int] = field(default_factory=dict)
    cleaned: list[Path] = field(default_factory=list)  # scratch folders of killed exports, removed


def export(db: Database, selection: Selection, output: str | os.PathLike, archive_name: str,
           force: bool = False) -> ExportResult:
    """Write the dataset of ``selection`` into the folder ``output``, atomically.

    ``output`` must not exist, or be empty, or ``force`` must be given (its
    content is then replaced).
    """
    target = Path(output)
    if target.exists() and not target.is_dir():
        raise ExportError(f"{target} exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise ExportError(f"{target} is not empty: give a new folder, or --force to replace it")
    parent = target.absolute().parent
    if not parent.is_dir():
        raise ExportError(f"no folder {parent} to write {target.name} in")
    scratch, cleaned = export_scratch(parent)
    folder = scratch / "dataset"
    folder.mkdir()
    try:
        result = ExportResult(target, cleaned=cleaned)
        db.conn.execute("begin")  # one read transaction: a crawl writing meanwhile is not half seen
        try:
            with _Outputs(folder) as out:
                _Export(db, selection, out).write()
                result.rows = dict(out.counts)
        finally:
            db.conn.rollback()
        _write_descriptions(folder, selection, archive_name, _program_urls(folder / SQLITE_NAME))
        _swap_into_place(folder, target, scratch / "previous")
        return result
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _swap_into_place(folder: Path, target: Path, aside: Path) -> None:
    """Rename ``folder`` to ``target``; a ``target`` already there is moved ``aside`` first, and back on failure."""
    if not target.exists():
        os.replace(folder, target)
        return
    os.replace(target, aside)
    try:
        os.replace(folder, target)
    except OSError:
        os.replace(aside, target)
        raise


class _Outputs:
    """The CSV files and the SQLite file, written row by row, the SQLite inserts in batches."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.counts: dict[str, int] = {table.name: 0 for table in TABLES}
        self._files, self._writers, self._pending, self._characters = {}, {}, {}, {}

    def __enter__(self):
        self.conn = sqlite3.connect(self.folder / SQLITE_NAME)
        self.conn.execute("pragma journal_mode = off")  # a scratch file: the folder's rename is the commit
        self.conn.execute("pragma synchronous = off")
        for table in TABLES:
            self.conn.execute(_create_sql(table))
            out = open(self.folder / f"{table.name}.csv", "w", encoding="utf-8", newline="")
            self._files[table.name] = out
            self._writers[table.name] = csv.writer(out)
            self._writers[table.name].writerow(table.names)
            self._pending[table.name] = []
            self._characters[table.name] = 0
        return self

    def add(self, table: Table, row: tuple) -> None:
        self._writers[table.name].writerow(row)
        pending = self._pending[table.name]
        pending.append(row)
        self.counts[table.name] += 1
        if table.long_texts:
            self._characters[table.name] += sum(len(value) for value in row if isinstance(value, str))
        if len(pending) >= BATCH or self._characters[table.name] >= BATCH_CHARACTERS:
            self._flush(table)

    def _flush(self, table: Table) -> None:
        marks = ", ".join("?" for _ in table.fields)
        self.conn.executemany(f"insert into {table.name} values ({marks})", self._pending[table.name])
        self._pending[table.name].clear()
        self._characters[table.name] = 0

    def __exit__(self, kind, error, trace):
        for out in self._files.values():
            out.close()
        try:
            if kind is None:
                for table in TABLES:
                    self._flush(table)
                self._finish()
                self.conn.commit()
        finally:
            self.conn.close()

    def _finish(self) -> None:
        for table in TABLES:
            for column in table.indexes:
                self.conn.execute(f"create index idx_{table.name}_{column} on {table.name} ({column})")
        self.conn.execute(f"create table {FIELDS_TABLE} (table_name text, field text, type text, description text)")
        self.conn.executemany(f"insert into {FIELDS_TABLE} values (?, ?, ?, ?)",
                              [(t.name, f.name, f.type, f.description) for t in TABLES for f in t.fields])
        self.conn.commit()
        # Full-text search on the versions, in the form sqlite-utils and Datasette use (FTS5, porter).
        Database(self.conn)["versions"].enable_fts(["title", "text"], tokenize="porter")


SQL_TYPES = {"integer": "integer", "number": "real"}


def _create_sql(table: Table) -> str:
    columns = []
    for f in table.fields:
        column = f"{f.name} {SQL_TYPES.get(f.type, 'text')}"
        if f.name == table.primary_key:
            column += " primary key"
        for name, other, other_field in table.foreign_keys:
            if name == f.name:
                column += f" references {other}({other_field})"
        columns.append(column)
    return f"create table {table.name} ({', '.join(columns)})"


class _Export:
    """One pass over the archive's pages, writing each page's fetches, versions, changes and row."""

    FETCH_SELECT = ("s.id, s.run_id, s.page_id, s.fetched_at, s.http_status, s.outcome, s.error, s.final_url, "
                    "s.body_id, s.content_id, s.body_exact, s.request_head_id, s.source, s.memento_url, "
                    "s.last_run, s.repeats, b.sha256 as body_sha256, b.size as body_size, b.content_type")
    FETCH_JOINS = "left join bodies b on b.id = s.body_id"

    def __init__(self, db: Database, selection: Selection, out: _Outputs):
        self.db = db
        self.selection = selection
        self.out = out
        self.run_dates: dict[int, str] = {}

    def write(self) -> None:
        for row in self.db.execute(
                "select id, started, finished, status, trigger, pages_checked, pages_fetched, pages_failed, "
                "added, changed, removed from runs order by id"):
            if row[0] in self.selection.run_ids:
                self.run_dates[row[0]] = row[1]
                self.out.add(RUNS, row)
        pages = self.db.execute("select id, url, program, role, state, title from pages order by id")
        for page in pages.fetchall():  # a few thousand short rows; each page's reads follow
            self._page(*page)

    def _page(self, page_id: int, url: str, program, role, state, title) -> None:
        history = queries.fetches(self.db, page_id=page_id, select=self.FETCH_SELECT, joins=self.FETCH_JOINS)
        # A version is known by the first span that saw it, over the page's whole history (a stable id).
        version_ids: dict[int, int] = {}
        for fetch in history:
            if fetch["content_id"] is not None:
                version_ids[fetch["content_id"]] = min(version_ids.get(fetch["content_id"], fetch["id"]), fetch["id"])
        chosen = [fetch for fetch in history if fetch["run_id"] in self.selection.run_ids]
        if not chosen:
            return
        versions: dict[int, dict] = {}  # content id -> the version's first fetch and counts, in order seen
        for fetch in chosen:
            content_id = fetch["content_id"]
            self.out.add(FETCHES, (
                fetch["run_id"], fetch["fetched_at"], page_id, url, fetch["http_status"], fetch["outcome"],
                fetch["error"], fetch["final_url"] if fetch["final_url"] != url else None,
                version_ids.get(content_id), fetch["source"] or "crawl", fetch["memento_url"]))
            if content_id is None:
                continue
            seen = versions.setdefault(content_id, {"first": fetch, "last": fetch, "fetches": 0, "body": None})
            seen["last"] = fetch
            seen["fetches"] += 1
            if seen["body"] is None and fetch["body_sha256"] is not None:
                seen["body"] = fetch
        changes = self._changes(page_id)
        by_new: dict[int | None, list] = {}
        for change in changes:
            by_new.setdefault(change["new_content"] if change["new_content"] in versions else None, []).append(change)
        page_texts = _RecentTexts(self.db)
        for content_id, seen in versions.items():
            self._version(page_id, url, version_ids[content_id], content_id, seen, page_texts)
            for change in by_new.pop(content_id, ()):
                self._change(change, page_id, url, role, version_ids, page_texts)
        for change in by_new.pop(None, ()):
            self._change(change, page_id, url, role, version_ids, page_texts)
        self.out.add(PAGES, (page_id, url, program, role, state, title, chosen[0]["fetched_at"],
                             chosen[-1]["fetched_at"], len(chosen), len(versions), len(changes)))

    def _version(self, page_id: int, url: str, version_id: int, content_id: int, seen: dict,
                 page_texts: "_RecentTexts") -> None:
        title, author, published = self.db.execute(
            "select title, author, published from contents where id = ?", [content_id]).fetchone()
        links = read.links(self.db.conn, content_id)
        body = seen["body"] or {}
        self.out.add(VERSIONS, (
            version_id, page_id, url, seen["first"]["fetched_at"], seen["last"]["fetched_at"], seen["fetches"],
            title or None, author or None, published or None, page_texts.text(content_id),
            json.dumps(links), queries.body_address(body.get("body_sha256")) or None, body.get("body_size"),
            body.get("content_type")))

    def _changes(self, page_id: int) -> list[dict]:
        """The page's changes found by the selected runs (summaries decoded; a page has few)."""
        rows = self.db.query(
            """
            select c.id, c.run_id, c.change, c.summary, c.diff, c.edits,
                   old_s.content_id as old_content, new_s.content_id as new_content,
                   new_s.fetched_at as detected_at,
                   coalesce(new_c.title, old_c.title) as title
            from changes c
            join snapshots new_s on new_s.id = c.new_snapshot
            left join snapshots old_s on old_s.id = c.old_snapshot
            left join contents new_c on new_c.id = new_s.content_id
            left join contents old_c on old_c.id = old_s.content_id
            where c.page_id = ? order by c.id
            """, [page_id])
        return [{**row, "summary": json.loads(row["summary"]) if row["summary"] else None}
                for row in rows if row["run_id"] in self.selection.run_ids]

    def _change(self, change: dict, page_id: int, url: str, role, version_ids: dict,
                page_texts: "_RecentTexts") -> None:
        summary = change["summary"] or {}
        diff = change["diff"]
        if diff is None and change["change"] == "changed" and change["edits"] is not None \
                and change["old_content"] is not None and change["new_content"] is not None:
            # As queries.run_changes makes it: a text change's diff from its two versions.
            diff = unified_diff(page_texts.text(change["old_content"]) or "",
                                page_texts.text(change["new_content"]) or "")
        items = summary.get("items")
        if items is not None and diff is None:
            diff = listing_diff(items)
        run_date = self.run_dates[change["run_id"]]
        self.out.add(CHANGES, (
            change["id"], change["run_id"], run_date, change["detected_at"], page_id, url, change["change"],
            change["title"] or None, summary_words(summary, change["change"]),  # as serve's cells say it
            summary.get("words_added"), summary.get("words_removed"),
            version_ids.get(change["old_content"]), version_ids.get(change["new_content"]), diff or None))
        for event in ("entered", "left", "changed"):
            for item in (items or {}).get(event) or ():
                detail = None
                if event == "changed":
                    detail = "; ".join(f"{FIELD_NAMES.get(name, name)}: {old!r} → {new!r}"
                                       for name, (old, new) in item["fields"].items())
                self.out.add(LISTING, (
                    change["run_id"], run_date, change["id"], page_id, url, event, item["url"],
                    item.get("title") or None, item.get("published") or None, item.get("byline") or None,
                    detail))


class _RecentTexts:
    """A page's version texts as ``serve`` reads them (:func:`~wwc_archive.archive.read.text`), the last few kept."""

    def __init__(self, db: Database):
        self.db = db
        self._kept: OrderedDict[int, str | None] = OrderedDict()

    def text(self, content_id: int) -> str | None:
        if content_id in self._kept:
            self._kept.move_to_end(content_id)
            return self._kept[content_id]
        text = read.text(self.db.conn, content_id)
        self._kept[content_id] = text
        while len(self._kept) > KEEP_TEXTS:
            self._kept.popitem(last=False)
        return text


def listing_diff(items: dict) -> str:
    """A listing change as lines: ``+ title <url>`` entered, ``- title <url>`` left, ``~ title: …`` changed."""
    lines = [f"+ {item.get('title') or item['url']} <{item['url']}>" for item in items.get("entered") or ()]
    lines += [f"- {item.get('title') or item['url']} <{item['url']}>" for item in items.get("left") or ()]
    lines += [f"~ {item.get('title') or item['url']} <{item['url']}>: " + "; ".join(
        f"{FIELD_NAMES.get(name, name)} {old!r} → {new!r}" for name, (old, new) in item["fields"].items())
        for item in items.get("changed") or ()]
    return "\n".join(lines)


# Describing it ------------------------------------------------------------------------

TITLE = "What Works Cities pages: nightly archive"
DESCRIPTION = (
    "The pages of the programs a wwc-archive archive follows (by default Bloomberg Philanthropies' What Works "
    "Cities pages on Harvard's Data-Smart City Solutions: each program's hub, the articles and people it "
    "lists, and the documents they link to), archived night after night: every distinct version of every page with "
    "its full text, every change between versions in words and as a diff, the items that entered and left "
    "the program's listing, and every fetch with its HTTP status. Times are UTC."
)
LICENSES = [{
    "name": "other-at",
    "title": "The pages' texts remain their publishers' and are quoted here for research; the archive's own "
             "records (times, statuses, hashes, change summaries) and these descriptions may be reused with "
             "attribution.",
}]


def _program_urls(sqlite_path: Path) -> list[str]:
    with closing(sqlite3.connect(sqlite_path)) as conn:
        return [row[0] for row in conn.execute("select url from pages where kind = 'program' order by url")]


def _write_descriptions(folder: Path, selection: Selection, archive_name: str, program_urls: list[str]) -> None:
    package = datapackage(folder, selection, archive_name, program_urls)
    (folder / "datapackage.json").write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n",
                                             encoding="utf-8")
    (folder / "README.md").write_text(readme(package), encoding="utf-8")


def datapackage(folder: Path, selection: Selection, archive_name: str, program_urls: list[str]) -> dict:
    """The Frictionless Data Package descriptor of the CSV files in ``folder``."""
    created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "profile": "tabular-data-package",
        "name": "wwc-archive",
        "title": TITLE,
        "description": DESCRIPTION + f" This export holds {selection.description}.",
        "created": created,
        "keywords": ["web archive", "What Works Cities", "government", "change detection"],
        "licenses": LICENSES,
        "sources": [{"title": f"The program page {url}", "path": url} for url in program_urls]
                   + [{"title": f"The wwc-archive archive {archive_name}, exported by wwc-archive "
                                f"{version('wwc-archive')}"}],
        "wwc-archive": {"archive": archive_name, "since": selection.since, "until": selection.until,
                        "runs": len(selection.run_ids), "sqlite": SQLITE_NAME},
        "resources": [_resource(folder, table) for table in TABLES],
    }


def _resource(folder: Path, table: Table) -> dict:
    path = folder / f"{table.name}.csv"
    digest = hashlib.sha256()
    with open(path, "rb") as data:
        for chunk in iter(lambda: data.read(1 << 20), b""):
            digest.update(chunk)
    schema = {"fields": [{"name": f.name, "type": f.type, "description": f.description} for f in table.fields],
              "missingValues": [""]}
    if table.primary_key:
        schema["primaryKey"] = [table.primary_key]
    if table.foreign_keys:
        schema["foreignKeys"] = [{"fields": [name], "reference": {"resource": other, "fields": [other_field]}}
                                 for name, other, other_field in table.foreign_keys]
    return {
        "name": table.name, "title": table.title, "description": table.description,
        "path": path.name, "profile": "tabular-data-resource", "format": "csv", "mediatype": "text/csv",
        "encoding": "utf-8", "bytes": path.stat().st_size, "hash": f"sha256:{digest.hexdigest()}",
        "schema": schema,
    }


def readme(package: dict) -> str:
    """The folder's README: what it is, its files, every table's fields (from the descriptor)."""
    lines = [f"# {package['title']}", "", package["description"], "",
             f"Created {package['created']} by wwc-archive. Licence: {package['licenses'][0]['title']}", "",
             "## Files", "",
             "- `datapackage.json`: the Frictionless Data Package descriptor (validate it with "
             "`frictionless validate datapackage.json`).",
             f"- `{SQLITE_NAME}`: the same tables in one SQLite file (open it with `sqlite3`, `datasette` or any "
             f"SQLite client; `versions_fts` searches titles and texts; `{FIELDS_TABLE}` describes every field).",
             *(f"- `{r['path']}`: {r['title'].lower()}, UTF-8 CSV with a header row." for r in package["resources"]),
             "", "## Loading", "", "```python", "import pandas as pd", "",
             'versions = pd.read_csv("versions.csv", parse_dates=["first_seen", "last_seen"])', "```", "",
             "```r", 'versions <- read.csv("versions.csv", encoding = "UTF-8")', "```", ""]
    for resource in package["resources"]:
        lines += [f"## {resource['title']} (`{resource['path']}`)", "", resource["description"], "",
                  "| Field | Type | Description |", "|---|---|---|"]
        lines += [f"| `{f['name']}` | {f['type']} | {f['description'].replace('|', '/')} |"
                  for f in resource["schema"]["fields"]]
        lines.append("")
    return "\n".join(lines)
