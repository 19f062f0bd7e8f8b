"""A report's changes as stories, most significant first: echoes folded, minor changes in one line.

A new or removed article is told once, naming the pages that echo it
(:mod:`wwc_archive.archive.changes.echoes`): "also listed on the program page and on
Daniel Brennan's page". Changes are ordered by their stored significance
(:mod:`wwc_archive.archive.changes.significance`); those below ``summarise_below``
are listed one line each after the rest.
"""

import re
from itertools import groupby

from wwc_archive.archive.changes.echoes import find_echoes

KIND_ORDER = {"removed": 0, "added": 1, "changed": 2}
#: A page title that reads as a person's name: a few capitalised words (the echo is then "NAME's page").
NAME = re.compile(r"^[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*){1,3}$")
NOUNS = {"page": "article", "document": "document", "program": "program page"}


def arrange(views: list[dict], rows: list[dict], summarise_below: float = 0.0) -> dict:
    """``{"changes": [...], "minor": [...], "echoes": n}`` from change views and their rows (same order).

    Each story's view gains ``echoes`` (the names of the pages showing it) and
    ``headline``; a change that only echoes a story leaves the list.
    """
    by_id = {view["id"]: view for view in views}
    folded: set[int] = set()
    for _run, group in groupby(sorted(rows, key=lambda row: row["run_id"]), key=lambda row: row["run_id"]):
        found = find_echoes(list(group))
        folded.update(found.echo_of)
        for story_id, pages in found.mentions.items():
            pages = sorted(pages, key=lambda page_id: by_id[page_id]["role"] != "program")  # the program page first
            by_id[story_id]["echoes"] = [page_name(by_id[page_id]) for page_id in pages]
    shown = [view for view in views if view["id"] not in folded]
    for view in shown:
        view.setdefault("echoes", [])
        view["headline"] = headline(view)
    shown.sort(key=lambda view: (-(view["score"] or 0), KIND_ORDER.get(view["kind"], 3), view["url"]))
    return {"changes": [view for view in shown if (view["score"] or 0) >= summarise_below],
            "minor": [view for view in shown if (view["score"] or 0) < summarise_below],
            "echoes": len(folded)}


def page_name(view: dict) -> str:
    """How a page that echoes a story is named: the program page, a person's page, or its title."""
    if view["role"] == "program":
        return "the program page"
    title = " ".join((view["title"] or "").split())
    if NAME.match(title):
        return f"{title}'s page"
    return f"“{title}”" if title else view["url"]


def headline(view: dict) -> str:
    """``New article: Title (also listed on the program page and on Daniel Brennan's page)``."""
    noun = NOUNS.get(view["role"], "page")
    if view["kind"] == "added":
        text = f"New {noun}: {view['title']}"
    elif view["kind"] == "removed":
        text = f"Removed {noun}: {view['title']}"
    else:
        text = f"Changed: {view['title']}"
    if view.get("echoes"):
        verb = "also listed on" if view["kind"] == "added" else "also taken off"
        text += f" ({verb} {join_names(view['echoes'])})"
    return text


def join_names(names: list[str]) -> str:
    names = list(dict.fromkeys(names))
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and on " + names[-1] if len(names) == 2 else \
        ", ".join(names[:-1]) + ", and on " + names[-1]
