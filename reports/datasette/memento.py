"""Memento (RFC 7089) in ``serve``: TimeMaps, the TimeGate, the headers of every memento, and citations.

The TimeGate and TimeMaps take a fixed prefix followed by the original URL as
it is, as pywb and MemGator address them (see docs/memento.md)::

    /-/wwc/timegate/https://host/path?query       302 to the version nearest Accept-Datetime
    /-/wwc/timemap/link/https://host/path?query   application/link-format (RFC 7089 §5)
    /-/wwc/timemap/json/https://host/path?query   the same as JSON (Time Travel / MemGator shape)

A memento is one version of a page (a run of spans with the same content,
:func:`~wwc_archive.archive.queries.page_versions`), dated by its first fetch
(for history read from the Wayback Machine, its capture time). Its page,
``/-/wwc/snapshot/ID``, is what TimeMaps list; every snapshot of the version,
its raw body and its view as archived answer with the same
:func:`memento_headers`.
"""

from bisect import bisect_right
from urllib.parse import urlsplit

from datasette.utils.asgi import BadRequest, NotFound, Response

from wwc_archive.archive import queries
from wwc_archive.reports import citation, links, memento
from wwc_archive.reports.datasette import views

#: The archive's name in citations when the metadata has no title.
DEFAULT_ARCHIVE_NAME = "wwc-archive"


def routes() -> list[tuple[str, object]]:
    """The TimeGate and TimeMaps, for :func:`~wwc_archive.reports.datasette.views.routes` (before its catch-all)."""
    return [
        (r"^/-/wwc/timegate/(?P<url>.+)$", timegate),
        (r"^/-/wwc/timemap/(?P<format>link|json)/(?P<url>.+)$", timemap),
    ]


class AbsoluteUrls:
    """Paths from :mod:`~wwc_archive.reports.links` as URLs: absolute with a request, else from the root."""

    def __init__(self, datasette, request=None):
        self.ds = datasette
        self.base = datasette.absolute_url(request, "/").rstrip("/") if request is not None else ""

    def __call__(self, path: str) -> str:
        return self.base + self.ds.urls.path(path)

    def memento(self, version: dict) -> str:
        return self(links.snapshot(version["id"]))

    def around(self, url: str) -> list[tuple[str, dict]]:
        """The links every Memento answer starts with: original, timegate, timemap."""
        return [(url, {"rel": "original"}), (self(links.timegate(url)), {"rel": "timegate"}),
                (self(links.timemap(url)), {"rel": "timemap", "type": memento.LINK_FORMAT})]


# Reading -------------------------------------------------------------------------


def find_page(db, candidates: list[str]) -> tuple[str, list[dict]] | None:
    """The first candidate URL the archive has a page for, and that page's versions."""
    marks = ", ".join("?" for _ in candidates)
    found = dict(db.execute(f"select url, id from pages where url in ({marks})", candidates).fetchall())
    for url in candidates:
        if url in found:
            return url, queries.page_versions(db, found[url])
    return None


def version_of(db, snapshot_id: int) -> dict | None:
    """The version a snapshot belongs to: ``url``, ``versions``, ``index`` (None for a fetch without content)."""
    snapshot_id = queries.resolve_snapshot(db, snapshot_id)
    row = db.execute("select s.page_id, s.content_id, p.url from snapshots s join pages p on p.id = s.page_id "
                     "where s.id = ?", [snapshot_id]).fetchone()
    if row is None or row[1] is None:
        return None
    versions = queries.page_versions(db, row[0])
    index = bisect_right([v["id"] for v in versions], snapshot_id) - 1
    return {"url": row[2], "versions": versions, "index": index} if index >= 0 else None


async def _read_archive(datasette, fn, *args):
    """``fn(db, *args)`` on the served archive, or None when none is served."""
    name = await views.archive_name(datasette)
    if name is None:
        return None
    return await views._read(datasette.get_database(name), fn, *args)


# Every memento's headers -----------------------------------------------------------


async def memento_headers(datasette, snapshot_id: int, request=None) -> dict[str, str]:
    """``Memento-Datetime`` and ``Link`` for a snapshot's page, raw body or view as archived.

    ``Link`` names the original URL, the TimeGate, the TimeMap and the
    first/last/prev/next mementos (the version itself as ``memento``). Every
    snapshot of a version answers as that version; a fetch that stored no
    content (a failure, a removal) is no memento: ``{}``. Give the ``request``
    for absolute URLs (else they start at the server's root). The caller
    checks permissions.
    """
    found = await _read_archive(datasette, version_of, snapshot_id)
    if not found:
        return {}
    return headers_for(AbsoluteUrls(datasette, request), found)


def headers_for(urls: AbsoluteUrls, found: dict) -> dict[str, str]:
    versions, index = found["versions"], found["index"]
    return {
        "Memento-Datetime": memento.http_date(versions[index]["fetched_at"]),
        "Link": memento.link_header([*urls.around(found["url"]),
                                     *memento.memento_links(versions, index, urls.memento)]),
    }


# The TimeGate and TimeMaps ---------------------------------------------------------


def _candidates(request) -> list[str]:
    query = request.scope.get("query_string", b"").decode("latin-1")  # raw, as the original URL had it
    return memento.original_candidates(request.url_vars["url"], query)


async def timegate(datasette, request):
    """302 to the memento nearest ``Accept-Datetime`` (the latest without one); 400 for a bad date, 404 unknown."""
    accept = request.headers.get("accept-datetime")
    try:
        when = memento.parse_accept_datetime(accept) if accept is not None else None
    except ValueError as error:
        raise BadRequest(str(error)) from None
    db = await views._archive(datasette, request)

    def choose(sdb, candidates):
        found = find_page(sdb, candidates)
        if found is None or not found[1]:
            return found
        url, versions = found
        last = len(versions) - 1
        index = last if when is None else memento.closest_version(
            versions, when, lambda v: queries.version_last_fetched(sdb, v))
        return url, versions, index

    candidates = _candidates(request)
    found = await views._read(db, choose, candidates)
    if found is None:
        raise NotFound(f"the archive has no page with URL {candidates[0]}")
    if not found[1]:
        raise NotFound(f"the archive has no version of {found[0]} (every fetch of it failed)")
    url, versions, index = found
    urls = AbsoluteUrls(datasette, request)
    headers = {
        "Vary": "accept-datetime",
        "Link": memento.link_header([*urls.around(url), *memento.memento_links(versions, index, urls.memento)]),
    }
    return Response.redirect(urls.memento(versions[index]), status=302, headers=headers)


async def timemap(datasette, request):
    """Every memento of an original URL, one per version: link-format or JSON."""
    db = await views._archive(datasette, request)
    candidates = _candidates(request)
    found = await views._read(db, find_page, candidates)
    if found is None:
        raise NotFound(f"the archive has no page with URL {candidates[0]}")
    url, versions = found
    if not versions:
        raise NotFound(f"the archive has no version of {url} (every fetch of it failed)")
    urls = AbsoluteUrls(datasette, request)
    original, gate = url, urls(links.timegate(url))
    link_uri, json_uri = urls(links.timemap(url, "link")), urls(links.timemap(url, "json"))
    if request.url_vars["format"] == "json":
        return Response.json(memento.timemap_json(original, gate, link_uri, json_uri, versions, urls.memento))
    body = memento.link_format(memento.timemap_links(original, gate, link_uri, versions, urls.memento))
    return Response(body, content_type=memento.LINK_FORMAT)


# Citing a version ------------------------------------------------------------------


def citation_data(db, snapshot_id: int) -> dict | None:
    """What a citation of a snapshot's version needs: the version's first snapshot, content and body."""
    found = version_of(db, snapshot_id)
    if found is None:
        return None
    version = found["versions"][found["index"]]
    content = db.execute("select title, author, published from contents where id = ?",
                         [version["content_id"]]).fetchone() or (None, None, None)
    body = queries.body_info(db, version["body_id"]) if version["body_id"] is not None else None
    return {**found, "version": version, "title": content[0], "author": content[1], "published": content[2],
            "sha256": body["sha256"] if body else None}


async def citation_context(datasette, request, snapshot_id: int) -> dict | None:
    """The version page's permalink and citations (``human``, ``bibtex``, ``csl_json``), or None."""
    data = await _read_archive(datasette, citation_data, snapshot_id)
    if data is None:
        return None
    urls = AbsoluteUrls(datasette, request)
    version = data["version"]
    permalink = urls.memento(version)
    citable = citation.Citable(
        original_url=data["url"], captured_at=version["fetched_at"], permalink=permalink,
        archive_name=datasette.metadata("title") or DEFAULT_ARCHIVE_NAME, archive_url=urls("/"),
        snapshot_id=version["id"], title=data["title"], site=_site_name(datasette, data["url"]),
        author=data["author"], published=data["published"], sha256=data["sha256"],
    )
    return {
        "permalink": permalink, "version_id": version["id"], "captured_at": version["fetched_at"],
        "timemap": urls(links.timemap(data["url"])), "timegate": urls(links.timegate(data["url"])),
        **citation.citations(citable),
    }


def _site_name(datasette, url: str) -> str | None:
    """The metadata's ``source`` for pages on its ``source_url``'s host; else None (the host is used)."""
    source, source_url = datasette.metadata("source"), datasette.metadata("source_url")
    if source and source_url and urlsplit(source_url).hostname == urlsplit(url).hostname:
        return source
    return None
