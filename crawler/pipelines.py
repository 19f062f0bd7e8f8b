"""The only place crawl results leave Scrapy: records go to the storage process."""

import asyncio
import logging

from wwc_archive.archive import FetchRecord
from wwc_archive.records import AssetFetch
from wwc_archive.crawler.items import PageToExtract
from wwc_archive.crawler.not_found import NotFoundPage
from wwc_archive.crawler.storage import StorageError, StorageProcess

logger = logging.getLogger(__name__)

#: The crawler stat that says the archive could not be written (the run is then not complete).
WRITE_ERROR_STAT = "wwc_archive/write_error"


class ArchivePipeline:
    """Hands each record to the storage process, which writes it to the archive
    in batched transactions. If storing fails, the crawl stops."""

    def __init__(self, crawler, db_path: str, run_id: int, batch_size: int = 200):
        self.crawler = crawler
        self.db_path = db_path
        self.run_id = run_id
        self.batch_size = batch_size
        self.storage = None

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        return cls(crawler, settings.get("WWC_ARCHIVE_DB"), settings.getint("WWC_RUN_ID"),
                   settings.getint("WWC_BATCH_SIZE", 200))

    def open_spider(self, spider=None):
        profiles = {name: program.profile for name, program in self.crawler.spider.programs.items()}
        terms = {name: tuple(program.key_terms) for name, program in self.crawler.spider.programs.items()}
        self.storage = StorageProcess(self.db_path, self.run_id, profiles, batch_size=self.batch_size, key_terms=terms)

    def process_item(self, item, spider=None):
        if isinstance(item, (FetchRecord, AssetFetch, PageToExtract, NotFoundPage)) and not self.crawler.stats.get_value(WRITE_ERROR_STAT):
            try:
                self.storage.add(item)
            except StorageError as error:
                self.failed(error)
        return item

    def close_spider(self, spider=None):
        try:
            self.storage.close()
        except StorageError as error:
            self.crawler.stats.set_value(WRITE_ERROR_STAT, str(error))
            logger.error("storing the crawl failed: %s", error)

    def failed(self, error: StorageError) -> None:
        self.crawler.stats.set_value(WRITE_ERROR_STAT, str(error))
        logger.error("storing the crawl failed: %s; stopping the crawl", error)
        asyncio.get_event_loop().create_task(
            self.crawler.engine.close_spider_async(reason="archive write failed"))
