"""Ordinary site behaviour that is not an edit, crawled for real: what is dismissed, what is still reported."""

import sqlite3
import time

import pytest

from tests.conftest import changes_json


def kinds(data) -> set[tuple[str, str]]:
    return {(change["url"], change["change"]) for change in data["changes"]}


def dismissed_rules(data) -> dict[str, set[str]]:
    rules = {}
    for row in data["dismissed"]:
        rules.setdefault(row["url"], set()).update(row["rules"].split(","))
    return rules


def test_a_variant_some_visitors_see_is_not_a_change_and_the_crawler_moves_to_the_archived_bucket(
        site, server, db_path, crawl):
    crawl()
    article = site.published()[1]
    url = server.url + site.article_path(article)
    site.ab_test = {article.slug: "Inside the Numbers: " + article.title}
    site.ab_default = "A"  # a new visitor sees the page as archived
    with sqlite3.connect(db_path) as conn:  # as if the site had put this crawler in bucket B last night
        conn.execute("insert into kept_cookies values (?, 'ABTEST_variant', 'B', '/', ?)",
                     [server.url.rstrip("/"), time.time() + 86400])
    site.next_night()
    crawl()
    data = changes_json(db_path)
    assert data["changes"] == []
    rules = dismissed_rules(data)
    assert "second-fetch" in rules[url]  # read as before by a new visitor
    assert "variant" in rules[server.url + site.hub_path]  # its teaser showed the variant's title
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("select value from kept_cookies").fetchall() == [("A",)]
        assert conn.execute("select title from pages where url = ?", [url]).fetchone()[0] == article.title
    site.next_night()
    crawl()
    assert changes_json(db_path)["changes"] == []  # in bucket A now: nothing to fetch twice
    site.end_ab_test(article.slug, winner="B")  # every visitor sees the winner: a change
    site.next_night()
    crawl()
    data = changes_json(db_path)
    assert (url, "changed") in kinds(data) and (server.url + site.hub_path, "changed") in kinds(data)


def test_a_soft_404_is_a_removal_and_a_maintenance_night_is_failed_fetches(site, server, db_path, crawl):
    site.soft_404 = True
    crawl()
    article = site.published()[2]
    url = server.url + site.article_path(article)
    site.maintenance = True
    site.next_night()
    crawl()
    data = changes_json(db_path)
    assert data["changes"] == []
    assert "outage page" in data["run"]["note"] and data["run"]["pages_failed"] >= 3
    assert {rule for rules in dismissed_rules(data).values() for rule in rules} == {"outage"}
    site.maintenance = False
    site.unpublish(article.slug)  # answered 200 "Page not found" from now on
    site.next_night()
    crawl()
    data = changes_json(db_path)
    assert (url, "removed") in kinds(data)  # not "changed" to "Page not found"
    assert (server.url + site.hub_path, "changed") in kinds(data)  # it left the listing
    assert all(change["url"] != url or change["change"] == "removed" for change in data["changes"])


@pytest.mark.parametrize("options", [
    {"widgets": "plain"},
    {"counters": True, "curly_quotes": True},
])
def test_recomputed_widgets_counters_and_typography_are_dismissed_with_their_rule(site, server, db_path, crawl,
                                                                                  options):
    crawl()
    for name, value in options.items():
        setattr(site, name, value)
    site.next_night()
    crawl()
    data = changes_json(db_path)
    assert data["changes"] == []
    assert data["dismissed"]  # each page's difference, with the rule that dismissed it
