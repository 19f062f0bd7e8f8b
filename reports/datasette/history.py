"""A page's history read like a wiki's: every version with its date, size and change in words,
two versions chosen to compare, the neighbouring changes of a diff, and a reversed pair said so.

Reads only, through sqlite-utils on Datasette's read-only connections; the
views in :mod:`wwc_archive.reports.datasette.views` add what these return to
their pages.
"""

from datasette.utils.asgi import BadRequest, Response
from sqlite_utils import Database

from wwc_archive.archive import queries
from wwc_archive.reports import links
from wwc_archive.reports.datasette import charts, inputs, words


def resolve_url(db: Database, url: str) -> str:
    """The stored URL ``url`` names: as typed, as the crawler writes it, or with its trailing slash toggled."""
    if queries.page(db, url) is not None:
        return url
    for candidate in (inputs.read_url(url, variant) for variant in range(inputs.VARIANTS)):
        if candidate and queries.page(db, candidate) is not None:
            return candidate
    return url


def add_versions_detail(db: Database, data: dict) -> dict:
    """``history_data``'s result with each snapshot's body size, its change in words, and compare choices.

    A snapshot is a choice for "compare" when it brought a version (its text
    differs from the one before); the newest two are chosen to start with.
    """
    page_id = data["page"]["id"]
    sizes = dict(db.execute("select s.id, b.size from snapshots s join bodies b on b.id = s.body_id "
                            "where s.page_id = ?", [page_id]).fetchall())
    summaries = {row[0]: words.summary_words(row[2], row[1]) for row in db.execute(
        "select new_snapshot, change, summary from changes where page_id = ?", [page_id]).fetchall()}
    choices = []
    for version in data["versions"]:
        version["size"] = sizes.get(version["id"])
        version["summary_words"] = summaries.get(version["id"]) or (
            "" if not version["change"] else version["change"])
        version["choice"] = version["content_id"] is not None and not version["same_as_previous"]
        if version["choice"]:
            choices.append(version["id"])
    data["compare"] = {"new": choices[0] if choices else None, "old": choices[1] if len(choices) > 1 else None}
    return data


def timeline_svg(datasette, versions: list[dict]):
    """The page's snapshots on a timeline, oldest first, each a link to its snapshot page."""
    points = [{"id": v["id"], "fetched_at": v["fetched_at"], "changed": bool(v["diff_from"] or v["change"]),
               "label": v.get("summary_words")} for v in reversed(versions)]
    return charts.timeline(points, lambda snapshot_id: datasette.urls.path(links.snapshot(snapshot_id)))


async def compare(datasette, request):
    """``/-/wwc/compare?old=ID&new=ID``, the history page's form: on to the diff of the two."""
    from wwc_archive.reports.datasette.views import parse_id

    old, new = (request.args.get(name) or "" for name in ("old", "new"))
    if not old or not new:
        raise BadRequest("Choose two versions to compare on the page's history: one in the “old” column, "
                         "one in the “new” column, then press Compare.")
    old_id, new_id = parse_id(old, "snapshot"), parse_id(new, "snapshot")
    if old_id == new_id:
        raise BadRequest(f"Choose two different versions to compare (both were #{old_id}).")
    return Response.redirect(datasette.urls.path(links.diff(old_id, new_id)))


def diff_context(db: Database, old: dict, new: dict) -> dict:
    """For a diff page: whether OLD is the newer of the two, and the changes just before and after the pair.

    ``old``/``new`` are the diff's snapshot rows (``id``, ``fetched_at``).
    ``earlier``: ``(a, b)``, the change into the pair's older side;
    ``later``: ``(a, b)``, the change out of its newer side (None at either end).
    """
    swapped = (old["fetched_at"] or "", old["id"]) > (new["fetched_at"] or "", new["id"])
    older, newer = (new, old) if swapped else (old, new)
    earlier = later = None
    rows = {row[0]: row for row in db.execute("select id, page_id, content_id from snapshots where id in (?, ?)",
                                              [older["id"], newer["id"]]).fetchall()}
    if older["id"] in rows:
        _, page_id, content_id = rows[older["id"]]
        before = queries.snapshot_neighbours(db, page_id, older["id"], content_id)["previous_version"]
        earlier = (before, older["id"]) if before else None
    if newer["id"] in rows:
        _, page_id, content_id = rows[newer["id"]]
        after = queries.snapshot_neighbours(db, page_id, newer["id"], content_id)["next_version"]
        later = (newer["id"], after) if after else None
    return {"swapped": swapped, "earlier": earlier, "later": later}
