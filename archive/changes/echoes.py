"""One story per event: a new or removed article, and the pages of the same run that only echo it.

A new article shows up three times in a run: added itself, entered on the
program page's listing, linked from its author's page. The article's change is
the *story*; a change of the same run whose every difference is the story's
(listing items that entered or left, links added or removed, a few words of
teaser text around them) is its *echo*, stored with ``changes.echo_of`` = the
story's id and folded into it by reports. A page that shows the story and
something else too is not an echo, but still *mentions* the story, so the
story can name every page it appears on.

Pure functions of a run's change rows (``id``, ``change``, ``url``, ``role``,
``summary`` decoded): run when the run ends, by the upgrade for past runs,
and by reports.
"""

from dataclasses import dataclass, field

#: Words of teaser text (title, date, summary) a page may add or remove per story link and still echo it.
WORDS_PER_LINK = 80
STORY_ROLES = ("page", "document")


@dataclass
class Echoes:
    #: Change id -> the id of the story it only echoes.
    echo_of: dict[int, int] = field(default_factory=dict)
    #: Story id -> ids of the changes that show it (echoes and others), in the order given.
    mentions: dict[int, list[int]] = field(default_factory=dict)


def find_echoes(changes: list[dict]) -> Echoes:
    """The echoes and mentions among one run's changes."""
    found = Echoes()
    stories = {(row["change"], row["url"]): row["id"] for row in changes
               if row["change"] in ("added", "removed") and row.get("role") in STORY_ROLES}
    if not stories:
        return found
    for row in changes:
        if row["change"] != "changed" or not row.get("summary"):
            continue
        shown, rest = _shown_stories(row["summary"], stories)
        for story in dict.fromkeys(shown):
            found.mentions.setdefault(story, []).append(row["id"])
        if shown and not rest:
            found.echo_of[row["id"]] = shown[0]
    return found


def _shown_stories(summary: dict, stories: dict) -> tuple[list[int], bool]:
    """The stories a change shows, and whether it changed anything else."""
    shown, rest = [], bool(summary.get("fields"))
    links_added, links_removed = set(summary.get("links_added") or ()), set(summary.get("links_removed") or ())
    if "items" in summary:  # a listing: its items say which stories it shows
        items = summary["items"]
        for group, kind in (("entered", "added"), ("left", "removed")):
            for item in items.get(group) or ():
                story = stories.get((kind, item["url"]))
                if story is None:
                    rest = True
                else:
                    shown.append(story)
                (links_added if group == "entered" else links_removed).discard(item["url"])
        other = summary.get("other_text") or {}
        rest = rest or bool(items.get("changed") or other.get("added") or other.get("removed"))
        return shown, rest or bool(links_added or links_removed)
    for links, kind in ((links_added, "added"), (links_removed, "removed")):
        for url in sorted(links):
            story = stories.get((kind, url))
            if story is None:
                rest = True
            else:
                shown.append(story)
    words = max(summary.get("words_added") or 0, summary.get("words_removed") or 0)
    return shown, rest or words > WORDS_PER_LINK * max(1, len(shown))
