"""How a word diff is shown: cut to its changed passages, or as text with ``{+ +}`` / ``[- -]``.

The diff itself comes from :func:`wwc_archive.archive.changes.diff.word_diff`.
"""

import re
from itertools import islice

WORD = re.compile(r"\S+")
GAP = "gap"


def _count(text: str) -> int:
    """How many words ``text`` has (``str.split`` and ``\\S+`` agree on whitespace)."""
    return len(text.split())


def _head(text: str, n: int) -> tuple[str, int]:
    """The first ``n`` words of ``text`` (with the whitespace before them) and how many were cut.

    Only the kept words are matched, so a long equal passage costs one ``split``.
    """
    count = _count(text)
    if count <= n:
        return text, 0
    if not n:
        return "", count
    last = next(islice(WORD.finditer(text), n - 1, None))
    return text[: last.end()], count - n


def _tail(text: str, n: int) -> tuple[str, int]:
    count = _count(text)
    if count <= n:
        return text, 0
    if not n:
        return "", count
    first = next(islice(WORD.finditer(text[::-1]), n - 1, None))  # the n-th word from the end
    return text[len(text) - first.end():], count - n


def trim_diff(diff: list[tuple[str, str]], context: int = 25, max_changed_words: int = 600) -> dict:
    """Keep a word diff's changed passages with ``context`` words either side.

    Returns ``{"diff": [...], "omitted_words": n, "omitted_changed_words": m}``: the
    pieces of ``diff`` with ``("gap", words_cut)`` where text was cut. After
    ``max_changed_words`` inserted or deleted words, the rest of the diff is cut
    too and ``omitted_changed_words`` says how many changed words that left out.
    """
    out: list[tuple[str, object]] = []
    omitted = omitted_changed = shown_changed = cut_after_cap = 0
    last = len(diff) - 1
    for i, (op, text) in enumerate(diff):
        if shown_changed >= max_changed_words:
            count = _count(text)
            cut_after_cap += count
            omitted_changed += count if op != "equal" else 0
            continue
        if op != "equal":
            kept, cut = _head(text, max_changed_words - shown_changed)
            shown_changed += _count(kept)
            out.append((op, kept))
            cut_after_cap += cut
            omitted_changed += cut
            continue
        if i == 0 and i == last:
            out.append((op, text))
            continue
        if i == 0:
            kept, cut = _tail(text, context)
            out += [(GAP, cut), (op, kept)]
        elif i == last:
            kept, cut = _head(text, context)
            out += [(op, kept), (GAP, cut)]
        else:
            cut = max(0, _count(text) - 2 * context)
            if not cut:
                out.append((op, text))
                continue
            head, tail = _head(text, context)[0], _tail(text, context)[0]
            out += [(op, head), (GAP, cut), (op, tail)]
        omitted += cut
    if cut_after_cap:
        out.append((GAP, cut_after_cap))
    return {
        "diff": [(op, text) for op, text in out if text],  # drops empty pieces and zero gaps
        "omitted_words": omitted + cut_after_cap,
        "omitted_changed_words": omitted_changed,
    }


def diff_as_text(diff: list[tuple[str, object]], escape=None) -> str:
    """A (trimmed) word diff as text: ``{+inserted+}``, ``[-deleted-]``, ``…`` for cuts.

    ``escape`` (e.g. a Markdown escaper) is applied to the words, not to the markers.
    """
    parts = []
    for op, text in diff:
        if op == GAP:
            parts.append(" … ")
            continue
        text = escape(text) if escape else text
        if op == "insert":
            parts.append(f"{{+{text}+}}")
        elif op == "delete":
            parts.append(f"[-{text}-]")
        else:
            parts.append(text)
    return "".join(parts).strip()
