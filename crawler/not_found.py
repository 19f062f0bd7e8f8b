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

import secrets
from dataclasses import dataclass

from wwc_archive.archive.changes.comparison import fold_typography, page_digest, strip_mentions
from wwc_archive.records import Extracted, FetchRecord

#: The probe's path: it names the tool, so a site owner reading their log knows what asked.
PROBE_PATH = "/wwc-archive-not-found-check-"


def probe_url(origin: str) -> str:
    return f"{origin}{PROBE_PATH}{secrets.token_hex(6)}"


@dataclass(frozen=True)
class NotFoundPage:
    """An origin's not-found page: its content's digest, its title and words (for a page that varies a
    little, with suggestions or a list of popular pages), and where the site redirected the probe (if it did)."""

    origin: str
    digest: bytes
    final_url: str | None = None
    title: str = ""
    words: frozenset = frozenset()

    @classmethod
    def learned(cls, origin: str, extracted: Extracted, asked: str, final_url: str | None) -> "NotFoundPage":
        return cls(origin, page_digest(extracted, asked), final_url, *_title_and_words(extracted, asked))


#: The share of words a page must share with the not-found page, with the same title, to be it.
SAME_WORDS = 0.7


def _title_and_words(extracted: Extracted, url: str) -> tuple[str, frozenset]:
    title, text = (fold_typography(strip_mentions(value, url)).casefold()
                   for value in (extracted.title, extracted.text))
    return title, frozenset(text.split())


def answers_not_found(page: NotFoundPage, record: FetchRecord) -> bool:
    """Whether a fetched page answered with its site's not-found page."""
    if record.outcome != "ok" or record.role not in ("page", "program") or record.extracted is None:
        return False
    return reads_as(page, record.url, record.final_url, record.extracted)


def reads_as(page: NotFoundPage, url: str, final_url: str | None, extracted: Extracted) -> bool:
    """Whether the page at ``url`` (answered from ``final_url``) says what the not-found page says."""
    if page.final_url is not None:
        return final_url == page.final_url and url != page.final_url
    if page_digest(extracted, url) == page.digest:
        return True
    title, words = _title_and_words(extracted, url)
    shared = len(words & page.words) / max(1, len(words | page.words))
    return bool(title) and title == page.title and shared >= SAME_WORDS
