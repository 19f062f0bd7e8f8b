"""Every ``/-/wwc/`` path, built in one place: the reports, the feed, Datasette's pages and cells.

Each function returns a path from the server's root; Datasette callers pass it
through ``datasette.urls.path`` (for a base URL), reports through
``ReportSettings.link`` (for ``archive_url``).
"""

from urllib.parse import quote

PREFIX = "/-/wwc/"
#: What of a URL stays as it is after the TimeGate and TimeMap prefixes (the rest percent-encoded).
URL_SAFE = "/:?&=%;,+@!$'()*[]~"


def snapshot(snapshot_id, fmt: str = "") -> str:
    """One version's text and metadata; ``fmt=".json"`` for its JSON."""
    return f"{PREFIX}snapshot/{int(snapshot_id)}{fmt}"


def raw(snapshot_id, download: bool = False) -> str:
    """The archived bytes: shown as text, or the original file with ``download``."""
    return f"{PREFIX}snapshot/{int(snapshot_id)}/raw" + ("?download=1" if download else "")


def view_as_archived(snapshot_id) -> str:
    """The version rendered from the archive alone, with its archived requisites (``archived_view``)."""
    return f"{PREFIX}view/{snapshot_id}"


def diff(old_id, new_id, fmt: str = "") -> str:
    """The word diff between two snapshots of one page."""
    return f"{PREFIX}diff/{int(old_id)}/{int(new_id)}{fmt}"


def compare() -> str:
    """The history page's compare form: ``?old=ID&new=ID`` leads on to :func:`diff`."""
    return f"{PREFIX}compare"


def history(url: str | None = None, fmt: str = "") -> str:
    """A page's history (``fmt`` ``.json`` or ``.csv``); with no URL, the form that asks for one."""
    return f"{PREFIX}page{fmt}" + (f"?url={quote(url, safe='')}" if url else "")


def timegate(url: str) -> str:
    """The Memento TimeGate of an original URL: the prefix, then the URL as it is (RFC 7089)."""
    return f"{PREFIX}timegate/{quote(url, safe=URL_SAFE)}"


def timemap(url: str, fmt: str = "link") -> str:
    """The Memento TimeMap of an original URL, ``fmt`` ``link`` (application/link-format) or ``json``."""
    return f"{PREFIX}timemap/{fmt}/{quote(url, safe=URL_SAFE)}"


def report(run) -> str:
    """A run's report (a run id or ``latest``)."""
    return f"{PREFIX}run/{run if run == 'latest' else int(run)}/report"


def feed() -> str:
    """The Atom feed of changes."""
    return f"{PREFIX}changes.atom"


def diff_sql(old: str, new: str) -> str:
    """A SQL expression for :func:`diff`'s path, from two column expressions (for canned queries)."""
    return f"'{PREFIX}diff/' || {old} || '/' || {new}"
