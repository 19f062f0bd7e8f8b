"""Versions compared folded: what is dismissed, and the real edits that stay changes."""

import unicodedata

import pytest

from wwc_archive.archive.changes.comparison import comparison_key, fold_counters, parse_date, rules_that_dismiss
from wwc_archive.crawler.cookies import KeptCookies
from wwc_archive.crawler.extract import extract_page
from wwc_archive.profile import SiteProfile
from wwc_archive.records import Extracted

BASE = ("By Ana Ruíz\n\nNovember 19, 2025\n\n"
        "Tulsa's \"open permits\" plan cost $1.2 million -- and it paid off...\n\n"
        "The hearing is on March 3, 2026.")


def version(text=BASE, title="Tulsa's plan", **fields) -> Extracted:
    return Extracted(title=title, text=text, **fields)


@pytest.mark.parametrize("new, rules", [
    (version(unicodedata.normalize("NFD", BASE).replace("cost ", "cost\u00a0")), ("typography",)),
    (version(BASE.replace('"open permits"', "\u201copen permits\u201d").replace("Tulsa's", "Tulsa\u2019s")
             .replace(" -- ", " \u2014 ").replace("...", "\u2026")), ("typography",)),
    (version(BASE.replace("November 19, 2025", "Nov 19, 2025")), ("dates",)),
    (version(BASE.replace("November 19, 2025", "19 November 2025")), ("dates",)),
    (version(BASE + "\n\n1,234 views · 5 comments · 12 shares"), None),  # counts appear: a different text
])
def test_what_is_only_noise(new, rules):
    old = version()
    if rules is None:
        assert comparison_key(old) != comparison_key(new)
        return
    assert comparison_key(old) == comparison_key(new)
    assert rules_that_dismiss(old, new) == rules


def test_ticking_counters_and_relative_dates_are_not_content():
    old = version(BASE + "\n\n1 view · 5 comments · 12 shares\n\nUpdated 3 days ago")
    new = version(BASE + "\n\n1,240 views · 6 comments · 13 shares\n\nUpdated 4 days ago")
    assert comparison_key(old) == comparison_key(new)
    assert rules_that_dismiss(old, new) == ("dates", "counters")


def test_time_element_wins_over_its_text():
    old = version(BASE, times=(("November 19, 2025", "2025-11-19T12:00:00Z"),))
    new = version(BASE.replace("November 19, 2025", "2 weeks ago"), times=(("2 weeks ago", "2025-11-19T12:00:00Z"),))
    assert comparison_key(old) == comparison_key(new)


@pytest.mark.parametrize("old, new", [
    (BASE, BASE.replace("$1.2 million", "$1.3 million")),  # a figure
    (BASE, BASE.replace("March 3, 2026", "March 10, 2026")),  # a corrected date typed in the text
    (BASE, BASE.replace("Ana Ruíz", "Ana Ruiz")),  # an accent removed
    (BASE, BASE.replace("paid off", "paid of")),  # a letter
    (BASE + "\n\nThe city received 200 comments from residents.",  # a count in a sentence is content
     BASE + "\n\nThe city received 250 comments from residents."),
])
def test_real_edits_stay_changes(old, new):
    assert comparison_key(version(old)) != comparison_key(version(new))
    assert rules_that_dismiss(version(old), version(new)) == ()


def test_title_accent_is_a_change():
    assert comparison_key(version(title="Jose Ramirez")) != comparison_key(version(title="José Ramírez"))
    assert comparison_key(version(title="José Ramírez")) == comparison_key(
        version(title=unicodedata.normalize("NFD", "José Ramírez")))


def test_dates_relative_or_absolute():
    assert parse_date("Nov 19, 2025") == parse_date("November 19, 2025") == "2025-11-19"
    assert parse_date("3 days ago") is None and parse_date("yesterday") is None
    assert fold_counters("Views: 1,204") == "# view"


def test_widgets_by_class_words_are_not_content():
    html = ('<html><body><main><h1>T</h1><p>Body text.</p>'
            '<div class="block block-views block-views-blockmost-read-block-1"><h2>Most read</h2>'
            '<ul><li><a href="/x">Another story</a></li></ul></div>'
            '<span class="statistics-counter">1,234 views</span>'
            '<div class="field field--name-field-related-links"><a href="/partner">Partner</a></div></main></body></html>')
    extracted = extract_page(html, "http://example.org/a", SiteProfile()).extracted
    assert "Most read" not in extracted.text and "views" not in extracted.text
    assert "Partner" in extracted.text  # related *links* a writer put there are content
    assert extracted.links == ("http://example.org/partner",)


def test_kept_cookies_are_those_set_to_last():
    cookies = KeptCookies()
    cookies.take("http://127.0.0.1:8000/a", "ABTEST_variant=B; Path=/; Max-Age=2592000")
    cookies.take("http://127.0.0.1:8000/a", "SESS123=secret; Path=/; HttpOnly")  # a session cookie
    assert cookies.header_for("http://127.0.0.1:8000/what-works-cities") == "ABTEST_variant=B"
    assert cookies.header_for("http://127.0.0.1:9000/") is None  # another origin
    again = KeptCookies(cookies.rows())
    assert again.header_for("http://127.0.0.1:8000/x") == "ABTEST_variant=B"
    again.take("http://127.0.0.1:8000/x", "ABTEST_variant=; Max-Age=0")
    assert again.header_for("http://127.0.0.1:8000/x") is None and again.rows() == []
