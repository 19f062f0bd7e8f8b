"""The front door: the start page at ``/`` and the site's links on the run report.

The start page shows what a researcher comes for, in the order they look for
it: a search box; the pages by kind (program pages, articles, people,
documents) with their version counts; the latest changes in words; the runs;
and charts of articles first seen and changes per month. Each section links to
the full list (a canned query or a table). Every query reads small tables
(``pages``, ``changes``, ``runs``) or seeks by index, so the page stays fast
on a decade of nightly runs. With no archive served, ``/`` is Datasette's own
index.
"""

from datasette.utils.asgi import Request
from sqlite_utils import Database

from wwc_archive.reports import links
from wwc_archive.reports.datasette import charts, words

#: How the start page groups pages: program hubs, articles, people (``/people/`` paths), documents.
KIND_SQL = ("case when p.role = 'program' then 'program' when p.role = 'pager' then 'pager' "
            "when p.role = 'document' then 'document' when p.url like '%/people/%' then 'person' "
            "else 'article' end")
KINDS = (("program", "Program pages"), ("article", "Articles"), ("person", "People"), ("document", "Documents"))
#: Rows shown per section; each section links to the whole list.
SHOWN = {"program": 10, "article": 8, "person": 8, "document": 5, "changes": 10, "runs": 5}
#: The table filter that lists each kind (on ``/DATABASE/pages``).
KIND_FILTERS = {"program": "role=program", "article": "role=page&url__notlike=%25/people/%25",
                "person": "role=page&url__like=%25/people/%25", "document": "role=document"}


def routes() -> list[tuple[str, object]]:
    from wwc_archive.reports.datasette.history import compare

    return [(r"^/$", start_page), (r"^/-/wwc/compare$", compare)]  # links.compare()


def start_data(db: Database) -> dict:
    """Everything the start page shows, from a handful of queries on small tables."""
    # A page's versions: the changes that brought one (added, or changed); a page seen once has one.
    versions = """select page_id, count(*) as versions, max(new_snapshot) as last_snapshot
                  from changes where change != 'removed' group by page_id"""
    counts = dict(db.execute(f"select {KIND_SQL} as kind, count(*) from pages p group by kind").fetchall())
    kinds = []
    for kind, label in KINDS:
        rows = [dict(zip(("url", "title", "state", "versions", "last_changed"), row)) for row in db.execute(
            f"""select p.url, p.title, p.state, coalesce(v.versions, 1), s.fetched_at
                from pages p left join ({versions}) v on v.page_id = p.id
                left join snapshots s on s.id = v.last_snapshot
                where {KIND_SQL} = ? order by v.last_snapshot desc, p.url limit ?""", [kind, SHOWN[kind]])]
        if rows:
            kinds.append({"kind": kind, "label": label, "count": counts.get(kind, 0), "pages": rows})
    changes = [dict(zip(("id", "run_id", "change", "summary", "old", "new", "url", "title", "when"), row))
               for row in db.execute(
        """select c.id, c.run_id, c.change, c.summary, c.old_snapshot, c.new_snapshot, p.url,
                  coalesce(p.title, p.url), s.fetched_at
           from changes c join pages p on p.id = c.page_id left join snapshots s on s.id = c.new_snapshot
           order by c.id desc limit ?""", [SHOWN["changes"]])]
    for change in changes:
        change["words"] = words.summary_words(change.pop("summary"), change["change"])
    runs = [dict(zip(("id", "started", "status", "trigger", "pages_checked", "added", "changed", "removed"), row))
            for row in db.execute("""select id, started, status, trigger, pages_checked, added, changed, removed
                                     from runs order by id desc limit ?""", [SHOWN["runs"]])]
    return {
        "kinds": kinds,
        "pagers": counts.get("pager", 0),
        "changes": changes,
        "runs": runs,
        "run_count": db.execute("select count(*) from runs").fetchone()[0],
        "articles_per_month": dict(db.execute(
            f"""select substr(r.started, 1, 7) as month, count(*) from pages p join runs r on r.id = p.first_run
                where {KIND_SQL} = 'article' group by month""").fetchall()),
        "month_runs": {month: (first, last) for month, first, last in db.execute(
            "select substr(started, 1, 7) as month, min(id), max(id) from runs group by month").fetchall()},
        "changes_per_month": dict(db.execute(
            """select substr(r.started, 1, 7) as month, count(*) from changes c join runs r on r.id = c.run_id
               where c.change = 'changed' group by month""").fetchall()),
    }


async def start_page(datasette, request, send):
    from wwc_archive.reports.datasette.views import _archive, _read, _render, archive_name

    if await archive_name(datasette) is None:  # not an archive: Datasette's own index
        from datasette.views.index import IndexView

        scope = {**request.scope, "url_route": {"kwargs": {"format": None}}}
        return await IndexView.as_view(datasette)(Request(scope, request.receive), send)
    db = await _archive(datasette, request)
    data = await _read(db, start_data)
    database_url = datasette.urls.database(db.name)

    def month_changes(month: str) -> str:  # a bar: that month's changes
        year, number = map(int, month.split("-"))
        end = f"{year + number // 12:04d}-{number % 12 + 1:02d}-01"
        return f"{database_url}/changes_between?start_date={month}-01&end_date={end}"

    def month_articles(month: str) -> str:  # a bar: the articles first seen that month
        first, last = data["month_runs"].get(month, (0, 0))
        return f"{database_url}/pages?{KIND_FILTERS['article']}&first_run__gte={first}&first_run__lte={last}"

    return await _render(datasette, request, db, "wwc_start.html", {
        **data,
        "metadata": datasette.metadata() or {},
        "database_url": database_url,
        "kind_filters": KIND_FILTERS,
        "articles_chart": charts.bar_chart(charts.month_series(data["articles_per_month"]),
                                           "Articles first seen per month", href=month_articles,
                                           css_class="wwc-articles-chart"),
        "changes_chart": charts.bar_chart(charts.month_series(data["changes_per_month"]),
                                          "Pages changed per month", href=month_changes,
                                          css_class="wwc-changes-chart"),
    })


async def with_site_nav(datasette, db, html: str, run) -> str:
    """A run report's HTML with the site's links after ``<body>``: start, changes, runs, the runs before and after."""
    from markupsafe import Markup

    from wwc_archive.archive import queries
    from wwc_archive.reports.datasette.views import _read

    def neighbours(sdb: Database):
        run_id = queries.get_run(sdb, run)["id"]
        one = lambda sql: sdb.execute(sql, [run_id]).fetchone()[0]  # noqa: E731
        return run_id, one("select max(id) from runs where id < ?"), one("select min(id) from runs where id > ?")

    run_id, before, after = await _read(db, neighbours)
    database_url = datasette.urls.database(db.name)
    items = [(datasette.urls.path("/"), "← Start page"), (f"{database_url}/latest_changes", "Latest changes"),
             (f"{database_url}/runs", "All runs")]
    if before:
        items.append((datasette.urls.path(links.report(before)), f"Run {before} (before)"))
    if after:
        items.append((datasette.urls.path(links.report(after)), f"Run {after} (after)"))
    nav = Markup('<nav class="wwc-site-nav" style="font: 15px/1.4 sans-serif; padding: 8px 16px; '
                 'background: #276890; color: #fff;">{}</nav>').format(Markup(" · ").join(
                     Markup('<a href="{}" style="color: #fff; margin-right: 0.5em;">{}</a>').format(href, text)
                     for href, text in items))
    start = html.find("<body")
    end = html.find(">", start) + 1 if start >= 0 else 0
    return html[:end] + str(nav) + html[end:]
