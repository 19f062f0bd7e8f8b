"""WARC/WACZ export: checked by warcio and wacz, replayed by pywb, from real crawls of the demo site."""

import gzip
import json
import sqlite3
import subprocess
import sys
import time
import zlib
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlite_utils import Database
from warcio.archiveiterator import ArchiveIterator
from wwc_archive.archive import Archive, Extracted, FetchRecord, queries
from wwc_archive.archive.formats import texts
from wwc_archive.archive.formats.fingerprint import normalized, unpack_fingerprint
from wwc_archive.archive.migrations.schema import migrations
from wwc_archive.crawler.extract import extract_page
from wwc_archive.reports.warc import (
    IDENTICAL_PROFILE,
    NOT_MODIFIED_PROFILE,
    SAME_CONTENT_PROFILE,
)

from tests.conftest import FAST, run_cli
from tests.helpers import pywb_serving, write_run_to
from wwc_archive.cli import cli
from wwc_archive.config import programs_for_start_urls
from wwc_archive.demo_site import DemoServer, DemoSite

BIN = Path(sys.executable).parent


def tool(name, *args, cwd=None):
    return subprocess.run([str(BIN / name), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120)


def invoke(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


def warc_records(path):
    """Every record of a WARC file as (WARC headers dict, HTTP status or None, payload bytes)."""
    with open(path, "rb") as stream:
        return [(dict(r.rec_headers.headers), r.http_headers.get_statuscode() if r.http_headers else None,
                 r.content_stream().read()) for r in ArchiveIterator(stream)]


def next_second():
    """Wait for the clock's next second, so consecutive crawls get distinct WARC timestamps."""
    time.sleep(1 - time.time() % 1 + 0.01)


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    """Three nightly crawls of the demo site: unchanged, then one article edited and one removed."""
    folder = tmp_path_factory.mktemp("nights")
    path = str(folder / "archive.db")
    site = DemoSite(n_articles=8, per_page=3, seed=11)
    with DemoServer(site) as server:
        start = server.url + site.hub_path
        for night in range(3):
            if night == 2:
                edited = site.articles[1]
                site.edit_article(edited.slug, " ".join(edited.paragraphs[0].split()[2:5]),
                                  "relaunched its zebra-striped open-data portal")
                site.unpublish(site.articles[3].slug)
            next_second()
            run_cli("crawl", "--db", path, "--start-url", start, *FAST, check=True)
        urls = {"edited": server.url + site.article_path(site.articles[1]),
                "removed": server.url + site.article_path(site.articles[3]),
                "hub": start}
    result = run_cli("export-warc", "--db", path, "--all", "--output", folder / "wwc", check=True)
    return {"db": path, "warc": folder / "wwc.warc.gz", "wacz": folder / "wwc.wacz", "urls": urls,
            "stdout": result.stdout, "start": start}


def snapshots(db, url):
    """Every fetch of a page, oldest first, with the text it read (a span's fetches one by one)."""
    with closing(sqlite3.connect(db)) as conn:
        archive_db = Database(conn)
        (page_id,) = conn.execute("select id from pages where url = ?", [url]).fetchone()
        return [{"id": fetch["id"], "run_id": fetch["run_id"], "fetched_at": fetch["fetched_at"],
                 "outcome": fetch["outcome"], "text": texts.content_text(conn, fetch["content_id"])}
                for fetch in queries.fetches(archive_db, page_id=page_id)]


def by_url(records):
    found = {}
    for headers, status, _ in records:
        if headers["WARC-Type"] in ("response", "revisit"):
            found.setdefault(headers["WARC-Target-URI"], []).append(
                (headers["WWC-Archive-Run"], headers["WARC-Type"], headers.get("WARC-Profile"), status))
    return found


def test_warcio_check_passes_every_digest(nights):
    result = tool("warcio", "check", "-v", nights["warc"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "digest pass" in result.stdout and "fail" not in result.stdout


def test_warcio_index_lists_responses_then_revisits_and_the_edit(nights):
    result = tool("warcio", "index", "-f",
                  "warc-type,warc-target-uri,warc-profile,warc-refers-to-date,wwc-archive-requisite", nights["warc"])
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows[0]["warc-type"] == "warcinfo"

    def kinds(url):
        return [(row["warc-type"], row.get("warc-profile")) for row in rows
                if row.get("warc-target-uri") == url and row["warc-type"] != "request"]

    # The edited article: a response, a 304 revisit, then the edit's new response.
    assert kinds(nights["urls"]["edited"]) == [("response", None), ("revisit", NOT_MODIFIED_PROFILE),
                                              ("response", None)]
    # The hub differs by per-request noise each night: its later nights are same-content revisits.
    assert kinds(nights["urls"]["hub"])[:2] == [("response", None), ("revisit", SAME_CONTENT_PROFILE)]
    # The removed article: a response each night, the last one the 404.
    assert [kind for kind, _ in kinds(nights["urls"]["removed"])] == ["response", "revisit", "response"]
    # Every fetch has its request; identical-payload is never claimed for noisy pages.
    assert sum(row["warc-type"] == "request" for row in rows) == sum(
        row["warc-type"] in ("response", "revisit") for row in rows)
    assert not any(row.get("warc-profile") == IDENTICAL_PROFILE for row in rows if not row.get("wwc-archive-requisite"))


def test_records_carry_status_headers_and_point_to_their_originals(nights):
    records = warc_records(nights["warc"])
    responses = {h["WARC-Record-ID"]: h for h, _, _ in records if h["WARC-Type"] == "response"}
    for headers, _, _ in records:
        if headers["WARC-Type"] == "revisit":
            original = responses[headers["WARC-Refers-To"]]
            assert headers["WARC-Refers-To-Date"] == original["WARC-Date"]
            assert headers["WARC-Refers-To-Target-URI"] == original["WARC-Target-URI"]
            # no noisy or 304 fetch claims the earlier bytes (a requisite's revisit is of identical bytes)
            assert "WARC-Payload-Digest" not in headers or headers.get("WWC-Archive-Requisite")
    statuses = {run: status for run, kind, _, status in by_url(records)[nights["urls"]["removed"]]}
    assert statuses["3"] == "404"
    with closing(sqlite3.connect(nights["db"])) as conn:  # each version's fingerprint, as text
        stored = {unpack_fingerprint(value) for (value,) in conn.execute("select fingerprint from contents")}
    sent = {h["WWC-Archive-Content-Fingerprint"] for h, _, _ in records if "WWC-Archive-Content-Fingerprint" in h}
    assert len(sent) > 10 and sent <= stored and all(f.startswith(("html:", "bytes:")) for f in sent)
    info = records[0][2].decode()
    assert "selection: all runs (run ids 1, 2, 3)" in info
    assert SAME_CONTENT_PROFILE in info and "noise rules" in info


def test_wacz_validates_and_lists_the_html_pages_each_night(nights):
    result = tool("wacz", "validate", "-f", nights["wacz"])
    assert result.returncode == 0 and "is valid" in result.stdout, result.stdout
    import zipfile

    with zipfile.ZipFile(nights["wacz"]) as wacz:
        names = wacz.namelist()
        pages = [json.loads(line) for line in wacz.read("pages/pages.jsonl").splitlines()]
    assert "archive/wwc.warc.gz" in names and "indexes/index.cdx.gz" in names
    entries = {(page["url"], page["ts"]) for page in pages[1:]}
    for snapshot in snapshots(nights["db"], nights["urls"]["edited"]):
        assert (nights["urls"]["edited"], snapshot["fetched_at"]) in entries
    assert not any("?page=" in url for url, _ in entries)  # "Show more" pages are not pages
    assert any(page["title"] and page["title"] != page["url"] for page in pages[1:])


@pytest.fixture(scope="module")
def pywb(nights, tmp_path_factory):
    """pywb's ``wayback`` serving a collection holding the export, on a free loopback port."""
    root = tmp_path_factory.mktemp("pywb")
    with pywb_serving(root, "wwc", nights["warc"]) as base:
        yield base


def replayed_text(pywb, url, snapshot):
    timestamp = snapshot["fetched_at"].replace("-", "").replace(":", "").replace("T", "").rstrip("Z")
    response = httpx.get(f"{pywb}/wwc/{timestamp}id_/{url}", timeout=10)
    assert response.status_code == 200
    memento = response.headers["Memento-Datetime"]
    noise = programs_for_start_urls([url])[0].profile
    return memento, normalized(extract_page(response.text, url, noise).extracted).text


@pytest.mark.parametrize("night", [2, 3])
def test_pywb_replays_the_edited_page_as_it_was_that_night(nights, pywb, night):
    url = nights["urls"]["edited"]
    snapshot = snapshots(nights["db"], url)[night - 1]
    memento, text = replayed_text(pywb, url, snapshot)
    assert text == snapshot["text"]
    assert ("zebra-striped" in text) == (night == 3)
    # The night before the edit is a 304 revisit: pywb serves it at its own date, with the earlier body.
    assert memento == time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.strptime(snapshot["fetched_at"],
                                                                              "%Y-%m-%dT%H:%M:%SZ"))


def test_pywb_replays_a_same_content_revisit_with_that_nights_text(nights, pywb):
    with closing(sqlite3.connect(nights["db"])) as conn:
        fetched = queries.fetches(Database(conn), run_ids=[2], select=queries.FETCH_COLUMNS + ", p.url, p.role",
                                  joins="join pages p on p.id = s.page_id")
    url = min(f["url"] for f in fetched if f["body_exact"] == 0 and f["role"] == "page")
    snapshot = snapshots(nights["db"], url)[1]
    _, text = replayed_text(pywb, url, snapshot)
    assert text == snapshot["text"]


def test_the_cdx_client_lists_pywbs_captures_of_a_page_each_night(nights, pywb):
    from tests.helpers import list_captures

    url = nights["urls"]["edited"]
    captures = list_captures(f"{pywb}/wwc/cdx", url)
    assert [c.fetched_at for c in captures] == [s["fetched_at"] for s in snapshots(nights["db"], url)]
    assert [c.mimetype for c in captures] == ["text/html", "warc/revisit", "text/html"]


def test_one_run_includes_the_earlier_responses_its_revisits_need(nights, tmp_path):
    result = invoke("export-warc", "--db", nights["db"], "--run", "2", "-o", tmp_path / "night2.wacz")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "night2.warc.gz").exists() and (tmp_path / "night2.wacz").exists()
    records = warc_records(tmp_path / "night2.warc.gz")
    ids = {h["WARC-Record-ID"] for h, _, _ in records}
    runs = {h["WWC-Archive-Run"] for h, _, _ in records if h["WARC-Type"] == "response"}
    assert runs == {"1"}  # night 2 changed nothing: its bodies are night 1's responses
    assert all(h["WARC-Refers-To"] in ids for h, _, _ in records if h["WARC-Type"] == "revisit")
    assert tool("warcio", "check", tmp_path / "night2.warc.gz").returncode == 0


# The writer's side: identical bytes, noise, and encodings ------------------------------------

URL = "https://example.org/news/article/a-1"


def fetch(body, fetched_at, headers=(("Content-Type", "text/html"),)):
    return FetchRecord(
        url=URL, program="wwc", role="page", fetched_at=fetched_at, outcome="ok", http_status=200,
        headers={"content-type": "text/html"}, body=body, content_type="text/html",
        extracted=Extracted(title="A", text="Tulsa launched its portal."), protocol="HTTP/1.1",
        response_headers=headers, request_method="GET", request_headers=(("Accept", "text/html"),))


def write_runs(path, *records):
    """One run per record."""
    for record in records:
        write_run_to(path, record)


def test_identical_bytes_are_an_identical_payload_revisit_and_noise_is_not(tmp_path):
    page = b"<html><p>Tulsa launched its portal.</p><!-- token 1 --></html>"
    gzipped = (("Content-Type", "text/html"), ("Content-Encoding", "gzip"), ("Content-Length", "52"))
    write_runs(tmp_path / "a.db", fetch(page, "2026-11-01T03:00:00Z", gzipped),
               fetch(page, "2026-11-02T03:00:00Z"), fetch(page.replace(b"1", b"2"), "2026-11-03T03:00:00Z"))
    assert invoke("export-warc", "--db", tmp_path / "a.db", "--all", "-o", tmp_path / "x").exit_code == 0
    assert tool("warcio", "check", tmp_path / "x.warc.gz").returncode == 0
    records = [r for r in warc_records(tmp_path / "x.warc.gz") if r[0]["WARC-Type"] != "request"]
    (response, _, payload), (same, _, _), (noisy, _, _) = records[1:]
    assert same["WARC-Profile"] == IDENTICAL_PROFILE
    assert same["WARC-Payload-Digest"] == response["WARC-Payload-Digest"]
    assert noisy["WARC-Profile"] == SAME_CONTENT_PROFILE and "WARC-Payload-Digest" not in noisy
    with gzip.open(tmp_path / "x.warc.gz") as stream:
        raw = stream.read()
    assert b"X-Archive-Orig-Content-Encoding: gzip" in raw and b"\r\nContent-Encoding" not in raw
    assert f"Content-Length: {len(page)}\r\n".encode() in raw and payload == page


def test_an_archive_from_before_m003_upgrades_and_exports_what_it_has(nights, tmp_path):
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as conn:
        from sqlite_utils import Database

        migrations.apply(Database(conn), stop_before="m003_fetch_headers")
        conn.execute("attach ? as src", [nights["db"]])
        tables = [name for (name,) in conn.execute(
            "select name from sqlite_master where type = 'table' and name not like 'contents_fts%' "
            "and name not like '\\_%' escape '\\' and sql not like 'create virtual%'")]
        counts = {}
        source = Database(sqlite3.connect(nights["db"]))
        for table in tables:
            columns = [row[1] for row in conn.execute(f"pragma table_info({table})")]
            if table == "snapshots":  # one row per fetch, as archives before m007 held them (ids keep page order)
                for fetch in queries.fetches(source):
                    row = {**fetch, "id": fetch["id"] * 1000 + fetch["repeat"]}
                    conn.execute(f"insert into snapshots ({', '.join(columns)}) values ({', '.join('?' * len(columns))})",
                                 [row[name] for name in columns])
            else:
                conn.execute(f"insert into {table} ({', '.join(columns)}) select {', '.join(columns)} from src.{table}")
            counts[table] = conn.execute(f"select count(*) from {table}").fetchone()[0]
        conn.execute("update changes set old_snapshot = old_snapshot * 1000, new_snapshot = new_snapshot * 1000")
        conn.execute("update pages set last_snapshot = last_snapshot * 1000, last_good_snapshot = last_good_snapshot * 1000")
        # bodies as archives before m006 held them: whole, zlib
        for (body_id,) in conn.execute("select id from bodies").fetchall():
            conn.execute("update bodies set compression = 'zlib', data = ? where id = ?",
                         [zlib.compress(queries.body_bytes(source, body_id)), body_id])
        conn.commit()
        conn.execute("detach src")
    assert "body_exact" not in {row[1] for row in sqlite3.connect(old).execute("pragma table_info(snapshots)")}
    refused = invoke("export-warc", "--db", old, "--all", "-o", tmp_path / "old")  # a reader never upgrades
    assert refused.exit_code == 2 and "wwc-archive upgrade" in refused.output
    assert invoke("upgrade", "--db", old).exit_code == 0
    result = invoke("export-warc", "--db", old, "--all", "-o", tmp_path / "old")
    assert result.exit_code == 0, result.output
    with sqlite3.connect(old) as conn:
        after = {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}
        after["snapshots"] = len(queries.fetches(Database(conn)))  # folded into spans: every fetch still there
        assert after == counts
        assert "body_exact" in {row[1] for row in conn.execute("pragma table_info(snapshots)")}
    assert tool("warcio", "check", tmp_path / "old.warc.gz").returncode == 0
    records = warc_records(tmp_path / "old.warc.gz")
    kinds = {h["WARC-Type"] for h, _, _ in records}
    assert "request" not in kinds  # the old archive never kept request headers
    responses = [h for h, _, _ in records if h["WARC-Type"] == "response"]
    assert responses and all(h["WWC-Archive-Headers"].startswith("partial") for h in responses)
    assert not any(h.get("WARC-Profile") == IDENTICAL_PROFILE for h, _, _ in records)
    assert "predate the archive keeping full headers" in records[0][2].decode()


# Bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    ((), "choose exactly one of --run ID, --since DATE or --all"),
    (("--all", "--run", "1"), "choose exactly one"),
    (("--since", "last tuesday"), "--since expects a date like 2026-05-01"),
    (("--since", "2999-01-01"), "no runs started since 2999-01-01"),
    (("--run", "99"), "no run with id 99"),
])
def test_bad_selections_are_one_line_errors(nights, tmp_path, args, message):
    result = invoke("export-warc", "--db", nights["db"], *args, "-o", tmp_path / "x")
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_an_archive_without_runs_is_a_one_line_error(tmp_path):
    Archive(tmp_path / "empty.db").close()
    result = invoke("export-warc", "--db", tmp_path / "empty.db", "--all", "-o", tmp_path / "x")
    assert result.exit_code == 2 and "the archive has no runs yet" in result.output


def test_a_missing_folder_is_a_one_line_error(nights, tmp_path):
    result = invoke("export-warc", "--db", nights["db"], "--all", "-o", tmp_path / "nowhere" / "x")
    assert result.exit_code == 2 and "no folder" in result.output
