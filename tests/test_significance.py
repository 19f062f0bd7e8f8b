"""The significance of a change and the stories a run tells: pure functions, by table."""

import pytest

from wwc_archive.archive.changes.echoes import find_echoes
from wwc_archive.archive.changes.significance import changed_places, figures, score_change


def text_change(words_added=1, words_removed=1, fields=None, links_added=(), links_removed=()):
    return {"words_added": words_added, "words_removed": words_removed, "change_count": 1, "fields": fields or {},
            "links_added": list(links_added), "links_removed": list(links_removed)}


def listing(entered=(), left=(), changed=(), other=None):
    items = {"entered": [{"url": u, "title": u.rsplit("/", 1)[-1]} for u in entered],
             "left": [{"url": u, "title": u.rsplit("/", 1)[-1]} for u in left],
             "changed": [{"url": u, "title": "T", "fields": {"summary": ["a", "b"]}} for u in changed]}
    return {"items": items, "other_text": other or {"added": [], "removed": []}, "fields": {},
            "links_added": list(entered), "links_removed": list(left)}


EDIT = [("equal", "The city set aside "), ("delete", "$1.2"), ("insert", "$1.3"),
        ("equal", " million for the program. " + "word " * 150)]
TYPO = [("equal", "word " * 150), ("delete", "teh"), ("insert", "the"), ("equal", " end of it.")]
PASSAGE = [("equal", "word " * 100), ("insert", "a new sentence " * 20), ("equal", "the end")]

CASES = [
    # id, kwargs, (low, high), a reason that must be there
    ("article removed", dict(kind="removed", role="page"), (0.7, 0.7), "article removed"),
    ("program page removed", dict(kind="removed", role="program"), (0.9, 0.9), "program page removed"),
    ("document removed", dict(kind="removed", role="document"), (0.5, 0.5), "document removed"),
    ("new article", dict(kind="added", role="page"), (0.6, 0.6), "new article"),
    ("new document", dict(kind="added", role="document"), (0.4, 0.4), "new document"),
    ("figure changed", dict(kind="changed", role="page", summary=text_change(), diff=EDIT, old_words=160),
     (0.7, 0.75), "figure changed: $1.2 million → $1.3 million"),
    ("typo fixed", dict(kind="changed", role="page", summary=text_change(), diff=TYPO, old_words=153),
     (0.05, 0.07), "under 1% of the text changed"),
    ("title changed", dict(kind="changed", role="page", summary=text_change(0, 0, {"title": ["Old", "New"]})),
     (0.5, 0.5), "title changed: Old → New"),
    ("date changed", dict(kind="changed", role="page",
                          summary=text_change(0, 0, {"published": ["2026-01-01", "2026-02-01"]})),
     (0.4, 0.4), "date changed: 2026-01-01 → 2026-02-01"),
    ("author changed", dict(kind="changed", role="page", summary=text_change(0, 0, {"author": ["A B", "C D"]})),
     (0.4, 0.4), "author changed: A B → C D"),
    ("links added", dict(kind="changed", role="page", summary=text_change(0, 0, links_added=["x", "y"])),
     (0.15, 0.15), "2 links added"),
    ("long insertion", dict(kind="changed", role="page", summary=text_change(60, 0), diff=PASSAGE, old_words=102),
     (0.7, 0.8), "a new passage of 60 words"),
    ("half the text rewritten", dict(kind="changed", role="page", summary=text_change(50, 50), old_words=100),
     (0.55, 0.6), "50% of the text changed"),
    ("past change, no texts", dict(kind="changed", role="page", summary=text_change(4, 4)),
     (0.05, 0.07), "4 words changed"),
    ("listing: one article entered", dict(kind="changed", role="program", summary=listing(entered=["u/new"])),
     (0.3, 0.3), "“new” entered the listing"),
    ("listing: teaser reworded", dict(kind="changed", role="program", summary=listing(changed=["u/a"])),
     (0.15, 0.15), "1 teaser changed (summary)"),
    ("listing: entered and teaser", dict(kind="changed", role="program",
                                         summary=listing(entered=["u/new"], changed=["u/a"])),
     (0.4, 0.41), "1 teaser changed (summary)"),
    ("key term added", dict(kind="changed", role="page", summary=text_change(), diff=[
        ("equal", "word " * 100), ("insert", "the budget"), ("equal", " rest")], old_words=101, key_terms=["Budget"]),
     (0.5, 0.6), "key term “Budget” added"),
    ("key term in a new article", dict(kind="added", role="page", diff=[("insert", "About the open data plan.")],
                                       key_terms=["open data"]), (0.8, 0.8), "key term “open data” added"),
    ("document file changed", dict(kind="changed", role="document", summary=None), (0.4, 0.4),
     "the document's file changed"),
]


@pytest.mark.parametrize("kwargs, bounds, reason", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_a_change_scores_within_its_bounds_with_its_reason(kwargs, bounds, reason):
    result = score_change(**kwargs)
    assert bounds[0] <= result.score <= bounds[1], result
    assert reason in result.reasons, result


def test_the_target_nights_changes_rank_figure_then_new_article_then_the_rest():
    figure = score_change("changed", "page", text_change(), EDIT, 160).score
    new = score_change("added", "page").score
    hub = score_change("changed", "program", listing(entered=["u/new"], changed=["u/a"])).score
    typo = score_change("changed", "page", text_change(), TYPO, 153).score
    assert figure > new > hub > typo


def test_reasons_are_heaviest_first():
    result = score_change("changed", "page", text_change(0, 0, {"title": ["a", "b"], "author": ["c", "d"]},
                                                         links_added=["x"]))
    assert result.reasons == ("title changed: a → b", "author changed: c → d", "1 link added")


@pytest.mark.parametrize("text, expected", [
    ("a grant of $1.2 million in 2024", ["$1.2 million", "2024"]),
    ("up 12% on May 3, 2025", ["12%", "May 3, 2025"]),
    ("no numbers here", []),
    ("1,200 residents and 3.5 percent", ["1,200", "3.5 percent"]),
])
def test_figures_are_read_as_a_reader_names_them(text, expected):
    assert figures(text) == expected


def test_a_changed_place_is_read_with_its_neighbouring_words():
    assert changed_places(EDIT)[0] == ("city set aside $1.2 million for the", "city set aside $1.3 million for the")


STORY_RUN = [
    {"id": 1, "change": "added", "role": "page", "url": "u/new", "summary": None},
    {"id": 2, "change": "changed", "role": "program", "url": "u/hub", "summary": listing(entered=["u/new"])},
    {"id": 3, "change": "changed", "role": "page", "url": "u/people/dan",
     "summary": text_change(12, 0, links_added=["u/new"])},
    {"id": 4, "change": "changed", "role": "program", "url": "u/hub2",
     "summary": listing(entered=["u/new"], changed=["u/a"])},
    {"id": 5, "change": "changed", "role": "page", "url": "u/other", "summary": text_change(300, 0,
                                                                                           links_added=["u/new"])},
    {"id": 6, "change": "removed", "role": "page", "url": "u/gone", "summary": None},
    {"id": 7, "change": "changed", "role": "program", "url": "u/hub3", "summary": listing(left=["u/gone"])},
]


@pytest.mark.parametrize("change_id, echo_of", [(2, 1), (3, 1), (4, None), (5, None), (7, 6)],
                         ids=["listing that only shows it", "person page that only links it",
                              "listing with another change too", "page with much more text",
                              "listing it left"])
def test_a_change_is_an_echo_only_when_everything_it_says_is_the_storys(change_id, echo_of):
    assert find_echoes(STORY_RUN).echo_of.get(change_id) == echo_of


def test_a_story_names_every_page_that_shows_it():
    assert find_echoes(STORY_RUN).mentions == {1: [2, 3, 4, 5], 6: [7]}
