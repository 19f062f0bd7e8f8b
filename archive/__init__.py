"""Storage and change detection for wwc-archive: SQLite through sqlite-utils, no Scrapy.

The crawler hands :class:`wwc_archive.records.FetchRecord` objects to a
:class:`wwc_archive.archive.write.RunWriter`; reports and Datasette read through
:mod:`wwc_archive.archive.queries`.
"""

from wwc_archive.records import Extracted, FetchRecord
from wwc_archive.archive.opening import ArchiveError
from wwc_archive.archive.store import Archive, ArchiveBusy
from wwc_archive.archive.write import RunWriter

__all__ = ["Archive", "ArchiveBusy", "ArchiveError", "Extracted", "FetchRecord", "RunWriter"]
