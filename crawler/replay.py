"""Captures from a Wayback-compatible server: the CDX API lists them, raw replay serves them.

Works against the Internet Archive (``https://web.archive.org/cdx/search/cdx`` and
``https://web.archive.org/web``) and pywb (``{host}/{collection}/cdx`` and
``{host}/{collection}``). Every request goes through one ``requests`` session that
names the configured contact in its User-Agent, keeps to a request rate, and
retries 429 and 5xx answers with backoff, honouring Retry-After (urllib3's Retry).
"""

import threading
import time
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from wwc_archive.crawler.wayback import Capture, CdxError, parse_cdx_json

IA_REPLAY = "https://web.archive.org/web"


class ReplayError(Exception):
    """A capture could not be read from the replay server (a one-line reason)."""


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


def polite_session(user_agent: str, retries: int = 5, backoff: float = 2.0) -> requests.Session:
    """A session that retries 429/5xx and network errors with exponential backoff and Retry-After."""
    retry = Retry(total=retries, backoff_factor=backoff, status_forcelist=(429, 500, 502, 503, 504),
                  allowed_methods=("GET",), respect_retry_after_header=True, raise_on_status=False)
    session = requests.Session()
    session.headers["User-Agent"] = user_agent
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class WaybackSource:
    """The captures a Wayback-compatible server holds, and their raw bytes."""

    kind = "wayback"

    def __init__(self, cdx_api: str, replay: str, user_agent: str, requests_per_second: float = 0.5,
                 retries: int = 5, timeout: float = 60, backoff: float = 2.0):
        self.cdx_api = cdx_api
        self.replay = replay.rstrip("/")
        self.timeout = timeout
        self.session = polite_session(user_agent, retries=retries, backoff=backoff)
        self.limiter = RateLimiter(requests_per_second)
        #: Requests sent (retries included, as urllib3 makes them inside one call).
        self.requests = 0

    def close(self) -> None:
        self.session.close()

    def _get(self, url: str, **kwargs) -> requests.Response:
        self.limiter.wait()
        self.requests += 1
        return self.session.get(url, timeout=self.timeout, **kwargs)

    def captures(self, url: str, since: date | None = None, until: date | None = None) -> list[Capture]:
        """The captures of ``url`` from ``since`` to ``until`` (whole days), oldest first."""
        params = {"url": url, "output": "json"}
        if since:
            params["from"] = since.strftime("%Y%m%d")
        if until:
            params["to"] = until.strftime("%Y%m%d")
        try:
            response = self._get(f"{self.cdx_api}?{urlencode(params)}")
        except requests.RequestException as error:
            raise CdxError(f"cannot reach {self.cdx_api}: {_reason(error)}") from None
        if response.status_code == 404:  # pywb: no capture of this URL
            return []
        if response.status_code != 200:
            raise CdxError(f"{self.cdx_api} answered {response.status_code} {response.reason}")
        return sorted(parse_cdx_json(response.text), key=lambda capture: capture.timestamp)

    def memento_url(self, capture: Capture) -> str:
        """The address a researcher cites: the capture as the archive replays it."""
        return f"{self.replay}/{capture.timestamp}/{capture.url}"

    def fetch(self, capture: Capture) -> Fetched:
        """The capture's recorded answer, raw (``id_``: the archive's own markup and headers left out)."""
        address = f"{self.replay}/{capture.timestamp}id_/{capture.url}"
        try:
            response = self._get(address)
        except requests.RequestException as error:
            raise ReplayError(f"cannot fetch {address}: {_reason(error)}") from None
        if response.status_code == 429 or response.status_code >= 500 and capture.status in (None, 200):
            raise ReplayError(f"{address} answered {response.status_code} {response.reason} after retries")
        headers = tuple((name, value) for name, value in response.raw.headers.items()
                        if name.lower() not in ("content-encoding", "transfer-encoding", "content-length"))
        return Fetched(response.status_code, headers, response.content,
                       {10: "HTTP/1.0", 11: "HTTP/1.1"}.get(response.raw.version, "HTTP/1.1"))


def _reason(error: Exception) -> str:
    text = str(error)
    return text.splitlines()[0] if text else type(error).__name__
