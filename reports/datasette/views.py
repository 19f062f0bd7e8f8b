"""The ``/-/wwc/`` pages: a page's history, one snapshot, a word diff, raw bodies, report, feed.

Every page reads through :mod:`wwc_archive.archive.queries` on Datasette's read-only
connections. Archived HTML is never rendered live: pages show extracted text
(autoescaped), and raw bodies are served sandboxed or as a download.
"""

import csv
import io
import mimetypes
import re
from urllib.parse import quote, urlsplit

from datasette.utils.asgi import BadRequest, NotFound, Response
from sqlite_utils import Database

from wwc_archive.archive import queries
from wwc_archive.reports.datasette import ARCHIVE_TABLES, DATABASE_NAME
from wwc_archive.reports.worddiff import word_diff

#: Raw bodies may be looked at, never run: no scripts, no forms, no requests out.
RAW_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
#: The project's own pages (report, diff) need no scripts either.
PAGE_CSP = "script-src 'none'; object-src 'none'"
DIFF_FIELDS = ("title", "author", "published")


def routes() -> list[tuple[str, object]]:
    return [
        (r"^/-/wwc/page(?P<format>\.json|\.csv)?$", page_history),
        (r"^/-/wwc/snapshot/(?P<id>\d+)(?P<format>\.json)?$", snapshot),
        (r"^/-/wwc/snapshot/(?P<id>\d+)/raw$", raw_body),
        (r"^/-/wwc/diff/(?P<old>\d+)/(?P<new>\d+)(?P<format>\.json)?$", diff),
        (r"^/-/wwc/run/(?P<run>\d+|latest)/report$", run_report),
        (r"^/-/wwc/changes\.atom$", changes_feed),
    ]


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
    """Run ``fn(sqlite_utils.Database, *args)`` on one of Datasette's read connections."""
    def run(conn):
        return fn(Database(conn, recursive_triggers=False, execute_plugins=False), *args)
    return await db.execute_fn(run)


def link(datasette, path: str) -> str:
    return datasette.urls.path("/-/wwc/" + path)


def history_link(datasette, url: str) -> str:
    return link(datasette, "page?url=" + quote(url, safe=""))


async def _render(datasette, request, db, template: str, context: dict) -> Response:
    context = {"wwc": WwcLinks(datasette), "database": db.name, **context}
    html = await datasette.render_template(template, context, request=request)
    return Response.html(html, headers={"content-security-policy": PAGE_CSP})


class WwcLinks:
    """Link builders for the templates."""

    def __init__(self, datasette):
        self.ds = datasette

    def snapshot(self, snapshot_id) -> str:
        return link(self.ds, f"snapshot/{snapshot_id}")

    def raw(self, snapshot_id, download=False) -> str:
        return link(self.ds, f"snapshot/{snapshot_id}/raw" + ("?download=1" if download else ""))

    def diff(self, old, new) -> str:
        return link(self.ds, f"diff/{old}/{new}")

    def history(self, url) -> str:
        return history_link(self.ds, url)

    def report(self, run_id) -> str:
        return link(self.ds, f"run/{run_id}/report")


def is_web_url(url: str | None) -> bool:
    return bool(url) and urlsplit(url).scheme in ("http", "https")


# A page's history -------------------------------------------------------------


def history_data(db: Database, url: str) -> dict | None:
    """A page and every snapshot of it, newest first; each says where its text came from."""
    pages = list(db.query(
        "select id, url, program, role, state, title, first_run, last_run from pages where url = ?", [url]))
    if not pages:
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
    return {"page": pages[0], "versions": versions}


async def page_history(datasette, request):
    db = await _archive(datasette, request)
    url = (request.args.get("url") or "").strip()
    if not url:
        raise BadRequest("give the page's URL: /-/wwc/page?url=https://…")
    data = await _read(db, history_data, url)
    if data is None:
        raise NotFound(f"the archive has no page with URL {url}")
    fmt = request.url_vars.get("format")
    if fmt == ".json":
        return Response.json(data)
    if fmt == ".csv":
        return _csv(data["versions"], ("id", "run_id", "fetched_at", "http_status", "outcome", "error",
                                       "title", "change", "same_as_previous", "diff_from"))
    return await _render(datasette, request, db, "wwc_page.html", {
        **data,
        "live_link": data["page"]["url"] if is_web_url(data["page"]["url"]) else None,
        "json_url": link(datasette, "page.json?url=" + quote(url, safe="")),
        "csv_url": link(datasette, "page.csv?url=" + quote(url, safe="")),
    })


def _csv(rows: list[dict], columns: tuple[str, ...]) -> Response:
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return Response(out.getvalue(), content_type="text/csv; charset=utf-8")


# One snapshot -----------------------------------------------------------------


def snapshot_data(db: Database, snapshot_id: int) -> dict | None:
    """A snapshot with its body's metadata and its neighbours among the page's snapshots."""
    try:
        snap = queries.snapshot(db, snapshot_id)
    except LookupError:
        return None
    body = None
    if snap["body_id"] is not None:
        body = next(db.query("select id, sha256, size, content_type from bodies where id = ?", [snap["body_id"]]))
    others = list(db.query("select id, content_id from snapshots where page_id = ? order by id", [snap["page_id"]]))
    index = next(i for i, row in enumerate(others) if row["id"] == snapshot_id)
    earlier, later = others[:index], others[index + 1:]
    content = snap["content_id"]
    previous_version = next((r["id"] for r in reversed(earlier)
                             if r["content_id"] is not None and r["content_id"] != content), None)
    first_same = next((r["id"] for r in earlier if content is not None and r["content_id"] == content), None)
    return {
        "snapshot": snap,
        "body": body,
        "previous": earlier[-1]["id"] if earlier else None,
        "next": later[0]["id"] if later else None,
        "previous_version": previous_version if content is not None else None,
        "next_version": next((r["id"] for r in later
                              if r["content_id"] is not None and r["content_id"] != content), None),
        "same_text_since": first_same,
    }


async def snapshot(datasette, request):
    db = await _archive(datasette, request)
    snapshot_id = int(request.url_vars["id"])
    data = await _read(db, snapshot_data, snapshot_id)
    if data is None:
        raise NotFound(f"no snapshot with id {snapshot_id}")
    if request.url_vars.get("format") == ".json":
        return Response.json(data)
    return await _render(datasette, request, db, "wwc_snapshot.html", {
        **data,
        "live_link": data["snapshot"]["url"] if is_web_url(data["snapshot"]["url"]) else None,
        "json_url": link(datasette, f"snapshot/{snapshot_id}.json"),
    })


async def raw_body(datasette, request):
    """The archived bytes, never run: CSP sandbox always, a download with ``?download=1``."""
    db = await _archive(datasette, request)
    snapshot_id = int(request.url_vars["id"])
    try:
        body, content_type, url = await _read(db, _body_and_url, snapshot_id)
    except LookupError:
        raise NotFound(f"snapshot {snapshot_id} has no stored body") from None
    headers = {"content-security-policy": RAW_CSP, "x-content-type-options": "nosniff"}
    if request.args.get("download"):
        headers["content-disposition"] = f'attachment; filename="{download_name(snapshot_id, url, content_type)}"'
    return Response(body, headers=headers, content_type=content_type or "application/octet-stream")


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


def diff_data(db: Database, old_id: int, new_id: int) -> dict:
    """What changed between two snapshots of one page: fields, links and words."""
    try:
        old, new = queries.snapshot(db, old_id), queries.snapshot(db, new_id)
    except LookupError as error:
        raise NotFound(str(error)) from None
    if old["page_id"] != new["page_id"]:
        raise BadRequest(f"snapshots {old_id} and {new_id} are of different pages ({old['url']}, {new['url']})")
    words = word_diff(old["text"] or "", new["text"] or "")
    meta = ("id", "run_id", "url", "fetched_at", "http_status", "outcome", "title")
    return {
        "url": new["url"],
        "old": {key: old[key] for key in meta},
        "new": {key: new[key] for key in meta},
        "fields": {name: [old[name], new[name]] for name in DIFF_FIELDS if (old[name] or "") != (new[name] or "")},
        "links_added": sorted(set(new["links"]) - set(old["links"])),
        "links_removed": sorted(set(old["links"]) - set(new["links"])),
        "words_added": sum(len(text.split()) for op, text in words["diff"] if op == "insert"),
        "words_removed": sum(len(text.split()) for op, text in words["diff"] if op == "delete"),
        "change_count": words["change_count"],
        "diff": words["diff"],
    }


async def diff(datasette, request):
    db = await _archive(datasette, request)
    old_id, new_id = int(request.url_vars["old"]), int(request.url_vars["new"])
    data = await _read(db, diff_data, old_id, new_id)
    if request.url_vars.get("format") == ".json":
        return Response.json(data)
    return await _render(datasette, request, db, "wwc_diff.html", {
        **data, "json_url": link(datasette, f"diff/{old_id}/{new_id}.json"),
    })


# The reports package's outputs ---------------------------------------------------


def _report_settings(datasette, request):
    """Report settings whose archive links point back into this Datasette."""
    from wwc_archive.reports.settings import ReportSettings

    return ReportSettings(archive_url=datasette.absolute_url(request, datasette.urls.path("/")).rstrip("/"))


async def run_report(datasette, request):
    from wwc_archive.reports.render import render_report

    db = await _archive(datasette, request)
    settings = _report_settings(datasette, request)

    def render(sdb: Database, run: str):
        try:
            run_id = queries.get_run(sdb, run)["id"]
        except queries.NoSuchRun as error:
            raise NotFound(str(error)) from None
        return render_report(sdb, run_id, fmt="html", settings=settings)

    html = await _read(db, render, request.url_vars["run"])
    return Response.html(html, headers={"content-security-policy": PAGE_CSP})


async def changes_feed(datasette, request):
    from wwc_archive.reports.feed import atom_feed

    db = await _archive(datasette, request)
    xml = await _read(db, atom_feed, _report_settings(datasette, request))
    return Response(xml, content_type="application/atom+xml; charset=utf-8")
