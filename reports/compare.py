"""What changed between two versions of a page: the one view reports, the feed and Datasette show.

:func:`compare` chooses between the two ways a change is told: a program page
whose two versions both have items (teasers) is compared as items entered,
left and changed, with any other text; any other page word by word, with
the edit script recorded with the change when there is one. Fields (title,
author, date) and outgoing links are compared either way. A listing change
the crawl recorded is told as it recorded it: its teasers are not compared
again. Reports trim the word diff to its changed passages; Datasette's diff
page shows it whole.
"""

import threading

from wwc_archive.archive import queries
from wwc_archive.archive.changes.diff import word_diff
from wwc_archive.archive.changes.listing import listing_summary, other_links

#: The metadata fields compared between two versions, in the order shown.
FIELDS = ("title", "author", "published")


def compare(db, old_id: int, new_id: int, cancel: threading.Event | None = None,
            versions: tuple[dict, dict] | None = None) -> dict:
    """``fields``, ``links_added``/``links_removed`` and either ``items`` and ``other_text`` or the word diff.

    ``versions``: both versions as :func:`~wwc_archive.archive.queries.snapshot`
    reads them, when the caller has them (else they are read when needed). A
    recorded change's items and edit script are used; any other pair is
    compared now, and diffed coarsely once ``cancel`` is set. Raises
    LookupError for a snapshot the archive does not hold.
    """
    script, recorded = queries.recorded_change(db, old_id, new_id)
    if recorded and "items" in recorded:
        added, removed = other_links(recorded)
        return {"fields": {name: list(pair) for name, pair in (recorded.get("fields") or {}).items()},
                "links_added": added, "links_removed": removed,
                "items": recorded["items"], "other_text": recorded.get("other_text") or {}}
    old, new = versions or (queries.snapshot(db, old_id), queries.snapshot(db, new_id))
    data = {
        "fields": {name: [old[name], new[name]] for name in FIELDS if (old[name] or "") != (new[name] or "")},
        "links_added": sorted(set(new["links"]) - set(old["links"])),
        "links_removed": sorted(set(old["links"]) - set(new["links"])),
    }
    items = _listing_items(db, old, new)
    if items is not None:  # a listing: its items compared, not its whole text word by word
        summary = listing_summary(old, new, *items)
        data["links_added"], data["links_removed"] = other_links({**data, "items": summary["items"]})
        return {**data, "items": summary["items"], "other_text": summary["other_text"]}
    return {**data, **word_diff(old["text"] or "", new["text"] or "", script=script, cancel=cancel)}


def _listing_items(db, old: dict, new: dict) -> tuple[list[dict], list[dict]] | None:
    """Both versions' items, for a program page whose two versions have them (else None: compared as text)."""
    if new["role"] != "program":
        return None
    old_items = queries.content_items(db, old["content_id"])
    new_items = queries.content_items(db, new["content_id"]) if old_items is not None else None
    return None if new_items is None else (old_items, new_items)
