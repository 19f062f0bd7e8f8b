"""Scope by origin (scheme, host and port): Scrapy's offsite check compares host names only."""

from scrapy.exceptions import IgnoreRequest

from wwc_archive.crawler.urls import in_scope


class OutOfScope(IgnoreRequest):
    pass


class OriginScopeMiddleware:
    """Drops every request outside the spider's origins: links, redirects, robots.txt.

    The spider filters the links it follows; this is the backstop for every
    request the downloader sees, including the robots.txt requests Scrapy makes
    itself and the redirects they follow, before robots.txt is asked about it.
    A request made for one program must also stay within that program's origins.
    """

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        origins = request.meta.get("origins")
        spider = self.crawler.spider
        requisites = getattr(spider, "requisites", None)
        if requisites is not None and requisites.origins and (
                request.meta.get("role") == "asset" or request.url.endswith("/robots.txt")):
            # requisites (only) may come from ``requisites_origins``, whose robots.txt is asked too
            allowed = spider.origins | requisites.origins
            if in_scope(request.url, allowed) and (origins is None or in_scope(request.url, origins)):
                return None
        if not in_scope(request.url, spider.origins) or (
                origins is not None and not in_scope(request.url, origins)):
            raise OutOfScope(f"out of scope: {request.url}")
        return None
