"""The researcher's front door through Datasette's in-process client: the start page, hidden storage
tables, canned queries that read dates and URLs as typed, cells in words, history, compare and diff."""

import asyncio
import sqlite3
from urllib.parse import quote

import lxml.html
import pytest

from wwc_archive.archive import Archive
from wwc_archive.archive.migrations.schema import ensure_schema
from wwc_archive.reports.datasette import inputs, words
from wwc_archive.reports.datasette.app import archive_datasette


@pytest.fixture(scope="module")
def served(edited_archive_template):
    """``get(path)`` on one Datasette serving the twice-crawled archive (read-only), for the whole module."""
    ds = archive_datasette(edited_archive_template.path)
    loop = asyncio.new_event_loop()

    def get(path, status=200):
        response = loop.run_until_complete(ds.client.get(path))
        assert response.status_code == status, (path, response.status_code, response.text[:800])
        return response

    get.archive = edited_archive_template
    yield get
    loop.close()


def page(get, path, status=200):
    return lxml.html.fromstring(get(path, status).text)


def one(path: str, query: str, params=()):
    with sqlite3.connect(path) as conn:
        return conn.execute(query, params).fetchone()


def edited_change(archive) -> tuple[int, int]:
    return one(archive.path, "select c.old_snapshot, c.new_snapshot from changes c join pages p on p.id = c.page_id "
                             "where p.url = ? and c.change = 'changed'", [archive.edited_url])


# The start page ------------------------------------------------------------------


def test_start_page_has_search_pages_changes_runs_and_charts(served):
    tree = page(served, "/")
    assert tree.xpath("//form[@role='search']/@action") == ["/wwc-archive/search"]
    assert tree.xpath("//form[@role='search']//input[@name='q']/@placeholder")
    kinds = [h.text.strip() for h in tree.xpath("//section[contains(@class, 'wwc-kind')]/h3")]
    assert kinds[:2] == ["Program pages", "Articles"] and "People" in kinds
    edited = tree.xpath(f"//table[contains(@class, 'wwc-pages')]//a[@href='/-/wwc/page?url={quote(served.archive.edited_url, safe='')}']/../../td[2]")
    assert [td.text for td in edited] == ["2"], "the edited article has two versions"
    changes = " ".join(tree.xpath("//table[contains(@class, 'wwc-latest-changes')]//td[3]//text()"))
    assert "entered the listing" in changes and "words added" in changes and "{" not in changes
    assert tree.xpath("//table[contains(@class, 'wwc-runs')]//a[@class='wwc-report-link']/@href")[0] == \
        "/-/wwc/run/2/report"
    assert len(tree.xpath("//*[local-name()='svg'][contains(@class, 'wwc-chart')]")) == 2
    bars = tree.xpath("//*[local-name()='svg'][contains(@class, 'wwc-changes-chart')]//*[local-name()='a']/@href")
    assert bars and bars[0].startswith("/wwc-archive/changes_between?start_date=")
    assert not tree.xpath("//script[@src and not(starts-with(@src, '/'))]"), "nothing loaded from elsewhere"


def test_a_month_bar_lists_that_months_changes(served):
    tree = page(served, "/")
    (href, *_) = tree.xpath("//*[local-name()='svg'][contains(@class, 'wwc-changes-chart')]//*[local-name()='a']/@href")
    rows = served(href.replace("?", ".json?") + "&_shape=array").json()
    assert any(row["change"] == "changed" for row in rows)


def test_storage_tables_are_hidden_but_still_queryable(served):
    tables = {t["name"]: t["hidden"] for t in served("/wwc-archive.json").json()["tables"]}
    for name in ("bodies", "paragraphs", "paragraph_pages", "header_sets", "header_blocks", "link_urls",
                 "listing_items", "snapshot_aliases", "paragraphs_fts", "time_pairs"):
        assert tables.get(name, True), name
    assert not any(tables[name] for name in ("changes", "pages", "runs"))
    tree = page(served, "/wwc-archive")
    assert [a.text for a in tree.xpath("//h2[@id='tables']/following::h3/a")][:3] == ["changes", "pages", "runs"]
    assert tree.xpath("string(//textarea[@id='sql-editor'])") == "select * from changes"
    assert served("/wwc-archive.json?sql=select+count(*)+as+n+from+link_urls&_shape=array").json()[0]["n"] > 0


def test_m024_drops_leftover_tables_and_is_safe_without_them(tmp_path):
    path = tmp_path / "a.db"
    Archive(str(path)).close()  # every migration, m024 on a new archive: nothing to drop
    with sqlite3.connect(path) as conn:
        conn.execute("create table _snapshot_fold_progress (id integer primary key, last_page_id integer)")
        conn.execute("delete from _sqlite_migrations where name = 'm024_drop_leftovers'")
    archive = Archive(str(path))
    ensure_schema(archive.db)
    archive.close()
    with sqlite3.connect(path) as conn:
        names = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
    assert "_snapshot_fold_progress" not in names and "_snapshot_repack_progress" not in names


# Canned queries as forms -------------------------------------------------------------


@pytest.mark.parametrize("start, end", [
    ("2000-01-01", "2100-12-31"), ("01/01/2000", "12/31/2100"), ("Jan 1 2000", "Dec 31 2100"),
    (" 1 January 2000 ", "December 31, 2100"),
], ids=["iso", "us-numeric", "month-name", "long"])
def test_changes_between_reads_dates_as_people_type_them(served, start, end):
    rows = served(f"/wwc-archive/changes_between.json?start_date={quote(start)}&end_date={quote(end)}"
                  "&_shape=array").json()
    assert {row["change"] for row in rows} == {"added", "changed", "removed"}


def test_a_date_the_form_cannot_read_is_said_so(served):
    tree = page(served, "/wwc-archive/changes_between?start_date=12/01/2026&end_date=sometime")
    notes = [p.text_content() for p in tree.xpath("//p[contains(@class, 'wwc-input-')]")]
    assert notes[0] == "“12/01/2026” read as 1 December 2026 (2026-12-01)."
    assert notes[1].startswith("“sometime” is not a date this form can read: write it as 2026-12-01")


@pytest.mark.parametrize("typed", [
    "{url}", "{url}/", "{url}#comments", "{upper}", "{bare}",
], ids=["stored", "trailing-slash", "fragment", "upper-case-host", "no-scheme"])
def test_page_queries_find_a_url_as_the_crawler_writes_it(served, typed):
    url = served.archive.edited_url
    scheme, rest = url.split("://")
    host, path = rest.split("/", 1)
    typed = typed.format(url=url, upper=f"{scheme.upper()}://{host.upper()}/{path}", bare=rest)
    for query in ("page_history", "page_fetches"):
        rows = served(f"/wwc-archive/{query}.json?url={quote(typed, safe='')}&_shape=array").json()
        assert len(rows) >= 2, (query, typed)


def test_inputs_read_urls_like_the_crawler():
    assert inputs.read_url("HTTP://Example.ORG:80/a/?b=2&a=1#x") == "http://example.org/a/?a=1&b=2"
    assert inputs.read_url("example.org/a", 1) == "https://example.org/a/"
    assert inputs.read_url("example.org/a", 3) == "http://example.org/a/"
    assert inputs.read_url("https://example.org/", 1) is None
    assert inputs.read_url("mailto:someone@example.org") is None


def test_canned_query_forms_are_labelled_and_quiet_until_asked(served):
    tree = page(served, "/wwc-archive/search")
    assert tree.xpath("string(//label[@for='qp1'])") == "Words to find"
    assert tree.xpath("//input[@name='q']/@placeholder") == ["open data"]
    assert tree.xpath("//input[@type='submit']/@value") == ["Search"]
    assert not tree.xpath("//*[contains(@class, 'zero-results')]") and tree.xpath("//*[@class='wwc-muted wwc-empty-form']")
    assert not tree.xpath("//pre[@id='sql-query']") and not tree.xpath("//textarea"), "SQL hidden until asked for"
    assert page(served, "/wwc-archive/search?_show_sql=1").xpath("//pre[@id='sql-query']")
    found = page(served, "/wwc-archive/search?q=zzzzunfindable")
    assert found.xpath("string(//*[contains(@class, 'zero-results')])") == "Nothing found for zzzzunfindable."
    history = page(served, "/wwc-archive/page_history")
    assert history.xpath("string(//label[@for='qp1'])") == "The page's address"


# Cells in words ----------------------------------------------------------------------


def test_change_summaries_times_and_ids_read_as_words_and_links(served):
    tree = page(served, "/wwc-archive/changes?_size=100")
    summaries = [td.text_content() for td in tree.xpath("//td[contains(@class, 'col-summary')]")]
    assert any("entered the listing" in text for text in summaries)
    assert any("words added" in text for text in summaries)
    assert not any(text.lstrip().startswith("{") for text in summaries)
    old, new = edited_change(served.archive)
    assert f"/-/wwc/snapshot/{new}" in tree.xpath("//td[contains(@class, 'col-new_snapshot')]//a/@href")
    pages = page(served, "/wwc-archive/pages?_size=100")
    history = f"/-/wwc/page?url={quote(served.archive.edited_url, safe='')}"
    assert history in pages.xpath("//td[contains(@class, 'col-url')]/a[@class='wwc-history-link']/@href")
    runs = page(served, "/wwc-archive/runs")
    (started,) = runs.xpath("//tr[1]/td[contains(@class, 'col-started')]/time")[:1]
    assert started.get("datetime").endswith("Z") and " UTC" in started.text


def test_summary_words_cover_each_kind_of_change():
    assert words.summary_words('{"words_added": 1, "words_removed": 2, "change_count": 2, "fields": '
                               '{"title": ["A", "B"]}, "links_added": ["x"], "links_removed": []}') == \
        "1 word added, 2 words removed in 2 places; title changed from “A” to “B”; 1 link added"
    assert words.summary_words({"items": {"entered": [], "left": [{"url": "u", "title": "T"}, {"url": "v"}],
                                          "changed": []}}) == "2 articles left the listing"
    assert words.summary_words(None, "removed") == "page removed"
    assert words.readable_time("2026-12-01T03:04:05Z") == "1 Dec 2026, 03:04 UTC"


# History, compare, diff ------------------------------------------------------------


def test_history_lists_versions_with_size_words_compare_choices_and_timeline(served):
    old, new = edited_change(served.archive)
    tree = page(served, "/-/wwc/page?url=" + quote(served.archive.edited_url, safe=""))
    form = tree.xpath("//form[contains(@class, 'wwc-compare')]")[0]
    assert form.get("action") == "/-/wwc/compare"
    assert form.xpath(".//input[@name='old' and @checked]/@value") == [str(old)]
    assert form.xpath(".//input[@name='new' and @checked]/@value") == [str(new)]
    row = form.xpath(f".//tr[td[1]/a[.='#{new}']]")[0]
    assert "bytes" in row.xpath("string(td[4])") and "words added" in row.xpath("string(td[5])")
    dots = tree.xpath("//*[local-name()='svg'][contains(@class, 'wwc-timeline')]//*[local-name()='a']/@href")
    assert dots == [f"/-/wwc/snapshot/{old}", f"/-/wwc/snapshot/{new}"]
    # a URL typed with a trailing slash finds the page too
    assert page(served, "/-/wwc/page?url=" + quote(served.archive.edited_url + "/", safe="")).xpath(
        "string(//h1)").startswith("History: ")


def test_compare_leads_to_the_diff_or_says_what_is_missing(served):
    response = served("/-/wwc/compare?old=3&new=9", status=302)
    assert response.headers["location"] == "/-/wwc/diff/3/9"
    assert "Choose two versions" in served("/-/wwc/compare?old=3", status=400).text
    assert "two different versions" in served("/-/wwc/compare?old=3&new=3", status=400).text
    served("/-/wwc/compare?old=x&new=3", status=400)


def test_a_reversed_diff_says_so_and_offers_the_swap(served):
    old, new = edited_change(served.archive)
    forwards = page(served, f"/-/wwc/diff/{old}/{new}")
    assert not forwards.xpath("//*[contains(@class, 'wwc-swapped')]")
    backwards = page(served, f"/-/wwc/diff/{new}/{old}")
    note = backwards.xpath("//*[contains(@class, 'wwc-swapped')]")[0]
    assert "is newer than" in note.text_content()
    assert note.xpath(".//a[@class='wwc-swap']/@href") == [f"/-/wwc/diff/{old}/{new}"]


def test_diff_pages_link_the_changes_before_and_after(served):
    hub = served.archive.base_url + served.archive.site.hub_path
    (first, *_) = one(served.archive.path, "select min(s.id) from snapshots s join pages p on p.id = s.page_id "
                                           "where p.url = ?", [hub])
    old, new = one(served.archive.path, "select c.old_snapshot, c.new_snapshot from changes c join pages p "
                                        "on p.id = c.page_id where p.url = ? and c.change = 'changed'", [hub])
    tree = page(served, f"/-/wwc/diff/{old}/{new}")
    nav = tree.xpath("//p[contains(@class, 'wwc-change-nav')]")[0]
    assert nav.xpath(".//a[@rel='prev']") == [] and "No earlier version" in nav.text_content()
    assert first == old


def test_run_report_has_the_sites_navigation_and_distinct_links(served):
    tree = page(served, "/-/wwc/run/2/report")
    nav = tree.xpath("//nav[@class='wwc-site-nav']//a")
    assert [a.get("href") for a in nav][:3] == ["/", "/wwc-archive/latest_changes", "/wwc-archive/runs"]
    assert "/-/wwc/run/1/report" in [a.get("href") for a in nav]
    for change in tree.xpath("//a[.='word diff' or .='full diff']/ancestor::div[1]"):
        diff_links = change.xpath(".//a[.='word diff' or .='full diff']")
        assert len(diff_links) == 1, "one link to the diff per change"
        assert change.xpath(".//a[.='page history']/@href")[0].startswith("http")
    assert not tree.xpath("//a[contains(., 'side-by-side')]")
