"""How to cite one archived version: a human style (APA-like), BibTeX and CSL-JSON.

Pure: :class:`Citable` holds what is known of the version, and each function
formats it. The permalink is the version's page in the archive, a Memento
(RFC 7089) whose ``Memento-Datetime`` is ``captured_at``.
"""

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


@dataclass(frozen=True)
class Citable:
    """One version of a page, as cited."""

    original_url: str
    captured_at: str  # the version's first fetch, as the archive writes times: 2030-01-01T03:00:00Z
    permalink: str  # the version's page in the archive
    archive_name: str
    archive_url: str
    snapshot_id: int
    title: str | None = None
    site: str | None = None  # defaults to the original URL's host
    author: str | None = None
    published: str | None = None  # as the page gave it
    sha256: str | None = None  # of the archived body, hex

    @property
    def site_name(self) -> str:
        return self.site or urlsplit(self.original_url).hostname or self.original_url

    @property
    def captured(self) -> datetime:
        return datetime.strptime(self.captured_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def human_date(when: datetime) -> str:
    """``1 March 2019``."""
    return f"{when.day} {MONTHS[when.month - 1]} {when.year}"


def human(c: Citable) -> str:
    """APA-like: Author. (published). Title. Site. Archived DATE by ARCHIVE: PERMALINK (original, SHA-256)."""
    title = (c.title or c.original_url).strip()
    published = _published_year(c.published) or "n.d."
    head = f"{c.author.strip()}. ({published}). {title}." if c.author else f"{title}. ({published})."
    site = "" if c.site_name == title else f" {c.site_name}."
    when = c.captured
    parts = [f"{head}{site} Archived {human_date(when)}, {when:%H:%M} UTC, by {c.archive_name}: {c.permalink}",
             f"(original URL {c.original_url}" + (f"; SHA-256 {c.sha256})" if c.sha256 else ")")]
    return " ".join(parts)


def _published_year(published: str | None) -> str | None:
    match = re.search(r"\b(1[89]\d\d|2\d\d\d)\b", published or "")
    return match.group(1) if match else None


#: Characters BibTeX/LaTeX read as commands, escaped in field text (not in ``url``, which is verbatim).
_BIBTEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "%": r"\%", "&": r"\&", "#": r"\#",
                   "$": r"\$", "_": r"\_", "^": r"\^{}", "~": r"\~{}"}


def bibtex_escape(text: str) -> str:
    return "".join(_BIBTEX_SPECIAL.get(char, char) for char in text)


def bibtex_key(c: Citable) -> str:
    """``hostYYYYMMDDsnapshot``: letters and digits only, unique per version in one archive."""
    host = re.sub(r"[^a-z0-9]", "", (urlsplit(c.original_url).hostname or "page").removeprefix("www.").split(".")[0])
    return f"{host or 'page'}{c.captured:%Y%m%d}v{c.snapshot_id}"


def bibtex(c: Citable) -> str:
    """A biblatex ``@online`` entry (BibTeX reads it as ``@misc``'s fields)."""
    when = c.captured
    note = (f"Archived {human_date(when)}, {when:%H:%M} UTC, by {c.archive_name} ({c.archive_url}). "
            f"Original URL: {c.original_url}" + (f". SHA-256: {c.sha256}" if c.sha256 else ""))
    fields = [
        ("title", "{" + bibtex_escape(c.title or c.original_url) + "}"),  # double braces keep its case
        ("author", bibtex_escape(c.author) if c.author else None),
        ("organization", bibtex_escape(c.site_name)),
        ("year", _published_year(c.published)),
        ("url", c.permalink),
        ("urldate", when.date().isoformat()),
        ("howpublished", bibtex_escape(c.archive_name)),
        ("note", bibtex_escape(note)),
    ]
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
    return f"@online{{{bibtex_key(c)},\n{body}\n}}"


def csl_json(c: Citable) -> dict:
    """A CSL-JSON item (``type: webpage``): Zotero, Pandoc and citeproc read it."""
    when = c.captured
    item = {
        "id": bibtex_key(c),
        "type": "webpage",
        "title": c.title or c.original_url,
        "container-title": c.site_name,
        "URL": c.permalink,
        "accessed": {"date-parts": [[when.year, when.month, when.day]]},
        "archive": c.archive_name,
        "archive_location": c.permalink,
        "note": f"Original URL: {c.original_url}" + (f"; SHA-256: {c.sha256}" if c.sha256 else ""),
        "custom": {"original_url": c.original_url, "captured_at": c.captured_at, "archive_url": c.archive_url,
                   "snapshot": c.snapshot_id, **({"sha256": c.sha256} if c.sha256 else {})},
    }
    if c.author:
        item["author"] = [{"literal": c.author}]
    if c.published:
        item["issued"] = {"raw": c.published}
    return item


def citations(c: Citable) -> dict:
    """Every form, as the version page shows them: ``human``, ``bibtex``, ``csl_json`` (text)."""
    return {"human": human(c), "bibtex": bibtex(c), "csl_json": json.dumps(csl_json(c), indent=2, ensure_ascii=False)}
