"""View as archived: a version rendered from the archive alone, with its archived requisites.

Four routes, all under ``/-/wwc/view/SNAPSHOT_ID``:

- ``/-/wwc/view/ID``: a frame page naming the version, with the rendering in a
  ``<iframe sandbox>`` that may not run scripts, submit forms or share the
  server's origin (only a click may navigate the whole window, to another
  archived page);
- ``/-/wwc/view/ID/page``: the archived HTML, rewritten (:func:`rewrite_html`):
  scripts, event handlers, frames, plugins, ``<base>`` and ``<meta
  http-equiv>`` removed; every stylesheet, image, font and icon pointed at
  ``asset``; every link at ``go``. It is served under a Content-Security-Policy
  that lets nothing load from anywhere but this server and no script run
  (:data:`FRAMED_CSP`): whatever the rewriting misses is still blocked;
- ``/-/wwc/view/ID/asset?url=URL``: the capture of that requisite that stood
  when the version was fetched (the last at or before it, else the first
  after), a stylesheet's own ``url(...)`` rewritten too; a requisite the
  archive does not hold is a 404 from this server, never fetched live;
- ``/-/wwc/view/ID/go?url=URL``: a link followed: the archived version of that
  page as of the same time, or a 404 page saying it is not in the archive.
"""

import re
from html import escape
from urllib.parse import quote, urljoin

from datasette.utils.asgi import NotFound, Response
from lxml import etree
from sqlite_utils import Database

from wwc_archive.archive import assets, queries
from wwc_archive.crawler.urls import normalize_url
from wwc_archive.profile import SiteProfile
from wwc_archive.reports.datasette import views

PREFIX = "/-/wwc/view/"
#: The framed rendering: styles, images, fonts and media from this server only; no script, frame, form,
#: connection or plugin at all. (``{origin}`` is this server's, beside ``'self'``, for a sandboxed document.)
FRAMED_CSP = ("default-src 'none'; style-src 'self' {origin} 'unsafe-inline'; img-src 'self' {origin} data:; "
              "font-src 'self' {origin} data:; media-src 'self' {origin}; script-src 'none'; object-src 'none'; "
              "frame-src 'none'; child-src 'none'; worker-src 'none'; connect-src 'none'; form-action 'none'; "
              "base-uri 'none'; manifest-src 'none'; frame-ancestors 'self'")
#: A requisite opened on its own (an SVG, say) is a sandboxed document that runs nothing.
ASSET_CSP = "sandbox; default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'"
#: The frame page: no script; the one frame is this server's.
FRAME_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; script-src 'none'; img-src 'self'"
SANDBOX = "allow-top-navigation-by-user-activation"

_REMOVED = {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "portal", "base", "noscript",
            "template", "form"}
_URL_ATTRIBUTES = ("src", "poster", "background", "data", "formaction", "action", "lowsrc", "longdesc", "ping",
                   "manifest", "archive", "codebase", "cite", "icon", "dynsrc", "{http://www.w3.org/1999/xlink}href")
_KEPT_LINK_RELS = {"stylesheet", "icon", "shortcut", "apple-touch-icon"}
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_IGNORED = SiteProfile().ignore_query_params


def routes() -> list[tuple[str, object]]:
    return [
        (r"^/-/wwc/view/(?P<id>[^/]+)$", frame_page),
        (r"^/-/wwc/view/(?P<id>[^/]+)/page$", framed_page),
        (r"^/-/wwc/view/(?P<id>[^/]+)/asset$", asset),
        (r"^/-/wwc/view/(?P<id>[^/]+)/go$", go),
    ]


def view(snapshot_id: int) -> str:
    return f"{PREFIX}{snapshot_id}"


def asset_link(snapshot_id: int, url: str) -> str:
    return f"{PREFIX}{snapshot_id}/asset?url={quote(url, safe='')}"


def go_link(snapshot_id: int, url: str) -> str:
    return f"{PREFIX}{snapshot_id}/go?url={quote(url, safe='')}"


# Routes ---------------------------------------------------------------------------------


async def frame_page(datasette, request):
    snapshot_id = views.url_id(request, "id", "snapshot")
    db = await views._archive(datasette, request)
    s = await _snapshot(db, snapshot_id)
    title = escape(s["title"] or s["url"])
    page = datasette.urls.path(f"{view(s['id'])}/page")
    back = datasette.urls.path(f"/-/wwc/snapshot/{s['id']}")
    html = (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{title} as archived {escape(s['fetched_at'])}</title>"
        "<style>body{margin:0;font-family:sans-serif}header{padding:6px 12px;background:#333;color:#fff;"
        "font-size:14px}header a{color:#9cf}iframe{border:0;width:100%;height:calc(100vh - 34px)}</style>"
        "</head><body><header>"
        f"<strong>As archived</strong> {escape(s['fetched_at'])} (UTC): {escape(s['url'])} · "
        f"<a href=\"{escape(back)}\">version #{s['id']}</a> · shown from the archive alone: "
        "no script runs, nothing is fetched from the live site; what the archive lacks is shown missing"
        f"</header><iframe sandbox=\"{SANDBOX}\" src=\"{escape(page)}\" title=\"{title}\"></iframe></body></html>")
    headers = {"content-security-policy": FRAME_PAGE_CSP, **await _memento(datasette, s["id"], request)}
    return Response.html(html, headers=headers)


async def framed_page(datasette, request):
    snapshot_id = views.url_id(request, "id", "snapshot")
    db = await views._archive(datasette, request)
    s = await _snapshot(db, snapshot_id)
    try:
        body, content_type = await views._read(db, queries.snapshot_body, s["id"])
    except LookupError:
        raise NotFound(f"snapshot {snapshot_id} has no stored body") from None
    if "html" not in (content_type or "text/html").lower():
        raise NotFound(f"snapshot {snapshot_id} is not an HTML page (it is {content_type}): download its raw body")
    html = rewrite_html(views.decode(body, content_type), s["final_url"] or s["url"], s["id"],
                        datasette.urls.path)
    origin = f"{request.scheme}://{request.host}"
    headers = {"content-security-policy": FRAMED_CSP.format(origin=origin), "x-content-type-options": "nosniff",
               "referrer-policy": "no-referrer", **await _memento(datasette, s["id"], request)}
    return Response(html.encode("utf-8"), headers=headers, content_type="text/html; charset=utf-8")


async def asset(datasette, request):
    s, url, found = await _as_of_version(datasette, request, _asset_at)
    headers = {"content-security-policy": ASSET_CSP, "x-content-type-options": "nosniff",
               "access-control-allow-origin": "*", "cache-control": "max-age=3600"}
    if found is None:
        return Response.text(f"not in the archive: {url}\n", status=404, headers=headers)
    capture, body = found
    content_type = capture["content_type"] or "application/octet-stream"
    headers["x-wwc-archive-captured"] = capture["fetched_at"]
    if "css" in content_type.lower():
        css = views.decode(body, content_type)
        body = rewrite_css(css, capture["url"], s["id"], datasette.urls.path).encode("utf-8")
        content_type = "text/css; charset=utf-8"
    return Response(body, headers=headers, content_type=content_type)


async def go(datasette, request):
    _, url, target = await _as_of_version(datasette, request, _page_at)
    if target is None:
        html = ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not in the archive</title>"
                f"</head><body><h1>Not in the archive</h1><p>The archive holds no version of {escape(url)}.</p>"
                "</body></html>")
        return Response.html(html, status=404, headers={"content-security-policy": FRAME_PAGE_CSP})
    return Response.redirect(datasette.urls.path(view(target)))


# Reading --------------------------------------------------------------------------------


async def _as_of_version(datasette, request, reader) -> tuple[dict, str, object]:
    """The version the request names (``id``), the URL it asks for (``url``), and ``reader``'s answer for
    that URL as of the version's fetch time (an asset's capture, a page's version; None: none)."""
    snapshot_id = views.url_id(request, "id", "snapshot")
    url = request.args.get("url") or ""
    db = await views._archive(datasette, request)
    s = await _snapshot(db, snapshot_id)
    return s, url, await views._read(db, reader, url, s["fetched_at"])


async def _snapshot(db, snapshot_id: int) -> dict:
    try:
        return await views._read(db, queries.snapshot, snapshot_id)
    except LookupError:
        raise NotFound(f"no snapshot with id {snapshot_id}") from None


async def _memento(datasette, snapshot_id: int, request) -> dict:
    """The version's Memento headers (``reports/datasette/memento.py``), when that module is there."""
    try:
        from wwc_archive.reports.datasette.memento import memento_headers
    except ImportError:
        return {}
    return await memento_headers(datasette, snapshot_id, request)


def candidates(url: str) -> list[str]:
    """The URLs an asset referred to as ``url`` may be archived under: as normalized by the crawl (with the
    default profile's ignored query parameters, or none), and without its query."""
    found = [normalize_url(url, ignore_params=_IGNORED), normalize_url(url)]
    bare = normalize_url(url.split("?", 1)[0])
    found.append(bare)
    return list(dict.fromkeys(u for u in found if u))


def _asset_at(db: Database, url: str, when: str):
    for candidate in candidates(url):
        capture = assets.capture_at(db, candidate, when)
        if capture is not None:
            if capture["body_id"] is None:
                return None  # gone at that time: missing
            return capture, assets.capture_body(db, capture)
    return None


def _page_at(db: Database, url: str, when: str) -> int | None:
    """The snapshot of ``url`` with a body that stood at ``when`` (else the first after)."""
    for candidate in candidates(url):
        sql = ("select s.id from snapshots s join pages p on p.id = s.page_id where p.url = ? "
               "and s.body_id is not null ")
        row = db.execute(sql + "and s.fetched_at <= ? order by s.fetched_at desc, s.id desc limit 1",
                         [candidate, when]).fetchone()
        row = row or db.execute(sql + "order by s.fetched_at, s.id limit 1", [candidate]).fetchone()
        if row:
            return row[0]
    return None


# Rewriting ------------------------------------------------------------------------------


def rewrite_html(html: str, url: str, snapshot_id: int, path=lambda p: p) -> str:
    """The archived page with nothing live or active left: see the module's docstring."""
    parser = etree.HTMLParser(recover=True, remove_comments=True, remove_pis=True)
    root = etree.fromstring(html.replace("\x00", "").encode("utf-8", "surrogatepass") or b"<html/>", parser)
    if root is None:
        root = etree.fromstring(b"<html><body></body></html>", parser)
    base = url
    for element in root.iter("base"):
        if element.get("href"):
            base = urljoin(url, element.get("href"))
            break
    asset_url = lambda href: path(asset_link(snapshot_id, urljoin(base, href.strip())))  # noqa: E731
    for element in list(root.iter(etree.Element)):
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if tag in _REMOVED or (tag == "meta" and element.get("http-equiv") is not None):
            _remove(element)
            continue
        for name in list(element.attrib):
            if name.lower().startswith("on"):
                del element.attrib[name]
        if tag == "link":
            rels = set((element.get("rel") or "").lower().split())
            if rels & _KEPT_LINK_RELS and element.get("href"):
                element.set("href", asset_url(element.get("href")))
                element.attrib.pop("integrity", None)
            else:
                _remove(element)
            continue
        if tag in ("a", "area") and element.get("href") is not None:
            href = element.get("href").strip()
            absolute = urljoin(base, href)
            if href.startswith("#"):
                pass
            elif absolute.startswith(("http://", "https://")):
                element.set("href", path(go_link(snapshot_id, absolute)))
                element.set("target", "_top")
            else:
                del element.attrib["href"]
            for name in ("ping", "download"):
                element.attrib.pop(name, None)
        elif element.get("href") is not None:  # any other element's href (an SVG <a>, <use>): not followed
            del element.attrib["href"]
        for name in _URL_ATTRIBUTES:
            value = element.get(name)
            if value is None:
                continue
            if tag in ("img", "source", "input", "video", "audio", "track", "body", "table", "td", "image") \
                    and name in ("src", "poster", "background") and not value.strip().startswith("data:"):
                element.set(name, asset_url(value))
            elif not value.strip().startswith("data:") or tag not in ("img", "source"):
                del element.attrib[name]
        for name in ("srcset", "imagesrcset"):
            if element.get(name):
                element.set(name, ", ".join(
                    " ".join([asset_url(parts[0]), *parts[1:]])
                    for parts in (c.split() for c in element.get(name).split(",")) if parts))
        if element.get("style"):
            element.set("style", rewrite_css(element.get("style"), base, snapshot_id, path))
        if tag == "style" and element.text:
            element.text = rewrite_css(element.text, base, snapshot_id, path)
    return "<!DOCTYPE html>\n" + etree.tostring(root, method="html", encoding="unicode")


def rewrite_css(css: str, url: str, snapshot_id: int, path=lambda p: p) -> str:
    """A stylesheet's ``url(...)`` and ``@import``\\ s pointed at the archived requisites (``data:`` kept)."""
    def replace_url(match) -> str:
        href = next((g for g in match.groups() if g is not None), "").strip()
        if href.startswith("data:") or href.startswith("#") or not href:
            return match.group(0)
        return f'url("{path(asset_link(snapshot_id, urljoin(url, href)))}")'

    def replace_import(match) -> str:
        href = next((g for g in match.groups() if g is not None), "").strip()
        return f'@import "{path(asset_link(snapshot_id, urljoin(url, href)))}"'

    return _CSS_IMPORT.sub(replace_import, _CSS_URL.sub(replace_url, css))


def _remove(element) -> None:
    """Remove an element, keeping the text after it."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    previous = element.getprevious()
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)
