"""Datasette plugin for wwc-archive: read-only, bounded connections, the ``/-/wwc/`` pages, readable cells.

Registered through the ``datasette`` entry point. Hooks only; the pages live in
:mod:`wwc_archive.reports.datasette.views`, the error pages in :mod:`wwc_archive.reports.datasette.errors`.
"""

import json
import sqlite3

from datasette import hookimpl
from markupsafe import Markup, escape
from sqlite_utils import Database

from wwc_archive.archive import queries, read
from wwc_archive.archive.canned import DATE_FUNCTION, FTS_FUNCTION, URL_FUNCTION, fts_query
from wwc_archive.reports import links
from wwc_archive.reports.datasette import ARCHIVE_TABLES, TEMPLATES_DIR
from wwc_archive.reports.datasette import inputs, words
from wwc_archive.reports.datasette.bodies import body_preview

#: The longest string or blob a query may make: above the largest stored body
#: (the crawl caps downloads at 10 MB), far below what would exhaust memory.
MAX_VALUE_BYTES = 16 * 1024 * 1024
#: The SQL function that reads a version's whole text: ``select wwc_content_text(id) from contents``.
TEXT_FUNCTION = "wwc_content_text"
#: And its outgoing links, as a JSON list: ``select wwc_content_links(id) from contents``.
LINKS_FUNCTION = "wwc_content_links"
#: And a stored fingerprint as text: ``select wwc_fingerprint(fingerprint) from contents``.
FINGERPRINT_FUNCTION = "wwc_fingerprint"
#: SQLite's own memory, across every connection of the process.
HEAP_LIMIT_BYTES = 512 * 1024 * 1024


@hookimpl
def prepare_connection(conn, database, datasette):
    """Every connection: bounded strings and heap, the search and span functions; an archive's: read-only."""
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    conn.execute(f"PRAGMA hard_heap_limit = {HEAP_LIMIT_BYTES}")
    conn.create_function(FTS_FUNCTION, 1, fts_query, deterministic=True)
    conn.create_function(DATE_FUNCTION, 1, inputs.sql_date, deterministic=True)  # what people type in forms
    conn.create_function(URL_FUNCTION, 1, inputs.sql_url, deterministic=True)
    conn.create_function(URL_FUNCTION, 2, inputs.sql_url, deterministic=True)
    read.register_functions(conn)  # wwc_fetches(run_id, fetched_at, repeats): a span's fetches as JSON
    conn.create_function(TEXT_FUNCTION, 1, lambda content_id: read.text(conn, content_id))
    conn.create_function(LINKS_FUNCTION, 1,
                         lambda content_id: json.dumps(read.links(conn, content_id)))
    conn.create_function(FINGERPRINT_FUNCTION, 1, read.fingerprint, deterministic=True)
    if ARCHIVE_TABLES <= set(Database(conn, recursive_triggers=False, execute_plugins=False).table_names()):
        conn.execute("PRAGMA query_only = 1")


@hookimpl
def prepare_jinja2_environment(env, datasette):
    """Add the plugin's templates after the user's and Datasette's own."""
    from jinja2 import ChoiceLoader, FileSystemLoader

    env.loader = ChoiceLoader([env.loader, FileSystemLoader(str(TEMPLATES_DIR))])
    env.filters["wwc_time"] = lambda value: words.readable_time(value) or value  # 5 Dec 2026, 00:06 UTC


@hookimpl
def register_routes(datasette):
    from wwc_archive.reports.datasette.start import routes as front_door
    from wwc_archive.reports.datasette.views import routes

    return [*front_door(), *routes()]  # the start page and compare form first: routes() ends with a catch-all


@hookimpl
def asgi_wrapper(datasette):
    """A client may have only a few queries and pages open at once (:mod:`~wwc_archive.reports.datasette.fairness`)."""
    from wwc_archive.reports.datasette.fairness import wrap

    return wrap(datasette)


@hookimpl(wrapper=True)
def handle_exception(datasette, request, exception):
    """Every error page is the project's (:mod:`~wwc_archive.reports.datasette.errors`), and only it.

    A wrapper, not a plain hook: Datasette 0.65 awaits every ``handle_exception``
    result, its own default included, which prints a rich traceback with local
    variables for each 404 and 400 (seconds of work on the event loop) and,
    for a URL no route matches, raises (rich needs an exception being handled),
    making the 404 a 500. Other plugins' hooks still run; what they return is
    dropped unawaited, Datasette's default with it.
    """
    from wwc_archive.reports.datasette.errors import error_response

    yield
    return [error_response(datasette, request, exception)]


@hookimpl
def register_facet_classes():
    from wwc_archive.reports.datasette.facets import MonthFacet

    return [MonthFacet]


@hookimpl
def extra_template_vars():
    """The canned queries' form (``query-wwc-archive.html``) says how it read a typed date or URL."""
    return {"wwc_input_note": inputs.note}


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    """Decoded bodies, changes and times in words, and links from archive rows to the ``/-/wwc/`` pages."""
    if table == "bodies" and column == "data" and isinstance(value, bytes):
        return _body_cell(datasette, database, row, value)
    if column == "sha256" and isinstance(value, bytes) and len(value) == 32:
        return queries.body_address(value)  # a body's address, stored as its 32 bytes, shown as hex
    if column == "fingerprint" and isinstance(value, bytes):
        return read.fingerprint(value)  # a version's fingerprint, stored packed, shown as html:/bytes: hex
    if isinstance(value, str) and column.endswith("_page") and value.startswith(links.PREFIX):
        return Markup(f'<a href="{escape(datasette.urls.path(value))}">{escape(value)}</a>')
    if (column, table) in SNAPSHOT_CELLS:
        snapshot_id = value.get("value") if isinstance(value, dict) else value  # a foreign key comes expanded
        if isinstance(snapshot_id, int):
            return _in_archive(datasette, database, lambda: Markup(
                f'<a href="{escape(datasette.urls.path(links.snapshot(snapshot_id)))}">#{snapshot_id}</a>'))
    if column == "url" and table in (None, "pages") and isinstance(value, str) \
            and value.startswith(("http://", "https://")):
        history = datasette.urls.path(links.history(value))
        return _in_archive(datasette, database, lambda: Markup(
            f'<a href="{escape(history)}" class="wwc-history-link">{escape(value)}</a> '
            f'<a href="{escape(value)}" rel="noreferrer" class="wwc-live">[live]</a>'))
    if table == "changes" and column == "summary" and isinstance(value, str):
        return _in_archive(datasette, database, lambda: words.summary_words(value, _get(row, "change")))
    if table == "changes" and column == "reasons" and isinstance(value, str) and value.startswith("["):
        return "; ".join(json.loads(value))  # a change's significance in words (archive/changes/significance.py)
    if column in words.TIME_COLUMNS and isinstance(value, str):
        return words.time_cell(value)
    return None


#: Cells holding a snapshot id, linked to its page: ``(column, table)``, table None for a query's column.
SNAPSHOT_CELLS = frozenset({("snapshot", None), ("id", "snapshots"), ("old_snapshot", "changes"),
                            ("new_snapshot", "changes"), ("last_snapshot", "pages"),
                            ("last_good_snapshot", "pages"), ("snapshot_id", "dismissals")})


def _body_cell(datasette, database, row, value: bytes):
    """A body's start as text: whole bodies decoded from the cell, deltas read through their chain."""
    compression, content_type = _get(row, "compression"), _get(row, "content_type")
    if compression not in queries.DELTAS:
        return body_preview(lambda: queries.decompress(value, compression), len(value), content_type)
    body_id = _get(row, "id")

    def read_body(conn) -> bytes:
        if body_id is None:
            raise LookupError("the row has no body id")
        return queries.body_bytes(Database(conn, recursive_triggers=False, execute_plugins=False), body_id)

    async def inner():
        try:
            raw = await datasette.get_database(database).execute_fn(read_body)
        except Exception:  # shown as the note body_preview gives undecodable bodies
            return body_preview(_raise, len(value), content_type)
        return body_preview(lambda: raw, len(value), content_type)

    return inner


def _raise() -> bytes:
    raise LookupError("unreadable")


def _in_archive(datasette, database, render):
    """Render only for the archive's database: other databases keep Datasette's rendering."""
    from wwc_archive.reports.datasette.views import archive_name

    async def inner():
        return render() if database == await archive_name(datasette) else None

    return inner


def _get(row, key):
    try:
        return row[key]
    except (KeyError, IndexError):
        return None
