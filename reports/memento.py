"""Memento (RFC 7089) without a server: dates, the original URL in a request, choosing and linking versions.

Pure functions; :mod:`wwc_archive.reports.datasette.memento` serves them. A
*version* is a dict from :func:`wwc_archive.archive.queries.page_versions`
(``id``, ``fetched_at`` ...); each is one memento, dated by its first fetch.
A *link* is ``(uri, params)``, ``params`` an ordered dict such as
``{"rel": "memento", "datetime": "Tue, 01 Jan 2030 03:00:00 GMT"}``.
"""

import re
from bisect import bisect_right
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import quote, unquote

from wwc_archive.crawler.urls import normalize_url
from wwc_archive.reports.links import URL_SAFE

#: RFC 1123 dates, as RFC 7089 writes ``Memento-Datetime`` and ``datetime``.
HTTP_DATE = "%a, %d %b %Y %H:%M:%S GMT"
LINK_FORMAT = "application/link-format"


def archive_datetime(archive_time: str) -> datetime:
    """An archive time (``2030-01-01T03:00:00Z``) as an aware UTC datetime."""
    return datetime.strptime(archive_time, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def http_date(archive_time: str) -> str:
    """An archive time in RFC 1123 form: ``Tue, 01 Jan 2030 03:00:00 GMT``."""
    return format_datetime(archive_datetime(archive_time), usegmt=True)


def parse_accept_datetime(value: str) -> datetime:
    """An ``Accept-Datetime`` header as an aware UTC datetime; ValueError when it is no HTTP date."""
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        when = None
    if when is None:
        raise ValueError(f"Accept-Datetime {value!r} is not an HTTP date such as 'Tue, 01 Jan 2030 03:00:00 GMT'")
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def url_in_path(url: str) -> str:
    """A URL as it sits in a Link header's ``<...>``: spaces, quotes, brackets, non-ASCII percent-encoded."""
    return quote(url, safe=URL_SAFE)


def original_candidates(path_part: str, query_string: str = "") -> list[str]:
    """The URLs a request's ``PREFIX`` + URL may name, most literal first.

    ``path_part`` is what follows the prefix in the raw (still percent-encoded)
    path, ``query_string`` the raw query: the server sees the original URL's
    query as its own. Also understood: a fully encoded URL (``https%3A%2F%2F...``),
    a scheme whose ``//`` a proxy merged (``https:/host``), and a ``#``
    fragment sent as ``%23`` (tried with and without it: ``%23`` is also a
    literal ``#`` in a query value). Each is tried as given and as the crawler
    normalises it (:func:`~wwc_archive.crawler.urls.normalize_url`).
    """
    url = path_part
    if re.match(r"(?i)https?%3A", url):
        url = unquote(url)
    url = re.sub(r"(?i)^(https?:)/(?=[^/])", r"\1//", url)
    if query_string:
        url = f"{url}?{query_string}"
    found = [url, normalize_url(url)]
    cut = url.lower().find("%23")
    if cut >= 0:
        found += [url[:cut], normalize_url(url[:cut])]
    return [u for u in dict.fromkeys(found) if u]


def closest_version(versions: list[dict], when: datetime, last_fetched: Callable[[dict], str]) -> int:
    """The index of the version closest in time to ``when``: what the archive saw nearest to it.

    A version was seen from its first fetch to its last (``last_fetched(version)``):
    a time inside that stretch gives it; a time between two versions gives the
    one seen nearer to it (the earlier on a tie); before the first, the first;
    after the last, the last. Only the version before ``when`` has its last
    fetch looked up.
    """
    if not versions:
        raise ValueError("no versions")
    firsts = [archive_datetime(v["fetched_at"]) for v in versions]
    index = bisect_right(firsts, when) - 1
    if index < 0:
        return 0
    if index == len(versions) - 1:
        return index
    seen_until = archive_datetime(last_fetched(versions[index]))
    if when <= seen_until or when - seen_until <= firsts[index + 1] - when:
        return index
    return index + 1


def memento_links(versions: list[dict], index: int, uri_of: Callable[[dict], str]) -> list[tuple[str, dict]]:
    """The ``first``/``last``/``prev``/``next`` memento links around ``versions[index]``, itself included.

    One link per memento, its relations joined (``rel="first memento"``), in time order.
    """
    last = len(versions) - 1
    rels: dict[int, list[str]] = {}
    for at, rel in ((0, "first"), (last, "last"), (index - 1, "prev"), (index + 1, "next"), (index, None)):
        if 0 <= at <= last:
            rels.setdefault(at, [])
            if rel:
                rels[at].append(rel)
    return [(uri_of(versions[at]), {"rel": " ".join([*rels[at], "memento"]),
                                    "datetime": http_date(versions[at]["fetched_at"])})
            for at in sorted(rels)]


def timemap_links(original: str, timegate: str, timemap: str, versions: list[dict],
                  uri_of: Callable[[dict], str]) -> list[tuple[str, dict]]:
    """A TimeMap's links (RFC 7089 §5): original, timegate, itself (from/until), every memento."""
    links = [
        (original, {"rel": "original"}),
        (timegate, {"rel": "timegate"}),
        (timemap, {"rel": "self", "type": LINK_FORMAT,
                   "from": http_date(versions[0]["fetched_at"]), "until": http_date(versions[-1]["fetched_at"])}),
    ]
    last = len(versions) - 1
    for at, version in enumerate(versions):
        rel = " ".join([*(["first"] if at == 0 else []), *(["last"] if at == last else []), "memento"])
        links.append((uri_of(version), {"rel": rel, "datetime": http_date(version["fetched_at"])}))
    return links


def format_link(uri: str, params: dict) -> str:
    """One link: ``<uri>; rel="..."; datetime="..."``."""
    quoted = "".join(f'; {name}="{value}"' for name, value in params.items())
    return f"<{url_in_path(uri)}>{quoted}"


def link_header(links: list[tuple[str, dict]]) -> str:
    """Links as one ``Link`` header value."""
    return ", ".join(format_link(uri, params) for uri, params in links)


def link_format(links: list[tuple[str, dict]]) -> str:
    """Links as an ``application/link-format`` document: one a line, each but the last ending in a comma."""
    return ",\n".join(format_link(uri, params) for uri, params in links) + "\n"


def timemap_json(original: str, timegate: str, timemap_link: str, timemap_json_uri: str, versions: list[dict],
                 uri_of: Callable[[dict], str]) -> dict:
    """The TimeMap as JSON, in the Time Travel / MemGator shape (times ISO 8601, UTC)."""
    mementos = [{"datetime": v["fetched_at"], "uri": uri_of(v), "snapshot": v["id"]} for v in versions]
    return {
        "original_uri": original,
        "timegate_uri": timegate,
        "timemap_uri": {"link_format": timemap_link, "json_format": timemap_json_uri},
        "mementos": {"first": mementos[0], "last": mementos[-1], "list": mementos},
    }
