"""What the spider yields besides requests."""

from dataclasses import dataclass

from wwc_archive.records import FetchRecord


@dataclass
class PageToExtract:
    """A fetched HTML page whose content the storage process extracts.

    Most pages of a crawl are leaves whose links need not be followed (but
    for documents, which the spider finds cheaply), so their extraction runs
    beside the crawl, on another core, instead of inside it.
    """

    record: FetchRecord  # ``extracted`` is filled in by the storage process
    html: str
