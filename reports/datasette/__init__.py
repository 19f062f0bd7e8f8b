"""Datasette for researchers: the shipped metadata and templates, and the app serving an archive.

:mod:`wwc_archive.reports.datasette.app` builds the Datasette instance, :mod:`wwc_archive.reports.datasette.views`
holds the ``/-/wwc/`` pages, :mod:`wwc_archive.reports.datasette.errors` every error page and
:mod:`wwc_archive.reports.datasette.facets` the month facet;
the hooks that wire them in live in :mod:`wwc_archive.reports.datasette_plugin`.
"""

from pathlib import Path

HERE = Path(__file__).parent
METADATA_PATH = HERE / "metadata.yml"
TEMPLATES_DIR = HERE / "templates"

#: The name (and URL path) the archive is served under; the metadata is keyed by it.
DATABASE_NAME = "wwc-archive"

#: The tables that make a SQLite file a wwc-archive.
ARCHIVE_TABLES = frozenset({"runs", "pages", "snapshots", "bodies", "contents", "changes"})
