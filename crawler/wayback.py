"""A client for Wayback-compatible CDX APIs: the captures of a URL in a date range.

Reads both JSON shapes of ``output=json``: the Internet Archive's (one JSON list of
rows, the first naming the fields) and pywb's (one JSON object per line).
"""

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import date

#: The Internet Archive's CDX API.
IA_CDX = "https://web.archive.org/cdx/search/cdx"

#: pywb's field names for the Internet Archive's.
_FIELDS = {"url": "original", "mime": "mimetype", "status": "statuscode"}


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


def list_captures(endpoint: str, url: str, since: date | None = None, until: date | None = None,
                  timeout: float = 30) -> list[Capture]:
    """The captures of ``url`` that ``endpoint`` holds from ``since`` to ``until`` (inclusive days), oldest first."""
    params = {"url": url, "output": "json"}
    if since:
        params["from"] = since.strftime("%Y%m%d")
    if until:
        params["to"] = until.strftime("%Y%m%d")
    query = f"{endpoint}?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(query, timeout=timeout) as response:
            text = response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        if error.code == 404:  # pywb answers 404 for a URL it holds no capture of
            return []
        raise CdxError(f"{endpoint} answered {error.code} {error.reason}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise CdxError(f"cannot reach {endpoint}: {getattr(error, 'reason', error)}") from None
    return sorted(parse_cdx_json(text), key=lambda capture: capture.timestamp)


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
    except (ValueError, TypeError, KeyError) as error:
        raise CdxError(f"not a CDX JSON answer: {error}") from None


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
