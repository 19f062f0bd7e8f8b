"""Charts drawn on the server as inline SVG: counts per month, a page's versions on a timeline.

No chart library and no script: the pages load nothing from anywhere (the
archive is often read offline, and the pages' CSP forbids scripts), a chart
is a few kilobytes of markup, readable without JavaScript, printable, and
testable as XML. Each bar and dot is a link (to that month's changes, to that
version) with a ``<title>`` tooltip, and each chart has a text alternative.
"""

from datetime import datetime

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 180
LEFT, BOTTOM, TOP = 40, 28, 12
BAR = "#4a78b0"
CHANGED, SAME = "#c0562f", "#4a78b0"


def month_series(counts: dict[str, int]) -> list[tuple[str, int]]:
    """``YYYY-MM`` counts with the months between them filled in as 0, oldest first."""
    if not counts:
        return []
    months = sorted(counts)
    (year, month), last = map(int, months[0].split("-")), months[-1]
    series = []
    while True:
        key = f"{year:04d}-{month:02d}"
        series.append((key, counts.get(key, 0)))
        if key >= last:
            return series
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def bar_chart(series: list[tuple[str, int]], label: str, href=None, css_class: str = "") -> Markup:
    """Bars for ``(month, count)``, a link per bar (``href(month)``, or none), month labels below."""
    if not series:
        return Markup('<p class="wwc-muted">Nothing to chart yet.</p>')
    top = max(count for _, count in series) or 1
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    step = min(plot_w / len(series), 48)  # a few months: narrow bars, not one wall
    every = max(1, round(len(series) / 12))  # at most about a dozen month labels
    parts = [f'<svg class="wwc-chart {escape(css_class)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(label)}</title>",
             f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - 8}" y2="{TOP + plot_h}" stroke="#999"/>',
             f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end" font-size="11">{top:,}</text>',
             f'<text x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end" font-size="11">0</text>']
    for index, (month, count) in enumerate(series):
        x = LEFT + index * step
        h = plot_h * count / top
        bar = (f'<rect x="{x + step * 0.1:.1f}" y="{TOP + plot_h - h:.1f}" width="{max(step * 0.8, 1):.1f}" '
               f'height="{max(h, 0.5 if count else 0):.1f}" fill="{BAR}"><title>{month}: {count:,}</title></rect>')
        if href is not None and count:
            bar = f'<a href="{escape(href(month))}" class="wwc-bar" data-month="{month}">{bar}</a>'
        parts.append(bar)
        if index % every == 0:
            parts.append(f'<text x="{x + step / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle" '
                         f'font-size="11">{month}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def timeline(versions: list[dict], href) -> Markup:
    """A page's snapshots on a time axis: a dot per snapshot, larger and red where its text changed.

    ``versions``: dicts with ``id``, ``fetched_at`` and ``changed`` (bool),
    oldest first; ``href(id)`` is the snapshot's page.
    """
    points = [(v, _when(v["fetched_at"])) for v in versions]
    points = [(v, when) for v, when in points if when is not None]
    if not points:
        return Markup('<p class="wwc-muted">No dated versions to show.</p>')
    height, left, right = 70, 20, 20
    first, last = points[0][1], points[-1][1]
    span = (last - first).total_seconds() or 1
    plot_w = WIDTH - left - right
    parts = [f'<svg class="wwc-chart wwc-timeline" viewBox="0 0 {WIDTH} {height}" role="img" '
             f'aria-label="{len(points)} snapshots from {first:%d %b %Y} to {last:%d %b %Y}" '
             f'xmlns="http://www.w3.org/2000/svg">',
             f"<title>{len(points)} snapshots from {first:%d %b %Y} to {last:%d %b %Y}</title>",
             f'<line x1="{left}" y1="30" x2="{WIDTH - right}" y2="30" stroke="#999"/>',
             f'<text x="{left}" y="{height - 8}" font-size="11">{first:%d %b %Y}</text>',
             f'<text x="{WIDTH - right}" y="{height - 8}" font-size="11" text-anchor="end">{last:%d %b %Y}</text>']
    for version, when in points:
        x = left + plot_w * (when - first).total_seconds() / span
        changed = version.get("changed")
        dot = (f'<circle cx="{x:.1f}" cy="30" r="{7 if changed else 4}" fill="{CHANGED if changed else SAME}" '
               f'fill-opacity="0.8"><title>#{int(version["id"])}, {when:%d %b %Y %H:%M} UTC'
               f'{escape(" — " + version["label"]) if version.get("label") else ""}</title></circle>')
        parts.append(f'<a href="{escape(href(version["id"]))}" class="wwc-dot">{dot}</a>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _when(value) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
