"""Datasette plugin for wwc-archive: read-only archives, the ``/-/wwc/`` pages, readable cells.

Registered through the ``datasette`` entry point. Hooks only; the pages live in
:mod:`wwc_archive.reports.datasette.views`.
"""

import zlib
from urllib.parse import quote

from datasette import hookimpl
from markupsafe import Markup, escape

from wwc_archive.archive import queries
from wwc_archive.reports.datasette import ARCHIVE_TABLES, TEMPLATES_DIR

#: Characters of a decoded body shown in a table cell.
BODY_PREVIEW = 1000


@hookimpl
def prepare_connection(conn, database, datasette):
    """Every connection to an archive is read-only, even one Datasette opened for writing."""
    names = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
    if ARCHIVE_TABLES <= names:
        conn.execute("PRAGMA query_only = 1")


@hookimpl
def prepare_jinja2_environment(env, datasette):
    """Add the plugin's templates after the user's and Datasette's own."""
    from jinja2 import ChoiceLoader, FileSystemLoader

    env.loader = ChoiceLoader([env.loader, FileSystemLoader(str(TEMPLATES_DIR))])


@hookimpl
def register_routes(datasette):
    from wwc_archive.reports.datasette.views import routes

    return routes()


@hookimpl
def register_facet_classes():
    from wwc_archive.reports.datasette.facets import MonthFacet

    return [MonthFacet]


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    """Decoded bodies, and links from archive rows to the ``/-/wwc/`` pages."""
    if table == "bodies" and column == "data" and isinstance(value, bytes):
        return body_preview(value, _get(row, "compression"), _get(row, "content_type"))
    if isinstance(value, str) and column.endswith("_page") and value.startswith("/-/wwc/"):
        return Markup(f'<a href="{escape(datasette.urls.path(value))}">{escape(value)}</a>')
    if column == "snapshot" and table is None and isinstance(value, int):
        return _in_archive(datasette, database, lambda: Markup(
            f'<a href="{escape(datasette.urls.path(f"/-/wwc/snapshot/{value}"))}">#{value}</a>'))
    if column == "url" and table in (None, "pages") and isinstance(value, str) \
            and value.startswith(("http://", "https://")):
        history = datasette.urls.path("/-/wwc/page?url=" + quote(value, safe=""))
        return _in_archive(datasette, database, lambda: Markup(
            f'<a href="{escape(value)}" rel="noreferrer">{escape(value)}</a> '
            f'<a href="{escape(history)}" class="wwc-history">[history]</a>'))
    return None


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


def body_preview(data: bytes, compression: str | None, content_type: str | None) -> Markup:
    """The start of a stored body as text (bodies are zlib-compressed), or a note for binary files."""
    try:
        raw = queries.decompress(data, compression)
    except zlib.error:
        return Markup(f"&lt;{len(data):,} bytes that do not decompress&gt;")
    kind = (content_type or "").split(";")[0].strip().lower()
    if not (kind.startswith("text/") or kind.endswith(("+xml", "/xml", "/json")) or not kind):
        return Markup(f"&lt;{escape(kind)}: {len(raw):,} bytes&gt;")
    text = raw.decode(_charset(content_type), errors="replace")
    more = len(text) - BODY_PREVIEW
    tail = f"\n… {more:,} more characters" if more > 0 else ""
    return Markup(f'<pre style="white-space: pre-wrap; max-height: 20em; overflow: auto">'
                  f"{escape(text[:BODY_PREVIEW])}{escape(tail)}</pre>")


def _charset(content_type: str | None) -> str:
    for part in (content_type or "").split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            try:
                "".encode(value.strip('"'))
                return value.strip('"')
            except LookupError:
                break
    return "utf-8"
