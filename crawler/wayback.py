"""CDX answers of Wayback-compatible servers, read and checked: the captures of a URL.

The one client that asks for them is :class:`~wwc_archive.crawler.replay.WaybackSource`.
Reads both JSON shapes of ``output=json``: the Internet Archive's (one JSON list of
rows, the first naming the fields) and pywb's (one JSON object per line).

A CDX answer comes from a server the archive does not control, so it is read
within limits (:data:`MAX_CDX_BYTES`, :data:`MAX_CDX_ROWS`) and each row is
checked before it becomes a :class:`Capture`: a timestamp that is not a real
time between 1991 and tomorrow, or a URL of another host or port than the one
asked for, is skipped and counted (:class:`Skipped`), never written.
"""

import json
import re
import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

#: The Internet Archive's CDX API.
IA_CDX = "https://web.archive.org/cdx/search/cdx"

#: The most a CDX answer may hold (after decompression), and its most rows: far
#: above a program page's captures (the Internet Archive's busiest pages have tens
#: of thousands), far below what would exhaust memory.
MAX_CDX_BYTES = 32 * 1024 * 1024
MAX_CDX_ROWS = 100_000

#: The first capture a web archive can hold: the web's first year.
FIRST_CAPTURE_YEAR = 1991

#: pywb's field names for the Internet Archive's.
_FIELDS = {"url": "original", "mime": "mimetype", "status": "statuscode"}

_WARC_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d{1,9})?Z", re.ASCII)


class CdxError(Exception):
    """The CDX API could not be asked, or its answer not read (a one-line reason)."""


@dataclass(frozen=True)
class Capture:
    timestamp: str  # 14 digits, UTC: 20260501030000
    url: str
    mimetype: str | None = None
    status: int | None = None
    digest: str | None = None
    length: int | None = None

    @property
    def fetched_at(self) -> str:
        """The capture time as the archive writes times (``2026-05-01T03:00:00Z``)."""
        t = self.timestamp.ljust(14, "0")
        return f"{t[:4]}-{t[4:6]}-{t[6:8]}T{t[8:10]}:{t[10:12]}:{t[12:14]}Z"


class Skipped:
    """Captures left out, counted by reason, with the first of each to show."""

    def __init__(self):
        self.counts: dict[str, int] = {}
        self.first: dict[str, str] = {}

    def add(self, reason: str, example: str) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1
        self.first.setdefault(reason, example)

    def __len__(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        """``2 with a malformed timestamp (first: '2024'), 1 of another host (first: ...)``."""
        return ", ".join(f"{count} {reason} (first: {self.first[reason]})" for reason, count in self.counts.items())


def shown(value, limit: int = 100) -> str:
    """A value from an untrusted answer as a message may show it: quoted, escaped, cut."""
    text = str(value)
    return repr(text[:limit] + ("..." if len(text) > limit else ""))


def checked_timestamp(value) -> str | None:
    """A CDX timestamp if it is 14 digits naming a real UTC time from 1991 to tomorrow, else None."""
    if not isinstance(value, str) or len(value) != 14 or not value.isascii() or not value.isdigit():
        return None
    try:
        when = datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    if when.year < FIRST_CAPTURE_YEAR or when > datetime.now(timezone.utc) + timedelta(days=1):
        return None
    return value


def warc_timestamp(warc_date) -> str | None:
    """A ``WARC-Date`` (``2026-05-01T03:00:00Z``, fractions allowed) as a checked CDX timestamp, else None."""
    match = _WARC_DATE.fullmatch(warc_date or "")
    return checked_timestamp("".join(match.groups())) if match else None


def same_site(url, asked: str) -> bool:
    """Whether a CDX row's URL is on the host and port of the URL asked for.

    http and https captures of one host on the default ports are the same
    page's, as in the Wayback Machine's own index (it answers a query for
    either with both); another host, another port, or another scheme on a
    port of its own is not.
    """
    if not isinstance(url, str):
        return False
    site = _site(url)
    return site is not None and site == _site(asked)


def _site(url: str) -> tuple | None:
    """``(host,)`` of an http(s) URL on its scheme's default port, else ``(host, port, scheme)``."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    if port in (None, 80 if parts.scheme == "http" else 443):
        return (parts.hostname.lower(),)
    return parts.hostname.lower(), port, parts.scheme


def capture_problem(capture: Capture, asked: str) -> str | None:
    """Why a CDX row cannot be a capture of ``asked`` (the reason :class:`Skipped` counts), or None."""
    if checked_timestamp(capture.timestamp) is None:
        return "with a malformed or impossible timestamp"
    if not same_site(capture.url, asked):
        return "naming another scheme, host or port than the URL asked for"
    if capture.status is not None and not 100 <= capture.status <= 599:
        return "with an impossible HTTP status"
    return None


def checked_captures(captures: list[Capture], asked: str, skipped: Skipped) -> list[Capture]:
    """The captures that can be ``asked``'s, oldest first; the others counted in ``skipped``."""
    if len(captures) > MAX_CDX_ROWS:
        raise CdxError(f"the CDX answer for {asked} lists more than {MAX_CDX_ROWS:,} captures")
    kept = []
    for capture in captures:
        problem = capture_problem(capture, asked)
        if problem is None:
            kept.append(capture)
        else:
            skipped.add(problem, f"{shown(capture.timestamp, 20)} {shown(capture.url)}")
    return sorted(kept, key=lambda capture: capture.timestamp)


def parse_cdx_json(text: str) -> list[Capture]:
    """Captures from either JSON shape of a CDX answer (an empty answer has none)."""
    text = text.strip()
    if not text:
        return []
    try:
        if text.startswith("["):
            rows = json.loads(text)
            if not rows:
                return []
            names, *values = rows
            records = [dict(zip(names, row)) for row in values]
        else:
            records = [json.loads(line) for line in text.splitlines() if line.strip()]
        return [_capture(record) for record in records]
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise CdxError(f"not a CDX JSON answer: {shown(error)}") from None


def _capture(record: dict) -> Capture:
    record = {_FIELDS.get(name, name): value for name, value in record.items()}
    return Capture(
        timestamp=record["timestamp"],
        url=record["original"],
        mimetype=_value(record.get("mimetype")),
        status=_number(record.get("statuscode")),
        digest=_value(record.get("digest")),
        length=_number(record.get("length")),
    )


def _value(value):
    return None if value in (None, "", "-") else value


def _number(value) -> int | None:
    value = _value(value)
    return int(value) if value is not None else None
