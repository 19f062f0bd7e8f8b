"""When two versions of a page say the same thing: their text folded for comparison only.

A version's stored text is what the page said. To decide whether a new
version is a *change*, both are folded first, and a difference that folding
removes is dismissed, with the rules that removed it:

- ``typography``: Unicode NFKC (composed accents, compatibility forms), every
  kind of space and invisible character, typographic quotes, dashes and
  ellipses. An added letter or accent still differs.
- ``dates``: a date is compared as a date, not as its format. A ``<time
  datetime>`` element's text reads as its ``datetime``; an absolute date in the
  text ("November 19, 2025", "Nov 19, 2025", "19/11/2025"…) as ``2025-11-19``;
  a relative one ("3 days ago", "yesterday") is not content. Dates are parsed by
  dateparser (many formats and languages, and it tells a relative date from an
  absolute one by the base it is read against), after a pattern has found
  where a date may stand.
- ``counters``: a count of views, comments, shares… standing in a line of its
  own ("1,234 views · 5 comments") is not content; a number in a sentence
  ("received 200 comments") is.

The folded version's digest, :func:`comparison_key`, is kept with each
version (``contents.compare_key``); equal keys mean no change.
"""

import hashlib
import json
import re
import unicodedata
from datetime import datetime
from functools import lru_cache
from urllib.parse import unquote, urlsplit

from wwc_archive.records import Extracted

#: The rules, in the order they are applied.
RULES = ("typography", "dates", "counters")

#: Characters that show nothing.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
_TYPOGRAPHY = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u02bc": "'", "`": "'",
    "\u00b4": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"',
    "\u00bb": '"', "\u2039": "'", "\u203a": "'", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-",
    "\u2014": "-", "\u2015": "-", "\u2212": "-", "\u2026": "...",
})
#: Runs of dashes, and a dash set off by spaces, within a line; every kind of space but a line end.
_DASH_RUNS = re.compile(r"[^\S\n]*-{2,}[^\S\n]*|[^\S\n]+-[^\S\n]+")
_SPACES = re.compile(r"[^\S\n]+")


def fold_typography(text: str, keep_lines: bool = False) -> str:
    """``text`` with Unicode forms, spaces, quotes, dashes and ellipses folded (no letter changed); with
    ``keep_lines``, its line ends are kept (each line folded and trimmed), else they are spaces too."""
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).translate(_TYPOGRAPHY)
    lines = [line.strip() for line in _SPACES.sub(" ", _DASH_RUNS.sub(" - ", text)).split("\n")]
    return "\n".join(lines) if keep_lines else " ".join(line for line in lines if line)


# Dates --------------------------------------------------------------------------------------------

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
#: Where an absolute date may stand: a month name with a day and a year, or numbers in a date's shape.
_ABSOLUTE = re.compile(
    rf"\b(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+\d{{4}}"
    r"|\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{1,2}[/.]\d{1,2}[/.]\d{4})\b",
    re.IGNORECASE,
)
#: A weekday named before a date: "Tuesday, November 19, 2025" and "November 19, 2025" are one day.
_WEEKDAY = re.compile(r"\b(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?\.?,?\s+(?=\u27e8\d)",
                      re.IGNORECASE)
_UNIT = r"(?:sec(?:ond)?s?|min(?:ute)?s?|hours?|hrs?|days?|weeks?|wks?|months?|years?|yrs?)"
_COUNT = r"(?:\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a few|several)"
#: Where a relative date may stand: counted back ("3 days ago"), or named ("yesterday", "in 2 weeks").
_AGO = re.compile(rf"\b(?:(?:about|over|almost)\s+)?{_COUNT}\s+{_UNIT}(?:\s*,?\s*(?:and\s+)?{_COUNT}\s+{_UNIT})*"
                  r"\s+ago\b", re.IGNORECASE)
_NAMED = re.compile(rf"\b(?:in\s+{_COUNT}\s+{_UNIT}|just\s+now|today|yesterday|tomorrow|"
                    r"(?:last|this|next)\s+(?:week|month|year|night))\b", re.IGNORECASE)
#: Two bases to read a date against: an absolute date reads the same on both.
_BASES = (datetime(2001, 2, 3, 4, 5, 6), datetime(2013, 9, 17, 18, 19, 20))


#: The commonest ways a day is written, read without loading dateparser (a tenth of a second a process).
_COMMON_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%b. %d, %Y", "%d %B %Y", "%d %b %Y", "%m/%d/%Y")


@lru_cache(maxsize=4096)
def parse_date(phrase: str) -> str | None:
    """An absolute date's ISO day (``2025-11-19``), or None for a relative date or none at all."""
    phrase = " ".join(phrase.split())
    try:
        return datetime.fromisoformat(phrase.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        pass
    for layout in _COMMON_FORMATS:
        try:
            return datetime.strptime(phrase, layout).date().isoformat()
        except ValueError:
            continue
    return _parse_any_date(phrase)


def _parse_any_date(phrase: str) -> str | None:
    """:func:`parse_date` by dateparser: any format, many languages, relative dates told apart."""
    import dateparser  # loaded on the first such date, not by every command

    read = [dateparser.parse(phrase, languages=["en"], settings={"RELATIVE_BASE": base,
                                                                 "PREFER_DAY_OF_MONTH": "first"})
            for base in _BASES]
    if read[0] is None or read[0] != read[1]:
        return None
    return read[0].date().isoformat()


def fold_dates(text: str, times: tuple[tuple[str, str], ...] = ()) -> str:
    """``text`` with each ``<time>`` element's text as its ``datetime``'s day, absolute dates as their
    day, and relative dates left out."""
    cursor = 0
    for shown, machine in times:  # in document order: the same text may stand for other days further on
        day = parse_date(machine) if machine else None
        at = text.find(shown, cursor) if shown and day else -1
        if at >= 0:
            token = _day_token(day)
            text = text[:at] + token + text[at + len(shown):]
            cursor = at + len(token)

    def absolute(match: re.Match) -> str:
        day = parse_date(match.group(0))
        return _day_token(day) if day else match.group(0)

    if "ago" in text.lower():  # a cheap test first: pages of figures have no relative date
        text = _AGO.sub("\u27e8\u27e9", text)
    text = _NAMED.sub("\u27e8\u27e9", text)
    text = _ABSOLUTE.sub(absolute, text)
    return _WEEKDAY.sub("", text)


def _day_token(day: str) -> str:
    """A day as folded text: ``⟨20251119⟩``, which no date pattern reads again."""
    return f"\u27e8{day.replace('-', '')}\u27e9"


# Counters -----------------------------------------------------------------------------------------

_COUNTED = (r"(?:views?|page\s?views|reads?|visits?|hits?|comments?|repl(?:y|ies)|responses?|shares?|likes?|"
            r"reactions?|retweets?|reposts?|followers?|downloads?|votes?|clicks?|bookmarks?|saves?|claps?|"
            r"upvotes?|times\s+(?:viewed|read|shared))")
_NUMBER = r"\d[\d,.\u00a0\u202f ]*(?:[kKmM]\b)?\+?"
_COUNTER = re.compile(rf"(?<![\w$€£¥]){_NUMBER}\s*(?P<after>{_COUNTED})\b|\b(?P<before>{_COUNTED})\s*[:(]?\s*{_NUMBER}\)?",
                      re.IGNORECASE)
#: A line that is counters and at most this many other words is a counter line.
_COUNTER_LINE_WORDS = 3


def fold_counters(text: str) -> str:
    """``text`` without the numbers of counters standing on their own: in a line, or a part of a line set
    off by ``·``, ``|``, ``•`` or ``/``, that is counts of views, comments, shares… and at most
    :data:`_COUNTER_LINE_WORDS` other words."""
    if not _COUNTER.search(text):
        return text  # most pages count nothing: one search, not one a line
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if _COUNTER.search(line):
            lines[index] = "".join(_fold_part(part) for part in _PARTS.split(line))
    return "\n".join(lines)


#: What sets a byline's or a stats line's parts off from each other (kept, as its own part).
_PARTS = re.compile(r"(\s*[·|•‧∙/]\s*)")


def _fold_part(part: str) -> str:
    if not _COUNTER.search(part) or len(re.findall(r"\w+", _COUNTER.sub(" ", part))) > _COUNTER_LINE_WORDS:
        return part
    return _COUNTER.sub(lambda m: "# " + _singular(m.group("after") or m.group("before")), part)


def _singular(word: str) -> str:
    """"1 view" and "2 views" count the same thing."""
    word = " ".join(word.lower().split())
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") else word


# Versions -----------------------------------------------------------------------------------------

def folded(e: Extracted, rules: tuple[str, ...] = RULES) -> list:
    """A version's title, author, date, text and links with ``rules`` applied, as one comparable value."""
    text = e.text
    fields = [e.title, e.author, e.published]
    if "counters" in rules:
        text = fold_counters(text)
    if "dates" in rules:
        text = fold_dates(text, e.times)
        fields = [fold_dates(field, e.times) for field in fields]
        fields[2] = (parse_date(e.published) if e.published else None) or fields[2]
    if "typography" in rules:
        text = fold_typography(text, keep_lines=True)  # once for the whole text: a page may have 10,000 lines
        fields = [fold_typography(field) for field in fields]
    else:
        fields = [" ".join(field.split()) for field in fields]
    paragraphs = (" ".join(p.split()) for p in text.split("\n\n"))
    # A repeat says nothing new, and a line of separators ("· ·") nothing at all.
    words = " ".join(dict.fromkeys(p for p in paragraphs if _SAYS.search(p)))
    return [*fields, words, sorted(set(e.links))]


#: Texts longer than this (a data appendix of megabytes) are compared word for word, unfolded: folding
#: them would cost about a second each, every night.
FOLD_AT_MOST = 500_000


#: What a paragraph must hold to say anything: a letter or a digit.
_SAYS = re.compile(r"[^\W_]")


def comparison_key(e: Extracted) -> bytes:
    """16 bytes that two versions share exactly when they say the same, folded by every rule."""
    value = folded(e) if len(e.text) <= FOLD_AT_MOST else folded(e, rules=())
    payload = json.dumps(value, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(payload).digest()[:16]


def rules_that_dismiss(old: Extracted, new: Extracted) -> tuple[str, ...]:
    """The rules whose folding makes ``old`` and ``new`` equal (each needed one; ``layout`` when none is:
    the same paragraphs, one repeated), or () if they still differ.

    Only the lines the two texts do not share are folded again, rule by rule: a 3 MB page with one
    changed date costs what the date's line does."""
    if folded(old) != folded(new):
        return ()
    old_lines, new_lines = old.text.split("\n"), new.text.split("\n")
    shared = set(old_lines) & set(new_lines)
    old = Extracted(old.title, old.author, old.published, "\n".join(l for l in old_lines if l not in shared),
                    old.links, times=old.times)
    new = Extracted(new.title, new.author, new.published, "\n".join(l for l in new_lines if l not in shared),
                    new.links, times=new.times)
    needed = []
    for rule in RULES:
        others = tuple(r for r in RULES if r != rule)
        if folded(old, others) != folded(new, others):
            needed.append(rule)
    return tuple(needed) or ("layout",)  # the same words, repeated or laid out otherwise


def folded_fields(e: Extracted) -> list[str]:
    """A version's title, byline and date, folded as :func:`folded` folds them."""
    return folded(Extracted(e.title, e.author, e.published, times=e.times))[:3]


def page_digest(e: Extracted, url: str) -> bytes:
    """A version's title and text, folded, with every mention of the page's own URL left out: what a site's
    one page for every URL (not found, under maintenance) says, whatever URL it was asked for."""
    text = strip_mentions(f"{e.title}\n{e.text}", url)
    return hashlib.sha256(fold_typography(text).encode("utf-8")).digest()


def strip_mentions(text: str, url: str) -> str:
    """``text`` with every mention of ``url`` (whole, its path, its last segment) replaced by ``⟨url⟩``."""
    for mention in sorted(_mentions(url), key=len, reverse=True):
        text = text.replace(mention, "\u27e8url\u27e9")
    return text


def _mentions(url: str) -> set[str]:
    parts = urlsplit(url)
    path = parts.path or "/"
    forms = {url, path + (f"?{parts.query}" if parts.query else ""), path, path.strip("/"),
             path.rstrip("/").rsplit("/", 1)[-1]}
    forms |= {unquote(form) for form in forms}
    return {form for form in forms if len(form) >= 3}


def folded_lines(e: Extracted, title: bool = True) -> list[str]:
    """A version's title (unless not asked for) and lines, folded as versions are compared; empty ones left
    out."""
    text = fold_dates(fold_counters(e.text), e.times)
    lines = [line for line in fold_typography(text, keep_lines=True).split("\n") if line]
    heading = fold_typography(fold_dates(e.title, e.times)) if title else ""
    return [heading, *lines] if heading else lines


def substitutions(archived: Extracted, shown: Extracted) -> list[tuple[str, str]]:
    """What one version shows in place of another, line by line: ``(archived words, shown words)`` for each
    pair of lines that differ, less the words they begin and end with alike (``("Tulsa Opens Its Data",
    "Inside the Numbers: Tulsa Opens Its Data")`` gives ``("", "Inside the Numbers:")``)."""
    import difflib

    old, new = folded_lines(archived), folded_lines(shown)
    pairs = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag != "replace":
            continue
        for a in old[i1:i2][:50]:  # each line with the most alike of the other's, if alike at all
            alike, b = max(((_alike(a.split(" "), b.split(" ")), b) for b in new[j1:j2][:50]), default=(0, ""))
            if alike >= 0.5:
                pairs.append(_core(a.split(" "), b.split(" ")))
    return [pair for pair in dict.fromkeys(pairs) if pair[0] != pair[1]]


def _alike(a: list[str], b: list[str]) -> float:
    """The share of the shorter line's words that both lines begin or end with."""
    core_a, core_b = _core(a, b)
    kept = len(a) - len(core_a.split(" ") if core_a else [])
    return kept / max(1, min(len(a), len(b)))


def _core(a: list[str], b: list[str]) -> tuple[str, str]:
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[len(a) - 1 - end] == b[len(b) - 1 - end]:
        end += 1
    return " ".join(a[start:len(a) - end]), " ".join(b[start:len(b) - end])
