"""Plain-text renderings of runs and changes for the terminal."""

import re

from wwc_archive.archive import listing

#: C0 and C1 control characters (and DEL), except newline and tab: what lets a page's
#: text set a terminal's title, write its clipboard (OSC 52) or rewrite lines.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def megabytes(size: int) -> str:
    """A size in bytes as the commands print it: ``12.3 MB``."""
    return f"{size / 1e6:.1f} MB"


def terminal_text(text: str) -> str:
    """Text safe to print on a terminal: control characters removed, newlines and tabs kept."""
    return CONTROL_CHARACTERS.sub("", text)


def run_line(run: dict) -> str:
    """A run as one line of ``wwc-archive runs``."""
    return (
        f"{run['id']:>4}  {run['started']}  {run['status']:<11} "
        f"checked {run['pages_checked'] or 0:>5}  failed {run['pages_failed'] or 0:>4}  "
        f"+{run['added'] or 0} ~{run['changed'] or 0} -{run['removed'] or 0}"
    )


def run_summary(run: dict) -> str:
    """One line: a run's status and counts."""
    return (
        f"Run {run['id']} {run['status']}: {run['pages_checked'] or 0} pages checked, "
        f"{run['pages_fetched'] or 0} fetched, {run['pages_failed'] or 0} failed; "
        f"{run['added'] or 0} added, {run['changed'] or 0} changed, {run['removed'] or 0} removed"
    )


def change_lines(rows: list[dict]) -> list[str]:
    """A line per change, and for a changed page a line saying what changed."""
    lines = []
    for row in rows:
        lines.append(f"{row['change']:8} {row['url']}  {row['title'] or ''}".rstrip())
        summary = row.get("summary") or {}
        if not summary:
            continue
        if "items" in summary:  # a listing, compared as items
            details = [listing.describe(summary["items"])]
            other = summary.get("other_text") or {}
            if other.get("added") or other.get("removed"):
                details.append(f"other text: +{len(other.get('added') or ())} -{len(other.get('removed') or ())} "
                               "paragraphs")
        else:
            details = [f"+{summary['words_added']} -{summary['words_removed']} words"]
        details += [f"{name}: {old!r} -> {new!r}" for name, (old, new) in summary["fields"].items()]
        added, removed = listing.other_links(summary)
        if added:
            details.append(f"{len(added)} link(s) added")
        if removed:
            details.append(f"{len(removed)} link(s) removed")
        lines.append("         " + "; ".join(details))
    return lines
