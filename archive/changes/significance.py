"""How much a change matters: a score from 0 to 1 and the reasons for it, from named signals.

After EDGI's analyst task sheets: each signal that a change shows (a page
removed, a title or date changed, a figure changed, links added, a share of
the text rewritten, one long inserted passage, a key term, a program's
listing changing) has a weight in :data:`WEIGHTS`, and the weights combine as
independent chances (``1 - (1 - a)(1 - b)…``), so two signals weigh more than
either alone and no sum passes 1. Each signal gives a short reason a person
reads ("figure changed: $1.2 million → $1.3 million"); reasons are listed
heaviest first.

Pure functions of a change's stored summary and, when the texts are at hand,
its word diff (:func:`wwc_archive.archive.changes.diff.word_diff`'s pieces): the
writer scores a change when it records it; an upgrade scores past changes from
their summaries alone (no figures, passages or key terms: they need the texts).
"""

import re
from collections import Counter
from dataclasses import dataclass

#: Signal -> weight. The scale: a removed or new article, a changed title or a changed figure is worth
#: reading tonight; a typo fix, a teaser's new wording or a list that gained a link is not.
WEIGHTS = {
    "removed:program": 0.9,
    "removed:page": 0.7,
    "removed:document": 0.5,
    "added:page": 0.6,
    "added:program": 0.5,
    "added:document": 0.4,
    "field:title": 0.5,
    "field:published": 0.4,
    "field:author": 0.4,
    "figure": 0.7,
    "key_term": 0.5,
    "passage": 0.4,  # one inserted passage of at least PASSAGE_WORDS words
    "text_floor": 0.05,  # any change of the words; the share of the text changed adds to it
    "text_share_max": 0.6,
    "links": 0.1,  # plus LINK_STEP a link, at most links_max
    "links_max": 0.3,
    "listing:entered": 0.3,
    "listing:left": 0.35,
    "listing:changed": 0.15,
    "listing:other": 0.1,
    "document_changed": 0.4,
}
LINK_STEP = 0.05
PASSAGE_WORDS = 40
#: Words of unchanged text either side of a change that a figure or key term is read with.
CONTEXT_WORDS = 3
#: Past changes (no old text to compare with): this many changed words count as the whole text.
WORDS_AS_WHOLE = 400
KIND_NAMES = {"page": "article", "program": "program page", "document": "document", "pager": "listing page"}
FIELD_NAMES = {"title": "title", "published": "date", "author": "author"}
MONTHS = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?" \
         r"|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
#: A number, amount, percentage or date as a reader names it: ``$1.2 million``, ``42%``, ``May 3, 2024``.
FIGURE = re.compile(
    rf"\b{MONTHS}\.?\s+\d{{1,2}}(?:,\s*\d{{4}})?\b"
    r"|[$€£]?\d[\d,]*(?:\.\d+)?(?:\s?(?:%|percent\b|million\b|billion\b|trillion\b|thousand\b))?"
)
SHOWN = 60  # characters of a field value shown in a reason


@dataclass(frozen=True)
class Significance:
    score: float
    reasons: tuple[str, ...]

    def as_json(self) -> dict:
        return {"score": self.score, "reasons": list(self.reasons)}


def score_change(kind: str, role: str, summary: dict | None = None, diff: list | None = None,
                 old_words: int | None = None, key_terms=()) -> Significance:
    """The significance of one change.

    ``kind`` is ``added``, ``changed`` or ``removed``; ``role`` the page's
    (``program``, ``page``, ``document``); ``summary`` the change's stored
    summary (a text change's or a listing's, :mod:`wwc_archive.archive.changes.listing`);
    ``diff`` its word diff pieces ``[(op, text)]`` (a new page: its text as one
    insertion), None when not at hand; ``old_words`` the old text's length in
    words; ``key_terms`` the program's terms (any case).
    """
    signals: list[tuple[float, str]] = []
    noun = KIND_NAMES.get(role, "page")
    if kind == "removed":
        signals.append((WEIGHTS.get(f"removed:{role}", WEIGHTS["removed:page"]), f"{noun} removed"))
    elif kind == "added":
        signals.append((WEIGHTS.get(f"added:{role}", WEIGHTS["added:page"]), f"new {noun}"))
    summary = summary or {}
    for name, (old, new) in (summary.get("fields") or {}).items():
        if name in FIELD_NAMES:
            signals.append((WEIGHTS[f"field:{name}"],
                            f"{FIELD_NAMES[name]} changed: {_short(old)} → {_short(new)}"))
    if kind == "changed":
        if "items" in summary:
            signals += _listing_signals(summary)
        else:
            signals += _text_signals(summary, diff, old_words)
            signals += _link_signals(summary)
        if role == "document" and not signals:
            signals.append((WEIGHTS["document_changed"], "the document's file changed"))
    if diff and key_terms:
        signals += _key_term_signals(diff, key_terms)
    return combine(signals)


def combine(signals: list[tuple[float, str]]) -> Significance:
    """Weights combined as independent chances; reasons heaviest first (ties in the order given)."""
    remaining = 1.0
    for weight, _ in signals:
        remaining *= 1.0 - max(0.0, min(1.0, weight))
    ordered = sorted(enumerate(signals), key=lambda pair: (-pair[1][0], pair[0]))
    return Significance(round(1.0 - remaining, 2), tuple(reason for _, (_, reason) in ordered))


def _listing_signals(summary: dict) -> list[tuple[float, str]]:
    items = summary.get("items") or {}
    signals = []
    for group, verb in (("entered", "entered"), ("left", "left")):
        found = items.get(group) or []
        if found:
            what = f"“{_short(found[0].get('title') or found[0].get('url'))}”" if len(found) == 1 \
                else f"{len(found)} articles"
            signals.append((WEIGHTS[f"listing:{group}"], f"{what} {verb} the listing"))
    changed = items.get("changed") or []
    if changed:
        fields = sorted({name for item in changed for name in item.get("fields") or ()})
        names = ", ".join({"published": "date"}.get(name, name) for name in fields)
        what = "1 teaser" if len(changed) == 1 else f"{len(changed)} teasers"
        signals.append((WEIGHTS["listing:changed"], f"{what} changed ({names})"))
    other = summary.get("other_text") or {}
    if other.get("added") or other.get("removed"):
        signals.append((WEIGHTS["listing:other"], "the listing's other text changed"))
    return signals


def _text_signals(summary: dict, diff: list | None, old_words: int | None) -> list[tuple[float, str]]:
    added, removed = summary.get("words_added") or 0, summary.get("words_removed") or 0
    if diff is not None:
        added = sum(len(text.split()) for op, text in diff if op == "insert")
        removed = sum(len(text.split()) for op, text in diff if op == "delete")
    changed = max(added, removed)
    if not changed:
        return []
    signals = []
    if old_words:
        share = min(1.0, changed / old_words)
        reason = f"{_percent(share)} of the text changed"
    else:
        share = min(1.0, changed / WORDS_AS_WHOLE)
        reason = f"{changed} word{'s' if changed != 1 else ''} changed"
    signals.append((min(WEIGHTS["text_share_max"], WEIGHTS["text_floor"] + share), reason))
    if diff is not None:
        longest = max((len(text.split()) for op, text in diff if op == "insert"), default=0)
        if longest >= PASSAGE_WORDS:
            signals.append((WEIGHTS["passage"], f"a new passage of {longest} words"))
        signals += _figure_signals(diff)
    return signals


def _link_signals(summary: dict) -> list[tuple[float, str]]:
    added, removed = len(summary.get("links_added") or ()), len(summary.get("links_removed") or ())
    if not added and not removed:
        return []
    parts = [f"{n} link{'s' if n != 1 else ''} {verb}" for n, verb in ((added, "added"), (removed, "removed")) if n]
    weight = min(WEIGHTS["links_max"], WEIGHTS["links"] + LINK_STEP * (added + removed - 1))
    return [(weight, ", ".join(parts))]


def changed_places(diff: list) -> list[tuple[str, str]]:
    """Each place a word diff changes, as ``(old, new)`` passages with :data:`CONTEXT_WORDS` words
    of the unchanged text either side (so a figure's unit or a term's words are read whole)."""
    places, i = [], 0
    while i < len(diff):
        if diff[i][0] == "equal":
            i += 1
            continue
        j = i
        while j < len(diff) and diff[j][0] != "equal":
            j += 1
        before = " ".join(diff[i - 1][1].split()[-CONTEXT_WORDS:]) if i > 0 else ""
        after = " ".join(diff[j][1].split()[:CONTEXT_WORDS]) if j < len(diff) else ""
        old = "".join(text for op, text in diff[i:j] if op == "delete")
        new = "".join(text for op, text in diff[i:j] if op == "insert")
        places.append((f"{before} {old} {after}", f"{before} {new} {after}"))
        i = j
    return places


def figures(text: str) -> list[str]:
    """The numbers, amounts and dates in ``text``, as written (spaces made single)."""
    return [" ".join(match.group().split()).rstrip(",") for match in FIGURE.finditer(text)]


def _figure_signals(diff: list) -> list[tuple[float, str]]:
    """One signal for every figure that changed, was added or went, named in its reason."""
    found = []
    for old, new in changed_places(diff):
        before, after = Counter(figures(old)), Counter(figures(new))
        gone, came = list((before - after).elements()), list((after - before).elements())
        for a, b in zip(gone, came):
            found.append(f"figure changed: {a} → {b}")
        found += [f"figure removed: {a}" for a in gone[len(came):]]
        found += [f"figure added: {b}" for b in came[len(gone):]]
    if not found:
        return []
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return [(WEIGHTS["figure"], found[0] + more)]


def _key_term_signals(diff: list, key_terms) -> list[tuple[float, str]]:
    """A key term whose count differs between the old and new passages of a change (or in a new page)."""
    signals = []
    places = changed_places(diff) if any(op == "equal" or op == "delete" for op, _ in diff) \
        else [("", "".join(text for _, text in diff))]
    for term in key_terms:
        pattern = re.compile(rf"(?<!\w){re.escape(term)}(?!\w)", re.IGNORECASE)
        was = sum(len(pattern.findall(old)) for old, _ in places)
        now = sum(len(pattern.findall(new)) for _, new in places)
        if now > was:
            signals.append((WEIGHTS["key_term"], f"key term “{term}” added"))
        elif was > now:
            signals.append((WEIGHTS["key_term"], f"key term “{term}” removed"))
    return signals


def _percent(share: float) -> str:
    return "under 1%" if share < 0.01 else f"{round(share * 100)}%"


def _short(value) -> str:
    text = " ".join(str(value or "(none)").split())
    return text if len(text) <= SHOWN else text[:SHOWN - 1] + "…"
