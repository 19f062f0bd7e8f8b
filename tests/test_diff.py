"""The one differ: correct pieces, one set of counts, a stored edit script (its scaling: bench/scaling.py)."""

import threading

import pytest

from wwc_archive.archive.changes.diff import (
    Deadline, dump_script, edit_script, load_script, recorded_word_diff, tokens, unified_diff, word_diff,
)
from bench.scaling import CASES, edited, prose  # the inputs whose scaling bench/scaling.py measures


def rebuilt(diff):
    old = "".join(text for op, text in diff if op != "insert")
    new = "".join(text for op, text in diff if op != "delete")
    return old, new


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_pieces_rebuild_both_texts(case):
    old, new = CASES[case](3000)
    result = word_diff(old, new)
    assert rebuilt(result["diff"]) == (old, new)
    assert result["words_added"] == sum(len(t.split()) for op, t in result["diff"] if op == "insert")


def test_a_diff_past_its_deadline_is_coarse_but_correct():
    old, new = CASES["unrelated-texts"](2000)
    result = word_diff(old, new, deadline=Deadline(0))
    assert rebuilt(result["diff"]) == (old, new)
    assert result["change_count"] <= word_diff(old, new)["change_count"] or result["change_count"] == 1


def test_cancelling_stops_a_diff_like_its_deadline():
    """A client that went away cuts the diff short as an expired deadline does (how long it takes: bench/scaling.py)."""
    old, new = CASES["unrelated-texts"](10000)
    cancel = threading.Event()
    cancel.set()
    cancelled = word_diff(old, new, deadline=Deadline(60, cancel))
    assert cancelled == word_diff(old, new, deadline=Deadline(0))
    assert cancelled["change_count"] < word_diff(old, new, deadline=Deadline(60))["change_count"]
    assert rebuilt(cancelled["diff"]) == (old, new)


@pytest.mark.parametrize(
    "old, new, marked, counts",
    [
        ("We are data-driven here.", "We are data driven here.",
         [("delete", "data-driven"), ("insert", "data driven")], (1, 2, 1)),
        ("Tulsa launched its portal.", "Tulsa relaunched its portal.",
         [("delete", "launched"), ("insert", "relaunched")], (1, 1, 1)),
        ("the quick brown fox", "a slow brown fox",
         [("delete", "the quick"), ("insert", "a slow")], (1, 2, 2)),
        ("one\n\ntwo", "one\n\ntwo\n\nthree", [("insert", "\n\nthree")], (1, 1, 0)),
        ("same", "same", [], (0, 0, 0)),
    ],
    ids=["hyphen-to-space", "one-word", "neighbouring-words-one-change", "new-paragraph", "unchanged"],
)
def test_marked_words_and_counts(old, new, marked, counts):
    result = word_diff(old, new)
    assert [(op, text) for op, text in result["diff"] if op != "equal"] == marked
    assert (result["change_count"], result["words_added"], result["words_removed"]) == counts


def test_a_stored_edit_script_gives_the_same_diff_and_is_small():
    old = prose(20000, 5)
    new = edited(old, 6)
    live, script = recorded_word_diff(old, new)
    assert word_diff(old, new, script=script) == live
    assert len(script) < 400 and len(script) * 100 < len(old)
    assert load_script(dump_script(edit_script(tokens(old), tokens(new)))) == edit_script(tokens(old), tokens(new))


@pytest.mark.parametrize("script", ["w1:=3 -1", "garbage", "w0:=3", "w1:=x"], ids=["wrong-length", "garbage",
                                                                                 "old-version", "bad-number"])
def test_a_script_that_does_not_fit_is_ignored(script):
    old, new = "a b c", "a x c"
    assert word_diff(old, new, script=script) == word_diff(old, new)


def test_unified_line_diff_keeps_its_format():
    old = "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight"
    new = "one\ntwo\nTHREE\nfour\nfive\nsix\nseven\neight\nnine"
    assert unified_diff(old, new) == "\n".join([
        "--- before", "+++ after",
        "@@ -1,5 +1,5 @@", " one", " two", "-three", "+THREE", " four", " five",
        "@@ -7,2 +7,3 @@", " seven", " eight", "+nine",
    ])
    assert unified_diff(old, old) == ""


def test_more_distinct_words_than_unicode_has_characters_still_diffs(monkeypatch):
    """A hostile page can hold more distinct words than there are characters to encode them."""
    from wwc_archive.archive.changes import diff

    monkeypatch.setattr(diff, "MAX_CODES", 50)
    old = " ".join(f"w{i}" for i in range(40))
    new = " ".join(f"v{i}" for i in range(40))
    result = diff.word_diff(old, new)
    assert "".join(text for op, text in result["diff"] if op != "insert") == old
    assert "".join(text for op, text in result["diff"] if op != "delete") == new
    assert result["words_removed"] == 40 and result["words_added"] == 40
