"""An Atom feed of changes, one entry per change, newest first (feedgen)."""

import threading
import uuid
from datetime import datetime, timezone

from feedgen.feed import FeedGenerator

from wwc_archive.archive import queries
from wwc_archive.records import parse_utc
from wwc_archive.reports import links
from wwc_archive.reports.context import linked_titles, change_view
from wwc_archive.reports.render import environment
from wwc_archive.reports.settings import ReportSettings

FEED_TITLE = "What Works Cities pages: changes"


def atom_feed(db, settings: ReportSettings | None = None, limit: int = 200,
              cancel: threading.Event | None = None) -> bytes:
    """The newest ``limit`` changes as an Atom document (UTF-8 bytes); ``cancel``: coarse diffs from then on."""
    settings = settings or ReportSettings()
    rows = queries.recent_changes(db, limit)
    titles = linked_titles(db, rows)
    template = environment(settings).get_template("feed_entry.html")
    feed = FeedGenerator()
    feed.id(settings.link(links.feed()) or "urn:wwc-archive:changes")
    feed.title(FEED_TITLE)
    feed.subtitle("Pages added, changed or removed, as found by wwc-archive's nightly crawls.")
    feed.generator("wwc-archive")
    if settings.archive_url:
        feed.link(href=settings.archive_url, rel="alternate")
    newest = None
    for row in rows:
        change = change_view(db, row, settings, titles, cancel)
        when = _moment(change["when"])
        newest = max(newest or when, when)
        entry = feed.add_entry(order="append")
        entry.id(entry_id(row))
        entry.title(f"{change['kind'].capitalize()}: {change['title']}")
        entry.updated(when)
        entry.published(when)
        # One link only: feedgen 1.0 drops ``rel`` from entry links, so a second link
        # would be a second "alternate". The archive links are in the content.
        entry.link(href=change["url"])
        entry.category(term=change["kind"])
        entry.content(template.render(change=change, report={"since": None}), type="html")
    feed.updated(newest or datetime.now(timezone.utc))
    return feed.atom_str(pretty=True)


def entry_id(row: dict) -> str:
    """A stable id for a change: the same change keeps its id when the feed is rebuilt."""
    key = f"{row['url']}|{row['change']}|{row['new_snapshot']}|{row['detected_at']}"
    return uuid.uuid5(uuid.NAMESPACE_URL, key).urn


def _moment(value: str | None) -> datetime:
    if not value:
        return datetime.now(timezone.utc)
    return parse_utc(value)
