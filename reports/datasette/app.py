"""The Datasette instance that serves one archive read-only, with the project's metadata."""

import os

from datasette.app import Datasette
from datasette.database import Database
from datasette.utils import parse_metadata

from wwc_archive.reports.datasette import DATABASE_NAME, METADATA_PATH

#: Settings for an archive: room for full-text search over years of snapshots,
#: and table cells short enough to scan (the /-/wwc/ pages show full texts).
SETTINGS = {"sql_time_limit_ms": 5000, "truncate_cells_html": 400}


def load_metadata(path: str | os.PathLike = METADATA_PATH) -> dict:
    """The shipped Datasette metadata (YAML or JSON)."""
    with open(path, encoding="utf-8") as fp:
        return parse_metadata(fp.read())


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
