"""The CDX client against a local server answering in the Internet Archive's and pywb's JSON shapes."""

import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.helpers import list_captures
from wwc_archive.crawler.wayback import CdxError

URL = "https://datasmart.hks.harvard.edu/what-works-cities"
IA_ANSWER = (Path(__file__).parent / "fixtures" / "ia_cdx_what_works_cities.json").read_bytes()
PYWB_ANSWER = "\n".join(json.dumps(line) for line in [
    {"urlkey": "edu,harvard,hks,datasmart)/what-works-cities", "timestamp": "20261127030004", "url": URL,
     "mime": "text/html", "status": "200", "digest": "sha1:LTZDAWTEH5TZDLPNV6QVZ7HA3IYJH2DQ", "length": "3889",
     "offset": "13823", "filename": "wwc.warc.gz", "source": "wwc/indexes/index.cdxj", "source-coll": "wwc"},
    {"urlkey": "edu,harvard,hks,datasmart)/what-works-cities", "timestamp": "20261128030002", "url": URL,
     "mime": "warc/revisit", "length": "485", "offset": "242173", "filename": "wwc.warc.gz"},
]).encode() + b"\n"

ANSWERS = {"/cdx/search/cdx": (200, IA_ANSWER), "/wwc/cdx": (200, PYWB_ANSWER), "/empty/cdx": (200, b""),
           "/none/cdx": (404, b"No Captures found"), "/broken/cdx": (502, b"Bad Gateway"),
           "/html/cdx": (200, b"<html>maintenance</html>")}


@pytest.fixture
def cdx_server():
    queries = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            parts = urlsplit(self.path)
            queries.append(parse_qs(parts.query))
            status, body = ANSWERS.get(parts.path, (404, b""))
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", queries
    server.shutdown()
    server.server_close()


def test_internet_archive_shape(cdx_server):
    base, queries = cdx_server
    captures = list_captures(base + "/cdx/search/cdx", URL, since=date(2025, 1, 1), until=date(2025, 6, 30))
    assert queries == [{"url": [URL], "output": ["json"], "from": ["20250101"], "to": ["20250630"]}]
    assert [c.timestamp for c in captures] == ["20250114093012", "20250209221735", "20250302110544",
                                               "20250418064901", "20250527193020"]
    first, _, revisit, _, redirect = captures
    assert (first.url, first.mimetype, first.status, first.length) == (URL, "text/html", 200, 18342)
    assert first.digest == "Q5VKQ3LZ4XW6M2J7TPRDHN4YB3GEFA7C" and first.fetched_at == "2025-01-14T09:30:12Z"
    assert (revisit.mimetype, revisit.status) == ("warc/revisit", None)  # "-" is no status
    assert redirect.status == 301


def test_pywb_shape(cdx_server):
    base, _ = cdx_server
    captures = list_captures(base + "/wwc/cdx", URL)
    assert [(c.timestamp, c.url, c.mimetype, c.status) for c in captures] == [
        ("20261127030004", URL, "text/html", 200), ("20261128030002", URL, "warc/revisit", None)]
    assert captures[0].digest == "sha1:LTZDAWTEH5TZDLPNV6QVZ7HA3IYJH2DQ" and captures[1].digest is None


@pytest.mark.parametrize("path", ["/empty/cdx", "/none/cdx"])
def test_no_captures(cdx_server, path):
    base, _ = cdx_server
    assert list_captures(base + path, URL) == []


@pytest.mark.parametrize("path, message", [("/broken/cdx", "answered 502"), ("/html/cdx", "not a CDX JSON answer")])
def test_bad_answers_are_one_line_errors(cdx_server, path, message):
    base, _ = cdx_server
    with pytest.raises(CdxError, match=message):
        list_captures(base + path, URL)


def test_an_unreachable_endpoint_is_an_error():
    with pytest.raises(CdxError, match="cannot reach"):
        list_captures("http://127.0.0.1:9/cdx", URL, timeout=2)
