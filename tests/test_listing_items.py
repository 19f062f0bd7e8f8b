"""A program page's listing is a list of items: a new article is one entered item, not a shifted text.

Unit tests of the encoding and the comparison, then real crawls of the demo
site (its listing spans "Show more" pages, so one new article shifts all of
them) read back through ``changes``, the report and Datasette's diff page.
"""

import asyncio
import json
import sqlite3

import lxml.html
import pytest

from tests.conftest import changes_json, run_cli
from wwc_archive.archive import FetchRecord, queries
from wwc_archive.archive.changes import listing
from wwc_archive.archive.formats import paragraphs
from wwc_archive.archive.formats.fingerprint import content_fingerprint
from wwc_archive.crawler.extract import extract_page
from wwc_archive.profile import SiteProfile
from wwc_archive.records import Extracted, Teaser
from wwc_archive.reports.datasette.app import archive_datasette
from tests.helpers import write_run

# The encoding of a version's item ids -------------------------------------------------


@pytest.mark.parametrize("ids", [
    [],
    [1],
    [7, 3, 3, 1_000_000, 2, 0, -5],
    list(range(1, 2001)),
    [2001, *range(1, 2000)],  # a new article at the top of a 2,000-article listing
], ids=["empty", "one", "jumps-and-repeats", "in-order", "new-at-top"])
def test_item_ids_round_trip(ids):
    assert paragraphs.decode(paragraphs.encode(ids)) == ids


def test_a_long_listing_in_order_costs_a_few_bytes():
    assert len(paragraphs.encode(range(1, 2001))) < 100
    assert len(paragraphs.encode([2001, *range(1, 2000)])) < 100


@pytest.mark.parametrize("data", [b"", b"x123", b"\x00\x80"], ids=["empty", "unknown-kind", "cut-short"])
def test_bytes_that_are_no_encoding_are_refused(data):
    with pytest.raises(ValueError):
        paragraphs.decode(data)


# The comparison -------------------------------------------------------------------------


def item(n, **fields):
    return {"url": f"https://example.org/a{n}", "title": f"Article {n}", "published": f"2026-01-{n:02d}",
            "byline": "Ana", "summary": f"Summary {n}.", **fields}


def test_a_new_article_is_one_entered_item_however_much_it_shifts():
    old = [item(n) for n in range(20, 0, -1)]
    found = listing.compare(old, [item(21), *old])
    assert found["counts"] == {"entered": 1, "left": 0, "changed": 0}
    assert found["entered"] == [item(21)]


def test_an_unpublished_article_compares_as_one_left_item():
    old = [item(n) for n in range(5, 0, -1)]
    found = listing.compare(old, [i for i in old if i["url"] != item(3)["url"]])
    assert found["counts"] == {"entered": 0, "left": 1, "changed": 0} and found["left"] == [item(3)]


def test_a_teaser_edit_is_one_changed_item_naming_its_fields():
    old = [item(n) for n in range(3, 0, -1)]
    new = [item(3), item(2, title="Article 2 (updated)", summary="New summary."), item(1)]
    found = listing.compare(old, new)
    assert found["changed"] == [{"url": item(2)["url"], "title": "Article 2 (updated)",
                                 "fields": {"title": ["Article 2", "Article 2 (updated)"],
                                            "summary": ["Summary 2.", "New summary."]}}]
    assert listing.describe(found) == (
        "1 teaser changed: Article 2 (updated): title 'Article 2' → 'Article 2 (updated)', "
        "summary 'Summary 2.' → 'New summary.'")


def test_order_shifts_are_not_changes():
    old = [item(n) for n in range(1, 6)]
    assert listing.compare(old, old[::-1])["counts"] == {"entered": 0, "left": 0, "changed": 0}


def test_text_outside_the_items_is_reported_as_other_text():
    old_text = "Intro one.\n\nArticle 1\n\nSummary 1."
    new_text = "Intro two.\n\nArticle 2\n\nSummary 2.\n\nArticle 1\n\nSummary 1."
    found = listing.listing_summary({"text": old_text}, {"text": new_text}, [item(1)], [item(2), item(1)])
    assert found["items"]["counts"]["entered"] == 1
    assert found["other_text"] == {"added": ["Intro two."], "removed": ["Intro one."]}


def test_describe_names_entered_and_left_items_with_their_links():
    found = listing.compare([item(1), item(2)], [item(3), item(1)])
    assert listing.describe(found) == (
        "1 entered: Article 3 <https://example.org/a3>; 1 left: Article 2 <https://example.org/a2>")


# Extraction ----------------------------------------------------------------------------------


def test_the_demo_hub_yields_its_teasers_noise_free(site):
    def teasers():
        page = site.handle("GET", site.hub_path, {"Host": "127.0.0.1:8000"}).body.decode()
        return extract_page(page, "http://127.0.0.1:8000" + site.hub_path, SiteProfile()).extracted.items

    first = teasers()
    assert first == teasers(), "per-request noise never changes a teaser"
    newest = site.hub_listing()[0]
    assert len(first) == site.per_page
    assert first[0] == Teaser(url="http://127.0.0.1:8000" + site.article_path(newest), title=newest.title,
                              published=f"{newest.published.isoformat()}T12:00:00Z",
                              byline=site.person(newest.author).name, summary=first[0].summary)
    assert first[0].summary and first[0].summary.split()[0] in newest.summary


def test_items_are_not_part_of_the_fingerprint():
    plain = Extracted(title="Hub", text="Article 1", links=("https://example.org/a1",))
    with_items = Extracted(title="Hub", text="Article 1", links=("https://example.org/a1",),
                           items=(Teaser(url="https://example.org/a1", title="Article 1"),))
    assert content_fingerprint(plain) == content_fingerprint(with_items)


# Storage and the fallback to text ------------------------------------------------------------


HUB = "https://example.org/what-works-cities"


def hub_record(texts, with_items=True, night=1):
    teasers = tuple(Teaser(url=f"https://example.org/{t.lower().replace(' ', '-')}", title=t) for t in texts)
    return FetchRecord(
        url=HUB, program="what-works-cities", role="program", fetched_at=f"2030-01-{night:02d}T03:00:00Z",
        outcome="ok", http_status=200, body=("|".join(texts)).encode(), content_type="text/html",
        extracted=Extracted(title="What Works Cities", text="\n\n".join(texts),
                            links=tuple(sorted(t.url for t in teasers)), items=teasers if with_items else ()))



def test_each_version_reads_back_its_items_in_order_each_teaser_stored_once(archive):
    write_run(archive, hub_record(["Second", "First"], night=1))
    write_run(archive, hub_record(["Third", "Second", "First"], night=2))
    db = archive.db
    versions = [row[0] for row in db.execute("select id from contents order by id")]
    assert [[i["title"] for i in queries.content_items(db, v)] for v in versions] == [
        ["Second", "First"], ["Third", "Second", "First"]]
    assert db.execute("select count(*) from listing_items").fetchone()[0] == 3
    (change,) = [c for c in queries.run_changes(db, 2)]
    assert change["summary"]["items"]["counts"] == {"entered": 1, "left": 0, "changed": 0}
    assert change["diff"] is None and change["edits"] is None


def test_a_version_without_items_is_compared_as_text(archive):
    """A listing version stored before items were (an upgraded archive) falls back to the word diff."""
    write_run(archive, hub_record(["Second", "First"], with_items=False, night=1))
    write_run(archive, hub_record(["Third", "Second", "First"], night=2))
    (change,) = queries.run_changes(archive.db, 2)
    assert queries.content_items(archive.db, None) is None
    assert "items" not in change["summary"] and change["summary"]["words_added"] == 1
    assert change["edits"] and "+Third" in change["diff"]


# Real crawls of the demo site -------------------------------------------------------------------


def hub_change(db_path, site, server) -> dict:
    (hub,) = [c for c in changes_json(db_path)["changes"] if c["url"] == server.url + site.hub_path]
    return hub


def datasette_diff(db_path, old, new) -> tuple[dict, str]:
    async def get():
        ds = archive_datasette(db_path)
        return (await ds.client.get(f"/-/wwc/diff/{old}/{new}.json"), await ds.client.get(f"/-/wwc/diff/{old}/{new}"))

    as_json, as_html = asyncio.run(get())
    assert as_json.status_code == as_html.status_code == 200
    return as_json.json(), as_html.text


def test_a_published_article_is_one_entered_item_everywhere(site, server, crawl, db_path):
    crawl()
    assert site.hub_page_count > 2, "the listing spans several \"Show more\" pages"
    new = site.publish_article("Tulsa opens permit data", ["Tulsa published its permits as open data."])
    crawl()
    new_url = server.url + site.article_path(new)
    hub = hub_change(db_path, site, server)
    summary = hub["summary"]
    assert summary["items"]["counts"] == {"entered": 1, "left": 0, "changed": 0}
    assert [(i["url"], i["title"]) for i in summary["items"]["entered"]] == [(new_url, new.title)]
    assert hub["diff"] is None and hub["edits"] is None and "words_added" not in summary

    text = run_cli("changes", "--db", db_path, check=True).stdout
    assert f"1 entered: {new.title} <{new_url}>" in text
    assert hub["echo_of"] is not None  # the listing only echoes the new article: the report tells it once
    report = run_cli("report", "--db", db_path, "--format", "text", check=True).stdout
    assert "CHANGED: What Works Cities" not in report
    assert f"New article: {new.title} (also listed on the program page" in " ".join(report.split())

    data, html = datasette_diff(db_path, hub["old_snapshot"], hub["new_snapshot"])
    assert data["items"]["counts"] == {"entered": 1, "left": 0, "changed": 0} and "diff" not in data
    page = lxml.html.fromstring(html)
    assert page.xpath("string(//ul[contains(@class, 'wwc-items-entered')]//a)") == new.title
    assert not page.xpath("//h2[.='Text']")


def test_an_unpublished_article_is_one_left_item(site, server, crawl, db_path):
    crawl()
    gone = site.hub_listing()[1]
    site.unpublish(gone.slug)
    crawl()
    items_changed = hub_change(db_path, site, server)["summary"]["items"]
    assert items_changed["counts"] == {"entered": 0, "left": 1, "changed": 0}
    assert items_changed["left"][0]["url"] == server.url + site.article_path(gone)


def test_a_retitled_article_is_one_changed_teaser(site, server, crawl, db_path):
    crawl()
    article = site.hub_listing()[4]  # on the second "Show more" page
    old_title = article.title
    site.set_title(article.slug, old_title + " (updated)")
    crawl()
    hub = hub_change(db_path, site, server)
    assert hub["summary"]["items"]["changed"] == [{
        "url": server.url + site.article_path(article), "title": old_title + " (updated)",
        "fields": {"title": [old_title, old_title + " (updated)"]}}]
    markdown = run_cli("report", "--db", db_path, "--format", "markdown", check=True).stdout
    assert f"title {old_title}{{+ (updated)+}}" in markdown.replace("\\", "")  # the words that changed


def test_a_noise_only_night_changes_nothing(site, server, crawl, db_path):
    crawl()
    crawl()
    assert changes_json(db_path)["changes"] == []
    with sqlite3.connect(db_path) as conn:
        (hub_versions,) = conn.execute(
            "select count(distinct s.content_id) from snapshots s join pages p on p.id = s.page_id "
            "where p.url = ?", [server.url + site.hub_path]).fetchone()
    assert hub_versions == 1


def test_the_feed_and_html_report_tell_a_listing_change_as_items(edited_archive):
    feed = run_cli("report", "--db", edited_archive.path, "--format", "html", check=True).stdout
    page = lxml.html.fromstring(feed)
    links = page.xpath("//a/@href")
    assert edited_archive.published_url in links and edited_archive.removed_url in links
    assert "The listing: 1 entered, 1 left, 2 teasers changed." in page.text_content()
    assert "Tulsa opens its permit data to residents" in page.text_content()
    json.dumps(changes_json(edited_archive.path))  # serializable as the CLI prints it
