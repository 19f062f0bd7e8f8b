"""The ``/-/wwc/`` pages: a page's history, one snapshot, a word diff, raw bodies, report, feed.

Every page reads through :mod:`wwc_archive.archive.queries` on Datasette's read-only
connections. Archived HTML is never rendered live: pages show extracted text
(autoescaped), and raw bodies are served as plain text or as a download.
Pages that diff run under Datasette's ``sql_time_limit_ms`` and stop diffing
when the client goes away: the diffs past that point are coarse, not missing.
"""

import asyncio
import csv
import io
import mimetypes
import re
import threading
from urllib.parse import urlsplit

from datasette.utils.asgi import BadRequest, NotFound, Response
from sqlite_utils import Database

from wwc_archive.archive import queries
from wwc_archive.reports import links
from wwc_archive.reports.compare import compare
from wwc_archive.reports.datasette import ARCHIVE_TABLES, DATABASE_NAME
from wwc_archive.reports.datasette.bodies import decode, is_text

#: Raw bodies may be looked at, never run: no scripts, no forms, no requests out.
RAW_CSP = "sandbox; default-src 'none'"
#: The project's own pages (report, diff) need no scripts either.
PAGE_CSP = "script-src 'none'; object-src 'none'"


#: SQLite's largest integer: no row has a larger id (and SQLite cannot take one as a parameter).
MAX_ID = 2**63 - 1


def routes() -> list[tuple[str, object]]:
    """The pages, each id part matching any text: :func:`url_id` answers 400 or 404 for a bad one."""
    from wwc_archive.reports.datasette import archived_view, memento

    return [
        *memento.routes(),  # the Memento TimeGate and TimeMaps
        *archived_view.routes(),  # a version rendered from the archive alone
        (r"^/-/wwc/page(?P<format>\.json|\.csv)?$", page_history),
        (r"^/-/wwc/snapshot/(?P<id>[^/]+?)(?P<format>\.json)?$", snapshot),
        (r"^/-/wwc/snapshot/(?P<id>[^/]+)/raw$", raw_body),
        (r"^/-/wwc/diff/(?P<old>[^/]+)/(?P<new>[^/]+?)(?P<format>\.json)?$", diff),
        (r"^/-/wwc/run/(?P<run>[^/]+)/report$", run_report),
        (r"^/-/wwc/changes\.atom$", changes_feed),
        (r"^/-/wwc(/.*)?$", no_such_page),  # not Datasette's "Database not found"
    ]


#: What a 404 for a URL no page answers says.
NO_SUCH_PAGE = "No such page: {}."


async def no_such_page(request):
    raise NotFound(NO_SUCH_PAGE.format(request.path))


def url_id(request, part: str, what: str) -> int:
    """The id in the URL's ``part`` (see :func:`parse_id`): every route reads its ids through it."""
    return parse_id(request.url_vars[part], what)


def parse_id(text: str, what: str) -> int:
    """``text`` as an id: BadRequest unless it is digits, NotFound when no row can have it.

    ``what`` names the thing in the message ("snapshot", "run"). Ids start at 1
    and end at SQLite's largest integer: 0 and larger numbers are well-formed
    ids of nothing.
    """
    if not (text.isascii() and text.isdigit()):
        raise BadRequest(f"{text!r} is not a {what} id: ids are whole numbers from 1")
    number = int(text)
    if not 1 <= number <= MAX_ID:
        raise NotFound(f"no {what} with id {text}")
    return number


# Finding the archive ----------------------------------------------------------


async def archive_name(datasette) -> str | None:
    """The served archive: the plugin's ``database`` setting, else the first archive-shaped database."""
    config = datasette.plugin_config("wwc-archive") or {}
    names = [config["database"]] if config.get("database") in datasette.databases else []
    names += [DATABASE_NAME] if DATABASE_NAME in datasette.databases else []
    names += [name for name in datasette.databases if name != "_internal"]
    for name in dict.fromkeys(names):
        if ARCHIVE_TABLES <= set(await datasette.get_database(name).table_names()):
            return name
    return None


async def _archive(datasette, request):
    name = await archive_name(datasette)
    if name is None:
        raise NotFound("no wwc-archive database is being served")
    await datasette.ensure_permissions(request.actor, [("view-database", name), "view-instance"])
    return datasette.get_database(name)


async def _read(db, fn, *args):
    """Run ``fn(sqlite_utils.Database, *args)`` on one of Datasette's read connections (a thread)."""
    def run(conn):
        return fn(Database(conn, recursive_triggers=False, execute_plugins=False), *args)
    return await db.execute_fn(run)


async def _diffing(datasette, receive, db, fn, *args):
    """:func:`_read` for work that diffs: ``fn(db, *args, cancel)``.

    ``cancel`` is set when ``sql_time_limit_ms`` has passed or the client has
    gone; the differ then makes the rest of its diffs coarse and returns.
    """
    cancel = threading.Event()
    timer = asyncio.get_running_loop().call_later(datasette.setting("sql_time_limit_ms") / 1000, cancel.set)
    watcher = asyncio.ensure_future(_until_disconnect(receive, cancel))
    try:
        return await _read(db, fn, *args, cancel)
    finally:
        timer.cancel()
        watcher.cancel()


async def _until_disconnect(receive, cancel: threading.Event) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    cancel.set()


async def _render(datasette, request, db, template: str, context: dict, status: int = 200) -> Response:
    context = {"wwc": WwcLinks(datasette), "database": db.name, **context}
    html = await datasette.render_template(template, context, request=request)
    return Response.html(html, status=status, headers={"content-security-policy": PAGE_CSP})


class WwcLinks:
    """:mod:`wwc_archive.reports.links` for the templates, under Datasette's base URL."""

    def __init__(self, datasette):
        self.ds = datasette

    def __getattr__(self, name):
        build = getattr(links, name)
        return lambda *args, **kwargs: self.ds.urls.path(build(*args, **kwargs))


def is_web_url(url: str | None) -> bool:
    return bool(url) and urlsplit(url).scheme in ("http", "https")


# A page's history -------------------------------------------------------------


def history_data(db: Database, url: str) -> dict | None:
    """A page and every snapshot of it, newest first; each says where its text came from."""
    page = queries.page(db, url)
    if page is None:
        return None
    versions, previous = [], None  # previous: the last snapshot that had content
    for row in queries.page_history(db, url):
        row["diff_from"] = None
        row["same_as_previous"] = False
        if row["content_id"] is not None:
            if previous is not None:
                row["same_as_previous"] = previous["content_id"] == row["content_id"]
                row["diff_from"] = None if row["same_as_previous"] else previous["id"]
            previous = row
        versions.append(row)
    versions.reverse()
    return {"page": page, "versions": versions}


async def page_history(datasette, request):
    db = await _archive(datasette, request)
    url = (request.args.get("url") or "").strip()
    fmt = request.url_vars.get("format")
    if not url and not fmt:
        return await _render(datasette, request, db, "wwc_page.html", {"page": None, "url": ""})
    if not url:
        raise BadRequest("give the page's URL: /-/wwc/page?url=https://…")
    from wwc_archive.reports.datasette import history

    url = await _read(db, history.resolve_url, url)  # as the crawler writes it, with or without a final /
    data = await _read(db, history_data, url)
    if data is None and not fmt:
        return await _render(datasette, request, db, "wwc_page.html", {"page": None, "url": url}, status=404)
    if data is None:
        raise NotFound(f"the archive has no page with URL {url}")
    if fmt == ".json":
        return Response.json(data)
    if fmt == ".csv":
        return _csv(data["versions"], ("id", "run_id", "fetched_at", "http_status", "outcome", "error",
                                       "title", "change", "same_as_previous", "diff_from",
                                       "fetches", "last_run", "last_fetched_at"))
    data = await _read(db, history.add_versions_detail, data)  # sizes, changes in words, compare choices
    return await _render(datasette, request, db, "wwc_page.html", {
        **data,
        "timeline": history.timeline_svg(datasette, data["versions"]),
        "live_link": data["page"]["url"] if is_web_url(data["page"]["url"]) else None,
        "json_url": datasette.urls.path(links.history(url, ".json")),
        "csv_url": datasette.urls.path(links.history(url, ".csv")),
    })


def _csv(rows: list[dict], columns: tuple[str, ...]) -> Response:
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return Response(out.getvalue(), content_type="text/csv; charset=utf-8")


# One snapshot -----------------------------------------------------------------


def snapshot_data(db: Database, snapshot_id: int) -> dict | None:
    """A snapshot (an old id folded into a span gives the span) with its body's metadata and neighbours."""
    try:
        snap = queries.snapshot(db, snapshot_id)
    except LookupError:
        return None
    snapshot_id = snap["id"]
    body = queries.body_info(db, snap["body_id"]) if snap["body_id"] is not None else None
    return {
        "snapshot": snap,
        "body": body,
        **queries.snapshot_neighbours(db, snap["page_id"], snapshot_id, snap["content_id"]),
        "source": queries.snapshot_sources(db, [snapshot_id]).get(snapshot_id),
    }


async def snapshot(datasette, request):
    snapshot_id = url_id(request, "id", "snapshot")
    db = await _archive(datasette, request)
    data = await _read(db, snapshot_data, snapshot_id)
    if data is None:
        raise NotFound(f"no snapshot with id {snapshot_id}")
    from wwc_archive.reports.datasette.memento import citation_context, memento_headers

    headers = await memento_headers(datasette, snapshot_id, request)
    if request.url_vars.get("format") == ".json":
        return Response.json(data, headers=headers)
    response = await _render(datasette, request, db, "wwc_snapshot.html", {
        **data,
        "live_link": data["snapshot"]["url"] if is_web_url(data["snapshot"]["url"]) else None,
        "json_url": datasette.urls.path(links.snapshot(snapshot_id, ".json")),
        "citation": await citation_context(datasette, request, snapshot_id),
    })
    response.headers.update(headers)
    return response


async def raw_body(datasette, request):
    """The archived bytes, never run: as plain text to look at, the original file with ``?download=1``.

    Shown as ``text/plain`` (decoded safely, re-encoded as UTF-8) under a CSP
    sandbox: a browser renders nothing of it, so it fetches nothing either
    (not even a ``<link rel=preconnect>``). The download keeps the original
    type, as an attachment.
    """
    snapshot_id = url_id(request, "id", "snapshot")
    db = await _archive(datasette, request)
    try:
        body, content_type, url = await _read(db, _body_and_url, snapshot_id)
    except LookupError:
        raise NotFound(f"snapshot {snapshot_id} has no stored body") from None
    from wwc_archive.reports.datasette.memento import memento_headers

    headers = {"content-security-policy": RAW_CSP, "x-content-type-options": "nosniff",
               **await memento_headers(datasette, snapshot_id, request)}
    if request.args.get("download"):
        headers["content-disposition"] = f'attachment; filename="{download_name(snapshot_id, url, content_type)}"'
        return Response(body, headers=headers, content_type=content_type or "application/octet-stream")
    if not is_text(content_type):
        kind = (content_type or "").split(";")[0].strip()
        text = f"{kind}: {len(body):,} bytes. Download it to open it: {links.raw(snapshot_id, download=True)}\n"
    else:
        text = decode(body, content_type)
    return Response(text.encode("utf-8"), headers=headers, content_type="text/plain; charset=utf-8")


def _body_and_url(db: Database, snapshot_id: int):
    body, content_type = queries.snapshot_body(db, snapshot_id)
    return body, content_type, queries.snapshot(db, snapshot_id)["url"]


def download_name(snapshot_id: int, url: str, content_type: str | None) -> str:
    """``snapshot-ID-slug.ext``, safe in a header and on any file system."""
    last = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    stem, dot, ext = last.rpartition(".")
    if not dot:
        stem, ext = last, (mimetypes.guess_extension((content_type or "").split(";")[0].strip()) or ".bin")[1:]
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-")[:80]
    ext = re.sub(r"[^A-Za-z0-9]", "", ext)[:8] or "bin"
    return f"snapshot-{snapshot_id}" + (f"-{slug}" if slug else "") + f".{ext}"


# A word diff between two snapshots ------------------------------------------------


def diff_data(db: Database, old_id: int, new_id: int, cancel: threading.Event | None = None) -> dict:
    """What changed between two snapshots of one page (:func:`~wwc_archive.reports.compare.compare`), with both ends."""
    try:
        old, new = queries.snapshot(db, old_id), queries.snapshot(db, new_id)
    except LookupError as error:
        raise NotFound(str(error)) from None
    if old["page_id"] != new["page_id"]:
        raise BadRequest(f"snapshots {old_id} and {new_id} are of different pages ({old['url']}, {new['url']})")
    meta = ("id", "run_id", "url", "fetched_at", "http_status", "outcome", "title", "fetches", "last_fetched_at")
    return {"url": new["url"], "old": {key: old[key] for key in meta}, "new": {key: new[key] for key in meta},
            **compare(db, old_id, new_id, cancel=cancel, versions=(old, new))}


async def diff(datasette, request, receive):
    old_id, new_id = url_id(request, "old", "snapshot"), url_id(request, "new", "snapshot")
    db = await _archive(datasette, request)
    data = await _diffing(datasette, receive, db, diff_data, old_id, new_id)
    if request.url_vars.get("format") == ".json":
        return Response.json(data)
    from wwc_archive.reports.datasette.history import diff_context

    return await _render(datasette, request, db, "wwc_diff.html", {
        **data, "json_url": datasette.urls.path(links.diff(old_id, new_id, ".json")),
        **await _read(db, diff_context, data["old"], data["new"]),  # the changes before and after; a reversed pair
    })


# The reports package's outputs ---------------------------------------------------


def _report_settings(datasette, request):
    """Report settings whose archive links point back into this Datasette."""
    from wwc_archive.reports.settings import ReportSettings

    return ReportSettings(archive_url=datasette.absolute_url(request, datasette.urls.path("/")).rstrip("/"))


async def run_report(datasette, request, receive):
    from wwc_archive.reports.render import render_report

    run = "latest" if request.url_vars["run"] == "latest" else url_id(request, "run", "run")
    db = await _archive(datasette, request)
    settings = _report_settings(datasette, request)

    def render(sdb: Database, run: str | int, cancel: threading.Event):
        try:
            run_id = queries.get_run(sdb, run)["id"]
        except queries.NoSuchRun as error:
            raise NotFound(str(error)) from None
        return render_report(sdb, run_id, fmt="html", settings=settings, cancel=cancel)

    html = await _diffing(datasette, receive, db, render, run)
    from wwc_archive.reports.datasette.start import with_site_nav

    html = await with_site_nav(datasette, db, html, run)  # the report is an e-mail's page: add the site's links
    return Response.html(html, headers={"content-security-policy": PAGE_CSP})


async def changes_feed(datasette, request, receive):
    from wwc_archive.reports.feed import atom_feed

    db = await _archive(datasette, request)
    settings = _report_settings(datasette, request)
    xml = await _diffing(datasette, receive, db, lambda sdb, cancel: atom_feed(sdb, settings, cancel=cancel))
    return Response(xml, content_type="application/atom+xml; charset=utf-8")
