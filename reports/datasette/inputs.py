"""What people type into the canned queries' forms, read as they meant it.

Dates as people write them (``12/01/2026``, ``2026-12-01``, ``Dec 1 2026``;
numeric dates month first, as the site's American readers write them) and URLs
as the crawler stores them (:func:`wwc_archive.crawler.urls.normalize_url`:
lower-case host, no fragment or default port, sorted query; ``https://`` added
when no scheme is given; with or without a trailing slash). The plugin
registers :func:`sql_date` and :func:`sql_url` as SQL functions under the
names :mod:`wwc_archive.archive.canned` uses; :func:`note` says how a value
was read, for the form.
"""

import re
from datetime import date
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from wwc_archive.crawler.urls import normalize_url

ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$")
NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")
#: What the form says of a date it cannot read.
DATE_HELP = "write it as 2026-12-01, 12/01/2026 (month first) or Dec 1 2026"


def read_date(text: str | None) -> date | None:
    """The calendar day ``text`` names, or None (empty, or not a date)."""
    return _read_date(text, date.today())  # "yesterday" is read again the next day


@lru_cache(maxsize=512)
def _read_date(text: str | None, today: date) -> date | None:
    text = " ".join((text or "").split())
    if not text:
        return None
    for pattern, order in ((ISO_DATE, (0, 1, 2)), (NUMERIC_DATE, (2, 0, 1))):
        found = pattern.match(text)
        if found:
            parts = [int(part) for part in found.groups()]
            try:
                return date(parts[order[0]], parts[order[1]], parts[order[2]])
            except ValueError:
                return None
    import dateparser  # slow to import; only words need it

    parsed = dateparser.parse(text, languages=["en"], settings={
        "DATE_ORDER": "MDY", "PREFER_DAY_OF_MONTH": "first", "RETURN_AS_TIMEZONE_AWARE": False,
        "REQUIRE_PARTS": ["year"] if re.search(r"\d{4}", text) else []})
    return parsed.date() if parsed else None


def sql_date(text) -> str | None:
    """``wwc_date(:start_date)``: the ISO day (``2026-12-01``), or NULL."""
    day = read_date(text if isinstance(text, str) else None)
    return day.isoformat() if day else None


#: Schemes that name no web page: a typed ``mailto:…`` is not read as a host name.
NOT_WEB = re.compile(r"^(mailto|tel|javascript|data|ftp|file):", re.IGNORECASE)
#: The variants :func:`read_url` gives: as typed, the trailing slash toggled, the other scheme, both.
VARIANTS = 4


@lru_cache(maxsize=512)
def read_url(text: str | None, variant: int = 0) -> str | None:
    """``text`` as the crawler stores a URL (``variant`` 0), or one of its near misses.

    Variant 1 toggles the trailing slash, 2 swaps ``http``/``https`` (a URL
    typed without a scheme gets ``https``), 3 does both. None when ``text`` is
    not a web address or the variant is the same URL.
    """
    text = (text or "").strip()
    if not text or NOT_WEB.match(text):
        return None
    if "://" not in text:
        text = "https://" + text.lstrip("/")
    url = normalize_url(text)
    if url is None or not variant:
        return url
    parts = urlsplit(url)
    if variant & 1:
        if parts.path in ("", "/"):
            return None
        parts = parts._replace(path=parts.path[:-1] if parts.path.endswith("/") else parts.path + "/")
    if variant & 2:
        parts = parts._replace(scheme="http" if parts.scheme == "https" else "https")
    return urlunsplit(parts)


def sql_url(text, variant=0) -> str | None:
    """``wwc_url(:url)`` and ``wwc_url(:url, N)`` (:func:`read_url`'s variants), or NULL."""
    return read_url(text if isinstance(text, str) else None, variant if isinstance(variant, int) else 0)


def note(kind: str | None, value: str | None) -> tuple[str, str] | None:
    """``(css class, sentence)`` saying how a form's value was read, or None when there is nothing to say."""
    value = (value or "").strip()
    if not value or kind not in ("date", "url"):
        return None
    if kind == "date":
        day = read_date(value)
        if day is None:
            return "wwc-input-error", f"“{value}” is not a date this form can read: {DATE_HELP}."
        if day.isoformat() == value:
            return None
        return "wwc-input-note", f"“{value}” read as {day.day} {day:%B %Y} ({day.isoformat()})."
    url = read_url(value)
    if url is None:  # the query also tries the near misses; this says only how the address was read
        return "wwc-input-error", f"“{value}” is not a web address: give the page's URL, as https://…"
    if url == value:
        return None
    return "wwc-input-note", f"Looked up as {url} (as the crawler writes addresses)."
