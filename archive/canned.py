"""The canned queries researchers run on an archive: names, titles and SQL.

Datasette shows them (see ``wwc_archive.reports.datasette.app``); their names are
part of the archive's URLs (``/wwc-archive/search?q=…``), so they never change.
The SQL for a diff page's path comes from the caller (``diff_path(old, new)``):
the archive does not know where pages are served.
"""

import re
from typing import Callable

from wwc_archive.archive.formats.spans import ANSWER_FIELDS, FETCHES_FUNCTION

#: The SQL function the plugin registers for :func:`fts_query`.
FTS_FUNCTION = "wwc_fts_query"
#: The SQL functions the plugin registers for what people type in a form:
#: ``wwc_date(text)``, the ISO day a typed date names (NULL if none), and
#: ``wwc_url(text[, 1])``, a typed URL as the crawler stores it (with its
#: trailing slash toggled). See :mod:`wwc_archive.reports.datasette.inputs`.
DATE_FUNCTION = "wwc_date"
URL_FUNCTION = "wwc_url"
#: The page a typed ``:url`` names: as typed, as the crawler writes it, else its near misses in order
#: (trailing slash toggled, other scheme, both). Each is an index seek on ``pages.url``.
_PAGE_BY_URL = (f"p.id = (select id from pages where url in (:url, {URL_FUNCTION}(:url), {URL_FUNCTION}(:url, 1), "
                f"{URL_FUNCTION}(:url, 2), {URL_FUNCTION}(:url, 3)) order by url = :url desc, "
                f"url = {URL_FUNCTION}(:url) desc, url = {URL_FUNCTION}(:url, 1) desc, "
                f"url = {URL_FUNCTION}(:url, 2) desc limit 1)")
#: How the forms label their inputs (Datasette shows a bare name; the plugin's query template reads these).
_URL_INPUT = {"url": {"label": "The page's address", "placeholder": "https://datasmart.hks.harvard.edu/…",
                      "kind": "url"}}
#: A span's fetches as a JSON array of ``[run_id, fetched_at, answer]`` (see :mod:`wwc_archive.archive.formats.spans`).
_SPAN_FETCHES = f"{FETCHES_FUNCTION}(s.run_id, s.fetched_at, s.repeats)"


def _answer(column: str) -> str:
    """SQL for one fetch ``f`` of span ``s``: its own value of an answer column (``outcome``, ``http_status``)."""
    index = ANSWER_FIELDS.index(column)
    # an answer leaves out its trailing values equal to the span's own (never NULL for these columns)
    return (f"case when f.value ->> 2 > 0 then coalesce(s.answers -> (f.value ->> 2 - 1) ->> {index}, s.{column}) "
            f"else s.{column} end")

_CHANGE_ROWS = """
select c.run_id, c.change, p.url, p.program,
       coalesce(nc.title, oc.title, p.title) as title,
       ns.fetched_at as detected_at,
       json_extract(c.summary, '$.words_added') as words_added,
       json_extract(c.summary, '$.words_removed') as words_removed,
       coalesce(case when c.change = 'removed' then c.old_snapshot end, c.new_snapshot) as snapshot,
       case when c.change = 'changed' then {diff_page} end as diff_page
from changes c
join pages p on p.id = c.page_id
join snapshots ns on ns.id = c.new_snapshot
left join snapshots os on os.id = c.old_snapshot
left join contents nc on nc.id = ns.content_id
left join contents oc on oc.id = os.content_id"""


def fts_query(text: str | None) -> str:
    """The user's words as an FTS5 query that is never a syntax error.

    ``"quoted phrases"`` stay phrases; every other word is quoted on its own, so
    ``-``, ``*``, ``AND`` or a stray quote are searched for, not obeyed. No words:
    a query that matches nothing.
    """
    terms = [phrase or word for phrase, word in re.findall(r'"([^"]*)"|(\S+)', text or "")]
    return " ".join('"' + term.replace('"', '""') + '"' for term in terms if term.strip()) or '"-"'


def canned_queries(diff_path: Callable[[str, str], str]) -> dict[str, dict]:
    """Datasette's ``queries`` for an archive, by name."""
    changes = _CHANGE_ROWS.format(diff_page=diff_path("c.old_snapshot", "c.new_snapshot")).strip()
    return {
        "search": {
            "title": "Search every version",
            "hide_sql": True,
            "description": (
                "Every page whose title or a paragraph, in any version old or new, holds all your words "
                '(or "a phrase" in quotes), with the version and date where that text first appeared.'
            ),
            "inputs": {"q": {"label": "Words to find", "placeholder": "open data", "kind": "words"}},
            # The 500 best paragraphs (rank reads only the index), then the pages they appeared
            # on (paragraph_pages) and each one's first fetch there; snippets of one paragraph
            # each, only for the rows shown: no whole text is read.
            "sql": f"""with hits as materialized (
  select rowid, rank from paragraphs_fts where paragraphs_fts match {FTS_FUNCTION}(:q)
  order by rank, rowid limit 500
), found as materialized (
  select pp.page_id, pp.paragraph_id, pp.first_content, hits.rank
  from hits join paragraph_pages pp on pp.paragraph_id = hits.rowid
  order by hits.rank, pp.paragraph_id, pp.page_id
  limit 500
), shown as materialized (
  select found.*, p.url, p.program, coalesce(c.title, p.title) as title,
         (select min(s.id) from snapshots s
          where s.content_id = found.first_content and s.page_id = found.page_id) as snapshot
  from found
  join pages p on p.id = found.page_id
  left join contents c on c.id = found.first_content
)
select shown.url, shown.title, shown.program, s.fetched_at as first_seen, shown.snapshot,
       (select replace(snippet(paragraphs_fts, 0, '[', ']', '…', 16), char(10), ' ')
        from paragraphs_fts where paragraphs_fts match {FTS_FUNCTION}(:q) and rowid = shown.paragraph_id)
         as snippet
from shown
left join snapshots s on s.id = shown.snapshot
order by shown.rank, shown.url, first_seen""",
        },
        "latest_changes": {
            "title": "Latest changes",
            "hide_sql": True,
            "description": "The 200 most recent changes, newest run first, each with a link to what changed.",
            "sql": changes + """
order by c.run_id desc, case c.change when 'added' then 0 when 'changed' then 1 else 2 end, p.url
limit 200""",
        },
        "changes_between": {
            "title": "Changes between two dates",
            "hide_sql": True,
            "description": "Every change detected from one day to another, both days included (UTC).",
            "inputs": {
                "start_date": {"label": "From", "placeholder": "2026-12-01, 12/01/2026 or Dec 1 2026",
                               "kind": "date"},
                "end_date": {"label": "To", "placeholder": "2026-12-31", "kind": "date"},
            },
            "sql": changes + f"""
where ns.fetched_at >= {DATE_FUNCTION}(:start_date) and ns.fetched_at < date({DATE_FUNCTION}(:end_date), '+1 day')
order by ns.fetched_at, p.url""",
        },
        "page_history": {
            "title": "A page's history",
            "hide_sql": True,
            "description": (
                "Every version of one page, newest first, with the change it carried "
                "(a version is a span of fetches that answered the same: fetches says how many)."
            ),
            "inputs": _URL_INPUT,
            "sql": f"""select s.id as snapshot, s.run_id, s.fetched_at, s.http_status, s.outcome, s.error,
       c.title, ch.change,
       json_extract(ch.summary, '$.words_added') as words_added,
       json_extract(ch.summary, '$.words_removed') as words_removed,
       case when ch.change = 'changed' then {diff_path("ch.old_snapshot", "s.id")} end as diff_page,
       json_array_length({_SPAN_FETCHES}) as fetches,
       json_extract({_SPAN_FETCHES}, '$[#-1][1]') as last_fetched_at
from snapshots s
join pages p on p.id = s.page_id
left join contents c on c.id = s.content_id
left join changes ch on ch.new_snapshot = s.id
where {_PAGE_BY_URL}
order by s.id desc""",
        },
        "page_fetches": {
            "title": "A page's fetches",
            "hide_sql": True,
            "description": (
                "Every fetch of one page, newest first (up to 1,000): when, by which run, its outcome and "
                "HTTP status, and the version (snapshot) that holds it."
            ),
            "inputs": _URL_INPUT,
            "sql": f"""select json_extract(f.value, '$[1]') as fetched_at, json_extract(f.value, '$[0]') as run_id,
       {_answer("outcome")} as outcome, {_answer("http_status")} as http_status, s.error, s.id as snapshot
from pages p
join snapshots s on s.page_id = p.id
join json_each({_SPAN_FETCHES}) f
where {_PAGE_BY_URL}
order by fetched_at desc, snapshot desc
limit 1000""",
        },
        "pages_added_per_month": {
            "title": "Pages added per month",
            "hide_sql": True,
            "description": (
                "How many pages appeared in each month (UTC), by program; the first run counts every page "
                "it found, and a page back after a removal counts again."
            ),
            "sql": """select substr(s.fetched_at, 1, 7) as month, p.program, count(*) as pages_added
from changes c
join pages p on p.id = c.page_id
join snapshots s on s.id = c.new_snapshot
where c.change = 'added'
group by month, p.program
order by month desc, p.program""",
        },
        "failed_fetches_last_run": {
            "title": "Failed fetches of the last run",
            "hide_sql": True,
            "description": (
                "Fetches that failed (5xx, timeouts, resets, robots.txt, size cap) in the newest finished run."
            ),
            "sql": """select s.run_id, p.url, p.program, p.role, s.http_status, s.error, s.fetched_at, s.id as snapshot
from snapshots s
join pages p on p.id = s.page_id
where s.outcome = 'failed'
  and s.run_id = (select max(id) from runs where status != 'running')
order by p.url""",
        },
    }
