"""The Datasette instance that serves one archive read-only, with the project's metadata."""

import json
import os

from datasette.app import Datasette
from datasette.database import Database
from datasette.utils import parse_metadata

from wwc_archive.archive.canned import canned_queries
from wwc_archive.reports import links
from wwc_archive.reports.datasette import DATABASE_NAME, METADATA_PATH

#: Settings for an archive: room for full-text search over years of snapshots,
#: and table cells short enough to scan (the /-/wwc/ pages show full texts).
#: sql_time_limit_ms also bounds the diffs the /-/wwc/ pages compute. No facet
#: suggestions: each one counts a column over the whole table (seconds on
#: years of snapshots); facets stay one click away with ``?_facet=``. Eight SQL
#: threads, of which one client holds at most four at once (fairness.py).
SETTINGS = {"sql_time_limit_ms": 5000, "truncate_cells_html": 400, "suggest_facets": False,
            "num_sql_threads": 8}
#: ``serve --no-sql``: canned queries, tables and the /-/wwc/ pages only.
NO_SQL_SETTINGS = {"default_allow_sql": False}


def load_metadata(path: str | os.PathLike = METADATA_PATH) -> dict:
    """The shipped Datasette metadata (YAML or JSON), with its links and canned queries filled in."""
    with open(path, encoding="utf-8") as fp:
        metadata = parse_metadata(fp.read())
    fill = {"report": links.report("latest"), "feed": links.feed()}
    database = metadata.setdefault("databases", {}).setdefault(DATABASE_NAME, {})
    for holder in (metadata, database):
        if "description_html" in holder:
            holder["description_html"] = holder["description_html"].format(**fill)
    database.setdefault("queries", {}).update(canned_queries(links.diff_sql))
    return metadata


def archive_datasette(db_path: str | os.PathLike, metadata: dict | None = None,
                      settings: dict | None = None) -> Datasette:
    """Datasette on the archive at ``db_path``, served as ``/wwc-archive``.

    The file is opened as a mutable database, so rows written by later crawls
    show up without a restart; the plugin makes every connection to it
    read-only.
    """
    _register_plugin()
    ds = Datasette(
        metadata=load_metadata() if metadata is None else metadata,
        settings={**SETTINGS, **(settings or {})},
    )
    ds.remove_database("_memory")  # Datasette adds it when given no files
    ds.add_database(Database(ds, path=os.fspath(db_path), is_mutable=True), name=DATABASE_NAME)
    return ds


def _register_plugin() -> None:
    """Register the plugin when Datasette skipped entry points (under its own test mode)."""
    from datasette.plugins import pm

    import wwc_archive.reports.datasette_plugin as plugin

    if not pm.is_registered(plugin):
        pm.register(plugin, name="wwc_archive")


if __name__ == "__main__":  # the complete metadata, for `datasette publish ... -m metadata.json`
    print(json.dumps(load_metadata(), indent=2, ensure_ascii=False))
