"""Every error page the app answers: the status, what was wrong, and a link to the nearest real page.

A visitor's mistake (an unknown URL, a malformed or missing id) is a 404 or
400 page in the site's own frame, with one line pointing where to go instead,
and leaves nothing in the log but its access line. Only a real server error
(a 500: a bug) logs its traceback, once, through :mod:`logging`.
"""

import logging
import re

from datasette.utils import add_cors_headers, tilde_encode
from datasette.utils.asgi import Base400, Response
from datasette.views.base import DatasetteError
from markupsafe import Markup, escape

from wwc_archive.reports import links
from wwc_archive.reports.datasette.views import MAX_ID, NO_SUCH_PAGE, PAGE_CSP, archive_name, parse_id

logger = logging.getLogger(__name__)

#: The message of the NotFound Datasette raises for a URL no route matches.
UNMATCHED = "404"
#: What sqlite3 says of a Python int it cannot bind.
SQLITE_OVERFLOW = "too large to convert to SQLite INTEGER"
TITLES = {400: "Bad request", 404: "Not found", 500: "Server error"}


async def error_response(datasette, request, exception: Exception) -> Response:
    """The page (or JSON, for a ``.json`` URL) for ``exception``, raised while answering ``request``.

    Should the page itself fail (the archive unreadable, a broken template),
    the answer is a plain-text 500 and the log has both tracebacks.
    """
    status, message, title, info = describe(exception, request.path)
    if status >= 500:
        logger.error("%s %s: %s", request.method, request.path, status, exc_info=exception)
    try:
        return await _render(datasette, request, status, message, title, info)
    except Exception as error:
        logger.error("%s %s: the error page failed", request.method, request.path, exc_info=error)
        return Response.text(f"Error {status}: {TITLES.get(status, '')}\n", status=status)


async def _render(datasette, request, status: int, message: str, title: str | None, info: dict) -> Response:
    database = await archive_name(datasette)
    route_path = request.scope.get("route_path", request.path)  # without the base_url
    sentence, paths = hint(route_path, database) if status < 500 else ("", [])
    paths = [datasette.urls.path(path) for path in paths]
    info = {**info, "ok": False, "error": message, "status": status, "title": title,
            "hint": sentence.format(*paths) if sentence else None}
    headers = {"content-security-policy": PAGE_CSP}
    if datasette.cors:
        add_cors_headers(headers)
    if request.path.endswith(".json"):
        return Response.json(info, status=status, headers=headers)
    anchors = [Markup('<a href="{0}">{0}</a>').format(path) for path in paths]
    context = {**info, "title": title or TITLES.get(status, f"Error {status}"), "database": database,
               "hint": escape(sentence).format(*anchors) if sentence else None}
    html = await datasette.render_template([f"{status}.html", "wwc_error.html"], context, request=request)
    return Response.html(html, status=status, headers=headers)


def describe(exception: Exception, path: str) -> tuple[int, str, str | None, dict]:
    """``(status, message, title, extra JSON)``, as Datasette's own handler reads an exception.

    Datasette's 400s (NotFound, BadRequest, ...) keep their status and message
    (a URL no route matches says so, with ``path``); so do its DatasetteErrors,
    each a message about what the visitor asked. A number past SQLite's
    integers, from a query string, is a 400 too. Anything else is a 500 (a bug)
    whose message names only the exception's type: the details go to the log.
    """
    if isinstance(exception, Base400):
        message = str(exception.args[0]) if exception.args else ""
        return exception.status, NO_SUCH_PAGE.format(path) if message == UNMATCHED else message, None, {}
    if isinstance(exception, DatasetteError):
        message = Markup(exception.message) if exception.message_is_html else exception.message
        # Datasette explains what the visitor asked wrong ("Cannot sort table by x") with its default 500.
        status = 400 if exception.status == 500 else exception.status
        return status, message, exception.title, dict(exception.error_dict)
    if isinstance(exception, OverflowError) and SQLITE_OVERFLOW in str(exception):
        # A number from the URL that Datasette passed on as a parameter (?id__gt=99999999999999999999).
        return 400, f"A number in the URL is past SQLite's integers (the largest is {MAX_ID}).", None, {}
    return 500, f"The server failed ({type(exception).__name__}): its log says why.", None, {}


# Hints --------------------------------------------------------------------------


def hint(path: str, database: str | None) -> tuple[str, list[str]]:
    """Where to go instead of ``path``: a sentence with a ``{}`` for each link, and the links' paths.

    The paths are from the server's root (callers add a base URL); ``database``
    is the archive's name in the URL, or None when no archive is served.
    """
    if database is None:
        return "The databases served are listed at {}.", ["/"]
    home = "/" + tilde_encode(database)
    parts = path.strip("/").split("/")
    if parts[:2] != ["-", "wwc"]:
        return "The archive starts at {}: search every version, the latest changes, every table.", [home]
    section = re.sub(r"\..*", "", parts[2]) if len(parts) > 2 else ""
    if section in ("run", "runs", "report"):
        return "A run's report is at {}; every run is listed in {}.", [links.report(_run(parts)), f"{home}/runs"]
    if section in ("snapshot", "snapshots"):
        return ("A snapshot is /-/wwc/snapshot/ID, with an ID from a page's history ({}) or the snapshots "
                "table ({}).", [links.history(), f"{home}/snapshots"])
    if section == "diff":
        return ("A diff is /-/wwc/diff/OLD/NEW, two snapshot ids of one page; the latest changes link to "
                "theirs: {}.", [f"{home}/latest_changes"])
    if section in ("page", "history"):
        return "A page's history is at {}, from its URL.", [links.history()]
    if section in ("changes", "feed"):
        return "The Atom feed of changes is {}.", [links.feed()]
    return "The archive starts at {}; a page's history is at {}.", [home, links.history()]


def _run(parts: list[str]):
    """The run a ``/-/wwc/run/ID...`` path names, else ``latest``."""
    try:
        return parse_id(parts[3], "run")
    except (IndexError, Base400):
        return "latest"
