"""Archive values as a person reads them: a change's summary in words, a stored time as a date.

Pure functions, used by the plugin's ``render_cell`` and by the ``/-/wwc/``
pages; the stored values (JSON summaries, ISO 8601 times) are not changed.
"""

import json
import re
from datetime import datetime

from markupsafe import Markup

from wwc_archive.archive.changes.listing import FIELD_NAMES

#: A stored time: ``2026-12-05T00:06:19Z`` (seconds and zone optional) or a date.
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
#: Columns that hold such times, in the archive's tables and the canned queries.
TIME_COLUMNS = frozenset({"started", "finished", "fetched_at", "detected_at", "first_seen", "last_fetched_at",
                          "last_seen"})
#: Titles quoted in a summary are cut to this many characters.
TITLE_CHARS = 60


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def _quoted(title: str | None) -> str:
    title = " ".join((title or "").split())
    return "“" + (title[:TITLE_CHARS - 1] + "…" if len(title) > TITLE_CHARS else title) + "”"


def summary_words(summary, change: str | None = None) -> str:
    """A change's stored summary (JSON text or dict) in one sentence.

    ``1 article entered the listing; teaser of “Tulsa …” changed (summary)``;
    ``9 words added in 1 place; 1 link added``. A value that is not a summary
    is returned as it is; an empty one says what the change was.
    """
    if isinstance(summary, (str, bytes)):
        try:
            summary = json.loads(summary)
        except ValueError:
            return summary if isinstance(summary, str) else ""
    if not summary:
        return {"added": "page added", "removed": "page removed"}.get(change or "", "")
    if not isinstance(summary, dict):
        return str(summary)
    parts = _item_words(summary["items"]) if isinstance(summary.get("items"), dict) else _text_words(summary)
    for name, pair in (summary.get("fields") or {}).items():
        label = FIELD_NAMES.get(name, name)
        old, new = (list(pair) + [None, None])[:2]
        parts.append(f"{label} set to {_quoted(new)}" if not old else
                     f"{label} removed" if not new else f"{label} changed from {_quoted(old)} to {_quoted(new)}")
    other = summary.get("other_text") or {}
    if other.get("added") or other.get("removed"):
        parts.append(f"other text: {plural(len(other.get('added') or ()), 'paragraph')} added, "
                     f"{len(other.get('removed') or ())} removed")
    if not isinstance(summary.get("items"), dict):  # a listing's links are its items
        for key, verb in (("links_added", "added"), ("links_removed", "removed")):
            if summary.get(key):
                parts.append(f"{plural(len(summary[key]), 'link')} {verb}")
    return "; ".join(parts) or "no change to the text, title or links"


def _text_words(summary: dict) -> list[str]:
    added, removed = summary.get("words_added") or 0, summary.get("words_removed") or 0
    if not (added or removed):
        return []
    words = [f"{plural(added, 'word')} added" if added else "", f"{plural(removed, 'word')} removed" if removed else ""]
    text = ", ".join(word for word in words if word)
    places = summary.get("change_count")
    return [text + (f" in {plural(places, 'place')}" if places else "")]


def _item_words(items: dict) -> list[str]:
    parts = []
    entered, left, changed = items.get("entered") or [], items.get("left") or [], items.get("changed") or []
    if entered:
        parts.append(f"{plural(len(entered), 'article')} entered the listing"
                     + (f" ({_quoted(entered[0].get('title') or entered[0].get('url'))})" if len(entered) == 1 else ""))
    if left:
        parts.append(f"{plural(len(left), 'article')} left the listing"
                     + (f" ({_quoted(left[0].get('title') or left[0].get('url'))})" if len(left) == 1 else ""))
    if len(changed) == 1:
        fields = ", ".join(FIELD_NAMES.get(name, name) for name in (changed[0].get("fields") or {}))
        parts.append(f"teaser of {_quoted(changed[0].get('title') or changed[0].get('url'))} changed"
                     + (f" ({fields})" if fields else ""))
    elif changed:
        parts.append(f"{len(changed):,} teasers changed")
    return parts


def readable_time(value: str) -> str | None:
    """``2026-12-05T00:06:19Z`` as ``5 Dec 2026, 00:06 UTC`` (a date alone as ``5 Dec 2026``); None if not a time."""
    if not isinstance(value, str) or not ISO_TIME.match(value.strip()):
        return None
    text = value.strip()
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        return None
    day = f"{when.day} {when:%b %Y}"
    if len(text) == 10:
        return day
    zone = "UTC" if when.utcoffset() is None or not when.utcoffset() else when.strftime("%z")
    return f"{day}, {when:%H:%M} {zone}"


def time_cell(value: str) -> Markup | None:
    """A ``<time>`` element: readable text, the stored value as its ``datetime`` and tooltip."""
    text = readable_time(value)
    if text is None:
        return None
    return Markup('<time datetime="{0}" title="{0}">{1}</time>').format(value, text)
