"""Reports as HTML, Markdown or plain text, from Jinja2 templates a user can override.

HTML templates are autoescaped; Markdown escapes everything taken from an
archived page; plain text is plain. Templates are looked up first in the
``templates_dir`` setting, then in the bundled ``reports/templates``.
"""

import re
import textwrap
import threading
from pathlib import Path
from urllib.parse import quote

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

from wwc_archive.reports.context import ReportError, report_data
from wwc_archive.reports.settings import ReportSettings
from wwc_archive.reports.worddiff import diff_as_text

__all__ = ["FORMATS", "ReportError", "environment", "render_report", "render_data"]

BUNDLED_TEMPLATES = Path(__file__).parent / "templates"
#: Format name -> (template, file suffix).
FORMATS = {"html": ("report.html", "html"), "markdown": ("report.md", "md"), "text": ("report.txt", "txt")}
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#])")


def render_report(db, run_id: int | None = None, since: str | None = None, fmt: str = "html",
                  settings: ReportSettings | None = None, cancel: threading.Event | None = None) -> str:
    """The report of one run (default: the latest) or of every run since a date.

    Raises :class:`ReportError` for an unknown run, a bad date or format.
    """
    settings = settings or ReportSettings()
    return render_data(report_data(db, run_id=run_id, since=since, settings=settings, cancel=cancel), fmt, settings)


def render_data(report: dict, fmt: str, settings: ReportSettings) -> str:
    """Render data from :func:`wwc_archive.reports.context.report_data` in one format."""
    if fmt not in FORMATS:
        raise ReportError(f"unknown report format {fmt!r}: use one of {', '.join(FORMATS)}")
    return environment(settings).get_template(FORMATS[fmt][0]).render(report=report)


def environment(settings: ReportSettings) -> Environment:
    """The Jinja2 environment: user templates first, autoescape for .html/.xml."""
    loaders = [FileSystemLoader(settings.templates_dir)] if settings.templates_dir else []
    env = Environment(
        loader=ChoiceLoader([*loaders, FileSystemLoader(BUNDLED_TEMPLATES)]),
        autoescape=select_autoescape(enabled_extensions=("html", "xml"), default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )
    env.filters.update(
        when=format_when, duration=format_duration, plural=plural, href=safe_href,
        md=markdown_escape, mdurl=markdown_url, diff_text=diff_text, diff_markdown=diff_markdown,
        wrap=wrap, quote_lines=quote_lines,
    )
    return env


# Filters -------------------------------------------------------------------------


def format_when(value: str | None) -> str:
    """``2026-05-01T03:04:05Z`` as ``2026-05-01 03:04 UTC``."""
    if not value:
        return "unknown time"
    return f"{value[:10]} {value[11:16]} UTC" if len(value) >= 16 else value


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 page``, ``2 pages``; numbers over 999 get thousands separators."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def safe_href(url: str | None) -> str:
    """Only http(s) URLs become links; anything else (``javascript:``) becomes ``#``."""
    return url if url and url.lower().startswith(("http://", "https://")) else "#"


def markdown_escape(text) -> str:
    """Backslash-escape Markdown and HTML syntax so archived text stays text."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", str(text or ""))


def markdown_url(url: str | None) -> str:
    """A URL safe inside ``[text](url)``."""
    return quote(safe_href(url), safe=":/?#@!$&'*+,;=%~-._")


def diff_text(diff: list) -> str:
    return diff_as_text(diff)


def diff_markdown(diff: list) -> str:
    # "[-old-](" would start a Markdown link: the escaper handles brackets in the
    # words, and a parenthesis right after a marker is escaped here.
    return diff_as_text(diff, markdown_escape).replace("-](", "-]\\(")


def wrap(text: str, width: int = 76, indent: str = "") -> str:
    """Wrap each line of ``text`` for a plain-text mail; URLs are never broken."""
    lines = []
    for line in str(text).splitlines():
        lines.append(
            textwrap.fill(line, width, initial_indent=indent, subsequent_indent=indent,
                          break_long_words=False, break_on_hyphens=False) if line.strip() else ""
        )
    return "\n".join(lines)


def quote_lines(text: str) -> str:
    """Prefix each line with ``> `` (a Markdown blockquote)."""
    return "\n".join(("> " + line).rstrip() for line in str(text).splitlines())
