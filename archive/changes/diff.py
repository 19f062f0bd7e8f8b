"""The one differ: word and line differences between two versions of a page's text.

Every count and every marked word the project shows comes from :func:`word_diff`,
so ``changes``, the reports, the feed and Datasette agree. A word is a run of
non-space characters; whitespace runs are tokens too, so the pieces join back
into the exact texts.

Diffs run on diff-match-patch (Myers' O(ND) algorithm with common prefix,
suffix and half-match speedups) over one character per distinct token, the way
its ``linesToChars`` does for lines: near-linear for realistic edits. Every
diff has a :class:`Deadline`; when it passes, the rest is diffed coarsely
(``delete`` everything left, ``insert`` its replacement), which is still
correct: the pieces rebuild both texts.
"""

import re
from difflib import Match
import threading
import time

from diff_match_patch import diff_match_patch
from patiencediff import PatienceSequenceMatcher

TOKEN = re.compile(r"\s+|\S+")
#: A diff's time budget: BASE_SECONDS plus SECONDS_PER_TOKEN per token of both texts,
#: at most MAX_SECONDS; past it the rest of the diff is made coarse.
BASE_SECONDS = 0.05
SECONDS_PER_TOKEN = 20e-6
MAX_SECONDS = 2.0
#: Prefix of a stored edit script; a tokenizer change must change it.
SCRIPT_VERSION = "w1:"

DMP = diff_match_patch()
DMP.Diff_Timeout = 0  # no half-match speedup: it can take quadratic time, unchecked; the Deadline rules
EQUAL, DELETE, INSERT = DMP.DIFF_EQUAL, DMP.DIFF_DELETE, DMP.DIFF_INSERT
_SYMBOLS = {"equal": "=", "delete": "-", "insert": "+"}
_NAMES = {symbol: op for op, symbol in _SYMBOLS.items()}


class Deadline(float):
    """A ``time.time()`` instant that also passes when ``cancel`` is set (the client went away).

    diff-match-patch checks ``time.time() > deadline`` between steps; a float
    subclass's reflected comparison runs first, so that check also sees ``cancel``.
    """

    def __new__(cls, seconds: float = MAX_SECONDS, cancel: threading.Event | None = None):
        deadline = super().__new__(cls, time.time() + seconds)
        deadline.cancel = cancel
        return deadline

    @classmethod
    def for_size(cls, n_tokens: int, limit: float = MAX_SECONDS, cancel: threading.Event | None = None):
        """A budget that grows with the texts, so even a worst case takes time linear in their size."""
        return cls(min(limit, BASE_SECONDS + n_tokens * SECONDS_PER_TOKEN), cancel)

    def __lt__(self, now):
        return (self.cancel is not None and self.cancel.is_set()) or float(self) < now

    def passed(self) -> bool:
        return self < time.time()


def tokens(text: str) -> list[str]:
    """Words and the whitespace between them: ``"".join(tokens(t)) == t``."""
    return TOKEN.findall(text or "")


def edit_script(old_tokens: list[str], new_tokens: list[str], deadline: Deadline | None = None,
                semantic: bool = True) -> list[tuple[str, int]]:
    """``[(op, n_tokens), ...]`` turning ``old_tokens`` into ``new_tokens``.

    Paragraphs are matched first, then the tokens of the paragraphs that
    differ, so the work grows with the changed paragraphs, not the page.
    ``semantic`` folds short equal runs between changes into the changes, so a
    rewritten sentence reads as one change, not as every space it kept.
    """
    deadline = Deadline.for_size(len(old_tokens) + len(new_tokens)) if deadline is None else deadline
    codes: dict[str, str] = {}
    old_paras, new_paras = _paragraphs(old_tokens), _paragraphs(new_tokens)
    para_codes: dict[str, str] = {}
    try:
        old, new = _encode(old_tokens, codes), _encode(new_tokens, codes)
        old_para_chars = _encode([old[a:b] for a, b in old_paras], para_codes)
        new_para_chars = _encode([new[a:b] for a, b in new_paras], para_codes)
    except _TooManyTokens:  # more distinct words than characters to stand for them: diff coarsely
        return [(op, n) for op, n in (("delete", len(old_tokens)), ("insert", len(new_tokens))) if n]
    para_pieces = _diff(old_para_chars, new_para_chars, deadline)
    pieces: list[tuple[int, str]] = []
    i = j = p = q = 0  # token and paragraph positions in old and new
    for op, chars in [*para_pieces, (EQUAL, "")]:
        if op == DELETE:
            p += len(chars)
            continue
        if op == INSERT:
            q += len(chars)
            continue
        # Equal paragraphs (or the end): first the changed paragraphs before them, token by token.
        i2, j2 = _start(old_paras, p, len(old)), _start(new_paras, q, len(new))
        if i2 > i or j2 > j:
            pieces += _diff(old[i:i2], new[j:j2], deadline)
        p, q = p + len(chars), q + len(chars)
        i, j = _start(old_paras, p, len(old)), _start(new_paras, q, len(new))
        pieces.append((EQUAL, old[i2:i]))
    runs = _runs((op, len(chars)) for op, chars in pieces)
    if semantic:
        runs = _absorb_small_equalities(runs)
    script: list[tuple[str, int]] = []
    for equal, deleted, inserted in runs:
        script += [(op, n) for op, n in (("equal", equal), ("delete", deleted), ("insert", inserted)) if n]
    return script


def _runs(pieces) -> list[list[int]]:
    """Pieces as ``[equal, deleted, inserted]`` token counts: an equal run, then the change after it."""
    runs = [[0, 0, 0]]
    for op, n in pieces:
        if op == EQUAL:
            if runs[-1][1] or runs[-1][2]:
                runs.append([0, 0, 0])
            runs[-1][0] += n
        else:
            runs[-1][1 if op == DELETE else 2] += n
    return runs


def _absorb_small_equalities(runs: list[list[int]]) -> list[list[int]]:
    """Fold an equal run into the changes either side when it is no longer than either of them.

    diff-match-patch's ``cleanupSemantic`` rule, in one linear pass (its own
    backtracks, and takes quadratic time on diffs with thousands of pieces):
    "the quick" → "a slow" reads as one change, not two around a kept space.
    """
    out = [list(runs[0])]
    for equal, deleted, inserted in runs[1:]:
        before = out[-1]
        if (before[1] or before[2]) and (deleted or inserted) \
                and equal <= max(before[1], before[2]) and equal <= max(deleted, inserted):
            before[1] += equal + deleted
            before[2] += equal + inserted
        else:
            out.append([equal, deleted, inserted])
    return out


def _diff(old: str, new: str, deadline: Deadline) -> list[tuple[int, str]]:
    """diff-match-patch pieces: patience-diff anchors, then Myers' algorithm between them."""
    pieces: list[tuple[int, str]] = []
    i = j = 0
    for block in _anchors(old, new):
        if i < block.a or j < block.b:
            pieces += DMP.diff_main(old[i:block.a], new[j:block.b], False, deadline)
        pieces.append((EQUAL, old[block.a:block.a + block.size]))
        i, j = block.a + block.size, block.b + block.size
    return pieces


def _anchors(old: str, new: str) -> list[Match]:
    """Matching runs around items unique on both sides (patience diff), ending with an empty one."""
    try:
        return PatienceSequenceMatcher(None, old, new).get_matching_blocks()
    except Exception:  # patiencediff gives up past a recursion depth: Myers alone then
        return [Match(len(old), len(new), 0)]


def _paragraphs(items: list[str]) -> list[tuple[int, int]]:
    """``(start, end)`` token ranges, each ending after whitespace with a line break."""
    ranges, start = [], 0
    for k, item in enumerate(items):
        if "\n" in item and item.isspace():
            ranges.append((start, k + 1))
            start = k + 1
    if start < len(items):
        ranges.append((start, len(items)))
    return ranges


def _start(ranges: list[tuple[int, int]], k: int, total: int) -> int:
    return ranges[k][0] if k < len(ranges) else total


class _TooManyTokens(ValueError):
    """More distinct tokens than Unicode has characters to encode them."""


#: Characters available to stand for distinct tokens (all of Unicode but NUL and the surrogates).
MAX_CODES = 0x10FFFF - 0x800


def _encode(items: list[str], codes: dict[str, str]) -> str:
    """One character per distinct item (skipping surrogates, which cannot be encoded)."""
    out = []
    for item in items:
        code = codes.get(item)
        if code is None:
            n = len(codes) + 1
            if n > MAX_CODES:
                raise _TooManyTokens(n)
            code = codes[item] = chr(n if n < 0xD800 else n + 0x800)
        out.append(code)
    return "".join(out)


def apply_script(script: list[tuple[str, int]], old_tokens: list[str], new_tokens: list[str]) -> list[tuple[str, str]]:
    """The ``(op, text)`` pieces of an edit script; raises ValueError if it does not fit the tokens."""
    diff: list[tuple[str, str]] = []
    i = j = 0
    for op, n in script:
        if op == "insert":
            text, j = "".join(new_tokens[j:j + n]), j + n
        else:
            text, i = "".join(old_tokens[i:i + n]), i + n
            j += n if op == "equal" else 0
        if diff and diff[-1][0] == op:
            diff[-1] = (op, diff[-1][1] + text)
        elif text:
            diff.append((op, text))
    if i != len(old_tokens) or j != len(new_tokens):
        raise ValueError("the edit script does not fit these texts")
    return diff


def summarize(diff: list[tuple[str, str]]) -> dict:
    """The diff with its counts: places changed, words inserted and deleted."""
    places = sum(1 for k, (op, _) in enumerate(diff) if op != "equal" and (k == 0 or diff[k - 1][0] == "equal"))
    return {
        "diff": diff,
        "change_count": places,
        "words_added": sum(len(text.split()) for op, text in diff if op == "insert"),
        "words_removed": sum(len(text.split()) for op, text in diff if op == "delete"),
    }


def word_diff(old: str, new: str, deadline: Deadline | None = None, script: str | None = None,
              cancel: threading.Event | None = None) -> dict:
    """``{"diff": [(op, text), ...], "change_count": n, "words_added": a, "words_removed": r}``.

    ``op`` is ``"equal"``, ``"delete"`` or ``"insert"``; a deletion comes before
    the insertion that replaces it. ``script`` is an edit script stored by
    :func:`dump_script`: used when it fits the texts, else the diff is computed,
    within ``deadline`` (default: a budget for the texts' size, cut short by ``cancel``).
    """
    a, b = tokens(old), tokens(new)
    if script:
        try:
            return summarize(apply_script(load_script(script), a, b))
        except ValueError:
            pass
    deadline = Deadline.for_size(len(a) + len(b), cancel=cancel) if deadline is None else deadline
    return summarize(apply_script(edit_script(a, b, deadline), a, b))


def dump_script(script: list[tuple[str, int]]) -> str:
    """An edit script as compact text, ``w1:=120 -3 +4 =98``: token counts, not text."""
    return SCRIPT_VERSION + " ".join(f"{_SYMBOLS[op]}{n}" for op, n in script)


def load_script(text: str) -> list[tuple[str, int]]:
    """The edit script in ``text``; ValueError if it is not one this version wrote."""
    if not text.startswith(SCRIPT_VERSION):
        raise ValueError("unknown edit script version")
    body = text[len(SCRIPT_VERSION):]
    try:
        return [(_NAMES[item[0]], int(item[1:])) for item in body.split()]
    except (KeyError, ValueError, IndexError):
        raise ValueError("malformed edit script") from None


def recorded_word_diff(old: str, new: str, deadline: Deadline | None = None) -> tuple[dict, str]:
    """:func:`word_diff` and its edit script as stored text (what the writer records)."""
    a, b = tokens(old), tokens(new)
    script = edit_script(a, b, deadline)
    return summarize(apply_script(script, a, b)), dump_script(script)


def content_summary(old: dict, new: dict) -> tuple[dict, str]:
    """What changed between two ``contents`` rows: the summary and the edit script.

    The summary holds the word counts of :func:`word_diff`, changed fields and links.
    """
    old_text, new_text = old.get("text") or "", new.get("text") or ""
    words, script = recorded_word_diff(old_text, new_text)
    fields = {
        name: [old.get(name) or "", new.get(name) or ""]
        for name in ("title", "author", "published")
        if (old.get(name) or "") != (new.get(name) or "")
    }
    old_links, new_links = set(old.get("links") or ()), set(new.get("links") or ())
    summary = {
        "words_added": words["words_added"],
        "words_removed": words["words_removed"],
        "change_count": words["change_count"],
        "fields": fields,
        "links_added": sorted(new_links - old_links),
        "links_removed": sorted(old_links - new_links),
    }
    return summary, script


# Line diffs ---------------------------------------------------------------------------


def unified_diff(old: str, new: str, context: int = 2, deadline: Deadline | None = None) -> str:
    """A unified diff of the two texts, one paragraph per line, like ``diff -u``."""
    a, b = old.splitlines(), new.splitlines()
    script = edit_script(a, b, deadline, semantic=False)
    lines = ["--- before", "+++ after"] if script and any(op != "equal" for op, _ in script) else []
    for group in _hunks(_opcodes(script), context):
        (_, i1, _, j1, _), (_, _, i2, _, j2) = group[0], group[-1]
        lines.append(f"@@ -{_range(i1, i2)} +{_range(j1, j2)} @@")
        for tag, s1, e1, s2, e2 in group:
            if tag == "equal":
                lines += [" " + line for line in a[s1:e1]]
                continue
            lines += ["-" + line for line in a[s1:e1]]
            lines += ["+" + line for line in b[s2:e2]]
    return "\n".join(lines)


def _opcodes(script: list[tuple[str, int]]) -> list[tuple[str, int, int, int, int]]:
    """difflib-style opcodes; a deletion and the insertion after it make one ``replace``."""
    codes: list[tuple[str, int, int, int, int]] = []
    i = j = 0
    for op, n in script:
        di, dj = (n, n) if op == "equal" else (n, 0) if op == "delete" else (0, n)
        if op != "equal" and codes and codes[-1][0] != "equal":
            tag, i1, _, j1, _ = codes[-1]
            codes[-1] = ("replace", i1, i + di, j1, j + dj)
        else:
            codes.append((op, i, i + di, j, j + dj))
        i, j = i + di, j + dj
    return codes


def _hunks(codes: list, context: int) -> list[list]:
    """Changed opcodes with ``context`` equal lines around them, as difflib groups them."""
    if not any(tag != "equal" for tag, *_ in codes):
        return []
    codes = list(codes)
    if codes[0][0] == "equal":
        tag, i1, i2, j1, j2 = codes[0]
        codes[0] = tag, max(i1, i2 - context), i2, max(j1, j2 - context), j2
    if codes[-1][0] == "equal":
        tag, i1, i2, j1, j2 = codes[-1]
        codes[-1] = tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)
    groups, group = [], []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > 2 * context:
            group.append((tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)))
            groups.append(group)
            group = []
            i1, j1 = max(i1, i2 - context), max(j1, j2 - context)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append(group)
    return groups


def _range(start: int, stop: int) -> str:
    """A unified diff's ``start,length`` (1-based; an empty range names the line before it)."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start + (1 if length else 0)},{length}"
