"""How the demo site renders dates and text: formats, relative dates, typography.

These are the display settings a real site changes without editing a word of
its content (a new date format, a typography filter, NFD text from a new
editor).  ``PLAIN`` is the default and leaves every string as it is.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

#: The default date format: "November 19, 2025" (``%-d`` is a day without a leading zero).
DATE_FORMAT = "%B %-d, %Y"
UNICODE_FORMS = ("NFC", "NFD", "NFKC", "NFKD")
NBSP = "\u00a0"

_NOPAD = re.compile(r"%(?:%|-([dmHIMSjy]))")
_OPEN_DOUBLE = re.compile(r'(^|[\s(\[{\u2014-])"')
_APOSTROPHE = re.compile(r"(\w)'(?=\w)")
_OPEN_SINGLE = re.compile(r"(^|[\s(\[{\u2014\u201c-])'")
_SENTENCE_SPACE = re.compile(r"([.!?][\"'\u201d\u2019)]?) (?=\S)")
_NUMBER_SPACE = re.compile(r"(\d) (?=[^\W\d_])")


def format_date(d: dt.date, fmt: str) -> str:
    """``d.strftime(fmt)``, with glibc's ``%-d``/``%-m``... (no leading zero) on every platform."""
    def unpadded(m: re.Match) -> str:
        return "%%" if m.group(1) is None else str(int(d.strftime("%" + m.group(1))))
    return d.strftime(_NOPAD.sub(unpadded, fmt))


def relative_date(d: dt.date, today: dt.date) -> str:
    """"today", "yesterday", "N days ago", "N weeks ago", "N months ago", "N years ago"."""
    days = (today - d).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    size, unit = next((s, u) for s, u in ((365, "year"), (30, "month"), (7, "week"), (1, "day"))
                      if days >= s)
    k = days // size
    return f"{k} {unit}{'s' if k != 1 else ''} ago"


def curl(text: str) -> str:
    """A typography filter: straight quotes to ‘ ’ “ ”, "--" to "—", "..." to "…"."""
    text = text.replace("--", "\u2014").replace("...", "\u2026")
    text = _OPEN_DOUBLE.sub("\\1\u201c", text).replace('"', "\u201d")
    text = _APOSTROPHE.sub("\\1\u2019", text)
    return _OPEN_SINGLE.sub("\\1\u2018", text).replace("'", "\u2019")


def non_breaking(text: str) -> str:
    """U+00A0 after sentence-ending punctuation and between a number and the next word."""
    return _NUMBER_SPACE.sub("\\1" + NBSP, _SENTENCE_SPACE.sub("\\1" + NBSP, text))


@dataclass(frozen=True)
class Display:
    """Display settings (hashable: a rendered fragment is cached per ``Display``).

    ``today`` is set only when dates read relative to it."""

    date_format: str = DATE_FORMAT
    today: dt.date | None = None
    unicode_form: str = "NFC"
    nbsp: bool = False
    curly_quotes: bool = False

    @property
    def rewrites_text(self) -> bool:
        return self.unicode_form != "NFC" or self.nbsp or self.curly_quotes

    def date(self, d: dt.date) -> str:
        """A rendered date (the ``<time datetime>`` attribute is not this)."""
        if self.today is not None:
            return relative_date(d, self.today)
        return format_date(d, self.date_format)

    def text(self, s: str) -> str:
        """Titles, paragraphs, summaries: typography, spaces, then the Unicode form."""
        if self.curly_quotes:
            s = curl(s)
        if self.nbsp:
            s = non_breaking(s)
        return self.name(s)

    def name(self, s: str) -> str:
        """People's names: only the Unicode form changes (the content is stored in NFC)."""
        return s if self.unicode_form == "NFC" else unicodedata.normalize(self.unicode_form, s)


PLAIN = Display()
