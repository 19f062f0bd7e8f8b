"""Differences between two versions of a page's content (difflib, stdlib)."""

import difflib


def unified_text_diff(old: str, new: str, context: int = 2) -> str:
    """A unified diff of the two texts, one paragraph per line."""
    return "\n".join(
        difflib.unified_diff(
            old.splitlines(), new.splitlines(), "before", "after", n=context, lineterm=""
        )
    )


def word_counts(old: str, new: str) -> tuple[int, int]:
    """How many words were inserted and deleted between the two texts."""
    old_words, new_words = old.split(), new.split()
    matcher = difflib.SequenceMatcher(None, old_words, new_words, autojunk=False)
    added = removed = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            removed += i2 - i1
        if tag in ("replace", "insert"):
            added += j2 - j1
    return added, removed


def content_summary(old: dict, new: dict) -> dict:
    """What changed between two ``contents`` rows: fields, links and word counts."""
    fields = {
        name: [old.get(name) or "", new.get(name) or ""]
        for name in ("title", "author", "published")
        if (old.get(name) or "") != (new.get(name) or "")
    }
    old_links, new_links = set(old.get("links") or ()), set(new.get("links") or ())
    added, removed = word_counts(old.get("text") or "", new.get("text") or "")
    return {
        "words_added": added,
        "words_removed": removed,
        "fields": fields,
        "links_added": sorted(new_links - old_links),
        "links_removed": sorted(old_links - new_links),
    }
