"""Plain-text renderings of runs and changes for the terminal."""

import re

from wwc_archive.archive.changes import listing

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
    """Two lines per change, the most significant first: what changed where, then why it matters and what changed.

    A change that only echoes another (an author's page listing a new article)
    follows the change it echoes, marked ``echo``.
    """
    by_id = {row.get("id"): row for row in rows}
    stories = sorted((row for row in rows if row.get("echo_of") not in by_id),
                     key=lambda row: -((row.get("significance") or {}).get("score") or 0))
    ordered = []
    for story in stories:
        ordered.append(story)
        ordered += [row for row in rows if row.get("echo_of") == story.get("id") and row is not story]
    lines = []
    for row in ordered:
        echo = row.get("echo_of") in by_id and row.get("echo_of") is not None
        lines.append(f"{'echo' if echo else row['change']:8} {row['url']}  {row['title'] or ''}".rstrip())
        details = _significance(row) if not echo else ["lists the change above"]
        details += _what_changed(row.get("summary") or {})
        if details:
            lines.append("         " + "; ".join(details))
    return lines


def _significance(row: dict) -> list[str]:
    significance = row.get("significance") or {}
    if significance.get("score") is None:
        return []
    reasons = ", ".join(significance.get("reasons") or ())
    return [f"significance {significance['score']:.2f}" + (f" ({reasons})" if reasons else "")]


def _what_changed(summary: dict) -> list[str]:
    if not summary:
        return []
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
    return details
