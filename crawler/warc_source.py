"""Captures held in WARC files made by any crawler (Browsertrix, Heritrix, wget, our export).

The files are indexed once with warcio: each ``response`` record is a capture,
and each ``revisit`` a capture of the response it refers to (by record id, else
by target URI and date, else by payload digest). A record's bytes are read
again from its offset when the backfill asks for them. Records no one asks for
are the ones an import skips.

A WARC file is not trusted: it may be cut short, lie about its lengths, hold
decompression bombs or point a revisit at another site's record. So:

- a record whose bytes end before its ``Content-Length`` (a file cut short), or
  run past it, is skipped; so is one with a malformed ``WARC-Date`` or HTTP status;
- a payload of a page in scope is decoded (chunked, gzip, deflate, brotli, zstd)
  in pieces up to ``max_size`` when it is indexed: one larger, or one that does
  not decode, is skipped;
- a revisit resolves only to a response of the same page or of a page in scope;
- a header line longer than :data:`MAX_LINE` refuses the file (it is not a WARC);
- every record read for the walk counts against the run's budget.

Each skipped record is counted by reason (:attr:`WarcSource.damaged`), for one
line at the end of the import.
"""

import io
from collections import defaultdict
from contextlib import redirect_stderr
from dataclasses import dataclass
from datetime import date

import urllib3
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import ChunkedDataReader, DecompressingBufferedReader
from warcio.limitreader import LimitReader
from warcio.utils import BUFF_SIZE

from wwc_archive.crawler.limits import LimitReached
from wwc_archive.crawler.replay import AnswerError, Fetched, ReplayError, TooLarge, read_capped
from wwc_archive.crawler.urls import normalize_url
from wwc_archive.crawler.wayback import Capture, Skipped, shown, warc_timestamp

#: The longest WARC or HTTP header line read: a longer one is not a header, and
#: reading on would hold a whole decompressed stream in memory.
MAX_LINE = 1024 * 1024
#: Room for the HTTP headers and chunk sizes around a payload of ``max_size``.
_HEAD_ROOM = 1024 * 1024


class WarcError(Exception):
    """A WARC file could not be read (a one-line reason)."""


class _LineCapped(DecompressingBufferedReader):
    """warcio's reader of a (gzipped) WARC file, with header lines no longer than :data:`MAX_LINE`."""

    def readline(self, length=None):
        limit = MAX_LINE + 1 if length is None else min(length, MAX_LINE + 1)
        parts, size = [], 0
        while size < limit:  # warcio's own readline may stop short of its length at a buffer's end
            part = super().readline(limit - size)
            if not part:
                break
            parts.append(part)
            size += len(part)
            if part.endswith(b"\n"):
                break
        line = b"".join(parts)
        if len(line) > MAX_LINE:
            raise WarcError(f"a line longer than {MAX_LINE:,} bytes where a header was expected")
        return line


def _records(stream) -> ArchiveIterator:
    records = ArchiveIterator(stream)
    records.reader = _LineCapped(records.fh, block_size=BUFF_SIZE)
    return records


class _Discard(io.TextIOBase):
    """Where warcio's multi-line warnings go: what they report is counted instead."""

    def write(self, text):
        return len(text)


class _Unclosed:
    """A payload stream urllib3 decodes without closing the WARC file under it."""

    def __init__(self, stream):
        self.stream = stream

    def read(self, amt=None):
        return self.stream.read(amt)

    def close(self):
        pass


def read_payload(record, max_size: int) -> bytes:
    """A response record's HTTP payload, de-chunked and decoded, in pieces; :class:`AnswerError` past ``max_size``."""
    if record.length is not None and record.length > max_size + _HEAD_ROOM:
        raise TooLarge(f"its body is larger than max_size ({max_size:,} bytes after decompression)")
    head = record.http_headers
    stream = record.raw_stream
    if (head.get_header("Transfer-Encoding") or "").strip().lower() == "chunked":
        stream = ChunkedDataReader(stream)
    encoding = head.get_header("Content-Encoding")
    payload = urllib3.HTTPResponse(body=_Unclosed(stream), headers={"Content-Encoding": encoding} if encoding else {},
                                   preload_content=False, decode_content=True)
    return read_capped(payload, max_size)


@dataclass(frozen=True)
class _Original:
    """A response record a capture reads (its own, or the one a revisit refers to)."""

    url: str
    offset: int
    status: int
    digest: str | None
    mime: str | None


class WarcSource:
    """The captures in some WARC files, looked up like a CDX API.

    ``scope`` says which pages are the archive's: their payloads are checked
    when indexed, and a revisit may resolve to them. ``budget`` counts every
    record read for the walk and bounds the indexing time.
    """

    kind = "warc"

    def __init__(self, paths, scope=None, max_size: int = 10 * 1024 * 1024, budget=None):
        self.scope = scope
        self.max_size = max_size
        self.budget = budget
        self._by_url: dict[str, list[Capture]] = defaultdict(list)
        self._where: dict[tuple[str, str], tuple[str, int]] = {}  # (url, timestamp) -> (file, offset of response)
        self.records = 0
        self.requests = 0
        #: Records left out because they are damaged or unsafe, by reason.
        self.damaged = Skipped()
        self._asked: set[str] = set()
        for path in paths:
            self._index(str(path))
        for captures in self._by_url.values():
            captures.sort(key=lambda capture: capture.timestamp)

    def _in_scope(self, url: str) -> bool:
        return self.scope is None or self.scope(url)

    def _index(self, path: str) -> None:
        by_id, by_uri_date, by_digest = {}, {}, defaultdict(list)
        try:
            with open(path, "rb") as stream, redirect_stderr(_Discard()):
                records = _records(stream)
                for record in records:
                    if self.budget is not None:
                        self.budget.check_time()
                    kind = record.rec_type
                    if kind not in ("response", "revisit"):
                        continue
                    headers = record.rec_headers
                    uri = headers.get_header("WARC-Target-URI") or ""
                    warc_date = headers.get_header("WARC-Date") or ""
                    digest = headers.get_header("WARC-Payload-Digest")
                    url = normalize_url(uri)
                    problem = self._problem(record, url) if url is not None else None
                    warnings = records.err_count
                    offset = records.get_record_offset()  # reads on to the record's end
                    where = f"{path} at offset {offset}"
                    if _cut_short(record) or records.err_count > warnings:
                        problem = "whose bytes disagree with their Content-Length (cut short or overlong)"
                    if url is None:
                        continue
                    timestamp = warc_timestamp(warc_date)
                    if problem is None and timestamp is None:
                        problem = "with a malformed or impossible WARC-Date"
                        where = f"{shown(warc_date, 40)} in {where}"
                    if problem is not None:
                        self.damaged.add(problem, where)
                        continue
                    if kind == "response":
                        original = _Original(url, offset, _status(record), digest, _mime(record))
                        by_id[headers.get_header("WARC-Record-ID")] = original
                        by_uri_date[(uri, warc_date)] = original
                        if digest:
                            by_digest[digest].append(original)
                    else:
                        original, offsite = self._original(url, headers, digest, by_id, by_uri_date, by_digest)
                        if offsite:
                            self.damaged.add("revisits of another site's record", where)
                            continue
                        if original is None:
                            continue  # its original is not in this file: nothing to replay
                    self.records += 1
                    capture = Capture(timestamp=timestamp, url=url, mimetype=original.mime, status=original.status,
                                      digest=digest or original.digest)
                    self._by_url[url].append(capture)
                    self._where[(url, capture.timestamp)] = (path, original.offset)
        except LimitReached:
            raise
        except OSError as error:
            raise WarcError(f"cannot read {path}: {error.strerror or error}") from None
        except WarcError as error:
            raise WarcError(f"{path} is not a readable WARC file: {error}") from None
        except Exception as error:  # warcio raises plain exceptions on damaged files
            raise WarcError(f"{path} is not a readable WARC file: {shown(_first_line(error))}") from None

    def _problem(self, record, url: str) -> str | None:
        """Why a response of a page in scope cannot be a capture (its payload read up to ``max_size``), or None."""
        if record.rec_type != "response" or not self._in_scope(url):
            return None
        if record.http_headers is None or _status(record) is None:
            return "with a malformed HTTP status line"
        try:
            read_payload(record, self.max_size)
        except TooLarge:
            return "whose body is larger than max_size"
        except AnswerError:
            return "whose body does not decode"
        return None

    def _original(self, url, headers, digest, by_id, by_uri_date, by_digest) -> tuple[_Original | None, bool]:
        """The response a revisit reads, if it is of the same page or one in scope; and whether one was refused."""
        named = (by_id.get(headers.get_header("WARC-Refers-To"))
                 or by_uri_date.get((headers.get_header("WARC-Refers-To-Target-URI"),
                                     headers.get_header("WARC-Refers-To-Date"))))
        candidates = [named] if named is not None else by_digest.get(digest, []) if digest else []
        for wanted in (lambda o: o.url == url, lambda o: self.scope is not None and self.scope(o.url)):
            found = next((original for original in candidates if wanted(original)), None)
            if found is not None:
                return found, False
        return None, bool(candidates)

    def captures(self, url: str, since: date | None = None, until: date | None = None) -> list[Capture]:
        self._asked.add(url)
        first = since.strftime("%Y%m%d") if since else ""
        last = until.strftime("%Y%m%d") + "999999" if until else "9"
        return [c for c in self._by_url.get(url, ()) if first <= c.timestamp <= last]

    def skipped(self) -> int:
        """Records of URLs the walk never asked for that are not requisites: not this archive's pages."""
        return sum(1 for capture in self._unasked() if not _is_requisite(capture))

    def skipped_requisites(self) -> int:
        """Records of stylesheets, images, fonts and scripts the walk never asked for: import reads pages only."""
        return sum(1 for capture in self._unasked() if _is_requisite(capture))

    def _unasked(self):
        return (capture for url, captures in self._by_url.items() if url not in self._asked for capture in captures)

    def memento_url(self, capture: Capture) -> None:
        return None

    def fetch(self, capture: Capture) -> Fetched:
        if self.budget is not None:
            self.budget.spend()
        self.requests += 1
        path, offset = self._where[(capture.url, capture.timestamp)]
        try:
            with open(path, "rb") as stream, redirect_stderr(_Discard()):
                stream.seek(offset)
                record = next(iter(_records(stream)), None)
                if record is None or record.http_headers is None or _status(record) is None:
                    raise ReplayError(f"{path} has no response at offset {offset}")
                body = read_payload(record, self.max_size)
                head = record.http_headers
                headers = tuple((name, value) for name, value in head.headers
                                if name.lower() not in ("content-encoding", "transfer-encoding", "content-length"))
                return Fetched(_status(record), headers, body, head.protocol or "HTTP/1.1")
        except AnswerError as error:
            raise ReplayError(f"{path} at offset {offset}: {error}") from None
        except (OSError, WarcError) as error:
            raise ReplayError(f"{path} at offset {offset} could not be read: {error}") from None

    def close(self) -> None:
        pass


def _cut_short(record) -> bool:
    """Whether a record read to its end held fewer bytes than its Content-Length (or named none)."""
    return not isinstance(record.raw_stream, LimitReader) or record.raw_stream.limit > 0


def _status(record) -> int | None:
    """A response's HTTP status, if it is a number from 100 to 599."""
    head = record.http_headers
    try:
        status = int(head.get_statuscode()) if head is not None else None
    except (TypeError, ValueError):
        return None
    return status if status is not None and 100 <= status <= 599 else None


def _mime(record) -> str | None:
    return record.http_headers.get_header("Content-Type") if record.http_headers else None


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


#: Media types of page requisites (what a page needs to render), which an import leaves out.
REQUISITE_TYPES = ("text/css", "image/", "font/", "application/font", "application/x-font", "application/javascript",
                   "text/javascript", "application/vnd.ms-fontobject")


def _is_requisite(capture: Capture) -> bool:
    return (capture.mimetype or "").lower().startswith(REQUISITE_TYPES)
