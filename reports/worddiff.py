"""Word-level differences between two texts, shared by reports and Datasette.

One signature for the differ: ``word_diff(old, new) -> {"diff": [...], "change_count": n}``
where ``diff`` is a list of ``(op, text)`` with op ``"equal"``, ``"insert"`` or ``"delete"``.
"""

import difflib
import re

TOKEN = re.compile(r"\s+|\w+(?:['’]\w+)*|[^\w\s]")


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text or "")


def word_diff(old: str, new: str) -> dict:
    """Insertions and deletions, word by word; whitespace is kept in the pieces."""
    a, b = tokens(old), tokens(new)
    matcher = difflib.SequenceMatcher(lambda t: t.isspace(), a, b, autojunk=False)
    diff: list[tuple[str, str]] = []
    changes = 0

    def emit(op: str, text: str) -> None:
        if not text:
            return
        if diff and diff[-1][0] == op:
            diff[-1] = (op, diff[-1][1] + text)
        else:
            diff.append((op, text))

    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            emit("equal", "".join(a[i1:i2]))
            continue
        changes += 1
        if tag in ("delete", "replace"):
            emit("delete", "".join(a[i1:i2]))
        if tag in ("insert", "replace"):
            emit("insert", "".join(b[j1:j2]))
    return {"diff": diff, "change_count": changes}
