"""A site's "not found" answer, learned once a run, and the pages that answer with it (soft 404s).

Some sites answer a missing page with ``200 OK`` and a "Page not found" page.
Before a run fetches a program's pages, the spider asks each origin once for
a URL that cannot exist; if the answer is a ``200`` HTML page (or a redirect
to one), its content, with every mention of the asked URL left out, is the
site's not-found page. A page that later answers with the same content (its
own URL left out), or is redirected where the probe was, is recorded as
``gone``: a removal once the run completes. If a program page itself reads as
the not-found page, the site is answering everything that way (an outage): no
page is judged by it that run.
"""

import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from wwc_archive.config import origin_of
from wwc_archive.archive.comparison import fold_typography
from wwc_archive.records import Extracted, FetchRecord

#: The probe's path: it names the tool, so a site owner reading their log knows what asked.
PROBE_PATH = "/wwc-archive-not-found-check-"


def probe_url(origin: str) -> str:
    return f"{origin}{PROBE_PATH}{secrets.token_hex(6)}"


@dataclass(frozen=True)
class NotFoundPage:
    """An origin's not-found page: its content's digest, and where the site redirected the probe (if it did)."""

    origin: str
    digest: bytes
    final_url: str | None = None


def digest(extracted: Extracted, url: str) -> bytes:
    """A page's title and text, folded, with the mentions of its own URL left out."""
    text = f"{extracted.title}\n{extracted.text}"
    for mention in sorted(_mentions(url), key=len, reverse=True):
        text = text.replace(mention, "\u27e8url\u27e9")
    return hashlib.sha256(fold_typography(text).encode("utf-8")).digest()


def _mentions(url: str) -> set[str]:
    parts = urlsplit(url)
    path = parts.path or "/"
    forms = {url, path + (f"?{parts.query}" if parts.query else ""), path, path.strip("/"),
             path.rstrip("/").rsplit("/", 1)[-1]}
    forms |= {unquote(form) for form in forms}
    return {form for form in forms if len(form) >= 3}


def answers_not_found(page: NotFoundPage, record: FetchRecord) -> bool:
    """Whether a fetched page answered with its site's not-found page."""
    if record.outcome != "ok" or record.role not in ("page", "program") or record.extracted is None:
        return False
    if page.final_url is not None:
        return record.final_url == page.final_url and record.url != page.final_url
    return digest(record.extracted, record.url) == page.digest
