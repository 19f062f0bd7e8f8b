"""The Scrapy crawler: what to fetch and what a page says. It never writes SQL:
fetches become :class:`wwc_archive.archive.FetchRecord` items that the pipeline hands to the archive."""
