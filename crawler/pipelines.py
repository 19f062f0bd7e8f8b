"""The only place crawl results leave Scrapy: records go to the archive's run writer."""

from archive import Archive, FetchRecord


class ArchivePipeline:
    """Hands each :class:`FetchRecord` to the archive, in batched transactions."""

    def __init__(self, db_path: str, run_id: int, batch_size: int = 200):
        self.db_path = db_path
        self.run_id = run_id
        self.batch_size = batch_size
        self.archive = None
        self.writer = None

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        return cls(settings.get("WWC_ARCHIVE_DB"), settings.getint("WWC_RUN_ID"),
                   settings.getint("WWC_BATCH_SIZE", 200))

    def open_spider(self, spider=None):
        self.archive = Archive(self.db_path)
        self.writer = self.archive.writer(self.run_id, batch_size=self.batch_size)

    def process_item(self, item, spider=None):
        if isinstance(item, FetchRecord):
            self.writer.add(item)
        return item

    def close_spider(self, spider=None):
        self.writer.flush()
        self.archive.close()
