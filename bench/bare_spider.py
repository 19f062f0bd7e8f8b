"""The benchmark's baseline: a bare Scrapy spider over the same pages, storing nothing.

    python bench/bare_spider.py START_URL [NAME=VALUE ...]
"""

import sys
import scrapy
from scrapy.crawler import CrawlerProcess
from wwc_archive.config import origin_of
from wwc_archive.crawler.settings import crawl_settings

class Bare(scrapy.Spider):
    """Same pages as wwc-archive: the hub, its Show more pages, the pages and documents they link to."""
    name = "bare"
    pages = 0

    @property
    def origins(self) -> frozenset[str]:
        """What the crawl's scope middleware (in the shared settings) lets through."""
        return frozenset({origin_of(sys.argv[1])})

    async def start(self):
        yield scrapy.Request(sys.argv[1], callback=self.parse_listing)

    def parse_listing(self, response):
        self.pages += 1
        for href in response.css("main a:not([rel=next])::attr(href)").getall():
            yield response.follow(href, callback=self.parse_page)
        next_page = response.css('a[rel="next"]::attr(href)').get()
        if next_page:
            yield response.follow(next_page, callback=self.parse_listing)

    def parse_page(self, response):
        self.pages += 1
        if b"html" in (response.headers.get(b"Content-Type") or b""):
            for href in response.css("main a::attr(href)").re(r".*\.(?:pdf|docx|xlsx)$"):
                yield response.follow(href, callback=self.parse_page)

    def closed(self, reason):
        print(self.pages)


if __name__ == "__main__":
    settings = crawl_settings({})
    settings.pop("ITEM_PIPELINES")
    settings.update(dict(arg.split("=", 1) for arg in sys.argv[2:]))
    process = CrawlerProcess(settings)
    process.crawl(Bare)
    process.start()
