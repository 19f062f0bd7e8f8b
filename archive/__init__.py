"""Storage and change detection for wwc-archive: SQLite through sqlite-utils, no Scrapy.

The crawler hands :class:`archive.records.FetchRecord` objects to a
:class:`archive.writer.RunWriter`; reports and Datasette read through
:mod:`archive.queries`.
"""

from archive.records import Extracted, FetchRecord
from archive.store import Archive, ArchiveBusy
from archive.writer import RunWriter

__all__ = ["Archive", "ArchiveBusy", "Extracted", "FetchRecord", "RunWriter"]
