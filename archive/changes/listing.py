"""Two versions of a listing compared as lists of items (teasers), not as text.

An item is known by its URL: one in the new version only *entered* the
listing, one in the old only *left* it, and one in both whose title, date,
byline or summary differs *changed*. Where an item stands is not compared, so
a newly published article is one entered item however many others it shifts
down the "Show more" pages. Fields are compared as versions are
(:mod:`~wwc_archive.archive.changes.comparison`): curly quotes or a date's format alone
do not change a teaser. Pure functions of the two lists.
"""

from wwc_archive.archive.changes.comparison import fold_dates, fold_typography

FIELDS = ("title", "published", "byline", "summary")
#: The page fields a change's summary compares, as :func:`wwc_archive.archive.changes.diff.content_summary` does.
PAGE_FIELDS = ("title", "author", "published")


def listing_summary(old: dict, new: dict, old_items: list[dict], new_items: list[dict]) -> dict:
    """A listing change's summary: its items compared, the other text, fields and links; no word diff.

    ``old`` and ``new`` are ``contents`` rows (``links`` decoded).
    """
    items = compare(old_items, new_items)
    old_links, new_links = set(old.get("links") or ()), set(new.get("links") or ())
    return {
        "items": items,
        "other_text": other_paragraphs(old.get("text") or "", new.get("text") or "", items),
        "fields": {name: [old.get(name) or "", new.get(name) or ""]
                   for name in PAGE_FIELDS if (old.get(name) or "") != (new.get(name) or "")},
        "links_added": sorted(new_links - old_links),
        "links_removed": sorted(old_links - new_links),
    }


def compare(old: list[dict], new: list[dict]) -> dict:
    """``{"entered": [item], "left": [item], "changed": [{url, title, fields}], "counts": {...}}``.

    Items are dicts with ``url`` and the :data:`FIELDS`; ``fields`` maps each
    field that differs to ``[old, new]``. Entered and changed items are in the
    new listing's order, left ones in the old's.
    """
    old_by_url = {item["url"]: item for item in old}
    new_urls = {item["url"] for item in new}
    entered, changed = [], []
    for item in new:
        before = old_by_url.get(item["url"])
        if before is None:
            entered.append(_item(item))
            continue
        fields = {name: [before.get(name) or "", item.get(name) or ""]
                  for name in FIELDS if _differ(before.get(name), item.get(name))}
        if fields:
            changed.append({"url": item["url"], "title": item.get("title") or before.get("title") or "",
                            "fields": fields})
    left = [_item(item) for item in old if item["url"] not in new_urls]
    return {"entered": entered, "left": left, "changed": changed,
            "counts": {"entered": len(entered), "left": len(left), "changed": len(changed)}}


def other_paragraphs(old_text: str, new_text: str, items: dict) -> dict:
    """The listing's text outside its items that changed: ``{"added": [...], "removed": [...]}``.

    Paragraphs are compared as sets, so this costs a split of each text; a
    paragraph that says what an entered, left or changed item says (its
    title, date line or summary) is the item's, not other text.
    """
    old_set, new_set = _paragraphs(old_text), _paragraphs(new_text)
    said = [value for group in ("entered", "left") for item in items[group] for value in _values(item)]
    said += [value for item in items["changed"] for pair in item["fields"].values() for value in pair if value]
    said += [item["title"] for item in items["changed"] if item["title"]]

    def other(paragraphs) -> list[str]:
        return [p for p in paragraphs if not any(value in p or p in value for value in said)]

    return {"added": other([p for p in _ordered(new_text) if p not in old_set]),
            "removed": other([p for p in _ordered(old_text) if p not in new_set])}


def _differ(old: str | None, new: str | None) -> bool:
    """Whether two field values differ once folded; equal text is not folded (a listing's teasers mostly are)."""
    old, new = old or "", new or ""
    return old != new and _folded(old) != _folded(new)


def _folded(value: str) -> str:
    return fold_typography(fold_dates(value))


def _item(item: dict) -> dict:
    return {"url": item["url"], **{name: item.get(name) or "" for name in FIELDS}}


def _values(item: dict) -> list[str]:
    return [item[name] for name in FIELDS if item.get(name)]


def _ordered(text: str) -> list[str]:
    return [p.strip() for p in (text or "").split("\n\n") if p.strip()]


def _paragraphs(text: str) -> set[str]:
    return set(_ordered(text))


#: How a teaser's fields are named to a reader.
FIELD_NAMES = {"title": "title", "published": "date", "byline": "byline", "summary": "summary"}


def describe(items: dict, limit: int = 5) -> str:
    """One line: ``2 entered: A <url>, B <url>; 1 left: C <url>; 1 teaser changed: D: title 'a' → 'b'``.

    At most ``limit`` items of each kind are named, then ``… and N more``.
    """
    parts = []
    for kind in ("entered", "left"):
        if items[kind]:
            named = [f"{item['title'] or item['url']} <{item['url']}>" for item in items[kind][:limit]]
            parts.append(f"{len(items[kind])} {kind}: " + ", ".join(named) + _more(items[kind], limit))
    if items["changed"]:
        named = [f"{item['title'] or item['url']}: " + ", ".join(
            f"{FIELD_NAMES.get(name, name)} {old!r} → {new!r}" for name, (old, new) in item["fields"].items())
            for item in items["changed"][:limit]]
        word = "teaser changed" if len(items["changed"]) == 1 else "teasers changed"
        parts.append(f"{len(items['changed'])} {word}: " + "; ".join(named) + _more(items["changed"], limit))
    return "; ".join(parts) or "no item entered, left or changed"


def _more(items: list, limit: int) -> str:
    return f", … and {len(items) - limit} more" if len(items) > limit else ""


def other_links(summary: dict) -> tuple[list[str], list[str]]:
    """A listing change's links added and removed, less those of the items that entered or left."""
    items = summary.get("items") or {}
    entered = {item["url"] for item in items.get("entered") or ()}
    left = {item["url"] for item in items.get("left") or ()}
    return ([url for url in summary.get("links_added") or () if url not in entered],
            [url for url in summary.get("links_removed") or () if url not in left])
