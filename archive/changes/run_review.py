"""A run's changes reviewed together when it ends: outages and template changes are not edits.

Some differences only show when a run's pages are seen side by side:

- **An outage that answers 200.** When several pages that read otherwise before
  now read the very same title and text, but for their own URL ("Site under
  maintenance", a login wall, an error template), those
  fetches read the site's outage page, not the pages: they become failed
  fetches, their pages keep their last good snapshot, and nothing is
  reported. Their bodies stay stored.
- **A template or widget.** When every line that differs on a page is one that
  differs the same way on many of the run's pages (a "Most read" block
  recomputed for the whole site), or is the title of another archived page
  that was neither added nor removed this run (a "Related" list reshuffled),
  and every link that differs is to such a page, the site changed around the
  page, not the page: the change is dismissed.

  A headline that a second fetch showed to be one visitor's variant (an A/B
  test, :mod:`wwc_archive.crawler.spiders.program`) is such a difference too,
  where another page shows it in place of the archived title.

Each dismissal is a ``dismissals`` row naming its rule (``outage``,
``variant``, ``template``, ``widget``), so a researcher can audit it.
"""

import json
import math
from collections import Counter
from dataclasses import dataclass

from wwc_archive.archive.changes import comparison, listing
from wwc_archive.archive.formats import items, texts
from wwc_archive.records import Extracted

#: Pages that must change to one identical version for it to be an outage page (pages new this run that read
#: it too are the outage's as well).
OUTAGE_PAGES = 3
#: A line that differs on at least this many pages (and this share of the run's pages) is the template's.
TEMPLATE_PAGES = 4
TEMPLATE_SHARE = 0.25


def review_run(db, run_id: int) -> list[str]:
    """Dismiss this run's outage fetches and template changes; lines for the run's note."""
    notes = []
    outage = _dismiss_outages(db, run_id)
    if outage:
        notes.append(outage)
    variant = _dismiss_variants(db, run_id)
    if variant:
        notes.append(variant)
    template = _dismiss_template_changes(db, run_id)
    if template:
        notes.append(template)
    return notes


# Outages --------------------------------------------------------------------------------------------

def _dismiss_outages(db, run_id: int) -> str | None:
    rows = db.execute(
        """
        select c.id, c.page_id, c.new_snapshot, s.http_status, s.content_id, c.change, p.url, v.title
        from changes c
        join snapshots s on s.id = c.new_snapshot
        join pages p on p.id = c.page_id
        join contents v on v.id = s.content_id
        where c.run_id = ? and c.change in ('added', 'changed') and p.role in ('page', 'program')
        """,
        [run_id],
    ).fetchall()
    # An outage page has one title on every page it answers for: only titles that several pages changed to
    # are read further (a first crawl adds thousands of pages, and changes none).
    changed_titles = Counter(row[7] for row in rows if row[5] == "changed")
    suspects = {title for title, count in changed_titles.items() if count >= OUTAGE_PAGES}
    groups: dict[bytes, list] = {}
    for row in rows:
        if row[7] in suspects:
            version = _version(db, row[4])
            groups.setdefault(comparison.page_digest(version, row[6]), []).append(row)
    dismissed, titles = 0, []
    for group in groups.values():
        if len({row[1] for row in group if row[5] == "changed"}) < OUTAGE_PAGES:
            continue  # pages first seen alike (tag pages with nothing in them) are not an outage
        title = group[0][7] or "an untitled page"
        titles.append(title)
        for change_id, page_id, snapshot_id, status, *_ in group:
            detail = f'answered {status} with "{title}", as {len(group)} pages did: an outage, not the page'
            _as_failed_fetch(db, run_id, change_id, page_id, snapshot_id, detail)
            dismissed += 1
    if not dismissed:
        return None
    shown = ", ".join(f'"{title}"' for title in titles)
    return (f"{dismissed} pages answered the same outage page ({shown}) instead of their own: "
            "recorded as failed fetches, the last good snapshots stand")


def _as_failed_fetch(db, run_id: int, change_id: int, page_id: int, snapshot_id: int, detail: str) -> None:
    """Make a fetch that read an outage page a failed fetch; its page goes back to its last good snapshot."""
    _dismiss(db, run_id, change_id, page_id, snapshot_id, "outage", detail)
    db.execute("update snapshots set outcome = 'failed', error = ?, content_id = null where id = ?",
               [f"outage: {detail}", snapshot_id])
    previous = db.execute(
        "select s.id, v.title from snapshots s left join contents v on v.id = s.content_id "
        "where s.page_id = ? and s.id < ? and s.outcome in ('ok', 'not_modified') and s.content_id is not null "
        "order by s.id desc limit 1",
        [page_id, snapshot_id],
    ).fetchone()
    if previous is None:
        update = {"state": "unseen", "last_good_snapshot": None, "title": None}
    else:
        last = db.execute("select change from changes where page_id = ? and run_id < ? order by id desc limit 1",
                          [page_id, run_id]).fetchone()
        update = {"state": "removed" if last and last[0] == "removed" else "live",
                  "last_good_snapshot": previous[0], "title": previous[1]}
    update.update(etag=None, last_modified=None)
    assignments = ", ".join(f"{name} = ?" for name in update)
    db.execute(f"update pages set {assignments} where id = ?", [*update.values(), page_id])


def _dismiss(db, run_id: int, change_id: int, page_id: int, snapshot_id: int, rule: str, detail: str) -> None:
    """A change recorded this run is not one: it goes, and a dismissal says by which rule."""
    db.execute("delete from changes where id = ?", [change_id])
    db.execute("insert into dismissals (run_id, page_id, snapshot_id, rules, detail) values (?, ?, ?, ?, ?)",
               [run_id, page_id, snapshot_id, rule, detail])


def _keep_version(db, page_id: int, old_snapshot: int, old_content: int) -> None:
    """The page keeps the version it had before this run (what it read this run stays stored)."""
    db.execute("update pages set last_good_snapshot = ?, title = (select title from contents where id = ?), "
               "etag = null, last_modified = null where id = ?", [old_snapshot, old_content, page_id])


# Variants ---------------------------------------------------------------------------------------------

def _dismiss_variants(db, run_id: int) -> str | None:
    """Changes made only of what second fetches showed to vary from one visitor (or request) to the next
    (an A/B test's headline): dismissed, and their pages keep the version they had (the variant's snapshot
    stays stored)."""
    swaps = _swaps(db, run_id)
    if not swaps:
        return None
    rows = db.execute(
        """
        select c.id, c.page_id, c.old_snapshot, c.new_snapshot, o.content_id, n.content_id
        from changes c
        join snapshots o on o.id = c.old_snapshot
        join snapshots n on n.id = c.new_snapshot
        where c.run_id = ? and c.change = 'changed'
        """,
        [run_id],
    ).fetchall()
    dismissed = 0
    for change_id, page_id, old_snapshot, new_snapshot, old_id, new_id in rows:
        old, new = _version(db, old_id), _version(db, new_id)
        if old.links != new.links or not _only_swapped(comparison.folded_lines(old), comparison.folded_lines(new),
                                                       swaps):
            continue
        _keep_version(db, page_id, old_snapshot, old_id)
        _dismiss(db, run_id, change_id, page_id, new_snapshot, "variant",
                 "differed only by what another page's second fetch showed to be one visitor's variant")
        dismissed += 1
    if not dismissed:
        return None
    return f"{dismissed} page(s) showed a variant some visitors see (an A/B test): not reported"


def _swaps(db, run_id: int) -> set[tuple[str, str]]:
    """What this run's second fetches showed in place of each other: ``(words, words shown instead)``, folded,
    both ways (either answer may be the visitor's)."""
    shown = [json.loads(row[0]) for row in db.execute(
        "select shown from dismissals where run_id = ? and rules = 'second-fetch' and shown is not null", [run_id])]
    return {pair for pairs in shown for a, b in pairs for pair in ((a, b), (b, a)) if pair[1]}


def _swapped_lines(lines: set, swaps: set) -> set[str]:
    """The entered and left lines that are each other but for a variant's words."""
    left = {line for sign, line in lines if sign == "-"}
    explained = set()
    for sign, line in lines:
        if sign != "+":
            continue
        for archived, shown in swaps:
            if shown in line and _swap(line, shown, archived) in left:
                explained |= {line, _swap(line, shown, archived)}
    return explained


def _only_swapped(old: list[str], new: list[str], swaps: set) -> bool:
    """Whether ``new`` is ``old`` with some of the archived words in ``swaps`` shown as their variant."""
    if len(old) != len(new) or old == new:
        return False
    for before, after in zip(old, new):
        if before != after and not any(shown in after and _swap(after, shown, archived) == before
                                       for archived, shown in swaps):
            return False
    return True


def _field_swapped(old: str, new: str, swaps: set) -> bool:
    return any(shown in new and _swap(new, shown, archived) == old for archived, shown in swaps)


def _swap(line: str, shown: str, archived: str) -> str:
    return " ".join(line.replace(shown, archived).split())


# Templates and widgets --------------------------------------------------------------------------------

@dataclass
class _Difference:
    change_id: int
    page_id: int
    snapshot_id: int
    url: str
    old_snapshot: int
    old_content: int
    title: str  # the page's title, folded
    lines: set  # folded lines that entered or left, signed: ("+", line) / ("-", line)
    links: set  # ("+", url) / ("-", url)
    fields: list  # (old, new) of the title, byline or date that differ: only a variant's words explain them
    fixed: bool  # something no template explains: the order of the same lines, a listing's teasers


def _dismiss_template_changes(db, run_id: int) -> str | None:
    rows = db.execute(
        """
        select c.id, c.page_id, c.new_snapshot, o.content_id, n.content_id, p.url, p.role, c.old_snapshot
        from changes c
        join pages p on p.id = c.page_id
        join snapshots o on o.id = c.old_snapshot
        join snapshots n on n.id = c.new_snapshot
        where c.run_id = ? and c.change = 'changed' and p.role in ('page', 'program')
        """,
        [run_id],
    ).fetchall()
    if not rows:
        return None
    swaps = _swaps(db, run_id)
    differences = [_difference(db, *row, swaps) for row in rows]
    read = db.execute("select count(distinct page_id) from snapshots where run_id = ? and outcome in "
                      "('ok', 'not_modified')", [run_id]).fetchone()[0]
    enough = max(TEMPLATE_PAGES, math.ceil(TEMPLATE_SHARE * read))
    shared = Counter(item for d in differences for item in d.lines | d.links)
    pages = _other_pages(db, run_id)
    dismissed = 0
    for d in differences:
        if d.fixed or not (d.lines or d.links):
            continue
        if any(not _field_swapped(old, new, swaps) for old, new in d.fields):
            continue
        titled = {line for _sign, line in d.lines
                  if pages.lists(line, d.title) or any(shown in line and pages.lists(_swap(line, shown, archived), d.title)
                                                      for archived, shown in swaps)}
        swapped = _swapped_lines(d.lines, swaps)
        titled |= swapped
        named = titled | {_swap(line, shown, archived) for line in titled for archived, shown in swaps if shown in line}
        explained_lines = all(shared[item] >= enough or item[1] in titled for item in d.lines)
        explained_links = all(shared[item] >= enough or pages.titles_of(item[1]) & named for item in d.links)
        if not (explained_lines and explained_links):
            continue
        rule = "template" if all(shared[item] >= enough for item in d.lines | d.links) else "widget"
        if d.fields or swapped:  # a variant's words too: the page keeps its version
            _keep_version(db, d.page_id, d.old_snapshot, d.old_content)
        detail = (f"every difference also differed on {enough} or more of the run's pages: the site's template"
                  if rule == "template" else
                  "every difference is a link to, or the title of, another archived page: a list the site recomputes")
        _dismiss(db, run_id, d.change_id, d.page_id, d.snapshot_id, rule, detail)
        dismissed += 1
    if not dismissed:
        return None
    return f"{dismissed} page(s) changed only in blocks the site recomputes (a template or a list of its pages): not reported"


def _difference(db, change_id: int, page_id: int, snapshot_id: int, old_id: int, new_id: int, url: str,
                role: str, old_snapshot: int, swaps: set) -> _Difference:
    old, new = _version(db, old_id), _version(db, new_id)
    old_fields, new_fields = comparison.folded_fields(old), comparison.folded_fields(new)
    fields = [(a, b) for a, b in zip(old_fields, new_fields) if a != b]  # title, byline, date
    fixed = False
    # Only the lines the versions do not share are folded: a long page costs what changed on it.
    old_raw, new_raw = old.text.split("\n"), new.text.split("\n")
    shared = set(old_raw) & set(new_raw)
    old_lines = set(_lines(_only_lines(old, [line for line in old_raw if line not in shared])))
    new_lines = set(_lines(_only_lines(new, [line for line in new_raw if line not in shared])))
    lines = {("+", line) for line in new_lines - old_lines} | {("-", line) for line in old_lines - new_lines}
    if not lines and old_raw != new_raw and [l for l in old_raw if l.strip()] != [l for l in new_raw if l.strip()]:
        fixed = True  # the same lines in another order: a story moved, not a widget
    if role == "program" and _items_differ(db, old_id, new_id, swaps):
        fixed = True  # a listing's teasers entered, left or changed: the program's own news
    links = {("+", url) for url in set(new.links) - set(old.links)} | {("-", url) for url in set(old.links) - set(new.links)}
    return _Difference(change_id, page_id, snapshot_id, url, old_snapshot, old_id, new_fields[0], lines, links,
                       fields, fixed)


def _only_lines(e: Extracted, lines: list[str]) -> Extracted:
    return Extracted(e.title, e.author, e.published, "\n".join(lines), e.links)


def _items_differ(db, old_id: int, new_id: int, swaps: set) -> bool:
    """Whether a listing's teasers entered, left or changed, but for a variant's words in a title."""
    old, new = items.content_items(db.conn, old_id), items.content_items(db.conn, new_id)
    if old is None or new is None:
        return False
    found = listing.compare(old, new)
    fold = lambda text: comparison.fold_typography(text or "")  # noqa: E731
    variant_only = [item for item in found["changed"] if set(item["fields"]) == {"title"}
                    and _field_swapped(fold(item["fields"]["title"][0]), fold(item["fields"]["title"][1]), swaps)]
    return bool(found["entered"] or found["left"] or len(found["changed"]) > len(variant_only))


def _version(db, content_id: int) -> Extracted:
    return texts.stored_version(db.conn, content_id)


def _lines(e: Extracted) -> list[str]:
    """A version's lines, each folded as versions are compared; empty ones left out."""
    return comparison.folded_lines(e, title=False)


class _OtherPages:
    """The archived pages a list on another page may name: their titles (folded) and URLs.

    A page neither added nor removed this run may come and go in any list (a
    "Related" box reshuffled). A page added or removed this run is news on its
    author's page (the page titled with its byline) and an echo of the news in
    a list anywhere else (a "Most read" box on another article).
    """

    def __init__(self, rows, authors: dict):
        self.titles = {}  # folded title -> URLs of the pages with it
        self.urls = {}  # URL -> its folded titles
        self.authors = authors  # URL of a page added or removed this run -> its byline, folded
        for url, title in rows:
            folded = comparison.fold_typography(title)
            self.titles.setdefault(folded, set()).add(url)
            self.urls.setdefault(url, set()).add(folded)

    def lists(self, line: str, on_page: str) -> bool:
        """Whether ``line`` is the title of an archived page that a list on the page titled ``on_page`` (folded)
        may name as an echo."""
        return any(self.authors.get(url) != on_page for url in self.titles.get(line, ()))

    def titles_of(self, url: str) -> set[str]:
        return self.urls.get(url, set())


def _other_pages(db, run_id: int) -> _OtherPages:
    """The titles and URLs of archived pages (a page retitled this run by both titles), and the bylines of
    those added or removed in this run."""
    rows = db.execute(
        "select url, title from pages where role in ('page', 'program') and title is not null "
        "and (state = 'live' or id in (select page_id from changes where run_id = ? and change = 'removed'))",
        [run_id],
    ).fetchall()
    rows += db.execute(  # a page retitled this run may still be named by its title before
        "select p.url, v.title from changes c join pages p on p.id = c.page_id join snapshots s on s.id = c.old_snapshot "
        "join contents v on v.id = s.content_id where c.run_id = ? and c.change = 'changed' and v.title is not null",
        [run_id],
    ).fetchall()
    news = db.execute(
        "select p.url, v.author from changes c join pages p on p.id = c.page_id "
        "join snapshots s on s.id = coalesce(case when c.change = 'removed' then c.old_snapshot end, c.new_snapshot) "
        "join contents v on v.id = s.content_id "
        "where c.run_id = ? and c.change in ('added', 'removed')",
        [run_id],
    ).fetchall()
    authors = {url: comparison.fold_typography(author or "") for url, author in news}
    return _OtherPages([(url, title) for url, title in rows if title], authors)
