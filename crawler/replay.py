"""Captures from a Wayback-compatible server: the CDX API lists them, raw replay serves them.

Works against the Internet Archive (``https://web.archive.org/cdx/search/cdx`` and
``https://web.archive.org/web``) and pywb (``{host}/{collection}/cdx`` and
``{host}/{collection}``). Every request goes through one ``requests`` session that
names the configured contact in its User-Agent, keeps to a request rate, and
retries 429 and 5xx answers and network errors with backoff, honouring
Retry-After up to ``max_retry_after``.

The server is not trusted, so every answer is read within limits:

- a whole-answer deadline (``timeout``): connecting, the headers and the body
  together, so a server that sends a byte a second is cut off
  (:class:`_Deadline` shuts the socket from a timer thread);
- a size cap on the decompressed body (``max_size`` for a capture,
  :data:`~wwc_archive.crawler.wayback.MAX_CDX_BYTES` for a CDX answer), read in
  pieces, so a gzip bomb stops at the cap;
- redirects are followed by hand, only to the replay service's own capture of
  the same page or of a page in ``scope``; any other is a failed fetch;
- a Retry-After longer than ``max_retry_after`` stops the backfill
  (:class:`ServiceBusy`) instead of sleeping for hours;
- every request is counted against the run's :class:`~wwc_archive.crawler.limits.RunBudget`.
"""

import http.client
import re
import socket
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode, urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from wwc_archive.crawler.limits import LimitReached
from wwc_archive.crawler.urls import normalize_url
from wwc_archive.crawler.wayback import (
    MAX_CDX_BYTES,
    Capture,
    CdxError,
    Skipped,
    checked_captures,
    parse_cdx_json,
    shown,
)

IA_REPLAY = "https://web.archive.org/web"

#: Answers retried with backoff (Retry-After honoured up to ``max_retry_after``).
RETRY_STATUSES = (429, 500, 502, 503, 504)
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
#: Redirects followed within the replay service for one capture.
MAX_REDIRECTS = 5
#: The longest backoff between tries when the server names no time.
MAX_BACKOFF = 120.0
#: Bytes read (decompressed) at a time.
_PIECE = 64 * 1024
#: A capture's address at the replay service: ``{timestamp}{mode}/{url}``.
_REPLAYED = re.compile(r"(\d{1,14})(?:[a-z]{2}_)?/(.+)", re.ASCII | re.DOTALL)


class ReplayError(Exception):
    """A capture could not be read from the replay server (a one-line reason)."""


class ServiceBusy(Exception):
    """The server asks to wait longer than ``max_retry_after``: the backfill stops (a one-line reason)."""


class AnswerError(Exception):
    """An answer that cannot be read within its limits (too large, undecodable); not retried."""


class TooLarge(AnswerError):
    """A body larger than its cap, after decompression."""


class _Transient(Exception):
    """A network error or a missed deadline: the request is tried again."""


@dataclass(frozen=True)
class Fetched:
    """One capture's answer as it was recorded: status line, header pairs and decoded body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    protocol: str = "HTTP/1.1"

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key.lower() == name), None)


class RateLimiter:
    """At most ``per_second`` calls a second, spaced evenly (thread-safe)."""

    def __init__(self, per_second: float, clock=time.monotonic, sleep=time.sleep):
        self.interval = 1.0 / per_second
        self._next = 0.0
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            self._sleep(delay)


def read_capped(response: urllib3.BaseHTTPResponse, max_size: int, limit: str | None = None) -> bytes:
    """The decoded body of ``response``, read in pieces; :class:`AnswerError` once it passes ``max_size``.

    ``limit`` names the cap in the error (default: ``[crawl] max_size``).

    urllib3 decompresses at most a piece at a time, so a gzip or brotli bomb
    costs ``max_size`` and a piece, never its full size.
    """
    body = bytearray()
    while True:
        try:
            piece = response.read(_PIECE, decode_content=True)
        except urllib3.exceptions.DecodeError:
            encoding = response.headers.get("content-encoding")
            raise AnswerError(f"its body does not decode as its Content-Encoding says "
                              f"({shown(encoding, 40)})") from None
        if not piece:
            return bytes(body)
        body += piece
        if len(body) > max_size:
            raise TooLarge(f"its body is larger than {limit or 'max_size'} ({max_size:,} bytes after decompression)")


# The whole-answer deadline ---------------------------------------------------------

_deadline: ContextVar["_Deadline | None"] = ContextVar("answer_deadline", default=None)


class _Deadline:
    """Shuts the sockets of one answer when its time is up, so no slow read can outlast it."""

    def __init__(self, seconds: float):
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self):
        self._token = _deadline.set(self)
        self._timer.start()
        return self

    def __exit__(self, *exc):
        self._timer.cancel()
        _deadline.reset(self._token)

    def watch(self, sock) -> None:
        with self._lock:
            if sock is None or any(known is sock for known in self._sockets):
                return
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock) -> None:
    """Wake a read blocked on ``sock`` in another thread (the plain socket call also works on TLS sockets)."""
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


def _watch(sock) -> None:
    deadline = _deadline.get()
    if deadline is not None:
        deadline.watch(sock)


class _Watched:
    """A connection whose sockets the current answer's deadline may shut."""

    def _new_conn(self):
        sock = super()._new_conn()
        _watch(sock)
        return sock

    def connect(self):
        super().connect()
        _watch(self.sock)

    def request(self, *args, **kwargs):
        _watch(self.sock)  # a kept-alive connection
        return super().request(*args, **kwargs)


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _DeadlineAdapter(HTTPAdapter):
    """requests' adapter with connections an answer's deadline can cut (no retries: the source retries)."""

    _POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._POOLS

    def proxy_manager_for(self, *args, **kwargs):
        manager = super().proxy_manager_for(*args, **kwargs)
        manager.pool_classes_by_scheme = self._POOLS
        return manager


def polite_session(user_agent: str) -> requests.Session:
    """A session that names ``user_agent``, follows no redirect by itself and whose answers a deadline can cut."""
    session = requests.Session()
    session.headers["User-Agent"] = user_agent
    adapter = _DeadlineAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


@dataclass(frozen=True)
class _Answer:
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    protocol: str

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key.lower() == name), None)


# The source ------------------------------------------------------------------------


class WaybackSource:
    """The captures a Wayback-compatible server holds, and their raw bytes, read within limits.

    ``scope`` says which pages' captures a redirect may lead to (besides the
    page's own); ``budget`` counts every request; ``echo`` hears a line before
    each wait for a retry.
    """

    kind = "wayback"

    def __init__(self, cdx_api: str, replay: str, user_agent: str, requests_per_second: float = 0.5,
                 retries: int = 5, timeout: float = 60, backoff: float = 2.0, max_size: int = 10 * 1024 * 1024,
                 max_retry_after: float = 300, scope=None, budget=None, echo=None, sleep=time.sleep):
        self.cdx_api = cdx_api
        self.replay = replay.rstrip("/")
        self.retries, self.timeout, self.backoff = retries, timeout, backoff
        self.max_size, self.max_retry_after = max_size, max_retry_after
        self.scope = scope or (lambda url: False)
        self.budget = budget
        self.echo = echo or (lambda line: None)
        self._sleep = sleep
        self.session = polite_session(user_agent)
        self.limiter = RateLimiter(requests_per_second, sleep=sleep)
        #: Requests sent (retries and redirects included).
        self.requests = 0
        #: CDX rows that cannot be captures of the URL asked for.
        self.skipped_rows = Skipped()

    def close(self) -> None:
        self.session.close()

    def captures(self, url: str, since: date | None = None, until: date | None = None) -> list[Capture]:
        """The captures of ``url`` from ``since`` to ``until`` (whole days), oldest first; bad rows skipped."""
        params = {"url": url, "output": "json"}
        if since:
            params["from"] = since.strftime("%Y%m%d")
        if until:
            params["to"] = until.strftime("%Y%m%d")
        try:
            answer = self._answer(f"{self.cdx_api}?{urlencode(params)}", MAX_CDX_BYTES,
                                  f"{MAX_CDX_BYTES // 2**20} MB, the most a CDX answer may hold")
        except AnswerError as error:
            raise CdxError(f"the CDX answer of {self.cdx_api} for {url}: {error}") from None
        except _Transient as error:
            raise CdxError(f"cannot reach {self.cdx_api}: {error}") from None
        if answer.status == 404:  # pywb: no capture of this URL
            return []
        if answer.status != 200:
            raise CdxError(f"{self.cdx_api} answered {answer.status} {shown(answer.reason, 40)}")
        return checked_captures(parse_cdx_json(answer.body.decode("utf-8", "replace")), url, self.skipped_rows)

    def memento_url(self, capture: Capture) -> str:
        """The address a researcher cites: the capture as the archive replays it."""
        return f"{self.replay}/{capture.timestamp}/{capture.url}"

    def fetch(self, capture: Capture) -> Fetched:
        """The capture's recorded answer, raw (``id_``: the archive's own markup and headers left out)."""
        address = f"{self.replay}/{capture.timestamp}id_/{capture.url}"
        for _ in range(MAX_REDIRECTS + 1):
            try:
                answer = self._answer(address, self.max_size)
            except AnswerError as error:
                raise ReplayError(f"{address}: {error}") from None
            except _Transient as error:
                raise ReplayError(f"cannot fetch {address}: {error}") from None
            if answer.status == 429 or answer.status >= 500 and capture.status in (None, 200):
                raise ReplayError(f"{address} answered {answer.status} {shown(answer.reason, 40)} after retries")
            location = answer.header("location") if answer.status in REDIRECT_STATUSES else None
            if location is None:
                headers = tuple((name, value) for name, value in answer.headers
                                if name.lower() not in ("content-encoding", "transfer-encoding", "content-length"))
                return Fetched(answer.status, headers, answer.body, answer.protocol)
            target = self._own_capture(urljoin(address, location), capture.url)
            if target is None:
                raise ReplayError(f"{address} redirected to {shown(location)}, not the replay service's capture "
                                  "of this page or another of the archive's pages: not followed")
            address = target
        raise ReplayError(f"{address}: more than {MAX_REDIRECTS} redirects")

    def _own_capture(self, location: str, page: str) -> str | None:
        """The raw address to follow a redirect to, if it is this service's capture of ``page`` or a page in scope."""
        parts, replay = urlsplit(location), urlsplit(self.replay + "/")
        if (parts.scheme, parts.netloc.lower()) != (replay.scheme, replay.netloc.lower()) \
                or not location.startswith(f"{parts.scheme}://{parts.netloc}{replay.path}"):
            return None
        match = _REPLAYED.fullmatch(location[len(f"{parts.scheme}://{parts.netloc}{replay.path}"):])
        if match is None:
            return None
        timestamp, url = match.groups()
        url = normalize_url(url)
        if url is None or (url != normalize_url(page) and not self.scope(url)):
            return None
        return f"{self.replay}/{timestamp}id_/{url}"

    # One answer, tried again as the server asks ---------------------------------------

    def _answer(self, url: str, max_size: int, limit: str | None = None) -> _Answer:
        """A GET read whole within the deadline and ``max_size``; 429/5xx and network errors tried again."""
        for attempt in range(self.retries + 1):
            if self.budget is not None:
                self.budget.spend()
            self.limiter.wait()
            self.requests += 1
            try:
                answer = self._once(url, max_size, limit)
            except _Transient as error:
                if attempt == self.retries:
                    raise
                self._wait(min(self.backoff * 2 ** attempt, MAX_BACKOFF), url, str(error))
                continue
            if answer.status not in RETRY_STATUSES or attempt == self.retries:
                return answer
            asked = _retry_after(answer.header("retry-after"))
            if asked is not None and asked > self.max_retry_after:
                raise ServiceBusy(f"{urlsplit(url).netloc} answered {answer.status} and asks to wait {asked:,.0f} s "
                                  f"(Retry-After), more than [backfill] max_retry_after ({self.max_retry_after:g} s); "
                                  "run the same command again later to go on")
            why = f"it answered {answer.status}" + (f" (Retry-After: {asked:g} s)" if asked is not None else "")
            self._wait(asked if asked is not None else min(self.backoff * 2 ** attempt, MAX_BACKOFF), url, why)
        raise AssertionError("unreachable")

    def _wait(self, seconds: float, url: str, why: str) -> None:
        remaining = self.budget.remaining() if self.budget is not None else None
        if remaining is not None and seconds >= remaining:
            raise LimitReached("max_run_seconds", int(self.budget.max_run_seconds))
        self.echo(f"Waiting {seconds:g} s before asking {urlsplit(url).netloc} again: {why}")
        self._sleep(seconds)

    def _once(self, url: str, max_size: int, limit: str | None) -> _Answer:
        """One GET, connection to last byte within ``timeout`` seconds."""
        with _Deadline(self.timeout) as deadline:
            try:
                response = self.session.get(url, timeout=self.timeout, stream=True, allow_redirects=False)
                try:
                    raw = response.raw
                    body = b"" if response.status_code in RETRY_STATUSES else read_capped(raw, max_size, limit)
                    headers = tuple(raw.headers.items())
                    protocol = {10: "HTTP/1.0", 11: "HTTP/1.1"}.get(raw.version, "HTTP/1.1")
                finally:
                    response.close()
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                    urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as error:
                if deadline.expired:
                    raise _Transient(f"no whole answer within {self.timeout:g} s ([backfill] timeout)") from None
                raise _Transient(_first_line(error)) from None
            except requests.RequestException as error:
                raise AnswerError(_first_line(error)) from None
        if deadline.expired:
            raise _Transient(f"no whole answer within {self.timeout:g} s ([backfill] timeout)")
        return _Answer(response.status_code, response.reason or "", headers, body, protocol)


def _retry_after(value: str | None) -> float | None:
    """Seconds a Retry-After header asks for (a number or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _first_line(error: Exception) -> str:
    text = str(error)
    return text.splitlines()[0] if text else type(error).__name__
