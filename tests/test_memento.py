"""Memento (RFC 7089): TimeMaps, the TimeGate, every memento's headers, and a real Memento client.

The archive: a page with an awkward URL (``//``, ``?``, ``&``) fetched six
nights, three versions (A, failed, A redirected, B, B, C), and a page whose query holds
an encoded ``#`` (``q=C%23``), each fetched at 03:00 UTC in January 2020.
"""

import asyncio
import hashlib
import re
import sqlite3
from contextlib import closing
from datetime import datetime, timezone
from urllib.parse import quote

import pytest
import requests
from memento_client import MementoClient
from wwc_archive.archive import Archive, Extracted, FetchRecord
from wwc_archive.reports import memento
from wwc_archive.reports.datasette.app import archive_datasette

from tests.helpers import serving, write_run

ODD = "https://example.org//a//b?x=1&y=2"
HASHED = "https://example.org/search?q=C%23"
#: Night -> the text fetched (None: the fetch failed).
PLAN = {1: "A", 2: None, 3: "A", 4: "B", 5: "B", 6: "C"}
#: Night 3 was redirected: a span of its own, the same content, so the same version A.
REDIRECTED = {(ODD, 3): "https://example.org/moved"}
RFC1123 = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                     r"\d{4} \d\d:\d\d:\d\d GMT$")


def night(n: int) -> str:
    return f"2020-01-{n:02d}T03:00:00Z"


def body(text: str) -> bytes:
    return f"<html><head><title>Version {text}</title></head><body><p>Version {text}.</p></body></html>".encode()


def record(url: str, n: int, text: str | None) -> FetchRecord:
    common = {"url": url, "program": "what-works-cities", "role": "page", "fetched_at": night(n)}
    if text is None:
        return FetchRecord(**common, outcome="failed", error="timeout")
    return FetchRecord(**common, outcome="ok", http_status=200, headers={"content-type": "text/html"},
                       content_type="text/html", body=body(text), final_url=REDIRECTED.get((url, n)),
                       extracted=Extracted(title=f"Version {text}", text=f"The page as version {text}."))


@pytest.fixture(scope="module")
def archive_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("memento") / "archive.db"
    archive = Archive(path)
    for n, text in PLAN.items():
        write_run(archive, record(ODD, n, text), record(HASHED, n, "H"), started=night(n))
    archive.close()
    return str(path)


@pytest.fixture(scope="module")
def snapshots(archive_path):
    """Night -> snapshot id of the ODD page's span that starts that night."""
    with closing(sqlite3.connect(archive_path)) as conn:
        rows = conn.execute("select s.id, s.fetched_at from snapshots s join pages p on p.id = s.page_id "
                            "where p.url = ? order by s.id", [ODD]).fetchall()
    return {int(fetched_at[8:10]): snapshot_id for snapshot_id, fetched_at in rows}


def fetch(db_path, *requests_):
    """GET each ``(path, headers)`` in-process; the responses."""
    async def run():
        ds = archive_datasette(db_path)
        return [await ds.client.get(path, headers=headers) for path, headers in requests_]

    return asyncio.run(run())


def get(db_path, path, headers=None):
    return fetch(db_path, (path, headers or {}))[0]


def parse_links(value: str) -> list[tuple[str, dict]]:
    """A Link header or link-format body as ``(uri, params)`` pairs (values without quotes)."""
    found = []
    for match in re.finditer(r'<([^>]*)>((?:\s*;\s*[a-z]+="[^"]*")*)', value):
        found.append((match.group(1), dict(re.findall(r'([a-z]+)="([^"]*)"', match.group(2)))))
    return found


def by_rel(links: list[tuple[str, dict]]) -> dict[str, list[tuple[str, dict]]]:
    rels: dict[str, list] = {}
    for uri, params in links:
        for rel in params["rel"].split():
            rels.setdefault(rel, []).append((uri, params))
    return rels


# Pure parts --------------------------------------------------------------------


@pytest.mark.parametrize("path, query, expected", [
    pytest.param("https://example.org//a//b", "x=1&y=2", ODD, id="double-slashes-and-ampersand"),
    pytest.param("https://example.org//a//b", "y=2&x=1", ODD, id="query-normalised"),
    pytest.param("https://example.org//a//b", "x=1&y=2%23frag", ODD, id="encoded-fragment-after-query"),
    pytest.param("https://example.org/search", "q=C%23", HASHED, id="encoded-hash-in-a-value"),
    pytest.param("https:/example.org//a//b", "x=1&y=2", ODD, id="proxy-merged-scheme-slashes"),
    pytest.param("https%3A%2F%2Fexample.org%2F%2Fa%2F%2Fb%3Fx%3D1%26y%3D2", "", ODD, id="fully-encoded"),
    pytest.param("https://example.org/page%23top", "", "https://example.org/page", id="encoded-fragment-in-path"),
])
def test_original_candidates(path, query, expected):
    assert expected in memento.original_candidates(path, query)


@pytest.mark.parametrize("value, expected", [
    ("Wed, 01 Jan 2020 03:00:00 GMT", datetime(2020, 1, 1, 3, tzinfo=timezone.utc)),
    ("Wed, 01 Jan 2020 04:00:00 +0100", datetime(2020, 1, 1, 3, tzinfo=timezone.utc)),
])
def test_accept_datetime_parses(value, expected):
    assert memento.parse_accept_datetime(value) == expected


@pytest.mark.parametrize("value", ["yesterday", "2020-01-01", "", "Wed, 41 Foo 2020 03:00:00 GMT"])
def test_accept_datetime_refuses_what_is_no_http_date(value):
    with pytest.raises(ValueError):
        memento.parse_accept_datetime(value)


VERSIONS = [{"id": 1, "fetched_at": night(1), "last": night(3)}, {"id": 4, "fetched_at": night(4), "last": night(5)},
            {"id": 6, "fetched_at": night(6), "last": night(6)}]


@pytest.mark.parametrize("when, index", [
    pytest.param("2019-06-01T00:00:00Z", 0, id="before-the-first"),
    pytest.param("2020-01-02T12:00:00Z", 0, id="while-first-was-seen"),
    pytest.param("2020-01-03T14:00:00Z", 0, id="between-nearer-the-earlier"),
    pytest.param("2020-01-03T16:00:00Z", 1, id="between-nearer-the-later"),
    pytest.param("2020-01-03T15:00:00Z", 0, id="tie-goes-to-the-earlier"),
    pytest.param("2030-01-01T00:00:00Z", 2, id="after-the-last"),
])
def test_closest_version(when, index):
    assert memento.closest_version(VERSIONS, memento.archive_datetime(when), lambda v: v["last"]) == index


# The TimeMap ---------------------------------------------------------------------


def test_timemap_link_format_follows_rfc7089_section_5(archive_path, snapshots):
    response = get(archive_path, f"/-/wwc/timemap/link/{ODD}")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == "application/link-format"
    lines = response.text.rstrip("\n").split("\n")
    line_form = re.compile(r'^<[^<>\s]+>(; (rel|type|datetime|from|until)="[^"]*")+$')
    for number, line in enumerate(lines):
        last = number == len(lines) - 1
        assert line.endswith(",") != last, line  # links separated by commas, none after the last
        assert line_form.match(line.rstrip(",")), line
    links = parse_links(response.text)
    assert len(links) == len(lines)
    for uri, params in links:
        assert params["rel"].split()[-1] in ("original", "timegate", "self", "memento"), params
        for name in ("datetime", "from", "until"):
            if name in params:
                assert RFC1123.match(params[name]), params[name]
                datetime.strptime(params[name], memento.HTTP_DATE)
    rels = by_rel(links)
    assert [uri for uri, _ in rels["original"]] == [ODD]
    assert [uri for uri, _ in rels["timegate"]] == [f"http://localhost/-/wwc/timegate/{ODD}"]
    ((self_uri, self_params),) = rels["self"]
    assert self_uri == f"http://localhost/-/wwc/timemap/link/{ODD}"
    assert self_params == {"rel": "self", "type": "application/link-format",
                           "from": "Wed, 01 Jan 2020 03:00:00 GMT", "until": "Mon, 06 Jan 2020 03:00:00 GMT"}
    # One memento per version (A, B, C), each its version page, dated by its first capture.
    assert [(uri, params["datetime"]) for uri, params in rels["memento"]] == [
        (f"http://localhost/-/wwc/snapshot/{snapshots[1]}", "Wed, 01 Jan 2020 03:00:00 GMT"),
        (f"http://localhost/-/wwc/snapshot/{snapshots[4]}", "Sat, 04 Jan 2020 03:00:00 GMT"),
        (f"http://localhost/-/wwc/snapshot/{snapshots[6]}", "Mon, 06 Jan 2020 03:00:00 GMT"),
    ]
    assert rels["first"][0][0].endswith(f"/{snapshots[1]}") and rels["last"][0][0].endswith(f"/{snapshots[6]}")


def test_timemap_json(archive_path, snapshots):
    data = get(archive_path, f"/-/wwc/timemap/json/{ODD}").json()
    assert data["original_uri"] == ODD
    assert data["timegate_uri"] == f"http://localhost/-/wwc/timegate/{ODD}"
    assert data["timemap_uri"]["link_format"] == f"http://localhost/-/wwc/timemap/link/{ODD}"
    assert [(m["snapshot"], m["datetime"]) for m in data["mementos"]["list"]] == [
        (snapshots[1], night(1)), (snapshots[4], night(4)), (snapshots[6], night(6))]
    assert data["mementos"]["first"]["snapshot"] == snapshots[1]
    assert data["mementos"]["last"]["uri"] == f"http://localhost/-/wwc/snapshot/{snapshots[6]}"


@pytest.mark.parametrize("path, original", [
    pytest.param(f"/-/wwc/timemap/link/{HASHED}", HASHED, id="encoded-hash-in-query"),
    pytest.param("/-/wwc/timemap/link/https://example.org//a//b?y=2&x=1%23top", ODD, id="fragment-as-%23"),
    pytest.param(f"/-/wwc/timemap/link/{quote(ODD, safe='')}", ODD, id="fully-encoded"),
])
def test_timemap_addressed_by_the_url_as_it_is(archive_path, path, original):
    response = get(archive_path, path)
    assert response.status_code == 200, response.text
    assert by_rel(parse_links(response.text))["original"][0][0] == original


def test_timemap_of_an_unknown_url_is_404(archive_path):
    assert get(archive_path, "/-/wwc/timemap/link/https://example.org/nowhere").status_code == 404


# The TimeGate ----------------------------------------------------------------------


def test_timegate_redirects_to_the_closest_memento(archive_path, snapshots):
    gate = f"/-/wwc/timegate/{ODD}"
    latest, between, bad, unknown = fetch(
        archive_path, (gate, {}), (gate, {"Accept-Datetime": "Fri, 03 Jan 2020 23:00:00 GMT"}),
        (gate, {"Accept-Datetime": "3 days ago"}), ("/-/wwc/timegate/https://example.org/nowhere", {}))
    assert latest.status_code == 302
    assert latest.headers["location"] == f"http://localhost/-/wwc/snapshot/{snapshots[6]}"
    assert "accept-datetime" in [v.strip().lower() for v in latest.headers["vary"].split(",")]
    assert "memento-datetime" not in latest.headers
    rels = by_rel(parse_links(latest.headers["link"]))
    assert rels["original"][0][0] == ODD
    assert rels["timemap"][0] == (f"http://localhost/-/wwc/timemap/link/{ODD}",
                                  {"rel": "timemap", "type": "application/link-format"})
    assert rels["timegate"][0][0] == f"http://localhost/-/wwc/timegate/{ODD}"
    assert between.headers["location"].endswith(f"/snapshot/{snapshots[4]}")
    assert bad.status_code == 400
    assert unknown.status_code == 404


# Every memento's headers ------------------------------------------------------------


def memento_rels(response) -> dict[str, str]:
    """snapshot id -> its relations, for the mementos a response's Link header names."""
    return {uri.rsplit("/", 1)[-1]: params["rel"] for uri, params in parse_links(response.headers["link"])
            if "memento" in params["rel"].split()}


def test_memento_headers_on_version_pages_and_raw_bodies(archive_path, snapshots):
    s = {n: str(i) for n, i in snapshots.items()}
    first, middle, last, same_version, failed, raw = fetch(archive_path, *[(path, {}) for path in (
        f"/-/wwc/snapshot/{s[1]}", f"/-/wwc/snapshot/{s[4]}", f"/-/wwc/snapshot/{s[6]}",
        f"/-/wwc/snapshot/{s[3]}", f"/-/wwc/snapshot/{s[2]}", f"/-/wwc/snapshot/{s[4]}/raw")])
    assert first.headers["memento-datetime"] == "Wed, 01 Jan 2020 03:00:00 GMT"
    assert memento_rels(first) == {s[1]: "first memento", s[4]: "next memento", s[6]: "last memento"}
    assert middle.headers["memento-datetime"] == "Sat, 04 Jan 2020 03:00:00 GMT"
    assert memento_rels(middle) == {s[1]: "first prev memento", s[4]: "memento", s[6]: "last next memento"}
    assert memento_rels(last) == {s[1]: "first memento", s[4]: "prev memento", s[6]: "last memento"}
    for response in (first, middle, last):
        rels = by_rel(parse_links(response.headers["link"]))
        assert rels["original"][0][0] == ODD
        assert rels["timegate"][0][0] == f"http://localhost/-/wwc/timegate/{ODD}"
        assert rels["timemap"][0][0] == f"http://localhost/-/wwc/timemap/link/{ODD}"
        for _, params in parse_links(response.headers["link"]):
            assert "datetime" not in params or RFC1123.match(params["datetime"])
    # A later span of version A (night 3, redirected) answers as version A; a failed fetch is no memento.
    assert same_version.headers["memento-datetime"] == "Wed, 01 Jan 2020 03:00:00 GMT"
    assert same_version.headers["link"] == first.headers["link"]
    assert failed.status_code == 200 and "memento-datetime" not in failed.headers
    assert raw.headers["memento-datetime"] == "Sat, 04 Jan 2020 03:00:00 GMT"
    assert raw.headers["link"] == middle.headers["link"]


def test_version_page_has_a_permalink_and_citations(archive_path, snapshots):
    page = get(archive_path, f"/-/wwc/snapshot/{snapshots[3]}").text
    permalink = f"http://localhost/-/wwc/snapshot/{snapshots[1]}"
    assert "Cite this version" in page
    assert f'<a href="{permalink}" rel="bookmark">' in page
    assert hashlib.sha256(body("A")).hexdigest() in page
    assert "Archived 1 January 2020, 03:00 UTC, by What Works Cities archive" in page
    assert "@online{example20200101v" in page and "&#34;type&#34;: &#34;webpage&#34;" in page


# A real Memento client on a real server ---------------------------------------------






def original_headers() -> requests.Response:
    """The original URL's answer, as the client would fetch it to look for a native TimeGate: none here."""
    response = requests.Response()
    response.status_code = 200
    return response


@pytest.mark.parametrize("url", [ODD, ODD + "%23section"], ids=["odd-url", "fragment-as-%23"])
def test_memento_client_finds_the_right_version(archive_path, snapshots, url):
    with serving(archive_path) as base:
        # The original's own headers are not asked for (no network): an empty response stands for them.
        client = MementoClient(timegate_uri=f"{base}/-/wwc/timegate/", check_native_timegate=False)
        for when, expected_night in ((datetime(2019, 6, 1), 1), (datetime(2020, 1, 3, 23), 4),
                                     (datetime(2031, 1, 1), 6)):
            info = client.get_memento_info(url, when, req_uri_response=original_headers())
            closest = info["mementos"]["closest"]
            assert closest["uri"] == [f"{base}/-/wwc/snapshot/{snapshots[expected_night]}"], when
            assert closest["datetime"] == datetime.strptime(night(expected_night), "%Y-%m-%dT%H:%M:%SZ")
            assert info["mementos"]["first"]["uri"] == [f"{base}/-/wwc/snapshot/{snapshots[1]}"]
            assert info["mementos"]["last"]["uri"] == [f"{base}/-/wwc/snapshot/{snapshots[6]}"]
        # The client reads a memento's headers as a memento's, and its original from them.
        page = f"{base}/-/wwc/snapshot/{snapshots[4]}"
        head = requests.head(page, timeout=5)
        assert MementoClient.is_memento(page, response=head)
        assert client.get_original_uri(page) == ODD
        hashed = client.get_memento_info(HASHED, datetime(2020, 1, 2), req_uri_response=original_headers())
        assert hashed["mementos"]["closest"]["datetime"] == datetime(2020, 1, 1, 3)


def test_memento_reads_only_through_indexes(archive_path, snapshots):
    """TimeGate, TimeMap and memento headers seek pages by URL and snapshots by page: no growing table scanned."""
    from sqlite_utils import Database
    from wwc_archive.archive import queries
    from wwc_archive.reports.datasette import memento as served

    from tests.test_query_plans import full_scans, traced

    db = Database(sqlite3.connect(archive_path))
    statements = traced(db, lambda: (
        served.find_page(db, memento.original_candidates("https://example.org//a//b", "x=1&y=2%23top")),
        queries.version_last_fetched(db, served.version_of(db, snapshots[3])["versions"][0]),
        served.citation_data(db, snapshots[4]),
    ))
    assert len(statements) >= 6
    assert {sql: full_scans(db.conn, sql) for sql in statements if full_scans(db.conn, sql)} == {}
    db.conn.close()
