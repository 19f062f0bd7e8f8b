"""Captures held in WARC files made by any crawler (Browsertrix, Heritrix, wget, our export).

The files are indexed once with warcio: each ``response`` record is a capture,
and each ``revisit`` a capture of the response it refers to (by record id, else
by target URI and date, else by payload digest). A record's bytes are read
again from its offset when the backfill asks for them. Records no one asks for
are the ones an import skips.
"""

from collections import defaultdict
from datetime import date

from warcio.archiveiterator import ArchiveIterator

from wwc_archive.crawler.replay import Fetched, ReplayError
from wwc_archive.crawler.urls import normalize_url
from wwc_archive.crawler.wayback import Capture


class WarcError(Exception):
    """A WARC file could not be read (a one-line reason)."""


def _timestamp(warc_date: str) -> str:
    """``2026-05-01T03:00:00Z`` (or with fractions) as the 14 digits of a CDX timestamp."""
    digits = "".join(c for c in warc_date[:19] if c.isdigit())
    return digits.ljust(14, "0")


class WarcSource:
    """The captures in some WARC files, looked up like a CDX API."""

    kind = "warc"

    def __init__(self, paths):
        self._by_url: dict[str, list[Capture]] = defaultdict(list)
        self._where: dict[tuple[str, str], tuple[str, int]] = {}  # (url, timestamp) -> (file, offset of response)
        self.records = 0
        self.requests = 0
        self._asked: set[str] = set()
        for path in paths:
            self._index(str(path))
        for captures in self._by_url.values():
            captures.sort(key=lambda capture: capture.timestamp)

    def _index(self, path: str) -> None:
        by_id, by_uri_date, by_digest = {}, {}, {}
        try:
            with open(path, "rb") as stream:
                records = ArchiveIterator(stream)
                for record in records:
                    kind = record.rec_type
                    if kind not in ("response", "revisit"):
                        continue
                    headers = record.rec_headers
                    uri = headers.get_header("WARC-Target-URI") or ""
                    warc_date = headers.get_header("WARC-Date") or ""
                    digest = headers.get_header("WARC-Payload-Digest")
                    offset = records.get_record_offset()
                    if kind == "response":
                        status = record.http_headers.get_statuscode() if record.http_headers else None
                        mime = record.http_headers.get_header("Content-Type") if record.http_headers else None
                        found = (offset, status, digest, mime)
                        by_id[headers.get_header("WARC-Record-ID")] = found
                        by_uri_date[(uri, warc_date)] = found
                        if digest:
                            by_digest.setdefault(digest, found)
                    else:
                        found = (by_id.get(headers.get_header("WARC-Refers-To"))
                                 or by_uri_date.get((headers.get_header("WARC-Refers-To-Target-URI"),
                                                     headers.get_header("WARC-Refers-To-Date")))
                                 or by_digest.get(digest))
                        if found is None:
                            continue  # its original is not in this file: nothing to replay
                    offset, status, original_digest, mime = found
                    url = normalize_url(uri)
                    if url is None or not warc_date:
                        continue
                    self.records += 1
                    capture = Capture(timestamp=_timestamp(warc_date), url=url, mimetype=mime,
                                      status=_int(status), digest=digest or original_digest)
                    self._by_url[url].append(capture)
                    self._where[(url, capture.timestamp)] = (path, offset)
        except OSError as error:
            raise WarcError(f"cannot read {path}: {error.strerror or error}") from None
        except Exception as error:  # warcio raises plain exceptions on damaged files
            raise WarcError(f"{path} is not a readable WARC file: {error}") from None

    def captures(self, url: str, since: date | None = None, until: date | None = None) -> list[Capture]:
        self._asked.add(url)
        first = since.strftime("%Y%m%d") if since else ""
        last = until.strftime("%Y%m%d") + "999999" if until else "9"
        return [c for c in self._by_url.get(url, ()) if first <= c.timestamp <= last]

    def skipped(self) -> int:
        """Records of URLs the walk never asked for: not this archive's pages."""
        return sum(len(captures) for url, captures in self._by_url.items() if url not in self._asked)

    def memento_url(self, capture: Capture) -> None:
        return None

    def fetch(self, capture: Capture) -> Fetched:
        self.requests += 1
        path, offset = self._where[(capture.url, capture.timestamp)]
        with open(path, "rb") as stream:
            stream.seek(offset)
            record = next(iter(ArchiveIterator(stream)), None)
            if record is None or record.http_headers is None:
                raise ReplayError(f"{path} has no response at offset {offset}")
            body = record.content_stream().read()  # de-chunked and decoded
            head = record.http_headers
            headers = tuple((name, value) for name, value in head.headers
                            if name.lower() not in ("content-encoding", "transfer-encoding", "content-length"))
            return Fetched(int(head.get_statuscode() or 0), headers, body, head.protocol or "HTTP/1.1")

    def close(self) -> None:
        pass


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
