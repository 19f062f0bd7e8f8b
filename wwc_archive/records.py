"""What the crawler hands to the archive: one fetch of one URL."""

from dataclasses import dataclass, field
from datetime import datetime, timezone

#: Outcomes of a fetch. Only ``gone`` (404/410) can lead to a removal, and only
#: when the run completes; ``failed`` (5xx, timeouts, resets, robots.txt, size
#: cap) never changes what the archive believes about a page.
OUTCOMES = ("ok", "not_modified", "gone", "failed")

#: Roles of a page: a program's hub, one of its "Show more" pages, a page it
#: links to, or a document (PDF, DOCX, XLSX) archived as bytes.
ROLES = ("program", "pager", "page", "document")

#: Where a snapshot came from: a crawl of the live site, a Wayback Machine
#: capture, or a capture in a WARC file made by another crawler.
SOURCES = ("crawl", "wayback", "warc")

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utcnow() -> str:
    """Now, as the archive writes times: ``YYYY-MM-DDTHH:MM:SSZ`` in UTC."""
    return datetime.now(timezone.utc).strftime(TIME_FORMAT)


def parse_utc(text: str) -> datetime:
    """An archive time as an aware UTC datetime."""
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=timezone.utc)


#: Response headers kept with each snapshot (lower-case names).
KEPT_HEADERS = ("content-type", "etag", "last-modified", "location")


@dataclass(frozen=True)
class Teaser:
    """One item of a listing: an article's link, title, date, byline and summary, noise-free."""

    url: str
    title: str = ""
    published: str = ""
    byline: str = ""
    summary: str = ""


@dataclass(frozen=True)
class Extracted:
    """What a page says, with the per-request noise already filtered out.

    ``items`` are a listing's teasers in page order, and ``times`` the dates the
    page marks up; neither is part of the content's fingerprint (the text
    already holds what they say).
    """

    title: str = ""
    author: str = ""
    published: str = ""
    text: str = ""
    links: tuple[str, ...] = ()
    items: tuple[Teaser, ...] = ()
    #: Each ``<time datetime>`` element's text and its ``datetime``: compared as the date it stands for.
    times: tuple[tuple[str, str], ...] = ()


@dataclass
class FetchRecord:
    url: str
    program: str
    role: str
    fetched_at: str
    outcome: str
    http_status: int | None = None
    error: str | None = None
    final_url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    content_type: str | None = None
    extracted: Extracted | None = None
    #: The exchange as sent and received, for WARC export: ``HTTP/1.1``, every
    #: response header pair in order, the request's method and header pairs.
    protocol: str | None = None
    response_headers: tuple[tuple[str, str], ...] = ()
    request_method: str | None = None
    request_headers: tuple[tuple[str, str], ...] = ()
    #: Where the capture came from: this crawler, the Wayback Machine (or another
    #: Wayback-compatible server), or a WARC file made by another crawler.
    source: str = "crawl"
    #: For a capture from a web archive: the memento URL a researcher can cite.
    memento_url: str | None = None
    #: Why a difference between two answers for this page is not a change (a second fetch, as a new
    #: visitor, read otherwise), and the words one answer showed in place of the other's, as
    #: ``(words, words shown instead)`` pairs: the archive records both as a dismissal.
    dismissed: str | None = None
    shown_instead: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {self.outcome!r}")
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")
        if self.source not in SOURCES:
            raise ValueError(f"unknown source {self.source!r}")


#: What a requisite is to the page that refers to it.
ASSET_KINDS = ("stylesheet", "image", "font", "script", "icon")


@dataclass
class AssetFetch:
    """One fetch of a page requisite (a stylesheet, font, image, script or icon): never a page, never a change.

    ``url`` is normalized (the program's ignored query parameters dropped), so
    an image referred to with a new ``itok`` each time is one asset.
    """

    url: str
    program: str
    kind: str
    fetched_at: str
    outcome: str
    http_status: int | None = None
    error: str | None = None
    final_url: str | None = None
    body: bytes | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    protocol: str | None = None
    response_headers: tuple[tuple[str, str], ...] = ()
    request_method: str | None = None
    request_headers: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {self.outcome!r}")
        if self.kind not in ASSET_KINDS:
            raise ValueError(f"unknown requisite kind {self.kind!r}")
